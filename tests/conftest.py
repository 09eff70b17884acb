"""Helpers shared by test modules: Tunix's real reward manager, wired the way `GRPOLearner` wires it.

Tunix and JAX are imported inside the helpers, so a test module that uses them only in some tests keeps
its other tests running where Tunix is not installed (mark those tests with `needs_tunix`).
"""

import importlib.util
import os
import sys
import types
from pathlib import Path

import numpy as np
import pytest

# The repository root, so that `tests.misbehaving` (a reward that guarded workers import by module) is found under
# a plain `pytest` as under `python -m pytest`.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path: sys.path.insert(0, str(ROOT))

needs_tunix = pytest.mark.skipif(importlib.util.find_spec("tunix") is None, reason="needs Tunix (google-tunix)")

G = 4  # generations per prompt

# Two dataset rows, as a Tunix data loader hands them over: a dict of numpy arrays.
DATASET_BATCH = {
    "prompts": np.array(["What is 2 + 2?", "What is 3 * 2?"]),
    "answer": np.array(["4", "6"]),
}

# What the rollout "generated": G completions per prompt, in Tunix's order (row-major).
COMPLETIONS = [
    # prompt 0, answer 4
    "2 + 2 = 4. The answer is 4.",  # 0_0 exact, right format
    "The answer is 4.2.",  # 0_1 within 10%, right format
    "I think it is 5",  # 0_2 wrong (25% off), no format
    "",  # 0_3 empty (the broken reward raises on it)
    # prompt 1, answer 6
    "The answer is 6.",  # 1_0 exact, right format
    "3 * 2 = 6",  # 1_1 exact, no format
    "The answer is 12.",  # 1_2 wrong, right format (the broken reward returns NaN)
    "no idea",  # 1_3 nothing
]


def _cpu():
    "Keep JAX on the CPU for these helpers (no effect once JAX is imported)."
    os.environ.setdefault("JAX_PLATFORMS", "cpu")


def make_config(**kw):
    _cpu()
    from tunix.rl.grpo.grpo_learner import GRPOConfig
    return GRPOConfig(num_generations=G, **kw)


def make_manager(reward_fns, config):
    """Exactly what `RLLearner.__init__` does to build its reward manager."""
    from tunix.rl import function_registry
    manager_cls = function_registry.get_reward_manager(config.reward_manager)
    return manager_cls(reward_fns=reward_fns, algo_config=config)


def tunix_batch(dataset_batch, config, steps=0):
    """`RLLearner._prepare_data`: repeat each column per generation, then add trajectory ids."""
    _cpu()
    import jax
    from tunix.rl.grpo.grpo_learner import GRPOLearner
    example = jax.tree.map(lambda x: np.repeat(x, config.num_generations, axis=0), dataset_batch)
    learner = types.SimpleNamespace(algo_config=config)
    example["trajectory_ids"] = GRPOLearner._compute_trajectory_ids(learner, example, steps)
    return example


class MetricsSink:
    """Stands in for `RLCluster.buffer_metrics`, recording what the learner would log."""

    def __init__(self):
        self.buffered = []

    def buffer_metrics(self, metrics, mode):
        self.buffered.append((mode, metrics))


def compute_rewards(reward_fns, completions=COMPLETIONS, dataset_batch=DATASET_BATCH, mode=None, config=None):
    """Run `RLLearner._compute_rewards` as `GRPOLearner._generate_and_compute_advantage` calls it (mode None: train).

    Returns (summed rewards, the logged metrics dict, the mode they were logged under).
    """
    config = config or make_config()
    from tunix.rl import rl_learner
    from tunix.rl.rl_cluster import Mode
    sink = MetricsSink()
    learner = types.SimpleNamespace(reward_manager=make_manager(reward_fns, config), rl_cluster=sink)
    training_input = tunix_batch(dataset_batch, config)
    rewards = rl_learner.RLLearner._compute_rewards(
        learner,
        prompts=training_input["prompts"],
        completions=list(completions),
        mode=Mode.TRAIN if mode is None else mode,
        **{k: v for k, v in training_input.items() if k != "prompts"},
    )
    (logged_mode, metrics), = sink.buffered
    return rewards, metrics, logged_mode


def metric(metrics, key):
    values, agg = metrics[key]
    return np.asarray(values, dtype=float), agg
