"""Comprehensions, generator expressions and dicts (adjointc/comprehensions.py): the
lowering (readable loops, the comprehension's own scope), gradients in reverse mode,
forward mode and second order against finite differences and SymPy, dicts as
differentiated inputs (the gradient is a dict of the same keys), and what is still
refused, located. The corpus module tests/corpus/containers.py has more programs."""
import inspect
import math

import numpy as np
import pytest
import sympy as sp

import adjointc
from adjointc import AdjointcError, AliasingError, NoAdjointRule, UnsupportedSyntax, grad, hessian, jvp
from adjointc import runtime
from adjointc.frontend import lower
from adjointc.printer import block

HERE = __file__


def fd(f, x, h=1e-6):
    """Central differences of a scalar f at x (a float or an array)."""
    if not isinstance(x, np.ndarray):
        return (f(x + h) - f(x - h)) / (2 * h)
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = h
        g.flat[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def fd_dict(f, p, h=1e-6):
    out = {}
    for k, v in p.items():
        out[k] = fd(lambda w, k=k: f({**p, k: w}), v, h)
    return out


# ------------------------------------------------------------------ the lowering
def scoped(x, n):
    i = 3
    a = [x[i] * 2.0 for i in range(n) if i % 2 == 0]
    return sum(a) + x[i]


def test_a_comprehension_is_a_loop_with_its_own_variable():
    text = block(lower(scoped).function.body)
    lines = text.splitlines()
    assert lines[:3] == ["i = 3", "_a1 = []", "_range1 = range(n)"]
    # the comprehension's i is a fresh name: the user's i (3) is read after it
    assert "for i_2 in _range1:" in text and "_a1.append(_t2)" in text and "_t4 = x[i]" in text
    assert "_cond1 = i_2 % 2 == 0" in text


def dict_display(W, b):
    p = {"W": W, "b": b}
    return p


def test_a_dict_display_is_item_writes_into_a_new_dict():
    assert block(lower(dict_display).function.body).splitlines() == [
        "_p1 = {}", "_p1['W'] = W", "_p1['b'] = b", "p = _p1", "return p"]


def test_scoping_is_numerically_right_and_the_generated_code_says_where():
    x = np.array([0.5, -1.0, 2.0, 0.3, 1.1])
    g = grad(scoped)
    got = g(x, 5)
    assert np.allclose(got, fd(lambda v: scoped(v, 5), x), rtol=1e-7, atol=1e-9)
    line = inspect.getsourcelines(scoped)[1] + 2
    assert f"# line {line}: a = [x[i] * 2.0 for i in range(n) if i % 2 == 0]" in g.source


def shadowing(x):
    n = x.shape[0]
    out = [[x[i] * x[i] for i in range(2)][1] * x[i] for i in range(1, n)]   # inner i shadows outer i
    tri = [sum(x[j] * x[i] for j in range(i + 1)) for i in range(n)]        # inner reads outer i
    return sum(out) + sum(tri)


def test_nested_comprehensions_shadow_and_read_the_outer_variable():
    x = np.array([0.3, -0.8, 1.4, 0.6])
    assert shadowing(x) == pytest.approx(
        sum(x[1] ** 2 * x[i] for i in range(1, 4)) + sum(x[j] * x[i] for i in range(4) for j in range(i + 1)))
    assert np.allclose(grad(shadowing)(x), fd(shadowing, x), rtol=1e-7, atol=1e-9)


# ------------------------------------------------------------- modes and orders
def series(a, p):
    return sum(math.exp(a * j) / (j + 1.0) for j in range(p)) + max(a * a, 0.0)


def test_generator_sum_against_sympy_first_and_second_order():
    s = sp.Symbol("a")
    expr = sum(sp.exp(s * j) / (j + 1) for j in range(4)) + s * s
    for a in (0.3, -0.7):
        d1 = float(sp.diff(expr, s).subs(s, a))
        d2 = float(sp.diff(expr, s, 2).subs(s, a))
        assert grad(series)(a, 4) == pytest.approx(d1, rel=1e-12)
        assert grad(grad(series))(a, 4) == pytest.approx(d2, rel=1e-10)
        assert jvp(series, (a, 4), (1.0, None))[1] == pytest.approx(d1, rel=1e-12)


def quadratic_form(x):
    n = x.shape[0]
    A = np.array([[1.0 / (i + j + 1.0) for j in range(n)] for i in range(n)])
    return sum(x[i] * sum(A[i, j] * x[j] for j in range(n)) for i in range(n)) + sum(v ** 3 for v in x)


def test_hessian_and_forward_over_reverse_of_comprehensions():
    x = np.array([0.4, -1.2, 0.9])
    n = x.shape[0]
    A = np.array([[1.0 / (i + j + 1.0) for j in range(n)] for i in range(n)])
    H = hessian(quadratic_form)(x)
    assert np.allclose(H, 2.0 * A + np.diag(6.0 * x), rtol=1e-10, atol=1e-12)
    v = np.array([1.0, 0.5, -2.0])
    _, hv = jvp(grad(quadratic_form), (x,), (v,))
    assert np.allclose(hv, (2.0 * A + np.diag(6.0 * x)) @ v, rtol=1e-10, atol=1e-12)


def dict_state(x, steps):
    s = {"pos": x, "vel": x * 0.0}
    for _ in range(steps):
        s["vel"] = s["vel"] - 0.1 * s["pos"] ** 3
        s["pos"] = s["pos"] + 0.1 * s["vel"]
    return np.sum(s["pos"] * s["vel"]) + len(s)


def test_a_dict_of_arrays_updated_in_a_loop_in_reverse_and_forward_mode():
    x = np.array([0.5, -1.1, 0.8])
    ref = fd(lambda v: dict_state(v, 4), x)
    assert np.allclose(grad(dict_state)(x, 4), ref, rtol=1e-6, atol=1e-8)
    d = np.array([0.3, 1.0, -0.5])
    assert jvp(dict_state, (x, 4), (d, None))[1] == pytest.approx(float(ref @ d), rel=1e-6)


def growing(x, n):
    d = {}
    s = 0.0
    for i in range(n):
        d[i] = x * (len(d) + 1.0)  # (len(d) before the insertion: i)
        if (i + 1) not in d:
            s = s + d[i] * d[i] * x
    return s


def test_inserted_entries_are_removed_again_by_the_backward_sweep():
    for x in (0.7, -1.3):
        expect = sum(((i + 1.0) ** 2) * 3 * x * x for i in range(5))
        assert grad(growing)(x, 5) == pytest.approx(expect, rel=1e-12)
        assert jvp(growing, (x, 5), (1.0, None))[1] == pytest.approx(expect, rel=1e-12)


def test_dict_entry_and_restore_entry_round_trip():
    d = {"a": 1.0}
    old_a, old_b = runtime.dict_entry(d, "a"), runtime.dict_entry(d, "b")
    d["a"], d["b"] = 2.0, 3.0
    runtime.restore_entry(d, "b", old_b)
    runtime.restore_entry(d, "a", old_a)
    assert d == {"a": 1.0}
    assert runtime.as_adjoint({"a": 1.0}, {"a": 0.0, "b": np.zeros(2)})["b"].shape == (2,)


# ------------------------------------------------------------ dicts as inputs
def loss(params, x):
    new = {k: v - 0.1 * np.sin(v) for k, v in params.items()}
    y = np.tanh(new["W"] @ x + new["b"])
    return np.sum(y * y) + new.get("c", 0.0) * len(params) + sum(np.sum(v) for v in params.values())


def _squares(d):
    return {k: np.sum(v * v) for k, v in d.items()}


def through_helper(params):
    n = _squares(params)
    total = 0.0
    for k in params.keys():
        total = total + n[k] * (2.0 if k in ("W",) else 1.0)
    return math.sqrt(total)


P = {"W": np.arange(6.0).reshape(2, 3) / 5, "b": np.array([0.5, -1.0]), "c": 0.7}


def test_the_gradient_for_a_dict_input_is_a_dict_of_the_same_keys():
    x = np.array([0.3, -0.2, 1.0])
    g = grad(loss)(P, x)
    ref = fd_dict(lambda p: loss(p, x), P)
    assert isinstance(g, dict) and list(g) == list(P)
    for k in P:
        assert np.allclose(g[k], ref[k], rtol=1e-6, atol=1e-8), k
    g2 = grad(through_helper)(P)
    ref2 = fd_dict(through_helper, P)
    assert all(np.allclose(g2[k], ref2[k], rtol=1e-6, atol=1e-8) for k in P)
    t = {"W": np.ones((2, 3)), "b": np.ones(2), "c": 1.0}
    assert jvp(through_helper, (P,), (t,))[1] == pytest.approx(sum(np.sum(ref2[k] * t[k]) for k in P), rel=1e-6)


# ---------------------------------------------------------------- refusals
def set_comp(x):
    return sum({v * v for v in x})


def set_of_ints(x):
    s = {k % 3 for k in range(7)} | set()  # (a set method: refused, located)
    return x * len(s)


def test_a_set_is_its_distinct_items_in_first_seen_order():
    """{...} / set(...) are runtime.distinct of the items: a repeated value counts once (its
    derivative goes to its first occurrence), and the generated code says so."""
    x = np.array([1.5, -2.0, 1.5, 0.5])  # (1.5 twice: the set keeps one)
    g = grad(set_comp)
    assert np.allclose(g(x), [3.0, -4.0, 0.0, 1.0], rtol=1e-12)
    assert "distinct(" in g.source
    y = np.array([0.3, -1.1, 2.0])  # (all distinct: every entry's derivative, as finite differences)
    assert np.allclose(g(y), fd(set_comp, y), rtol=1e-7, atol=1e-9)
    with pytest.raises(AdjointcError) as e:
        grad(set_of_ints)(0.5)
    assert f"{HERE}:" in str(e.value)


def comp_in_condition(x):
    if any(v > 2.0 for v in x):
        return np.sum(x * x)
    return np.sum(x) * max(x[i] * x[i] for i in range(2))


def comp_after_and(x):
    if x[0] > 0.0 and any(v > 0 for v in x):
        return np.sum(x)
    return 0.0


def test_a_comprehension_in_a_condition_runs_before_it():
    for x in (np.array([1.0, 2.5]), np.array([0.5, -1.5])):
        assert np.allclose(grad(comp_in_condition)(x), fd(comp_in_condition, x), rtol=1e-7, atol=1e-9)


def loops_over_a_dict_argument(d, x):
    s = 0.0
    for k in d:
        s = s + d[k] * x
    return s


def keys_of_an_array(x):
    return sum(x.keys())


def view_of_a_held_array(x):
    d = {"u": x.copy()}
    v = d["u"]
    v[0] = v[0] * v[1]
    return np.sum(d["u"] ** 2)


def dict_write(x):
    d = {"a": x}
    d["b"] = d["a"] * x
    return d["b"] * x


@pytest.mark.parametrize("fn, args, error, words", [
    (comp_after_and, (np.array([1.0, 2.0]),), UnsupportedSyntax, "inside `and`/`or`"),
    (loops_over_a_dict_argument, ({"a": 1.0}, 0.5), UnsupportedSyntax, "d.keys()"),
    (keys_of_an_array, (np.array([1.0, 2.0]),), UnsupportedSyntax, "dicts only"),
    (view_of_a_held_array, (np.array([1.0, 2.0]),), AliasingError, "in place"),
])
def test_what_stays_refused_is_located(fn, args, error, words):
    wrt = 1 if fn is loops_over_a_dict_argument else 0
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")) as e:
        grad(fn, wrt=wrt)(*args)
    assert f"{HERE}:" in str(e.value)


def test_second_order_through_a_dict_write_is_refused_not_wrong():
    assert grad(dict_write)(0.7) == pytest.approx(3 * 0.7 ** 2, rel=1e-12)
    with pytest.raises(NoAdjointRule, match="dict_entry"):
        grad(grad(dict_write))(0.7)


def sgd_step(params, g, lr):
    new = {k: v - lr * g[k] for k, v in params.items()}
    return sum(np.sum(v ** 2) for v in new.values())


def test_an_optimizer_step_over_two_dict_inputs():
    p = {"W": np.ones((2, 2)), "b": np.array([1.0, -2.0])}
    g = {"W": np.full((2, 2), 0.5), "b": np.array([0.1, 0.2])}
    gp, gg, glr = grad(sgd_step, wrt=(0, 1, 2))(p, g, 0.1)
    for k in p:   # d/dv sum((v - lr g)^2) = 2 (v - lr g); d/dg = -2 lr (v - lr g)
        assert np.allclose(gp[k], 2 * (p[k] - 0.1 * g[k]), rtol=1e-12)
        assert np.allclose(gg[k], -0.2 * (p[k] - 0.1 * g[k]), rtol=1e-12)
    assert glr == pytest.approx(sum(np.sum(-2 * g[k] * (p[k] - 0.1 * g[k])) for k in p), rel=1e-12)
