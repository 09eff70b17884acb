"""Properties of the learned reward model's features and scores on arbitrary text (see nbs/05_reward_model.ipynb)."""

import math
import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import pytest

pytest.importorskip("jax")
import jax  # noqa: E402
import numpy as np  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from agent_tunix.core import batch_reward  # noqa: E402
from agent_tunix.reward_model import RewardModel, init_reward_model, text_features  # noqa: E402

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MODEL = RewardModel(init_reward_model(jax.random.key(0), dim=64, hidden=8), dim=64, name="random_rm")


@SETTINGS
@given(response=st.text(max_size=400), prompt=st.text(max_size=100), dim=st.integers(2, 256))
def test_features_are_unit_length_or_zero(response, prompt, dim):
    x = text_features(response, prompt, dim=dim)
    assert x.shape == (dim,) and np.isfinite(x).all()
    n = float(np.linalg.norm(x))
    assert n == 0.0 or math.isclose(n, 1.0, rel_tol=1e-5)


@SETTINGS
@given(responses=st.lists(st.text(max_size=200), min_size=1, max_size=5))
def test_reward_model_scores_are_finite_floats(responses):
    raw = MODEL.score_batch(None, responses)   # the model's own scores: no fallback stands between them and the check
    assert raw.shape == (len(responses),) and np.isfinite(raw).all()
    lifted = batch_reward(MODEL)
    scores = lifted(None, responses)
    assert all(isinstance(s, float) for s in scores)
    assert scores == pytest.approx(raw.tolist(), abs=1e-6)   # trainers get the model's scores, not fallbacks
    bound = float(np.abs(MODEL.params["w2"]).sum() + abs(MODEL.params["b2"]))   # tanh keeps |score| below this
    assert all(abs(s) <= bound + 1e-6 for s in scores)
    assert lifted.failures == 0
