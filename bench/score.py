#!/usr/bin/env python
"""Throughput of `agent-tunix score FILE --out DIR`: reading, scoring and the reward analysis.

Run from the repository root:

    python bench/score.py              # 100,000 generated rows, the default rewards
    python bench/score.py --n 20000    # fewer rows

It prints figures only; nothing here asserts on timing.

The rows are generated (seeded `random`): GSM8K-style arithmetic prompts, 8 completions per prompt (one
GRPO group), with correct answers in tags or in a sentence, near misses, wrong answers, hedges, completions
without an answer, and about 1 % long (2,000-8,000 characters) reasoning. They are written to a temporary
JSONL file, then timed stage by stage exactly as `agent_tunix.cli.cmd_score` runs them:

* read: `read_rows(path)` (JSON parsing and checks);
* score: `score_rows(rows)` with the default rewards (each reward's batch form and, where it has one, its
  details form for the reasons);
* analysis: `save_reward_analysis(scored, out, rows=rows)` (the `RewardLog`, statistics, categories, four
  PNG plots, summary.json, report.md, examples.csv);
* total: all three, as one `agent-tunix score FILE --out DIR` does (plus writing scores.jsonl, not timed);
* command: the command itself in a fresh process (`main(["score", FILE, "--out", DIR])`), start-up,
  scores.jsonl and all, with its exit code checked.

Rates are rows per second, one process, wall time of one pass (`time.perf_counter`).
"""
from __future__ import annotations

import argparse
import json
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def make_rows(n: int, seed: int = 0, k: int = 8) -> list:
    "n rows, k completions per prompt, in the shapes a GRPO rollout produces."
    rng = random.Random(seed)
    rows = []
    while len(rows) < n:
        a, b, c = rng.randint(2, 99), rng.randint(2, 20), rng.randint(2, 20)
        y = a + b * c
        prompt = f"Tom has {a} apples and buys {b} bags of {c} apples. How many apples does he have now?"
        work = f"{b} * {c} = {b * c}, and {a} + {b * c} = {y}"
        for _ in range(k):
            u = rng.random()
            if rng.random() < 0.01: work_ = " ".join([work] * rng.randint(60, 250))    # long reasoning
            else: work_ = work
            if u < 0.35: text = f"<reasoning>{work_}</reasoning><answer>{y}</answer>"
            elif u < 0.50: text = f"{work_}. The answer is {y}."
            elif u < 0.60: text = f"<reasoning>{work_}</reasoning><answer>{y + max(1, y // 20)}</answer>"   # near miss
            elif u < 0.80: text = f"<reasoning>{b} + {c} = {b + c}</reasoning><answer>{a + b + c}</answer>"  # wrong
            elif u < 0.90: text = f"<reasoning>{work_}</reasoning><answer>{y} or {y + 2}</answer>"           # hedge
            else: text = "I am not sure how to solve this one."                                          # no answer
            rows.append({"prompt": prompt, "completion": text, "answer": str(y)})
    return rows[:n]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000, help="rows (default 100,000)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)

    from agent_tunix.cli import DEFAULT_REWARDS, read_rows, score_rows
    from agent_tunix.analysis import save_reward_analysis

    print(f"agent-tunix score benchmark: {a.n:,} rows, rewards {', '.join(DEFAULT_REWARDS)}")
    print(f"Python {sys.version.split()[0]} on {platform.platform()}, {__import__('os').cpu_count()} cpus")
    rows = make_rows(a.n, a.seed)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "rows.jsonl"
        with open(path, "w", encoding="utf-8") as f:
            for r in rows: f.write(json.dumps(r) + "\n")
        print(f"input: {path.stat().st_size / 1e6:,.1f} MB, mean {sum(len(r['completion']) for r in rows) / a.n:,.0f} "
              f"chars per completion")
        times = {}
        t = time.perf_counter(); rows, problems = read_rows(path); times["read"] = time.perf_counter() - t
        assert not problems and len(rows) == a.n
        t = time.perf_counter(); scored = score_rows(rows); times["score"] = time.perf_counter() - t
        t = time.perf_counter(); written = save_reward_analysis(scored, Path(d) / "out", rows=rows)
        times["analysis"] = time.perf_counter() - t
        summary = json.loads(written["summary"].read_text())
        t = time.perf_counter()
        p = subprocess.run([sys.executable, "-c", "import sys; from agent_tunix.cli import main; sys.exit(main(sys.argv[1:]))",
                            "score", str(path), "--out", str(Path(d) / "cli")], capture_output=True, text=True)
        command = time.perf_counter() - t
        assert p.returncode == 0 and (Path(d) / "cli" / "report.md").exists(), p.stderr
    times["total"] = sum(times.values())
    print(f"\n{'stage':<10}{'seconds':>10}{'rows/s':>14}")
    for k, v in times.items(): print(f"{k:<10}{v:>10.2f}{a.n / v:>14,.0f}")
    print(f"{'command':<10}{command:>10.2f}{a.n / command:>14,.0f}")
    cats = {k: v["count"] for k, v in summary["categories"].items() if v["count"]}
    print(f"\ncheck: {summary['completions']:,} completions, dead-group share (check_answer) "
          f"{summary['rewards']['check_answer']['dead_group_share']:.1%}, categories {cats}")


if __name__ == "__main__":
    main()
