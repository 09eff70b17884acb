"""Hostile inputs: every built-in reward returns a finite float, never raises, and does bounded, linear work.

Inside a trainer a reward sees whatever a policy emits: nothing, a megabyte, tags that never close,
numbers with a million digits, `1e999999`, `1/0`, digits from other scripts, LaTeX nested 100 000
deep, control characters.  DESIGN.md ("The reward-function protocol", "Answers and numbers") asks
that a reward never raises on a completion, never returns NaN/inf, and never evaluates model text
as code.  These tests check that for each built-in reward on its own (not only through the
batch lift's fallback, which would hide a crash), with wall-clock bounds that are hang guards,
not speed tests, and a linearity check (a quadratic scan of a 1 MB input shows up as ~2500x).
"""

import builtins
import gc
import math
import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import agent_tunix
from agent_tunix.core import batch_reward
from agent_tunix.rewards import (check_answer, check_numbers, combined_reward, match_format_approximately,
                                 match_format_exactly)

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TAGS_FORMAT = "<reasoning>[TEXT]</reasoning><answer>[NUM]</answer>"

# Every reward, as a function of the response alone: name -> response -> float.
REWARDS = {
    "check_answer/number": lambda r: check_answer(r, "72"),
    "check_answer/int": lambda r: check_answer(r, 72),
    "check_answer/gsm8k": lambda r: check_answer(r, "Natalia sold 48+24 = <<48+24=72>>72 clips.\n#### 72"),
    "check_answer/text": lambda r: check_answer(r, "Paris"),
    "check_answer/gold_invalid": lambda r: check_answer(r, "1/0"),
    "match_format_exactly/default": lambda r: match_format_exactly(r),
    "match_format_exactly/tags": lambda r: match_format_exactly(r, TAGS_FORMAT),
    "match_format_exactly/hash": lambda r: match_format_exactly(r, "[TEXT]\n#### [INT]"),
    "match_format_approximately": lambda r: match_format_approximately(r),
    "check_numbers": lambda r: check_numbers(r, [72, "1/2", 0.5])["score"],
    "combined_reward": lambda r: combined_reward(r, "72"),
    "combined_reward/tags": lambda r: combined_reward(r, "Paris", TAGS_FORMAT),
}
# The range each reward promises (DESIGN.md, "Built-in rewards").
def _in_range(name: str, v: float) -> bool:
    if name.startswith(("check_answer", "match_format_exactly")): return v in (0.0, 0.5, 1.0)
    return 0.0 <= v <= 1.0


def _all_rewards(response: str) -> dict:
    "Every reward on `response`; each must be a finite float in its range."
    out = {}
    for name, fn in REWARDS.items():
        v = fn(response)
        assert isinstance(v, float) and math.isfinite(v), (name, v, response[:80])
        assert _in_range(name, v), (name, v, response[:80])
        out[name] = v
    return out


# ---------------------------------------------------------------------------------------------
# Short hostile inputs
# ---------------------------------------------------------------------------------------------
SHORT = {
    "empty": "",
    "space": "   \n\t ",
    "lone_backslash": "\\",
    "backslash_end": "The answer is 5 \\",
    "huge_exponent": "1e999999",
    "huge_negative_exponent": "1e-999999",
    "exp_overflow_in_slot": "<answer>1e999999</answer>",
    "times_ten_overflow": "<answer>1 \\times 10^{9999}</answer>",
    "divide_by_zero": "1/0",
    "zero_by_zero": "<answer>0/0</answer>",
    "frac_zero": "\\boxed{\\frac{1}{0}}",
    "nan": "NaN",
    "inf": "inf",
    "minus_inf": "The answer is -inf.",
    "nan_slot": "<answer>nan</answer>",
    "arabic_indic": "<answer>\u0667\u0662</answer>",      # ٧٢
    "fullwidth": "The answer is \uff17\uff12.",             # ７２
    "devanagari": "#### \u096d\u0968",                       # ७२
    "mixed_scripts": "<answer>1\u0662,\u0663\u0664\u0665</answer>",
    "superscripts": "x\u00b2 = \u00bd",
    "control_chars": "".join(chr(c) for c in range(32)) + "<answer>7\x002</answer>\x7f",
    "bidi": "\u202e<answer>72</answer>\u202c\u200b\ufeff",
    "unclosed_answer": "<answer>72",
    "close_only": "72</answer>",
    "reversed_tags": "</answer>72<answer>",
    "nested_tags": "<answer><answer>72</answer></answer>",
    "empty_tags": "<answer></answer><reasoning></reasoning>",
    "unclosed_boxed": "\\boxed{72",
    "boxed_no_brace": "\\boxed",
    "boxed_space": "\\boxed 72",
    "hash_only": "####",
    "answer_is_only": "The answer is",
    "answer_is_colon": "Final answer:",
    "thousand_digits": "9" * 5000,
    "thousand_digit_fraction": "1/" + "3" * 5000,
    "hundred_digits_times_1e300": "9" * 100 + "e300",
    "float_overflow_fraction": "9999999999e300/7",           # 1.4e309: exact, but too big for a float
    "float_overflow_in_slot": "<answer>9999999999e300/7</answer>",
    "tiny_fraction": "<answer>1e-300/" + "7" * 100 + "</answer>",
    "only_signs": "+-\u2212-+",
    "only_separators": ",,,{,}{,}\\,\\,",
    "only_currency": "$$$\\$\\$\u20ac\u00a3",
    "percent_storm": "%%%50%%%",
    "many_frac": "\\frac" * 1000,
    "frac_unclosed": "\\frac{1}{",
    "dfrac_digits": "\\dfrac12\\tfrac34",
    "equation_chain": "<answer>a = b = c = = = 7 = </answer>",
    "approx_chain": "<answer>\\approx\\approx 7 \\equiv</answer>",
}


@pytest.mark.parametrize("name", sorted(SHORT))
def test_short_hostile_inputs(name):
    _all_rewards(SHORT[name])


# ---------------------------------------------------------------------------------------------
# Long hostile inputs: a hang guard per reward and a linearity check per reward
# ---------------------------------------------------------------------------------------------
SMALL, LARGE = 20_000, 1_000_000   # characters; LARGE / SMALL == 50, so linear work grows ~50x

def _repeat(unit: str):
    return lambda n: unit * max(1, n // len(unit))

SHAPES = {
    "digits": _repeat("7"),
    "ones_comma": _repeat("1,"),                         # "1,"*200000 and longer
    "open_brace": _repeat("{"),                          # "{"*1_000_000
    "close_brace": _repeat("}"),
    "frac_nest": _repeat("\\frac{"),                     # 100k+ deep
    "boxed_nest": _repeat("\\boxed{"),                   # 100k+ deep
    "frac_nest_digits": _repeat("\\frac{1}{"),
    "open_tags": _repeat("<answer>"),
    "close_tags": _repeat("</answer>"),
    "unbalanced_tags": _repeat("<answer>1</answer></answer><answer>"),
    "answer_is": _repeat("The answer is "),
    "answer_is_hedge": _repeat("the answer is 5 or "),
    "backslashes": _repeat("\\"),
    "hashes": _repeat("#"),
    "dollars": _repeat("$"),
    "control": _repeat("\x00\x01\x07\x1b\r\x0b\x0c"),
    "newlines": _repeat("\n"),
    "arabic_digits": _repeat("\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669"),
    "fullwidth_digits": _repeat("\uff10\uff11\uff12\uff13"),
    "devanagari_digits": _repeat("\u0966\u0967\u0968"),
    "nan_inf_zero": _repeat("NaN inf 1e999999 1/0 "),
    "dense_numbers": _repeat("x = 3.5, "),
    "spaced_digits": _repeat("1 "),
    "slashes": _repeat("1/"),
    "percents": _repeat("1%"),
    "exponents": _repeat("1e"),
    "times_ten": _repeat("2\\times10^{"),
    "latex_noise": _repeat("\\left(\\frac{1}{2}\\right)\\,\\!{,}\\$"),
    "boxed_unclosed_digits": lambda n: "\\boxed{" + "9" * n,
    "answer_unclosed_numbers": lambda n: "<answer>" + "1 " * (n // 2),
    "number_then_prose": lambda n: "72 " + "x" * n,       # the last number sits at the very start
    "prose_then_backslash": lambda n: "x" * n + "\\",
    "reasoning_then_slot": lambda n: "Step: 3 + 4 = 7.\n" * (n // 17) + "<reasoning>ok</reasoning><answer>72</answer>",
}

HANG_GUARD_S = 2.0        # per reward call on a 1 MB input: a hang guard, not a speed test
# check_numbers reads *every* number of a response that has no answer slot (it is the one reward
# whose work is not bounded by a slot or a window): ~4 us per number, 2-3 s for 500 000 numbers
# in 1 MB on a small CI machine.  Linear, so not a hang; it gets a wider guard.
HANG_GUARD_CHECK_NUMBERS_S = 10.0
# 1 MB is 50x 20 kB, so linear work takes ~50x as long; a quadratic scan takes ~2500x.  Measured
# here: up to ~5x worse than linear (a 20 kB input stays in cache, 1 MB and its copies do not), so
# the bound is 10x linear (500x the small time), still 5x below quadratic.
LINEAR_SLACK = 10
FLOOR_S = 2e-4            # timings of the small input below this are noise


def _timed(fn, text: str) -> tuple:
    "(fn(text), seconds it took)"
    t = time.perf_counter()
    v = fn(text)
    return v, time.perf_counter() - t


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_long_hostile_inputs(shape):
    small, large = SHAPES[shape](SMALL), SHAPES[shape](LARGE)
    assert len(small) >= SMALL * 0.9 and len(large) >= LARGE * 0.9
    _all_rewards(small)
    gc.collect()
    for name, fn in REWARDS.items():
        t_small = min(_timed(fn, small)[1] for _ in range(3))
        v, t_large = _timed(fn, large)
        assert isinstance(v, float) and math.isfinite(v) and _in_range(name, v), (name, v)
        guard = HANG_GUARD_CHECK_NUMBERS_S if name == "check_numbers" else HANG_GUARD_S
        assert t_large < guard, f"{name} took {t_large:.2f} s on 1 MB of {shape!r}"
        bound, times = 50 * LINEAR_SLACK * max(t_small, FLOOR_S), [t_large]
        while min(times) >= bound and len(times) < 3: times.append(_timed(fn, large)[1])   # min of up to 3 runs
        assert min(times) < bound, (f"{name} on {shape!r}: {min(times) * 1e3:.1f} ms for {len(large)} chars vs "
                                    f"{t_small * 1e3:.2f} ms for {len(small)}: worse than linear")


# ---------------------------------------------------------------------------------------------
# Random text
# ---------------------------------------------------------------------------------------------
# Pieces that the parser gives meaning to, so random strings hit its corners far more often than
# uniformly random Unicode does.
TOKENS = ["<answer>", "</answer>", "<reasoning>", "</reasoning>", "\\boxed{", "\\fbox{", "{", "}", "\\frac",
          "\\dfrac", "####", "The answer is ", "answer:", "Answer =", " or ", "=", "\\approx", "\u2248", "\\times 10^",
          "\u00d7", "*", "**", "0", "1", "2", "5", "7", "9", "00", "300", ",", "{,}", "\\,", "\\!", ".", "/", "%",
          "\\%", "$", "\\$", "\u20ac", "-", "\u2212", "+", "e", "E", "-", " ", "\n", "\\", "(", ")", "\\left",
          "\\right", "\\(", "\\)", "\u0663", "\uff10", "\u0968", "nan", "inf", "x", "Paris", "\u00a0", "\u2009",
          "\x00", "<<", ">>"]
tokens_text = st.lists(st.sampled_from(TOKENS), max_size=60).map("".join)
any_text = st.one_of(st.text(max_size=300), tokens_text)   # st.text() draws no surrogates


@SETTINGS
@given(any_text)
def test_random_text_every_reward(text):
    _all_rewards(text)


@SETTINGS
@given(any_text, any_text)
def test_random_text_and_random_truth(response, truth):
    "Any string as the ground truth as well: it is read (or is gold_invalid), never raises."
    for v in (check_answer(response, truth), combined_reward(response, truth)):
        assert isinstance(v, float) and math.isfinite(v)


@SETTINGS
@given(st.lists(st.tuples(any_text, st.one_of(any_text, st.integers(), st.sampled_from(["72", "#### 72", "1,000"]))),
                min_size=1, max_size=8))
def test_batch_reward_on_random_text(rows):
    reward = batch_reward(check_answer)
    completions, answers = [r for r, _ in rows], [a for _, a in rows]
    out = reward(prompts=["q"] * len(rows), completions=completions, answer=answers)
    assert isinstance(out, list) and len(out) == len(rows)
    assert all(isinstance(v, float) and math.isfinite(v) and v in (0.0, 0.5, 1.0) for v in out)
    assert reward.failures == 0, reward.first_failure


# ---------------------------------------------------------------------------------------------
# Nothing in the reward path evaluates model text as code
# ---------------------------------------------------------------------------------------------
REWARD_PATH = ["parsing.py", "rewards.py", "core.py"]
_CODE_EVAL = re.compile(r"\beval\s*\(|\bexec\s*\(|sympify|sympy|parse_expr|__import__")


@pytest.mark.parametrize("module", REWARD_PATH)
def test_no_eval_in_reward_path(module):
    src = (Path(agent_tunix.__file__).parent / module).read_text(encoding="utf-8")
    hits = [(i + 1, line.strip()) for i, line in enumerate(src.splitlines()) if _CODE_EVAL.search(line)]
    assert not hits, f"{module} evaluates text as code: {hits}"


def test_rewards_never_call_eval_at_run_time(monkeypatch):
    "Belt and braces: with eval/exec made to fail, rewards still score expression-looking answers."
    def forbidden(*a, **k): raise AssertionError("eval/exec called from a reward")
    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    for r in ["<answer>__import__('os').system('true')</answer>", "<answer>2**100</answer>", "\\boxed{(9+1)}",
              "The answer is 6*7.", "<answer>72</answer>"]:
        _all_rewards(r)
    assert check_answer("<answer>6*7</answer>", "42") == 0.0     # never computed


# ---- Very long, number-dense completions: the answer is read from the end, so the verdict is right and the work
# stays bounded (figures for 1 MB and 10 MB: bench/hostile.py). Each shape says what the reward must conclude.
MB = 1_000_000
DENSE = [  # (shape, 1 MB completion, check_answer verdict against "1", check_numbers' matches for [1, 2])
    ("spaced_ones", " 1" * (MB // 2), (1.0, "correct"), [True, False]),            # last number: 1
    ("answer_words", "answer " * (MB // 7), (0.0, "no_answer"), [False, False]),     # no slot that reads, no number
    ("arabic_indic", "\u0661\u0662 " * (MB // 3), (0.0, "wrong"), [False, False]),  # the last number is 12
    ("zero_width_digits", "2\u200b" * (MB // 2), (0.0, "unparseable"), [False, False]),  # one number of 500k digits
    ("fractions", "1/" * (MB // 2) + "1", (1.0, "correct"), [True, False]),          # 1/1/1…: the last reads as 1/1
    ("answer_then_turns", "The answer is 1.\n" + "Question: x\nThe answer is 2.\n" * (MB // 30), (1.0, "correct"),
     [True, False]),                                                                  # every later turn is made up
]

@pytest.mark.parametrize("shape,text,verdict,matches", DENSE, ids=[d[0] for d in DENSE])
def test_long_number_dense_completions(shape, text, verdict, matches):
    d = check_answer.details(text, "1")
    assert (d.score, d.reason) == verdict
    assert check_numbers(text, [1, 2])["matches"] == matches
    assert len(check_numbers(text, [1])["extracted"]) <= 100
