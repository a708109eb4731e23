"""The JAX-convention API of adjointc/transforms.py: argnums, has_aux, jacrev/jacobian.

Every expected value is independent of adjointc: SymPy derivatives, closed forms,
central finite differences, or the function itself run by Python (for aux).
"""
import math

import numpy as np
import pytest
import sympy as sp

import adjointc
from adjointc import (InvalidArgument, TypeMismatch, UnsupportedFunction, grad, jacobian, jacrev,
                      value_and_grad, vjp)


def _fd(f, args, i, eps=1e-6):
    """Central finite differences of f (float or array output) in argument i:
    shape out.shape + in.shape, like a Jacobian."""
    x = args[i]
    base = np.asarray(f(*args), dtype=float)
    if isinstance(x, float):
        up = list(args); up[i] = x + eps
        dn = list(args); dn[i] = x - eps
        return (np.asarray(f(*up)) - np.asarray(f(*dn))) / (2 * eps)
    out = np.empty(base.shape + x.shape)
    for k in np.ndindex(*x.shape):
        up, dn = x.copy(), x.copy()
        up[k] += eps
        dn[k] -= eps
        a, b = list(args), list(args)
        a[i], b[i] = up, dn
        out[(...,) + k] = (np.asarray(f(*a)) - np.asarray(f(*b))) / (2 * eps)
    return out


# ------------------------------------------------------------------ argnums
def poly(x, y, k=3):
    return x ** k * y + math.sin(y)


_X, _Y = sp.symbols("x y")
_POLY = _X ** 3 * _Y + sp.sin(_Y)


def _poly_grad(x, y):
    return tuple(float(sp.diff(_POLY, v).subs({_X: x, _Y: y})) for v in (_X, _Y))


def test_argnums_is_wrt_by_position():
    args = (1.3, 0.7)
    dx, dy = _poly_grad(*args)
    for g in (grad(poly, argnums=1), grad(poly, wrt=1), grad(poly, wrt="y"), grad(poly, argnums=-2)):
        got = g(*args)
        assert isinstance(got, float)
        assert got == pytest.approx(dy, rel=1e-12)
    both = grad(poly, argnums=(0, 1))(*args)
    assert isinstance(both, tuple) and len(both) == 2
    np.testing.assert_allclose(both, (dx, dy), rtol=1e-12)
    assert both == grad(poly, wrt=(0, "y"))(*args) == grad(poly, wrt=[0, 1])(*args)
    one = grad(poly, argnums=(1,))(*args)  # a tuple of one, exactly as wrt=(1,)
    assert isinstance(one, tuple) and one == pytest.approx((dy,), rel=1e-12)
    assert grad(poly, argnums=np.int64(0))(*args) == pytest.approx(dx, rel=1e-12)


def test_argnums_in_value_and_grad_vjp_and_decorators():
    args = (0.4, 1.9)
    dx, dy = _poly_grad(*args)
    v, g = value_and_grad(poly, argnums=(1, 0))(*args)
    assert v == pytest.approx(poly(*args), rel=1e-14)
    np.testing.assert_allclose(g, (dy, dx), rtol=1e-12)

    @grad(argnums=1)
    def dec(x, y, k=3):
        return x ** k * y + math.sin(y)
    assert dec(*args) == pytest.approx(dy, rel=1e-12)

    @value_and_grad(argnums=(0,))
    def dec2(x, y, k=3):
        return x ** k * y + math.sin(y)
    assert dec2(*args)[1] == pytest.approx((dx,), rel=1e-12)

    value, pullback = vjp(poly, *args, argnums=1)
    assert value == pytest.approx(poly(*args))
    assert pullback(2.0) == pytest.approx(2.0 * dy, rel=1e-12)


def test_argnums_and_wrt_together_is_an_error():
    for build in (lambda: grad(poly, wrt=0, argnums=0), lambda: value_and_grad(poly, 1, argnums=(0, 1)),
                  lambda: vjp(poly, 1.0, 2.0, wrt="x", argnums=0), lambda: jacrev(poly, wrt=0, argnums=1),
                  lambda: grad(wrt=0, argnums=1)(poly)):
        with pytest.raises(InvalidArgument) as e:
            build()
        assert "both wrt=" in str(e.value) and "argnums" in str(e.value)
        assert e.value.hint and "one of them" in e.value.hint
        assert e.value.loc is not None and e.value.loc.line == poly.__code__.co_firstlineno


def test_argnums_takes_positions_only():
    with pytest.raises(InvalidArgument) as e:
        grad(poly, argnums="y")
    assert "wrt='y'" in e.value.hint
    for bad in (True, 1.0, (0, "y")):
        with pytest.raises(InvalidArgument):
            grad(poly, argnums=bad)
    with pytest.raises(InvalidArgument, match="out of range"):
        grad(poly, argnums=3)
    with pytest.raises(InvalidArgument, match="twice"):
        grad(poly, argnums=(1, 1))
    with pytest.raises(InvalidArgument, match="names no parameter"):
        grad(poly, argnums=())


# ------------------------------------------------------------------ has_aux
def loss_float_aux(x, y):
    a = x * x * y
    return a + math.sin(x), x + y


def test_has_aux_grad_value_and_grad_with_a_float_aux():
    x, y = 0.8, 1.7
    expr = _X * _X * _Y + sp.sin(_X)
    dx = float(sp.diff(expr, _X).subs({_X: x, _Y: y}))
    dy = float(sp.diff(expr, _Y).subs({_X: x, _Y: y}))
    g, aux = grad(loss_float_aux, has_aux=True)(x, y)
    assert g == pytest.approx(dx, rel=1e-12) and aux == x + y
    (value, aux), (gx, gy) = value_and_grad(loss_float_aux, wrt=(0, 1), has_aux=True)(x, y)
    assert value == pytest.approx(loss_float_aux(x, y)[0], rel=1e-14) and aux == x + y
    assert (gx, gy) == pytest.approx((dx, dy), rel=1e-12)
    gs, aux = grad(loss_float_aux, argnums=(1,), has_aux=True)(x, y)
    assert gs == pytest.approx((dy,), rel=1e-12) and aux == x + y

    @grad(has_aux=True, argnums=1)
    def dec(x, y):
        a = x * x * y
        return a + math.sin(x), x + y
    assert dec(x, y) == pytest.approx((dy, x + y), rel=1e-12)


def sin_energy(x):
    r = np.sin(x)
    return np.sum(r * r), r


def test_has_aux_with_an_array_aux_and_the_source_passing_it_through():
    x = np.linspace(-1.0, 2.0, 5)
    g, aux = grad(sin_energy, has_aux=True)(x)
    np.testing.assert_allclose(g, 2 * np.sin(x) * np.cos(x), rtol=1e-12)
    np.testing.assert_array_equal(aux, np.sin(x))
    src = grad(sin_energy, has_aux=True).source_for(x)
    assert "return ((result, r), (x_bar,))" in src  # r is returned as computed
    assert "r_bar" in src  # (r is differentiated: it is part of the value)
    g2 = grad(lambda x: np.sum(np.sin(x) ** 2))(x)
    np.testing.assert_allclose(g, g2, rtol=1e-12)


def aux_only_uses(x, c):
    loss = np.sum(c * x * x)
    scaled = 3.0 * x + c
    peak = np.max(scaled)
    return loss, (scaled, peak)


def test_a_tuple_aux_gets_no_adjoint():
    x, c = np.array([0.3, -1.2, 2.0]), np.array([1.0, 2.0, 0.5])
    g, (scaled, peak) = grad(aux_only_uses, has_aux=True)(x, c)
    np.testing.assert_allclose(g, 2 * c * x, rtol=1e-12)
    np.testing.assert_array_equal(scaled, 3.0 * x + c)
    assert peak == np.max(3.0 * x + c)
    src = grad(aux_only_uses, has_aux=True).source_for(x, c)
    assert "scaled_bar" not in src and "peak_bar" not in src and "aux_bar" not in src
    assert "piece(" not in src  # no cotangent is taken apart: the value is not a tuple
    assert "return ((result, (scaled, peak)), (x_bar,))" in src


def aux_dict_param(x, cfg):
    return x * x * cfg["w"], cfg


def test_a_dict_aux_is_passed_through():
    cfg = {"w": 1.5, "name": 3}
    g, aux = grad(aux_dict_param, has_aux=True)(0.7, cfg)
    assert g == pytest.approx(2 * 0.7 * 1.5, rel=1e-12)
    assert aux == cfg


def loop_history(x, n):
    s = 0.0
    hist = []
    trace = np.zeros(n)
    for i in range(n):
        s = s + np.sin(x * s + 0.5)
        hist.append(s)
        trace[i] = s * s
    return s * x, (hist, trace)


def loop_early_exit(x, n):
    s = 0.0
    hist = []
    for i in range(n):
        s = s + np.sin(x * s + 0.5)
        hist.append(s * s)
        if s > 2.5:
            return s * x, hist
    return s * x, hist


def _loop_py(x, n, early):
    s, hist, trace = 0.0, [], np.zeros(n)
    for i in range(n):
        s = s + math.sin(x * s + 0.5)
        hist.append(s * s if early else s)
        trace[i] = s * s
        if early and s > 2.5:
            break
    return s * x, hist, trace


@pytest.mark.parametrize("x", [0.3, 1.1, 2.7])
def test_aux_computed_from_intermediate_values_in_a_loop(x):
    n = 6
    value, hist_py, trace_py = _loop_py(x, n, early=False)
    g, (hist, trace) = grad(loop_history, has_aux=True)(x, n)
    assert hist == pytest.approx(hist_py, rel=1e-14)
    np.testing.assert_allclose(trace, trace_py, rtol=1e-14)
    assert g == pytest.approx(_fd(lambda x: _loop_py(x, n, False)[0], (x,), 0), rel=1e-6)
    (v, _), g2 = value_and_grad(loop_history, has_aux=True)(x, n)
    assert v == pytest.approx(value, rel=1e-14) and g2 == g
    # an early return from the loop (at x = 0.3; the others run all n trips)
    value, hist_py, _ = _loop_py(x, n, early=True)
    (v, hist), g = value_and_grad(loop_early_exit, has_aux=True)(x, n)
    assert v == pytest.approx(value, rel=1e-14) and hist == pytest.approx(hist_py, rel=1e-14)
    assert len(hist) == len(hist_py) and (len(hist) < n) == (x == 0.3)
    assert g == pytest.approx(_fd(lambda x: _loop_py(x, n, True)[0], (x,), 0), rel=1e-6)


def newton_sqrt(a):
    x = 1.0
    k = 0
    while abs(x * x - a) > 1e-12:
        x = 0.5 * (x + a / x)
        k += 1
    return x, k


@pytest.mark.parametrize("a", [2.0, 9.0, 0.3])
def test_an_int_aux_counted_in_a_while_loop(a):
    (root, iterations), g = value_and_grad(newton_sqrt, has_aux=True)(a)
    assert root == pytest.approx(math.sqrt(a), rel=1e-12)
    assert iterations == newton_sqrt(a)[1] and isinstance(iterations, int)
    assert g == pytest.approx(0.5 / math.sqrt(a), rel=1e-9)


def in_place_history(x):
    u = x.copy()
    hist = []
    for i in range(3):
        u[1:] = u[1:] * u[:-1]
        hist.append(np.sum(u))
    return hist[0] + hist[2] * hist[1], (u, hist)


def test_aux_is_what_f_computed_when_the_backward_sweep_restores_it():
    # the backward sweep restores u in place and pops hist: the aux returned must be
    # the values at the end of the forward sweep
    x = np.array([1.1, 0.9, 1.3, 0.7])
    g, (u, hist) = grad(in_place_history, has_aux=True)(x)
    ref_value, (ref_u, ref_hist) = in_place_history(x)
    np.testing.assert_array_equal(u, ref_u)
    assert hist == ref_hist
    np.testing.assert_allclose(g, _fd(lambda x: in_place_history(x)[0], (x,), 0), rtol=1e-6)
    src = grad(in_place_history, has_aux=True).source_for(x)
    assert "snapshot(" in src
    np.testing.assert_array_equal(x, [1.1, 0.9, 1.3, 0.7])


def returns_a_pair_variable(x):
    if x > 0.0:
        out = (x * x, x)
    else:
        out = (np.sin(x), 2.0)
    return out


def pair_read_inside(x):
    pair = (x * x * x, x + 1.0)
    y = pair[0] * 2.0
    return pair


def test_has_aux_with_the_pair_in_a_variable():
    for x in (1.3, -0.4):
        g, aux = grad(returns_a_pair_variable, has_aux=True)(x)
        assert g == pytest.approx(2 * x if x > 0 else math.cos(x), rel=1e-12)
        assert aux == (x if x > 0 else 2.0)
    g, aux = grad(pair_read_inside, has_aux=True)(0.6)
    assert g == pytest.approx(3 * 0.6 ** 2, rel=1e-12) and aux == 1.6


def vec_with_aux(x, y):
    z = np.sin(x) * y
    return z, np.sum(z)


def test_vjp_has_aux():
    x, y = np.array([0.1, 0.7, -1.4]), 2.5
    value, pullback, aux = vjp(vec_with_aux, x, y, argnums=(0, 1), has_aux=True)
    np.testing.assert_allclose(value, np.sin(x) * y, rtol=1e-15)
    assert aux == pytest.approx(np.sum(np.sin(x) * y), rel=1e-14)
    ct = np.array([1.0, -2.0, 0.5])
    gx, gy = pullback(ct)
    np.testing.assert_allclose(gx, ct @ _fd(lambda x, y: vec_with_aux(x, y)[0], (x, y), 0), rtol=1e-6)
    assert gy == pytest.approx(ct @ _fd(lambda x, y: vec_with_aux(x, y)[0], (x, y), 1), rel=1e-6)
    with pytest.raises(TypeMismatch, match="cotangent"):
        pullback((ct, 0.0))  # (the cotangent is the value's: aux has none)


def test_has_aux_and_no_aux_of_one_function_do_not_share_an_adjoint(cdir):
    x, y = 0.6, 1.4
    value, pullback = vjp(loss_float_aux, x, y)  # the pair as the output: a tuple cotangent
    assert pullback((1.0, 1.0)) == pytest.approx(2 * x * y + math.cos(x) + 1.0, rel=1e-12)
    g, aux = grad(loss_float_aux, has_aux=True)(x, y)
    assert g == pytest.approx(2 * x * y + math.cos(x), rel=1e-12) and aux == x + y
    assert pullback((1.0, 0.0)) == pytest.approx(g, rel=1e-12)


# ------------------------------------------------------- has_aux: errors
def aux_scalar_only(x):
    return x * x


def aux_three(x):
    if x > 0.0:
        return x * x, 1.0, 2.0
    return x, 1.0


def aux_one_path_not_a_pair(x):
    if x > 0.0:
        return x * x, 1.0
    return x


def test_has_aux_without_a_pair_is_refused_at_the_return():
    line = aux_scalar_only.__code__.co_firstlineno
    with pytest.raises(TypeMismatch) as e:
        grad(aux_scalar_only, has_aux=True)(1.5)
    assert "has_aux=True" in str(e.value) and "pair" in str(e.value)
    assert "return value, aux" in e.value.hint
    assert e.value.loc.line in (line, line + 1)
    with pytest.raises(TypeMismatch) as e:
        grad(aux_three, has_aux=True)(1.5)
    assert "3 values" in str(e.value) and e.value.loc.line == aux_three.__code__.co_firstlineno + 2
    with pytest.raises(TypeMismatch) as e:
        grad(aux_one_path_not_a_pair, has_aux=True)(-1.5)
    assert e.value.loc.line == aux_one_path_not_a_pair.__code__.co_firstlineno + 3
    with pytest.raises(TypeMismatch, match="pair"):
        vjp(aux_scalar_only, 1.5, has_aux=True)
    with pytest.raises(TypeMismatch, match="pair"):
        jacrev(aux_scalar_only, has_aux=True)(1.5)


def test_a_pair_without_has_aux_suggests_it():
    with pytest.raises(TypeMismatch) as e:
        grad(loss_float_aux)(1.0, 2.0)
    assert "tuple of 2 values" in str(e.value) and "has_aux=True" in e.value.hint
    assert e.value.loc.line == loss_float_aux.__code__.co_firstlineno


def test_has_aux_needs_a_scalar_value_for_grad():
    with pytest.raises(TypeMismatch) as e:
        grad(vec_with_aux, has_aux=True)(np.ones(3), 2.0)
    assert "has_aux=True" in str(e.value) and "array of shape (3,)" in str(e.value)
    assert "vjp" in e.value.hint


# ------------------------------------------------------------------ jacrev
def lorenz(y, p):
    return np.stack([p[0] * (y[1] - y[0]), y[0] * (p[1] - y[2]) - y[1], y[0] * y[1] - p[2] * y[2]])


def rk4(y0, p, h, steps):
    y = y0.copy()
    for _ in range(steps):
        k1 = lorenz(y, p)
        k2 = lorenz(y + 0.5 * h * k1, p)
        k3 = lorenz(y + 0.5 * h * k2, p)
        k4 = lorenz(y + h * k3, p)
        y = y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return y


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_jacrev_of_an_rk4_integrator_matches_finite_differences(seed):
    rng = np.random.default_rng(seed)
    y0 = rng.uniform(-1.0, 1.0, 3)
    p = np.array([10.0, 28.0, 8.0 / 3.0]) * rng.uniform(0.8, 1.2, 3)
    h = float(rng.uniform(0.005, 0.015))
    args = (y0, p, h, 20)
    jy, jp, jh = jacrev(rk4, wrt=(0, 1, 2))(*args)
    assert jy.shape == (3, 3) and jp.shape == (3, 3) and jh.shape == (3,)
    for got, i in ((jy, 0), (jp, 1), (jh, 2)):
        np.testing.assert_allclose(got, _fd(rk4, args, i), rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(jacobian(rk4)(*args), jy)
    np.testing.assert_array_equal(jacrev(rk4, argnums=1)(*args), jp)
    np.testing.assert_array_equal(jacrev(rk4, wrt="h")(*args), jh)


def heat(u0, kappa, steps):
    u = u0.copy()
    for _ in range(steps):
        u[1:-1] = u[1:-1] + kappa * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return u


@pytest.mark.parametrize("seed", [3, 4])
def test_jacrev_of_a_stencil_returning_the_field(seed):
    rng = np.random.default_rng(seed)
    u0 = rng.uniform(0.0, 1.0, 7)
    kappa = float(rng.uniform(0.1, 0.3))
    keep = u0.copy()
    ju, jk = jacrev(heat, wrt=("u0", "kappa"))(u0, kappa, 12)
    np.testing.assert_array_equal(u0, keep)  # (heat copies; the Jacobian never changes the input)
    assert ju.shape == (7, 7) and jk.shape == (7,)
    np.testing.assert_allclose(ju, _fd(heat, (u0, kappa, 12), 0), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(jk, _fd(heat, (u0, kappa, 12), 1), rtol=1e-6, atol=1e-9)
    # the boundary is fixed and the scheme is linear in u0: its rows are exact
    np.testing.assert_array_equal(ju[0], np.eye(7)[0])
    np.testing.assert_array_equal(ju[-1], np.eye(7)[-1])


def smooth_in_place(u, c):
    for _ in range(3):
        u[1:] = u[1:] + c * u[:-1] * u[1:]
    return u


def test_jacrev_of_a_function_modifying_its_argument():
    u, c = np.array([0.5, 0.8, 1.1, 0.3]), 0.4
    keep = u.copy()
    ju = jacrev(smooth_in_place)(u, c)
    np.testing.assert_array_equal(u, keep)
    np.testing.assert_allclose(ju, _fd(lambda u, c: smooth_in_place(u.copy(), c), (u, c), 0), rtol=1e-6)


def scalar_scalar(x):
    return x * math.exp(x)


def scalar_vector(x):
    return np.array([1.0, 2.0, 3.0]) * x * x


def vector_scalar(x):
    return np.sum(np.sin(x) * x)


def matrix_vector(a):
    return a @ np.array([1.0, -1.0, 2.0]) + np.sum(a * a, axis=1)


def vector_matrix(x):
    return np.outer(x, x) * 2.0 + np.sin(x)


def matrix_matrix(a, b):
    return a @ b


def test_jacobian_shapes_for_scalars_vectors_and_matrices():
    rng = np.random.default_rng(5)
    j = jacrev(scalar_scalar)(0.7)
    assert isinstance(j, float) and j == pytest.approx(math.exp(0.7) * 1.7, rel=1e-12)
    j = jacrev(scalar_vector)(0.7)
    assert j.shape == (3,)
    np.testing.assert_allclose(j, 2 * 0.7 * np.array([1.0, 2.0, 3.0]), rtol=1e-12)
    x = rng.uniform(-1, 1, 4)
    j = jacrev(vector_scalar)(x)
    assert j.shape == (4,)
    np.testing.assert_allclose(j, np.cos(x) * x + np.sin(x), rtol=1e-12)
    a = rng.uniform(-1, 1, (2, 3))
    j = jacrev(matrix_vector)(a)
    assert j.shape == (2, 2, 3)
    np.testing.assert_allclose(j, _fd(matrix_vector, (a,), 0), rtol=1e-7, atol=1e-9)
    j = jacrev(vector_matrix)(x)
    assert j.shape == (4, 4, 4)
    np.testing.assert_allclose(j, _fd(vector_matrix, (x,), 0), rtol=1e-7, atol=1e-9)
    b = rng.uniform(-1, 1, (3, 2))
    ja, jb = jacrev(matrix_matrix, wrt=(0, 1))(a, b)
    assert ja.shape == (2, 2, 2, 3) and jb.shape == (2, 2, 3, 2)
    # d(ab)_ij / da_kl = delta_ik b_lj ; d(ab)_ij / db_kl = a_ik delta_jl
    np.testing.assert_allclose(ja, np.einsum("ik,lj->ijkl", np.eye(2), b), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(jb, np.einsum("ik,jl->ijkl", a, np.eye(2)), rtol=1e-12, atol=1e-15)


def test_jacrev_forms_and_has_aux():
    @jacrev(wrt=1)
    def dec(x, y):
        return np.sin(x) * y

    x = np.array([0.2, 0.9])
    np.testing.assert_allclose(dec(x, 1.5), np.sin(x), rtol=1e-15)
    assert "jacrev" in repr(dec) and dec.__name__ == "dec"
    j, aux = jacrev(vec_with_aux, has_aux=True)(x, 1.5)
    np.testing.assert_allclose(j, np.diag(np.cos(x) * 1.5), rtol=1e-12, atol=1e-15)
    assert aux == pytest.approx(np.sum(np.sin(x) * 1.5), rel=1e-14)
    jac = jacrev(heat)
    jac(np.ones(5), 0.2, 3)
    assert "def heat_grad(u0, kappa, steps" in jac.source


def test_jacrev_compiles_once_for_all_rows(cdir):
    before = adjointc.api.stats()["transforms"]
    jacrev(heat)(np.linspace(0.0, 1.0, 9), 0.25, 4)
    assert adjointc.api.stats()["transforms"] - before == 1


def pair_out(x):
    return x * 2.0, x * 3.0


def int_out(x):
    return 3


def test_jacrev_refuses_what_has_no_jacobian():
    with pytest.raises(TypeMismatch) as e:
        jacrev(pair_out)(np.ones(2))
    assert "tuple of 2 values" in str(e.value) and "np.concatenate" in e.value.hint
    with pytest.raises(TypeMismatch, match="int"):
        jacrev(lambda x, n: x * n, wrt=1)(np.ones(2), 3)
    with pytest.raises(TypeMismatch, match="Jacobian's input"):
        jacrev(lambda p: p[0] * p[1])((1.0, 2.0))
    with pytest.raises(UnsupportedFunction, match="already a Jacobian"):
        grad(jacrev(vector_scalar))


def zero_d_out(x):
    return np.sum(x * x) * np.ones(())


def sin_twice(x):
    return np.sin(x) * 2.0


def test_jacrev_of_a_0d_array_output_and_of_float32():
    x = np.array([0.5, -1.0, 2.0])
    j = jacrev(zero_d_out)(x)
    assert isinstance(j, np.ndarray) and j.shape == (3,)  # out.shape () + in.shape
    np.testing.assert_allclose(j, 2 * x, rtol=1e-12)
    x32 = x.astype(np.float32)
    j = jacrev(sin_twice)(x32)
    assert j.dtype == np.float32 and j.shape == (3, 3)
    np.testing.assert_allclose(j, np.diag(2 * np.cos(x32)), rtol=1e-6)


def test_the_source_shows_a_pair_taken_apart_where_it_is_returned():
    src = grad(pair_read_inside, has_aux=True).source_for(0.6)
    assert "value = pair[0]" in src and "aux = pair[1]" in src
    assert "return ((value, aux), (x_bar,))" in src
