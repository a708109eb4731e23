"""The plain forms of the matmul and broadcasting adjoints (rules/generated_forms.py,
applied by passes/forms.py) and the fast paths of the helpers they replace
(rules/helpers/linalg.py matmul_lhs/rhs, runtime's unbroadcast, as_adjoint, is_zero):
gradients against central finite differences, over the rank pairs where a plain form
applies (2-D @ 2-D, 2-D @ 1-D, 1-D @ 2-D, 1-D @ 1-D) and where it must not (stacked and
broadcast batch dimensions), with integer and complex operands, float32 inputs, second
order (Hessians) and forward mode."""
from __future__ import annotations

import numpy as np
import pytest

from adjointc import grad, hessian, jvp, runtime
from adjointc.errors import TypeMismatch
from adjointc.rules.helpers import linalg

_r = np.random.default_rng(14)


def fd_grad(f, args, i, h=1e-6):
    """Central finite differences of f wrt args[i]."""
    args = [np.array(a, dtype=float) if isinstance(a, np.ndarray) else a for a in args]
    x = args[i]
    out = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        old = x[k]
        x[k] = old + h
        up = f(*args)
        x[k] = old - h
        down = f(*args)
        x[k] = old
        out[k] = (up - down) / (2 * h)
    return out


def sin_of_product(x, y):
    return np.sum(np.sin(x @ y))


def mean_square(w1, w2, x, y):
    h = np.tanh(x @ w1)
    out = h @ w2
    return np.mean((out - y) ** 2)


def pairs(x):
    d = x[:, None, :] - x[None, :, :]
    r2 = np.sum(d * d, axis=-1) + 1.0
    return 0.5 * np.sum(1.0 / r2)


def row_times_column(a, b):
    return np.sum(np.cos(a[None, :] * b[:, None]))


def complex_product(x, y):
    z = (x + 1j * x) @ y
    return np.sum(np.real(z * np.conj(z)))


def int_left(k, y):
    return np.sum(np.sin(k @ y))


def quadratic(w, X):
    return np.sum((X @ w) ** 2)


def bilinear(w, X):
    return np.sum(np.tanh(X @ w))


# (x shape, y shape, the plain form expected in the adjoint or None: the helper stays)
CASES = [((3, 4), (4, 5), ("@ y.T", "x.T @")),
         ((3, 4), (4,), ("[:, None] * y", "x.T @")),
         ((4,), (4, 5), ("y @", "x[:, None] *")),
         ((4,), (4,), None),                      # 1-D @ 1-D: a number, the helper's scalar path
         ((2, 3, 4), (4, 5), None),               # stacked: y's adjoint sums over the batch
         ((3, 4), (2, 4, 5), None),               # stacked on the right
         ((1, 3, 4), (2, 4, 5), None),            # broadcast batch dimensions
         ((2, 3, 4), (2, 4, 5), None),
         ((2, 3, 4), (4,), None),
         ((4,), (2, 4, 5), None)]


def _checked_product(f, xs: tuple, ys: tuple) -> str:
    """grad of f(x, y) wrt both, against finite differences at two points of these shapes;
    its adjoint's source."""
    g = grad(f, wrt=(0, 1))
    for seed in range(2):
        rng = np.random.default_rng(seed)
        x, y = rng.normal(size=xs), rng.normal(size=ys)
        gx, gy = g(x, y)
        assert np.shape(gx) == xs and np.shape(gy) == ys
        np.testing.assert_allclose(gx, fd_grad(f, [x, y], 0), rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(gy, fd_grad(f, [x, y], 1), rtol=1e-6, atol=1e-8)
    return g.source


@pytest.mark.parametrize("xs, ys, plain", CASES)
def test_matmul_gradient_every_rank_pair(xs, ys, plain):
    src = _checked_product(sin_of_product, xs, ys)
    if plain is None:
        assert "matmul_lhs" in src or "matmul_rhs" in src or xs == ys == (4,)
    else:
        assert "matmul_lhs" not in src and "matmul_rhs" not in src
        for text in plain:
            assert text in src


def sin_of_dot(x, y):
    return np.sum(np.sin(np.dot(x, y)))


def dot_in_a_loop(x, w):
    s = 0.0
    for i in range(3):
        s = s + np.dot(x, w) * np.dot(w, w)
        x = np.cos(x)
    return s


# np.dot of 1-D and 2-D operands is their matrix product: the same plain forms; at rank 3
# and with a number the two differ, and the helper stays
DOT_CASES = [((3, 4), (4, 5), ("@ y.T", "x.T @")),
             ((3, 4), (4,), ("[:, None] * y", "x.T @")),
             ((4,), (4, 5), ("y @", "x[:, None] *")),
             ((4,), (4,), ("* y", "* x")),
             ((2, 3, 4), (4, 5), None),
             ((2, 3, 4), (4,), None),
             ((4,), (2, 4, 5), None),
             ((), (4,), None),
             ((3, 4), (), None)]


@pytest.mark.parametrize("xs, ys, plain", DOT_CASES)
def test_dot_gradient_every_rank_pair(xs, ys, plain):
    src = _checked_product(sin_of_dot, xs, ys)
    if plain is None:
        assert "dot_lhs" in src or "dot_rhs" in src
    else:
        assert "dot_lhs" not in src and "dot_rhs" not in src
        for text in plain:
            assert text in src


def test_dot_adjoint_in_a_loop_compiles_under_numba():
    pytest.importorskip("numba")
    import warnings
    rng = np.random.default_rng(5)
    x, w = rng.normal(size=6), rng.normal(size=6)
    plain = grad(dot_in_a_loop, wrt=(0, 1))
    gx, gw = plain(x, w)
    np.testing.assert_allclose(gx, fd_grad(dot_in_a_loop, [x, w], 0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gw, fd_grad(dot_in_a_loop, [x, w], 1), rtol=1e-6, atol=1e-8)
    assert "dot_lhs" not in plain.source and "dot_rhs" not in plain.source
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (a fallback to NumPy warns: it must not happen here)
        nx, nw = grad(dot_in_a_loop, wrt=(0, 1), backend="numba")(x, w)
    np.testing.assert_allclose(nx, gx, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(nw, gw, rtol=1e-12, atol=1e-14)


def test_mlp_adjoint_is_plain_and_right():
    rng = np.random.default_rng(3)
    w1, w2, x, y = rng.normal(size=(5, 6)), rng.normal(size=6), rng.normal(size=(8, 5)), rng.normal(size=8)
    g = grad(mean_square, wrt=(0, 1))
    g1, g2 = g(w1, w2, x, y)
    np.testing.assert_allclose(g1, fd_grad(mean_square, [w1, w2, x, y], 0), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(g2, fd_grad(mean_square, [w1, w2, x, y], 1), rtol=1e-6, atol=1e-9)
    src = g.source
    for helper in ("matmul_lhs", "matmul_rhs", "unreduce", "as_adjoint", "np.size(result)"):
        assert helper not in src
    # y broadcasting against the batch (a (1,)-shaped y): the mean's adjoint still sums right
    y1 = rng.normal(size=1)
    g1, g2 = g(w1, w2, x, y1)
    np.testing.assert_allclose(g2, fd_grad(mean_square, [w1, w2, x, y1], 1), rtol=1e-6, atol=1e-9)
    # and one y per output column: out (8,) - y (3, 8) broadcasts out up
    y3 = rng.normal(size=(3, 8))
    g1, g2 = g(w1, w2, x, y3)
    np.testing.assert_allclose(g1, fd_grad(mean_square, [w1, w2, x, y3], 0), rtol=1e-6, atol=1e-9)


def test_float32_inputs_keep_their_dtype():
    rng = np.random.default_rng(4)
    w1, w2 = rng.normal(size=(5, 6)).astype(np.float32), rng.normal(size=6).astype(np.float32)
    x, y = rng.normal(size=(8, 5)), rng.normal(size=8)
    g1, g2 = grad(mean_square, wrt=(0, 1))(w1, w2, x, y)
    assert g1.dtype == np.float32 and g2.dtype == np.float32
    np.testing.assert_allclose(g1, fd_grad(mean_square, [w1.astype(float), w2.astype(float), x, y], 0),
                               rtol=1e-3, atol=1e-4)


def test_pairwise_sums_the_broadcast_axes():
    g = grad(pairs)
    for n in (1, 2, 7):
        x = _r.normal(size=(n, 3))
        np.testing.assert_allclose(g(x), fd_grad(pairs, [x], 0), rtol=1e-6, atol=1e-9)
    src = g.source
    assert "np.sum(d_bar, axis=0, keepdims=True)" in src and "np.sum(d_bar, axis=1, keepdims=True)" in src
    assert "unbroadcast(-" not in src   # (the negation is of the summed array)


def test_outer_broadcast_both_sides():
    g = grad(row_times_column, wrt=(0, 1))
    a, b = _r.normal(size=4), _r.normal(size=3)
    ga, gb = g(a, b)
    np.testing.assert_allclose(ga, fd_grad(row_times_column, [a, b], 0), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(gb, fd_grad(row_times_column, [a, b], 1), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("xs, ys", [((3, 4), (4, 5)), ((3, 4), (4,)), ((4,), (4, 5))])
def test_complex_intermediate(xs, ys):
    x, y = _r.normal(size=xs), _r.normal(size=ys)
    gx, gy = grad(complex_product, wrt=(0, 1))(x, y)
    np.testing.assert_allclose(gx, fd_grad(complex_product, [x, y], 0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gy, fd_grad(complex_product, [x, y], 1), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("ks, ys", [((3, 4), (4, 5)), ((3, 4), (4,)), ((4,), (4, 5))])
def test_integer_operand(ks, ys):
    k, y = _r.integers(-3, 4, size=ks), _r.normal(size=ys)
    gy = grad(int_left, wrt=1)(k, y)
    np.testing.assert_allclose(gy, fd_grad(int_left, [k, y], 1), rtol=1e-6, atol=1e-8)


def test_hessian_through_plain_matmul():
    X = _r.normal(size=(6, 3))
    w = _r.normal(size=3)
    np.testing.assert_allclose(hessian(quadratic)(w, X), 2 * X.T @ X, rtol=1e-10, atol=1e-10)
    W = _r.normal(size=(3, 2))
    H = hessian(quadratic)(W, X)          # 2-D @ 2-D: d2/dW_ij dW_kl = 2 (X.T X)_ik delta_jl
    expected = 2 * np.einsum("ik,jl->ijkl", X.T @ X, np.eye(2))
    np.testing.assert_allclose(H, expected, rtol=1e-10, atol=1e-10)


def test_hessian_of_tanh_layer_against_finite_differences_of_the_gradient():
    X, w = _r.normal(size=(6, 3)), _r.normal(size=3)
    g = grad(bilinear)
    H = hessian(bilinear)(w, X)
    fd = np.stack([fd_grad(lambda v, X: g(v, X)[k], [w, X], 0) for k in range(3)])
    np.testing.assert_allclose(H, fd, rtol=1e-6, atol=1e-8)


def test_forward_mode_unaffected():
    x, y = _r.normal(size=(3, 4)), _r.normal(size=4)
    dx, dy = _r.normal(size=(3, 4)), _r.normal(size=4)
    _, t = jvp(sin_of_product, (x, y), (dx, dy))
    h = 1e-6
    fd = (sin_of_product(x + h * dx, y + h * dy) - sin_of_product(x - h * dx, y - h * dy)) / (2 * h)
    assert abs(t - fd) < 1e-7


# ----------------------------------------------------------- the helpers' fast paths
@pytest.mark.parametrize("xs, ys", [((3, 4), (4, 5)), ((3, 4), (4,)), ((4,), (4, 5)), ((2, 3, 4), (4, 5))])
def test_matmul_helpers_against_einsum(xs, ys):
    x, y = _r.normal(size=xs), _r.normal(size=ys)
    g = _r.normal(size=np.shape(x @ y))
    xe = "mk" if len(xs) == 2 else "k" if len(xs) == 1 else "bmk"
    ye = "kn" if len(ys) == 2 else "k"
    ge = (xe[:-1] + ye[1:]) if len(ys) == 2 else xe[:-1]
    np.testing.assert_allclose(linalg.matmul_lhs(g, x, y), np.einsum(f"{ge},{ye}->{xe}", g, y), rtol=1e-12)
    np.testing.assert_allclose(linalg.matmul_rhs(g, x, y), np.einsum(f"{ge},{xe}->{ye}", g, x), rtol=1e-12)
    assert np.all(linalg.matmul_lhs(0.0, x, y) == 0) and linalg.matmul_lhs(0.0, x, y).shape == xs


def test_as_adjoint_fast_path_owns_and_checks():
    x = np.ones((3, 2))
    owned = np.arange(6.0).reshape(3, 2).copy()
    assert runtime.as_adjoint(owned, x) is owned
    view = np.broadcast_to(np.ones(2), (3, 2))
    made = runtime.as_adjoint(view, x)
    assert made is not view and made.flags.writeable and made.base is None and np.all(made == 1)
    part = np.ones((6, 2))[:3]
    assert runtime.as_adjoint(part, x).base is None
    with pytest.raises(TypeMismatch):
        runtime.as_adjoint(np.ones((3, 2)) * 1j, x)
    assert runtime.as_adjoint(owned * 1j, x.astype(complex)) is not None
    assert np.all(runtime.as_adjoint(0.0, x) == 0)


def test_unbroadcast_and_is_zero_fast_paths():
    x = np.ones((3, 1))
    g = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(runtime.unbroadcast(g, x), np.array([[1.0], [5.0], [9.0]]))
    same = np.ones((3, 1))
    assert runtime.unbroadcast(same, x) is same
    assert runtime.unbroadcast(0.0, x) == 0.0
    assert runtime.is_zero(0.0) and runtime.is_zero(np.float64(0.0)) and runtime.is_zero(np.array(0.0))
    assert not runtime.is_zero(np.zeros(3)) and not runtime.is_zero(1.0) and not runtime.is_zero([0.0])


def outer_square(a, b):
    t = a[:, None] * b          # (n, m): neither a's shape nor b's
    return np.sum(np.sum(t * t, axis=1) ** 2)


def looped(x):
    s = 0.0
    for _ in range(3):
        s = s + np.sum(np.sum(x * x, axis=-1) ** 2)
        x = x[:, :-1]           # x rebound: its shape changes every trip
    return s


def test_shape_read_from_the_source_array():
    g = grad(pairs)
    x = _r.normal(size=(5, 3))
    g(x)
    src = g.source
    assert "np.sum(d * d, axis=-1)" in src and "unreduce(r2_bar, d, -1, False)" in src
    a, b = _r.normal(size=4), _r.normal(size=3)
    ga, gb = grad(outer_square, wrt=(0, 1))(a, b)
    np.testing.assert_allclose(ga, fd_grad(outer_square, [a, b], 0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gb, fd_grad(outer_square, [a, b], 1), rtol=1e-6, atol=1e-8)
    x = _r.normal(size=(3, 5))
    np.testing.assert_allclose(grad(looped)(x), fd_grad(looped, [x], 0), rtol=1e-6, atol=1e-8)


def test_forms_are_registered_by_op_and_driven_by_the_pass():
    """Each helper's plain form is registered once, with its rule (rules.plain_form); the
    driver (passes/forms.form) reads the shape-only argument from a source first, then
    asks the op's entry, and leaves a call with keywords as it is."""
    from adjointc import rules, types as T
    from adjointc.ir import Call, Const, Name
    from adjointc.passes import forms

    assert {"matmul_lhs", "matmul_rhs", "mul", "unbroadcast", "np.size"} <= set(rules.PLAIN_FORMS)
    assert rules.SHAPE_ONLY == {"unreduce": 1, "unbroadcast": 1, "np.size": 0}
    with pytest.raises(ValueError, match="registered already"):
        rules.plain_form("unbroadcast")(lambda args, types: None)

    class Types:
        table = {"g": T.array(2), "x": T.array(2), "y": T.array(2), "u": T.array(1), "s": T.T("float")}

        def of(self, e):
            return self.table[e.id] if isinstance(e, Name) else T.UNKNOWN
    g, x, y, u, s = (Name(n) for n in "gxyus")
    assert forms.form(Call("matmul_lhs", (g, x, y)), Types()) == Call("matmul", (g, Call("attr:T", (y,))))
    assert forms.form(Call("matmul_rhs", (g, x, y)), Types()) == Call("matmul", (Call("attr:T", (x,)), g))
    assert forms.form(Call("matmul_lhs", (g, x, y), (("out", Const(None)),)), Types()) is None
    assert forms.form(Call("np.size", (s,)), Types()) == Const(1)
    assert forms.form(Call("np.size", (Call("mul", (u, u)),)), Types()) == Call("np.size", (u,))
