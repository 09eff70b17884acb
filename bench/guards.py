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

Then the cost of holding a worker's whole process tree: which isolation the workers got, one check of
the group memory limit (one pass over /proc plus the PSS of the worker's processes; it runs every
`_MEMORY_POLL_S` while a batch runs, never for batches that finish sooner), and stopping a worker
whose reward left three children behind (a tree kill) against a bare worker. Last, the wall time of
one batch in which a completion hangs, one runs out of memory and two crash (the guard's notebook shows the
same batch): about one time limit, however long the hung call would have run.
It prints figures only; nothing here asserts on timing. The misbehaving reward is the test suite's
(`tests/misbehaving.py`): worker processes import it by module, so it needs the repository root on the path.
"""
import argparse, os, random, sys, tempfile, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # the repository root, for `tests.misbehaving`

from agent_tunix.core import batch_reward  # noqa: E402
from agent_tunix import guards  # noqa: E402
from agent_tunix.guards import guarded_reward  # noqa: E402
from agent_tunix.rewards import check_answer  # noqa: E402
from tests.misbehaving import misbehaving_reward  # noqa: E402

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
             "trivial (len)": (misbehaving_reward, dict(completions=completions))}
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

def tree_costs(repeat: int):
    "Print the isolation, the cost of one group memory check and of stopping a worker with and without children."
    if not hasattr(guards, "_kill_tree"): print("  (this version of the guards holds one process per worker)"); return
    with guarded_reward(misbehaving_reward, workers=1, timeout=60.0) as guard:
        guard(completions=["x"])
        w = guard._workers[0]
        t = time.perf_counter()
        for _ in range(repeat * 20): used = guards._memory_mb(guards._descendants(w.proc.pid, guards._process_children()))
        check = (time.perf_counter() - t) / (repeat * 20)
        n_procs = len(os.listdir("/proc"))
        print(f"isolation: {guard.isolation}; group memory check {check * 1e3:.2f} ms "
              f"(a worker of {used:.0f} MB, {n_procs} entries in /proc), every {guards._MEMORY_POLL_S} s of a batch")
    for label, children in (("bare worker", 0), ("worker + 3 children", 3)):
        ts = []
        for _ in range(repeat):
            with guarded_reward(misbehaving_reward, workers=1, timeout=60.0) as guard, tempfile.TemporaryDirectory() as tmp:
                if children:   # the reward forks and returns; its children sleep on
                    import threading
                    th = threading.Thread(target=guard, kwargs=dict(completions=[f"fork {children} {tmp}/pids"]), daemon=True)
                    th.start()
                    while not os.path.exists(f"{tmp}/pids") or len(open(f"{tmp}/pids").read().split()) < children: time.sleep(0.01)
                    w = guard._workers[0]
                else:
                    guard(completions=["x"]); w = guard._workers[0]
                t = time.perf_counter(); w.stop(); ts.append(time.perf_counter() - t)
        print(f"  stop a {label:20s} {min(ts) * 1e3:7.1f} ms")

def trouble_batch():
    "Print the wall time of one batch with a hung, an out-of-memory and two crashing completions (timeout 0.5 s)."
    completions = ["ok", "sleep", "fine", "allocate", "exit", "good!", "segfault", "raise", "nan", "last"]
    with guarded_reward(misbehaving_reward, timeout=0.5, memory_limit_mb=256, fallback=-1.0) as guard:
        guard(completions=["warm up"] * 2)
        t = time.perf_counter(); out = guard.details(completions=completions); took = time.perf_counter() - t
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(guard.counts.items()))
    print(f"a batch of {len(out)} with one hung, one out of memory and two crashed completions: {took:.2f} s "
          f"with a 0.5 s time limit ({reasons})")

if __name__ == "__main__":
    main()
    tree_costs(3)
    trouble_batch()
