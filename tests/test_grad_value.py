"""grad returns the gradient alone, so its adjoint leaves out what only computes f's
value (passes/value.py); value_and_grad, has_aux and vjp keep it. Every case checks the
gradient numerically (adjointc.check: SymPy or finite differences), the value where one
is returned, and what the generated text holds."""
from __future__ import annotations

import math

import numpy as np
import pytest

import adjointc
from adjointc import check, grad, value_and_grad

_r = np.random.default_rng(41)


def mean_square(w1, w2, x, y):
    h = np.tanh(x @ w1)
    out = h @ w2
    return np.mean((out - y) ** 2)


def energy(u0, kappa):
    u = u0.copy()
    for _ in range(5):
        u[1:-1] = u[1:-1] + kappa * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return np.sum(u * u)


def may_raise(x, y, k=3):
    return x ** k * y + math.sin(y)


def accumulate(x):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + x[i] * x[i]
    return s


def dead_statements(x):
    pure = 3.0 * x  # noqa: F841 (dead: alone, it would go, as it cannot raise; but
    risky = math.sqrt(x)  # noqa: F841  this one raises for x < 0: it stays, and grad keeps all as before)
    return x * x


def forward_sweep(source: str) -> str:
    return source.split("# ---- backward sweep ----")[0]


def test_the_mean_of_a_loss_is_not_computed_by_grad():
    args = (_r.standard_normal((5, 4)), _r.standard_normal(4), _r.standard_normal((7, 5)), _r.standard_normal(7))
    g = grad(mean_square, wrt=(0, 1))
    report = check(mean_square, *args, wrt=(0, 1), gradient=g)
    assert report.passed, report
    fwd = forward_sweep(g.source)
    assert "np.mean" not in fwd and "** 2" not in fwd  # (only `out - y` is read by the backward sweep)
    assert "return (None, (w1_bar, w2_bar))" in g.source
    value, grads = value_and_grad(mean_square, wrt=(0, 1))(*args)
    assert value == pytest.approx(mean_square(*args), rel=1e-14)
    for a, b in zip(grads, g(*args)):
        np.testing.assert_allclose(a, b, rtol=1e-13)


def test_a_sum_of_squares_after_a_stencil_loop():
    u0, kappa = _r.standard_normal(12), 0.2
    g = grad(energy, wrt=(0, 1))
    assert check(energy, u0, kappa, wrt=(0, 1), gradient=g).passed
    assert "np.sum" not in forward_sweep(g.source)
    code = "\n".join(line for line in g.source.splitlines() if not line.lstrip().startswith("#"))
    assert "u * u" not in code  # (the adjoint of the sum reads u's shape, never computes u * u)
    value, _ = value_and_grad(energy, wrt=(0, 1))(u0, kappa)
    assert value == pytest.approx(energy(u0, kappa), rel=1e-14)


@pytest.mark.parametrize("x,y", [(1.5, 0.3), (-0.7, 2.0), (2.0, -1.1)])
def test_a_value_that_may_raise_is_kept_and_returned(x, y):
    # math.sin and x ** k (an int k) may raise: never left out, so the value is returned
    # rather than computed into a dead name
    g = grad(may_raise, wrt=(0, 1))
    assert check(may_raise, x, y, wrt=(0, 1), gradient=g, method="sympy").passed
    src = g.source
    assert "return (None," not in src and "math.sin(y)" in forward_sweep(src)


def test_a_loop_accumulator_is_returned_as_it_is_computed_anyway():
    x = _r.standard_normal(6)
    g = grad(accumulate)
    assert check(accumulate, x, gradient=g).passed
    assert "return (s, (x_bar,))" in g.source


def test_the_users_dead_statement_that_may_raise_keeps_the_value():
    g = grad(dead_statements)
    assert check(dead_statements, 1.3, gradient=g, method="sympy").passed
    assert "risky = math.sqrt(x)" in g.source and "return (result, (x_bar,))" in g.source
    with pytest.raises(ValueError):
        g(-1.0)  # (as dead_statements(-1.0) raises)


def test_has_aux_and_vjp_keep_the_value():
    def with_aux(x):
        r = np.sum(x * x)
        return r, 2.0 * r

    x = _r.standard_normal(4)
    gr, aux = grad(with_aux, has_aux=True)(x)
    np.testing.assert_allclose(gr, 2 * x, rtol=1e-14)
    assert aux == pytest.approx(2.0 * np.sum(x * x), rel=1e-14)
    value, pullback = adjointc.vjp(lambda v: np.sum(v ** 3), x)
    assert value == pytest.approx(np.sum(x ** 3), rel=1e-14)
    np.testing.assert_allclose(pullback(1.0), 3 * x ** 2, rtol=1e-13)


def test_grad_and_value_and_grad_are_cached_apart(tmp_path, monkeypatch):
    monkeypatch.setenv("ADJOINTC_CACHE_DIR", str(tmp_path))
    args = (_r.standard_normal((3, 2)), _r.standard_normal(2), _r.standard_normal((4, 3)), _r.standard_normal(4))
    g, vg = grad(mean_square, wrt=(0, 1)), value_and_grad(mean_square, wrt=(0, 1))
    g(*args)
    value, _ = vg(*args)
    assert value == pytest.approx(mean_square(*args), rel=1e-14)
    assert g.source != vg.source and "np.mean" in vg.source
    # a second Gradient of each (memo empty: from the disk cache) still tells them apart
    value2, _ = value_and_grad(mean_square, wrt=(0, 1))(*args)
    assert value2 == value
    assert "np.mean" not in forward_sweep(grad(mean_square, wrt=(0, 1)).source_for(*args))


def test_grad_of_grad_through_an_adjoint_without_value():
    def cubic(x):
        return np.sum(x * x * x)

    x = _r.standard_normal(3)
    hess = adjointc.hessian(cubic)(x)
    np.testing.assert_allclose(hess, np.diag(6 * x), rtol=1e-12, atol=1e-12)
    second = grad(lambda v: np.sum(grad(cubic)(v) ** 2))(x)
    np.testing.assert_allclose(second, 2 * (3 * x ** 2) * 6 * x, rtol=1e-12)
