#!/usr/bin/env python
"""Timing of `agent_tunix.grpo` on a million rewards in groups of 8.

Run from the repository root:

    python bench/advantages.py             # 1,048,576 rewards (131,072 groups of 8), best of 20
    python bench/advantages.py --n 65536 --repeat 5

Each function is jitted, compiled and run once before timing; a timed call is one jitted call
plus `block_until_ready()`. Figures are the best and the median of `--repeat` calls, in ms.
Tunix's own `grpo` estimator (numpy, float64 on a float64 copy) is timed on the same rewards as
a baseline. It prints figures only; nothing here asserts on timing.
"""
import argparse, os, statistics, time
from functools import partial

os.environ.setdefault("JAX_PLATFORMS", "cpu")
import jax, jax.numpy as jnp, numpy as np
from agent_tunix.grpo import (dead_group_mask, drgrpo_advantages, grpo_advantages, multi_reward_advantages,
                              rloo_advantages)

def timed(f, *args, repeat: int) -> tuple:
    "Best and median wall time of `f(*args)` in ms, after one warm-up call."
    jax.block_until_ready(f(*args))
    ts = []
    for _ in range(repeat):
        t = time.perf_counter(); jax.block_until_ready(f(*args)); ts.append((time.perf_counter() - t) * 1e3)
    return min(ts), statistics.median(ts)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1 << 20, help="number of rewards (a multiple of --g)")
    ap.add_argument("--g", type=int, default=8, help="generations per prompt")
    ap.add_argument("--repeat", type=int, default=20)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    r = jnp.asarray(rng.choice([0., .5, 1.], size=a.n).astype(np.float32))
    R = jnp.asarray(rng.choice([0., 1., np.nan], size=(a.n, 3), p=[.45, .45, .1]).astype(np.float32))
    G = a.g
    cases = {
        "grpo (scale=group)": (jax.jit(partial(grpo_advantages, num_generations=G)), r),
        "grpo (scale=batch)": (jax.jit(partial(grpo_advantages, num_generations=G, scale="batch")), r),
        "drgrpo": (jax.jit(partial(drgrpo_advantages, num_generations=G)), r),
        "rloo": (jax.jit(partial(rloo_advantages, num_generations=G)), r),
        "dead_group_mask (share)": (jax.jit(lambda x: dead_group_mask(x, G).mean()), r),
        "[B,3] sum_then_normalize": (jax.jit(partial(multi_reward_advantages, num_generations=G, weights=(.2, .3, .5))), R),
        "[B,3] normalize_then_sum": (jax.jit(partial(multi_reward_advantages, num_generations=G, weights=(.2, .3, .5),
                                                     aggregation="normalize_then_sum")), R),
    }
    print(f"{a.n:,} rewards in groups of {G}; jax {jax.__version__} on {jax.devices()[0].platform}, "
          f"{os.cpu_count()} CPUs; best / median of {a.repeat}, after compilation")
    for name, (f, x) in cases.items():
        best, med = timed(f, x, repeat=a.repeat)
        print(f"  {name:28s} {best:8.2f} ms  {med:8.2f} ms")
    try:
        from tunix.rl import function_registry
        tunix_grpo = function_registry.get_advantage_estimator("grpo")
        r64 = np.asarray(r, np.float64)
        best, med = timed(lambda x: tunix_grpo(x, G), r64, repeat=a.repeat)
        print(f"  {'baseline: tunix grpo (numpy)':28s} {best:8.2f} ms  {med:8.2f} ms")
    except ImportError:
        print("  (tunix not installed: no baseline)")

if __name__ == "__main__": main()
