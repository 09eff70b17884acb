"""A few GRPO steps of the tiny built-in model through Tunix's real GRPOLearner, on CPU.

Asserts what the training path promises: every reward is called by Tunix with the dataset's columns
(`answer`, one value per completion), the per-function rewards are recorded and printed per step, and a
bad configuration stops the run before any model is built.
"""

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")  # before jax/tunix are imported

import io

import numpy as np
import pytest

pytest.importorskip("tunix")
pytest.importorskip("hydra")

from agent_tunix import train as T  # noqa: E402
from agent_tunix.core import register_reward_function  # noqa: E402
from agent_tunix.data import synthetic_arithmetic  # noqa: E402

CALLS = []  # (answer column, completions) per call of `spy_reward`


def spy_reward(response, answer, prompt="", metadata=None):
    """A test reward: records what Tunix handed it, scores 1.0 for an even-length completion."""
    CALLS.append((answer, response, dict(metadata or {})))
    return float(len(response) % 2 == 0)


register_reward_function("spy_reward", spy_reward, overwrite=True)

STEPS, BATCH = 3, 2


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("analysis")
    cfg = T.compose_config([
        "training.reward_function=[check_answer,match_format_exactly,spy_reward]",
        f"training.max_steps={STEPS}", f"training.batch_size={BATCH}",
        "training.log_rewards=true", "training.save_reward_analysis=true", f"training.analysis_dir={out}",
        "grpo.max_tokens_to_generate=8", "grpo.num_generations=4", "training.warm_start_steps=0",
    ])
    run = T.validate_config(cfg)
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
    for answer, response, metadata in CALLS:
        assert isinstance(answer, str) and answer in answers  # the `answer` column, one value per completion
        assert isinstance(response, str)
        assert {"answer", "question", "mode", "trajectory_ids"} <= set(metadata)  # the other columns too
        assert metadata["mode"] == "train"
    # the answers arrive in groups of g, one group per prompt, as Tunix repeats each row per generation
    per_step = [a for a, _, _ in CALLS[: BATCH * g]]
    assert all(len(set(per_step[i:i + g])) == 1 for i in range(0, len(per_step), g))


def test_rewards_are_logged_per_function_and_step(trained):
    run, _, log, printed, _ = trained
    names = ["check_answer", "match_format_exactly", "spy_reward"]
    assert sorted(log.means()) == names
    assert all(len(v) == STEPS for v in log.means().values())
    for r in log.stats:
        assert r["min"] <= r["mean"] <= r["max"] and r["std"] >= 0 and r["n"] == BATCH * run.grpo.num_generations
    for name in names:
        for step in range(1, STEPS + 1):
            assert f"[train step {step}] {name}: min " in printed
    spy = [r for r in log.stats if r["reward"] == "spy_reward"]
    expected = [np.mean([len(c) % 2 == 0 for _, c, _ in CALLS[i * BATCH * 4:(i + 1) * BATCH * 4]]) for i in range(STEPS)]
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
])
def test_bad_config_stops_before_any_model(override, says, monkeypatch):
    built = []
    monkeypatch.setattr(T, "load_model", lambda *a, **k: built.append(1))
    with pytest.raises(T.ConfigError, match=says):
        T.validate_config(T.compose_config([override]))
    assert not built


def test_both_override_forms():
    for form in ("training.reward_function=check_answer", "+training.reward_function=check_answer"):
        assert T.validate_config(T.compose_config([form])).reward_names == ["check_answer"]
