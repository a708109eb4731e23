"""The fast call path (adjointc/callpath.py): the same bindings, specialisations and
results as the general path (inspect binding, types.signature_key), only cheaper."""
import functools
import inspect
import math

import numpy as np
import pytest

from adjointc import callpath, grad, value_and_grad
from adjointc import types as T


def poly(x, y=2.0, *, k=3):
    return x ** k * y + math.sin(y)


def scaled(x, c):
    return np.sum(c * x * x)


def _general_bind(fn, args, kwargs=None):
    b = inspect.signature(fn).bind(*args, **(kwargs or {}))
    b.apply_defaults()
    return list(b.arguments.values())


VALUES = [1.5, 2, True, None, "s", 1j, np.float64(2.0), np.int64(3), np.ones(3), np.ones((2, 2)),
          np.ones(3, dtype=np.float32), np.arange(3), np.ones(2, dtype=complex), np.array(True),
          np.array(2.0), (1.0, np.ones(2)), [1.0, 2.0, 3.0], [1.0, 2], ([1.0], (2.0, 3)), (), []]


def test_quick_key_implies_signature_key():
    # same quick key => same signature string (the adjoint memoised under it is the general path's)
    seen: dict = {}
    for a in VALUES + [3.5, -1, np.zeros(7), np.zeros((5, 1)), [0.0, 1.0, 2.0], (2.0, np.zeros(9))]:
        k = callpath.quick_key([a])
        assert k is not None, a
        assert seen.setdefault(k, T.signature_key(a)) == T.signature_key(a), a
    assert len({callpath.quick_key([a]) for a in VALUES}) == len({T.signature_key(a) for a in VALUES})


def test_quick_key_refuses_what_it_cannot_key():
    class Sub(np.ndarray):
        pass

    for v in (np.ma.masked_array([1.0]), np.ones(2).view(Sub), {"a": 1.0}, poly, (1.0, poly), object()):
        assert callpath.quick_key([1.0, v]) is None


@pytest.mark.parametrize("args", [(1.0,), (1.0, 3.0), ("a", None)])
def test_positional_bind_is_inspects(args):
    plan = callpath.positional_plan(inspect.signature(poly), {})
    assert callpath.bind_positional(poly, plan, args) == _general_bind(poly, args)


def test_plan_refuses_varargs_and_required_keyword_only():
    def va(x, *rest):
        return x

    def kw(x, **more):
        return x

    def req(x, *, k):
        return x * k
    for f in (va, kw, req):
        assert callpath.positional_plan(inspect.signature(f), {}) is None
    assert callpath.positional_plan(inspect.signature(poly), {"k": 2}) is None  # (a partial's keywords)
    plan = callpath.positional_plan(inspect.signature(poly), {})
    assert callpath.bind_positional(poly, plan, ()) is None  # too few: the general path raises
    assert callpath.bind_positional(poly, plan, (1.0, 2.0, 3.0)) is None  # too many


def test_defaults_keywords_and_errors_through_the_wrapper():
    g = grad(poly, wrt=(0, 1))
    x, y = 1.3, 0.7
    expected = (3 * x ** 2 * y, x ** 3 + math.cos(y))
    np.testing.assert_allclose(g(x, y), expected, rtol=1e-12)
    np.testing.assert_allclose(g(x), (3 * x ** 2 * 2.0, x ** 3 + math.cos(2.0)), rtol=1e-12)
    np.testing.assert_allclose(g(x, y=y), expected, rtol=1e-12)
    np.testing.assert_allclose(g(x, y, k=2), (2 * x * y, x ** 2 + math.cos(y)), rtol=1e-12)
    with pytest.raises(TypeError, match="poly"):
        g()
    with pytest.raises(TypeError, match="poly"):
        g(1.0, 2.0, 3.0)


def test_reassigned_defaults_are_bound_on_the_fast_path():
    def p(x, y=2.0, *, k=3):
        return x ** k * y

    g = grad(p)
    assert g(1.5) == pytest.approx(3 * 1.5 ** 2 * 2.0)
    p.__defaults__ = (5.0,)
    assert g(1.5) == pytest.approx(3 * 1.5 ** 2 * 5.0)
    p.__kwdefaults__ = {"k": 2}
    assert g(1.5) == pytest.approx(2 * 1.5 * 5.0)


def test_respecialises_when_types_change_and_keeps_gradient_types():
    g = grad(scaled)
    r = g(2.0, 3.0)
    assert type(r) is float and r == pytest.approx(12.0)
    a = np.array([1.0, 2.0])
    ga = g(a, 3.0)
    assert isinstance(ga, np.ndarray) and ga.shape == (2,)
    np.testing.assert_allclose(ga, 6.0 * a)
    a32 = a.astype(np.float32)
    g32 = g(a32, 3.0)
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, 6.0 * a, rtol=1e-6)
    m = np.ones((2, 3))
    np.testing.assert_allclose(g(m, np.arange(3.0)), 2 * m * np.arange(3.0))
    # a broadcast input: the gradient has the input's shape (the general _like)
    np.testing.assert_allclose(grad(scaled, wrt=1)(m, 2.0), np.sum(m * m))
    assert len(g._fast) == 4


def test_bound_method_and_partial():
    class Model:
        def __init__(self, c):
            self.c = c

        def loss(self, x, y=1.0):
            return self.c * x * x * y

    m = Model(3.0)
    assert grad(m.loss)(2.0) == pytest.approx(12.0)
    assert grad(m.loss)(2.0, 2.0) == pytest.approx(24.0)
    pk = functools.partial(poly, k=2)
    assert grad(pk)(1.5, 1.0) == pytest.approx(3.0)
    pp = functools.partial(scaled, np.array([1.0, 2.0]))
    assert grad(pp)(2.0) == pytest.approx(5.0)


def test_list_and_tuple_inputs_on_the_fast_path():
    def f(xs, pair):
        return xs[0] * xs[1] + pair[0] * np.sum(pair[1])

    v, (gx, gp) = value_and_grad(f, wrt=(0, 1))([2.0, 3.0], (1.5, np.array([1.0, 2.0])))
    assert v == pytest.approx(6.0 + 4.5)
    assert gx == [3.0, 2.0] and type(gx) is list
    assert gp[0] == pytest.approx(3.0) and type(gp) is tuple
    np.testing.assert_allclose(gp[1], [1.5, 1.5])


def test_a_global_changed_after_the_first_call_is_read():
    g = grad(_with_global)
    assert g(2.0) == pytest.approx(4.0 * _K)
    globals()["_K"] = 5.0
    try:
        assert g(2.0) == pytest.approx(4.0 * 5.0)
    finally:
        globals()["_K"] = 2.0


_K = 2.0


def _with_global(x):
    return _K * x * x


def test_the_fast_path_binds_without_inspect_and_looks_up_without_signature_strings(monkeypatch):
    # (what the call costs is benchmarks/call_overhead.py's to measure: x * x 11.6 -> 3.0 us per
    # call; a timing assertion is flaky on a shared machine, so this checks the mechanism)
    def sq(x, c=1.0):
        return c * x * x

    g = grad(sq)
    assert g(3.0) == pytest.approx(6.0)

    def refuse(*a, **k):
        raise AssertionError("the fast path used the general one")
    monkeypatch.setattr(inspect.Signature, "bind", refuse)
    monkeypatch.setattr(T, "signature_key", refuse)
    monkeypatch.setattr(T, "of_value", refuse)
    assert g(3.0) == pytest.approx(6.0)
    assert g(2.0, 0.5) == pytest.approx(2.0)
    with pytest.raises(AssertionError, match="general"):
        g(3.0, c=2.0)  # (keywords take the general path)
