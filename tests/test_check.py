"""Tests of adjointc.check: the gradient checker, checked against hand-written gradients."""
from __future__ import annotations

import math
from math import cos, exp, sin

import numpy as np
import pytest

from adjointc.check import CheckReport, check, numeric_gradient
from adjointc.errors import CheckFailed


# --- scalar functions (SymPy reference) -------------------------------------------------

def f_math(x, y):
    return math.sin(x) * math.exp(y) + x**2 / y


def g_math(x, y):
    return (math.cos(x) * math.exp(y) + 2 * x / y, math.sin(x) * math.exp(y) - x**2 / y**2)


def f_np(x, y):
    return np.tanh(x) * np.log1p(y) + np.sqrt(x * y)


def g_np(x, y):
    s = np.sqrt(x * y)
    return ((1 - np.tanh(x) ** 2) * np.log1p(y) + y / (2 * s),
            np.tanh(x) / (1 + y) + x / (2 * s))


def f_from_import(x):
    return sin(x) * cos(x) + exp(-x)


def g_from_import(x):
    return cos(x) ** 2 - sin(x) ** 2 - exp(-x)


def _helper(t):
    return math.log(t) * t


def f_calls_helper(x):
    return _helper(x) + math.atan2(x, 2.0)


def g_calls_helper(x):
    return math.log(x) + 1 + 2.0 / (x * x + 4.0)


def f_branch(x):
    if x > 0:
        return x * x
    return -x


def test_sympy_passes_with_math():
    rep = check(f_math, 0.7, 1.3, wrt=(0, 1), gradient=g_math)
    assert isinstance(rep, CheckReport) and rep.passed
    assert [r.name for r in rep.inputs] == ["x", "y"]
    assert all(r.method == "sympy" for r in rep.inputs)
    # SymPy reference vs exact hand formula: agreement to float rounding.
    assert all(r.max_rel_error < 1e-13 for r in rep.inputs)
    assert rep.rtol == 1e-9 and rep.atol == 1e-12


def test_sympy_passes_with_numpy_functions():
    rep = check(f_np, 0.4, 2.5, wrt=(0, 1), gradient=g_np)
    assert rep.passed and {r.method for r in rep.inputs} == {"sympy"}
    assert max(r.max_rel_error for r in rep.inputs) < 1e-13


def test_sympy_from_import_and_same_module_helper():
    rep = check(f_from_import, 0.9, gradient=g_from_import)
    assert rep.passed and rep.inputs[0].method == "sympy" and rep.inputs[0].name == "x"
    rep = check(f_calls_helper, 1.7, gradient=g_calls_helper)
    assert rep.passed and rep.inputs[0].method == "sympy"


def test_sympy_closure_and_int_argument():
    k = 3.0

    def f(x, n):
        return np.exp(k * x) * n**2

    rep = check(f, 0.2, 4, wrt=(0, 1), gradient=lambda x, n: (k * np.exp(k * x) * n**2, 2 * n * np.exp(k * x)))
    assert rep.passed and rep.inputs[0].method == "sympy"


def test_wrt_single_index_name_and_keyword():
    rep = check(f_math, 0.7, 1.3, wrt=1, gradient=lambda x, y: g_math(x, y)[1])
    assert rep.passed and [r.name for r in rep.inputs] == ["y"]
    rep = check(f_math, 0.7, 1.3, wrt="x", gradient=lambda x, y: g_math(x, y)[0])
    assert rep.passed and [r.name for r in rep.inputs] == ["x"]
    rep = check(f_math, 0.7, wrt=("y", 0), gradient=lambda x, y: g_math(x, y)[::-1], y=1.3)
    assert rep.passed and [r.name for r in rep.inputs] == ["y", "x"]


def test_wrong_scalar_gradients_fail_under_sympy_and_fd():
    def scaled(x, y):
        gx, gy = g_math(x, y)
        return gx * 1.01, gy

    def negated(x, y):
        gx, gy = g_math(x, y)
        return gx, -gy

    def swapped(x, y):
        gx, gy = g_math(x, y)
        return gy, gx

    for method in ("sympy", "fd"):
        rep = check(f_math, 0.7, 1.3, wrt=(0, 1), gradient=scaled, method=method)
        assert not rep.passed and [r.passed for r in rep.inputs] == [False, True]
        assert rep.inputs[0].method == method
        assert rep.inputs[0].max_rel_error == pytest.approx(0.01, rel=1e-3)
        rep = check(f_math, 0.7, 1.3, wrt=(0, 1), gradient=negated, method=method)
        assert [r.passed for r in rep.inputs] == [True, False]
        assert rep.inputs[1].max_rel_error == pytest.approx(2.0, rel=1e-3)
        rep = check(f_math, 0.7, 1.3, wrt=(0, 1), gradient=swapped, method=method)
        assert [r.passed for r in rep.inputs] == [False, False]


def test_raise_on_fail_raises_with_table():
    with pytest.raises(CheckFailed) as info:
        check(f_math, 0.7, 1.3, wrt=(0, 1), gradient=lambda x, y: (g_math(x, y)[0], 0.0), raise_on_fail=True)
    text = str(info.value)
    assert "gradient check failed for y" in text
    assert "max rel error" in text and "FAIL" in text and "pass" in text and "sympy" in text
    rep = check(f_math, 0.7, 1.3, wrt=(0, 1), gradient=g_math)
    rep.raise_if_failed()  # passing report: no exception


def test_report_str_is_aligned_table():
    rep = check(f_math, 0.7, 1.3, wrt=(0, 1), gradient=lambda x, y: (g_math(x, y)[0], 1.0))
    lines = str(rep).splitlines()
    assert lines[0].split() == ["input", "method", "max", "abs", "error", "max", "rel", "error", "result"]
    col = lines[0].index("result")
    assert lines[1][col:].strip() == "pass" and lines[2][col:].strip() == "FAIL"
    assert lines[0].index("method") == lines[1].index("sympy") == lines[2].index("sympy")


def test_branching_function_falls_back_to_fd():
    rep = check(f_branch, 0.8, gradient=lambda x: 2 * x if x > 0 else -1.0)
    assert rep.passed and rep.inputs[0].method == "fd"
    assert "SymPy not usable" in rep.note and "TypeError" in rep.note
    assert rep.rtol == 1e-5 and rep.atol == 1e-7  # FD default tolerances
    rep = check(f_branch, 0.8, gradient=lambda x: 2.02 * x)
    assert not rep.passed and rep.inputs[0].method == "fd"


def test_forcing_sympy_on_branching_function_raises():
    with pytest.raises(ValueError, match="method='sympy' is impossible for f_branch"):
        check(f_branch, 0.8, gradient=lambda x: 2 * x, method="sympy")

    def uses_float(x):
        return float(x) ** 2

    with pytest.raises(ValueError, match="impossible"):
        check(uses_float, 0.8, gradient=lambda x: 2 * x, method="sympy")
    rep = check(uses_float, 0.8, gradient=lambda x: 2 * x)
    assert rep.passed and rep.inputs[0].method == "fd"
    with pytest.raises(ValueError, match="scalar wrt inputs"):
        check(lambda x: float(np.sum(x)), np.ones(3), gradient=lambda x: np.ones(3), method="sympy")


# --- array functions (finite differences) -----------------------------------------------

def f_arr(x):
    return np.sum(np.sin(x) * x)


def g_arr(x):
    return np.cos(x) * x + np.sin(x)


def f_mat(A, v):
    return float(v @ np.tanh(A) @ v)


def g_mat(A, v):
    T = np.tanh(A)
    return (1 - T**2) * np.outer(v, v), (T + T.T) @ v


def test_fd_passes_for_arrays_and_matrices():
    rng = np.random.default_rng(0)
    x = rng.normal(size=7)
    rep = check(f_arr, x, gradient=g_arr)
    assert rep.passed and rep.inputs[0].method == "fd" and rep.inputs[0].max_rel_error < 1e-7
    B, u, w = rng.normal(size=(3, 4)), rng.normal(size=3), rng.normal(size=4)
    rep = check(f_rect, B, u, w, wrt=(0, "w"), gradient=lambda B, u, w: ((1 - np.tanh(B) ** 2) * np.outer(u, w),
                                                                         u @ np.tanh(B)))
    assert rep.passed and [r.name for r in rep.inputs] == ["B", "w"]
    A, v = rng.normal(size=(3, 3)), rng.normal(size=3)
    rep = check(f_mat, A, v, wrt=(0, 1), gradient=g_mat)
    assert rep.passed and [r.name for r in rep.inputs] == ["A", "v"]
    assert max(r.max_rel_error for r in rep.inputs) < 1e-7


def f_rect(B, u, w):
    return u @ np.tanh(B) @ w


def test_fd_mixed_scalar_and_array_with_names():
    def f(x, scale, *, shift):
        return scale * np.sum((x - shift) ** 2)

    x = np.array([[1.0, 2.0], [3.0, -1.0]])
    grad = lambda x, scale, *, shift: (2 * scale * (x - shift), float(np.sum((x - shift) ** 2)),
                                      -2 * scale * float(np.sum(x - shift)))
    rep = check(f, x, 1.5, wrt=("x", "scale", "shift"), gradient=grad, shift=0.25)
    assert rep.passed and [r.method for r in rep.inputs] == ["fd"] * 3
    assert [r.name for r in rep.inputs] == ["x", "scale", "shift"]


def test_wrong_array_gradients_fail():
    x = np.linspace(-1.0, 2.0, 5)
    rep = check(f_arr, x, gradient=lambda x: 1.01 * g_arr(x))
    assert not rep.passed and rep.inputs[0].max_rel_error == pytest.approx(0.01, rel=1e-3)
    one_wrong = lambda x: g_arr(x) + np.eye(5)[3] * 0.1
    rep = check(f_arr, x, gradient=one_wrong)
    assert not rep.passed and "index (3,)" in rep.inputs[0].message
    assert rep.inputs[0].max_abs_error == pytest.approx(0.1, rel=1e-6)
    with pytest.raises(CheckFailed, match="FAIL"):
        check(f_arr, x, gradient=lambda x: -g_arr(x), raise_on_fail=True)


def test_wrong_shape_or_type_fails_without_crashing():
    x = np.ones((2, 3))
    rep = check(f_arr, x, gradient=lambda x: g_arr(x).ravel())
    assert not rep.passed and "shape (6,), expected (2, 3)" in rep.inputs[0].message
    assert rep.inputs[0].max_rel_error == float("inf")
    rep = check(f_arr, x, gradient=lambda x: None)
    assert not rep.passed and "not real numbers" in rep.inputs[0].message
    rep = check(f_math, 0.7, 1.3, wrt=(0, 1), gradient=lambda x, y: g_math(x, y)[0])
    assert not rep.passed and "expected a tuple of 2" in rep.inputs[0].message
    rep = check(f_math, 0.7, 1.3, wrt=(0, 1), gradient=lambda x, y: np.array(g_math(x, y)))
    assert not rep.passed


def test_callers_arrays_not_mutated():
    def f(x, w):
        x *= 2.0  # the function itself mutates its inputs
        w += 1.0
        return np.sum(x * w)

    def g(x, w):
        return 2.0 * (w + 1.0)

    x, w = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 2.0])
    x0, w0 = x.copy(), w.copy()
    rep = check(f, x, w, gradient=g)
    assert rep.passed
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(w, w0)


def test_float32_input_is_differentiated_in_float64():
    x = np.array([0.3, 1.1], dtype=np.float32)
    rep = check(f_arr, x, gradient=lambda x: g_arr(x.astype(np.float64)))
    assert rep.passed and rep.inputs[0].max_rel_error < 1e-7
    assert x.dtype == np.float32


def test_primal_attribute_is_used():
    class Compiled:
        primal = staticmethod(f_math)

    rep = check(Compiled(), 0.7, 1.3, wrt=(0, 1), gradient=g_math)
    assert rep.passed and rep.inputs[0].method == "sympy" and rep.inputs[0].name == "x"


def test_tolerance_overrides():
    wrong = lambda x, y: (g_math(x, y)[0] * (1 + 1e-7), g_math(x, y)[1])
    assert not check(f_math, 0.7, 1.3, wrt=(0, 1), gradient=wrong).passed  # sympy rtol 1e-9
    assert check(f_math, 0.7, 1.3, wrt=(0, 1), gradient=wrong, rtol=1e-6).passed
    assert check(f_math, 0.7, 1.3, wrt=(0, 1), gradient=wrong, method="fd").passed  # fd rtol 1e-5


def test_errors_for_bad_inputs():
    with pytest.raises(ValueError, match="integer|dtype int"):
        check(f_arr, np.arange(3), gradient=lambda x: x)
    with pytest.raises(ValueError, match="vjp"):
        check(lambda x: x * 2, np.ones(3), gradient=lambda x: x)
    with pytest.raises(ValueError, match="names no argument"):
        check(f_math, 0.7, 1.3, wrt="z", gradient=g_math)
    with pytest.raises(ValueError, match="out of range"):
        check(f_math, 0.7, 1.3, wrt=2, gradient=g_math)
    with pytest.raises(ValueError, match="method"):
        check(f_math, 0.7, 1.3, gradient=g_math, method="exact")


def test_numeric_gradient_public_helper():
    x = np.array([0.1, -0.4, 2.0])
    gx, gy = numeric_gradient(lambda x, y: np.sum(np.exp(x)) * y, (x, 3.0), {}, [0, 1])
    np.testing.assert_allclose(gx, 3.0 * np.exp(x), rtol=1e-8)
    assert isinstance(gy, float) and gy == pytest.approx(np.sum(np.exp(x)), rel=1e-9)
    (gk,) = numeric_gradient(lambda x, *, c: c**3, (x,), {"c": 2.0}, ["c"])
    assert gk == pytest.approx(12.0, rel=1e-8)
    np.testing.assert_array_equal(x, [0.1, -0.4, 2.0])


def test_check_of_a_gradient_is_refused_not_reported_as_a_pass():
    """check(grad(f)) would be a second-derivative check: refused (issue 9), never a
    check of f's own gradient under another name."""
    import functools

    from adjointc import grad
    from adjointc.errors import UnsupportedFunction
    g = grad(f_math, wrt=(0, 1))
    with pytest.raises(UnsupportedFunction, match="second derivative") as e:
        check(g, 0.7, 1.3, wrt=(0, 1))
    assert "gradient=g" in str(e.value) and "test_check.py" in str(e.value)
    assert check(f_math, 0.7, 1.3, wrt=(0, 1), gradient=g).passed  # the documented way
    cached = functools.lru_cache(maxsize=None)(f_math)
    rep = check(cached, 0.7, 1.3, wrt=(0, 1), gradient=g_math)
    assert rep.passed and rep.inputs[0].method == "sympy"


def test_wrt_naming_nothing_is_refused():
    from adjointc.errors import InvalidArgument
    for wrt in ((), [], True, 1.5):
        with pytest.raises(InvalidArgument):
            check(f_math, 0.7, 1.3, wrt=wrt, gradient=g_math)
