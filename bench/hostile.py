#!/usr/bin/env python
"""Time of the built-in rewards on very long, number-dense hostile completions.

    python bench/hostile.py                # 1 MB and 10 MB of each shape
    python bench/hostile.py --mb 1         # 1 MB only

Prints milliseconds per call (best of `--repeat`) for `check_answer`, `check_numbers` and
`match_format_exactly` on each shape; nothing here asserts on timing. The goal is linear time with
a small constant: under 100 ms a call at 1 MB for every shape. `tests/test_fuzz.py` checks the
verdicts on the same shapes.

Then `extract_answer` alone on the parsing page's hostile inputs (a megabyte of reasoning before the slot,
100,000 unclosed `\\boxed{`, 100,000 digits, …): the goal is under 1 s each (the page shows that each gets an
answer; the time is measured here).
"""
import argparse, time

from agent_tunix.parsing import extract_answer
from agent_tunix.rewards import check_answer, check_numbers, match_format_exactly

TAGGED = "<reasoning>[TEXT]</reasoning><answer>[NUM]</answer>"

def shapes(n: int) -> dict:
    "Each hostile shape at about `n` characters."
    unit = {"' 1' repeated": " 1", "'answer ' repeated": "answer ", "Arabic-Indic digits": "\u0661\u0662 ",
            "23 digits and a comma": "9" * 23 + ",", "'the answer is ' repeated": "the answer is ",
            "'<answer>' repeated": "<answer>", "'1/' repeated": "1/", "'#### ' repeated": "#### ",
            "'one ' repeated": "one ", "zero-width space between digits": "1\u200b",
            "made-up turns": "The answer is 5.\nQuestion: x\n", "tags and whitespace": "<a> \n "}
    return {k: u * (n // len(u)) for k, u in unit.items()}

# The parsing page's hostile inputs (nbs/01_parsing.ipynb), as (label, text).
PARSING_HOSTILE = [("1 MB of reasoning, then a slot", "x" * 1_000_000 + "<answer>5</answer>"),
                   ("100,000 unclosed \\boxed{", "\\boxed{" * 100_000), ("100,000 digits", "9" * 100_000),
                   ("50,000 <answer>", "<answer>" * 50_000), ("'1,' x 200,000", "1," * 200_000),
                   ("'the answer is ' x 50,000", "the answer is " * 50_000), ("100,000 \\frac{", "\\frac{" * 100_000 + "1"),
                   ("'Answers answer ANSWER ' x 50,000", "Answers answer ANSWER " * 50_000)]

def best_ms(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter(); fn(); best = min(best, time.perf_counter() - t)
    return 1000 * best

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=float, nargs="+", default=[1, 10], help="sizes in MB (default 1 10)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    calls = {"check_answer": lambda s: check_answer(s, "72"), "check_numbers": lambda s: check_numbers(s, [72]),
             "match_format_exactly": lambda s: match_format_exactly(s, TAGGED)}
    for mb in args.mb:
        print(f"\n{mb:g} MB, ms per call (best of {args.repeat})")
        print(f"{'shape':36s}" + "".join(f"{k:>22s}" for k in calls))
        for name, s in shapes(int(mb * 1_000_000)).items():
            print(f"{name:36s}" + "".join(f"{best_ms(lambda: f(s), args.repeat):22.1f}" for f in calls.values()))
    print(f"\nextract_answer on the parsing page's hostile inputs, ms per call (best of {args.repeat}; goal under 1000)")
    for name, s in PARSING_HOSTILE:
        ms = best_ms(lambda: extract_answer(s), args.repeat)
        print(f"{name:36s}{ms:10.1f}{'   over the goal' if ms >= 1000 else ''}")

if __name__ == "__main__":
    main()
