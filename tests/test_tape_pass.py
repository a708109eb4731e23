"""The tape pass (adjointc/passes/tape.py): one rule for what the backward sweep
recomputes, shape-only reads kept as stand-ins, restores only where a read
follows them. Every measured program is also checked against finite differences."""
import math

import numpy as np
import pytest

from adjointc import grad
from adjointc import runtime
from adjointc.ir import Assign, Call, Comment, Const, Name
from adjointc.passes import reverse, tape
from adjointc import types as T


def fd(f, args, i, h=1e-6):
    """Central differences of f with respect to argument i (float or array)."""
    x = args[i]
    if isinstance(x, float):
        lo, hi = list(args), list(args)
        lo[i], hi[i] = x - h, x + h
        return (f(*hi) - f(*lo)) / (2 * h)
    out = np.zeros_like(x)
    for k in range(x.size):
        e = np.zeros_like(x)
        e.flat[k] = h
        lo, hi = list(args), list(args)
        lo[i], hi[i] = x - e, x + e
        out.flat[k] = (f(*hi) - f(*lo)) / (2 * h)
    return out


def check_fd(f, args, wrt, rtol=1e-6):
    g = grad(f, wrt=wrt)(*args)
    g = g if isinstance(g, tuple) else (g,)
    for i, gi in zip(wrt, g):
        np.testing.assert_allclose(gi, fd(f, args, i), rtol=rtol, atol=1e-8)


# ---------------------------------------------------------- one recompute rule
def named_difference(x, n=6):
    s = 0.0
    for i in range(n):
        b = 1.0 - x[i % x.shape[0]]
        s = s + b * b * x[(i + 1) % x.shape[0]]
    return s


def unnamed_difference(x, n=6):
    s = 0.0
    for i in range(n):
        s = s + (1.0 - x[i % x.shape[0]]) * (1.0 - x[i % x.shape[0]]) * x[(i + 1) % x.shape[0]]
    return s


def test_a_named_temporary_is_recomputed_like_the_unnamed_one():
    # `b = 1.0 - x[i]` is one operation on an element of x, which the loop never writes:
    # the backward sweep redoes it, named or not; the product b * b (a chain of three
    # operations) is stored, named or not: one float per trip but the last
    x = np.array([0.3, -0.8, 1.7, 0.4])
    named = grad(named_difference).tape_bytes(x).data
    unnamed = grad(unnamed_difference).tape_bytes(x).data
    assert named["total"] == unnamed["total"] == (6 - 1) * 8 and len(named) == len(unnamed) == 2
    check_fd(named_difference, (x,), (0,))
    check_fd(unnamed_difference, (x,), (0,))


def named_sine_in_place(x, n=4):
    u = x.copy()
    s = 0.0
    for i in range(n):
        c = math.sin(u[0])  # recomputable from u[0], which the next line overwrites
        u[0] = c * 2.0
        s = s + c * c
    return s


def test_a_recomputed_value_whose_input_is_overwritten_is_stored():
    # c's input u[0] changes right after c is computed: redoing math.sin(u[0]) in the
    # backward sweep would read the new u[0], so the rule applies only while inputs hold
    x = np.array([0.4, 1.0])
    check_fd(named_sine_in_place, (x,), (0,))


def rosenbrock_loop(x):
    s = 0.0
    for i in range(x.shape[0] - 1):
        a = x[i + 1] - x[i] * x[i]
        s = s + 100.0 * a * a + (1.0 - x[i]) ** 2
    return s


def scaled_once(x):
    s = 0.0
    for i in range(x.shape[0] - 1):
        a = x[i + 1] - x[i] * x[i]
        s = s + 3.0 * a * x[i]
    return s


def test_an_operand_read_again_is_stored_and_its_cheap_dependent_redone():
    # `100.0 * a` over the recomputed a is three operations, but a is read again (by
    # `_ * a`): a is stored (one float per trip but the last) and 100.0 * a redone
    # from it; the backward sweep never redoes a itself
    x = np.array([-1.2, 1.0, 0.5, 2.0, 0.3])
    g = grad(rosenbrock_loop)
    assert g.tape_bytes(x).data == {"_tape_a": (x.size - 2) * 8, "total": (x.size - 2) * 8}
    backward = "\n".join(line for line in g.source_for(x).split("# ---- backward sweep ----")[1].splitlines()
                         if not line.lstrip().startswith("#"))
    # (the product rule's halves s_bar * (100.0 * a) and s_bar * a * 100.0 merged: cleanup.merge_terms)
    assert "200.0 * (s_bar * a)" in backward and "x[i + 1] -" not in backward
    check_fd(rosenbrock_loop, (x,), (0,))


def test_an_operand_read_once_leaves_its_long_dependent_stored():
    # a feeds only `3.0 * a`: storing that product (read by x[i]'s adjoint) costs the
    # same tape as storing a, and a is then never read at all
    x = np.array([-1.2, 1.0, 0.5, 2.0, 0.3])
    report = grad(scaled_once).tape_bytes(x).data
    assert report["total"] == (x.size - 2) * 8 and len(report) == 2 and "_tape_a" not in report
    check_fd(scaled_once, (x,), (0,))


# ---------------------------------------------------------- shape-only reads
def heat_rebound(u0, kappa, steps=10):
    u = u0.copy()
    for _ in range(steps):
        lap = np.pad(u[2:] - 2.0 * u[1:-1] + u[:-2], 1)
        u = u + kappa * lap
    return np.sum(u * u)


def test_heat_rebound_stores_one_laplacian_per_step():
    # `u = u + kappa * lap` rebinds u every step; the backward sweep reads u (and the
    # step's temporaries) only for their shapes: stand-ins of one float each, never the
    # arrays. The Laplacian is read by value (kappa's adjoint): (steps - 1) pushes (the
    # last one is still live in its variable).
    n, steps = 16, 10
    report = grad(heat_rebound, wrt=(0, 1)).tape_bytes(np.random.rand(n), 0.1, steps).data
    assert report["_tape_lap"] == (steps - 1) * n * 8
    others = {k: v for k, v in report.items() if k not in ("_tape_lap", "total")}
    assert others and all(v <= steps * 8 for v in others.values())
    assert report["total"] < (steps - 1) * n * 8 + len(others) * steps * 8 + 1
    u0 = np.linspace(0.0, 1.0, n) ** 2
    check_fd(heat_rebound, (u0, 0.1, steps), (0, 1))


def growing(x, n=3):
    u = x * 1.0
    for _ in range(n):
        u = np.concatenate((u, u[:1] * 0.5))  # a new shape every trip
    return np.sum(np.sin(u))


def test_stand_ins_keep_each_trips_shape():
    x = np.array([0.3, -1.2, 0.8])
    check_fd(growing, (x,), (0,))


def shrinking(x, n=3):
    u = x * 2.0
    s = 0.0
    for _ in range(n):
        u = u[1:] + 1.0
        s = s + np.sum(u * u)
    return s


def test_shape_only_reads_of_a_shrinking_array():
    x = np.array([0.3, -1.2, 0.8, 0.5, 2.0])
    check_fd(shrinking, (x,), (0,))


def test_stand_in_keeps_shape_and_dtype_in_one_element():
    x = np.arange(12.0).reshape(3, 4)
    s = runtime.stand_in(x)
    assert s.shape == (3, 4) and s.dtype == x.dtype and runtime.nbytes(s) == 8
    assert runtime.as_adjoint(0.0, s).shape == (3, 4)
    assert runtime.unbroadcast(np.ones((3, 4)), s).shape == (3, 4)
    assert runtime.nbytes(runtime.stand_in((x, 2.0))) == 16
    assert runtime.stand_in(1.5) == 1.5 and runtime.stand_in(None) is None


def rk2_small(s0, a, steps=5):
    s = s0.copy()
    for _ in range(steps):
        k1 = np.array([a * s[1], -a * s[0], s[2] * s[0]])      # a 3-element list: shape (3,)
        t = s + 0.5 * k1
        k2 = np.array([a * t[1], -a * t[0], t[2] * t[0]])
        s = s + 0.1 * (k1 + 2.0 * k2)
    return np.sum(s * s)


def heat_zeros_like(u0, kappa, steps=6):
    u = u0.copy()
    for _ in range(steps):
        lap = np.zeros_like(u)
        lap[1:-1] = u[2:] - 2.0 * u[1:-1] + u[:-2]
        u = u + kappa * lap
    return np.sum(u * u)


def test_a_shape_the_types_know_is_never_stored():
    # k1, k2 and the sums of them have the shape (3,) on every trip (np.array of a
    # 3-element list): the backward sweep's shape reads of them (unbroadcast) see the
    # value at hand, which has that shape: no push, no stand-in. s and t are read by value.
    s0 = np.array([0.5, -0.3, 0.8])
    g = grad(rk2_small, wrt=(0, 1))
    report = g.tape_bytes(s0, 0.7).data
    assert not any("k1" in k or "k2" in k for k in report), report
    assert "stand_in" not in g.source_for(s0, 0.7)
    check_fd(rk2_small, (s0, 0.7), (0, 1))


def test_heat_rebinding_with_a_known_shape_stores_only_the_laplacian():
    # u = u + kappa * lap keeps u0's shape (the types know it): u is read only for its
    # shape, so nothing of u is recorded; the Laplacian is read by value (kappa's adjoint)
    n, steps = 12, 6
    u0 = np.sin(np.linspace(0.0, 3.0, n))
    g = grad(heat_zeros_like, wrt=(0, 1))
    assert g.tape_bytes(u0, 0.2, steps).data == {"_tape_lap": (steps - 1) * n * 8, "total": (steps - 1) * n * 8}
    assert "stand_in" not in g.source_for(u0, 0.2, steps)
    check_fd(heat_zeros_like, (u0, 0.2, steps), (0, 1))


def test_a_shape_read_keeps_a_stand_in_only_where_the_shape_may_change():
    site = tape.Site("t", Assign("t", Name("a")), True, False)
    bwd = (tape.Restore(site), Assign("g", Call("unbroadcast", (Name("h"), Name("t")))))
    known = T.T("array", 1, (((("param", "x", 0), 0)),), dtype="f")
    for kind, expected in ((known, tape.NOTHING), (T.T("tuple", elts=(known, T.FLOAT)), tape.NOTHING),
                           (T.T("array", 1, T.UNSTABLE, dtype="f"), tape.SHAPE),
                           (T.T("array", 1, known.shape, dtype=None), tape.SHAPE),   # dtype may change
                           (T.T("array", 0, (), dtype="f"), tape.SHAPE)):             # a NumPy scalar or 0-d
        assert tape.decide(bwd, [], {"t": kind}, {}).decision(site) == expected, kind


def test_one_stand_in_serves_every_push_of_a_shape():
    x = np.ones((2, 3))
    assert runtime.stand_in(x) is runtime.stand_in(np.zeros((2, 3)))
    assert runtime.stand_in(x.astype(np.float32)).dtype == np.float32
    assert not runtime.stand_in(x).flags.writeable


# ---------------------------------------------------------- the fact itself
def test_reads_tell_shape_positions_from_value_positions():
    value, shape = set(), set()
    e = Call("add", (Call("unbroadcast", (Name("g"), Call("getitem", (Name("u"), Name("i"))))),
                     Call("as_adjoint", (Name("v_bar"), Name("v")))))
    tape.reads(e, value, shape)
    assert shape == {"u", "v"} and value == {"g", "i", "v_bar"}


def test_a_restore_is_kept_only_where_a_later_read_needs_it():
    # straight-line backward sweep: read x (position 1), restore x (2), restore y (3),
    # read y (4): x's restore runs after its last read, y's before its read
    sx = tape.Site("x", Assign("x", Name("a")), True, False)
    sy = tape.Site("y", Assign("y", Name("a")), True, False, index=1)
    bwd = (Assign("g", Name("x")), tape.Restore(sx), tape.Restore(sy), Assign("h", Name("y")))
    types = {"x": T.UNKNOWN, "y": T.UNKNOWN}
    facts = tape.decide(bwd, [], types, {})
    assert facts.decision(sx) == tape.NOTHING and facts.decision(sy) == tape.VALUE


def test_the_backward_sweep_boundary_is_a_marker_object():
    def f(x):
        return np.sum(np.sin(x))
    from adjointc.api import grad as g
    body = (reverse.FORWARD, Assign("a", Name("x")), reverse.BACKWARD, Comment("---- backward sweep ----"))
    assert reverse.backward_start(body) == 2
    assert np.allclose(g(f)(np.array([0.5, 1.0])), np.cos([0.5, 1.0]))


@pytest.mark.parametrize("form", [heat_rebound, growing, shrinking, named_difference, rosenbrock_loop])
def test_gradients_of_the_measured_programs(form):
    args = {heat_rebound: (np.linspace(0.1, 0.9, 7), 0.2, 5), growing: (np.array([0.3, 0.9]),),
            shrinking: (np.array([0.3, -0.2, 0.9, 1.1]),), named_difference: (np.array([0.2, 0.5]),),
            rosenbrock_loop: (np.array([0.4, -0.7, 1.3]),)}[form]
    check_fd(form, args, (0,))


# ---------------------------------------------------------- rebinding restores
def test_heat_bc_keeps_only_the_laplacian_the_tests_and_the_checkpoints():
    # examples/heat_bc.py: `smooth` (called, a checkpoint) rebinds u every 50 steps. Its
    # adjoint reads u right after the backward sweep has rebound u to the checkpointed
    # array, so the restores of u's boundary and interior written before (into arrays u
    # no longer holds) are never needed: per step the Laplacian (62 floats) and the
    # branch's test (1 byte), and the 4 checkpointed arrays of 64 floats.
    import sys
    sys.path.insert(0, "examples")
    import heat_bc
    x = np.linspace(0.0, 1.0, 64)
    args = (np.sin(np.pi * x), 0.2, 0.5, 3.0)
    report = heat_bc.heat_bc.tape_bytes(*args).data
    assert report["total"] == 199 * 62 * 8 + 199 + 4 * 64 * 8
    f = heat_bc.heat_bc.primal
    g = heat_bc.heat_bc(*args)
    for i in (1, 2, 3):
        np.testing.assert_allclose(g[i], fd(f, args, i), rtol=1e-6)
    np.testing.assert_allclose(g[0], fd(f, args, 0), rtol=1e-5, atol=1e-9)


def rebound_then_written(x, n=4):
    u = x * 1.0
    s = 0.0
    for k in range(n):
        u[0] = u[1] * 0.5          # an in-place write into the array u holds now
        s = s + np.sum(np.sin(u))
        if k % 2 == 1:
            u = u * 1.5            # a new array: the writes above went into the old one
            s = s + np.sum(u * u)
    return s


def reversed_view_then_written(x, n=3):
    u = x * 1.0
    s = 0.0
    for _ in range(n):
        u = u[::-1]                # a view of the previous u: a write through it changes that
        u[0] = u[-1] * 2.0
        s = s + np.sum(np.sin(u) * x)
    return s


@pytest.mark.parametrize("f", [rebound_then_written, reversed_view_then_written])
def test_rebinding_and_in_place_writes_mixed(f):
    x = np.array([0.3, -0.7, 1.1, 0.2])
    check_fd(f, (x,), (0,))


def nested_weighted_sum(A, w):
    s = 0.0
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            s = s + A[i, j] * w[j] * (i + 1)
    return s * s


def test_nested_loops_record_nothing():
    # the inner backward `for` rebinds j before every read of it (no restore of j), and
    # `i + 1` is integer arithmetic the backward sweep redoes (no tape of it)
    A, w = np.arange(6.0).reshape(2, 3) / 7.0, np.array([0.5, -1.0, 2.0])
    assert grad(nested_weighted_sum, wrt=(0, 1)).tape_bytes(A, w).data == {"total": 0}
    check_fd(nested_weighted_sum, (A, w), (0, 1))


def straddled_by_an_alias_write(x, y):
    u = x * 1.0
    w = u
    c = u[0] * 2.0   # recomputable from u[0] ...
    w[0] = y * 3.0   # ... until this write through an alias of u changes u[0]
    return c * y + w[1]


def test_a_write_through_an_alias_ends_a_recomputation():
    x, y = np.array([0.5, 1.5]), 0.7
    check_fd(straddled_by_an_alias_write, (x, y), (0, 1))


def test_a_list_or_a_tuple_holding_one_read_for_its_shape_is_stored_whole():
    # (a list may grow after the read: a stand-in of it would keep the new length)
    site = tape.Site("t", Assign("t", Name("a")), True, False)
    bwd = (tape.Restore(site), Assign("g", Call("unconcatenate", (Name("h"), Name("t"), Const(0)))))
    arr = T.T("array", 1)
    for kind, expected in ((T.T("tuple", elts=(arr, T.T("float"))), tape.SHAPE),
                           (T.T("tuple", elts=(arr, T.T("list"))), tape.VALUE),
                           (T.T("list", elts=(arr,)), tape.VALUE), (arr, tape.SHAPE)):
        facts = tape.decide(bwd, [], {"t": kind}, {})
        assert facts.decision(site) == expected, kind


# ---------------------------------------------------------- mixed, against finite differences
def looped_helper(u, m):
    s = 0.0
    for _ in range(m):
        s = s + np.sum(np.sin(u) * u)
    return s


def checkpoint_in_branch(x, n=6):
    u = x * 1.0
    s = 0.0
    for k in range(n):
        u[0] = u[1] * 1.5
        u[1:] = u[1:] * 0.9 + u[:-1] * 0.1
        if k % 3 == 2:
            u = np.tanh(u)
            s = s + looped_helper(u, 2)   # called (it loops): its adjoint reads u by value
    return s + np.sum(u * u)


def rebound_on_some_trips(x, n=5):
    u = x * 1.0
    s = 0.0
    for k in range(n):
        u[1] = u[0] * u[2]
        if k % 2 == 1:
            u = np.sin(u)                 # a read after the branch is not behind this restore
        s = s + np.sum(u * u * u)
    return s


def loop_target_rebound(x, n=4):
    s = 0.0
    for j in range(n):
        j = j * 2 + 1
        s = s + x[j % 3] * j * x[0]
    return s


def named_chain_written_back(x, n=4):
    s = 0.0
    for i in range(n):
        a = x[i % 3] * 2.0
        b = a * a + 1.0
        c = math.sin(b)
        x[(i + 1) % 3] = c
        s = s + c * a
    return s


@pytest.mark.parametrize("f", [checkpoint_in_branch, rebound_on_some_trips, loop_target_rebound,
                               named_chain_written_back])
def test_mixed_rebinding_writes_and_recomputation(f):
    x = np.array([0.3, -0.8, 1.1])
    g = grad(f)(x.copy())
    np.testing.assert_allclose(g, fd(lambda v: f(v.copy()), (x,), 0), rtol=1e-5, atol=1e-8)
