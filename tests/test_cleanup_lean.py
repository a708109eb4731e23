"""The cleanups that bring generated code to the hand-written limit (passes/peephole.py:
merge_item_updates, merge_terms, drop_copies): each rewrite is checked by running the
block before and after on the same inputs, and each refusal on a block where the
rewrite would be observable."""
from __future__ import annotations

import numpy as np

from adjointc import grad, printer
from adjointc.ir import Assign, AugAssign, AugSetItem, Break, Call, Const, For, If, Name
from adjointc.passes import peephole

X, Y, I = Name("x"), Name("y"), Name("i")


def mul(a, b):
    return Call("mul", (a, b))


def run(body, env: dict) -> dict:
    env = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in env.items()}
    exec(printer.block(body), {"np": np}, env)
    return env


def same(a: dict, b: dict, names) -> None:
    for n in names:
        np.testing.assert_allclose(a[n], b[n], rtol=1e-14)


# ---------------------------------------------------------- merge_item_updates
def test_item_updates_of_one_element_merge_across_statements_that_do_not_touch_it():
    body = (AugSetItem("g_bar", I, "add", mul(X, Y)), Assign("t_bar", mul(Name("s_bar"), X)),
            AugSetItem("g_bar", I, "add", Call("neg", (Name("t_bar"),))))
    out = peephole.merge_item_updates(body, {"g_bar", "t_bar", "s_bar"}, frozenset({"g_bar"}))
    assert printer.block(out) == "t_bar = s_bar * x\ng_bar[i] += x * y - t_bar"
    env = {"g_bar": np.zeros(3), "x": 2.0, "y": 3.0, "s_bar": 0.5, "i": 1}
    same(run(out, env), run(body, env), ["g_bar"])


def test_item_updates_stay_apart_when_something_between_reads_or_writes_what_they_use():
    adj = {"g_bar", "t_bar", "v_bar"}
    reads_target = (AugSetItem("g_bar", I, "add", X), Assign("t_bar", Call("getitem", (Name("g_bar"), I))),
                    AugSetItem("g_bar", I, "add", Y))
    writes_value = (AugSetItem("g_bar", I, "add", X), Assign("x", Const(5.0)), AugSetItem("g_bar", I, "add", Y))
    writes_index = (AugSetItem("g_bar", I, "add", X), Assign("i", Const(0)), AugSetItem("g_bar", I, "add", Y))
    # v_bar is a view of g_bar (a slice): reading it in between sees the first update
    view = (Assign("v_bar", Call("getitem", (Name("g_bar"), Call("slice", (Const(1), Const(None), Const(None)))))),
            AugSetItem("g_bar", I, "add", X), Assign("t_bar", Call("getitem", (Name("v_bar"), Const(0)))),
            AugSetItem("g_bar", I, "add", Y))
    loop = (AugSetItem("g_bar", I, "add", X), For("k", Name("r"), (Assign("t_bar", X),)),
            AugSetItem("g_bar", I, "add", Y))
    other_index = (AugSetItem("g_bar", I, "add", X), AugSetItem("g_bar", Const(0), "add", Y))
    jump = (AugSetItem("g_bar", I, "add", X), Break(), AugSetItem("g_bar", I, "add", Y))
    for body in (reads_target, writes_value, writes_index, view, loop, other_index, jump):
        assert peephole.merge_item_updates(body, adj, frozenset({"g_bar"})) == body


# ------------------------------------------------------------------ merge_terms
def test_equal_halves_of_the_product_rule_merge():
    g, a = Name("g_bar"), Name("a")
    halves = Call("add", (mul(g, mul(Const(100.0), a)), mul(mul(g, a), Const(100.0))))
    body = (Assign("a_bar", halves),)
    out = peephole.merge_terms(body, {"a_bar"}, frozenset({"g_bar", "a"}), frozenset())
    assert printer.block(out) == "a_bar = 200.0 * (g_bar * a)"
    env = {"g_bar": 0.3, "a": 1.7}
    same(run(out, env), run(body, env), ["a_bar"])
    arrays = (Assign("u_bar", Call("add", (mul(Name("t_bar"), Name("u")), mul(Name("t_bar"), Name("u"))))),)
    out = peephole.merge_terms(arrays, {"u_bar"}, frozenset(), frozenset({"t_bar", "u"}))
    assert printer.block(out) == "u_bar = 2 * (t_bar * u)"


def test_terms_are_not_reordered_unless_known_to_commute():
    # two arrays (or unknown values) in a different order: a product that may not commute
    body = (Assign("a_bar", Call("add", (mul(X, Y), mul(Y, X)))),)
    assert peephole.merge_terms(body, {"a_bar"}, frozenset(), frozenset({"x", "y"})) == body
    # unknown values (a list concatenates): never moved
    body = (Assign("a_bar", Call("add", (Call("add", (Name("p"), Name("q"))), Name("p")))),)
    assert peephole.merge_terms(body, {"a_bar"}, frozenset(), frozenset()) == body
    # not an adjoint: the primal's arithmetic is printed as written
    body = (Assign("a", Call("add", (mul(X, Y), mul(X, Y)))),)
    assert peephole.merge_terms(body, {"a_bar"}, frozenset({"x", "y"}), frozenset()) == body


def test_a_negation_goes_into_the_number():
    body = (AugSetItem("u_bar", I, "add", mul(Call("neg", (Name("t_bar"),)), Const(2.0))),)
    out = peephole.merge_terms(body, {"u_bar"}, frozenset(), frozenset())
    assert printer.block(out) == "u_bar[i] += t_bar * -2.0"


# ------------------------------------------------------------------ drop_copies
SL = Call("slice", (Const(1), Const(-1), Const(None)))


def test_a_relay_pair_of_copies_goes():
    body = (Assign("u_bar", mul(Const(2.0), Name("u"))),
            For("k", Name("r"), (Assign("t_bar", Call("np.copy", (Name("u_bar"),))),
                                 Assign("u_bar", Call("np.copy", (Name("t_bar"),))),
                                 AugAssign("c_bar", "add", Call("np.sum", (Name("t_bar"),))),
                                 Assign("l_bar", mul(Name("t_bar"), Const(0.5))),
                                 AugSetItem("u_bar", SL, "add", Call("getitem", (Name("l_bar"), SL))))))
    adj = {"u_bar", "t_bar", "c_bar", "l_bar"}
    out = peephole.drop_copies(body, adj, set(), frozenset({"u_bar", "t_bar", "l_bar", "u", "c_bar"}))
    assert "np.copy" not in printer.block(out)
    env = {"u": np.arange(5.0), "r": range(3), "c_bar": 0.0}
    same(run(out, env), run(body, env), ["u_bar", "c_bar"])


def test_a_copy_stays_when_the_sharing_would_be_seen():
    adj = {"u_bar", "t_bar", "c_bar", "result_bar"}
    arrays = frozenset({"u_bar", "t_bar", "u"})
    # t_bar is read after u_bar is updated in place
    late_read = (Assign("u_bar", mul(Const(2.0), Name("u"))),
                 For("k", Name("r"), (Assign("t_bar", Call("np.copy", (Name("u_bar"),))),
                                      AugSetItem("u_bar", SL, "add", Const(1.0)),
                                      AugAssign("c_bar", "add", Call("np.sum", (Name("t_bar"),))))))
    # u_bar may be the caller's seed (a parameter)
    seed = (Assign("t_bar", Call("np.copy", (Name("result_bar"),))), AugSetItem("t_bar", SL, "add", Const(1.0)))
    # u_bar may be a broadcast view (unreduce): not an array of its own
    view = (Assign("u_bar", Call("unreduce", (Name("result_bar"), Name("u")))),
            Assign("t_bar", Call("np.copy", (Name("u_bar"),))), AugSetItem("t_bar", SL, "add", Const(1.0)))
    # something else holds u_bar's object
    held = (Assign("u_bar", mul(Const(2.0), Name("u"))), Assign("w", Name("u_bar")),
            Assign("t_bar", Call("np.copy", (Name("u_bar"),))), AugSetItem("t_bar", SL, "add", Const(1.0)))
    # a jump out of the loop could leave the two sharing where they are not proved dead
    jump = (Assign("u_bar", mul(Const(2.0), Name("u"))),
            For("k", Name("r"), (Assign("t_bar", Call("np.copy", (Name("u_bar"),))),
                                 If(Name("c"), (Break(),), ()),
                                 Assign("u_bar", mul(Name("t_bar"), Const(2.0))))))
    for body in (late_read, seed, view, held, jump):
        assert peephole.drop_copies(body, adj, {"result_bar"}, arrays) == body


def test_generated_rebinding_heat_copies_nothing_per_step_and_has_the_same_gradient():
    def heat(u0, kappa):
        u = u0.copy()
        for _ in range(5):
            lap = np.zeros_like(u)
            lap[1:-1] = u[2:] - 2.0 * u[1:-1] + u[:-2]
            u = u + kappa * lap
        return np.sum(u * u)

    u0, kappa = np.sin(np.linspace(0.0, 3.0, 9)), 0.2
    g = grad(heat, wrt=(0, 1))
    du, dk = g(u0, kappa)
    # no copy per step (there were three, then one): u_bar is owned through the relay (the zeros
    # pass: a copy of an owned adjoint of one shape), so no as_adjoint hides it from drop_copies
    back = g.source.split("backward sweep")[1]
    assert back.count("np.copy") == 0 and "as_adjoint" not in back
    eps = 1e-6
    fd_k = (heat(u0, kappa + eps) - heat(u0, kappa - eps)) / (2 * eps)
    fd_u = [(heat(u0 + eps * e, kappa) - heat(u0 - eps * e, kappa)) / (2 * eps) for e in np.eye(9)]
    np.testing.assert_allclose(dk, fd_k, rtol=1e-7)
    np.testing.assert_allclose(du, fd_u, rtol=1e-6, atol=1e-9)
    u1 = u0.copy()
    assert g(u1, kappa)[0] is not u1 and np.array_equal(u1, u0)  # the input is never written
