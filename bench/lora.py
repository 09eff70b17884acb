#!/usr/bin/env python
"""Memory of LoRA against full fine-tuning for GRPO with Tunix.

Run from the repository root:

    python bench/lora.py                 # tiny Gemma 3 measured (2 GRPO steps each way), Gemma 3 270M and 1B worked out
    python bench/lora.py --rank 64 --steps 3

**Measured**, on the tiny random Gemma 3 of the tests (2 layers, width 32, float32): a GRPO run through Tunix's
`RLCluster` + `GRPOLearner`, once with every weight trained (reference = `models.reference_copy`) and once with
LoRA (actor = `lora.apply_lora(base)`, reference = base). After the run, the bytes of the distinct device buffers
held by the actor, the reference and the optimizer state (a buffer two of them hold counts once), and for LoRA again
after `lora.share_base`. Tunix's anchor-policy snapshot (a copy of the actor's state in host memory, refreshed at
every weight sync) is reported apart.

**Worked out**, for Gemma 3 270M and 1B in Tunix's named configs (bfloat16): shapes from `nnx.eval_shape`, nothing
allocated. AdamW keeps two moments per trained weight in the weight's dtype.

It prints figures only; nothing here asserts.
"""
import argparse
import io
import os
import warnings

os.environ.setdefault("JAX_PLATFORMS", "cpu")
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
import sentencepiece as spm  # noqa: E402
from flax import nnx  # noqa: E402
from tunix.models import dummy_model_creator  # noqa: E402
from tunix.models.gemma3 import model as gemma3  # noqa: E402
from tunix.rl import rl_cluster as rlc  # noqa: E402
from tunix.rl.grpo.grpo_learner import GRPOConfig, GRPOLearner  # noqa: E402
from tunix.rl.rollout import base_rollout  # noqa: E402

from agent_tunix.data import batches, synthetic_arithmetic  # noqa: E402
from agent_tunix.lora import LoraSpec, apply_lora, share_base  # noqa: E402
from agent_tunix.models import make_mesh, reference_copy  # noqa: E402

ROWS = synthetic_arithmetic(64)


def tokenizer():
    proto = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter([r["prompts"] + r["reasoning"] for r in ROWS]), model_writer=proto,
                                   vocab_size=96, model_type="bpe", pad_id=0, eos_id=1, bos_id=2, unk_id=3,
                                   normalization_rule_name="identity", remove_extra_whitespaces=False, minloglevel=2)
    return spm.SentencePieceProcessor(model_proto=proto.getvalue())


def digit_share(prompts, completions, **kwargs):
    return [sum(ch.isdigit() for ch in c) / max(len(c), 1) for c in completions]


def buffers(*trees) -> dict:
    "{buffer address: bytes} of the arrays in `trees`; an array held twice counts once."
    return {x.unsafe_buffer_pointer(): x.nbytes for t in trees for x in jax.tree.leaves(t) if isinstance(x, jax.Array)}


def mb(n: float) -> str:
    return f"{n / 2**20:8.3f} MB"


def run(mode: str, sp, mesh, steps: int, rank: int):
    "A short GRPO run; the actor, reference and optimizer it leaves, and Tunix's anchor snapshot."
    base = dummy_model_creator.create_dummy_model(gemma3.Gemma3, gemma3.ModelConfig(
        num_layers=2, num_embed=sp.vocab_size(), embed_dim=32, hidden_dim=64, num_heads=4, head_dim=16, num_kv_heads=1,
        sliding_window_size=16, param_dtype=jnp.float32), mesh, random_seed=0, scale=0.5)
    actor, reference = (apply_lora(base, LoraSpec(rank=rank, alpha=2.0 * rank), mesh=mesh), base) if mode == "lora" \
        else (base, reference_copy(base))
    rollout = base_rollout.RolloutConfig(max_tokens_to_generate=8, max_prompt_length=64, kv_cache_size=80,
                                             temperature=1.0, top_p=1.0, eos_tokens=[sp.eos_id()])
    cluster = rlc.RLCluster(actor=actor, reference=reference, tokenizer=sp, cluster_config=rlc.ClusterConfig(
        role_to_mesh={r: mesh for r in (rlc.Role.ACTOR, rlc.Role.REFERENCE, rlc.Role.ROLLOUT)}, rollout_engine="vanilla",
        offload_to_cpu=False, rollout_config=rollout,
        training_config=rlc.RLTrainingConfig(actor_optimizer=optax.adamw(1e-3), max_steps=steps, eval_every_n_steps=steps + 1)))
    learner = GRPOLearner(rl_cluster=cluster, algo_config=GRPOConfig(num_generations=4, beta=0.04), reward_fns=[digit_share])
    learner.train(batches(ROWS, 2, seed=0))
    trained = cluster.actor_trainer.model
    return trained, cluster.inference_worker.get_model("reference"), cluster.actor_trainer.optimizer, getattr(cluster, "_anchor_policy_state", None)


def measured(steps: int, rank: int):
    mesh, sp = make_mesh(), tokenizer()
    print(f"Measured: tiny Gemma 3 (float32), after {steps} GRPO steps (RLCluster + GRPOLearner, AdamW)")
    print(f"  {'':32s} {'frozen base':>11s} {'trained':>11s} {'optimizer':>11s} {'total':>11s}   anchor snapshot (host)")
    for mode in ("full", "lora"):
        actor, ref, opt, anchor = run(mode, sp, mesh, steps, rank)
        trainable = nnx.LoRAParam if mode == "lora" else nnx.Param
        frozen = nnx.All(nnx.Param, nnx.Not(nnx.LoRAParam)) if mode == "lora" else nnx.Nothing
        opt_state = nnx.state(opt, nnx.optimizer.OptState)
        def row(label):
            "Sizes now: nnx states are live views, so each row is summed before anything changes the model."
            b_frozen = sum(buffers(nnx.state(actor, frozen), nnx.state(ref, nnx.Param)).values())
            b_train, b_opt = sum(buffers(nnx.state(actor, trainable)).values()), sum(buffers(opt_state).values())
            b_anchor = sum(buffers(anchor).values()) if anchor is not None else 0
            print(f"  {label:32s} {mb(b_frozen):>11s} {mb(b_train):>11s} {mb(b_opt):>11s} {mb(b_frozen + b_train + b_opt):>11s}   {mb(b_anchor)}")
        row(mode + (f" (rank {rank})" if mode == "lora" else ""))
        if mode == "lora":
            share_base(actor, ref)
            row("lora, after share_base")
    print("  (full: the reference is the only frozen copy; its actor weights count as trained.)")


def worked_out(rank: int):
    print(f"\nWorked out from shapes (nothing allocated), LoRA rank {rank} on every attention and MLP projection:")
    print(f"  {'model':12s} {'base':>10s} {'adapters':>10s} {'full: AdamW':>12s} {'LoRA: AdamW':>12s} {'full: ref copy':>15s} {'LoRA: ref':>10s}")
    for name in ("gemma3_270m", "gemma3_1b_it"):
        cfg = getattr(gemma3.ModelConfig, name)()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = nnx.eval_shape(lambda: apply_lora(gemma3.Gemma3(cfg, rngs=nnx.Rngs(0)), LoraSpec(rank=rank, alpha=2.0 * rank)))
        size = lambda f: sum(int(np.prod(x.shape)) * x.dtype.itemsize for x in jax.tree.leaves(nnx.state(model, f)))
        base, lora = size(nnx.All(nnx.Param, nnx.Not(nnx.LoRAParam))), size(nnx.LoRAParam)
        gb = lambda n: f"{n / 2**30:.3f} GB"
        print(f"  {name:12s} {gb(base):>10s} {gb(lora):>10s} {gb(2 * base):>12s} {gb(2 * lora):>12s} {gb(base):>15s} {'shared':>10s}")
    print("  Full fine-tuning: base + AdamW (2x base) + reference copy = 4x base. LoRA: base (shared with the reference at the start;")
    print("  Tunix's train step then gives the actor its own copy, so 2x base while training unless share_base is called) + 3x adapters.")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--rank", type=int, default=4, help="LoRA rank for the measured run (the tiny model is 32 wide)")
    ap.add_argument("--big-rank", type=int, default=64, help="LoRA rank for Gemma 3 270M/1B (Tunix's demo: 64)")
    args = ap.parse_args()
    measured(args.steps, args.rank)
    worked_out(args.big_rank)


if __name__ == "__main__":
    main()
