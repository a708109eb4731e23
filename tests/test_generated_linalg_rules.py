"""The rules of the linear-algebra helpers (adjointc/rules/generated_linalg.py): each
VJP against finite differences (check_vjp, the inner-product test) and each tangent
(check_jvp) over several shapes and `axes`, and end to end: the Hessian of a small
function whose adjoint calls the helper against central finite differences of its
gradient (which is itself checked elsewhere)."""
from __future__ import annotations

import numpy as np
import pytest

from adjointc import grad, hessian, jvp, rules
from adjointc.rules import generated_linalg
from adjointc.rules.helpers import elementwise, linalg
from adjointc.rules.testing import check_jvp, check_vjp

_r = np.random.default_rng(1)


def _n(*shape: int) -> np.ndarray:
    return _r.normal(size=shape)


def _wellconditioned(*shape: int) -> np.ndarray:
    return _n(*shape) + 3.0 * np.eye(shape[-1])


CASES = [
    (linalg.tensordot_lhs, (_n(3, 5), _n(3, 4), _n(4, 5), 1)),
    (linalg.tensordot_lhs, (1.7, _n(3, 4), _n(3, 4))),                       # (axes=2: a full contraction)
    (linalg.tensordot_lhs, (_n(2, 5), _n(3, 2, 4), _n(4, 3, 5), ([0, 2], [1, 0]))),
    (linalg.tensordot_rhs, (_n(3, 5), _n(3, 4), _n(4, 5), 1)),
    (linalg.tensordot_rhs, (1.7, _n(3, 4), _n(3, 4))),
    (linalg.tensordot_rhs, (_n(2, 5), _n(3, 2, 4), _n(4, 3, 5), ([0, 2], [1, 0]))),
    (linalg.outer_lhs, (_n(3, 4), _n(3), _n(4))),
    (linalg.outer_lhs, (_n(6, 4), _n(2, 3), _n(4))),                         # (operands are flattened)
    (linalg.outer_rhs, (_n(3, 4), _n(3), _n(4))),
    (linalg.outer_rhs, (_n(3, 4), _n(3), _n(2, 2))),
    (linalg.inner_lhs, (_n(3, 5), _n(3, 4), _n(5, 4))),
    (linalg.inner_lhs, (1.3, _n(4), _n(4))),
    (linalg.inner_rhs, (_n(3, 5), _n(3, 4), _n(5, 4))),
    (linalg.inner_rhs, (1.3, _n(4), _n(4))),
    (linalg.inv_vjp, (_n(3, 3), np.linalg.inv(_wellconditioned(3, 3)))),
    (linalg.inv_vjp, (_n(2, 3, 3), np.linalg.inv(_wellconditioned(2, 3, 3)))),
    (linalg.solve_rhs, (_n(3), _wellconditioned(3, 3), _n(3))),
    (linalg.solve_rhs, (_n(3, 2), _wellconditioned(3, 3), _n(3, 2))),
    (linalg.solve_rhs, (_n(2, 3, 2), _wellconditioned(2, 3, 3), _n(3, 2))),   # (b broadcast over a's batch)
    (linalg.solve_lhs, (_n(3), _wellconditioned(3, 3), _n(3), _n(3))),
    (linalg.solve_lhs, (_n(3, 2), _wellconditioned(3, 3), _n(3, 2), _n(3, 2))),
    (linalg.solve_lhs, (_n(2, 3, 2), _wellconditioned(3, 3), _n(2, 3, 2), _n(2, 3, 2))),  # (a broadcast)
    (elementwise.pow_dy, (np.abs(_n(3)) + 0.5, np.abs(_n(3)) + 0.5)),
    (elementwise.pow_dy, (np.abs(_n(3, 1)) + 0.5, np.abs(_n(3, 4)) + 0.5)),   # (x broadcast against x ** y)
    (elementwise.pow_dy, (1.7, 2.5)),
    (elementwise.dsinc, (_n(5),)),
    (elementwise.dsinc, (np.array([1e-5, -3e-5, 0.3]),)),                   # (the series near 0)
    (linalg.einsum_vjp, (_n(3, 5), "ij,jk->ik", [_n(3, 4), _n(4, 5)], 0)),
    (linalg.einsum_vjp, (_n(3, 5), "ij,jk->ik", [_n(3, 4), _n(4, 5)], 1)),
    (linalg.einsum_vjp, (_n(2), "ii,i->i", [_n(2, 2), _n(2)], 0)),           # (a diagonal)
    (linalg.einsum_vjp, (_n(3), "...i,i->...", [_n(3, 4), _n(4)], 1)),       # (an ellipsis)
    (linalg.einsum_vjp, (1.3, "i,i,i", [_n(4), _n(4), _n(4)], 2)),           # (three operands, implicit output)
    (linalg.einsum_vjp, (_n(3, 4), "ij,j->ij", [_n(3, 4), _n(1)], 1)),       # (a broadcast size-1 axis)
]
MINE = ("tensordot_lhs", "tensordot_rhs", "outer_lhs", "outer_rhs", "inner_lhs", "inner_rhs", "inv_vjp", "solve_rhs", "solve_lhs", "pow_dy", "dsinc", "einsum_vjp")


def _id(case) -> str:
    fn, args = case
    return f"{fn.__name__}{tuple(np.shape(a) if not isinstance(a, (list, tuple)) else 'axes' for a in args)}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_vjp_matches_finite_differences(case):
    fn, args = case
    out = check_vjp(fn, args)
    assert np.isfinite(out["fd"]) and abs(out["fd"]) > 0


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_tangent_matches_finite_differences(case):
    fn, args = case
    check_jvp(fn, args)


def test_every_linalg_helper_rule_is_tested():
    tested = {rules.lookup_object(fn).op for fn, _ in CASES}
    assert set(MINE) <= tested, sorted(set(MINE) - tested)
    assert all(not rules.lookup(op).nondiff for op in MINE)
    assert generated_linalg.__name__ == "adjointc.rules.generated_linalg"


# ------------------------------------------------------------------ end to end
def f_tensordot(x):
    m = np.reshape(x, (2, 3))
    return np.sum(np.tensordot(m, m * m, axes=([1], [1])) ** 2)


def f_outer(x):
    return np.sum(np.sin(np.outer(x, x * x)))


def f_inner(x):
    m = np.reshape(x, (2, 3))
    return np.sum(np.inner(m, np.cos(m)) ** 2)


def f_inv(x):
    m = np.reshape(x, (3, 3)) + 3.0 * np.eye(3)
    return np.sum(np.linalg.inv(m) ** 2)


def f_solve(x):
    m = np.reshape(x[:9], (3, 3)) + 3.0 * np.eye(3)
    return np.sum(np.linalg.solve(m, x[9:] * x[9:]) ** 2)


def f_solve_matrix(x):
    m = np.reshape(x[:4], (2, 2)) + 3.0 * np.eye(2)
    return np.sum(np.sin(np.linalg.solve(m, np.reshape(x[4:], (2, 2)))))


def f_pow(x):
    return np.sum(x[0] ** x) + np.sum(np.sinc(x * x))


def f_einsum(x):
    m = np.reshape(x, (2, 3))
    return np.sum(np.einsum("ij,kj->ik", m, np.sin(m)) ** 2) + np.einsum("i,i,i", x, x, x)


def _fd_hessian(f, x, h=1e-5):
    g = grad(f)
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        cols.append((g(x + e) - g(x - e)) / (2 * h))
    return np.array(cols).T


_E2E = [(f_tensordot, 6), (f_outer, 4), (f_inner, 6), (f_inv, 9), (f_solve, 12), (f_solve_matrix, 8), (f_pow, 3), (f_einsum, 6)]
_E2E_IDS = ["tensordot", "outer", "inner", "inv", "solve", "solve_matrix", "pow_sinc", "einsum"]


@pytest.mark.parametrize("f, n", _E2E, ids=_E2E_IDS)
def test_hessian_matches_finite_differences_of_gradient(f, n):
    x = np.random.default_rng(2).normal(size=n) * 0.5 + (1.0 if f is f_pow else 0.0)  # (x[0] > 0)
    H = hessian(f)(x)
    np.testing.assert_allclose(H, _fd_hessian(f, x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(H, H.T, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("f, n", _E2E, ids=_E2E_IDS)
def test_grad_of_grad_and_hvp_match_finite_differences(f, n):
    """Reverse over reverse (grad of <grad f, v>) and forward over reverse (jvp of grad)."""
    x = np.random.default_rng(4).normal(size=n) * 0.5 + (1.0 if f is f_pow else 0.0)
    v = np.random.default_rng(5).normal(size=n)
    want = _fd_hessian(f, x) @ v
    g = grad(f)

    def gv(y):
        return np.sum(g(y) * v)
    np.testing.assert_allclose(grad(gv)(x), want, rtol=1e-5, atol=1e-6)
    _, hv = jvp(g, (x,), (v,))
    np.testing.assert_allclose(hv, want, rtol=1e-5, atol=1e-6)
