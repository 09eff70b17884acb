#!/usr/bin/env python
"""Throughput and peak memory of `agent-tunix score FILE [--out DIR]` on a large generated file.

Run from the repository root:

    python bench/score.py                   # 1,000,000 rows, the default rewards
    python bench/score.py --n 20000         # fewer rows
    python bench/score.py --root OTHER      # measure another checkout (e.g. an older commit, exported with git archive)

It prints figures only; nothing here asserts on timing.

The rows are `agent_tunix.analysis.simulate_rollouts` (seeded, lazy) written straight to a temporary JSONL file,
never held in memory: GSM8K-style arithmetic prompts, 8 completions per prompt (one GRPO group), with correct
answers in tags or in a sentence, near misses, wrong answers, hedges, completions without an answer (its
`DEFAULT_MIX`), and 1 % long (2,000-10,000 characters) reasoning. A second file is the same with `--bad` (default 1 %) of its lines replaced by rows a
careless pipeline writes: `"answer": true`, `"answer": ["4"]`, a line that is not JSON, and a 100,000-deep JSON
line.

Each run is the command in a fresh process, as a user runs it:

* `score FILE` (summary table only), `score FILE --out DIR` (plus scores.jsonl and the whole reward analysis),
  and `score BAD_FILE --out DIR` (the same with bad rows, which are skipped and reported);
* rows/s is the rows of the file over the wall time of the whole process (start-up, reading, scoring, writing);
* peak memory is the process's own `resource.getrusage(RUSAGE_SELF).ru_maxrss` at its end (the high-water mark
  of its resident memory), printed by the process itself.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from agent_tunix.analysis import DEFAULT_MIX, simulate_rollouts  # noqa: E402  (rows are generated here, scored by --root)

# The command, then its own peak resident memory on stderr's last line (ru_maxrss is in KiB on Linux).
RUN = """
import resource, sys
from agent_tunix.cli import main
try: code = main(sys.argv[1:])
except BaseException as e: print(f"crashed: {type(e).__name__}: {str(e)[:200]}", file=sys.stderr); code = 1
print("peak_kib", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
raise SystemExit(code)
"""


def write_rows(path: Path, n: int, seed: int = 0, k: int = 8, bad: float = 0.0) -> int:
    "Write n rows of `simulate_rollouts` (k completions per prompt), a share `bad` of them broken; returns the bad count."
    bad_rng, n_bad = random.Random(seed + 1), 0
    broken = ['{"prompt": "p", "completion": "The answer is 4.", "answer": true}',
              '{"prompt": "p", "completion": "The answer is 4.", "answer": ["4"]}',
              '{"prompt": "p", "completion": "The answer is 4.", "answer": "4"',             # cut short: not JSON
              "[" * 100_000 + "]" * 100_000]                                                # too deep to read
    rows = itertools.islice(simulate_rollouts(-(-n // k), k, long_share=0.01, seed=seed), n)
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            if bad and bad_rng.random() < bad: f.write(broken[n_bad % len(broken)] + "\n"); n_bad += 1
            else: f.write(json.dumps({"prompt": row["prompt"], "completion": row["completion"], "answer": row["answer"]}) + "\n")
    return n_bad


def run_command(root: Path, *args) -> dict:
    "The command in a fresh process: exit code, wall seconds, peak MiB, and the last line it printed on stderr."
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", RUN, "score", *map(str, args)], capture_output=True, text=True,
                       cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    wall = time.perf_counter() - t
    err = p.stderr.strip().splitlines()
    peak = int(err[-1].split()[-1]) / 1024 if err and err[-1].startswith("peak_kib") else float("nan")
    said = next((l for l in reversed(err[:-1]) if l.strip()), "")
    return {"code": p.returncode, "seconds": wall, "peak_mib": peak, "said": said}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="rows in the file (default 1,000,000)")
    ap.add_argument("--bad", type=float, default=0.01, help="share of broken lines in the second file (default 0.01)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout whose agent_tunix to measure (default: this one)")
    a = ap.parse_args(argv)

    print(f"agent-tunix score benchmark: {a.n:,} rows, the default rewards, code from {a.root}")
    print("rows: simulate_rollouts, mix " + ", ".join(f"{k} {v:.0%}" for k, v in DEFAULT_MIX.items()) + ", 1 % long")
    print(f"Python {sys.version.split()[0]} on {platform.platform()}, {os.cpu_count()} cpus")
    with tempfile.TemporaryDirectory() as d:
        good, bad = Path(d) / "rows.jsonl", Path(d) / "rows_with_bad.jsonl"
        write_rows(good, a.n, a.seed)
        n_bad = write_rows(bad, a.n, a.seed, bad=a.bad)
        print(f"input: {good.stat().st_size / 1e6:,.1f} MB; the second file has {n_bad:,} broken lines\n")
        runs = {"score FILE": run_command(a.root, good),
                "score FILE --out DIR": run_command(a.root, good, "--out", Path(d) / "out"),
                "score BAD_FILE --out DIR": run_command(a.root, bad, "--out", Path(d) / "out_bad")}
        wrote = sorted(p.name for p in (Path(d) / "out").iterdir()) if (Path(d) / "out").is_dir() else []
    print(f"{'command':<26}{'exit':>5}{'seconds':>10}{'rows/s':>12}{'peak MiB':>10}")
    for name, r in runs.items():
        print(f"{name:<26}{r['code']:>5}{r['seconds']:>10.1f}{a.n / r['seconds']:>12,.0f}{r['peak_mib']:>10,.0f}")
    for name, r in runs.items():
        if r["code"] not in (0, 3): print(f"\n{name} failed: {r['said']}")
    print(f"\n--out wrote: {', '.join(wrote) or 'nothing'}")


if __name__ == "__main__":
    main()
