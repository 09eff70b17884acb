#!/usr/bin/env python
"""Throughput and scaling benchmark for `agent_tunix.rewards`.

Run from the repository root:

    python bench/rewards.py            # full run: 100,000 completions, 2,000 for Math-Verify
    python bench/rewards.py --quick    # smoke test: 5,000 completions, 300 for Math-Verify
    python bench/rewards.py --n 20000 --mv-n 500 --seed 1 --repeat 1

It prints figures only; nothing here asserts on timing.

What is measured
----------------
* OURS: `check_answer(response, gold)`, `match_format_exactly(response, fmt)` for the tag
  format (and the "The answer is [NUM]." format), and `combined_reward(response, gold,
  expected_format=fmt)`, each called once per completion over the whole corpus.
* BASELINE A, "demo": the answer check of Tunix's GSM8K GRPO demo notebook, re-implemented
  below from its description (see `demo_check_answer`).
* BASELINE B, Math-Verify 0.9: `verify(parse(gold), parse(response))`, per completion, on a
  uniform random subset of the same corpus (it is ~1000x slower, so the whole corpus would not
  fit the time budget). Called from the main thread with its default signal-based timeouts.

* ROLLOUTS: the same functions of ours on GRPO-shaped rows from `agent_tunix.analysis.simulate_rollouts`
  (the seeded generator the notebooks, tests and bench/score.py share), with the share scored 1.0 per
  kind of completion.
* BATCH: `check_answer_batch` and `combined_reward_batch` over the whole corpus in one call, and the lifted
  `batch_reward(check_answer)` and `batch_reward(combined_reward)` (which call `.batch` once per batch) in batches of 64.
* SCALING: per-call time by length bucket; for a bucket, the functions' passes are taken in turns (round-robin),
  as in THROUGHPUT, so that the ratios of one bucket are measured under the same load.
* GOALS: the ratios the speed goals name (check_answer vs the demo per length bucket and on the corpus,
  combined_reward vs the demo, check_answer vs Math-Verify), with the load average.

All rates are completions per second, single process, single thread, measured with
`time.perf_counter` after a warm-up pass; with `--repeat k` the best of k passes is reported.

The corpus
----------
Not rollouts but a format-coverage corpus: each row is one way of writing (or failing to write) an
answer, with the verdict a strict grader should give; it is kept here because it measures the parser,
not a policy. A deterministic (seeded `random`) corpus of GSM8K-style completions with gold answers in GSM8K's
own form (plain number strings such as "72", "1234", "12.5"). Each row belongs to one category;
`CATEGORIES` below lists the categories, their weights, and the verdict a strict numeric
grader should give ("expect": True = correct, False = wrong, None = debatable, not scored).

    correct answers in many formats ....... 63 %
    wrong answers ......................... 15 %
    near misses (within 10 %, not equal) ..  7 %
    hedges ("4 or 5", "between 40 and 42")   5 %
    malformed (none / unbalanced / empty /
      truncated / two answers) ............ 10 %

Independently of category, the reasoning length is drawn per row: ~94.5 % short (2-12
sentences, ~150-900 chars), 5 % medium (1k-10k chars) and 0.5 % long (10k-100k chars). With the
default N=100,000 the corpus holds ~100 MB of text.
"""
from __future__ import annotations

import argparse
import gc
import logging
import math
import os
import platform
import random
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from fractions import Fraction
from pathlib import Path

TAG_FMT = "<reasoning>[TEXT]</reasoning><answer>[NUM]</answer>"
SENTENCE_FMT = "The answer is [NUM]."

# ---------------------------------------------------------------------------------------------
# Corpus generation
# ---------------------------------------------------------------------------------------------

# name: (weight in %, expected verdict of a strict numeric grader)
CATEGORIES: dict[str, tuple[float, bool | None]] = {
    # --- correct answers (63 %) ---
    "ok_tags": (20.0, True),          # <reasoning>..</reasoning><answer>42</answer>
    "ok_tags_ws": (3.0, True),        # same, with spaces/newlines around the parts
    "ok_answer_is": (8.0, True),      # "... The answer is 42."
    "ok_hash": (6.0, True),           # "... #### 42"
    "ok_boxed": (8.0, True),          # "... \boxed{42}"
    "ok_money": (4.0, True),          # "$1,234.50" for gold 1234.5
    "ok_units": (4.0, True),          # "18 dollars" / "18 apples"
    "ok_fraction": (3.0, True),       # "3/4" for gold 0.75
    "ok_decimal": (3.0, True),        # "12.50" / "42.0" for gold 12.5 / 42
    "ok_commas": (4.0, True),         # "1,234" inside the tags for gold 1234
    # --- wrong answers (15 %) ---
    "wrong_tags": (9.0, False),
    "wrong_answer_is": (3.0, False),
    "wrong_boxed": (3.0, False),
    # --- near misses: within 10 % of the gold, not equal (7 %) ---
    "near_tags": (5.0, False),
    "near_answer_is": (2.0, False),
    # --- hedges containing the right number (5 %) ---
    "hedge_tags": (3.0, False),       # <answer>4 or 5</answer>
    "hedge_text": (2.0, False),       # "The answer is either 41 or 42."
    # --- malformed (10 %) ---
    "no_answer": (3.0, False),        # reasoning with numbers, no final answer
    "unbalanced": (3.0, None),        # missing/misordered closing tags, answer is right
    "empty": (1.0, False),            # "" or whitespace
    "truncated": (1.5, False),        # cut off mid-reasoning (max-token truncation)
    "two_answers": (1.5, None),       # <answer>wrong</answer> ... <answer>right</answer>
}
assert abs(sum(w for w, _ in CATEGORIES.values()) - 100.0) < 1e-9

# Reasoning length classes, independent of category: name: (weight %, char range)
LENGTHS = {"short": (94.5, None), "medium": (5.0, (1_000, 10_000)), "long": (0.5, (10_000, 100_000))}

NAMES = ["Janet", "Tom", "Maria", "Ahmed", "Li", "Sofia", "Ravi", "Olga", "Ken", "Aisha",
         "Carlos", "Emma", "Yuki", "Noah", "Fatima", "Liam"]
ITEMS = ["apples", "eggs", "marbles", "books", "pencils", "cookies", "stickers", "cupcakes",
         "tickets", "shells", "cards", "balloons"]
OPS = [("+", lambda a, b: a + b), ("-", lambda a, b: a - b), ("*", lambda a, b: a * b)]


def _sentence(rng: random.Random) -> str:
    """One GSM8K-flavoured reasoning sentence with numbers in it."""
    k = rng.randrange(6)
    n, it = rng.choice(NAMES), rng.choice(ITEMS)
    a, b = rng.randint(2, 99), rng.randint(2, 60)
    if k == 0:
        return f"{n} has {a} {it} and buys {b} more, so {n} has {a} + {b} = {a + b} {it}."
    if k == 1:
        return f"{n} gives away {b} of the {a + b} {it}, leaving {a + b} - {b} = {a} {it}."
    if k == 2:
        return f"Each box holds {a} {it}, and there are {b} boxes, so {a} * {b} = {a * b}."
    if k == 3:
        return f"At ${a}.{rng.randint(0, 99):02d} each, {b} {it} cost a total we compute next."
    if k == 4:
        sym, f = rng.choice(OPS)
        return f"First compute {a} {sym} {b} = {f(a, b)}."
    return f"Half of {2 * a} is {a}, and {a}% of 200 is {2 * a}."


def _reasoning(rng: random.Random, pool: list[str], lclass: str) -> str:
    if lclass == "short":
        return " ".join(rng.choice(pool) for _ in range(rng.randint(2, 12)))
    lo, hi = LENGTHS[lclass][1]
    target = rng.randint(lo, hi)
    parts, size = [], 0
    while size < target:  # ~70 chars a sentence; newlines every few sentences
        chunk = " ".join(rng.choices(pool, k=8))
        parts.append(chunk)
        size += len(chunk) + 1
    return "\n".join(parts)[:target]


def _gold(rng: random.Random, cat: str) -> tuple[str, float]:
    """A GSM8K-style gold answer string and its value."""
    if cat == "ok_money":
        cents = rng.choice([0, 25, 50, 75, 5, 99, 10])
        v = rng.randint(1, 99_999) + cents / 100
        return _plain(v), v
    if cat in ("ok_fraction",):
        den = rng.choice([2, 4, 5, 8, 10, 20, 25])
        num = rng.randint(1, 3 * den)
        while Fraction(num, den).denominator == 1:
            num = rng.randint(1, 3 * den)
        v = num / den
        return _plain(v), v
    if cat in ("near_tags", "near_answer_is"):
        v = rng.randint(20, 5_000)
        return str(v), float(v)
    if cat == "ok_commas":
        v = rng.randint(1_000, 2_000_000)
        return str(v), float(v)
    r = rng.random()
    if r < 0.08:  # decimals, as in GSM8K's few non-integer golds
        v = rng.randint(1, 999) + rng.choice([0.5, 0.25, 0.75, 0.2])
        return _plain(v), v
    if r < 0.10:
        v = -rng.randint(1, 500)
        return str(v), float(v)
    if r < 0.60:
        v = rng.randint(0, 100)
    elif r < 0.95:
        v = rng.randint(101, 10_000)
    else:
        v = rng.randint(10_001, 5_000_000)
    return str(v), float(v)


def _plain(v: float) -> str:
    """GSM8K-style rendering: integers without '.0', otherwise shortest decimal."""
    return str(int(v)) if float(v).is_integer() else repr(round(v, 6))


def _commas(v: float) -> str:
    if float(v).is_integer():
        return f"{int(v):,}"
    return f"{v:,.2f}"


def _wrong(rng: random.Random, v: float) -> str:
    """A number more than 20 % away from v (and from 0 when v == 0)."""
    while True:
        w = rng.choice([rng.randint(0, 200), rng.randint(0, 20_000), int(v * rng.choice([2, 3, 10])) + 1,
                        int(v / 2) - 3])
        if v == 0 and w != 0:
            return str(w)
        if v != 0 and abs(w / v - 1) > 0.2:
            return str(w)


def _near(rng: random.Random, v: float) -> str:
    """A different integer within 10 % of v (v >= 20)."""
    d = max(1, round(abs(v) * rng.uniform(0.01, 0.09)))
    return str(int(v + rng.choice([-1, 1]) * d))


def _tags(reason: str, ans: str, ws: bool = False, rng: random.Random | None = None) -> str:
    if ws:
        sp = lambda: rng.choice(["", " ", "\n", "\n\n", "  "])  # noqa: E731
        return f"{sp()}<reasoning>{sp()}{reason}{sp()}</reasoning>{sp()}<answer>{sp()}{ans}{sp()}</answer>{sp()}"
    return f"<reasoning>{reason}</reasoning>{rng.choice(['', chr(10)]) if rng else ''}<answer>{ans}</answer>"


def make_row(rng: random.Random, pool: list[str], cat: str, lclass: str) -> tuple[str, str]:
    """Return (completion, gold) for one row of category `cat`."""
    gold, v = _gold(rng, cat)
    R = _reasoning(rng, pool, lclass)
    g = gold
    if cat == "ok_tags":
        return _tags(R, g, rng=rng), gold
    if cat == "ok_tags_ws":
        return _tags(R, g, ws=True, rng=rng), gold
    if cat == "ok_answer_is":
        phr = rng.choice(["The answer is {}.", "So the answer is {}.", "The final answer is {}",
                          "Therefore, the answer is {}."])
        return f"{R} {phr.format(g)}", gold
    if cat == "ok_hash":
        return f"{R}\n#### {g}", gold
    if cat == "ok_boxed":
        return rng.choice([f"{R} The answer is $\\boxed{{{g}}}$.", f"{R}\n\\boxed{{{g}}}",
                           f"{R} So we get \\[\\boxed{{{g}}}\\]"]), gold
    if cat == "ok_money":
        m = f"${_commas(v)}"
        return rng.choice([f"{R} The answer is {m}.", _tags(R, m, rng=rng), f"{R} She paid {m} in total."
                           f" The answer is {m}."]), gold
    if cat == "ok_units":
        unit = rng.choice(["dollars", rng.choice(ITEMS), "minutes", "km"])
        return rng.choice([f"{R} The answer is {g} {unit}.", _tags(R, f"{g} {unit}", rng=rng)]), gold
    if cat == "ok_fraction":
        f = Fraction(gold)
        fs = f"{f.numerator}/{f.denominator}"
        return rng.choice([_tags(R, fs, rng=rng), f"{R} The answer is {fs}."]), gold
    if cat == "ok_decimal":
        ds = f"{v:.2f}" if rng.random() < 0.5 else f"{v:.1f}" if (v * 10).is_integer() else f"{v:.2f}"
        return rng.choice([_tags(R, ds, rng=rng), f"{R} The answer is {ds}."]), gold
    if cat == "ok_commas":
        return _tags(R, _commas(v), rng=rng), gold
    if cat == "wrong_tags":
        return _tags(R, _wrong(rng, v), rng=rng), gold
    if cat == "wrong_answer_is":
        return f"{R} The answer is {_wrong(rng, v)}.", gold
    if cat == "wrong_boxed":
        return f"{R} \\boxed{{{_wrong(rng, v)}}}", gold
    if cat == "near_tags":
        return _tags(R, _near(rng, v), rng=rng), gold
    if cat == "near_answer_is":
        return f"{R} The answer is {_near(rng, v)}.", gold
    if cat in ("hedge_tags", "hedge_text"):
        other = str(int(v) + rng.choice([-2, -1, 1, 2])) if v.is_integer() else _plain(v + 1)
        a, b = (g, other) if rng.random() < 0.5 else (other, g)
        # (no "a/b" form: it is a fraction, not a hedge)
        h = rng.choice([f"{a} or {b}", f"either {a} or {b}", f"between {a} and {b}", f"{a} (or maybe {b})",
                        f"{a} or possibly {b}"])
        if cat == "hedge_tags":
            return _tags(R, h, rng=rng), gold
        return f"{R} The answer is {h}.", gold
    if cat == "no_answer":
        return rng.choice([R, f"<reasoning>{R}</reasoning>", f"{R} I am not sure how to finish this."]), gold
    if cat == "unbalanced":
        return rng.choice([f"<reasoning>{R}</reasoning><answer>{g}",
                           f"<reasoning>{R}<answer>{g}</answer>",
                           f"<reasoning>{R}</reasoning><answer>{g}</reasoning>",
                           f"{R}</reasoning><answer>{g}</answer>",
                           f"<reasoning>{R}</reasoning>\n<answer>{g}</answer></answer>"]), gold
    if cat == "empty":
        return rng.choice(["", " ", "\n", "\n\n  \t"]), gold
    if cat == "truncated":
        full = _tags(R, g, rng=rng)
        cut = rng.randint(0, max(0, full.index("</reasoning>") - 1))
        return full[:cut], gold
    if cat == "two_answers":
        return (f"<reasoning>{R}</reasoning><answer>{_wrong(rng, v)}</answer>\nWait, let me recheck."
                f" <answer>{g}</answer>"), gold
    raise ValueError(cat)


def make_corpus(n: int, seed: int):
    """Deterministic corpus: lists of completions, golds, categories and length classes."""
    rng = random.Random(seed)
    pool = [_sentence(rng) for _ in range(4000)]
    cats, cw = list(CATEGORIES), [w for w, _ in CATEGORIES.values()]
    lcs, lw = list(LENGTHS), [w for w, _ in LENGTHS.values()]
    comps, golds, rcats, rlens = [], [], [], []
    for _ in range(n):
        cat = rng.choices(cats, cw)[0]
        lc = rng.choices(lcs, lw)[0]
        c, g = make_row(rng, pool, cat, lc)
        comps.append(c), golds.append(g), rcats.append(cat), rlens.append(lc)
    return comps, golds, rcats, rlens, pool


# ---------------------------------------------------------------------------------------------
# Baseline A: the answer check of Tunix's GSM8K GRPO demo notebook (re-implemented from its
# description). An anchored, DOTALL|MULTILINE pattern -- optional leading whitespace, a
# non-empty <reasoning> block, anything, then <answer>(captured, non-greedy)</answer> and only
# whitespace to the end of a line -- extracts the answer. No match scores 0. Otherwise:
# exact string equality 3.0; equality after stripping 1.5; else the ratio float(guess) /
# float(gold) scores 0.5 in [0.9, 1.1], 0.25 in [0.8, 1.2] and -1.0 outside; when the float
# conversion (or the division) fails the demo applies its "incorrect format" penalty, -0.5.
# ---------------------------------------------------------------------------------------------
DEMO_RE = re.compile(r"^[\s]{0,}<reasoning>.+?</reasoning>.*?<answer>(.+?)</answer>[\s]{0,}$",
                     flags=re.MULTILINE | re.DOTALL)


def demo_check_answer(response: str, gold: str) -> float:
    m = DEMO_RE.search(response)
    if m is None:
        return 0.0
    guess = m.group(1)
    if guess == gold:
        return 3.0
    if guess.strip() == gold.strip():
        return 1.5
    try:
        ratio = float(guess) / float(gold)
    except (ValueError, ZeroDivisionError, OverflowError):
        return -0.5
    if 0.9 <= ratio <= 1.1:
        return 0.5
    if 0.8 <= ratio <= 1.2:
        return 0.25
    return -1.0


def demo_match_format(response: str) -> float:
    """The demo's exact-format reward: 3.0 when the same pattern matches."""
    return 3.0 if DEMO_RE.search(response) is not None else 0.0


# ---------------------------------------------------------------------------------------------
# Baseline B: Math-Verify
# ---------------------------------------------------------------------------------------------
class _CountTimeouts(logging.Filter):
    """Count (and swallow) Math-Verify's timeout warnings, which echo the whole input."""

    def __init__(self):
        super().__init__()
        self.n = 0

    def filter(self, record):
        if "Timeout" in record.getMessage()[:40]:
            self.n += 1
        return False


_LAST_ANSWER_TAG = re.compile(r"<answer>(.*?)(?:</answer>|\Z)", re.DOTALL)


def answer_slot(response: str) -> str:
    """The content of the last <answer> tag, or the whole response when there is none (used
    only for the "MV on the answer slot" variant: Math-Verify's default extraction does not
    know about <answer> tags)."""
    k = response.rfind("<answer>")
    if k < 0:
        return response
    m = _LAST_ANSWER_TAG.match(response, k)
    return m.group(1)


def run_math_verify(comps, golds, idx, slot_only=False):
    """Math-Verify per completion on rows `idx`: verify(parse(gold), parse(response)).
    Returns verdicts, per-row seconds, (parse gold, parse response, verify) seconds, timeouts."""
    from math_verify import parse, verify

    counter = _CountTimeouts()
    for name in ("math_verify", "math_verify.parser", "math_verify.grader"):
        logging.getLogger(name).addFilter(counter)
    # warm-up (imports sympy/latex2sympy paths lazily)
    for r, g in [("The answer is 42.", "42"), ("\\boxed{3/4}", "0.75"), ("x", "1")]:
        verify(parse(g), parse(r))
    pc = time.perf_counter
    per_row, parts, verdicts = [], [], []
    for i in idx:
        t0 = pc()
        pg = parse(golds[i])
        t1 = pc()
        pr = parse(answer_slot(comps[i]) if slot_only else comps[i])
        t2 = pc()
        ok = verify(pg, pr)
        t3 = pc()
        per_row.append(t3 - t0)
        parts.append((t1 - t0, t2 - t1, t3 - t2))
        verdicts.append(bool(ok))
    for name in ("math_verify", "math_verify.parser", "math_verify.grader"):
        logging.getLogger(name).removeFilter(counter)
    return verdicts, per_row, parts, counter.n


# ---------------------------------------------------------------------------------------------
# Timing helpers
# ---------------------------------------------------------------------------------------------
def time_passes(fns, comps, golds, repeat, log=print):
    """Time one list-comprehension pass of each function over the corpus, `repeat` rounds,
    round-robin (so load from other processes hits every function alike); keep the best pass.
    Returns {name: (seconds, results)}."""
    best = {name: (float("inf"), None) for name in fns}
    for rnd in range(repeat):
        for name, fn in fns.items():
            gc.collect()
            t0 = time.perf_counter()
            out = [fn(c, g) for c, g in zip(comps, golds)]
            dt = time.perf_counter() - t0
            if dt < best[name][0]:
                best[name] = (dt, out)
            if log:
                log(f"  round {rnd + 1}/{repeat}: {name:<40} {dt:8.3f}s  {fmt_rate(len(comps) / dt):>12} completions/s")
    return best


def time_group(fn, items, min_time=0.2, max_reps=50):
    """Seconds per call of fn over `items` (a list of (completion, gold)); the best of several
    measurements, which is the figure least disturbed by other processes.

    Several items: a warm-up call on a few, then whole passes over the group (at least 2) until
    `min_time` is spent; the fastest pass divided by the group size is returned. One item:
    repeated calls (at least 3, unless a call takes over a second) until `min_time` is spent;
    the fastest call is returned.
    """
    pc = time.perf_counter
    if len(items) == 1:
        (c, g), best, spent, reps = items[0], float("inf"), 0.0, 0
        while reps < max_reps:
            t0 = pc()
            fn(c, g)
            dt = pc() - t0
            best, spent, reps = min(best, dt), spent + dt, reps + 1
            if (reps >= 3 and spent >= min_time) or dt > 1.0:
                break
        return best
    for c, g in items[:3]:
        fn(c, g)
    best, spent, reps = float("inf"), 0.0, 0
    while reps < max_reps:
        t0 = pc()
        for c, g in items:
            fn(c, g)
        dt = pc() - t0
        best, spent, reps = min(best, dt), spent + dt, reps + 1
        if reps >= 2 and spent >= min_time:
            break
    return best / len(items)


def time_round_robin(fns, items, min_time=0.2, min_rounds=3, max_rounds=50):
    """Seconds per call of each function over `items`, passes taken in turns (one pass of each function a round), so
    that a burst of load from other processes falls on every function alike; the fastest pass of each is returned.
    Rounds continue until every function has spent `min_time` (at least `min_rounds`, at most `max_rounds`)."""
    pc = time.perf_counter
    for fn in fns.values():   # warm-up
        for c, g in items[:3]:
            fn(c, g)
    best, spent = {k: float("inf") for k in fns}, {k: 0.0 for k in fns}
    for rnd in range(max_rounds):
        for name, fn in fns.items():
            t0 = pc()
            for c, g in items:
                fn(c, g)
            dt = pc() - t0
            best[name], spent[name] = min(best[name], dt), spent[name] + dt
        if rnd + 1 >= min_rounds and min(spent.values()) >= min_time:
            break
    return {k: v / len(items) for k, v in best.items()}


def fmt_rate(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def short(s, k=200):
    s = repr(s)
    return s if len(s) <= k else s[: k - 20] + " ... " + s[-15:]


# ---------------------------------------------------------------------------------------------
# Measurements: one function each; `main` runs them in order
# ---------------------------------------------------------------------------------------------
def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000, help="corpus size (default 100,000)")
    ap.add_argument("--mv-n", type=int, default=2_000, help="Math-Verify subset size (default 2,000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3, help="timed passes per function; best is kept")
    ap.add_argument("--quick", action="store_true", help="smoke test: --n 5000 --mv-n 300 --repeat 1")
    ap.add_argument("--no-mv", action="store_true", help="skip Math-Verify")
    a = ap.parse_args(argv)
    if a.quick:
        a.n, a.mv_n, a.repeat = 5_000, 300, 1
    return a


def print_header(a):
    print("=" * 100)
    print("agent_tunix reward benchmark")
    print(f"Python {sys.version.split()[0]} ({platform.python_implementation()}) on {platform.platform()}")
    print(f"machine: {platform.machine()}, processor: {platform.processor() or '?'}, "
          f"cpus: {os.cpu_count()}")
    print(f"args: n={a.n:,} mv_n={a.mv_n:,} seed={a.seed} repeat={a.repeat}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          "(other busy processes make absolute rates noisy; ratios come from round-robin passes)")


def load_ours() -> dict:
    """Our reward functions as `fn(completion, gold)`, or {} when agent_tunix is not importable."""
    try:
        from agent_tunix.rewards import check_answer, combined_reward, match_format_exactly
        import agent_tunix.rewards as _r
    except Exception as e:  # noqa: BLE001 -- still benchmark the baselines
        print(f"!! agent_tunix.rewards not importable ({type(e).__name__}: {e}); baselines only")
        return {}
    print(f"agent_tunix.rewards: {_r.__file__}")
    return {
        "ours check_answer": check_answer,
        "ours match_format_exactly(tags)": lambda r, g: match_format_exactly(r, TAG_FMT),
        "ours match_format_exactly(sentence)": lambda r, g: match_format_exactly(r, SENTENCE_FMT),
        "ours combined_reward(tags)": lambda r, g: combined_reward(r, g, expected_format=TAG_FMT),
    }


def build_corpus(a):
    """The corpus, with its size, categories and length classes printed."""
    t = time.perf_counter()
    comps, golds, cats, lcls, pool = make_corpus(a.n, a.seed)
    tot = sum(map(len, comps))
    print(f"corpus: {a.n:,} completions, {tot / 1e6:,.1f} MB of text, generated in "
          f"{time.perf_counter() - t:.1f}s; mean {tot / a.n:,.0f} chars, max {max(map(len, comps)):,}")
    cc, lc = Counter(cats), Counter(lcls)
    print("  categories: " + ", ".join(f"{k} {cc[k] / a.n:.1%}" for k in CATEGORIES))
    print("  lengths:    " + ", ".join(f"{k} {lc[k]:,}" for k in LENGTHS))
    print("-" * 100)
    return comps, golds, cats, lcls, pool


def measure_throughput(fns, comps, golds, a):
    """Every function over the whole corpus, after a warm-up: (results, completions/s) per function."""
    warm = min(2000, a.n)
    for name, fn in fns.items():  # warm-up: caches, lazily compiled patterns
        for c, g in zip(comps[:warm], golds[:warm]):
            fn(c, g)
    timed = time_passes(fns, comps, golds, a.repeat, log=lambda m: print(m, flush=True))
    return {k: v[1] for k, v in timed.items()}, {k: a.n / v[0] for k, v in timed.items()}


def measure_math_verify(fns, comps, golds, a, rates):
    """Math-Verify on a uniform subset (adds its rates to `rates`); every function on the same subset.
    Returns (mv, same-subset rates), or (None, None) when skipped."""
    if a.no_mv or a.mv_n <= 0:
        return None, None
    idx = sorted(random.Random(a.seed + 1).sample(range(a.n), min(a.mv_n, a.n)))
    t = time.perf_counter()
    verdicts, per_row, parts, n_to = run_math_verify(comps, golds, idx)
    mv = dict(idx=idx, verdicts=verdicts, per_row=per_row, parts=parts, timeouts=n_to)
    rates["Math-Verify verify(parse(g), parse(r)) (B)"] = len(idx) / sum(per_row)
    resp_only = sum(p[1] + p[2] for p in parts)
    rates["Math-Verify, gold pre-parsed (B')"] = len(idx) / resp_only
    print(f"  timed Math-Verify on {len(idx):,} rows: {time.perf_counter() - t:.1f}s wall, "
          f"{n_to} timeouts", flush=True)
    t = time.perf_counter()
    v2, pr2, parts2, n_to2 = run_math_verify(comps, golds, idx, slot_only=True)
    mv.update(slot_verdicts=v2, slot_per_row=pr2, slot_timeouts=n_to2)
    rates["Math-Verify on the <answer> slot only (B*)"] = len(idx) / sum(pr2)
    print(f"  timed Math-Verify on the answer slot: {time.perf_counter() - t:.1f}s wall, "
          f"{n_to2} timeouts", flush=True)
    # every function on exactly the same subset (for a same-rows ratio)
    sub_c, sub_g = [comps[i] for i in idx], [golds[i] for i in idx]
    sub_rates = {k: len(idx) / v[0] for k, v in time_passes(fns, sub_c, sub_g, max(a.repeat, 3), log=None).items()}
    return mv, sub_rates


def print_throughput(rates, mv, sub_rates, a):
    print()
    print("THROUGHPUT (single thread, one call per completion)")
    print(f"  {'function':<46}{'rows':>9}{'completions/s':>16}{'µs/completion':>16}")
    for name, r in rates.items():
        rows = a.n if not name.startswith("Math-Verify") else len(mv["idx"])
        print(f"  {name:<46}{rows:>9,}{fmt_rate(r):>16}{1e6 / r:>16,.1f}")
    print("  (B*: not what the brief times; Math-Verify's default extraction ignores <answer> tags, so B* feeds it\n"
          "   the last <answer> slot instead -- a fairer judge for the agreement check below.)" if mv else "", end="")
    print()
    if mv:
        print(f"  (same {len(mv['idx']):,}-row subset: " + ", ".join(
            f"{k.split(' (')[0]} {fmt_rate(v)}/s" for k, v in sub_rates.items()) + ")")


def print_ratios(rates, mv, sub_rates, ours):
    print()
    print("RATIOS (>1 means ours is faster)")
    demo = rates["demo check_answer (baseline A)"]
    if ours:
        print(f"  ours check_answer / demo check_answer ........... {rates['ours check_answer'] / demo:8.2f}x")
        print(f"  ours combined_reward / demo check_answer ........ "
              f"{rates['ours combined_reward(tags)'] / demo:8.2f}x")
        print(f"  ours match_format_exactly / demo match_format ... "
              f"{rates['ours match_format_exactly(tags)'] / rates['demo match_format (baseline A)']:8.2f}x")
        if mv:
            mvr = rates["Math-Verify verify(parse(g), parse(r)) (B)"]
            print(f"  ours check_answer / Math-Verify .................. {rates['ours check_answer'] / mvr:8.0f}x"
                  f"   (same-subset: {sub_rates['ours check_answer'] / mvr:,.0f}x)")
            print(f"  ours combined_reward / Math-Verify ............... "
                  f"{rates['ours combined_reward(tags)'] / mvr:8.0f}x"
                  f"   (same-subset: {sub_rates['ours combined_reward(tags)'] / mvr:,.0f}x)")
            mvr2 = rates["Math-Verify, gold pre-parsed (B')"]
            print(f"  ours check_answer / Math-Verify(gold pre-parsed)  {rates['ours check_answer'] / mvr2:8.0f}x")
    if mv:
        pr = sorted(mv["per_row"])
        q = lambda p: pr[min(len(pr) - 1, int(p * len(pr)))] * 1e6  # noqa: E731
        print(f"  Math-Verify per-row µs: median {q(0.5):,.0f}, p90 {q(0.9):,.0f}, p99 {q(0.99):,.0f}, "
              f"max {pr[-1] * 1e6:,.0f}; share parse(gold)/parse(resp)/verify = "
              + "/".join(f"{sum(p[j] for p in mv['parts']) / sum(pr):.0%}" for j in range(3)))


def _length_bucket(n: int) -> str:
    return "<1k" if n < 1_000 else "1k-10k" if n < 10_000 else "10k-100k"


def _cell(s, mlen):
    return f"{s * 1e6:>11,.1f} {s * 1e6 / max(mlen, 1) * 1000:>11,.2f}"


def scaling_functions(fns, ours) -> dict:
    """The functions timed by length: each once (no sentence format), combined_reward last."""
    scal_fns = {k: v for k, v in fns.items() if "sentence" not in k and "combined" not in k}
    if ours:
        scal_fns["ours combined_reward(tags)"] = fns["ours combined_reward(tags)"]
    return scal_fns


def measure_scaling(scal_fns, comps, golds, pool, a):
    """Per-call time by completion length: the corpus' length classes, then 1 MB completions.
    Returns {group: {function: seconds per call}}."""
    print()
    print("SCALING WITH LENGTH (best pass, per completion; µs/KB = µs per 1,000 chars)")
    buckets = defaultdict(list)
    for c, g in zip(comps, golds):
        buckets[_length_bucket(len(c))].append((c, g))
    rng = random.Random(a.seed + 2)
    mb_reason = "\n".join(" ".join(rng.choices(pool, k=8)) for _ in range(1_000_000 // 500))[:1_000_000]
    synth = {
        "1MB tags, right": [(f"<reasoning>{mb_reason}</reasoning><answer>42</answer>", "42")],
        "1MB 'answer is'": [(f"{mb_reason} The answer is 42.", "42")],
        "1MB no answer": [(mb_reason, "42")],
        "1MB unclosed": [(f"<reasoning>{mb_reason}</reasoning><answer>42", "42")],
    }
    groups = [(b, buckets[b]) for b in ("<1k", "1k-10k", "10k-100k") if buckets[b]]
    groups += list(synth.items())
    times = {}   # group -> {function: seconds per call}
    hdr = "".join(f"{k.replace('(baseline A)', '').replace('ours ', '').strip()[:22]:>24}" for k in scal_fns)
    print(f"  {'group':<26}{'rows':>7}{'mean chars':>12}{hdr}")
    print(f"  {'':<45}" + "".join(f"{'µs/call  µs/KB':>24}" for _ in scal_fns))
    for gname, items in groups:
        if len(items) > 3000:
            items = random.Random(a.seed + 3).sample(items, 3000)
        mlen = sum(len(c) for c, _ in items) / len(items)
        secs = (time_round_robin(scal_fns, items) if len(items) > 1 else
                {name: time_group(fn, items, min_time=0.05) for name, fn in scal_fns.items()})
        times[gname] = secs
        cells = [_cell(x, mlen) for x in secs.values()]
        print(f"  {gname:<26}{len(items):>7,}{mlen:>12,.0f}" + "".join(f"{c:>24}" for c in cells), flush=True)
    return times


# Adversarial shapes (repeated tags, no closing tag) at growing sizes, to expose super-linear
# scans. A size is skipped ("skip") for a function when extrapolating its last two sizes
# (or, from a single size, assuming cubic growth) predicts more than ADV_BUDGET seconds.
ADV_BUDGET = 10.0
ADVERSARIAL = {
    "adv '<answer>1'*k": lambda k: ("<reasoning>r</reasoning>" + "<answer>1" * (k // 9), "1"),
    "adv 'x</reasoning>'*k": lambda k: ("<reasoning>" + "x</reasoning>" * (k // 13), "1"),
    "adv '\\n<r>a</r><answer>'*k": lambda k: ("\n<reasoning>a</reasoning><answer>" * (k // 34), "1"),
}


def _adversarial_cell(fn, hist, c, g, size):
    """One table cell for `fn` on (c, g), or a skip when its growth predicts more than ADV_BUDGET; updates `hist`."""
    h = hist
    if len(h) >= 2 and h[-1][1] > 0 and h[-2][1] > 0:
        expo = max(1.0, math.log(h[-1][1] / h[-2][1]) / math.log(h[-1][0] / h[-2][0]))
    else:
        expo = 3.0
    if h and h[-1][1] * (size / h[-1][0]) ** expo > ADV_BUDGET:
        return None
    s = time_group(fn, [(c, g)], min_time=0.02)
    h.append((len(c), s))
    return _cell(s, len(c))


def measure_adversarial(scal_fns):
    """Per-call time on adversarial shapes of 1k, 10k and 100k characters (rows of the scaling table)."""
    for nm, mk in ADVERSARIAL.items():
        hist = {name: [] for name in scal_fns}   # (size, seconds); None once skipped
        for size in (1_000, 10_000, 100_000):
            c, g = mk(size)
            cells = []
            for name, fn in scal_fns.items():
                if hist[name] is None:
                    cells.append(f"{'skip':>23}")
                    continue
                got = _adversarial_cell(fn, hist[name], c, g, size)
                if got is None:
                    hist[name] = None
                    got = f"{'skip (pred. >' + format(ADV_BUDGET, '.0f') + 's)':>23}"
                cells.append(got)
            print(f"  {nm + ' ' + format(size // 1000) + 'k':<26}{1:>7}{len(c):>12,}" + "".join(f"{x:>24}" for x in cells),
                  flush=True)


def print_math_verify_scaling(mv, comps):
    per_b = defaultdict(list)
    for i, s in zip(mv["idx"], mv["per_row"]):
        per_b[_length_bucket(len(comps[i]))].append((s, len(comps[i])))
    print("  Math-Verify on its subset: " + "; ".join(
        f"{b}: {len(v)} rows, {statistics.mean(x for x, _ in v) * 1e6:,.0f} µs/call, "
        f"{sum(x for x, _ in v) * 1e9 / max(1, sum(L for _, L in v)):,.1f} µs/KB"
        for b, v in sorted(per_b.items(), key=lambda kv: ("<1k", "1k-10k", "10k-100k").index(kv[0]))))


def print_verdicts(results, cats, comps, golds, mv, ours, n):
    """The share judged correct per category, by each grader, and ours' mismatches with a strict grader."""
    print()
    print("VERDICTS BY CATEGORY (share judged correct; 'expect' = what a strict numeric grader should say)")
    cols = []
    if ours:
        cols.append(("ours ==1", [x == 1.0 for x in results["ours check_answer"]]))
        cols.append(("fmt==1", [x == 1.0 for x in results["ours match_format_exactly(tags)"]]))
    cols.append(("demo ==3", [x == 3.0 for x in results["demo check_answer (baseline A)"]]))
    cols.append(("demo >0", [x > 0 for x in results["demo check_answer (baseline A)"]]))
    mvv = dict(zip(mv["idx"], mv["verdicts"])) if mv else {}
    print(f"  {'category':<16}{'expect':>7}{'rows':>8}" + "".join(f"{c:>11}" for c, _ in cols)
          + (f"{'MV (subset)':>16}" if mv else ""))
    by_cat = defaultdict(list)
    for i, c in enumerate(cats):
        by_cat[c].append(i)
    for cat, (_, exp) in CATEGORIES.items():
        ii = by_cat[cat]
        if not ii:
            continue
        row = f"  {cat:<16}{str(exp):>7}{len(ii):>8,}"
        row += "".join(f"{sum(v[i] for i in ii) / len(ii):>11.1%}" for _, v in cols)
        if mv:
            mi = [i for i in ii if i in mvv]
            row += f"{(sum(mvv[i] for i in mi) / len(mi)) if mi else float('nan'):>10.1%} ({len(mi):>3})"
        print(row)
    if ours:
        print_mismatches(results["ours check_answer"], cols[0][1], cats, comps, golds, n)


def print_mismatches(scores, correct, cats, comps, golds, n):
    bad = [(i, cats[i]) for i in range(n) if CATEGORIES[cats[i]][1] is not None
           and correct[i] != CATEGORIES[cats[i]][1]]
    print(f"  ours check_answer vs 'expect': {len(bad):,} mismatches out of "
          f"{sum(CATEGORIES[c][1] is not None for c in cats):,} scored rows "
          f"({Counter(c for _, c in bad).most_common(8)})")
    shown = Counter()
    for i, c in bad:
        if shown[c] < 2 and sum(shown.values()) < 12:
            shown[c] += 1
            print(f"    [{c}] gold={golds[i]!r} ours={scores[i]!r} "
                  f"resp={short(comps[i])}")


def print_agreement(o, mv, cats, comps, golds):
    """Agreement of ours check_answer == 1.0 with Math-Verify's verdicts, and examples of disagreement."""
    for label, verd in (("Math-Verify (B, whole response)", mv["verdicts"]),
                        ("Math-Verify on the <answer> slot (B*)", mv["slot_verdicts"])):
        print()
        pairs = list(zip(mv["idx"], verd))
        tt = sum(1 for i, v in pairs if v and o[i] == 1.0)
        tf = sum(1 for i, v in pairs if v and o[i] != 1.0)
        ft = sum(1 for i, v in pairs if not v and o[i] == 1.0)
        n_ag = len(pairs) - tf - ft
        print(f"AGREEMENT ours check_answer==1.0 vs {label} on {len(pairs):,} rows: {n_ag / len(pairs):.1%}"
              f"  (both correct {tt}, MV-only correct {tf}, ours-only correct {ft}, "
              f"both not correct {len(pairs) - tt - tf - ft})")
        dis = [(i, v) for i, v in pairs if (o[i] == 1.0) != v]
        print(f"  disagreements by category: {Counter(cats[i] for i, _ in dis).most_common()}")
        by = defaultdict(list)   # up to 5 examples, spread over categories
        for i, v in dis:
            by[cats[i]].append((i, v))
        shown = 0
        while shown < 5 and any(by.values()):
            for c in list(by):
                if by[c] and shown < 5:
                    i, v = by[c].pop(0)
                    shown += 1
                    print(f"  - [{c}] gold={golds[i]!r} ours={o[i]!r} MV={v} resp={short(comps[i])}")


def measure_rollouts(ours, a):
    """Our rewards on GRPO-shaped rows from `agent_tunix.analysis.simulate_rollouts` (the generator the notebooks,
    tests and bench/score.py use): completions/s and, per kind of completion, the share check_answer scores 1.0."""
    if not ours:
        return
    from agent_tunix.analysis import simulate_rollouts
    rows = list(simulate_rollouts(max(1, a.n // 8), 8, long_share=0.01, seed=a.seed))
    comps, golds = [r["completion"] for r in rows], [r["answer"] for r in rows]
    timed = time_passes(ours, comps, golds, a.repeat, log=None)
    print()
    print(f"SIMULATED ROLLOUTS ({len(rows):,} rows of simulate_rollouts, 8 per prompt, 1 % long)")
    print("  " + ", ".join(f"{k.replace('ours ', '')} {fmt_rate(len(rows) / v[0])}/s" for k, v in timed.items()))
    by_kind = defaultdict(list)
    for r, s in zip(rows, timed["ours check_answer"][1]):
        by_kind[r["kind"]].append(s == 1.0)
    print("  check_answer == 1.0 by kind: " + ", ".join(f"{k} {sum(v) / len(v):.1%} ({len(v)})" for k, v in by_kind.items()))


def measure_batch(comps, golds, demo_rate, a):
    """The batch entry points on the whole corpus: `check_answer_batch` (one call for all completions) and the lifted
    `check_answer` a trainer calls (`batch_reward`, which calls `check_answer.batch` once per batch of 64). Returns rates."""
    try:
        from agent_tunix.core import batch_reward
        from agent_tunix.rewards import check_answer, check_answer_batch
    except ImportError:   # an older agent_tunix without a batch entry point
        return {}
    lifted, k = batch_reward(check_answer), 64
    runs = {"ours check_answer_batch (one call)": lambda: check_answer_batch(comps, golds),
            "ours batch_reward(check_answer), batches of 64": lambda: [
                lifted(None, comps[i:i + k], answer=golds[i:i + k]) for i in range(0, len(comps), k)]}
    try:
        from agent_tunix.rewards import combined_reward, combined_reward_batch
    except ImportError:   # an older agent_tunix without it
        combined_reward = None
    if combined_reward is not None:
        lifted_c = batch_reward(combined_reward)
        runs["ours combined_reward_batch(tags) (one call)"] = lambda: combined_reward_batch(comps, golds, TAG_FMT)
        runs["ours batch_reward(combined_reward)(tags), batches of 64"] = lambda: [
            lifted_c(None, comps[i:i + k], answer=golds[i:i + k], expected_format=TAG_FMT) for i in range(0, len(comps), k)]
    rates = {}
    for name, run in runs.items():
        best = float("inf")
        for _ in range(max(1, a.repeat)):
            gc.collect()
            t0 = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - t0)
        rates[name] = len(comps) / best
    print()
    print("BATCH ENTRY POINTS (whole corpus, best pass)")
    for name, r in rates.items():
        print(f"  {name:<50}{fmt_rate(r):>12} completions/s   {r / demo_rate:6.2f}x demo check_answer")
    return rates


def print_goals(rates, mv, times):
    """The speed goals in one place: check_answer vs the demo per length bucket, combined_reward vs the demo,
    check_answer vs Math-Verify, with the load average they were measured under."""
    demo, ours = "demo check_answer (baseline A)", "ours check_answer"
    if ours not in rates:
        return
    print()
    print(f"GOALS (load average now: {' '.join(f'{x:.2f}' for x in os.getloadavg())})")
    for b in ("<1k", "1k-10k", "10k-100k"):
        if b in times:
            r = times[b][demo] / times[b][ours]
            print(f"  check_answer / demo check_answer, {b:<9} {r:7.2f}x   (goal >= 1.0x) {'met' if r >= 1.0 else 'NOT met'}")
    r = rates[ours] / rates[demo]
    print(f"  check_answer / demo check_answer, corpus    {r:7.2f}x   (goal >= 1.0x) {'met' if r >= 1.0 else 'NOT met'}")
    r = rates["ours combined_reward(tags)"] / rates[demo]
    print(f"  combined_reward / demo check_answer, corpus {r:7.2f}x   (goal >= 0.6x) {'met' if r >= 0.6 else 'NOT met'}")
    if mv:
        r = rates[ours] / rates["Math-Verify verify(parse(g), parse(r)) (B)"]
        print(f"  check_answer / Math-Verify, corpus          {r:7.0f}x   (goal >= 200x) {'met' if r >= 200 else 'NOT met'}")


# ---------------------------------------------------------------------------------------------
def main(argv=None):
    a = parse_args(argv)
    T0 = time.perf_counter()
    print_header(a)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    ours = load_ours()
    comps, golds, cats, lcls, pool = build_corpus(a)

    fns = dict(ours)
    fns["demo check_answer (baseline A)"] = demo_check_answer
    fns["demo match_format (baseline A)"] = lambda r, g: demo_match_format(r)
    results, rates = measure_throughput(fns, comps, golds, a)
    mv, sub_rates = measure_math_verify(fns, comps, golds, a, rates)
    print_throughput(rates, mv, sub_rates, a)
    print_ratios(rates, mv, sub_rates, ours)

    scal_fns = scaling_functions(fns, ours)
    times = measure_scaling(scal_fns, comps, golds, pool, a)
    measure_adversarial(scal_fns)
    if mv:
        print_math_verify_scaling(mv, comps)

    print_verdicts(results, cats, comps, golds, mv, ours, a.n)
    if mv and ours:
        print_agreement(results["ours check_answer"], mv, cats, comps, golds)
    measure_rollouts(ours, a)
    if ours:
        measure_batch(comps, golds, rates["demo check_answer (baseline A)"], a)
    print_goals(rates, mv, times)

    print()
    print(f"total wall time {time.perf_counter() - T0:.1f}s; load average at end: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
