"""Properties of `agent_tunix.grpo` on random rewards (hypothesis), beyond the notebook's examples.

Shapes are fixed (8 prompts x 4 generations, 3 reward functions) so that each jitted function
compiles once; rewards are drawn from halves in [-8, 8] (exact in float32, so float32 and
Tunix's float64 agree) with NaNs where a test allows them.
"""
import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")

from functools import partial

import jax
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from agent_tunix.analysis import dead_group_share, within_group_std
from agent_tunix.grpo import (compute_advantages, dead_group_mask, drgrpo_advantages, grpo_advantages,
                              multi_reward_advantages, rloo_advantages)

P, G, F = 8, 4, 3
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
halves = st.integers(-16, 16).map(lambda k: k / 2)
finite = hnp.arrays(np.float64, P * G, elements=halves)
with_nans = hnp.arrays(np.float64, P * G, elements=st.one_of(halves, st.just(np.nan)))

grpo = jax.jit(partial(grpo_advantages, num_generations=G))
grpo_batch = jax.jit(partial(grpo_advantages, num_generations=G, scale="batch"))
drgrpo = jax.jit(partial(drgrpo_advantages, num_generations=G))
rloo = jax.jit(partial(rloo_advantages, num_generations=G))
dead = jax.jit(lambda r: dead_group_mask(r, G).mean())

@SETTINGS
@given(finite)
def test_grpo_equals_tunix_on_finite_rewards(r):
    tunix = pytest.importorskip("tunix.rl.function_registry").get_advantage_estimator("grpo")
    np.testing.assert_allclose(grpo(r), tunix(r, G), atol=1e-4, rtol=1e-4)

@SETTINGS
@given(with_nans)
def test_each_group_sums_to_zero_and_nans_score_zero(r):
    for f in (grpo, grpo_batch, drgrpo, rloo):
        a = np.asarray(f(r))
        assert np.isfinite(a).all()
        assert (a[np.isnan(r)] == 0).all()
        np.testing.assert_allclose(a.reshape(P, G).sum(axis=1), 0, atol=1e-4)

@SETTINGS
@given(finite, st.floats(0.5, 4), st.floats(-5, 5))
def test_grpo_ignores_the_rewards_scale_and_offset(r, a, b):
    # (a d) / (a s + eps) vs d / (s + eps): equal up to eps, and exactly 0 where the group is constant
    np.testing.assert_allclose(grpo(a * r + b), grpo(r), atol=1e-3)
    np.testing.assert_allclose(drgrpo(a * r + b), a * np.asarray(drgrpo(r)), atol=1e-4)

@SETTINGS
@given(with_nans, st.permutations(range(G)))
def test_permuting_a_group_permutes_its_advantages(r, perm):
    shuffled = r.reshape(P, G)[:, perm].reshape(-1)
    for f in (grpo, drgrpo, rloo):
        np.testing.assert_allclose(np.asarray(f(shuffled)).reshape(P, G), np.asarray(f(r)).reshape(P, G)[:, perm], atol=1e-5)

@SETTINGS
@given(with_nans)
def test_dead_groups_are_the_groups_with_zero_advantage(r):
    zero = (np.asarray(grpo(r)).reshape(P, G) == 0).all(axis=1)
    np.testing.assert_allclose(dead(r), zero.mean(), atol=1e-6)

@SETTINGS
@given(with_nans, st.permutations(range(P * G)))
def test_one_dead_group_rule_in_jax_and_in_numpy(r, perm):
    "The jitted mask and the numpy statistics agree on the same rewards, NaNs included, in every shape both take."
    share = float(dead(r))
    assert dead_group_share(r, num_generations=G) == pytest.approx(share, abs=1e-6)
    assert dead_group_share(r.reshape(P, G)) == pytest.approx(share, abs=1e-6)
    assert float(dead_group_mask(r.reshape(P, G)).mean()) == pytest.approx(share, abs=1e-6)
    ids = np.repeat(np.arange(P), G)[list(perm)]                  # the same groups by label, in any order
    assert dead_group_share(r[list(perm)], ids) == pytest.approx(share, abs=1e-6)
    assert within_group_std(r[list(perm)], ids) == pytest.approx(within_group_std(r, num_generations=G), abs=1e-12)

@SETTINGS
@given(hnp.arrays(np.float64, (P * G, F), elements=st.one_of(halves, st.just(np.nan))),
       hnp.arrays(np.float64, F, elements=st.floats(0, 2)))
def test_several_functions_are_finite_and_one_function_is_grpo(R, w):
    for aggregation in ("sum_then_normalize", "normalize_then_sum"):
        assert np.isfinite(multi_reward_advantages(R, G, weights=w, aggregation=aggregation)).all()
    only_first = np.array([1.0] + [0.0] * (F - 1))
    col = R[:, 0]
    np.testing.assert_allclose(compute_advantages(R, G, weights=only_first),
                               grpo(np.where(np.isnan(R).all(axis=1), np.nan, np.nan_to_num(col))), atol=1e-4)
