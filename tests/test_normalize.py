"""passes/normalize.py: structured control flow on the IR, and its invariants.

IR-level checks of each step (jumps end blocks, one result, no return inside a
loop, fall-through detection), the pass's invariants (idempotent, leaf statements
kept by identity), and gradients of the structured functions against central
finite differences and closed forms.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import adjointc
from adjointc.frontend import lower
from adjointc.ir import (Assign, Break, Call, Const, Continue, For, Function, If, Name, Return, While,
                         walk)
from adjointc.names import Namer
from adjointc.passes.normalize import jumps, may_fall_through, normalize, returns_in_loop, structure
from adjointc.printer import block


def fd(f, x, h=1e-6):
    x = np.asarray(x, dtype=float)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def fn(*body, params=("x",)):
    from adjointc.ir import Param
    return Function("f", tuple(Param(p) for p in params), tuple(body), "f.py", 1)


A = Assign("a", Call("add", (Name("x"), Const(1.0))))
B = Assign("b", Call("mul", (Name("a"), Name("a"))))
C = Assign("c", Call("neg", (Name("b"),)))


# --------------------------------------------------------------- the steps
def test_statements_after_a_jump_are_dropped():
    assert structure((A, Return(Name("a")), B)) == (A, Return(Name("a")))
    loop = For("i", Name("r"), (A, Break(), B))
    assert structure((loop,)) == (For("i", Name("r"), (A, Break())),)


def test_statements_after_an_if_that_jumps_move_into_its_falling_through_paths():
    s = structure((For("i", Name("r"), (If(Name("c1"), (Break(),), ()), A, B)),))
    assert s == (For("i", Name("r"), (If(Name("c1"), (Break(),), (A, B)),)),)
    # nested: only the paths that do not jump get the rest
    inner = If(Name("c2"), (Continue(),), (C,))
    s = structure((For("i", Name("r"), (If(Name("c1"), (inner,), ()), A)),))
    assert s == (For("i", Name("r"), (If(Name("c1"), (If(Name("c2"), (Continue(),), (C, A)),), (A,)),)),)


def test_a_break_of_an_inner_loop_is_not_a_jump_of_the_enclosing_block():
    inner = For("j", Name("r"), (If(Name("c"), (Break(),), ()),))
    s = structure((If(Name("c0"), (inner,), ()), A))
    assert s == (If(Name("c0"), (inner,), ()), A)


def test_a_function_without_return_returns_none():
    n = normalize(fn(A), Namer({"x", "a"}))
    assert n.no_return is not None and n.result == "result"
    assert n.function.body[-2:] == (Assign("result", Const(None)), Return(Name("result")))


def test_the_result_is_the_name_every_return_returns():
    body = (A, If(Name("c"), (Return(Name("a")),), (Return(Name("a")),)))
    assert normalize(fn(*body), Namer({"x", "a"})).result == "a"
    body = (A, B, If(Name("c"), (Return(Name("a")),), (Return(Name("b")),)))
    assert normalize(fn(*body), Namer({"x", "a", "b"})).result == "result"
    # a module constant is never the result variable
    assert normalize(fn(Return(Name("K"))), Namer({"x"}), constants={"K"}).result == "result"
    # the frontend's own result variable is reused, not a second one made
    assert normalize(fn(Return(Name("x"))), Namer({"x"}), result="res").result == "x"
    two = (If(Name("c"), (Return(Name("x")),), (Return(Const(0.0)),)),)
    assert normalize(fn(*two), Namer({"x"}), result="res").result == "res"


def test_a_return_inside_a_loop_becomes_a_flag_and_a_break():
    loop = For("i", Name("r"), (A, If(Name("c"), (Return(Name("a")),), ()), B))
    n = normalize(fn(loop, Return(Name("x"))), Namer({"x", "a", "b", "i"}))
    assert not returns_in_loop(n.function.body)
    text = block(n.function.body)
    assert text.splitlines() == [
        "_returned1 = False",
        "for i in r:",
        "    a = x + 1.0",
        "    if c:",
        "        result = a",
        "        _returned1 = True",
        "        break",
        "    else:",
        "        b = a * a",
        "if _returned1:",
        "    return result",
        "else:",
        "    return x",
    ]


def test_fall_through_is_detected():
    assert may_fall_through((If(Name("c"), (Return(Name("x")),), ()),))
    assert not may_fall_through((If(Name("c"), (Return(Name("x")),), (Return(Name("y")),)),))
    assert not may_fall_through((While(Const(True), (A,)),))          # never ends
    assert may_fall_through((While(Const(True), (If(Name("c"), (Break(),), ()),)),))
    n = normalize(fn(If(Name("c"), (Return(Name("x")),), ())), Namer({"x"}))
    assert n.falls_through is not None and n.no_return is None


# ------------------------------------------------------------ the invariants
def _loopy(x, n):
    s = 0.0
    for i in range(n):
        if x[i] > 2.0:
            return s * x[i]
        if x[i] < -1.0:
            continue
        s = s + x[i] * x[i]
        if s > 50.0:
            break
        s = s * 1.5
    return s


def test_normalize_is_idempotent_and_keeps_leaf_statements():
    low = lower(_loopy)
    again = normalize(low.function, Namer({s.target for s in walk(low.function.body)
                                          if isinstance(s, (Assign, For))}), result=low.result)
    assert again.function.body == low.function.body and again.result == low.result
    leaves = [s for s in walk(low.function.body) if isinstance(s, Assign)]
    kept = [s for s in walk(again.function.body) if isinstance(s, Assign)]
    assert all(a is b for a, b in zip(leaves, kept)) and len(leaves) == len(kept)


def test_every_jump_ends_its_block():
    def check(b):
        for i, s in enumerate(b):
            if isinstance(s, (Break, Continue, Return)) or (isinstance(s, If) and jumps(s)):
                assert i == len(b) - 1, s
            for sub in (getattr(s, "body", ()), getattr(s, "orelse", ())):
                check(sub)
    check(lower(_loopy).function.body)
    check(lower(_nested_def).function.body)


# ------------------------------------------------------------ gradients
@pytest.mark.parametrize("x", [
    np.array([0.5, -2.0, 1.5, 0.7, 3.0]),     # returns at x[4]
    np.array([0.5, 1.2, 1.9, 1.8, 1.7, 1.6]),  # no return in the loop, no break
    np.array([1.9, 1.9, 1.9, 1.9, 1.9, 1.9]),  # breaks once s > 50
])
def test_gradient_of_structured_control_flow(x):
    n = len(x)
    g = adjointc.grad(_loopy, wrt=0)(x, n)
    np.testing.assert_allclose(g, fd(lambda v: _loopy(v, n), x), rtol=1e-6, atol=1e-8)


def _nested_def(x, y):
    def helper(a):
        for k in range(3):
            if a > 4.0:
                return a * y
            a = a * a + 0.5
        return a - y
    return helper(x) + helper(2.0 * x)


@pytest.mark.parametrize("x", [0.3, 1.1, 2.5])
def test_gradient_through_an_inlined_nested_def_with_loop_returns(x):
    y = 0.7
    gx, gy = adjointc.grad(_nested_def, wrt=(0, 1))(x, y)
    assert gx == pytest.approx((_nested_def(x + 1e-6, y) - _nested_def(x - 1e-6, y)) / 2e-6, rel=1e-6)
    assert gy == pytest.approx((_nested_def(x, y + 1e-6) - _nested_def(x, y - 1e-6)) / 2e-6, rel=1e-6)


def _nested_underscore_local(x):
    _a = x * 2.0

    def h(y):
        _a = y * y  # the helper's own `_a`: not the caller's
        return _a + 1.0
    z = h(x)
    return z * _a


def test_a_nested_def_local_spelled_with_an_underscore_is_its_own():
    # f = (x^2 + 1) * 2x, f' = 6x^2 + 2 (the helper's `_a` used to be the caller's: 2.772 at 0.7)
    for x in (0.7, -1.3):
        assert _nested_underscore_local(x) == pytest.approx((x * x + 1.0) * 2.0 * x, rel=1e-12)
        assert adjointc.grad(_nested_underscore_local)(x) == pytest.approx(6 * x * x + 2.0, rel=1e-12)


def _after_continue(x):
    s = 0.0
    for i in range(4):
        if i % 2 == 1:
            continue
        s = s + math.sin(x * i)
    return s


def test_gradient_after_a_continue_matches_the_closed_form():
    x = 0.8
    assert adjointc.grad(_after_continue)(x) == pytest.approx(2 * math.cos(2 * x), rel=1e-12)


# Statements after a jump on the same line never run (the frontend used to keep them:
# `_dead_after_break` differentiated as 10.0 instead of 2.0, `_dead_after_return` was refused).
def _dead_after_break(x):
    for i in range(3):
        x = x * 2.0; break; x = x * 5.0  # noqa: E702
    return x


def _dead_after_return(x):
    y = x * 3.0; return y; y = y * 7.0  # noqa: E702


def test_statements_after_a_jump_on_the_same_line_never_run():
    assert _dead_after_break(1.0) == 2.0 and _dead_after_return(1.0) == 3.0
    assert adjointc.grad(_dead_after_break)(1.0) == 2.0
    assert adjointc.grad(_dead_after_return)(1.0) == 3.0
    assert "7.0" not in block(lower(_dead_after_return).function.body)
