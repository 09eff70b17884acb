"""Progress that reads in a terminal and in a log.

On a terminal each phase (warm start, held-out evaluation, GRPO) is one tqdm bar; written to a file (CI, nohup,
a Kaggle script) it is a plain line every tenth of the phase and one at its end, never a carriage-return redraw.
Lines printed meanwhile (`training.log_rewards`) never land inside the bar's line, Tunix's own bars ("Warm start",
"Actor Training") never show, and a CPU run does not print Tunix's "Skipping non-TPU device" notice.
"""
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from agent_tunix.config import ConfigError, Progress, _progress_mode

ROOT = Path(__file__).resolve().parents[1]


class FakeTerminal(io.StringIO):
    "A stream that says it is a terminal, as stderr does in an interactive shell."
    def isatty(self): return True


def test_lines_when_not_a_terminal():
    log = io.StringIO()
    with Progress(30, "GRPO", file=log) as p:   # a file: decided by isatty
        for i in range(30): p.update(1, {"check_answer": f"{i / 30:.2f}"})
    lines = log.getvalue().splitlines()
    assert [line.split(" [")[0] for line in lines] == [f"GRPO: {100 * n // 30:>3}% {n}/30 steps" for n in range(3, 31, 3)]
    assert "\r" not in log.getvalue() and lines[-1].endswith("check_answer=0.97")


def test_a_phase_that_stops_early_ends_with_a_line_saying_how_far_it_got():
    log = io.StringIO()
    with pytest.raises(KeyboardInterrupt):
        with Progress(100, "warm start", file=log) as p:
            p.update(7)
            raise KeyboardInterrupt
    assert log.getvalue().startswith("warm start:   7% 7/100 steps [") and log.getvalue().count("\n") == 1


def test_isatty_decides_and_the_environment_overrides(monkeypatch):
    assert _progress_mode(io.StringIO(), None) == "lines" and _progress_mode(FakeTerminal(), None) == "bar"
    tty = FakeTerminal()
    with Progress(5, "GRPO", file=tty) as p: p.update(2)
    assert "\r" in tty.getvalue() and "2/5" in tty.getvalue()
    monkeypatch.setenv("AGENT_TUNIX_PROGRESS", "lines")
    assert _progress_mode(FakeTerminal(), None) == "lines"
    monkeypatch.setenv("AGENT_TUNIX_PROGRESS", "off")
    quiet = FakeTerminal()
    with Progress(5, "GRPO", file=quiet) as p: p.update(5)
    assert quiet.getvalue() == ""
    monkeypatch.setenv("AGENT_TUNIX_PROGRESS", "loud")
    with pytest.raises(ConfigError, match="AGENT_TUNIX_PROGRESS must be bar, lines or off"): _progress_mode(io.StringIO(), None)
    assert _progress_mode(io.StringIO(), True) == "bar"          # the argument beats the environment


def test_written_lines_never_land_inside_the_bar():
    tty = FakeTerminal()
    with Progress(4, "GRPO", file=tty) as p:
        for step in range(1, 5):
            p.write(f"[train step {step}] check_answer: mean 0.5", file=tty)
            p.update(1)
    out = tty.getvalue()
    assert out.count("[train step") == 4
    assert not re.search(r"[^\r\n]\[train step", out), out       # each line starts a line of its own
    assert all(f"[train step {s}] check_answer: mean 0.5\n" in out for s in range(1, 5))


def test_the_warm_start_shows_one_display_and_not_tunixs_bar(monkeypatch):
    pytest.importorskip("tunix")
    from agent_tunix.data import synthetic_arithmetic
    from agent_tunix.models import ModelSpec, load_model, make_mesh
    from agent_tunix.warm_start import warm_start
    model, tok = load_model(ModelSpec(), make_mesh())
    monkeypatch.setattr(sys, "stderr", err := FakeTerminal())    # a terminal: Tunix would draw its own bar here
    warm_start(model, tok, synthetic_arithmetic(16), steps=4, batch_size=4)
    monkeypatch.undo()
    out = err.getvalue()
    assert "warm start: 100%" in out and "4/4" in out and "loss=" in out, out
    assert "Warm start" not in out and "Training" not in out, out  # Tunix's bar (its `pbar_description`) is folded into ours


def test_a_run_written_to_a_log_file_has_plain_lines_only(tmp_path):
    pytest.importorskip("tunix")
    pytest.importorskip("hydra")
    log = tmp_path / "run.log"
    args = ["training.max_steps=2", "training.batch_size=2", "grpo.num_generations=2", "generation.max_tokens_to_generate=8",
            "training.warm_start_steps=3", "training.warm_start_batch_size=4", f"training.warm_start_cache={tmp_path / 'ws'}",
            "data.num_train=16", "data.num_eval=4", "evaluate.num_samples=1", "training.eval_every_n_steps=1",
            "training.log_rewards=true", f"training.runs_dir={tmp_path / 'runs'}"]
    with open(log, "w") as f:   # as `python run_training.py ... > run.log 2>&1` (nohup, CI, a Kaggle script)
        p = subprocess.run([sys.executable, str(ROOT / "run_training.py"), *args], stdout=f, stderr=subprocess.STDOUT,
                           cwd=tmp_path, timeout=600, env={**os.environ, "JAX_PLATFORMS": "cpu"})
    text = log.read_text()
    assert p.returncode == 0, text[-3000:]
    assert "\r" not in text, text                                 # no bar redraws
    lines = text.splitlines()
    for phase in ("warm start: 100% 3/3 steps", "held-out before GRPO: 100% 2/2 calls", "GRPO: 100% 2/2 steps",
                  "held-out after GRPO"):
        assert any(line.startswith(phase) for line in lines), (phase, text)
    grpo = next(line for line in lines if line.startswith("GRPO: 100% 2/2 steps"))
    assert "match_format_exactly=" in grpo and "check_answer=" in grpo and "held-out=" in grpo   # per-reward means
    assert all(line.startswith("[train step") for line in lines if "[train step" in line)          # log lines whole
    assert "Actor Training" not in text and "Warm start" not in text                             # no Tunix bar
    assert "Skipping non-TPU device" not in text                                                  # no TPU notice on CPU
    assert not [line for line in lines if re.search(r"Warning|warn\(|DeprecationWarning", line)], text   # no warnings
