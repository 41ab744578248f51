"""Gram-Schmidt: orthonormal rows for any input, the right span, finite gradients, and the
numpy twin equal to the torch one."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ifagent_ros.core.latent_actions.models import gram_schmidt
from ifagent_ros.core.latent_actions.runtime import gram_schmidt_np

finite = st.floats(-1e3, 1e3, allow_nan=False, width=32)
pairs = arrays(np.float32, (2, 6), elements=finite)


def _degenerate(v: np.ndarray, mode: int, scale: float) -> np.ndarray:
    """Turns a random pair into a hard case: v2 = s*v1, v1 = 0, v2 = 0, both 0, tiny scale."""
    v = v.copy()
    if mode == 1:
        v[1] = scale * v[0]
    elif mode == 2:
        v[0] = 0.0
    elif mode == 3:
        v[1] = 0.0
    elif mode == 4:
        v[:] = 0.0
    elif mode == 5:
        v *= 1e-20
    elif mode == 6:
        v[1] = scale * v[0] + 1e-9 * v[1]  # near-parallel
    return v


def _check_orthonormal(b: np.ndarray, tol: float) -> None:
    assert np.all(np.isfinite(b))
    np.testing.assert_allclose(b @ b.T, np.eye(2), atol=tol)


@settings(max_examples=300, deadline=None)
@given(pairs, st.integers(0, 6), st.floats(-5.0, 5.0))
def test_rows_are_orthonormal_for_any_input(v: np.ndarray, mode: int, scale: float) -> None:
    v = _degenerate(v, mode, scale)
    _check_orthonormal(gram_schmidt(torch.from_numpy(v)[None])[0].numpy(), 1e-5)
    _check_orthonormal(gram_schmidt_np(v), 1e-9)


@settings(max_examples=200, deadline=None)
@given(pairs)
def test_span_and_first_direction_are_kept(v: np.ndarray) -> None:
    v = v.astype(np.float64)
    n1 = np.linalg.norm(v[0])
    resid = np.linalg.norm(v[1] - (v[1] @ v[0]) / max(n1 * n1, 1e-300) * v[0])
    if n1 < 1e-3 or resid < 1e-2 * max(np.linalg.norm(v[1]), 1e-3):
        return  # degenerate: covered above
    for b in (gram_schmidt(torch.from_numpy(v)[None])[0].numpy(), gram_schmidt_np(v)):
        np.testing.assert_allclose(b[0], v[0] / n1, atol=1e-5)
        assert b[1] @ v[1] > 0  # B2 points along v2's orthogonal part
        proj = b.T @ (b @ v.T)  # both inputs lie in span(B)
        np.testing.assert_allclose(proj, v.T, atol=1e-4 * max(1.0, np.abs(v).max()))


def test_numpy_twin_equals_torch() -> None:
    rng = np.random.default_rng(0)
    v = rng.normal(size=(500, 2, 6))
    bt = gram_schmidt(torch.from_numpy(v)).numpy()
    bn = np.stack([gram_schmidt_np(x) for x in v])
    np.testing.assert_allclose(bn, bt, atol=1e-10)


@pytest.mark.parametrize("mode", [0, 1, 2, 3, 4, 6])
def test_gradients_stay_finite(mode: int) -> None:
    v = _degenerate(np.random.default_rng(mode).normal(size=(2, 6)).astype(np.float32), mode, 2.0)
    x = torch.from_numpy(v)[None].requires_grad_(True)
    target = torch.randn(1, 2, 6, generator=torch.Generator().manual_seed(1))
    (gram_schmidt(x) * target).sum().backward()
    assert torch.isfinite(x.grad).all()


def test_parallel_rows_get_an_orthogonal_fallback() -> None:
    v = np.array([[0.0, 1.0, 0.0, 0.0, 0.0, 0.0], [0.0, -3.0, 0.0, 0.0, 0.0, 0.0]])
    for b in (gram_schmidt(torch.from_numpy(v)[None])[0].numpy(), gram_schmidt_np(v)):
        np.testing.assert_allclose(b[0], v[0])
        _check_orthonormal(b, 1e-9)


def test_wrong_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="2, D"):
        gram_schmidt(torch.zeros(1, 3, 6))
