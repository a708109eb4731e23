"""The rules of the linear-algebra helpers (adjointc/rules/generated_linalg.py): each
VJP against finite differences (check_vjp, the inner-product test) and each tangent
(check_jvp) over several shapes and `axes`, and end to end: the Hessian of a small
function whose adjoint calls the helper against central finite differences of its
gradient (which is itself checked elsewhere)."""
from __future__ import annotations

import numpy as np
import pytest

from adjointc import grad, hessian, jvp, rules, runtime
from adjointc.errors import NoAdjointRule
from adjointc.rules import generated_linalg
from adjointc.rules.helpers import elementwise, linalg
from adjointc.rules.testing import check_jvp, check_transpose, check_vjp

_r = np.random.default_rng(1)


def _n(*shape: int) -> np.ndarray:
    return _r.normal(size=shape)


def _wellconditioned(*shape: int) -> np.ndarray:
    return _n(*shape) + 3.0 * np.eye(shape[-1])


def _symmetric(*shape: int) -> np.ndarray:
    m = _n(*shape)
    return m + np.swapaxes(m, -1, -2)   # (distinct eigenvalues, almost surely)


def _spd(*shape: int) -> np.ndarray:
    m = _n(*shape)
    return m @ np.swapaxes(m, -1, -2) + np.eye(shape[-1])


_A, _AB, _S, _SB, _P, _PB = (_wellconditioned(3, 3), _wellconditioned(2, 3, 3), _symmetric(3, 3),
                             _symmetric(2, 4, 4), _spd(3, 3), _spd(2, 3, 3))
# det, slogdet, eigh, eigvalsh, cholesky: each helper's result read as given (ans: det(a),
# eigh(a), cholesky(a)), perturbed independently by the finite differences (the partials)
FACTOR_CASES = [
    (linalg.det_vjp, (1.3, _A, np.linalg.det(_A))),
    (linalg.det_vjp, (_n(2), _AB, np.linalg.det(_AB))),                     # (a batch)
    (linalg.slogdet_vjp, ([0.0, 1.4], _A)),
    (linalg.slogdet_vjp, ([_n(2), _n(2)], _AB)),
    (linalg.eigh_vjp, ([_n(3), _n(3, 3)], _S, np.linalg.eigh(_S))),
    (linalg.eigh_vjp, ([_n(2, 4), _n(2, 4, 4)], _SB, np.linalg.eigh(_SB, "U"), "U")),
    (linalg.eigvalsh_vjp, (_n(3), _S)),
    (linalg.eigvalsh_vjp, (_n(2, 4), _SB, "U")),
    (linalg.cholesky_vjp, (_n(3, 3), _P, np.linalg.cholesky(_P))),
    (linalg.cholesky_vjp, (np.tril(_n(2, 3, 3)), _PB, np.linalg.cholesky(_PB))),
]

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
    *FACTOR_CASES,
]
MINE = ("tensordot_lhs", "tensordot_rhs", "outer_lhs", "outer_rhs", "inner_lhs", "inner_rhs", "inv_vjp", "solve_rhs",
        "solve_lhs", "pow_dy", "dsinc", "einsum_vjp", "det_vjp", "slogdet_vjp", "eigh_vjp", "eigvalsh_vjp",
        "cholesky_vjp")


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


# ------------------------------------------------- det, slogdet, eigh, eigvalsh, cholesky
@pytest.mark.parametrize("case", FACTOR_CASES, ids=[_id(c) for c in FACTOR_CASES])
def test_tangent_and_vjp_of_the_factorisation_helpers_are_transposes(case):
    fn, args = case
    check_transpose(fn, args)


def _cofactor_matrix(a: np.ndarray) -> np.ndarray:
    """The cofactors of a 3 x 3 matrix by their definition (signed 2 x 2 minors)."""
    out = np.empty((3, 3))
    for i in range(3):
        for j in range(3):
            minor = np.delete(np.delete(a, i, 0), j, 1)
            out[i, j] = (-1) ** (i + j) * (minor[0, 0] * minor[1, 1] - minor[0, 1] * minor[1, 0])
    return out


_SINGULAR = [np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]]),    # (rank 2: inv fails)
             np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [3.0, 6.0, 9.0]])]    # (rank 1: the cofactors vanish)


@pytest.mark.parametrize("a", _SINGULAR, ids=["rank2", "rank1"])
def test_det_vjp_second_derivative_at_a_singular_matrix(a):
    """det_vjp's SVD branch (inv fails): there det_vjp does not read t = det(a), and its a-partial
    is the whole derivative of the cofactors. Compared with finite differences of the
    cofactor matrix by its definition along random directions, both ways (VJP and tangent)."""
    with pytest.raises(np.linalg.LinAlgError):
        np.linalg.inv(a)
    rng = np.random.default_rng(7)
    c, t = 1.7, np.linalg.det(a)
    assert np.allclose(linalg.det_vjp(c, a, t), c * _cofactor_matrix(a))
    u, w = rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    h = 1e-4
    fd = c * (_cofactor_matrix(a + h * u) - _cofactor_matrix(a - h * u)) / (2 * h)   # (a quadratic: exact)
    np.testing.assert_allclose(runtime.det_vjp_jvp(u, 0.0, c, a, t), fd, rtol=1e-7, atol=1e-9)
    assert runtime.det_vjp_dt(w, c, a, t) == 0.0 and np.all(runtime.det_vjp_jvp(0.0, 1.0, c, a, t) == 0.0)
    np.testing.assert_allclose(np.sum(runtime.det_vjp_da(w, c, a, t) * u), np.sum(w * fd), rtol=1e-7)
    assert abs(np.sum(runtime.det_vjp_da(w, c, a, t) * u)) > 1e-3


def test_eigh_second_derivative_at_a_repeated_eigenvalue_is_not_a_number():
    """Where eigenvalues repeat, eigenvectors have no derivative: eigh_vjp's partials are
    inf or nan there (never a finite wrong number), like eigh_vjp itself; eigvalsh_vjp's
    in a too (the eigenvalues, its weights' arguments in a Hessian, have none either)."""
    w, v = np.linalg.eigh(np.diag([1.0, 1.0, 3.0]))
    c = [np.ones(3), np.eye(3)]
    with np.errstate(invalid="ignore"):
        _, dv = runtime.eigh_vjp_dr(np.eye(3), c, (w, v))
        tangent = runtime.eigh_vjp_jvp_r([np.ones(3), np.eye(3)], c, (w, v))
    assert not np.all(np.isfinite(dv)) and not np.all(np.isfinite(tangent))
    for weights in (np.array([0.5, 0.5, 2.0]), np.array([1.0, 2.0, 3.0])):
        with np.errstate(invalid="ignore"):
            da = runtime.eigvalsh_vjp_da(np.eye(3), weights, np.diag([1.0, 1.0, 3.0]))
        assert not np.all(np.isfinite(da))


def f_eigvalsh_squares(x):
    m = np.reshape(x, (3, 3))
    return np.sum(np.linalg.eigvalsh(m + m.T) ** 2)    # (= the squared Frobenius norm of m + mᵀ)


def test_eigvalsh_hessian_at_a_repeated_eigenvalue_is_not_a_number():
    """Its Hessian is smooth (2 JᵀJ, J: m -> m + mᵀ), but the weights 2 w have no derivative at
    m + mᵀ = I: adjointc gives nan there, not a finite wrong value; right nearby."""
    J = np.array([(np.reshape(e, (3, 3)) + np.reshape(e, (3, 3)).T).ravel() for e in np.eye(9)]).T
    with np.errstate(invalid="ignore", divide="ignore"):
        assert np.all(np.isnan(hessian(f_eigvalsh_squares)(0.5 * np.eye(3).ravel())))
    x = np.random.default_rng(3).normal(size=9)
    np.testing.assert_allclose(hessian(f_eigvalsh_squares)(x), 2 * J.T @ J, atol=1e-9)


def f_det(x):
    m = np.reshape(x, (3, 3))
    return np.linalg.det(m) + np.linalg.det(m * m) ** 2


def f_det_plain(x):
    return np.linalg.det(np.reshape(x, (3, 3)))


def f_logdet(x):
    m = np.reshape(x, (3, 3)) + 3.0 * np.eye(3)
    sign, logdet = np.linalg.slogdet(m)
    return logdet * logdet + sign * np.sum(m)     # (the sign's adjoint is written too)


def f_eigh(x):
    m = np.reshape(x, (3, 3))
    w, v = np.linalg.eigh(m + m.T)
    return np.sum(w * np.array([1.0, 2.0, 3.0])) + np.sum(v[:, 0] ** 2 * w) + np.sum(w * w)


def f_eigvalsh(x):
    m = np.reshape(x, (3, 3))
    return np.sum(np.linalg.eigvalsh(m @ m.T, "U") * np.array([0.5, -1.0, 2.0]))


def f_gaussian(x):
    """The log-likelihood of y ~ N(0, K), K = B Bᵀ + I (B from x), through K's Cholesky factor."""
    b = np.reshape(x, (3, 2))
    L = np.linalg.cholesky(b @ b.T + np.eye(3))
    z = np.linalg.solve(L, np.array([0.3, -1.2, 0.8]))
    return -0.5 * np.sum(z * z) - np.sum(np.log(np.diagonal(L))) - 1.5 * np.log(2 * np.pi)


_FACTOR_E2E = [(f_det, 9), (f_logdet, 9), (f_eigh, 9), (f_eigvalsh, 9), (f_gaussian, 6)]
_FACTOR_IDS = ["det", "slogdet", "eigh", "eigvalsh", "cholesky_gaussian"]


@pytest.mark.parametrize("f, n", _FACTOR_E2E, ids=_FACTOR_IDS)
def test_factorisation_hessian_grad_of_grad_and_hvp(f, n):
    x = np.random.default_rng(2).normal(size=n) * 0.5
    v = np.random.default_rng(5).normal(size=n)
    want = _fd_hessian(f, x)
    H = hessian(f)(x)
    np.testing.assert_allclose(H, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(H, H.T, rtol=1e-7, atol=1e-9)
    g = grad(f)

    def gv(y):
        return np.sum(g(y) * v)
    np.testing.assert_allclose(grad(gv)(x), want @ v, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(jvp(g, (x,), (v,))[1], want @ v, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("a", _SINGULAR, ids=["rank2", "rank1"])
def test_det_hessian_at_a_singular_matrix(a):
    """det's Hessian at a singular matrix (det_vjp's SVD branch): the signed 1 x 1 minors,
    against finite differences of the gradient (nonsingular on both sides)."""
    x = a.ravel()
    want = _fd_hessian(f_det_plain, x)
    assert np.max(np.abs(want)) > 1.0
    np.testing.assert_allclose(hessian(f_det_plain)(x), want, rtol=1e-6, atol=1e-6)
    _, hv = jvp(grad(f_det_plain), (x,), (np.arange(9.0),))
    np.testing.assert_allclose(hv, want @ np.arange(9.0), rtol=1e-6, atol=1e-6)


def test_slogdet_third_derivative():
    """slogdet_vjp's templates use ops with rules only: a third derivative goes on
    (reverse over reverse over reverse, and forward over those two). The second-order
    adjoint restores a list slot (`_saved = snapshot(t_bar[0]); t_bar[0] = ...`): the
    alias check tells a slot rebound from the element it held (passes/sharing.Flow)."""
    x = np.random.default_rng(2).normal(size=9) * 0.5
    v, u = np.random.default_rng(5).normal(size=9), np.random.default_rng(6).normal(size=9)
    g = grad(f_logdet)
    g2 = grad(lambda y: np.sum(g(y) * v))
    h = 1e-5
    want = np.array([(np.sum(g2(x + h * e) * u) - np.sum(g2(x - h * e) * u)) / (2 * h) for e in np.eye(9)])
    np.testing.assert_allclose(grad(lambda y: np.sum(g2(y) * u))(x), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(jvp(g2, (x,), (np.eye(9)[3],))[1] @ u, want[3], rtol=1e-5, atol=1e-6)


def test_det_third_derivative_is_refused_located():
    g = grad(f_det_plain)
    g2 = grad(lambda y: np.sum(g(y) * np.arange(9.0)))
    with pytest.raises(NoAdjointRule, match="det_vjp_da") as e:
        grad(lambda y: np.sum(g2(y)))(np.arange(9.0) + np.eye(3).ravel())
    assert ".py:" in str(e.value)
