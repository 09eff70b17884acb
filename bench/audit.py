"""What a reward audit costs: `combined_reward` on the shipped 64-row sample (eight problems), in-process and in
guarded worker processes (start-up included), and every registered reward in-process.

    .venv/bin/python bench/audit.py [--repeat 3]

The goal: the audit of combined_reward on the sample takes under 2 seconds.
"""
import argparse, statistics, time

from agent_tunix.audit import FAMILIES, audit_reward, baseline_completions, sample_rows
from agent_tunix.core import list_reward_functions



def completions_per_audit(rows) -> int:
    "How many completions one audit scores: baselines in every layout, then every hack."
    from agent_tunix.audit import LAYOUTS
    hacks = sum(len(f(r._replace(format=next(iter(LAYOUTS.values()))))) for f in FAMILIES.values() for r in rows)
    return hacks + len(LAYOUTS) * len(baseline_completions(rows[0])) * len(rows)


def timed(reward, rows, repeat: int, **kw) -> tuple:
    "(median seconds, the last report) of `repeat` audits."
    times, report = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        report = audit_reward(reward, rows, **kw)
        times.append(time.perf_counter() - t)
    return statistics.median(times), report


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rows = sample_rows()
    print(f"sample: 64 rows, {len(rows)} distinct problems, about {completions_per_audit(rows)} completions per audit")
    for label, kw in (("in-process", {"timeout": None}), ("guarded workers", {"timeout": 2.0})):
        s, report = timed("combined_reward", rows, args.repeat, **kw)
        print(f"combined_reward, {label:<16} {s:6.3f} s (median of {args.repeat}; goal < 2 s)  dangerous: {report.dangerous or 'none'}")
    total = 0.0
    for name in list_reward_functions():
        rs = [r._replace(columns=(("expected_numbers", [r.answer]),)) for r in rows] if name == "check_numbers" else rows
        s, report = timed(name, rs, 1, timeout=None)
        total += s
        print(f"  {name:<28} {s:6.3f} s  {report.kind:<12} dangerous: {', '.join(report.dangerous) or 'none'}")
    print(f"every registered reward, in-process: {total:.2f} s")


if __name__ == "__main__":
    main()
