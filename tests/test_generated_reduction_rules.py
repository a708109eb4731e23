"""The rules of the reduction, scan, interpolation and norm helpers
(adjointc/rules/generated_reductions.py): each VJP against finite differences
(check_vjp, the inner-product test) and each tangent (check_jvp), over several
shapes and options, the branches finite differences cannot cross (cumprod with zeros)
against brute-force sums; and end to end: the Hessian (forward over reverse), jacrev
of the gradient (reverse over reverse) and the tangent of the gradient of small
functions whose adjoints call the helpers, against central finite differences; the
statement np.add.at in user code; a third derivative through the interp helpers."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from adjointc import grad, hessian, jacrev, rules, tangent, value_and_grad
from adjointc.errors import NoAdjointRule
from adjointc.rules import generated_reductions as G
from adjointc.rules.helpers import elementwise, linalg, reductions
from adjointc.rules.testing import check_jvp, check_transpose, check_vjp

_r = np.random.default_rng(3)


def _n(*shape: int) -> np.ndarray:
    return _r.normal(size=shape)


def _away(*shape: int) -> np.ndarray:
    """Entries away from 0 (cumprod's branch without zeros, well-scaled)."""
    return np.sign(_n(*shape)) * (0.5 + _r.random(shape))


def _wellconditioned(*shape: int) -> np.ndarray:
    return _n(*shape) + 3.0 * np.eye(shape[-1])


_A = _away(3, 4)
_V = _away(5)
_XP, _FP = np.array([-1.0, 0.0, 0.5, 2.0]), np.array([0.3, 1.0, -0.5, 2.0])
_XI = np.array([-1.5, -0.7, 0.2, 0.3, 1.1, 2.5])   # (outside on both sides, two in one segment)
_M = _n(3, 4)
_MB = _n(2, 4, 3)
_SA = _wellconditioned(3, 3)
_B1, _B2 = _n(3), _n(3, 2)
CASES = [
    (reductions.prod_of_others, (_n(5),)),
    (reductions.prod_of_others, (_n(3, 4), 1)),
    (reductions.prod_of_others, (_n(2, 3, 4), (0, 2))),
    (reductions.prod_of_others, (np.array([0.5, 0.0, -1.5, 2.0]),)),         # (a zero)
    (reductions.prod_of_others, (np.array([[0.0, 0.0, 2.0], [1.0, 3.0, 0.0]]), 1)),   # (two zeros)
    (reductions.cumprod_vjp, (_away(5), _V, np.cumprod(_V))),
    (reductions.cumprod_vjp, (_away(3, 4), _A, np.cumprod(_A, 1), 1)),
    (reductions.cumprod_vjp, (_away(12), _A, np.cumprod(_A))),               # (axis None: the flat scan)
    (reductions.cumprod_jvp, (_away(5), _V, np.cumprod(_V))),
    (reductions.cumprod_jvp, (_away(3, 4), _A, np.cumprod(_A, 0), 0)),
    (reductions.cumprod_jvp, (_away(3, 4), _A, np.cumprod(_A))),
    (elementwise.interp_slope, (_XI, _XP, _FP)),
    (elementwise.interp_slope, (0.3, _XP, _FP)),
    (elementwise.interp_vjp, (_n(6), _XI, _XP)),
    (elementwise.interp_vjp, (_n(6), _XI, _XP, 0.0, 1.0)),                   # (left, right given)
    (elementwise.interp_vjp, (1.3, _XI, _XP)),                               # (g broadcast over x)
    (elementwise.interp_jvp, (_n(4), _XI, _XP)),
    (elementwise.interp_jvp, (_n(4), 0.7, _XP, 0.0, None)),
    (linalg.norm_vjp, (1.3, _V, np.linalg.norm(_V, 3), 3)),
    (linalg.norm_vjp, (1.3, _V, np.linalg.norm(_V, -1), -1)),
    (linalg.norm_vjp, (1.3, _V, np.linalg.norm(_V, 2), 2)),
    (linalg.norm_vjp, (_n(3), _M, np.linalg.norm(_M, 2.5, 1), 2.5, 1)),
    (linalg.norm_vjp, (_n(3, 1), _M, np.linalg.norm(_M, 4, 1, True), 4, 1, True)),
    (linalg.norm_vjp, (1.3, _M, np.linalg.norm(_M, "fro"), "fro")),
    (linalg.norm_vjp, (1.3, _M, np.linalg.norm(_M, "nuc"), "nuc")),
    (linalg.norm_vjp, (1.3, _M.T, np.linalg.norm(_M.T, "nuc"), "nuc")),     # (more rows than columns)
    (linalg.norm_vjp, (1.3, _M, np.linalg.norm(_M, 2), 2)),
    (linalg.norm_vjp, (1.3, _M.T, np.linalg.norm(_M.T, -2), -2)),
    (linalg.norm_vjp, (_n(2), _MB, np.linalg.norm(_MB, 2, (2, 1)), 2, (2, 1))),   # (batched, axes swapped)
    (linalg.norm_vjp, (_n(2), _MB, np.linalg.norm(_MB, "nuc", (1, 2)), "nuc", (1, 2))),
    (linalg.norm_vjp, (1.3, _M, np.linalg.norm(_M, -1), -1)),                # (matrix -1: piecewise constant)
    (linalg.norm_jvp, (_n(5), _V, np.linalg.norm(_V, 3), 3)),
    (linalg.norm_jvp, (_n(3, 4), _M, np.linalg.norm(_M, 2.5, 1), 2.5, 1)),
    (linalg.norm_jvp, (_n(3, 4), _M, np.linalg.norm(_M, "fro"), "fro")),
    (linalg.norm_jvp, (_n(3, 4), _M, np.linalg.norm(_M, "nuc"), "nuc")),
    (linalg.norm_jvp, (_n(4, 3), _M.T, np.linalg.norm(_M.T, 2), 2)),
    (linalg.norm_jvp, (_n(2, 4, 3), _MB, np.linalg.norm(_MB, -2, (1, 2)), -2, (1, 2))),
    (linalg.einsum_args_vjp, (_n(4), (_n(4), [0], _n(4), [0], [0]), 0)),
    (linalg.einsum_args_vjp, (_n(3, 5), (_n(3, 4), [0, 1], _n(4, 5), [1, 2]), 2)),   # (implicit output)
    (linalg.einsum_args_vjp, (_n(3), ("ij,j->i", _n(3, 4), _n(4)), 2)),     # (subscripts as a value)
    (linalg.solve_jvp, (_n(3, 3), _SA, _B1, np.linalg.solve(_SA, _B1))),
    (linalg.solve_jvp, (_n(3, 3), _SA, _B2, np.linalg.solve(_SA, _B2))),
    (elementwise.rebroadcast, (_n(4), _n(3, 4))),
    (elementwise.rebroadcast, (_n(3, 1), _n(3, 4))),
    (elementwise.rebroadcast, (1.5, _n(2))),
    (G.add_at, (_n(5), [0, 3, 3, 1], _n(4))),
    (G.add_at, (_n(4, 3), ([0, 2, 0], [1, 1, 1]), 1.5)),                     # (v broadcast)
]
# the piecewise-constant slopes: the cotangent's derivative only (S reads r through ties)
PIECEWISE = [
    (linalg.norm_vjp, (1.3, _V, np.linalg.norm(_V, np.inf), np.inf)),
    (linalg.norm_vjp, (_n(3), _M, np.linalg.norm(_M, 1, 1), 1, 1)),
    (linalg.norm_vjp, (1.3, _M, np.linalg.norm(_M, -np.inf), -np.inf)),
    (linalg.norm_jvp, (_n(3, 4), _M, np.linalg.norm(_M, 1), 1)),
    (linalg.norm_jvp, (_n(5), _V, np.linalg.norm(_V, 0), 0)),
]
MINE = ("prod_of_others", "cumprod_vjp", "cumprod_jvp", "interp_slope", "interp_vjp", "interp_jvp", "norm_vjp",
        "norm_jvp", "einsum_args_vjp", "solve_jvp", "rebroadcast", "add_at")


def _id(case) -> str:
    fn, args = case
    return f"{fn.__name__}{tuple(np.shape(a) if not isinstance(a, (list, tuple, str)) else 'seq' for a in args)}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_vjp_matches_finite_differences(case):
    fn, args = case
    out = check_vjp(fn, args)
    assert np.isfinite(out["fd"]) and abs(out["fd"]) > 0


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_tangent_matches_finite_differences(case):
    fn, args = case
    check_jvp(fn, args)


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_tangent_and_vjp_are_transposes(case):
    fn, args = case
    check_transpose(fn, args)


@pytest.mark.parametrize("case", PIECEWISE, ids=[_id(c) for c in PIECEWISE])
def test_piecewise_constant_norm_slopes(case):
    """inf, -inf, 0 and 1 (and the matrix -1): S is piecewise constant, so the rule has no
    template for x or r where ord is a constant int, and the slope helpers give zeros
    where it is not (np.inf reaches the rule as a value)."""
    fn, args = case
    rule = rules.lookup_object(fn)
    from adjointc.rules.testing import bind
    _, bound, _ = bind(fn, args, {})
    if isinstance(args[3], int):
        assert set(rule.templates_for(bound)) == {rule.params[0]}
    x, r, rest = args[1], args[2], args[3:]
    assert not np.any(G.norm_slope_dx(_n(*x.shape), x, r, *rest)) and not np.any(G.norm_slope_dr(x, r, *rest))
    check_vjp(fn, args, wrt=(rule.params[0],))
    check_jvp(fn, args, wrt=(rule.params[0],))


def test_every_reduction_helper_rule_is_tested():
    tested = {rules.lookup_object(fn).op for fn, _ in CASES}
    assert set(MINE) <= tested, sorted(set(MINE) - tested)
    assert all(not rules.lookup(op).nondiff for op in MINE)


# ------------------------------------------ cumprod with zeros: brute force
def _brute_bi(a, x, y):
    """d²/ds dt cumprod(a + s x + t y) by the sum over ordered pairs j != m."""
    n = len(a)
    out = np.zeros(n)
    for i in range(n):
        for j, m in itertools.permutations(range(i + 1), 2):
            out[i] += x[j] * y[m] * np.prod([a[k] for k in range(i + 1) if k not in (j, m)])
    return out


def _brute_prod_pairs(a, g):
    n = len(a)
    return np.array([sum(g[i] * np.prod([a[j] for j in range(n) if j not in (i, k)]) for i in range(n) if i != k)
                     for k in range(n)])


@pytest.mark.parametrize("a", [np.array([0.5, 0.0, -1.5, 2.0, 0.7]), np.array([0.0, 1.2, 0.0, -0.4, 0.9]),
                               np.array([1.1, -0.3, 0.8, 0.0])])
def test_zero_branches_against_brute_force(a):
    x, y, z = _n(len(a)), _n(len(a)), _n(len(a))
    r = np.cumprod(a)
    bi = _brute_bi(a, x, y)
    tri = np.array([_brute_bi(a, x, e) @ z for e in np.eye(len(a))])
    np.testing.assert_allclose(G.cumprod_jvp_ja(y, x, a, r), bi, atol=1e-12)
    np.testing.assert_allclose(G.cumprod_jvp_da(z, x, a, r), tri, atol=1e-12)
    np.testing.assert_allclose(G.cumprod_vjp_da(x, z, a, r), tri, atol=1e-12)   # (symmetric in its roles)
    assert not np.any(G.cumprod_vjp_dr(z, x, a)) and not np.any(G.cumprod_jvp_dr(z, x, a))
    np.testing.assert_allclose(G.prod_of_others_da(z, a), _brute_prod_pairs(a, z), atol=1e-12)


# ------------------------------------------------------------------ end to end
def f_prod(x):
    return np.prod(x * x + 0.5) + np.sum(np.prod(np.reshape(x, (2, 3)), axis=0) ** 2) + np.prod(np.sin(x))


def f_cumprod(x):
    return np.sum(np.cumprod(x) ** 2) + np.sum(np.cumprod(np.reshape(x, (2, 3)) + 1.0, axis=1) * x[:3])


def f_interp(x):
    xp, fp = np.array([-1.0, 0.0, 0.5, 2.0]), np.array([0.3, 1.0, -0.5, 2.0])
    return np.sum(np.interp(x * x, xp, fp) * x) + np.sum(np.interp(np.array([0.2, 0.7, 1.5]), xp, x[:4] ** 3))


def f_norm(x):
    m = np.reshape(x, (2, 3))
    return (np.linalg.norm(x, 3) ** 2 + np.linalg.norm(m, "nuc") * x[0] + np.linalg.norm(m, 2) ** 3
            + np.sum(np.linalg.norm(m, 2.5, axis=1) ** 2) + np.linalg.norm(m, "fro") * np.linalg.norm(m, -2)
            + np.linalg.norm(x, np.inf) * np.sum(x))


def f_einsum_sublist(x):
    m = np.reshape(x, (2, 3))
    return np.sum(np.einsum(m, [0, 1], np.sin(m), [2, 1], [0, 2]) ** 2) + np.einsum(x, [0], x * x, [0], [])


def f_add_at(x):
    return np.sum(x[[0, 1, 1, 3]] ** 3) + np.sum(np.sin(x[np.array([2, 2, 5])]) * x[[4, 4, 0]])


def _fd_hessian(f, x, h=1e-5):
    g = grad(f)
    return np.array([(g(x + h * e) - g(x - h * e)) / (2 * h) for e in np.eye(x.size)]).T


_X6 = np.array([0.3, -0.8, 1.1, 0.5, -0.4, 0.9])
_E2E = [(f_prod, _X6), (f_prod, np.array([0.3, 0.0, 1.1, 0.5, -0.4, 0.0])),     # (zeros)
        (f_cumprod, _X6), (f_cumprod, np.array([0.3, -0.8, 0.0, 0.5, -0.4, 0.9])),  # (a zero)
        (f_interp, _X6), (f_norm, _X6), (f_einsum_sublist, _X6), (f_add_at, _X6)]
_IDS = ["prod", "prod_zeros", "cumprod", "cumprod_zero", "interp", "norm", "einsum_sublist", "add_at"]


@pytest.mark.parametrize("f, x", _E2E, ids=_IDS)
def test_second_derivatives_match_finite_differences_of_gradient(f, x):
    ref = _fd_hessian(f, x)
    assert np.max(np.abs(ref)) > 1e-3
    tol = dict(rtol=1e-5, atol=1e-6 * max(1.0, np.max(np.abs(ref))))
    H = hessian(f)(x)
    np.testing.assert_allclose(H, ref, **tol)
    np.testing.assert_allclose(jacrev(grad(f))(x), ref, **tol)
    v = np.linspace(-1.0, 1.0, x.size)
    np.testing.assert_allclose(tangent(grad(f))(x, tangents=v)[1], ref @ v, **tol)


def user_add_at(x):
    u = np.zeros(4)
    np.add.at(u, [0, 2, 2, 3], x[:4] * x[1:5])      # (repeated indices accumulate)
    w = np.ones(3)
    np.add.at(w, (np.array([0, 0]),), np.sin(x[:2]))
    return np.sum(u ** 3) + np.sum(w * w * x[:3])


def test_np_add_at_in_user_code():
    """The statement np.add.at(a, index, v) (read as `a[:] = add_at(a, index, v)`): its
    gradient against central differences of the function, its Hessian against those
    of the gradient, with repeated indices."""
    x, h = _X6, 1e-6
    fd = np.array([(user_add_at(x + h * e) - user_add_at(x - h * e)) / (2 * h) for e in np.eye(x.size)])
    np.testing.assert_allclose(grad(user_add_at)(x), fd, rtol=1e-6, atol=1e-8)
    ref = _fd_hessian(user_add_at, x)
    np.testing.assert_allclose(hessian(user_add_at)(x), ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(jacrev(grad(user_add_at))(x), ref, rtol=1e-5, atol=1e-6)
    u = np.zeros(4)
    np.add.at(u, [0, 2, 2, 3], x[:4] * x[1:5])
    assert value_and_grad(user_add_at)(x)[0] == pytest.approx(np.sum(u ** 3) + np.sum((1 + np.sin(x[:2]).sum()
                                                                                        * np.eye(3)[0]) ** 2 * x[:3]))


def loop_add_at(x):
    u = np.zeros(3)
    for i in range(3):   # (u is read, then written in place: the tape restores it)
        np.add.at(u, [i, 0, i], x * u[0] + np.sin(u[i]) + 1.0)
    return np.sum(u * u * x)


def param_add_at(x, m):
    np.add.at(m, (np.array([0, 1, 1]), np.array([2, 0, 0])), x[:3] ** 2)   # (a parameter, a tuple index)
    np.add.at(m, [1], x[3])
    return np.sum(m * m)


@pytest.mark.parametrize("f, x, extra", [(loop_add_at, _X6[:3], ()),
                                         (param_add_at, _X6[:4], (np.arange(6.0).reshape(2, 3),))],
                         ids=["loop", "parameter"])
def test_np_add_at_in_loops_and_on_parameters(f, x, extra):
    h = 1e-6
    fd = np.array([(f(x + h * e, *[a.copy() for a in extra]) - f(x - h * e, *[a.copy() for a in extra])) / (2 * h)
                   for e in np.eye(x.size)])
    kept = [a.copy() for a in extra]
    np.testing.assert_allclose(grad(f)(x, *extra), fd, rtol=1e-6, atol=1e-7)
    assert all(np.array_equal(a, b) for a, b in zip(extra, kept))   # (the caller's array: not modified)
    g, h = grad(f), 1e-5
    ref = np.array([(g(x + h * e, *extra) - g(x - h * e, *extra)) / (2 * h) for e in np.eye(x.size)]).T
    assert np.max(np.abs(ref)) > 1.0
    np.testing.assert_allclose(hessian(f)(x, *extra), ref, rtol=1e-5, atol=1e-6 * np.max(np.abs(ref)))
    np.testing.assert_allclose(jacrev(g)(x, *extra), ref, rtol=1e-5, atol=1e-6 * np.max(np.abs(ref)))


def f_interp_fp(fp):
    return np.sum(np.interp(np.array([-1.5, 0.2, 0.7, 1.5, 2.5]), np.array([-1.0, 0.0, 0.5, 2.0]), fp) ** 3)


def test_third_derivative_through_interp_helpers():
    """sum_jk T_ijk v_j u_k of a function of np.interp's fp: the third-order code calls
    interp_jvp and interp_vjp (the tangent helper read again), against central
    differences of the (reverse over reverse) second derivative."""
    fp, v, u = np.array([0.3, 1.0, -0.5, 2.0]), np.array([1.0, -0.5, 0.25, 2.0]), np.array([0.5, 1.0, -1.0, 0.3])
    g1 = grad(f_interp_fp)

    def hv(y):
        return np.sum(g1(y) * v)
    g2 = grad(hv)
    h = 1e-5
    ref = (g2(fp + h * u) - g2(fp - h * u)) / (2 * h)
    assert np.max(np.abs(ref)) > 1e-2
    np.testing.assert_allclose(hessian(hv)(fp) @ u, ref, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(jacrev(g2)(fp) @ u, ref, rtol=1e-6, atol=1e-8)


def test_third_derivative_of_cumprod_is_refused_located():
    """The helpers of the second derivatives have no rules: a third derivative through
    them is refused with the generated line, never computed approximately."""
    g1 = grad(f_cumprod)

    def hv(y):
        return np.sum(g1(y) * y)
    g2 = grad(hv)
    with pytest.raises(NoAdjointRule, match="cumprod_vjp_d|cumprod_jvp_d"):
        hessian(lambda y: np.sum(g2(y) * y))(_X6)
