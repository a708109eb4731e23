"""Forward over reverse: Hessian-vector products `jvp(grad(f), x, v)` and Hessians
(`hessian`, adjointc/transforms.py).

The tangent of a gradient is the tangent pass run over the gradient's generated
adjoint (compile_tangent.py links a call of a Gradient to higher.specialised):
its tapes carry tangent lists pushed and popped in step, its `reversed(...)` loops
and helpers are read like user code. Every HVP here is checked against central
finite differences of the gradient (which is itself checked elsewhere); Hessians
against jacrev of the gradient (reverse over reverse) and jacfwd of it, for
symmetry, and against SymPy's second derivatives for scalar functions (straight
line, a loop, branches, a while loop). What is not supported raises a located
adjointc error, never a wrong value.
"""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest
import sympy as sp

import adjointc
from adjointc import grad, hessian, jacfwd, jacrev, jvp, tangent, value_and_grad
from adjointc.errors import AdjointcError

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))
import lorenz  # noqa: E402
from rosen import rosen  # noqa: E402  (the scalar loop of examples/rosen.py)


# ------------------------------------------------------------------ functions
def mlp_loss(w1, w2, x, y):
    h = np.tanh(x @ w1)
    out = h @ w2
    return np.mean((out - y) ** 2)


def heat_inplace(u0, kappa, steps=20):
    u = u0.copy()
    for _ in range(steps):
        u[1:-1] = u[1:-1] + kappa * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return np.sum(u * u * u)


def heat_rebind(u0, kappa, steps=20):
    u = u0.copy()
    for _ in range(steps):
        lap = np.zeros_like(u)
        lap[1:-1] = u[2:] - 2.0 * u[1:-1] + u[:-2]
        u = u + kappa * lap
    return np.sum(u * u * u)


def heat_roll(u, k):
    for _ in range(10):
        u = u + k * (np.roll(u, 1) - 2 * u + np.roll(u, -1))
    return np.sum(u ** 2 * np.sin(u))


def lorenz_sum(state0, params):
    return np.sum(lorenz.lorenz_rk4(state0, params, 0.01, 30) ** 2)


def while_sum(x):
    s = x
    n = 0
    while np.sum(s * s) < 20.0 and n < 30:
        s = s * 1.1 + 0.3 * np.sin(s)
        n += 1
    return np.sum(s * s * s)


def branchy(x):
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0:
            s = s + x[i] ** 3
        else:
            s = s + np.cos(x[i]) * x[i]
    return s


def energy(x):
    return np.sum(np.sin(x) * x ** 2) + np.dot(x, x) ** 2


_r = np.random.default_rng(3)
U0 = np.exp(-3.0 * (np.linspace(0.0, 1.0, 8) - 0.4) ** 2)
MLP = (_r.normal(size=(3, 4)), _r.normal(size=4), _r.normal(size=(5, 3)), _r.normal(size=5))
LORENZ = (np.array([1.0, 1.0, 1.0]), np.array([10.0, 28.0, 8.0 / 3.0]))
CASES = [
    ("rosen", rosen, (np.linspace(-1.0, 1.2, 6),), 0),
    ("energy", energy, (np.linspace(-1.0, 1.0, 5),), 0),
    ("mlp_w1", mlp_loss, MLP, 0),
    ("mlp_w2", mlp_loss, MLP, 1),
    ("heat_inplace_u0", heat_inplace, (U0, 0.2), 0),
    ("heat_inplace_kappa", heat_inplace, (U0, 0.2), 1),
    ("heat_rebind_u0", heat_rebind, (U0, 0.2), 0),
    ("heat_roll", heat_roll, (U0, 0.1), 0),
    ("lorenz_state", lorenz_sum, LORENZ, 0),
    ("lorenz_params", lorenz_sum, LORENZ, 1),
    ("while", while_sum, (np.array([0.5, -0.3, 0.8, 0.1]),), 0),
    ("branches", branchy, (np.array([0.7, -0.4, 1.2, -1.1, 0.3]),), 0),
]


def _direction(x):
    return 0.7 if np.ndim(x) == 0 else np.cos(np.arange(np.size(x)) + 0.5).reshape(np.shape(x))


def _fd_of_grad(g, args, w, v, h=1e-6):
    plus, minus = list(args), list(args)
    plus[w] = args[w] + h * v
    minus[w] = args[w] - h * v
    return (np.asarray(g(*plus)) - np.asarray(g(*minus))) / (2 * h)


def _tangents(args, w, v):
    return tuple(v if i == w else None for i in range(len(args)))


# ----------------------------------------------------------------------- HVPs
@pytest.mark.parametrize("name,fn,args,w", CASES, ids=[c[0] for c in CASES])
def test_hvp_matches_finite_differences_of_the_gradient(name, fn, args, w):
    g = grad(fn, wrt=w)
    v = _direction(args[w])
    value, hv = jvp(g, args, _tangents(args, w, v))
    np.testing.assert_allclose(value, g(*args), rtol=1e-12, atol=1e-12)  # (the value is the gradient)
    assert np.shape(hv) == np.shape(args[w])
    ref = _fd_of_grad(g, args, w, v)
    assert np.max(np.abs(ref)) > 1e-3  # (a non-trivial product was compared)
    np.testing.assert_allclose(hv, ref, rtol=1e-6, atol=1e-6 * np.max(np.abs(ref)))


@pytest.mark.parametrize("name,fn,args,w", CASES[:2] + CASES[4:6] + CASES[8:9],
                         ids=[c[0] for c in CASES[:2] + CASES[4:6] + CASES[8:9]])
def test_hessian_is_jacrev_and_jacfwd_of_the_gradient_and_symmetric(name, fn, args, w):
    H = hessian(fn, wrt=w)(*args)
    n = np.size(args[w])
    assert np.shape(H) == np.shape(args[w]) * 2
    g = grad(fn, wrt=w)
    np.testing.assert_allclose(H, jacrev(g, wrt=w)(*args), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(H, jacfwd(g, wrt=w)(*args), rtol=0, atol=0)
    if n > 1:
        np.testing.assert_allclose(H, H.T, rtol=1e-9, atol=1e-9 * np.max(np.abs(H)))
    # each column is an HVP with a unit vector, against finite differences of the gradient
    for j in range(min(n, 3)):
        e = np.zeros(np.shape(args[w]))
        e.flat[j] = 1.0
        ref = _fd_of_grad(g, args, w, e if np.ndim(args[w]) else 1.0)
        np.testing.assert_allclose(np.reshape(H, (n, n))[:, j], np.ravel(ref), rtol=1e-6,
                                   atol=1e-6 * max(1.0, np.max(np.abs(ref))))


def test_hessian_is_n_hvps_through_one_compiled_tangent():
    x = np.linspace(-1.0, 1.2, 6)
    before = adjointc.compiler._STATS["transforms"]
    H = hessian(rosen)(x)
    made = adjointc.compiler._STATS["transforms"] - before
    assert made <= 4  # (the gradient, its two-line defs' tangents: not one per column)
    g = grad(rosen)
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = 1.0
        np.testing.assert_array_equal(H[:, j], jvp(g, (x,), (e,))[1])
    # Rosenbrock's Hessian in closed form
    n = x.size
    ref = np.zeros((n, n))
    for i in range(n - 1):
        ref[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        ref[i + 1, i + 1] += 200
        ref[i, i + 1] += -400 * x[i]
        ref[i + 1, i] += -400 * x[i]
    np.testing.assert_allclose(H, ref, rtol=1e-12, atol=1e-9)


def test_hessian_of_several_inputs_is_a_tuple_of_tuples_in_jax_layout():
    x, y = np.array([0.3, -0.2, 0.5]), np.array([1.0, 2.0])

    def f(x, y):
        return np.sum(np.sin(x) ** 2) * np.sum(y ** 3) + np.dot(x[:2], y) ** 2
    H = hessian(f, wrt=(0, 1))(x, y)
    assert [[b.shape for b in row] for row in H] == [[(3, 3), (3, 2)], [(2, 3), (2, 2)]]
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(H[i][j], jacrev(grad(f, wrt=i), wrt=j)(x, y), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(H[0][1], H[1][0].T, rtol=1e-12)
    assert hessian(f, argnums=(0, 1))(x, y)[1][0].shape == (2, 3)


# --------------------------------------------------------- scalars vs SymPy
# (the scalar corpus of reverse over reverse, tests/test_higher_order.py: here by forward over reverse)
from test_higher_order import SCALAR, X  # noqa: E402

Y = sp.Symbol("y")


@pytest.mark.parametrize("name,fn,sym,points", SCALAR, ids=[c[0] for c in SCALAR])
def test_scalar_second_derivative_by_forward_over_reverse_matches_sympy(name, fn, sym, points):
    for at in points:
        exact = float(sp.diff(sym(at), X, 2).subs(X, at).evalf(30))
        tol = 1e-9 * max(1.0, abs(exact))
        assert abs(hessian(fn)(at) - exact) <= tol
        assert isinstance(hessian(fn)(at), float)
        assert abs(jvp(grad(fn), (at,), (1.0,))[1] - exact) <= tol
        assert abs(tangent(grad(fn))(at, tangents=1.0)[1] - exact) <= tol


def test_mixed_partials_match_sympy():
    def k(x, y):
        return np.exp(x * y) + x ** 3 * y + np.sin(y) * x
    sym = sp.exp(X * Y) + X ** 3 * Y + sp.sin(Y) * X
    at = {X: 0.3, Y: 0.7}
    H = hessian(k, wrt=(0, 1))(0.3, 0.7)
    for i, a in enumerate((X, Y)):
        for j, b in enumerate((X, Y)):
            exact = float(sp.diff(sym, a, b).subs(at).evalf(30))
            assert abs(H[i][j] - exact) <= 1e-9 * max(1.0, abs(exact)), (i, j)


# ------------------------------------------------------- composing with grad
def test_argnums_and_names_compose():
    x, y = np.array([0.3, -0.2, 0.5]), np.array([1.0, 2.0, 0.4])

    def f(x, y):
        return np.sum(np.sin(x) * y ** 2) + np.dot(x, x) * np.sum(y)
    v = np.array([0.5, -1.0, 2.0])
    hv = jvp(grad(f, argnums=1), (x, y), (None, v))[1]
    np.testing.assert_allclose(hv, _fd_of_grad(grad(f, argnums=1), (x, y), 1, v), rtol=1e-6)
    np.testing.assert_array_equal(jvp(grad(f, wrt="y"), (x, y), (None, v))[1], hv)
    # the mixed block: the tangent of grad wrt y along x
    mixed = jvp(grad(f, argnums=1), (x, y), (v, None))[1]
    np.testing.assert_allclose(mixed, _fd_of_grad(grad(f, argnums=1), (x, y), 0, v), rtol=1e-6)


def test_value_and_grad_and_has_aux_compose():
    x, v = np.array([0.3, -0.2, 0.5]), np.array([1.0, 0.5, -2.0])

    def with_aux(x):
        return np.sum(x ** 3), x * 2.0
    (g, aux), (g_dot, aux_dot) = jvp(grad(with_aux, has_aux=True), (x,), (v,))
    np.testing.assert_allclose(g, 3 * x ** 2, rtol=1e-14)
    np.testing.assert_allclose(g_dot, 6 * x * v, rtol=1e-14)
    np.testing.assert_allclose(aux, 2 * x, rtol=1e-14)
    np.testing.assert_allclose(aux_dot, 2 * v, rtol=1e-14)  # (the aux is a function of x too)
    (value, grad_x), (value_dot, grad_dot) = jvp(value_and_grad(energy), (x,), (v,))
    np.testing.assert_allclose(value, energy(x), rtol=1e-14)
    np.testing.assert_allclose(value_dot, np.dot(grad(energy)(x), v), rtol=1e-12)
    np.testing.assert_allclose(grad_dot, _fd_of_grad(grad(energy), (x,), 0, v), rtol=1e-6)


def test_tangent_of_a_gradient_shows_its_source():
    x = np.linspace(-1.0, 1.2, 6)
    t = tangent(grad(rosen))
    _, hv = t(x, tangents=np.ones_like(x))
    np.testing.assert_allclose(hv, hessian(rosen)(x) @ np.ones_like(x), rtol=1e-12)
    assert "rosen_grad_jvp" in t.source


def test_generated_tangent_of_a_tape_pops_tangents_in_step():
    """The tangent of rosen's generated adjoint: its tape of `a` carries a tape of
    `a_dot`, appended and popped where the tape is (the generated code read again)."""
    from adjointc import types as T
    x = np.linspace(-1.0, 1.2, 6)
    adjoint = grad(rosen).get_abstract([T.of_value(x)]).fn
    src = adjointc.compile_tangent.tangent_of(adjoint, ("x",)).source_for(x, 1.0)
    assert "_tape_a_dot.append(a_dot)" in src
    assert "a_dot = _tape_a_dot.pop()" in src
    assert src.index("_tape_a_dot.append(a_dot)") < src.index("a_dot = _tape_a_dot.pop()")


# ------------------------------------------------------------ not supported
def _tanh_rebound_then_written(x):
    v = x
    for _ in range(2):
        v = np.tanh(v)
        v[0] += 1.0
    return np.sum(v * v)


def test_unsupported_second_order_is_a_located_error():
    """An adjoint that keeps tanh's result for the backward sweep under a second name
    while the first is written in place (and restored later) is refused by the aliasing
    check on the generated adjoint: a located error naming the generated line, never
    a wrong value. (heat_rebind with respect to kappa, refused here before, goes
    through now: tests/test_aliasing_flow.py.)"""
    with pytest.raises(AdjointcError, match="may share memory") as e:
        jvp(grad(_tanh_rebound_then_written), (np.array([0.3, -0.2, 0.5]),), (np.ones(3),))
    assert e.value.loc is not None and e.value.loc.line > 0


def test_helper_without_a_second_order_rule_is_a_located_error():
    def cumulative(x):
        return np.sum(np.cumprod(x))
    g = grad(cumulative)   # (cumprod's second derivative calls helpers without rules: a third is refused)
    with pytest.raises(AdjointcError, match="cumprod_vjp_d") as e:
        hessian(lambda x: np.sum(g(x) * x))(np.array([1.0, 2.0]))
    assert e.value.loc is not None and e.value.loc.line > 0


def test_hessian_of_max_is_the_hessian_at_the_argmax():
    def peak(x):
        return np.max(x * x * x)
    x = np.array([0.5, -0.2, 0.9])
    np.testing.assert_array_equal(hessian(peak)(x), np.diag([0.0, 0.0, 6 * 0.9]))
