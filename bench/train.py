#!/usr/bin/env python
"""Our training loop against a bare Tunix GRPOLearner: the overhead of recording, reward wrapping, run folder and hooks.

Run from the repository root:

    python bench/train.py                     # tiny Qwen3, 40 GRPO steps each way, twice, alternating
    python bench/train.py --steps 80 --repeats 3 --batch-size 16 --generations 8

**Bare**: Tunix's `RLCluster` (vanilla rollout, reseeded per step as ours is, so both sample the same amount)
and `GRPOLearner`, built by hand with the same model, batch, generations, optimizer and the same batch rewards
(`RunConfig.rewards()`, the lifted rewards), no checkpoints, no metrics files, no hooks.
**Ours**: `agent_tunix.train.train` with the same config: the `RewardRecorder` around each reward, Orbax checkpoints
every `training.save_every_n_steps`, TensorBoard, the training hooks, held-out evaluation off
(`training.eval_every_n_steps=0`), no warm start and no held-out rows (the before/after evaluations are not GRPO).

Both are timed from the start of `learner.train` to its end, compile included (the same model compiles the same
functions in both); the runs alternate, so drift in the machine's load affects both. Tokens/s counts the completion
tokens Tunix reports (`completions/mean_length` x completions per step). It prints figures only; nothing asserts.
"""
import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("JAX_PLATFORMS", "cpu")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from agent_tunix import train as T  # noqa: E402
from agent_tunix.config import compose_config, validate_config  # noqa: E402
from agent_tunix.data import batches, synthetic_arithmetic  # noqa: E402
from agent_tunix.models import load_model, make_mesh, reference_copy  # noqa: E402


def completion_tokens(metrics_logger, steps: int, per_step: int) -> float:
    "Completion tokens over the run, from the mean lengths Tunix logged (one per step)."
    try: lengths = metrics_logger.get_metric_history("completions", "mean_length", "train")
    except ValueError: return float("nan")
    return float(np.sum(lengths[:steps]) * per_step)


def bare(run, rows) -> tuple[float, float]:
    "(seconds, completion tokens) of a bare Tunix GRPOLearner over `run.training.max_steps` steps."
    from tunix.rl import rl_cluster as rlc
    from tunix.rl.grpo.grpo_learner import GRPOConfig, GRPOLearner
    from tunix.rl.rollout import base_rollout
    t, g, gen = run.training, run.grpo, run.generation
    mesh = make_mesh()
    model, tok = load_model(run.model, mesh)
    rollout = base_rollout.RolloutConfig(max_tokens_to_generate=gen.max_tokens_to_generate, max_prompt_length=gen.max_prompt_length,
                                         kv_cache_size=gen.max_prompt_length + gen.max_tokens_to_generate + 8,
                                         temperature=gen.temperature, top_p=gen.top_p, top_k=gen.top_k, eos_tokens=[tok.eos_id()])
    training = rlc.RLTrainingConfig(actor_optimizer=T.make_optimizer(run.optimizer), max_steps=t.max_steps,
                                    eval_every_n_steps=t.max_steps + 1)
    cluster = rlc.RLCluster(actor=model, reference=reference_copy(model), tokenizer=tok, cluster_config=rlc.ClusterConfig(
        role_to_mesh={r: mesh for r in (rlc.Role.ACTOR, rlc.Role.REFERENCE, rlc.Role.ROLLOUT)},
        rollout_engine=T.reseeding_rollout(t.seed * 1_000_003), offload_to_cpu=False, training_config=training, rollout_config=rollout))
    learner = GRPOLearner(rl_cluster=cluster, algo_config=GRPOConfig(num_generations=g.num_generations, beta=g.beta),
                          reward_fns=run.rewards(), data_shuffle_seed=t.seed)
    start = time.perf_counter()
    learner.train(batches(rows, t.batch_size, seed=t.seed))
    secs = time.perf_counter() - start
    return secs, completion_tokens(cluster.actor_trainer.metrics_logger, t.max_steps, t.batch_size * g.num_generations)


def ours(run, rows) -> tuple[float, float]:
    "(seconds, completion tokens) of `train` over the same steps (GRPO only: no warm start, no held-out rows)."
    captured = {}
    build = T.build_learner
    def spy(*a, **k):
        captured["learner"] = learner = build(*a, **k)
        return learner
    T.build_learner = spy
    try: log = T.train(run, rows=(rows, []), out=io.StringIO())
    finally: T.build_learner = build
    t, g = run.training, run.grpo
    logger = captured["learner"].rl_cluster.actor_trainer.metrics_logger
    return log.evaluations["grpo_seconds"], completion_tokens(logger, t.max_steps, t.batch_size * g.num_generations)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--generations", type=int, default=8)
    p.add_argument("--max-tokens", type=int, default=20)
    p.add_argument("--overrides", nargs="*", default=[], help="more Hydra overrides, e.g. model.lora.rank=8")
    a = p.parse_args()
    runs_dir = tempfile.mkdtemp(prefix="bench_train_")
    run = validate_config(compose_config([
        f"training.max_steps={a.steps}", f"training.batch_size={a.batch_size}", f"grpo.num_generations={a.generations}",
        f"generation.max_tokens_to_generate={a.max_tokens}", "training.warm_start_steps=0", "data.num_eval=0",
        f"training.runs_dir={runs_dir}", *a.overrides]))
    rows = synthetic_arithmetic(2000, seed=0)
    print(f"{a.steps} GRPO steps x {a.batch_size} prompts x {a.generations} completions (<= {a.max_tokens} tokens), "
          f"model {run.model.name}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}", flush=True)
    res = {"bare": [], "ours": []}
    for i in range(a.repeats):
        for name, fn in (("bare", bare), ("ours", ours)):
            secs, toks = fn(run, rows)
            res[name].append((secs, toks))
            print(f"  {name:4} #{i + 1}: {secs:7.1f} s  {a.steps / secs:6.3f} steps/s  {toks / secs:8.0f} tokens/s", flush=True)
    best = {k: min(s for s, _ in v) for k, v in res.items()}
    mean = {k: float(np.mean([s for s, _ in v])) for k, v in res.items()}
    print(f"overhead of ours: {100 * (best['ours'] / best['bare'] - 1):+.1f} % (best of {a.repeats}), "
          f"{100 * (mean['ours'] / mean['bare'] - 1):+.1f} % (mean); goal: under 3 %")
    print(f"steps/s: bare {a.steps / best['bare']:.3f}, ours {a.steps / best['ours']:.3f}; load now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
