"""LoRA (`agent_tunix.lora`) in real GRPO runs built with Tunix's public API, on CPU.

The actor is `apply_lora(base)`, the reference is `base` itself, and Tunix's `RLCluster` + `GRPOLearner` train it.
What is asserted:

- only adapter parameters change: the reference's weights and the actor's frozen weights stay bit-identical;
- every adapter moves (both `A` and `B` of every adapted layer), on a Qwen3 and a Gemma 3 whose weights are random
  everywhere. Tunix's Qwen3 built from a seed (`load_model`'s tiny model) has all-zero MLP kernels, on which MLP
  adapters get exactly zero gradient (a saddle point); `apply_lora` warns about it, and a test pins that down;
- the reward of a short LoRA run rises (Qwen3, 12 GRPO steps: the share of digits in a completion goes from about
  0.02 to 1.0; about 30-60 s on two busy cores, with the Gemma 3 run the only slow tests, because GRPO needs
  steps to show a trend);
- actor and reference share the frozen arrays when the cluster is built, Tunix's train step then hands the actor
  copies, and `share_base` restores one copy;
- adapters alone save and load onto a freshly loaded base; merged weights export as a Hugging Face folder that
  `load_model` reads back bit for bit.
"""

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")  # before jax/tunix are imported

import io
import warnings

import numpy as np
import pytest

pytest.importorskip("tunix")
pytest.importorskip("qwix")
spm = pytest.importorskip("sentencepiece")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402
from flax import nnx  # noqa: E402
from tunix.models import dummy_model_creator  # noqa: E402
from tunix.models.gemma3 import model as gemma3  # noqa: E402
from tunix.models.qwen3 import model as qwen3  # noqa: E402
from tunix.rl import rl_cluster as rlc  # noqa: E402
from tunix.rl import utils as rl_utils  # noqa: E402
from tunix.rl.grpo.grpo_learner import GRPOConfig, GRPOLearner  # noqa: E402
from tunix.rl.rollout import base_rollout  # noqa: E402

from agent_tunix.data import batches, synthetic_arithmetic  # noqa: E402
from agent_tunix.lora import (LoraSpec, adapter_params, adapted_weights, apply_lora, export_merged,  # noqa: E402
                              frozen_params, load_adapters, merge_lora, n_adapter_params, read_lora_spec,
                              save_adapters, share_base)
from agent_tunix.models import CharTokenizer, ModelSpec, load_model, make_mesh, n_params, qwen3_config  # noqa: E402
from agent_tunix.train import reseeding_rollout  # noqa: E402

ROWS = synthetic_arithmetic(64)


@pytest.fixture(scope="module")
def mesh():
    return make_mesh()


@pytest.fixture(scope="module")
def sp():
    """A 96-piece SentencePiece model with Gemma's special ids, trained in milliseconds."""
    proto = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter([r["prompts"] + r["reasoning"] for r in ROWS]), model_writer=proto,
                                   vocab_size=96, model_type="bpe", pad_id=0, eos_id=1, bos_id=2, unk_id=3,
                                   normalization_rule_name="identity", remove_extra_whitespaces=False, minloglevel=2)
    return spm.SentencePieceProcessor(model_proto=proto.getvalue())


def random_qwen3(mesh, seed=0):
    """The tiny Qwen3's shape with random weights everywhere (MLP included), and its character tokenizer."""
    tok = CharTokenizer()
    cfg = qwen3_config(ModelSpec(), tok.vocab_size)
    return dummy_model_creator.create_dummy_model(qwen3.Qwen3, cfg, mesh, random_seed=seed, scale=0.5), tok


def random_gemma3(mesh, vocab, seed=0):
    cfg = gemma3.ModelConfig(num_layers=2, num_embed=vocab, embed_dim=32, hidden_dim=64, num_heads=4, head_dim=16,
                             num_kv_heads=1, sliding_window_size=16, param_dtype=jnp.float32)
    return dummy_model_creator.create_dummy_model(gemma3.Gemma3, cfg, mesh, random_seed=seed, scale=0.5)


def arrays(d: dict) -> dict:
    return {k: np.array(v) for k, v in d.items()}


def randomise_adapters(model, scale=0.1, seed=0):
    """A stand-in for training: every adapter matrix random."""
    leaves, tree = jax.tree.flatten(nnx.state(model, nnx.LoRAParam))
    keys = jax.random.split(jax.random.key(seed), len(leaves))
    nnx.update(model, jax.tree.unflatten(tree, [scale * jax.random.normal(k, x.shape, x.dtype) for k, x in zip(keys, leaves)]))


def digit_share(prompts, completions, **kwargs):
    """The share of a completion's characters that are digits: a reward a random character model can climb."""
    return [sum(ch.isdigit() for ch in c) / max(len(c), 1) for c in completions]


def grpo(actor, reference, tokenizer, mesh, *, steps, lr, generations=8, batch_size=4, max_tokens=16, prompt_len=128):
    """Run Tunix's GRPO (RLCluster + GRPOLearner) for `steps` steps; return the learner and the mean reward per step."""
    means = []

    def reward(prompts, completions, **kwargs):
        r = digit_share(prompts, completions)
        means.append(float(np.mean(r)))
        return r
    reward.__name__ = "digit_share"
    rollout = base_rollout.RolloutConfig(max_tokens_to_generate=max_tokens, max_prompt_length=prompt_len,
                                         kv_cache_size=prompt_len + max_tokens + 8, temperature=1.0, top_p=1.0,
                                         eos_tokens=[tokenizer.eos_id()])
    training = rlc.RLTrainingConfig(actor_optimizer=optax.adam(lr), max_steps=steps, eval_every_n_steps=steps + 1)
    cluster = rlc.RLCluster(actor=actor, reference=reference, tokenizer=tokenizer, cluster_config=rlc.ClusterConfig(
        role_to_mesh={r: mesh for r in (rlc.Role.ACTOR, rlc.Role.REFERENCE, rlc.Role.ROLLOUT)}, rollout_engine=reseeding_rollout(0),
        offload_to_cpu=False, training_config=training, rollout_config=rollout))
    learner = GRPOLearner(rl_cluster=cluster, algo_config=GRPOConfig(num_generations=generations, beta=0.04), reward_fns=[reward])
    learner.train(batches(ROWS, batch_size, seed=0))
    return learner, means


def check_lora_run(base, actor, learner):
    """Only adapters changed, every adapter moved, and the base is shared again after `share_base`."""
    trained = learner.rl_cluster.actor_trainer.model
    reference = learner.rl_cluster.inference_worker.get_model("reference")
    assert trained is actor and reference is base
    return trained, reference


@pytest.fixture(scope="module")
def qwen_run(mesh):
    base, tok = random_qwen3(mesh)
    base_before = arrays(frozen_params(base))
    actor = apply_lora(base, LoraSpec(rank=4, alpha=32.0), seed=0, mesh=mesh)
    adapters_before = arrays(adapter_params(actor))
    shared_at_start = rl_utils.is_sharing_backbone(actor, base)
    learner, means = grpo(actor, base, tok, mesh, steps=12, lr=0.1)
    return dict(base=base, actor=actor, learner=learner, means=means, base_before=base_before,
                adapters_before=adapters_before, shared_at_start=shared_at_start)


def test_grpo_with_lora_changes_only_the_adapters(qwen_run):
    r = qwen_run
    trained, reference = check_lora_run(r["base"], r["actor"], r["learner"])
    for name, before in r["base_before"].items():   # the reference and the actor's frozen weights: bit-identical
        np.testing.assert_array_equal(np.asarray(frozen_params(reference)[name]), before, err_msg=name)
        np.testing.assert_array_equal(np.asarray(frozen_params(trained)[name]), before, err_msg=name)
    after = adapter_params(trained)
    unmoved = [k for k, v in r["adapters_before"].items() if np.array_equal(np.asarray(after[k]), v)]
    assert not unmoved, f"adapters that did not move: {unmoved}"
    assert len(after) == 2 * 7 * 2   # 2 layers x (q, k, v, o, gate, up, down) x (A, B): every one of them moved


def test_grpo_with_lora_raises_the_reward(qwen_run):
    means = qwen_run["means"]
    assert len(means) == 12
    first, last = np.mean(means[:3]), np.mean(means[-3:])   # measured: about 0.02 -> 1.0 (digits only) by step 8
    assert last > first + 0.3, f"mean digit share: first 3 steps {first:.3f}, last 3 {last:.3f} ({np.round(means, 3)})"


def test_reference_shares_the_base_and_share_base_restores_it(qwen_run):
    r = qwen_run
    trained, reference = check_lora_run(r["base"], r["actor"], r["learner"])
    assert r["shared_at_start"]                      # one copy of the frozen weights when the cluster is built
    assert not rl_utils.is_sharing_backbone(trained, reference)   # Tunix's jitted step returns copies (equal values)
    assert share_base(trained, reference) == len(frozen_params(reference))
    assert rl_utils.is_sharing_backbone(trained, reference)


def test_grpo_with_lora_on_gemma3(mesh, sp):
    base = random_gemma3(mesh, sp.vocab_size())
    before = arrays(frozen_params(base))
    actor = apply_lora(base, LoraSpec(rank=4, alpha=8.0), mesh=mesh)
    adapters_before = arrays(adapter_params(actor))
    learner, means = grpo(actor, base, sp, mesh, steps=3, lr=0.03, generations=4, batch_size=2, max_tokens=8, prompt_len=64)
    trained, reference = check_lora_run(base, actor, learner)
    for name, b in before.items():
        np.testing.assert_array_equal(np.asarray(frozen_params(reference)[name]), b, err_msg=name)
        np.testing.assert_array_equal(np.asarray(frozen_params(trained)[name]), b, err_msg=name)
    after = adapter_params(trained)
    assert len(after) == 2 * 6 * 2   # 2 layers x (q, kv, attn_vec, gate, up, down) x (A, B)
    unmoved = [k for k, v in adapters_before.items() if np.array_equal(np.asarray(after[k]), v)]
    assert not unmoved, f"adapters that did not move: {unmoved}"
    assert all(np.isfinite(means))


def test_zero_mlp_of_a_seeded_qwen3_is_reported(mesh):
    "load_model's Qwen3 has all-zero MLP kernels (Tunix's init): its MLP adapters would never train, and apply_lora says so."
    base, _ = load_model(ModelSpec(), mesh)
    with pytest.warns(UserWarning, match=r"6 adapted weights are all zeros .*mlp"):
        apply_lora(base, LoraSpec(rank=2, alpha=4.0), mesh=mesh)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")   # attention only: nothing to warn about
        assert len(adapted_weights(apply_lora(base, LoraSpec(rank=2, alpha=4.0, targets=("attention",)), mesh=mesh))) == 8
    assert not [w for w in caught if w.category is UserWarning and "LoRA" in str(w.message) or "all zeros" in str(w.message)]


def test_adapters_save_and_load_onto_a_fresh_base(mesh, tmp_path):
    base, tok = load_model(ModelSpec(), mesh)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the zero MLP (see above)
        actor = apply_lora(base, LoraSpec(rank=4, alpha=8.0), seed=3, mesh=mesh)
        randomise_adapters(actor)
        path = save_adapters(actor, tmp_path / "run" / "adapters.safetensors")
        fresh, _ = load_model(ModelSpec(), mesh)   # the same spec and seed: the same base
        loaded = load_adapters(fresh, path, mesh=mesh)
    assert read_lora_spec(path) == LoraSpec(rank=4, alpha=8.0)
    assert path.stat().st_size < 64 * 1024 and n_adapter_params(loaded) == n_adapter_params(actor) > 0
    saved, back = arrays(adapter_params(actor)), adapter_params(loaded)
    assert saved.keys() == back.keys()
    for k, v in saved.items(): np.testing.assert_array_equal(np.asarray(back[k]), v, err_msg=k)
    assert rl_utils.is_sharing_backbone(loaded, fresh)
    with pytest.raises(ValueError, match="does not fit this model"):
        load_adapters(random_gemma3(mesh, 128), path, mesh=mesh)


def test_merge_export_and_load_model_round_trip(mesh, sp, tmp_path):
    base = random_gemma3(mesh, sp.vocab_size(), seed=1)
    actor = apply_lora(base, LoraSpec(rank=4, alpha=8.0), mesh=mesh)
    randomise_adapters(actor)
    merged = merge_lora(actor)
    assert type(merged) is gemma3.Gemma3 and adapter_params(merged) == {} and n_params(merged) == n_params(base)
    x = jnp.array([[sp.bos_id()] + sp.encode("12 + 30 = 42")])
    T = x.shape[1]
    run = lambda m: np.asarray(m(x, positions=jnp.arange(T)[None], cache=None,
                                 attention_mask=jnp.tril(jnp.ones((1, T, T), bool)))[0])
    np.testing.assert_allclose(run(merged), run(actor), rtol=1e-4, atol=1e-4)   # the same function
    assert not np.allclose(run(merged), run(base))                             # ... and not the base's
    folder = export_merged(actor, tmp_path / "merged", tokenizer=sp)
    back, tok = load_model(ModelSpec(family="gemma3", checkpoint=str(folder)), mesh)
    want = arrays(frozen_params(merged))
    assert frozen_params(back).keys() == want.keys()
    for k, v in want.items(): np.testing.assert_array_equal(np.asarray(frozen_params(back)[k]), v, err_msg=k)
    np.testing.assert_array_equal(run(back), run(merged))
    assert tok.encode("12 + 30") == sp.encode("12 + 30")


@pytest.mark.parametrize("kwargs,message", [
    (dict(rank=0), "rank must be a whole number >= 1"),          # no adapter at all
    (dict(rank=2.5), "rank must be a whole number"),             # not whole
    (dict(alpha=0), "alpha must be a number > 0"),               # zero scale: adapters do nothing
    (dict(alpha=float("inf")), "alpha must be a number > 0"),    # not finite
    (dict(targets=("attention", "embedding")), "targets must name some of"),  # unknown kind
    (dict(module_path=""), "module_path must be a regex"),       # empty
    (dict(module_path="layers/(0"), "not a valid regex"),        # unbalanced group
    (dict(dropout=0.05), "dropout must be 0"),                   # qwix drops out while sampling too
])
def test_lora_spec_refuses_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LoraSpec(**kwargs)


def test_a_pattern_for_another_family_warns_and_one_for_nothing_fails(mesh):
    base, _ = random_qwen3(mesh)
    gemma_pattern = ".*q_einsum|.*kv_einsum|.*gate_proj|.*down_proj|.*up_proj|.*attn_vec_einsum"   # Tunix's Gemma demo
    with pytest.warns(UserWarning, match=r"parts \['\.\*q_einsum', '\.\*kv_einsum', '\.\*attn_vec_einsum'\] reach no layer"):
        lora = apply_lora(base, LoraSpec(module_path=gemma_pattern), mesh=mesh)
    assert all(".mlp." in w for w in adapted_weights(lora)) and len(adapted_weights(lora)) == 6
    with pytest.warns(UserWarning, match=r"adapts only the attention layers of this qwen3 model, not its mlp layers"):
        apply_lora(base, LoraSpec(module_path=r".*/(?:q_einsum|q_proj)"), mesh=mesh)   # one group: no dead alternative, but one kind
    with pytest.raises(ValueError, match="reaches no layer of this qwen3 model"):
        apply_lora(base, LoraSpec(module_path="attn/q_proj"), mesh=mesh)   # must match the whole path


class _Toy(nnx.Module):
    """A model whose weight is used through a bare einsum (no `einsum_str`): LoRA on it could not be merged."""

    def __init__(self):
        self.w = nnx.Param(jnp.ones((4, 3)))

    def __call__(self, x):
        return jnp.einsum("bd,df->bf", x, self.w.get_value())

    def get_model_input(self):
        return {"x": jnp.ones((2, 4))}


def test_an_adapter_that_cannot_be_merged_is_refused():
    with pytest.raises(ValueError, match=r"adapts  \(_Toy\)|cannot be merged"):
        apply_lora(_Toy(), LoraSpec(module_path=".*"))
