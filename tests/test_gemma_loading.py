"""Gemma 3 loading (`agent_tunix.models.load_model`), exercised on a tiny checkpoint the tests write.

The checkpoint is a real Hugging Face-format folder: `model.safetensors` under Hugging Face's names and
torch layouts, a `config.json` transformers reads, and a SentencePiece `tokenizer.model` trained here on the
synthetic arithmetic problems. It goes through the same code as a released Gemma 3: `load_model` ->
Tunix's `gemma3.params_safetensors.create_model_from_safe_tensors`. What is asserted:

- every parameter comes back exactly as written (the weights are random everywhere, norms and MLP included,
  so a swapped or mis-transposed tensor fails), for both of Tunix's attention layouts;
- the written tensors follow torch's `Linear` convention (`y = W @ x`), checked against Tunix's einsums
  directly, so the layout is Hugging Face's and not merely whatever Tunix's reader happens to accept;
- the tokenizer round-trips text; greedy generation through Tunix's `Sampler` runs, returns text, and its
  per-step logits match a plain forward pass of the loaded model;
- the Hugging Face and Kaggle download paths hand their folder to the same loader;
- each broken folder fails early with a message that names the fix.

CPU only, no network, about 15 s on two cores.
"""

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")  # before jax/tunix are imported

import io
import json
import shutil

import numpy as np
import pytest

pytest.importorskip("tunix")
spm = pytest.importorskip("sentencepiece")

import jax.numpy as jnp  # noqa: E402
from flax import nnx  # noqa: E402
from safetensors.numpy import load_file, save_file  # noqa: E402
from tunix.generate import sampler as sampler_lib  # noqa: E402
from tunix.models import dummy_model_creator  # noqa: E402
from tunix.models.gemma3 import model as gemma3  # noqa: E402

from agent_tunix.data import synthetic_arithmetic  # noqa: E402
from agent_tunix.models import (ModelSpec, gemma3_config_from_hf, load_model, make_mesh,  # noqa: E402
                                save_gemma3_safetensors)

TEXTS = [r["prompts"] + r["reasoning"] for r in synthetic_arithmetic(200, ops=("+", "-", "*"))]


def params(model) -> dict:
    """{"layers.0.attn.q_einsum.w": array, ...}: a model's parameters by dotted path."""
    flat = nnx.traversals.flatten_mapping(nnx.state(model, nnx.Param).to_pure_dict())
    return {".".join(map(str, k)): np.asarray(v) for k, v in flat.items()}


@pytest.fixture(scope="module")
def mesh():
    return make_mesh()


@pytest.fixture(scope="module")
def tokenizer():
    """A 96-piece BPE SentencePiece model with Gemma's special ids, trained in milliseconds."""
    proto = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(TEXTS), model_writer=proto, vocab_size=96, model_type="bpe",
                                   pad_id=0, eos_id=1, bos_id=2, unk_id=3, normalization_rule_name="identity",
                                   remove_extra_whitespaces=False, minloglevel=2)
    return spm.SentencePieceProcessor(model_proto=proto.getvalue())


def write_tiny(folder, tokenizer, mesh, num_kv_heads: int, seed: int = 0):
    """A random 2-layer Gemma 3, written to `folder` as a Hugging Face checkpoint; returns the model."""
    cfg = gemma3.ModelConfig(num_layers=2, num_embed=tokenizer.vocab_size(), embed_dim=32, hidden_dim=64, num_heads=4,
                             head_dim=16,  # not embed_dim // num_heads (8): queries are scaled by 1/sqrt(head_dim)
                             num_kv_heads=num_kv_heads, sliding_window_size=16,  # shorter than the prompts
                             global_base_frequency=1_000_000, param_dtype=jnp.float32)
    # Tunix's random-init helper: unlike a fresh `Gemma3` (zero norms and MLP kernels), every tensor is random.
    model = dummy_model_creator.create_dummy_model(gemma3.Gemma3, cfg, mesh, random_seed=seed, scale=0.5)
    save_gemma3_safetensors(model, folder, tokenizer=tokenizer)
    return model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, tokenizer, mesh):
    """(written model, its folder): one kv head for four query heads, the layout of Gemma 3 270m and 1b."""
    folder = tmp_path_factory.mktemp("gemma3") / "tiny-gemma3"
    return write_tiny(folder, tokenizer, mesh, num_kv_heads=1), folder


@pytest.fixture(scope="module")
def loaded(tiny, mesh):
    """(model, tokenizer) as `load_model` returns them for the tiny checkpoint."""
    return load_model(ModelSpec(name="tiny-gemma3", family="gemma3", checkpoint=str(tiny[1])), mesh)


def copy_of(folder, tmp_path, drop=(), config=None, tensors=None):
    """A copy of a checkpoint folder without the files in `drop`, optionally with another config.json or tensors."""
    out = tmp_path / "broken"
    shutil.copytree(folder, out)
    for name in drop:
        (out / name).unlink()
    if config is not None:
        (out / "config.json").write_text(json.dumps(config))
    if tensors is not None:
        save_file(tensors, str(out / "model.safetensors"))
    return str(out)


# --- the weights ----------------------------------------------------------------------------------------------------


def test_folder_is_a_hugging_face_checkpoint(tiny):
    _, folder = tiny
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors", "tokenizer.model"]


def test_every_parameter_comes_back_exactly(tiny, loaded):
    written, got = params(tiny[0]), params(loaded[0])
    assert got.keys() == written.keys()
    for name, value in written.items():
        assert got[name].dtype == value.dtype == np.float32, name
        np.testing.assert_array_equal(got[name], value, err_msg=name)
    # The weights are random everywhere, so a swap of two same-shaped tensors could not pass unnoticed.
    assert all(v.std() > 0.1 for v in written.values())
    assert loaded[0].config == tiny[0].config


def test_fused_qkv_layout_round_trips(tmp_path, tokenizer, mesh):
    """num_kv_heads == num_heads: Tunix fuses q, k and v into one `qkv_einsum` (the other branch of its reader)."""
    model = write_tiny(tmp_path / "mha", tokenizer, mesh, num_kv_heads=4, seed=1)
    got, _ = load_model(ModelSpec(family="gemma3", checkpoint=str(tmp_path / "mha")), mesh)
    assert "layers.0.attn.qkv_einsum.w" in params(got)
    for name, value in params(model).items():
        np.testing.assert_array_equal(params(got)[name], value, err_msg=name)


def test_tensors_follow_torch_linear_layout(tiny):
    """Each Hugging Face weight W computes y = W @ x (torch `Linear`), the same map as Tunix's einsum."""
    model, folder = tiny
    cfg, w, p = model.config, load_file(str(folder / "model.safetensors")), params(model)
    N, K, D, H, F = cfg.num_heads, cfg.num_kv_heads, cfg.embed_dim, cfg.head_dim, cfg.hidden_dim
    rng = np.random.default_rng(0)
    x, heads, hidden = rng.normal(size=D), rng.normal(size=(N, H)), rng.normal(size=F)
    hf = lambda name: w[f"model.layers.1.{name}.weight"]  # noqa: E731
    close = lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)  # noqa: E731
    assert hf("self_attn.q_proj").shape == (N * H, D) and hf("self_attn.k_proj").shape == (K * H, D)
    close((hf("self_attn.q_proj") @ x).reshape(N, H), np.einsum("d,ndh->nh", x, p["layers.1.attn.q_einsum.w"]))
    close((hf("self_attn.k_proj") @ x).reshape(K, H), np.einsum("d,kdh->kh", x, p["layers.1.attn.kv_einsum.w"][0]))
    close((hf("self_attn.v_proj") @ x).reshape(K, H), np.einsum("d,kdh->kh", x, p["layers.1.attn.kv_einsum.w"][1]))
    close(hf("self_attn.o_proj") @ heads.reshape(-1), np.einsum("nh,nhd->d", heads, p["layers.1.attn.attn_vec_einsum.w"]))
    close(hf("mlp.gate_proj") @ x, x @ p["layers.1.mlp.gate_proj.kernel"])
    close(hf("mlp.up_proj") @ x, x @ p["layers.1.mlp.up_proj.kernel"])
    close(hf("mlp.down_proj") @ hidden, hidden @ p["layers.1.mlp.down_proj.kernel"])
    assert not any(k.startswith("lm_head") for k in w)  # tied: the embedding is also the output layer
    np.testing.assert_array_equal(w["model.embed_tokens.weight"], p["embedder.input_embedding"])


def test_config_json_reads_in_transformers(tiny):
    """transformers' own Gemma3TextConfig accepts the config.json, and its (transformers 5) dict maps back."""
    transformers = pytest.importorskip("transformers")
    model, folder = tiny
    raw = json.loads((folder / "config.json").read_text())
    hf = transformers.Gemma3TextConfig(**raw)
    assert (hf.num_hidden_layers, hf.head_dim, hf.query_pre_attn_scalar, hf.sliding_window) == (2, 16, 16, 16)
    assert hf.layer_types == ["sliding_attention", "sliding_attention"]
    assert gemma3_config_from_hf(hf.to_dict()) == gemma3_config_from_hf(raw) == model.config


# --- the tokenizer and generation -----------------------------------------------------------------------------------


def test_tokenizer_round_trips(loaded):
    _, tok = loaded
    assert isinstance(tok, spm.SentencePieceProcessor)
    assert (tok.pad_id(), tok.eos_id(), tok.bos_id(), tok.vocab_size()) == (0, 1, 2, 96)
    unseen = [r["prompts"] for r in synthetic_arithmetic(5, seed=123)]
    for text in TEXTS[:5] + unseen:
        ids = tok.encode(text)
        assert 0 < len(ids) < len(text) and max(ids) < 96
        assert tok.decode(ids) == text


def test_greedy_generation_matches_the_forward_pass(loaded):
    """Tunix's Sampler (KV cache, sliding-window decode) agrees with a plain forward pass of the loaded model."""
    model, tok = loaded
    cfg, steps = model.config, 8
    prompts = [r["prompts"] for r in synthetic_arithmetic(2, seed=7)]
    prompt_len = max(len(tok.encode(p)) for p in prompts) + 1
    sampler = sampler_lib.Sampler(model, tok, sampler_lib.CacheConfig(
        cache_size=prompt_len + steps + 8, num_layers=cfg.num_layers, num_kv_heads=cfg.num_kv_heads, head_dim=cfg.head_dim))
    out = sampler(prompts, max_generation_steps=steps, max_prompt_length=prompt_len, temperature=0.0,
                  eos_tokens=[tok.eos_id()], return_logits=True)
    assert len(out.text) == 2 and all(isinstance(t, str) and t for t in out.text)
    assert prompt_len > cfg.sliding_window_size  # the sliding window is in play

    T = prompt_len + steps  # one padded length: one compilation
    forward = nnx.jit(lambda m, ids: m(ids, positions=jnp.arange(T)[None], cache=None,
                                        attention_mask=jnp.tril(jnp.ones((1, T, T), bool)))[0])
    for prompt, tokens, logits in zip(prompts, out.tokens, out.logits):
        ids = [tok.bos_id()] + tok.encode(prompt)
        for step in range(len(tokens)):
            ref = np.asarray(forward(model, jnp.array([ids + [tok.pad_id()] * (T - len(ids))]))[0, len(ids) - 1])
            np.testing.assert_allclose(np.asarray(logits[step]), ref, rtol=1e-4, atol=1e-4)
            ids.append(int(ref.argmax()))
        assert ids[-len(tokens):] == np.asarray(tokens).tolist()


# --- the sources ----------------------------------------------------------------------------------------------------


def test_hugging_face_id_is_downloaded_then_loaded(tiny, mesh, monkeypatch):
    import huggingface_hub
    calls = []
    monkeypatch.setattr(huggingface_hub, "snapshot_download",
                        lambda repo_id, **kw: calls.append((repo_id, kw)) or str(tiny[1]))
    model, _ = load_model(ModelSpec(family="gemma3", checkpoint="someone/tiny-gemma3"), mesh)
    assert calls[0][0] == "someone/tiny-gemma3" and "tokenizer.model" in calls[0][1]["allow_patterns"]
    assert model.config == tiny[0].config
    # A released size downloads its Hugging Face id; this folder then fails the size's check, naming the size.
    with pytest.raises(ValueError, match="does not describe Gemma 3 270m"):
        load_model(ModelSpec(family="gemma3", size="270m"), mesh)
    assert calls[1][0] == "google/gemma-3-270m"


def test_kaggle_handle_is_downloaded_then_loaded(tiny, mesh, monkeypatch):
    kagglehub = pytest.importorskip("kagglehub")
    calls = []
    monkeypatch.setattr(kagglehub, "model_download", lambda handle, **kw: calls.append(handle) or str(tiny[1]))
    model, _ = load_model(ModelSpec(family="gemma3", checkpoint="kaggle:google/gemma-3/transformers/tiny"), mesh)
    assert calls == ["google/gemma-3/transformers/tiny"]
    np.testing.assert_array_equal(params(model)["final_norm.scale"], params(tiny[0])["final_norm.scale"])


# --- the errors -----------------------------------------------------------------------------------------------------


def without_tensor(folder, name):
    tensors = load_file(str(folder / "model.safetensors"))
    del tensors[name]
    return tensors


BROKEN = [  # (what is wrong, how to break the tiny folder, ModelSpec.size, the message's telling part)
    ("no weights", dict(drop=["model.safetensors"]), None, r"no \*\.safetensors file"),
    ("no tokenizer", dict(drop=["tokenizer.model"]), None, "no tokenizer.model"),
    ("no config, no size", dict(drop=["config.json"]), None, "add the checkpoint's config.json, or name a released size"),
    ("no config, unreleased size", dict(drop=["config.json"]), "4b", "size '4b' is not a released size"),
    ("no config, wrong released size", dict(drop=["config.json"]), "270m", "lacks 208 tensors a 18-layer Gemma 3 needs"),
    ("config of another size", {}, "1b", "does not describe Gemma 3 1b: num_hidden_layers 2 .Tunix: 26."),
    ("config with more layers", dict(config={"num_hidden_layers": 3}), None, "lacks 13 tensors"),
    ("config with fewer layers", dict(config={"num_hidden_layers": 1}), None, r"layers \[1\] beyond the 1"),
    ("a tensor missing", dict(tensors="model.layers.1.mlp.up_proj.weight"), None,
     r"lacks 1 tensors a 2-layer Gemma 3 needs \(model\.layers\.1\.mlp\.up_proj\.weight\)"),
    ("a feature Tunix lacks", dict(config={"final_logit_softcapping": 30.0}), None, "final_logit_softcapping"),
]


@pytest.mark.parametrize("what, breakage, size, message", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_folder_fails_early_naming_the_fix(tiny, mesh, tmp_path, what, breakage, size, message):
    _, folder = tiny
    breakage = dict(breakage)
    if "config" in breakage:
        raw = json.loads((folder / "config.json").read_text())
        breakage["config"] = {**raw, "layer_types": None, **breakage["config"]}
    if "tensors" in breakage:
        breakage["tensors"] = without_tensor(folder, breakage["tensors"])
    spec = ModelSpec(family="gemma3", size=size, checkpoint=copy_of(folder, tmp_path, **breakage))
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        load_model(spec, mesh)


@pytest.mark.parametrize("spec, message", [
    (ModelSpec(family="gemma3", size="7b"), "size '7b' has no default checkpoint"),
    (ModelSpec(family="gemma3"), "size None has no default checkpoint"),
    (ModelSpec(family="gemma3", checkpoint="/no/such/folder"), "no such folder"),
    (ModelSpec(family="gemma3", checkpoint="no/such/nested/folder"), "no such folder"),
], ids=["unreleased size", "no size, no checkpoint", "absolute path", "nested relative path"])
def test_nothing_to_load_fails_before_any_download(spec, message, mesh):
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        load_model(spec, mesh)
