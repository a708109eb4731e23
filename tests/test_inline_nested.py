"""Nested defs and lambdas (adjointc/nested.py): a call reads the enclosing function's
variables as Python's closure cell holds them when the call runs, checked against
finite differences: assigned before the def, between the def and the call,
reassigned in a loop between calls, a def inside a loop called after it.

What Python decides when the def runs is decided at the def. Before nested.py two of
these gave wrong gradients silently: a default reading an enclosing variable was
evaluated at the call (`def g(v, s=a)` then `a = ...`), and a def made in both
branches of an `if` meant the one lowered last whichever branch ran. Defaults are
now evaluated at the def; a call whose definition a branch decides is refused with
its line, as is a loop body redefining a def made before the loop.
"""
from __future__ import annotations

import inspect

import numpy as np
import pytest

import adjointc
from adjointc.errors import UnsupportedSyntax


def _fd(f, x, h=1e-6):
    """Central differences of a scalar function of a float or an array."""
    if np.isscalar(x):
        return (f(x + h) - f(x - h)) / (2 * h)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def _check(f, x):
    got = adjointc.grad(f)(x.copy() if isinstance(x, np.ndarray) else x)
    np.testing.assert_allclose(got, _fd(f, x), rtol=1e-6, atol=1e-8, err_msg=f.__name__)


# ------------------------------------------------------------ closures: read at the call
def assigned_before_def(x):
    a = x * x
    def g(v):
        return v * a
    return g(x)


def assigned_between_def_and_call(x):
    def g(v):
        return v * a + a
    a = np.sin(x)
    return g(x) * x


def reassigned_between_calls(x):
    def g(v):
        return v * a
    a = x * 2.0
    y = g(x)
    a = x * x * x
    return y + g(1.5)


def reassigned_in_a_loop(x):
    def g(v):
        return v * a
    s = 0.0
    a = 1.0
    for _ in range(4):
        a = a * x + 0.5
        s = s + g(x)
    return s


def def_in_a_loop_called_after_it(x):
    s = 0.0
    for i in range(3):
        c = x * (i + 1)
        def g(v):
            return v * c
        s = s + g(x)
    return s + g(0.5)


def array_closure_in_a_loop(u):
    def flux(i):
        return 0.5 * (u[i] + u[i + 1]) ** 2
    s = 0.0
    for i in range(len(u) - 1):
        s = s + flux(i)
    u = u * 2.0  # (a new array: later calls read it)
    return s + flux(0)


def nested_calls_nested_defined_later(x):
    def g(v):
        return h(v) * a
    def h(v):
        return np.exp(v * a)
    a = x * 0.5
    return g(x)


def lambda_closure_reassigned(x):
    f = lambda v: v * a + 1.0  # noqa: E731
    a = x * x
    y = f(x)
    a = a * x
    return y + f(2.0)


def lambda_called_where_written(x):
    a = np.cos(x)
    return (lambda v: v * a)(x) + x


CLOSURES = [(assigned_before_def, 0.7), (assigned_between_def_and_call, 0.7), (reassigned_between_calls, 0.7),
            (reassigned_in_a_loop, 0.7), (reassigned_in_a_loop, -1.3), (def_in_a_loop_called_after_it, 0.7),
            (array_closure_in_a_loop, np.array([0.3, -0.2, 0.9, 1.1])), (nested_calls_nested_defined_later, 0.4),
            (lambda_closure_reassigned, 0.7), (lambda_called_where_written, 0.7)]


@pytest.mark.parametrize("f,x", CLOSURES, ids=[f"{f.__name__}-{i}" for i, (f, _) in enumerate(CLOSURES)])
def test_closures_read_the_enclosing_variables_at_the_call(f, x):
    _check(f, x)


# ------------------------------------------------------------ defaults: evaluated at the def
def default_reads_a_variable_reassigned_after_the_def(x):
    a = x * 2.0
    def g(v, s=a):
        return v * s
    a = x * x * x
    return g(x) + a


def lambda_default_reads_a_variable_reassigned_after_it(x):
    a = x * 2.0
    f = lambda v, s=a: v * s  # noqa: E731
    a = x * x
    return f(x) + f(x, s=a) + a


def default_is_the_loop_variable_of_the_last_trip(x):
    for i in range(3):
        def g(v, k=i + 1):
            return v * k
    return g(x) * x


def literal_default_and_keyword(x):
    def g(v, c=0.5, *, d=2.0):
        return c * v * v + d * v
    return g(x) + g(x, d=3.0) + g(x, 1.5)


def lambda_called_where_written_with_a_default(x):
    f = lambda v, s=x: v * s  # noqa: E731
    a = x * 3.0
    y = (lambda v, s=a: v * s)(x)  # (its default is evaluated here: where it is written)
    a = a * x
    return y + f(a) + (lambda v, s=a * 2.0: v + s)(x)


DEFAULTS = [default_reads_a_variable_reassigned_after_the_def, lambda_default_reads_a_variable_reassigned_after_it,
            default_is_the_loop_variable_of_the_last_trip, literal_default_and_keyword,
            lambda_called_where_written_with_a_default]


@pytest.mark.parametrize("f", DEFAULTS, ids=[f.__name__ for f in DEFAULTS])
def test_defaults_are_evaluated_when_the_def_runs(f):
    _check(f, 0.7)


def test_a_default_of_a_literal_is_read_at_the_call():
    """(no variable made at the def: the generated text is as before; each call binds
    `c_g = 0.5`, the parameter of its copy, and nothing precedes the first)"""
    src = adjointc.grad(literal_default_and_keyword).source_for(0.7)
    forward = src.split("# ---- forward sweep ----")[1].split("\n")
    assert forward[1].strip() == "c_g = 0.5" and src.count("= 0.5\n") == 2


# ------------------------------------------------------------ which def a name means
def redefined_in_straight_line(x):
    def g(v):
        return v * 2.0
    y = g(x)
    def g(v):  # noqa: F811
        return v * v * 5.0
    return y + g(x)


def defined_in_a_branch_called_there(x):
    if x > 0:
        def g(v):
            return v * 2.0
        y = g(x) * x
    else:
        y = x * x * x
    return y


def branch_that_returns_leaves_the_other_def(x):
    def g(v):
        return v * 3.0
    if x > 5.0:
        def g(v):  # noqa: F811
            return v * 7.0
        return g(x)
    return g(x) * x


@pytest.mark.parametrize("f,x", [(redefined_in_straight_line, 0.7), (defined_in_a_branch_called_there, 0.7),
                                 (defined_in_a_branch_called_there, -0.7),
                                 (branch_that_returns_leaves_the_other_def, 0.7),
                                 (branch_that_returns_leaves_the_other_def, 6.0)])
def test_the_def_that_ran_is_called(f, x):
    _check(f, x)


def defined_in_both_branches(x):
    if x > 0:
        def g(v):
            return v * 2.0
    else:
        def g(v):
            return v * 3.0
    return g(x) * x


def lambda_in_one_branch(x):
    if x > 0:
        f = lambda v: v * 2.0  # noqa: E731
    else:
        f = None  # noqa: F841
    return x


def defined_in_one_branch(x):
    if x > 0:
        def g(v):
            return v * 2.0
    return g(x)


def redefined_in_a_loop(x):
    def g(v):
        return v
    s = 0.0
    for _ in range(3):
        s = s + g(x)
        def g(v):  # noqa: F811
            return v * 2.0
    return s


def _line_of(f, text):
    lines, first = inspect.getsourcelines(f)
    return first + next(i for i, t in enumerate(lines) if text in t)


@pytest.mark.parametrize("f,text,says", [
    (defined_in_both_branches, "return g(x) * x", "defined differently in the branches"),
    (defined_in_one_branch, "return g(x)", "defined differently in the branches"),
    (redefined_in_a_loop, "def g(v):  # noqa: F811", "inside a loop"),
])
def test_a_def_chosen_at_run_time_is_refused_at_its_line(f, text, says):
    with pytest.raises(UnsupportedSyntax) as e:
        adjointc.grad(f)(0.7)
    assert says in e.value.message and e.value.loc.line == _line_of(f, text)
    assert e.value.hint


def test_a_lambda_bound_twice_is_still_refused():
    with pytest.raises(UnsupportedSyntax, match="assigned more than once"):
        adjointc.grad(lambda_in_one_branch)(0.7)


def nested_recursion(x):
    def f(v, n):
        if n == 0:
            return v
        return f(v * 2.0, n - 1)
    return f(x, 3)


def test_recursion_of_a_nested_def_is_refused_at_its_call():
    with pytest.raises(UnsupportedSyntax, match="recursion of the nested function 'f'") as e:
        adjointc.grad(nested_recursion)(0.7)
    assert e.value.loc.line == _line_of(nested_recursion, "return f(v * 2.0, n - 1)") and e.value.hint
