#!/usr/bin/env python
"""The shipped default run, as a new user gets it, once per seed, and the table the docs show.

Run from the repository root:

    python bench/default_run.py                      # seeds 0, 1, 2, one after the other (about 6 minutes each on 2 quiet cores)
    python bench/default_run.py --seeds 0 --jobs 1
    python bench/default_run.py --seeds 0 1 2 --jobs 3 -- training.max_steps=50   # overrides after `--` (a proxy, not the default)

Each seed is `python run_training.py model.seed=S training.seed=S` in a process of its own, in a scratch folder, with
an empty warm-start cache (so the warm start is trained and timed, as on a fresh clone); the model's initialisation,
the warm start's and GRPO's batch order and the rollout's sampling change with the seed, the problems do not. It
prints the defaults the runs used, one row per seed (held-out greedy and sampled accuracy before and after GRPO,
pass@k, format rate, mean total reward over the first and last tenth of the steps, times), the load average while
they ran, and a GOALS line: greedy accuracy up by at least 0.15 on every seed, sampled accuracy up on every seed,
and the run within 6 minutes on 2 quiet cores. On a shared machine the wall time is inflated; `cpu s` (the run's user
+ system CPU time) is what it costs, and on two quiet cores the wall time lies between cpu/2 and cpu.

The training guide's and README's figures for the default are this script's output; `tests/test_defaults.py` checks
that the defaults the guide documents are the config files'. It prints figures only; nothing here asserts.
"""
import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_RISE, GOAL_SECONDS = 0.15, 360
_MARK = "default_run result: "   # the child's figures, on a stdout line of their own

# The defaults the docs state, as `group.key`: printed with the figures (the training guide's table is this list).
DOCUMENTED = ["model.num_layers", "model.embed_dim", "model.hidden_dim", "model.mlp_init", "data.num_train", "data.num_eval",
              "data.ops", "data.max_operand", "training.warm_start_steps", "training.warm_start_until", "training.warm_start_learning_rate",
              "training.warm_start_reasoning", "training.max_steps", "training.batch_size", "grpo.num_generations",
              "grpo.beta", "generation.temperature", "generation.max_tokens_to_generate", "optimizer.learning_rate",
              "evaluate.num_samples", "training.reward_function"]


def _child(seed: int, cache: str, overrides: list) -> dict:
    "One seed's run, in this process: the figures as a dict."
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    sys.path.insert(0, str(ROOT))
    from agent_tunix.config import compose_config, validate_config
    from agent_tunix.train import train
    run = validate_config(compose_config([f"model.seed={seed}", f"training.seed={seed}", f"training.warm_start_cache={cache}",
                                          *overrides]))

    class Tee:   # the run's own lines go to stderr; the warm start's time is read from them
        text = ""
        def write(self, s): Tee.text += s; sys.stderr.write(s)
        def flush(self): sys.stderr.flush()
    start = time.perf_counter()
    log = train(run, out=Tee())
    total = time.perf_counter() - start
    ev, s = log.evaluations, log.summary("train")
    b, a = ev["before"], ev["after"]
    ws = re.search(r"warm start: trained (\d+) steps in (\d+) s", Tee.text)
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    return {"seed": seed, "greedy": [b.accuracy, a.accuracy], "sampled": [b.sampled_accuracy, a.sampled_accuracy],
            "pass_at_k": [b.pass_at_k, a.pass_at_k], "k": a.k, "format": [b.format_rate, a.format_rate], "n": a.n,
            "reward": [s.get("first_tenth"), s.get("last_tenth")], "steps": s.get("steps"),
            "warm_start_steps": int(ws[1]) if ws else None, "warm_start_s": int(ws[2]) if ws else None, "grpo_s": ev.get("grpo_seconds"), "total_s": total,
            "cpu_s": cpu.ru_utime + cpu.ru_stime, "sample": list(a.sample[:2])}


def _defaults(overrides: list) -> dict:
    "The values of `DOCUMENTED` in the composed config (with `overrides`)."
    sys.path.insert(0, str(ROOT))
    from omegaconf import OmegaConf
    from agent_tunix.config import compose_config
    cfg = OmegaConf.to_container(compose_config(list(overrides)), resolve=True)
    out = {}
    for key in DOCUMENTED:
        group, name = key.split(".")
        out[key] = cfg[group][name]
    return out


class _Load:
    "The 1-minute load average, sampled every 5 s while the runs go."
    def __init__(self): self.samples, self._stop = [], threading.Event()
    def __enter__(self):
        def loop():
            while not self._stop.wait(5): self.samples.append(os.getloadavg()[0])
        self.samples.append(os.getloadavg()[0]); self._t = threading.Thread(target=loop, daemon=True); self._t.start(); return self
    def __exit__(self, *exc): self._stop.set(); self._t.join()


def _run_seeds(seeds: list, jobs: int, overrides: list, keep_logs: Path | None) -> list:
    "Each seed in a child process (at most `jobs` at once) in a scratch folder with an empty warm-start cache."
    results, pending, running = [], list(seeds), []
    with tempfile.TemporaryDirectory(prefix="default_run-") as tmp:
        while pending or running:
            while pending and len(running) < jobs:
                seed = pending.pop(0)
                work = Path(tmp) / f"seed{seed}"; work.mkdir()
                err = open((keep_logs or work) / f"seed{seed}.log", "w")
                cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(seed), "--cache", str(work / "cache"), "--", *overrides]
                env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
                out = open(work / "stdout.txt", "w+")   # a file, not a pipe: a chatty run cannot block on a full pipe
                running.append((seed, subprocess.Popen(cmd, cwd=work, stdout=out, stderr=err, text=True, env=env), err, out))
            time.sleep(1)
            for item in [r for r in running if r[1].poll() is not None]:
                seed, proc, err, out = item
                running.remove(item); err.close(); out.seek(0)
                lines = [x.split(_MARK, 1)[1] for x in out.read().splitlines() if _MARK in x]
                out.close()
                if proc.returncode or not lines:
                    tail = "".join(open(err.name).readlines()[-20:])
                    print(f"seed {seed} failed (exit {proc.returncode}); the end of its log ({err.name}):\n{tail}", file=sys.stderr)
                    continue
                results.append(json.loads(lines[-1]))
                print(f"seed {seed} done in {results[-1]['total_s']:.0f} s", file=sys.stderr, flush=True)
    return sorted(results, key=lambda r: r["seed"])


def _warm(r: dict) -> str:
    "The warm start's steps and seconds (trained, not cached: each seed starts from an empty cache)."
    return "—" if r.get("warm_start_s") is None else f"{r['warm_start_steps']} steps, {r['warm_start_s']} s"


def _pair(xs, fmt="{:.3f}") -> str:
    return " → ".join("—" if x is None else fmt.format(x) for x in xs)


def report(results: list, defaults: dict, load: list, jobs: int, overrides: list) -> str:
    "The defaults, a markdown table of the seeds' figures, the load and the GOALS line."
    lines = ["Defaults" + (f" with overrides {' '.join(overrides)}" if overrides else "") + ":", "",
             "| key | value |", "|---|---|", *(f"| `{k}` | `{json.dumps(v)}` |" for k, v in defaults.items()), ""]
    k = results[0]["k"] if results else None
    lines += [f"| seed | greedy accuracy | sampled accuracy ({k} each) | pass@{k} | format | mean total reward | warm start | GRPO s | total s | cpu s |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['seed']} | {_pair(r['greedy'])} | {_pair(r['sampled'])} | {_pair(r['pass_at_k'])} | {_pair(r['format'])} "
                     f"| {_pair(r['reward'])} | {_warm(r)} | {r['grpo_s']:.0f} "
                     f"| {r['total_s']:.0f} | {r['cpu_s']:.0f} |")
    if not results: return "\n".join(lines + ["(no seed finished)"])
    rise = [r["greedy"][1] - r["greedy"][0] for r in results]
    srise = [r["sampled"][1] - r["sampled"][0] for r in results if None not in r["sampled"]]
    slowest = max(r["total_s"] for r in results)
    cpu = max(r["cpu_s"] for r in results)
    lines += ["", f"Held-out problems: {results[0]['n']}. Greedy rise per seed: {', '.join(f'{x:+.3f}' for x in rise)}; "
              f"sampled rise: {', '.join(f'{x:+.3f}' for x in srise)}. Example completions after GRPO: {results[0]['sample']}",
              f"Load average (1 min) while the runs went: mean {sum(load) / len(load):.1f}, max {max(load):.1f}, on {os.cpu_count()} "
              f"cores; {jobs} seed(s) at a time.",
              f"GOALS: greedy accuracy up >= {GOAL_RISE} on every seed: {'yes' if min(rise) >= GOAL_RISE else 'no'} (smallest {min(rise):+.3f}); "
              f"sampled accuracy up on every seed: {'yes' if srise and min(srise) > 0 else 'no'}; "
              f"slowest run {slowest:.0f} s wall, most CPU {cpu:.0f} s, so {cpu / 2:.0f}-{cpu:.0f} s on 2 quiet cores "
              f"(<= {GOAL_SECONDS} s: {'yes' if cpu <= GOAL_SECONDS else 'only if it keeps both cores busy' if cpu / 2 <= GOAL_SECONDS else 'no'})"]
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--jobs", type=int, default=1, help="seeds run at once (default 1: each run has the cores to itself)")
    p.add_argument("--logs", type=Path, default=None, help="keep each seed's output in this folder")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    p.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--cache", default=None, help=argparse.SUPPRESS)
    p.add_argument("overrides", nargs="*", help="Hydra overrides after `--` (then it is no longer the default run)")
    a = p.parse_args(argv)
    if a.child is not None:
        print(_MARK + json.dumps(_child(a.child, a.cache, a.overrides)), flush=True)
        return
    if a.logs: a.logs.mkdir(parents=True, exist_ok=True)
    defaults = _defaults(a.overrides)
    with _Load() as load: results = _run_seeds(a.seeds, a.jobs, a.overrides, a.logs)
    print(report(results, defaults, load.samples, a.jobs, a.overrides), flush=True)
    if a.json: a.json.write_text(json.dumps({"defaults": defaults, "results": results, "load": load.samples, "jobs": a.jobs,
                                             "overrides": a.overrides}, indent=1))


if __name__ == "__main__":
    main()
