"""The pipeline as data: `passes.PIPELINE`, the `Program` and its facts, the IR's
`aug` and `sid` fields, and the debugging views (`show --list-passes`,
`show --after NAME`, ADJOINTC_DUMP). Every gradient is checked against central
finite differences."""
import numpy as np
import pytest

from adjointc import UnsupportedSyntax, compiler, frontend, grad, passes, printer
from adjointc import types as T
from adjointc.__main__ import main
from adjointc.ir import Assign, Call, Const, For, Function, If, Name, map_stmts, replace, walk
from adjointc.passes import types as typing_pass
from adjointc.program import number

NAMES = ["lower", "normalize", "inline", "mutation", "legality", "aliasing", "activity", "reverse", "tape", "record",
         "zeros", "dce", "cleanup", "checkpoint"]


def accumulate(x, k):
    s = 0.0
    for i in range(3):
        s += np.sum(np.sin(x) * k)
    return s


def rebinds(x, k):
    s = 0.0
    for i in range(3):
        s = s + np.sum(np.sin(x) * k)
    return s


def smooth_in_place(u, c):
    for i in range(1, u.shape[0] - 1):  # (a loop: called in joint mode, never inlined)
        u[i] = u[i] * c + 0.5 * u[i - 1]
    return np.sum(u)


def calls_in_place_helper(x, c):
    u = x * 1.0
    a = smooth_in_place(u, c)
    return a * np.sum(u * u)


def writes_parameter(u, k):
    u[0] = u[0] * k
    return np.sum(u * u)


def user_t1(x):
    _t1 = np.sin(x)
    return _t1 * x


def bar(u):
    v = u * 3.0
    return v * v


def calls_bar(x):
    v = np.sin(x)
    w = bar(x)  # (inlined: bar's v must not become the caller's v_bar)
    return v * w


def first_large(x, t):
    for i in range(3):
        if x[i] * t > 1.0:
            return x[i] * t
    return t * t


def writes_dict_entry(d, x):
    d["a"] = x * 2.0
    return d["a"] * x


def _fd(f, args, i, h=1e-6):
    """Central differences of f with respect to argument i (a float or an array)."""
    def copies():  # (on copies: a function may modify its array arguments)
        return [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    x = args[i]
    if isinstance(x, float):
        up, dn = copies(), copies()
        up[i], dn[i] = x + h, x - h
        return (f(*up) - f(*dn)) / (2 * h)
    g = np.zeros_like(x)
    for j in np.ndindex(x.shape):
        up, dn = copies(), copies()
        up[i][j] += h
        dn[i][j] -= h
        g[j] = (f(*up) - f(*dn)) / (2 * h)
    return g


def _program(fn, *args, wrt=None):
    g = grad(fn, wrt=wrt)
    # (through the front: `lower` and `normalize` give the Program its IR; run again, they
    # leave it as it is)
    return g, passes.run(compiler.program_of(g, [T.of_value(a) for a in args]), after="normalize", dump=False)


# ------------------------------------------------------------------ the list
def test_pipeline_is_an_ordered_list_of_named_passes():
    assert passes.names() == NAMES
    assert [p.name for p in passes.PIPELINE] == NAMES
    # callees go through a prefix of the same list, up to the aliasing check
    assert passes.CALLEE_PASSES == passes.PIPELINE[:6]
    assert passes.CALLEE_PASSES[-1].name == "aliasing"


def test_each_pass_maps_a_program_to_a_program():
    x = np.linspace(0.1, 0.9, 4)
    _, prog = _program(accumulate, x, 2.0)
    for p in passes.PIPELINE:
        before = prog
        prog = p(prog)
        assert type(prog) is type(before)
    assert prog.adjoint is not None and prog.adjoint.name == "accumulate_grad"
    assert {"x", "s"} <= prog.active and "k" not in prog.active  # (wrt is x only)
    assert {"x_bar", "s_bar"} <= prog.adjoints


def test_cleanup_and_checkpoint_are_the_last_passes_and_the_printer_only_prints():
    x = np.linspace(0.1, 0.9, 4)
    g, prog = _program(accumulate, x, 2.0)
    done = passes.run(prog, after="dce", dump=False)
    cleaned = passes.run(done, passes=[p for p in passes.PIPELINE if p.name == "cleanup"], dump=False)
    assert len(list(walk(cleaned.adjoint.body))) < len(list(walk(done.adjoint.body)))  # temporaries folded
    # no loop asked to be checkpointed: the last pass leaves the program as it is
    assert passes.run(cleaned, passes=passes.PIPELINE[-1:], dump=False) is cleaned
    # asked for: the loop's backward sweep replays the trips from snapshots, and the printed
    # adjoint is the Program's after the whole list, gradient unchanged
    ck = grad(accumulate, checkpoints=2)
    full = passes.run(compiler.program_of(ck, [T.of_value(x), T.of_value(2.0)]), dump=False)
    before = passes.run(compiler.program_of(ck, [T.of_value(x), T.of_value(2.0)]), after="cleanup", dump=False)
    assert "Checkpoints(" not in printer.block(before.adjoint.body)
    assert "_ckpt1 = Checkpoints(len(_range1), 2, (False,))" in printer.block(full.adjoint.body)
    assert "(s,) = _ckpt1.restore(_step1)" in compiler.transform(ck, [T.of_value(x), T.of_value(2.0)])
    np.testing.assert_allclose(ck(x, 2.0), _fd(accumulate, (x, 2.0), 0), rtol=1e-6)
    np.testing.assert_allclose(ck(x, 2.0), g(x, 2.0), rtol=1e-12)


def test_run_stops_after_the_named_pass_and_refuses_unknown_names():
    x = np.linspace(0.1, 0.9, 4)
    _, prog = _program(accumulate, x, 2.0)
    mid = passes.run(prog, after="activity", dump=False)
    assert mid.adjoint is None and mid.active
    with pytest.raises(ValueError, match="no pass named 'codegen'"):
        passes.run(prog, after="codegen", dump=False)


# -------------------------------------------------------------- command line
def test_show_list_passes(capsys):
    assert main(["show", f"{__file__}:accumulate", "--list-passes"]) == 0
    assert capsys.readouterr().out.split() == NAMES


def test_show_after_prints_the_ir_after_that_pass(capsys):
    target = f"{__file__}:accumulate"
    assert main(["show", target, "--args", "np.linspace(0.1, 0.9, 4), 2.0", "--after", "activity"]) == 0
    primal = capsys.readouterr().out
    assert primal.startswith("# accumulate(x, k) after activity\n# active: ")
    assert set(primal.splitlines()[1].split(": ")[1].split(", ")) >= {"s", "x"}
    assert "for i in _range1:" in primal and "backward sweep" not in primal
    assert main(["show", target, "--args", "np.linspace(0.1, 0.9, 4), 2.0", "--after", "reverse"]) == 0
    adjoint = capsys.readouterr().out
    assert adjoint.startswith("# accumulate_grad(x, k, s_bar) after reverse\n")
    assert "# ---- backward sweep ----" in adjoint and "for i in reversed(_range1):" in adjoint
    assert main(["show", target, "--args", "np.linspace(0.1, 0.9, 4), 2.0", "--after", "tape"]) == 0
    decided = capsys.readouterr().out  # the sites, each with the tape pass's decision
    assert "# [site 0] save s: " in decided and "# [site 0] restore s: " in decided
    assert main(["show", target, "--args", "np.linspace(0.1, 0.9, 4), 2.0", "--after", "record"]) == 0
    recorded = capsys.readouterr().out
    assert "[site" not in recorded and "for i in reversed(_range1):" in recorded
    assert main(["show", target, "--args", "np.linspace(0.1, 0.9, 4), 2.0", "--after", "dce"]) == 0
    final = capsys.readouterr().out
    assert "for i in reversed(_range1):" in final and len(final.splitlines()) < len(adjoint.splitlines())  # dce removed some
    assert main(["show", target, "--args", "np.linspace(0.1, 0.9, 4), 2.0", "--after", "cleanup"]) == 0
    cleaned = capsys.readouterr().out  # the temporaries folded back: what the printer prints
    assert len(cleaned.splitlines()) < len(final.splitlines()) and "for i in reversed(_range1):" in cleaned
    with pytest.raises(SystemExit):
        main(["show", target, "--args", "np.ones(4), 2.0", "--after", "no-such-pass"])


def test_the_front_of_the_pipeline_is_lower_then_normalize(capsys, cdir):
    """`lower` gives the IR as written (a return inside the loop), `normalize` the
    structured one (the return is a flag and a break; one result variable)."""
    target = f"{__file__}:first_large"
    assert main(["show", target, "--args", "np.array([0.2, 0.9, 0.4]), 1.5", "--after", "lower"]) == 0
    lowered = capsys.readouterr().out
    assert lowered.startswith("# first_large(x, t) after lower\n")
    loop = lowered.split("for i in")[1].split("\nreturn")[0]
    assert "return" in loop and "_returned" not in lowered
    assert main(["show", target, "--args", "np.array([0.2, 0.9, 0.4]), 1.5", "--after", "normalize"]) == 0
    normalized = capsys.readouterr().out
    loop = normalized.split("for i in")[1].split("\nif _returned1:")[0]
    assert "_returned1 = True" in loop and "break" in loop and "return " not in loop
    # the callee's analysis goes through the same front (see test_callees_go_through_the_pipeline_prefix),
    # and the gradient through both is right
    x = np.array([0.2, 0.9, 0.4])
    for t in (1.5, 0.5):
        np.testing.assert_allclose(grad(first_large, wrt=(0, 1))(x, t)[1], _fd(first_large, (x, t), 1), rtol=1e-6)
    # the Program starts from the function: no IR before `lower`
    g = grad(first_large)
    start = compiler.program_of(g, [T.of_value(x), T.of_value(1.5)])
    assert start.fn.body == () and start.primal is first_large and start.lowered is None
    low = passes.run(start, after="lower", dump=False)
    assert low.fn.body and low.lowered.raw is None and low.result == ""
    norm = passes.run(low, after="normalize", dump=False)
    assert norm.lowered.raw is low.lowered and norm.result == "result"
    kept = {s.sid for s in walk(low.fn.body) if isinstance(s, Assign) and s.target.startswith("_cond")}
    assert kept and kept <= norm.sids()  # (statements normalize kept keep their sids)


def test_a_user_variable_named_like_an_adjoint_is_renamed_by_normalize(cdir):
    def f(x_bar, k):
        y_bar = x_bar * k
        return y_bar * y_bar
    g = grad(f, wrt=0)
    start = compiler.program_of(g, [T.FLOAT, T.FLOAT])
    low = passes.run(start, after="lower", dump=False)
    assert [q.name for q in low.fn.params] == ["x_bar", "k"] and low.wrt == ("x_bar",)
    norm = passes.run(low, after="normalize", dump=False)
    assert [q.name for q in norm.fn.params] == ["x_bar_", "k"] and norm.wrt == ("x_bar_",)
    assert set(norm.arg_types) == {"x_bar_", "k"} and "y_bar_" in norm.user_names
    np.testing.assert_allclose(g(0.7, 1.3), 2 * 0.7 * 1.3 ** 2, rtol=1e-12)


def test_show_still_prints_the_generated_adjoint(capsys):
    assert main(["show", f"{__file__}:accumulate", "--args", "np.linspace(0.1, 0.9, 4), 2.0"]) == 0
    out = capsys.readouterr().out
    assert "def accumulate_grad(x, k, s_bar=1.0):" in out


def test_adjointc_dump_prints_the_ir_after_each_pass_that_changed_it(capsys, cdir, monkeypatch):
    monkeypatch.setenv("ADJOINTC_DUMP", "1")
    x = np.linspace(0.1, 0.9, 4)
    g = grad(accumulate)(x, 2.0)
    out = capsys.readouterr().out
    titles = [line.split()[2] for line in out.splitlines() if line.startswith("==== after ")]
    # (nothing to normalise, inline or rewrite; no loop to checkpoint)
    assert titles == ["lower", "reverse", "tape", "record", "zeros", "dce", "cleanup"]
    np.testing.assert_allclose(g, _fd(accumulate, (x, 2.0), 0), rtol=1e-6)
    x = np.linspace(0.1, 0.9, 6)
    g = grad(calls_in_place_helper)(x, 0.5)
    out = capsys.readouterr().out
    titles = [line.split()[2] for line in out.splitlines() if line.startswith("==== after ")]
    # (the helper's own analysis runs quietly; its adjoint, compiled on first use, dumps too)
    assert titles[:8] == ["lower", "mutation", "reverse", "tape", "record", "zeros", "dce", "cleanup"]
    assert "calls_in_place_helper_grad" not in out.split("==== after reverse")[0]  # mutation: the primal
    np.testing.assert_allclose(g, _fd(calls_in_place_helper, (x, 0.5), 0), rtol=1e-6, atol=1e-8)


# -------------------------------------------------------------------- the IR
def test_plus_equals_is_a_field_of_the_ir():
    aug = [s for s in walk(frontend.lower(accumulate).function.body) if isinstance(s, Assign) and s.target == "s"]
    plain = [s for s in walk(frontend.lower(rebinds).function.body) if isinstance(s, Assign) and s.target == "s"]
    assert [s.aug for s in aug] == [False, True]  # `s = 0.0`, then `s += ...`
    assert [s.aug for s in plain] == [False, False]
    # `x += e` and `x = x + e` mean different things for an array (in place / rebinding)
    a = Assign("u", Name("_t1"), aug=True)
    assert a != Assign("u", Name("_t1")) and a == Assign("u", Name("_t1"), aug=True)


def test_a_statement_id_is_identity_not_meaning():
    a = Assign("u", Call("mul", (Name("x"), Const(2.0))), sid=3)
    assert replace(a, sid=9) == a and replace(a, sid=9).sid == 9
    assert replace(a, target="v").sid == 3  # a rewrite that keeps the statement keeps its id


def test_memos_live_in_slots_and_never_change_meaning():
    from adjointc.ir import names_in
    call = Call("add", (Name("a"), Call("mul", (Name("b"), Name("a")))))
    loop = For("i", Name("r"), (Assign("s", call, sid=4),), sid=2)
    assert not hasattr(call, "__dict__") and not hasattr(loop, "__dict__")  # (slots: no instance dict)
    fresh = Call("add", (Name("a"), Call("mul", (Name("b"), Name("a")))))
    hash(call), names_in(call), list(walk((loop,)))  # (fill the memos of call and loop)
    assert names_in(call) == ("a", "b", "a") and call == fresh and hash(call) == hash(fresh)
    assert repr(call) == repr(fresh)
    # a rebuilt statement starts without its memo: the walk of the new body, never the old one
    other = replace(loop, body=(Assign("t", Name("x")),))
    assert [getattr(s, "target", None) for s in walk((other,))] == ["i", "t"]
    assert [getattr(s, "target", None) for s in walk((loop,))] == ["i", "s"]
    with pytest.raises(AttributeError):  # frozen: a field cannot be set after construction
        call.op = "sub"


def test_map_stmts_rebuilds_nested_blocks_keeping_ids():
    body = (Assign("s", Const(0.0), sid=1),
            For("i", Name("r"), (Assign("s", Name("x"), sid=3),), sid=2))

    def double(s, rest):
        if isinstance(s, Assign) and s.value == Name("x"):
            return [s, replace(s, target="t", sid=0)]
        return None
    out = map_stmts(body, double)
    assert [s.sid for s in out] == [1, 2] and [s.target for s in out[1].body] == ["s", "t"]
    assert out[0] is body[0]
    assert map_stmts(body, lambda s, rest: None) is body  # unchanged: the same block


def test_every_statement_of_a_program_has_a_unique_id():
    x = np.linspace(0.1, 0.9, 6)
    _, prog = _program(calls_in_place_helper, x, 0.5)
    sids = [s.sid for s in walk(prog.fn.body)]
    assert all(sids) and len(set(sids)) == len(sids)
    after = passes.run(prog, after="mutation", dump=False)
    assert after.fn is not prog.fn  # the call was put in functional form
    new = [s.sid for s in walk(after.fn.body)]
    assert all(new) and len(set(new)) == len(new)
    # the statements mutation did not touch are the same statements, with the same ids
    first = prog.fn.body[0]
    assert after.fn.body[0] is first


def test_numbering_gives_copies_new_ids_and_a_shared_statement_one():
    shared = Assign("s", Const(1.0))
    fn = Function("f", (), (If(Name("c"), (shared,), (shared,)),))
    numbered, last = number(fn, 0)
    yes, no = numbered.body[0].body[0], numbered.body[0].orelse[0]
    assert yes is no and yes.sid > 0 and numbered.body[0].sid > 0 and last == 2
    again, _ = number(numbered, last)
    assert again is numbered  # all numbered: nothing to do
    copied, last2 = number(Function("f", (), (yes, replace(yes, target="t"))), last)
    assert copied.body[0] is yes and copied.body[1].sid == last2 == last + 1


# --------------------------------------------------------- facts of Program
def test_types_are_inferred_once_per_ir(monkeypatch):
    calls = []
    real = typing_pass.infer

    def counting(fn, *a, **k):
        calls.append(fn.name)
        return real(fn, *a, **k)
    monkeypatch.setattr(typing_pass, "infer", counting)
    x = np.linspace(0.1, 0.9, 4)
    _, prog = _program(accumulate, x, 2.0)
    passes.run(prog, dump=False)
    assert calls == ["accumulate"]  # nothing changed the primal IR: inferred once
    calls.clear()
    _, prog = _program(calls_in_place_helper, x, 0.5)
    passes.run(prog, dump=False)
    # twice for the caller (before and after mutation rewrote the call); the callee's
    # effects were analysed (and cached) through the same pipeline's prefix
    assert calls.count("calls_in_place_helper") == 2


def test_callees_go_through_the_pipeline_prefix(monkeypatch, cdir):
    seen = []
    real = passes.run

    def spy(prog, ps=passes.PIPELINE, *a, **k):
        seen.append((prog.fn.name, [p.name for p in ps]))
        return real(prog, ps, *a, **k)
    monkeypatch.setattr(passes, "run", spy)
    compiler._EFFECTS.clear()
    x = np.linspace(0.1, 0.9, 6)
    g = grad(calls_in_place_helper, wrt=(0, 1))(x, 0.5)
    assert ("smooth_in_place", NAMES[:6]) in seen
    assert ("calls_in_place_helper", NAMES) in seen
    np.testing.assert_allclose(g[0], _fd(calls_in_place_helper, (x, 0.5), 0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(g[1], _fd(calls_in_place_helper, (x, 0.5), 1), rtol=1e-6)


def test_parameter_copies_are_kept_by_id(cdir):
    u, k = np.linspace(0.5, 1.5, 5), 1.7
    g = grad(writes_parameter, wrt=(0, 1))
    du, dk = g(u.copy(), k)
    np.testing.assert_allclose(du, _fd(writes_parameter, (u, k), 0), rtol=1e-6)
    np.testing.assert_allclose(dk, _fd(writes_parameter, (u, k), 1), rtol=1e-6)
    body = g.source.split("# ---- forward sweep ----")[0]
    assert "u = np.copy(u)" in body
    _, prog = _program(writes_parameter, u, k, wrt=(0, 1))
    prog = passes.run(prog, dump=False)
    assert prog.mutated == {"u"}
    copy = next(s for s in prog.adjoint.body if isinstance(s, Assign) and s.target == "u")
    assert copy.sid in prog.keep and copy.sid not in prog.sids()  # kept, and not a primal statement


def test_temporaries_are_a_fact_not_a_name_pattern(cdir):
    """A user variable spelled like a temporary is the user's: never folded away."""
    x = 0.8
    g = grad(user_t1)
    np.testing.assert_allclose(g(x), np.cos(x) * x + np.sin(x), rtol=1e-12)
    assert "_t1 = np.sin(x)" in g.source
    _, prog = _program(user_t1, x)
    assert "_t1" not in prog.temporaries and not prog.is_temp("_t1") and not prog.is_temp("_t1_bar")
    made = frontend.lower(accumulate).temporaries
    assert made and all(n.startswith(("_t", "_cond")) for n in made)


def test_an_inlined_callee_named_bar_keeps_its_own_names(cdir):
    """bar's local `v`, inlined, must not become `v_bar` (the adjoint of the caller's v)."""
    x = 0.7
    g = grad(calls_bar)
    np.testing.assert_allclose(g(x), _fd(calls_bar, (x,), 0), rtol=1e-6)
    assert "v_bar_ = x * 3.0" in g.source


def test_legality_is_its_own_pass():
    _, prog = _program(writes_dict_entry, {"a": 1.0}, 0.5, wrt=1)
    prog = passes.run(prog, after="mutation", dump=False)
    assert prog.mutated == {"d"}
    with pytest.raises(UnsupportedSyntax, match="modifying the argument 'd' \\(a dict\\) in place") as e:
        next(p for p in passes.PIPELINE if p.name == "legality")(prog)
    assert e.value.loc.line == writes_dict_entry.__code__.co_firstlineno + 1
