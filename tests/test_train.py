"""A few GRPO steps of the tiny built-in model through Tunix's real GRPOLearner, on CPU.

Asserts what the training path promises: every reward is called by Tunix with the dataset's columns
(`answer`, one value per completion), the per-function rewards are recorded and printed per step, and a
bad configuration stops the run before any model is built.
"""

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")  # before jax/tunix are imported

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tunix")
pytest.importorskip("hydra")

from agent_tunix import config as C  # noqa: E402
from agent_tunix import train as T  # noqa: E402
from agent_tunix.checkpoints import weights_path  # noqa: E402
from agent_tunix.core import register_reward_function  # noqa: E402
from agent_tunix.data import synthetic_arithmetic  # noqa: E402
from agent_tunix.rewards import check_answer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

CALLS = []  # (answer column, completions) per call of `spy_reward`


def spy_reward(response, answer, prompt="", metadata=None):
    """A test reward: records what Tunix handed it, scores 1.0 for an even-length completion."""
    CALLS.append((answer, response, dict(metadata or {}), prompt))
    return float(len(response) % 2 == 0)


register_reward_function("spy_reward", spy_reward, overwrite=True)

STEPS, BATCH = 3, 2


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("analysis")
    cfg = C.compose_config([
        "training.reward_function=[{check_answer: 2}, match_format_exactly, spy_reward]",   # one weighted
        f"training.max_steps={STEPS}", f"training.batch_size={BATCH}",
        "training.log_rewards=true", "training.save_reward_analysis=true", f"training.analysis_dir={out}",
        "generation.max_tokens_to_generate=8", "grpo.num_generations=4", "training.warm_start_steps=0",
        f"training.runs_dir={tmp_path_factory.mktemp('runs')}",
    ])
    run = C.validate_config(cfg)
    rows = synthetic_arithmetic(16, seed=3)
    printed = io.StringIO()
    CALLS.clear()
    log = T.train(run, rows=(rows, []), out=printed)
    return run, rows, log, printed.getvalue(), out


def test_rewards_get_the_dataset_columns(trained):
    run, rows, log, _, _ = trained
    g = run.grpo.num_generations
    assert len(CALLS) == STEPS * BATCH * g  # one call per completion, every step
    answers = {r["answer"] for r in rows}
    for answer, response, metadata, _ in CALLS:
        assert isinstance(answer, str) and answer in answers  # the `answer` column, one value per completion
        assert isinstance(response, str)
        assert {"answer", "question", "mode", "trajectory_ids"} <= set(metadata)  # the other columns too
        assert metadata["mode"] == "train"
    # the answers arrive in groups of g, one group per prompt, as Tunix repeats each row per generation
    per_step = [a for a, *_ in CALLS[: BATCH * g]]
    assert all(len(set(per_step[i:i + g])) == 1 for i in range(0, len(per_step), g))


def test_rewards_are_logged_per_function_and_step(trained):
    run, _, log, printed, _ = trained
    names = ["check_answer_x2", "match_format_exactly", "spy_reward"]
    assert sorted(log.means()) == names
    assert all(len(v) == STEPS for v in log.means().values())
    for r in log.stats:
        assert r["min"] <= r["mean"] <= r["max"] and r["std"] >= 0 and r["n"] == BATCH * run.grpo.num_generations
    for name in names:
        for step in range(1, STEPS + 1):
            assert f"[train step {step}] {name}: min " in printed
    spy = [r for r in log.stats if r["reward"] == "spy_reward"]
    expected = [np.mean([len(c) % 2 == 0 for _, c, *_ in CALLS[i * BATCH * 4:(i + 1) * BATCH * 4]]) for i in range(STEPS)]
    assert [r["mean"] for r in spy] == pytest.approx(expected)


def test_reward_analysis_is_saved(trained):
    *_, out = trained
    assert sorted(p.name for p in out.iterdir()) == ["completions.jsonl", "report", "reward_stats.jsonl", "summary.json"]
    assert (out / "report" / "report.md").exists() and (out / "report" / "histograms.png").exists()
    assert len((out / "completions.jsonl").read_text().splitlines()) == STEPS * BATCH * 4


@pytest.mark.parametrize("override, says", [
    ("+training.reward_functon=check_answer", "Did you mean 'reward_function'"),
    ("training.reward_function=check_anser", "Did you mean 'check_answer'"),
    ("+model.num_layer=3", "Did you mean 'num_layers'"),
    ("training.log_rewards=maybe", "true or false"),
    ("training.max_step=3", "Did you mean 'max_steps'"),              # no `+`: still our message, not Hydra's
    ("grpo.temperature=0.5", "write generation.temperature="),         # a key of another group
    ("training.reward_function=[{check_answer: nan}]", "training.reward_function"),
])
def test_bad_config_stops_before_any_model(override, says, monkeypatch):
    built = []
    monkeypatch.setattr(T, "load_model", lambda *a, **k: built.append(1))
    with pytest.raises(C.ConfigError, match=says):
        C.validate_config(C.compose_config([override]))
    assert not built


def test_both_override_forms():
    for form in ("training.reward_function=check_answer", "+training.reward_function=check_answer"):
        assert C.validate_config(C.compose_config([form])).reward_names == ["check_answer"]


def _sum_in(prompt: str) -> str:
    "The answer a synthetic problem's prompt asks for, read back from its words."
    a, verb, b = re.search(r"has (\d+) .*?(gets|gives away|bags with) (\d+)", prompt).groups()
    return str({"gets": int(a) + int(b), "gives away": int(a) - int(b), "bags with": int(a) * int(b)}[verb])


def test_each_completion_is_scored_against_its_own_prompts_answer(trained):
    # Tunix repeats each row once per generation; a shuffle of answers against prompts would make correctness
    # rewards noise (format rewards would still look fine), so check the pairing on every call
    assert all(answer == _sum_in(prompt) for answer, _, _, prompt in CALLS)


def test_a_weighted_reward_is_its_own_scaled_function(trained):
    run, _, log, _, _ = trained
    assert run.reward_names == ["check_answer_x2", "match_format_exactly", "spy_reward"]
    assert set(log.means()) == set(run.reward_names)
    rows = [r for rs in log.completions.values() for r in rs]
    assert rows and all(r["check_answer_x2"] == 2 * check_answer(r["completion"], r["answer"]) for r in rows)


def test_evaluate_script_scores_the_latest_run(trained, tmp_path):
    run, _, log, _, _ = trained
    w = weights_path(run, log.run_dir)
    assert w.exists() and log.run_dir.parent == Path(run.training.runs_dir)
    out = tmp_path / "ev.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "evaluate.py"), f"training.runs_dir={run.training.runs_dir}", "data.num_eval=4",
         "generation.max_tokens_to_generate=8", "evaluate.num_samples=2", f"evaluate.out={out}"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300, env={**os.environ, "JAX_PLATFORMS": "cpu"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    ev = json.loads(out.read_text())
    assert (ev["n"], ev["k"], ev["weights"]) == (4, 2, str(w))
    assert 0 <= ev["sampled_accuracy"] <= ev["pass_at_k"] <= 1
    assert "accuracy" in proc.stdout and "pass@2" in proc.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ev.json"]     # nothing else written where it ran


def test_evaluate_script_without_a_finished_run_names_the_fix(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "evaluate.py"), f"training.runs_dir={tmp_path / 'none'}"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300, env={**os.environ, "JAX_PLATFORMS": "cpu"})
    assert proc.returncode == 2 and "run `python run_training.py`" in proc.stderr, proc.stderr[-2000:]
    assert list(tmp_path.iterdir()) == []


def test_short_runs_never_overwrite_each_other(trained):
    run, _, log, _, _ = trained
    again = T.train(run, rows=(synthetic_arithmetic(16, seed=3), []), out=io.StringIO())   # the same config, at once
    assert again.run_dir != log.run_dir and again.run_dir.parent == log.run_dir.parent
    assert weights_path(run, log.run_dir).exists() and weights_path(run, again.run_dir).exists()


TRAINING_MODULES = ("data", "config", "checkpoints", "warm_start", "evaluate", "train")


def _notebook_of() -> dict:
    "{module: the stem of the notebook that exports it}, from each notebook's `#| default_exp`."
    out = {}
    for p in sorted((ROOT / "nbs").glob("*.ipynb")):
        for c in json.loads(p.read_text(encoding="utf-8"))["cells"]:
            m = re.match(r"#\|\s*default_exp\s+(\S+)", "".join(c["source"]))
            if m: out[m.group(1)] = p.stem; break
    return out


def _package_imports(path: Path) -> set:
    "The agent_tunix modules a module imports anywhere in its source (function-level imports included)."
    import ast
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level and node.module: found.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("agent_tunix."): found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import): found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("agent_tunix.")}
    return found


@pytest.mark.parametrize("module", TRAINING_MODULES)
def test_a_training_module_imports_only_modules_of_earlier_notebooks(module):
    "No import cycle: each module imports only modules exported by notebooks that sort before its own."
    nb = _notebook_of()
    deps = _package_imports(ROOT / "agent_tunix" / f"{module}.py") & set(nb)
    upward = sorted(d for d in deps if not nb[d] < nb[module])
    assert not upward, f"{module} ({nb[module]}) imports {[(d, nb[d]) for d in upward]}, which sort after it"


class _FakeTerminal(io.StringIO):
    "A stream that says it is a terminal, as stderr does in an interactive shell."
    def isatty(self): return True


def test_grpo_on_a_terminal_shows_our_bar_and_not_tunixs(monkeypatch, tmp_path):
    run = C.validate_config(C.compose_config([
        "training.max_steps=2", "training.batch_size=2", "grpo.num_generations=2", "generation.max_tokens_to_generate=8",
        "training.warm_start_steps=0", "training.log_rewards=true", f"training.runs_dir={tmp_path}"]))
    term = _FakeTerminal()
    monkeypatch.setattr(sys, "stderr", term)   # a terminal: Tunix would draw its "Actor Training" bar here
    monkeypatch.setattr(sys, "stdout", term)   # one screen for the log lines and the bar
    T.train(run, rows=(synthetic_arithmetic(8, seed=3), []))
    monkeypatch.undo()
    text = term.getvalue()
    assert "GRPO:" in text and "2/2" in text and "\r" in text and "check_answer=" in text, text   # one bar, per-reward means
    assert "Actor Training" not in text, text
    assert text.count("[train step") == 4 and not re.search(r"[^\r\n]\[train step", text), text   # log lines never inside the bar
