"""Run folders, Orbax checkpoints and resuming, TensorBoard files and LoRA, through `train` and `run_training.py` on CPU.

The interrupted run is stopped by a real SIGINT (sent by a reward while the rollout waits for it, as a Ctrl-C
would arrive), saved, and resumed in the same folder; its final weights must equal those of a run that was
never interrupted, bit for bit.
"""

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")  # before jax/tunix are imported

import io
import json
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tunix")

from agent_tunix import config as C  # noqa: E402
from agent_tunix import train as T  # noqa: E402
from agent_tunix.checkpoints import run_weights, saved_steps  # noqa: E402
from agent_tunix.core import register_reward_function  # noqa: E402
from agent_tunix.data import synthetic_arithmetic  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
M = 4                              # steps of the whole run
STOP_AT = 3                        # the interrupted run gets SIGINT while step 3's rewards are scored
SIGNAL_AT = {"call": None}         # the call of `even_length` (one per completion) at which to send SIGINT (None: never)
PER_STEP = 2 * 4                   # completions per step: 2 prompts x 4 generations
CALLS = {"n": 0}


def even_length(response):
    "Scores even-length completions; sends the process SIGINT at one chosen call (from Tunix's reward thread)."
    CALLS["n"] += 1
    if CALLS["n"] == SIGNAL_AT["call"]:
        signal.raise_signal(signal.SIGINT)
    return float(len(response) % 2 == 0)


register_reward_function("even_length", even_length, overwrite=True)


def _run(tmp, out_dir, **kw):
    return C.validate_config(C.compose_config([
        "training.reward_function=[even_length, check_answer]", f"training.max_steps={M}", "training.batch_size=2",
        "grpo.num_generations=4", "generation.max_tokens_to_generate=8", "training.warm_start_steps=5",
        f"training.warm_start_cache={tmp / 'ws'}", "data.num_train=16", "data.num_eval=4", "evaluate.num_samples=0",
        "training.save_every_n_steps=0", f"training.output_dir={out_dir}", "training.save_reward_analysis=true",
        *[f"training.{k}={v}" for k, v in kw.items()]]))


def _train(run, signal_at=None):
    CALLS["n"], SIGNAL_AT["call"] = 0, signal_at
    printed = io.StringIO()
    try:
        return T.train(run, rows=(synthetic_arithmetic(16, seed=5), synthetic_arithmetic(4, seed=6)), out=printed), printed.getvalue()
    finally:
        SIGNAL_AT["call"] = None


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("resume")
    whole, _ = _train(_run(tmp, tmp / "whole"))
    with pytest.raises(T.TrainingInterrupted) as stop:
        _train(_run(tmp, tmp / "split"), signal_at=(STOP_AT - 1) * PER_STEP + 1)
    resumed, said = _train(_run(tmp, tmp / "split"))
    return tmp, whole, stop.value, resumed, said


def test_an_interrupt_saves_the_last_update_and_says_how_to_resume(runs):
    tmp, _, stop, _, _ = runs
    assert stop.exit_code == 130
    msg = str(stop)
    assert f"interrupted (Ctrl-C) after {STOP_AT - 1} of {M} steps" in msg, msg
    assert f"checkpoint of step {STOP_AT - 1}" in msg and f"training.output_dir={tmp / 'split'}" in msg, msg


def test_the_resumed_run_continues_at_the_saved_step_and_keeps_the_warm_start(runs):
    *_, resumed, said = runs
    assert "resuming" in said and f"at step {STOP_AT - 1} of {M}" in said, said
    assert f"warm start: in the checkpoint of step {STOP_AT - 1}" in said, said
    assert "held-out before GRPO" not in said                 # kept from the first part, not measured again
    assert "before" in resumed.evaluations and "after" in resumed.evaluations


def test_interrupted_and_resumed_weights_equal_the_uninterrupted_run(runs):
    tmp, *_ = runs
    a, b = np.load(run_weights(tmp / "whole")), np.load(run_weights(tmp / "split"))
    assert sorted(a.files) == sorted(b.files)
    differ = [k for k in a.files if not np.array_equal(a[k], b[k])]
    assert not differ, f"{len(differ)} of {len(a.files)} arrays differ, e.g. {differ[:3]}"
    assert saved_steps(tmp / "split" / "checkpoints") == [STOP_AT - 1, M]


def test_the_resumed_reward_analysis_covers_the_whole_run(runs):
    tmp, whole, _, resumed, _ = runs
    assert resumed.means() == whole.means() and len(resumed.means()["even_length"]) == M   # same rewards, step by step
    assert resumed.steps_done == M
    summary = json.loads((tmp / "split" / "reward_analysis" / "summary.json").read_text())
    assert summary["train"]["steps"] == M
    rows = (tmp / "split" / "reward_analysis" / "completions.jsonl").read_text().splitlines()
    assert len(rows) == M * PER_STEP                               # every step's completions once, none twice


def test_tensorboard_files_hold_tunix_metrics_and_ours(runs):
    tmp, *_ = runs
    scalars = T.read_scalars(tmp / "whole" / "tensorboard")
    assert [s for s, _ in scalars["rewards/train/even_length/std"]] == list(range(1, M + 1))
    assert len(scalars["actor/train/loss"]) == M and "rewards/train/even_length" in scalars
    assert {"failures/train/check_answer", "dead_groups/train/check_answer"} <= set(scalars)
    assert [k for k in scalars if k.startswith("reasons/train/check_answer/")]   # the built-in's reasons, as shares
    assert not [k for k in scalars if k.startswith("jax/")]
    split = T.read_scalars(tmp / "split")                      # both parts of the resumed run, in its one folder
    assert {s for s, _ in split["rewards/train/even_length/std"]} == set(range(1, M + 1))


def test_a_folder_with_checkpoints_is_refused_when_resume_is_false(runs):
    tmp, *_ = runs
    with pytest.raises(C.ConfigError, match="training.resume=false"):
        T.train(_run(tmp, tmp / "whole", resume="false"), rows=(synthetic_arithmetic(4), []))
    with pytest.raises(C.ConfigError, match="training.batch_size"):
        T.train(_run(tmp, tmp / "whole", batch_size=4), rows=(synthetic_arithmetic(4), []))


# ---- LoRA through run_training's path --------------------------------------------------------------------------

NO_LOGGING = ["hydra/job_logging=none", "hydra/hydra_logging=none"]


def test_a_lora_run_saves_adapters_that_evaluate_scores(tmp_path, monkeypatch, capsys):
    from agent_tunix import evaluate as E
    from agent_tunix.lora import LoraSpec, read_lora_spec
    monkeypatch.chdir(tmp_path)
    args = ["model.lora.rank=4", "model.lora.alpha=8", "model.lora.targets=[attention]", "training.max_steps=2",
            "training.reward_function=[even_length, check_answer]",   # even_length varies within a group on a random model
            "training.batch_size=2", "grpo.num_generations=4", "generation.max_tokens_to_generate=8", "training.warm_start_steps=0",
            "data.num_train=8", "data.num_eval=4", "evaluate.num_samples=0", *NO_LOGGING]
    T.main(args)
    out = capsys.readouterr().out
    run_dir, = (tmp_path / "runs").iterdir()                 # the run's own folder, nothing else written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]
    adapters = run_dir / "checkpoints" / "adapters.safetensors"
    assert run_weights(run_dir) == adapters and "trained adapters" in out, out
    assert read_lora_spec(adapters) == LoraSpec(rank=4, alpha=8.0, targets=("attention",))
    assert not (run_dir / "checkpoints" / "weights.npz").exists()
    E.main(args + ["evaluate.out=ev.json"])
    ev = json.loads((run_dir / "ev.json").read_text())
    assert ev["weights"] == str(adapters) and ev["n"] == 4
    # the adapters moved during GRPO (B starts at zero), the Orbax checkpoint holds only them
    from safetensors.numpy import load_file
    saved = load_file(str(adapters))
    assert any(np.abs(v).sum() > 0 for k, v in saved.items() if k.endswith("_lora_b"))
    assert saved_steps(run_dir / "checkpoints")[-1] == 2          # (Orbax also keeps the first step)


def test_a_refused_config_leaves_no_folder(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "run_training.py"), "training.max_steps=0"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300, env={**os.environ, "JAX_PLATFORMS": "cpu"})
    assert proc.returncode == 2 and "training.max_steps must be >= 1" in proc.stderr, proc.stderr[-2000:]
    assert list(tmp_path.iterdir()) == []                    # no outputs/<date>/<time>/, no runs/, no log file


def _tiny_gemma3(folder):
    "A random 2-layer Gemma 3 with a SentencePiece tokenizer, written as a Hugging Face folder (as in test_gemma_loading)."
    import importlib.util
    spm = pytest.importorskip("sentencepiece")
    spec = importlib.util.spec_from_file_location("gemma_loading", ROOT / "tests" / "test_gemma_loading.py")
    gl = importlib.util.module_from_spec(spec); spec.loader.exec_module(gl)
    proto = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(gl.TEXTS), model_writer=proto, vocab_size=96, model_type="bpe",
                                   pad_id=0, eos_id=1, bos_id=2, unk_id=3, normalization_rule_name="identity",
                                   remove_extra_whitespaces=False, minloglevel=2)
    gl.write_tiny(folder, spm.SentencePieceProcessor(model_proto=proto.getvalue()), gl.make_mesh(), num_kv_heads=1)
    return folder


def test_a_gemma3_lora_run_exports_merged_weights_that_load_back(tmp_path):
    from flax import nnx
    from agent_tunix.checkpoints import weights_path
    from agent_tunix.lora import load_adapters, merge_lora
    from agent_tunix.models import load_model, make_mesh
    base = _tiny_gemma3(tmp_path / "base")
    run = C.validate_config(C.compose_config([
        "model=gemma3_270m", "model.name=tiny-gemma3", "model.size=null", f"model.checkpoint={base}", "model.lora.rank=4",
        "training.export_merged=true", "training.max_steps=2", "training.batch_size=2", "grpo.num_generations=4",
        "generation.max_tokens_to_generate=8", "training.warm_start_steps=0", "training.reward_function=[even_length]",
        f"training.runs_dir={tmp_path / 'runs'}", "data.num_eval=0"]))
    assert run.lora.rank == 4 and run.lora.targets == ("attention", "mlp")   # the Gemma config's LoRA, rank overridden
    log = T.train(run, rows=(synthetic_arithmetic(8, seed=2), []), out=io.StringIO())
    mesh = make_mesh()
    merged, _ = load_model(C.ModelSpec(family="gemma3", checkpoint=str(log.run_dir / "merged")), mesh)
    expected = merge_lora(load_adapters(load_model(run.model, mesh)[0], weights_path(run, log.run_dir), mesh=mesh))
    flat = lambda m: {k: np.asarray(v) for k, v in nnx.traversals.flatten_mapping(nnx.state(m, nnx.Param).to_pure_dict()).items()}
    got, want, untouched = flat(merged), flat(expected), flat(load_model(run.model, mesh)[0])
    assert got.keys() == want.keys() and all(np.array_equal(got[k], want[k]) for k in want)   # bit for bit
    assert any(not np.array_equal(got[k], untouched[k]) for k in want)      # and the adapters did change the base


def test_sigterm_during_an_update_waits_for_it_and_between_updates_stops_at_once():
    stopped = []
    hooks = T._StepHooks(lambda trainer: stopped.append(trainer))
    with T._stopping_cleanly(hooks):
        hooks.on_train_step_start("trainer")                  # an update is running
        signal.raise_signal(signal.SIGTERM)                    # held: the update must finish (and be checkpointed)
        assert hooks.stop == "SIGTERM"
        with pytest.raises(KeyboardInterrupt, match="SIGTERM"):
            hooks.on_train_end("trainer")                      # raised once the update is over, after its hook ran
        assert stopped == ["trainer"] and not hooks.busy
        with pytest.raises(KeyboardInterrupt, match="SIGTERM"):
            signal.raise_signal(signal.SIGTERM)                # between updates: at once
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # the handlers are put back
    assert T.TrainingInterrupted("x", 143).exit_code == 143
