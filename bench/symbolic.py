#!/usr/bin/env python
"""Symbolic answers: agreement with Math-Verify and throughput of both, on the same rows, in one run.

Run from the repository root:

    python bench/symbolic.py              # the corpus, the parser, the process overhead and a 3,000-row GSM8K+MATH mix
    python bench/symbolic.py --mix 10000  # a larger mix

It prints figures only; nothing here asserts on timing.

What is measured
----------------
* AGREEMENT on `tests/data/symbolic_pairs.jsonl` (MATH-style answer / ground truth pairs, each with a careful
  grader's label and a comment on the tricky ones). OURS is `check_answer` on the completion `\\boxed{answer}`
  (score 1.0 means equal); MATH-VERIFY is `verify(parse("$truth$"), parse("\\boxed{answer}"))` with its defaults.
  Every row where the two disagree is printed with its label and comment.
* THROUGHPUT on the same corpus rows, and on a GSM8K + MATH mix (90 % GSM8K-style completions with plain-number
  truths, 10 % the corpus rows as `\\boxed{}` completions), both checkers on the same rows, caches emptied first.
* PARSER: our `parse_answer` against Math-Verify's LaTeX parser (`latex2sympy2_extended.latex2sympy`) on the corpus
  strings — the measurement behind choosing our own parser (besides never evaluating text).
* PROCESS OVERHEAD: the round trip to the comparison process, a comparison through it against the same comparison
  in-process, and the cost of a timeout (kill and restart).
"""
import argparse, json, os, random, sys, threading, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from agent_tunix import symbolic                                   # noqa: E402
from agent_tunix.parsing import parse_ground_truth                  # noqa: E402
from agent_tunix.rewards import _read_truth, check_answer           # noqa: E402

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "symbolic_pairs.jsonl"


def empty_caches():
    "Forget every cached reading and verdict, so a timed pass does all its work."
    symbolic._parsed.cache_clear(); symbolic._VERDICTS.clear(); _read_truth.cache_clear(); parse_ground_truth.cache_clear()


def math_verify():
    "Math-Verify's checker as users call it: verify(parse(gold), parse(prediction)), default timeouts (main thread)."
    from math_verify import parse, verify
    def check(response: str, gold: str) -> bool:
        try: return bool(verify(parse(gold), parse(response)))
        except Exception: return False
    return check


def ours(response: str, truth: str) -> bool: return check_answer(response, truth) == 1.0


def timed(fn, rows) -> tuple:
    "(results, rows per second) of fn(response, truth) over rows."
    start = time.perf_counter()
    out = [fn(r, t) for r, t in rows]
    return out, len(rows) / (time.perf_counter() - start)


def agreement(rows: list, mv_check) -> None:
    "The agreement table per category and every disagreement, with the throughput of both on these rows."
    ours_rows = [(f"\\boxed{{{r['answer']}}}", r["ground_truth"]) for r in rows]
    mv_rows = [(f"\\boxed{{{r['answer']}}}", f"${r['ground_truth']}$") for r in rows]
    empty_caches()
    o, o_rate = timed(ours, ours_rows)
    m, m_rate = timed(mv_check, mv_rows)
    cats = sorted({r["category"] for r in rows})
    print(f"\nAGREEMENT on {len(rows)} MATH-style pairs (label: a careful grader)")
    print(f"{'category':22}{'rows':>6}{'ours=label':>12}{'MV=label':>10}{'ours=MV':>9}")
    for cat in cats + ["all"]:
        idx = [i for i, r in enumerate(rows) if cat in ("all", r["category"])]
        f = lambda xs: sum(xs[i] == rows[i]["label"] for i in idx)
        print(f"{cat:22}{len(idx):>6}{f(o):>12}{f(m):>10}{sum(o[i] == m[i] for i in idx):>9}")
    mv_right = [i for i, r in enumerate(rows) if m[i] == r["label"]]
    share = sum(o[i] == m[i] for i in mv_right) / len(mv_right)
    print(f"agreement where Math-Verify is right: {share:.1%} of {len(mv_right)} rows (goal >= 99 %)")
    print(f"\nDISAGREEMENTS (ours != Math-Verify): {sum(a != b for a, b in zip(o, m))}")
    for i, r in enumerate(rows):
        if o[i] != m[i]:
            who = "ours" if o[i] == r["label"] else "Math-Verify"
            print(f"  {r['answer']!r} vs {r['ground_truth']!r}: label {r['label']}, ours {o[i]}, MV {m[i]} -> {who} right"
                  + (f"  [{r['comment']}]" if r["comment"] else ""))
    print(f"\nTHROUGHPUT on the corpus rows: ours {o_rate:,.0f}/s, Math-Verify {m_rate:,.0f}/s ({o_rate / m_rate:.1f}x)")


def gsm8k_row(rng: random.Random) -> tuple:
    "(completion, plain-number ground truth, whether the completion is right): 80 % right, the rest off by a little."
    a, b = rng.randint(2, 500), rng.randint(2, 500)
    truth = a * b if rng.random() < 0.5 else a + b
    said = truth if rng.random() < 0.8 else truth + rng.choice([-1, 1, truth // 10 or 1])
    body = f"Each box holds {a} and there are {b} of them, so {a} x {b} gives the total. "
    end = rng.choice([f"<answer>{said}</answer>", f"The answer is {said}.", f"#### {said}", f"\\boxed{{{said}}}"])
    return body * rng.randint(1, 4) + end, str(truth), said == truth


def mix(rows: list, n: int, mv_check, seed: int) -> None:
    "Throughput of both on the same GSM8K + MATH rows (90/10), and how each scores the GSM8K rows."
    rng = random.Random(seed)
    n_math = min(len(rows), n // 10)
    maths = rng.sample(rows, n_math)
    gsm = [gsm8k_row(rng) for _ in range(n - n_math)]
    ours_rows = [(r, t) for r, t, _ in gsm] + [(f"So the answer is $\\boxed{{{r['answer']}}}$.", r["ground_truth"]) for r in maths]
    mv_rows = [(r, t) for r, t, _ in gsm] + [(f"So the answer is $\\boxed{{{r['answer']}}}$.", f"${r['ground_truth']}$") for r in maths]
    order = list(range(len(ours_rows))); rng.shuffle(order)
    empty_caches()
    o, o_rate = timed(ours, [ours_rows[i] for i in order])
    m, m_rate = timed(mv_check, [mv_rows[i] for i in order])
    o, m = [dict(zip(order, xs)) for xs in (o, m)]
    print(f"\nMIX: {len(gsm)} GSM8K-style + {n_math} MATH rows, shuffled, caches emptied")
    print(f"  ours {o_rate:,.0f}/s, Math-Verify {m_rate:,.0f}/s: {o_rate / m_rate:.1f}x (goal >= 5x)")
    for name, xs in (("ours", o), ("Math-Verify", m)):
        g = sum(xs[k] == gsm[k][2] for k in range(len(gsm)))
        h = sum(xs[len(gsm) + k] == r["label"] for k, r in enumerate(maths))
        print(f"  {name}: GSM8K rows scored right {g}/{len(gsm)}, MATH rows as the grader {h}/{n_math}")
    print("  (Math-Verify does not read <answer> tags, a quarter of the GSM8K rows)")


def parsers(rows: list) -> None:
    "Our reader against Math-Verify's LaTeX parser on the same strings."
    from latex2sympy2_extended import latex2sympy
    texts = [r["answer"] for r in rows] + [r["ground_truth"] for r in rows]
    symbolic._parsed.cache_clear()
    start = time.perf_counter(); ok_ours = sum(symbolic.parse_answer(t) is not None for t in texts)
    ours_us = (time.perf_counter() - start) / len(texts) * 1e6
    ok_l2s, start = 0, time.perf_counter()
    for t in texts:
        try: latex2sympy(t); ok_l2s += 1
        except Exception: pass
    l2s_us = (time.perf_counter() - start) / len(texts) * 1e6
    print(f"\nPARSER on {len(texts)} corpus strings: ours {ours_us:.0f} µs each ({ok_ours} read), "
          f"latex2sympy2_extended {l2s_us:.0f} µs each ({ok_l2s} read, builds SymPy objects as it goes)")


def overhead() -> None:
    "Round trip to the comparison process; a comparison through it and in-process; a timeout and the restart after it."
    import sympy
    p = symbolic._PROCESS
    p.ask("ping", 60)
    n, start = 2000, time.perf_counter()
    for _ in range(n): p.ask("ping", 5)
    ping = (time.perf_counter() - start) / n * 1e6
    pair = (symbolic.parse_answer(r"\frac{1}{\sqrt{2}}"), symbolic.parse_answer(r"\frac{\sqrt{2}}{2}+0"))
    start = time.perf_counter()
    for _ in range(200): p.ask(pair, 5)
    through = (time.perf_counter() - start) / 200 * 1e6
    start = time.perf_counter()
    for _ in range(200): symbolic.compare_values(*pair, sympy)
    inproc = (time.perf_counter() - start) / 200 * 1e6
    slow = (symbolic.parse_answer("(a+b+c+d+f)^{1000}"), symbolic.parse_answer("(a+b+c+d+f)^{999}"))
    out = []
    t = threading.Thread(target=lambda: out.append(p.ask(slow, 0.25)))
    start = time.perf_counter(); t.start(); t.join(); late = time.perf_counter() - start
    start = time.perf_counter(); p.ask("ping", 60); restart = time.perf_counter() - start
    print(f"\nPROCESS: round trip {ping:.0f} µs; a comparison {through:.0f} µs through the process vs {inproc:.0f} µs "
          f"in-process; a 0.25 s timeout on a worker thread returned {out} after {late:.2f} s; restart {restart:.2f} s")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mix", type=int, default=3000, help="rows in the GSM8K + MATH mix (10 %% MATH, at most the corpus)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    rows = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    print(f"agent_tunix.symbolic vs Math-Verify; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    check = math_verify()
    symbolic._PROCESS.ask("ping", 60)                     # start the comparison process before timing
    check("$1$", "$1$")                                   # and warm Math-Verify's imports
    agreement(rows, check)
    mix(rows, args.mix, check, args.seed)
    parsers(rows)
    overhead()


if __name__ == "__main__":
    main()
