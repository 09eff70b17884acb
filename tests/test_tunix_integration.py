"""The one-sample -> batch lift, proved inside Tunix's *real* reward manager.

Nothing here imitates Tunix: the reward manager is the class Tunix itself builds
(`function_registry.get_reward_manager(algo_config.reward_manager)`, i.e.
`tunix.rl.reward_manager.SequenceRewardManager`), it is called through the learner's own
`RLLearner._compute_rewards` (which injects `mode` and buffers the metrics), trajectory ids come
from `GRPOLearner._compute_trajectory_ids`, and advantages from Tunix's registered `grpo`
estimator.  The only thing mirrored by hand is the one line of `RLLearner._prepare_data` that
repeats every dataset column once per generation (`jax.tree.map(np.repeat(...))`), because that
method needs a rollout model.  No model, no accelerator: CPU only, a few seconds.
"""

import os

os.environ["JAX_PLATFORMS"] = "cpu"  # before jax/tunix are imported

import functools
import logging
import math

import pytest

pytest.importorskip("tunix")

import numpy as np  # noqa: E402
from tunix.rl import function_registry, reward_manager  # noqa: E402
from tunix.rl.rl_cluster import Mode  # noqa: E402

from agent_tunix.core import batch_reward  # noqa: E402
from agent_tunix.rewards import check_answer, combined_reward, match_format_exactly  # noqa: E402

from conftest import COMPLETIONS, DATASET_BATCH, G, MetricsSink, compute_rewards, make_config, make_manager, metric, tunix_batch  # noqa: E402,F401

# The contract's values for these eight completions.
EXPECTED_CHECK = [1.0, 0.5, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0]
EXPECTED_FORMAT = [1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0]
# combined_reward's defaults: alpha=0.3 (format) + beta=0.7 (answer)
EXPECTED_COMBINED = [0.3 * f + 0.7 * c for f, c in zip(EXPECTED_FORMAT, EXPECTED_CHECK)]


def flaky_reward(response, answer):
    """A user reward with bugs: raises on an empty completion, NaN when the number is too big."""
    if not response:
        raise ValueError("empty completion")
    if "12" in response:
        return float("nan")
    return 0.25


EXPECTED_FLAKY = [0.25, 0.25, 0.25, 0.0, 0.25, 0.25, 0.0, 0.25]  # fallback 0.0 on rows 3 and 6


# ---------------------------------------------------------------------------------------------
# (a) lifted rewards inside the real reward manager


def test_tunix_builds_its_sequence_reward_manager():
    config = make_config()
    manager = make_manager([batch_reward(check_answer)], config)
    assert type(manager) is reward_manager.SequenceRewardManager
    assert config.reward_manager == "sequence-level"


@pytest.mark.parametrize("mode", [Mode.TRAIN, Mode.EVAL])
def test_lifted_rewards_inside_tunix_reward_manager(mode, caplog):
    flaky = batch_reward(flaky_reward)
    fns = [batch_reward(check_answer), batch_reward(combined_reward), flaky]
    with caplog.at_level(logging.DEBUG):
        rewards, metrics, logged_mode = compute_rewards(fns, mode=mode)

    # The broken reward did not abort the step: its two bad rows became the fallback.
    assert flaky.failures == 2
    flaky_logs = [r for r in caplog.records if "flaky_reward" in r.getMessage()]
    assert len(flaky_logs) == 1, [r.getMessage() for r in caplog.records]

    # Tunix logs one metric per reward function, keyed by the function's __name__.
    assert logged_mode is mode
    assert set(metrics) == {
        "prompts", "completions",
        "rewards/sum", "rewards/mean", "rewards/min", "rewards/max",
        "rewards/check_answer", "rewards/combined_reward", "rewards/flaky_reward",
    }
    for key, expected in [("rewards/check_answer", EXPECTED_CHECK),
                          ("rewards/combined_reward", EXPECTED_COMBINED),
                          ("rewards/flaky_reward", EXPECTED_FLAKY)]:
        values, agg = metric(metrics, key)
        np.testing.assert_allclose(values, expected, err_msg=key)
        assert agg is np.mean
        assert np.isfinite(values).all()

    # The learner gets the per-row sum over reward functions (what advantages are built from).
    expected_sum = np.array(EXPECTED_CHECK) + np.array(EXPECTED_COMBINED) + np.array(EXPECTED_FLAKY)
    assert isinstance(rewards, np.ndarray) and rewards.shape == (2 * G,)
    np.testing.assert_allclose(rewards, expected_sum)
    np.testing.assert_allclose(metric(metrics, "rewards/sum")[0], expected_sum)
    np.testing.assert_allclose(metric(metrics, "rewards/mean")[0], expected_sum / 3)
    # min / max are across the reward functions for each row, not across the batch.
    per_fn = np.stack([EXPECTED_CHECK, EXPECTED_COMBINED, EXPECTED_FLAKY], axis=1)
    np.testing.assert_allclose(metric(metrics, "rewards/min")[0], per_fn.min(axis=1))
    np.testing.assert_allclose(metric(metrics, "rewards/max")[0], per_fn.max(axis=1))
    assert list(metrics["completions"][0]) == COMPLETIONS
    assert list(metrics["prompts"][0]) == list(np.repeat(DATASET_BATCH["prompts"], G))

    # And Tunix's own GRPO advantage estimator turns them into finite, group-centred advantages.
    advantages = np.asarray(function_registry.get_advantage_estimator("grpo")(
        rewards=rewards, num_generations=G))
    assert np.isfinite(advantages).all()
    np.testing.assert_allclose(advantages.reshape(2, G).sum(axis=1), 0.0, atol=1e-5)


def test_lift_equals_applying_the_one_sample_function_row_by_row():
    """Whatever the manager passes, each row gets fn(completion, that row's answer)."""
    rewards, metrics, _ = compute_rewards([batch_reward(check_answer), batch_reward(combined_reward)])
    answers = np.repeat(DATASET_BATCH["answer"], G)
    np.testing.assert_allclose(metric(metrics, "rewards/check_answer")[0],
                               [check_answer(c, a) for c, a in zip(COMPLETIONS, answers)])
    np.testing.assert_allclose(metric(metrics, "rewards/combined_reward")[0],
                               [combined_reward(c, a) for c, a in zip(COMPLETIONS, answers)])
    np.testing.assert_allclose([match_format_exactly(c, "The answer is [NUM].") for c in COMPLETIONS],
                               EXPECTED_FORMAT)


def test_renamed_and_partial_rewards_log_under_their_given_name():
    half = batch_reward(functools.partial(combined_reward, alpha=0.5, beta=0.5), name="combined_half")
    _, metrics, _ = compute_rewards([half])
    assert "rewards/combined_half" in metrics
    np.testing.assert_allclose(metric(metrics, "rewards/combined_half")[0],
                               [0.5 * f + 0.5 * c for f, c in zip(EXPECTED_FORMAT, EXPECTED_CHECK)])


def test_algo_config_fields_are_not_injected_into_our_parameters():
    """Tunix fills reward parameters whose names match a GRPOConfig field (e.g. `beta`, the KL
    coefficient) from the config.  combined_reward has its own `beta` (answer weight): the lift
    must not let Tunix's KL beta leak into it."""
    config = make_config(beta=0.0)
    _, metrics, _ = compute_rewards([batch_reward(combined_reward)], config=config)
    np.testing.assert_allclose(metric(metrics, "rewards/combined_reward")[0], EXPECTED_COMBINED)


def test_tunix_does_inject_config_fields_into_a_raw_reward():
    """The trap the previous test guards against, shown on a raw batch reward."""
    seen = {}

    def weighted(prompts, completions, beta=0.7, **kwargs):
        seen["beta"] = beta
        return [0.0] * len(completions)

    compute_rewards([weighted], config=make_config(beta=0.04))
    assert seen["beta"] == 0.04


def test_what_tunix_passes_to_a_reward():
    """The kwargs our lift must cope with: numpy columns, trajectory_ids and mode."""
    seen = {}

    def spy(prompts, completions, **kwargs):
        seen.update(prompts=prompts, completions=completions, **kwargs)
        return [0.0] * len(completions)

    compute_rewards([spy], mode=Mode.TRAIN)
    assert set(seen) == {"prompts", "completions", "answer", "trajectory_ids", "mode"}
    assert isinstance(seen["prompts"], np.ndarray) and seen["prompts"].dtype.kind == "U"
    assert isinstance(seen["answer"], np.ndarray) and seen["answer"].dtype.kind == "U"
    assert list(seen["answer"]) == ["4"] * G + ["6"] * G
    assert isinstance(seen["answer"][0], np.str_)
    assert seen["trajectory_ids"] == [f"{r}_{g}" for r in range(2) for g in range(G)]
    assert seen["mode"] == "train"
    assert isinstance(seen["completions"], list)


# ---------------------------------------------------------------------------------------------
# (b) without the lift, the same mistakes abort Tunix's reward step


def _raw_raises(prompts, completions, answer, **kwargs):
    return [flaky_reward(c, a) for c, a in zip(completions, answer)]


def _raw_none(prompts, completions, **kwargs):
    return None


def _raw_short(prompts, completions, **kwargs):
    return [1.0] * (len(completions) - 1)


@pytest.mark.parametrize("raw, exc, match", [
    # a one-sample function handed to Tunix as-is: Tunix calls it with prompts=, completions=
    (check_answer, TypeError, "prompts"),
    # a batch reward whose body raises on one row: the exception escapes the manager
    (_raw_raises, ValueError, "empty completion"),
    # a reward that returns None
    (_raw_none, RuntimeError, "Result is None"),
    # a reward that returns the wrong number of values
    (_raw_short, RuntimeError, "Length mismatch"),
    # a functools.partial has no __name__: the manager crashes building its metric name
    (functools.partial(_raw_short), AttributeError, "__name__"),
], ids=["one-sample-fn-as-is", "raises", "returns-None", "wrong-length", "partial-without-name"])
def test_raw_rewards_abort_inside_tunix(raw, exc, match):
    with pytest.raises(exc, match=match):
        compute_rewards([batch_reward(check_answer), raw])


@pytest.mark.parametrize("one_sample", [
    flaky_reward,
    lambda response, answer: None,
    lambda response, answer: 1 / 0,
], ids=["raises-and-nan", "returns-None", "ZeroDivisionError"])
def test_the_same_mistakes_lifted_do_not_abort(one_sample):
    lifted = batch_reward(one_sample, name="user_reward", fallback=-1.0)
    rewards, metrics, _ = compute_rewards([lifted])
    values = metric(metrics, "rewards/user_reward")[0]
    assert values.shape == (2 * G,) and np.isfinite(values).all()
    assert lifted.failures == int((values == -1.0).sum()) > 0


def test_tunix_silently_zeroes_nan_and_none_elements():
    """Surprise documented: a NaN or None *element* does not abort; it is logged as NaN but
    summed as 0 (np.nansum), so a broken row quietly gets a neutral reward."""

    def raw(prompts, completions, **kwargs):
        return [None, float("nan")] + [1.0] * (len(completions) - 2)

    # a row whose only reward is NaN also trips numpy's "Mean of empty slice" in rewards/mean
    with pytest.warns(RuntimeWarning, match="Mean of empty slice"):
        rewards, metrics, _ = compute_rewards([raw])
    values = metric(metrics, "rewards/raw")[0]
    assert math.isnan(values[0]) and math.isnan(values[1])
    np.testing.assert_allclose(rewards, [0.0, 0.0] + [1.0] * (2 * G - 2))


def test_tunix_refuses_a_dataset_column_named_mode():
    """GRPOLearner passes `mode=mode, **columns`, so a `mode` column dies at that call with a
    TypeError (RLLearner._compute_rewards' own ValueError for it is never reached)."""
    batch = dict(DATASET_BATCH, mode=np.array(["a", "b"]))
    with pytest.raises(TypeError, match="multiple values for keyword argument 'mode'"):
        compute_rewards([batch_reward(check_answer)], dataset_batch=batch)


# ---------------------------------------------------------------------------------------------
# (c) numpy columns of numpy str_ (and other dtypes Tunix may hand over)


@pytest.mark.parametrize("answers", [
    np.array(["4", "6"]),  # <U1: elements are np.str_
    np.array([np.str_("4"), np.str_("6")], dtype=object),
    np.array(["4", "6"], dtype="<U16"),
], ids=["unicode", "object-of-str_", "wide-unicode"])
def test_numpy_str_columns(answers):
    batch = {"prompts": DATASET_BATCH["prompts"], "answer": answers}
    rewards, metrics, _ = compute_rewards(
        [batch_reward(check_answer), batch_reward(combined_reward)], dataset_batch=batch)
    np.testing.assert_allclose(metric(metrics, "rewards/check_answer")[0], EXPECTED_CHECK)
    np.testing.assert_allclose(metric(metrics, "rewards/combined_reward")[0], EXPECTED_COMBINED)


def test_a_ground_truth_column_is_used_directly():
    batch = {"prompts": DATASET_BATCH["prompts"], "ground_truth": DATASET_BATCH["answer"]}
    _, metrics, _ = compute_rewards([batch_reward(check_answer)], dataset_batch=batch)
    np.testing.assert_allclose(metric(metrics, "rewards/check_answer")[0], EXPECTED_CHECK)
