"""Hostile rewards and configs in a real (tiny) training run: every reward form reaches Tunix's learner, a reward
that always fails stops the run, a slow reward is timed out, Ctrl-C stops promptly, config mistakes get the
project's message, and a reward that teaches nothing is reported.

Each test is named after the case it covers. Runs use the tiny built-in model, no warm start, 1-3 steps of one or
two prompts: seconds each (most of it is the first step's compilation).
"""

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")  # before jax/tunix are imported

import io
import re
import signal
import subprocess
import tempfile
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tunix")
pytest.importorskip("hydra")

from agent_tunix import config as C  # noqa: E402
from agent_tunix import train as T  # noqa: E402
from agent_tunix.core import batch_reward  # noqa: E402
from agent_tunix.data import synthetic_arithmetic  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# A user's reward module, as `training.reward_function=hostile_rewards.<name>` finds it on the Python path.
# Guarded rewards run in worker processes that import it by name, so it lives in a real file, not in this test.
USER_MODULE = textwrap.dedent('''
    import os, time
    from agent_tunix.guards import guarded_reward

    def one_sample(response, answer, prompt=""):      # range: {0.25}
        return 0.25

    def batch_ok(prompts, completions, **kw):         # batch form; range: {1.0}
        return [1.0] * len(completions)

    def with_bonus(response, bonus=0.0):              # a setting bound by the spec's kwargs
        return 0.5 + bonus

    def guarded_inner(response):
        return 0.75

    guarded = guarded_reward(guarded_inner, timeout=30, workers=1, name="guarded")

    def always_raises(response):
        raise ValueError("broken on purpose")

    def constant(response):                            # teaches nothing: every completion scores the same
        return 1.0

    def sleeps(response):
        open(os.environ["SLEEP_MARK"], "a").write("x") if os.environ.get("SLEEP_MARK") else None
        time.sleep(float(os.environ.get("SLEEP_S", "60")))
        return 1.0
''')

# in-process runs of `main`: Hydra must not point the logging at pytest's captured streams, which close after each test
NO_LOGGING = ["hydra/job_logging=none", "hydra/hydra_logging=none"]
TINY = ["training.warm_start_steps=0", "training.batch_size=1", "grpo.num_generations=2",
        "generation.max_tokens_to_generate=4", "training.checkpoint_dir=null", "data.num_train=8", "data.num_eval=0",
        f"training.runs_dir={tempfile.mkdtemp(prefix='hostile_runs_')}"]   # each run's folder (config, TensorBoard) out of the tree


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    (tmp_path / "hostile_rewards.py").write_text(USER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    sys.modules.pop("hostile_rewards", None)
    yield tmp_path
    mod = sys.modules.pop("hostile_rewards", None)
    if mod is not None: mod.guarded.close()


def _run(overrides):
    return C.validate_config(C.compose_config(TINY + list(overrides)))


def _rows():
    return synthetic_arithmetic(8, seed=1), []


# --- case 1 -----------------------------------------------------------------------------------------------------

def test_case1_every_reward_form_reaches_the_learner_with_its_real_scores(user_module):
    spec = ("[hostile_rewards.one_sample, {hostile_rewards.one_sample: 2}, hostile_rewards.batch_ok, "
            "{hostile_rewards.batch_ok: 0.5}, hostile_rewards.guarded, "
            "{name: hostile_rewards.with_bonus, kwargs: {bonus: 0.25}}]")
    run = _run([f"training.reward_function={spec}", "training.max_steps=1"])
    log = T.train(run, rows=_rows(), out=io.StringIO())
    means = {name: v[0] for name, v in log.means().items()}
    # the values the rewards return (times their weights); a form that fails would show the fallback 0.0
    assert means == {"one_sample": 0.25, "one_sample_x2": 0.5, "batch_ok": 1.0, "batch_ok_x0.5": 0.5,
                     "guarded": 0.75, "with_bonus": 0.75}
    assert sorted(means) == sorted(run.reward_names)
    assert all(r["failures"] == 0 for r in log.stats)


# --- case 2 -----------------------------------------------------------------------------------------------------

def test_case2_a_reward_that_always_fails_stops_the_run(user_module, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        T.main(TINY + ["training.reward_function=[check_answer, hostile_rewards.always_raises]", "training.max_steps=6",
                       "training.max_reward_failure_steps=2", f"hydra.run.dir={tmp_path / 'hydra'}", *NO_LOGGING])
    out = capsys.readouterr()
    assert stop.value.code == 1
    msg = out.err
    assert "always_raises" in msg and "100 %" in msg and "ValueError: broken on purpose" in msg
    assert "2 steps in a row" in msg and "training.max_reward_failure_rate" in msg   # what happened, and the fix
    assert "Traceback" not in msg
    assert "GRPO:  33%" in msg and "always_raises=0.00 (4 failed)" in msg            # on the progress bar, stopped at step 2 of 6


def test_case2_failures_are_counted_per_function_and_step():
    log = T.RewardRecorder(max_failure_rate=0.5, max_failure_steps=2, num_generations=2)
    nan, text = (batch_reward(lambda response: float("nan"), name="nan_reward"),
                 batch_reward(lambda response: "a string", name="string_reward"))
    fns = log.wrap([nan, text])
    cols = {"answer": np.array(["1", "1"]), "mode": "train"}
    for f in fns: f(["p", "p"], ["a", "b"], **cols)
    assert [(r["reward"], r["failures"], r["n"]) for r in log.stats] == [("nan_reward", 2, 2), ("string_reward", 2, 2)]
    assert log.failures() == {"nan_reward": 2, "string_reward": 2}
    with pytest.raises(T.RewardFailureError, match=r"nan_reward failed on 2 of 2 completions \(100 %\)"):
        fns[0](["p", "p"], ["a", "b"], **cols)


@pytest.mark.parametrize("override, says", [
    ("training.max_reward_failure_rate=1.5", "between 0 and 1"),
    ("training.max_reward_failure_rate=-0.1", "between 0 and 1"),
    ("training.max_reward_failure_steps=0", ">= 1"),
])
def test_case2_failure_limits_are_checked(override, says):
    with pytest.raises(C.ConfigError, match=says):
        C.validate_config(C.compose_config([override]))


# --- case 3 -----------------------------------------------------------------------------------------------------

def test_case3_reward_timeout_scores_a_slow_reward_the_fallback(user_module, monkeypatch):
    monkeypatch.setenv("SLEEP_S", "60")
    run = _run(["training.reward_function=hostile_rewards.sleeps", "training.max_steps=1",
                "training.reward_timeout=0.5", "training.reward_fallback=-1"])
    start = time.monotonic()
    log = T.train(run, rows=_rows(), out=io.StringIO())
    assert time.monotonic() - start < 40   # not 2 x 60 s
    [row] = log.stats
    assert (row["reward"], row["mean"], row["failures"]) == ("sleeps", -1.0, 2)
    with pytest.raises(C.ConfigError, match="reward_timeout"):
        C.validate_config(C.compose_config(["training.reward_timeout=0"]))


def test_case3_ctrl_c_stops_a_run_blocked_in_a_reward(user_module, tmp_path):
    mark = tmp_path / "reward_started"
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "SLEEP_S": "120", "SLEEP_MARK": str(mark)}
    out = tmp_path / "out.txt"
    with open(out, "w") as f:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "run_training.py"), *TINY, "training.reward_function=hostile_rewards.sleeps",
             "training.max_steps=3", f"hydra.run.dir={tmp_path / 'hydra'}", *NO_LOGGING],
            stdout=f, stderr=subprocess.STDOUT, cwd=tmp_path, env=env,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # an interactive shell's Ctrl-C
        try:
            end = time.monotonic() + 120
            while not mark.exists() and proc.poll() is None and time.monotonic() < end: time.sleep(0.1)
            assert mark.exists(), out.read_text()[-2000:]
            proc.send_signal(signal.SIGINT)
            sent = time.monotonic()
            rc = proc.wait(timeout=20)       # one Ctrl-C, not one per sleeping completion
            took = time.monotonic() - sent
        finally:
            if proc.poll() is None: proc.kill(); proc.wait()
    text = out.read_text()
    assert rc == 130 and took < 20, text[-2000:]
    assert "interrupted (Ctrl-C) after 0 of 3 steps" in text and "Traceback" not in text, text[-2000:]


# --- case 7 -----------------------------------------------------------------------------------------------------

BAD_MODULES = {"raises_on_import": "x = 1 / 0\ndef r(response): return 1.0\n",
               "syntax_error": "def r(response) return 1.0\n"}


@pytest.mark.parametrize("override, says", [
    ("trainin.max_steps=5", "unknown config group 'trainin'. Did you mean 'training'?"),
    ("temperature=0.5", "write generation.temperature=0.5"),
    ("model=tinyy", "no model config 'tinyy'"),
    ("training.reward_function=bad_reward_mods.raises_on_import.r", "ZeroDivisionError: division by zero"),
    ("training.reward_function=bad_reward_mods.syntax_error.r", "SyntaxError"),
    ("data.source=jsonl data.path={tmp}/missing.jsonl", "does not exist"),
    ("data.source=jsonl data.path={tmp}", "is a folder"),
    ("data.source=huggingface data.path={tmp}/none", "does not exist"),
])
def test_case7_config_errors_get_the_projects_message(override, says, tmp_path, monkeypatch, capsys):
    pkg = tmp_path / "bad_reward_mods"; pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for name, src in BAD_MODULES.items(): (pkg / f"{name}.py").write_text(src)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    for m in [m for m in sys.modules if m.startswith("bad_reward_mods")]: sys.modules.pop(m)
    built = []
    monkeypatch.setattr(T, "load_model", lambda *a, **k: built.append(1))
    with pytest.raises(SystemExit) as stop:
        T.main(override.format(tmp=tmp_path).split() + [f"hydra.run.dir={tmp_path / 'hydra'}", *NO_LOGGING])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and not built
    assert err.startswith("config error: ") and says in err, err
    assert "Traceback" not in err and "Set the environment variable HYDRA_FULL_ERROR" not in err


def test_case7_reward_module_errors_name_the_file_and_line(tmp_path, monkeypatch):
    pkg = tmp_path / "bad_reward_mods"; pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for name, src in BAD_MODULES.items(): (pkg / f"{name}.py").write_text(src)
    monkeypatch.syspath_prepend(str(tmp_path))
    for m in [m for m in sys.modules if m.startswith("bad_reward_mods")]: sys.modules.pop(m)
    with pytest.raises(C.ConfigError, match=r"syntax_error\.py, line 1"):
        C.validate_config({"training": {"reward_function": "bad_reward_mods.syntax_error.r"}})
    with pytest.raises(C.ConfigError, match=r"raises_on_import\.py, line 1.*python -c 'import bad_reward_mods.raises_on_import'"):
        C.validate_config({"training": {"reward_function": "bad_reward_mods.raises_on_import.r"}})


# --- case 11 ----------------------------------------------------------------------------------------------------

def test_case11_a_reward_that_teaches_nothing_is_reported_and_log_lines_stay_off_the_bar(user_module, tmp_path, monkeypatch):
    both = io.StringIO()   # a terminal shows stdout and stderr as one stream
    monkeypatch.setattr(sys, "stdout", both)
    monkeypatch.setattr(sys, "stderr", both)
    monkeypatch.chdir(tmp_path)
    T.main(TINY + ["training.reward_function=[hostile_rewards.constant]", "training.max_steps=3",
                   "training.log_rewards=true", "training.warn_dead_group_steps=2", f"hydra.run.dir={tmp_path / 'hydra'}", *NO_LOGGING])
    text = both.getvalue()
    warning = "constant: every GRPO group had equal rewards for 2 steps in a row"
    assert text.count(warning) == 2, text    # once when it happens, once in the final report
    assert text.index(warning) < text.index("[train step 3]")   # when it happens, not only at the end
    assert "Rewards that taught nothing" in text
    assert text.count("[train step") == 3
    assert not re.search(r"[^\r\n]\[train step", text), text    # each log line starts a line of its own


def test_case11_dead_group_share_is_recorded_per_step():
    log = T.RewardRecorder(num_generations=2)
    [f] = log.wrap([batch_reward(lambda response: float(len(response)), name="length")])
    f(["p", "p", "q", "q"], ["a", "bb", "c", "d"], mode="train")   # group p differs, group q is all equal
    assert log.stats[0]["dead_group_share"] == 0.5
