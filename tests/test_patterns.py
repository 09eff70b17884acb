"""Properties of the reward patterns that read badly as notebook examples, and reward specs inside Tunix's real reward manager.

- Hypothesis: every pattern stays inside its documented range and returns a finite float on arbitrary
  text (including text built from the pieces that parsers trip over); `arithmetic_steps` agrees with an
  independent exact recomputation; `RunningNormalizer` equals the statistics of the whole stream however it
  is split into batches.
- Tunix: `reward_fns(spec)` inside the reward manager Tunix builds, called through `RLLearner._compute_rewards`
  (helpers in `conftest.py`; these tests are skipped where Tunix is not installed, the others run everywhere): one metric per component, named as documented, no
  GRPO config field leaking into a reward's settings, and eval batches leaving normalisation statistics alone.
"""

import math
import pickle
import statistics
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import COMPLETIONS, DATASET_BATCH, compute_rewards, make_config, metric, needs_tunix

from agent_tunix.core import batch_reward
from agent_tunix.patterns import (RunningNormalizer, arithmetic_steps, binary_reward, combined_reward_fn,
                                  composite_reward, continuous_reward, count_reasoning_steps, curriculum_reward,
                                  floored_reward, graduated_reward, length_penalty, multitask_reward,
                                  normalized_reward, reward_fns, robust_reward, shaped_reward)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text made of the pieces parsers trip over, mixed with arbitrary unicode.
PIECES = ["The answer is ", "<answer>", "</answer>", "<reasoning>", "</reasoning>", "#### ", "\\boxed{", "}",
          " = ", " + ", " - ", " * ", " / ", " × ", "\\times", "1,000", "3.14", "-7", "1/0", "1e999", "50%",
          "$", "Step 1:", "\n", "- ", " ", "or", "72", "0", "nan", "inf"]
texts = st.one_of(st.text(max_size=300), st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
truths = st.one_of(st.sampled_from(["72", "0", "-3.5", "1/2", "50%", "Paris", "", "nan", "1/0", "#### 18"]),
                   st.integers(-10**6, 10**6).map(str), st.fractions(max_denominator=50).map(str))

# (pattern, lowest possible score, highest possible score) with the settings used here
SHAPED = shaped_reward()
PATTERNS = [
    (binary_reward(), 0.0, 1.0),
    (graduated_reward(), 0.0, 1.0),
    (graduated_reward([(0, 3.0), (0.1, 0.5)], wrong=-1.0, no_answer=-2.0), -2.0, 3.0),
    (continuous_reward(), 0.0, 1.0),
    (continuous_reward(5, relative=False), 0.0, 1.0),
    (composite_reward({"check_answer": 2, "match_format_exactly": 1, "match_format_approximately": 1}), 0.0, 1.0),
    (SHAPED, 0.0 - 0.5 - 0.5, 1.0 + 4 * 0.05),
    (robust_reward(otherwise=-0.5), -0.5, 1.0),
    (floored_reward(SHAPED, minimum=-0.2), -0.2, 1.2),
    (curriculum_reward([(0, "match_format_exactly"), (10, "check_answer")], blend_steps=5), 0.0, 1.0),
    (multitask_reward({"math": "check_answer", "format": "match_format_exactly"}), 0.0, 1.0),
]


@SETTINGS
@given(text=texts, truth=truths, step=st.integers(0, 20), task=st.sampled_from(["math", "format"]))
def test_patterns_stay_in_range_and_finite(text, truth, step, task):
    for reward, lo, hi in PATTERNS:
        lifted = batch_reward(reward)
        score, = lifted(None, [text], answer=[truth], step=[step], task=[task])
        assert isinstance(score, float) and math.isfinite(score), (reward, text, truth)
        assert lo - 1e-12 <= score <= hi + 1e-12, (reward, text, truth, score)
        assert lifted.failures == 0, (reward, lifted.first_failure)


@SETTINGS
@given(text=texts, truth=truths)
def test_weighted_specs_are_the_weighted_sum_of_their_parts(text, truth):
    spec = {"check_answer": 0.7, "match_format_exactly": 0.3}
    parts = [f(None, [text], answer=[truth])[0] for f in reward_fns(spec)]
    both, = combined_reward_fn(spec)(None, [text], answer=[truth])
    assert both == pytest.approx(sum(parts))
    assert 0.0 <= both <= 1.0


@SETTINGS
@given(text=texts, per_100=st.floats(0, 5), free=st.integers(0, 500), cap=st.floats(0, 10))
def test_length_penalty_range(text, per_100, free, cap):
    p = length_penalty(text, per_100, free, cap)
    assert -cap <= p <= 0.0 and math.isfinite(p)


@SETTINGS
@given(text=texts)
def test_reasoning_steps_never_exceed_lines(text):
    assert 0 <= count_reasoning_steps(text) <= len(text.splitlines())


OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b}


@SETTINGS
@given(a=st.integers(0, 10**6), b=st.integers(0, 10**6), op=st.sampled_from(["+", "-", "*", "/"]),
       wrong_by=st.integers(-3, 3), prefix=st.text(alphabet="abc ,.\n", max_size=10))
def test_arithmetic_steps_agree_with_exact_recomputation(a, b, op, wrong_by, prefix):
    if op == "/" and b == 0:
        right = None
    else:
        right = OPS[op](Fraction(a), Fraction(b))
    if right is not None and right.denominator != 1:
        return  # results with infinitely many decimals are covered by the notebook's rounding cases
    claimed = (right if right is not None else 0) + wrong_by
    if claimed < 0:
        return  # a negative result is written "-5", which the step pattern reads; not what this test is about
    text = f"{prefix} {a} {op} {b} = {int(claimed)} so"
    steps = arithmetic_steps(text)
    assert len(steps) == 1, (text, steps)
    assert steps[0].correct == (right is not None and wrong_by == 0), text


@SETTINGS
@given(text=texts)
def test_arithmetic_steps_never_raise(text):
    for s in arithmetic_steps(text):
        assert isinstance(s.correct, bool)


@SETTINGS
@given(xs=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=60), cuts=st.lists(st.integers(0, 60), max_size=6),
       clip=st.floats(0.1, 10))
def test_running_normalizer_equals_whole_stream_statistics(xs, cuts, clip):
    rn = RunningNormalizer(clip)
    bounds = sorted({0, len(xs), *[c for c in cuts if c <= len(xs)]})
    for lo, hi in zip(bounds, bounds[1:]):
        rn.update(xs[lo:hi])
    assert rn.count == len(xs)
    assert rn.mean == pytest.approx(statistics.fmean(xs), rel=1e-9, abs=1e-6)
    assert rn.std == pytest.approx(statistics.pstdev(xs), rel=1e-6, abs=1e-6)
    assert all(-clip <= z <= clip for z in rn.normalize(xs))


def test_every_pattern_pickles_by_value():
    for reward, _, _ in PATTERNS + [(normalized_reward("check_answer"), -3, 3)]:
        again = pickle.loads(pickle.dumps(reward))
        assert again.__name__ == reward.__name__


# ---------------------------------------------------------------------------------------------
# Inside Tunix's real reward manager

def test_builtins_are_registered_after_importing_only_core():
    "Importing `agent_tunix.core` alone is enough: the first lookup loads the built-in rewards and the patterns."
    code = ("import sys, agent_tunix.core as core\n"
            "assert 'agent_tunix.rewards' not in sys.modules\n"
            "print(core.get_reward_function('check_answer').__module__)\n"
            "print(' '.join(core.list_reward_functions()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    module, names = out.stdout.splitlines()
    assert module == "agent_tunix.rewards"
    assert {"check_answer", "match_format_exactly", "combined_reward", "binary_answer", "robust_answer"} <= set(names.split())


def test_listing_first_finds_the_builtins_and_a_clash_with_one_fails_at_once():
    code = ("import agent_tunix.core as core\n"
            "assert 'graduated_answer' in core.list_reward_functions()\n"
            "try: core.register_reward_function('check_answer', lambda response: 1.0)\n"
            "except ValueError as e: print(e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "already registered" in out.stdout



@needs_tunix
def test_reward_specs_inside_tunix_reward_manager():
    spec = [{"name": "check_answer", "weight": 0.7},
            {"name": "match_format_exactly", "weight": 0.3},
            {"name": "combined_reward", "kwargs": {"alpha": 0.0, "beta": 1.0}, "log_as": "answer_only"}]
    config = make_config(beta=0.5)  # GRPO's KL beta must not reach combined_reward's beta
    rewards, metrics, _ = compute_rewards(reward_fns(spec), config=config)
    check = metric(metrics, "rewards/check_answer_x0.7")[0]
    fmt = metric(metrics, "rewards/match_format_exactly_x0.3")[0]
    only = metric(metrics, "rewards/answer_only")[0]
    np.testing.assert_allclose(check, [0.7, 0.35, 0.0, 0.0, 0.7, 0.7, 0.0, 0.0])
    np.testing.assert_allclose(fmt, [0.3, 0.3, 0.0, 0.0, 0.3, 0.0, 0.3, 0.0])
    np.testing.assert_allclose(only, check / 0.7)  # beta=1.0 as bound, not GRPO's 0.5
    np.testing.assert_allclose(rewards, check + fmt + only)


@needs_tunix
def test_combined_spec_and_patterns_inside_tunix_reward_manager():
    fns = [combined_reward_fn({"check_answer": 0.7, "match_format_exactly": 0.3}, name="seed_mix"),
           batch_reward(graduated_reward()), batch_reward(robust_reward())]
    rewards, metrics, _ = compute_rewards(fns)
    assert {"rewards/seed_mix", "rewards/graduated_reward", "rewards/robust_check_answer"} <= set(metrics)
    np.testing.assert_allclose(metric(metrics, "rewards/seed_mix")[0], [1.0, 0.65, 0.0, 0.0, 1.0, 0.7, 0.3, 0.0])
    assert np.isfinite(rewards).all()


@needs_tunix
def test_normalized_reward_keeps_statistics_out_of_eval_batches():
    from tunix.rl.rl_cluster import Mode
    norm = normalized_reward("check_answer")
    compute_rewards([norm], mode=Mode.TRAIN)
    assert norm.stats.count == len(COMPLETIONS)
    _, metrics, _ = compute_rewards([norm], mode=Mode.EVAL)
    assert norm.stats.count == len(COMPLETIONS)
    values = metric(metrics, "rewards/normalized_check_answer")[0]
    assert np.isfinite(values).all() and abs(values.mean()) < 1e-9   # the same batch, standardised by its own stats
    assert len(DATASET_BATCH["answer"]) * 4 == len(values)


def test_hydra_config_nodes_are_specs():
    omegaconf = pytest.importorskip("omegaconf")
    cfg = omegaconf.OmegaConf.create({
        "as_list": [{"name": "check_answer", "weight": 0.7},
                    {"name": "match_format_exactly", "weight": 0.3, "kwargs": {"expected_format": "<answer>[NUM]</answer>"}}],
        "as_mapping": {"check_answer": 0.7, "match_format_exactly": 0.3},
        "typo": [{"name": "check_answer", "wieght": 0.7}]})
    assert [f.__name__ for f in reward_fns(cfg.as_list)] == ["check_answer_x0.7", "match_format_exactly_x0.3"]
    assert reward_fns(cfg.as_list)[1](None, ["<answer>7</answer>", "7"]) == [0.3, 0.0]
    assert [f.__name__ for f in reward_fns(cfg.as_mapping)] == ["check_answer_x0.7", "match_format_exactly_x0.3"]
    with pytest.raises(ValueError, match="unknown keys"):
        reward_fns(cfg.typo)
