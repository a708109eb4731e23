"""The public API: grad/value_and_grad/vjp conventions, errors, determinism."""
import ast
import math

import numpy as np
import pytest

import adjointc
from adjointc import grad, value_and_grad, vjp


def poly(x, y, k=3):
    return x ** k * y + math.sin(y)


def field(u, c):
    return np.sum(c * u * u)


def vector_out(x):
    return np.sin(x) * x


def pair_out(x, y):
    return x * y, x + y


def test_wrt_forms_agree():
    args = (1.3, 0.7)
    by_pos = grad(poly, wrt=(0, 1))(*args)
    by_name = grad(poly, wrt=("x", "y"))(*args)
    single = grad(poly)(*args), grad(poly, wrt="y")(*args)
    expected = (3 * 1.3 ** 2 * 0.7, 1.3 ** 3 + math.cos(0.7))
    np.testing.assert_allclose(by_pos, expected, rtol=1e-12)
    np.testing.assert_allclose(by_name, expected, rtol=1e-12)
    np.testing.assert_allclose(single, expected, rtol=1e-12)
    assert isinstance(single[0], float)


def test_decorator_forms_and_primal():
    g1 = grad(poly)
    g2 = grad(wrt=1)(poly)
    assert g1.primal is poly and g2.primal is poly
    assert g2(1.0, 2.0) == pytest.approx(1.0 + math.cos(2.0))


def test_value_and_grad():
    v, (gu, gc) = value_and_grad(field, wrt=(0, 1))(np.array([1.0, 2.0]), 0.5)
    assert v == pytest.approx(2.5)
    np.testing.assert_allclose(gu, [1.0, 2.0])
    assert gc == pytest.approx(5.0)


def test_array_gradient_keeps_shape_and_dtype():
    u = np.linspace(0.1, 1.0, 6, dtype=np.float32).reshape(2, 3)
    g = grad(field)(u, 2.0)
    assert g.shape == u.shape and g.dtype == np.float32
    np.testing.assert_allclose(g, 4.0 * u, rtol=1e-6)


def test_vjp_array_and_tuple_outputs():
    x = np.array([0.3, -1.2, 2.0])
    value, pull = vjp(vector_out, x)
    np.testing.assert_allclose(value, np.sin(x) * x)
    ct = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(pull(ct), ct * (np.cos(x) * x + np.sin(x)), rtol=1e-12)
    value, pull = vjp(pair_out, 2.0, 3.0, wrt=(0, 1))
    assert value == (6.0, 5.0)
    assert pull((1.0, 10.0)) == pytest.approx((3.0 + 10.0, 2.0 + 10.0))


def squares_first_in_place(x):
    x[0] = x[0] ** 2
    return x * 1.0


def test_vjp_of_a_function_that_modifies_its_argument():
    """The value is computed on a copy: the caller's array and the point of the
    pullback stay the input."""
    x = np.array([3.0, 1.0])
    value, pull = vjp(squares_first_in_place, x)
    np.testing.assert_array_equal(x, [3.0, 1.0])
    np.testing.assert_allclose(value, [9.0, 1.0])
    np.testing.assert_allclose(pull(np.array([1.0, 0.0])), [6.0, 0.0])
    np.testing.assert_allclose(pull(np.array([0.0, 1.0])), [0.0, 1.0])
    np.testing.assert_array_equal(x, [3.0, 1.0])


def test_errors_are_clear():
    with pytest.raises(adjointc.TypeMismatch, match="int"):
        grad(poly)(2, 1.0)
    with pytest.raises(adjointc.TypeMismatch, match="scalar output"):
        grad(vector_out)(np.ones(3))
    with pytest.raises(ValueError, match="not a parameter"):
        grad(poly, wrt="z")
    with pytest.raises(adjointc.AdjointcError, match="not been called"):
        grad(poly).source


def test_source_is_deterministic_and_has_no_dead_assignments():
    s1 = grad(poly, wrt=(0, 1)).source_for(1.0, 2.0)
    s2 = grad(poly, wrt=(0, 1)).source_for(1.0, 2.0)
    assert s1 == s2
    assert "forward sweep" in s1 and "backward sweep" in s1 and "y_bar" in s1
    assert_no_dead_assignments(s1)


def assert_no_dead_assignments(source: str, allowed: set = frozenset()) -> None:
    """Every name the generated function assigns is read somewhere (no dead statements);
    `allowed`: names the user's own code assigns without reading."""
    tree = ast.parse(source)
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef))
    stored = {t.id for n in ast.walk(fn) if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    loaded = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    dead = stored - loaded - set(allowed)
    assert not dead, f"assigned but never read: {sorted(dead)}"
