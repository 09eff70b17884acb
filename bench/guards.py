#!/usr/bin/env python
"""Per-call overhead of `agent_tunix.guards.guarded_reward` against calling the reward directly.

Run from the repository root:

    python bench/guards.py              # 2,000 completions, best of 3
    python bench/guards.py --n 500 --repeat 1

Two rewards: `check_answer` (a real reward, a few microseconds a call) and a trivial one (the
length of the text), so the second shows the guard's own cost: one pipe round trip per completion
to a worker process and back. "direct" is `batch_reward(fn)` in this process; "guarded, w
workers" is `guarded_reward(fn, workers=w)` with its pool already started (the start-up, once per
guard, is printed apart). Times are per completion, in microseconds; overhead = guarded - direct.
It prints figures only; nothing here asserts on timing.
"""
import argparse, os, random, time

from agent_tunix.core import batch_reward
from agent_tunix.guards import _misbehaving_reward, guarded_reward
from agent_tunix.rewards import check_answer

def best_us(f, batch: dict, n: int, repeat: int) -> float:
    "Best per-completion time of `f(**batch)` in microseconds."
    ts = []
    for _ in range(repeat):
        t = time.perf_counter(); f(**batch); ts.append((time.perf_counter() - t) / n * 1e6)
    return min(ts)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    rnd = random.Random(0)
    golds = [str(rnd.randint(1, 500)) for _ in range(a.n)]
    completions = [f"<reasoning>step {i}</reasoning><answer>{g if rnd.random() < .6 else int(g) + 1}</answer>"
                   for i, g in enumerate(golds)]
    cases = {"check_answer": (check_answer, dict(prompts=[""] * a.n, completions=completions, answer=golds)),
             "trivial (len)": (_misbehaving_reward, dict(completions=completions))}
    print(f"{a.n:,} completions, best of {a.repeat}; {os.cpu_count()} CPUs; microseconds per completion")
    for label, (fn, batch) in cases.items():
        direct = best_us(batch_reward(fn), batch, a.n, a.repeat)
        print(f"  {label:14s} direct               {direct:9.1f} us")
        for w in (1, 2):
            with guarded_reward(fn, workers=w, timeout=5.0) as guard:
                t = time.perf_counter(); guard(**{k: v[:1] for k, v in batch.items()})
                start = time.perf_counter() - t
                g = best_us(guard, batch, a.n, a.repeat)
            print(f"  {label:14s} guarded, {w} worker{'s' if w > 1 else ' '}   {g:9.1f} us   overhead {g - direct:8.1f} us"
                  f"   (pool start {start * 1e3:.0f} ms)")

if __name__ == "__main__": main()
