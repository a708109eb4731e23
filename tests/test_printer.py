"""The cleanup passes (passes/cleanup.py) and the printer of generated modules
(codegen.py): each cleanup keeps every value (checked by running the printed IR
before and after on the same inputs), the printer adds a line map that names the
user's line of a failing generated line, and the cleanups ask the temporaries
predicate once per name (what keeps them linear in the function's size)."""
from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import adjointc
from adjointc import codegen, grad, printer
from adjointc.errors import GeneratedCodeError
from adjointc.ir import (BACKWARD_SWEEP, FORWARD_SWEEP, Assign, AugAssign, Call, Comment, Const, ExprStmt, For, Function, If, Loc, Name,
                         Return, SetItem, While)
from adjointc.passes import cleanup
from corpus import helpers_mod as hm
from test_entry_points import _RaisingNumpy  # numpy with one planted failure


def is_temp(n: str) -> bool:
    core = n[:-4] if n.endswith("_bar") else n
    return (core.startswith("_t") and core[2:].isdigit()) or (core.startswith("_cond") and core[5:].isdigit())


def run_block(body, env: dict) -> dict:
    """Execute printed IR statements in a namespace holding `env` (and np, math)."""
    ns = {"np": np, "math": math, **{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in env.items()}}
    exec(compile(printer.block(tuple(body)) + "\n", "<cleanup-test>", "exec"), ns)
    return ns


def user_values(ns: dict) -> dict:
    return {k: v for k, v in ns.items() if not k.startswith("_") and k not in ("np", "math")}


def same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def mul(a, b):
    return Call("mul", (a, b))


def add(a, b):
    return Call("add", (a, b))


X, Y, A = Name("x"), Name("y"), Name("a")


# ------------------------------------------------------------------- fold_temporaries
def test_a_single_use_temporary_moves_into_its_reader():
    body = (Assign("_t1", mul(X, X)), Assign("a", Call("sub", (Y, Name("_t1")))))
    out = cleanup.fold_temporaries(body, is_temp)
    assert printer.block(out) == "a = y - x * x"
    same(user_values(run_block(body, {"x": 1.5, "y": 4.0})), user_values(run_block(out, {"x": 1.5, "y": 4.0})))
    assert run_block(out, {"x": 1.5, "y": 4.0})["a"] == 4.0 - 2.25


def test_chains_fold_completely():
    body = (Assign("_t1", mul(X, Y)), Assign("_t2", Call("np.sin", (Name("_t1"),))),
            Assign("a", add(Name("_t2"), X)))
    out = cleanup.fold_temporaries(body, is_temp)
    assert printer.block(out) == "a = np.sin(x * y) + x"
    assert run_block(out, {"x": 0.3, "y": 2.0})["a"] == pytest.approx(math.sin(0.6) + 0.3)


def test_a_write_of_what_it_reads_in_between_keeps_the_temporary():
    body = (Assign("_t1", mul(X, X)), Assign("x", Const(2.0)), Assign("a", Name("_t1")))
    out = cleanup.fold_temporaries(body, is_temp)
    assert out == body
    assert run_block(out, {"x": 3.0})["a"] == 9.0


def test_a_loop_in_between_counts_all_writes_of_its_body():
    loop = For("i", Call("range", (Const(2),)), (Assign("x", add(X, Const(1.0))),))
    body = (Assign("_t1", mul(X, X)), loop, Assign("a", Name("_t1")))
    assert cleanup.fold_temporaries(body, is_temp) == body
    quiet = For("i", Call("range", (Const(2),)), (Assign("y", add(Y, Const(1.0))),))
    body2 = (Assign("_t1", mul(X, X)), quiet, Assign("a", Name("_t1")))
    out = cleanup.fold_temporaries(body2, is_temp)
    assert printer.block(out).splitlines()[-1] == "a = x * x"
    same(user_values(run_block(body2, {"x": 3.0, "y": 0.0})), user_values(run_block(out, {"x": 3.0, "y": 0.0})))


def test_into_an_if_test_but_not_a_loop_header_nor_a_nested_reader():
    into_if = (Assign("_cond1", Call("lt", (X, Y))), If(Name("_cond1"), (Assign("a", X),), (Assign("a", Y),)))
    assert printer.block(cleanup.fold_temporaries(into_if, is_temp)).splitlines()[0] == "if x < y:"
    header = (Assign("_t1", Call("range", (Const(3),))), For("i", Name("_t1"), (Assign("a", X),)))
    assert cleanup.fold_temporaries(header, is_temp) == header
    nested = (Assign("_t1", mul(X, X)), If(Call("lt", (X, Y)), (Assign("a", Name("_t1")),), ()))
    assert cleanup.fold_temporaries(nested, is_temp) == nested


def test_recordings_and_non_temporaries_never_move():
    body = (Assign("_t1", Call("method:pop", (Name("_tape"),))), Assign("a", Name("_t1")),
            Assign("_t2", Call("list", (X,))), Assign("b", Name("_t2")),
            Assign("c", mul(X, X)), Assign("d", Name("c")))
    assert cleanup.fold_temporaries(body, is_temp) == body


def test_the_temporaries_predicate_is_asked_once_per_name():
    asked: list[str] = []

    def counting(n: str) -> bool:
        asked.append(n)
        return is_temp(n)
    body = []
    for i in range(200):
        body += [Assign(f"_t{i}", mul(X, Const(float(i)))), Assign("a", add(A, Name(f"_t{i}")))]
    out = cleanup.fold_temporaries(tuple(body), counting)
    assert len(out) == 200 and len(asked) == len(set(asked)) <= 200
    assert run_block(out, {"x": 2.0, "a": 0.0})["a"] == sum(2.0 * i for i in range(200))


# A random program of temporaries, user names, item writes, loops and branches: folding
# must keep the final value of every user name.
NAMES = ["x", "y", "a", "b"]


@st.composite
def programs(draw, depth=0):
    stmts, pending = [], []
    temps = draw(st.integers(0, 1000))
    src = lambda: Name(draw(st.sampled_from(NAMES)))  # noqa: E731
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["temp", "temp", "read", "user", "item", "loop", "if"] if depth < 2 else
                                    ["temp", "temp", "read", "user", "item"]))
        if kind == "temp":  # its reader comes later in the block, maybe after writes of what it reads
            temps += 1
            pending.append(f"_t{temps}")
            stmts.append(Assign(pending[-1], Call(draw(st.sampled_from(["add", "mul", "sub"])), (src(), src()))))
        elif kind == "read" and pending:
            t = pending.pop(draw(st.integers(0, len(pending) - 1)))
            stmts.append(Assign(draw(st.sampled_from(NAMES)), Call("add", (Name(t), src()))))
        elif kind == "user":
            stmts.append(Assign(draw(st.sampled_from(NAMES)), Call("mul", (src(), Const(0.5)))))
        elif kind == "item":
            stmts.append(SetItem("v", Const(draw(st.integers(0, 2))), src()))
        elif kind == "loop":
            stmts.append(For("i", Call("range", (Const(2),)), tuple(draw(programs(depth + 1)))))
        elif kind == "if":
            stmts.append(If(Call("lt", (src(), src())), tuple(draw(programs(depth + 1))),
                            tuple(draw(programs(depth + 1)))))
    for t in pending:
        stmts.append(Assign(draw(st.sampled_from(NAMES)), Call("add", (Name(t), src()))))
    return stmts


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(programs())
def test_folding_keeps_every_value(body):
    body = _unique_temps(tuple(body))
    env = {"x": 0.7, "y": -1.3, "a": 2.0, "b": 0.25, "v": np.zeros(3)}
    out = cleanup.fold_temporaries(body, is_temp)
    same(user_values(run_block(body, env)), user_values(run_block(out, env)))


def _unique_temps(body):
    """Renumber temporaries so that each is assigned once (as the frontend makes them)."""
    counter = iter(range(1, 10 ** 6))

    def block(b):
        out, names = [], {}
        for s in b:
            if isinstance(s, Assign) and s.target.startswith("_t"):
                names[s.target] = f"_t{next(counter)}"
                out.append(Assign(names[s.target], s.value))
            elif isinstance(s, Assign):
                out.append(Assign(s.target, _rename(s.value, names)))
            elif isinstance(s, For):
                out.append(For(s.target, s.iter, block(s.body)))
            elif isinstance(s, If):
                out.append(If(s.test, block(s.body), block(s.orelse)))
            else:
                out.append(s)
        return tuple(out)
    return block(body)


def _rename(e, names):
    if isinstance(e, Name):
        return Name(names.get(e.id, e.id))
    if isinstance(e, Call):
        return Call(e.op, tuple(_rename(a, names) for a in e.args), e.kwargs)
    return e


# ------------------------------------------------------- the other cleanups
def test_dedupe_comments_keeps_one_comment_per_run():
    c = Comment("line 3: a = x * x")
    body = (c, Assign("a", X), c, Assign("b", X), For("i", X, (c, Assign("b", X))), c, Assign("a", X))
    out = cleanup.dedupe_comments(body)
    assert [type(s).__name__ for s in out] == ["Comment", "Assign", "Assign", "For", "Comment", "Assign"]
    assert isinstance(out[3].body[0], Comment)  # a new block starts its own run


def test_merge_accumulations():
    adj = {"a_bar"}
    body = (Assign("a_bar", mul(X, Y)), AugAssign("a_bar", "add", Y))
    out = cleanup.merge_accumulations(body, adj)
    assert printer.block(out) == "a_bar = x * y + y"
    assert run_block(out, {"x": 2.0, "y": 3.0})["a_bar"] == run_block(body, {"x": 2.0, "y": 3.0})["a_bar"] == 9.0
    reads_itself = (Assign("a_bar", X), AugAssign("a_bar", "add", mul(Name("a_bar"), Y)))
    assert cleanup.merge_accumulations(reads_itself, adj) == reads_itself
    fresh = (Assign("a_bar", Call("np.copy", (X,))), AugAssign("a_bar", "add", Y))
    assert cleanup.merge_accumulations(fresh, adj) == fresh  # the copy is a buffer later writes own
    not_adjoint = (Assign("a", X), AugAssign("a", "add", Y))
    assert cleanup.merge_accumulations(not_adjoint, adj) == not_adjoint


def test_with_tape_report_reports_every_recording_where_the_backward_sweep_starts():
    body = (Assign("_tape_u", Call("list", ())), FORWARD_SWEEP,
            For("i", X, (Assign("_saved_w", X),)), BACKWARD_SWEEP, Return(X))
    out = cleanup.with_tape_report(body)
    assert printer.block(out[3:4]) == "tape_report(_tape_u=_tape_u, _saved_w=_saved_w)"
    assert out[:3] + out[4:] == body


def test_run_applies_the_cleanups_in_order():
    body = (Assign("_t1_bar", mul(X, Y)), Assign("a_bar", Name("_t1_bar")), AugAssign("a_bar", "add", Y))
    fn = cleanup.run(Function("f_grad", (), body, "f.py", 1), is_temp)
    assert printer.block(fn.body) == "a_bar = x * y + y"


# ------------------------------------------------------------------ the printer
def _adjoint_fn():
    loc4, loc5 = Loc("/src/m.py", 4, 0, "y = x * x"), Loc("/src/m.py", 5, 0, "return y")
    loc2 = Loc("/src/m.py", 2, 0, "w[k] = 0.5")
    body = (FORWARD_SWEEP, Assign("y", mul(X, X), loc4), Assign("result", Name("y"), loc5),
            BACKWARD_SWEEP, Assign("x_bar", Const(0.0)), Comment("line 5: return y", loc5),
            Assign("y_bar", Name("result_bar"), loc5), Comment("line 4: y = x * x", loc4),
            If(Call("gt", (X, Const(0.0))), (Assign("x_bar", mul(Name("y_bar"), Const(2.0))),),
               (Comment("line 4: y = x * x", loc4),)),
            SetItem("w", Name("k"), Call("method:pop", (Name("_tape_w"),)), loc2),
            Return(Call("tuple", (Name("result"), Call("tuple", (Name("x_bar"),)))), Loc("/src/m.py", 1)))
    return Function("f_grad", (), body, "/src/m.py", 1)


def test_the_module_carries_a_line_map_of_the_backward_sweep():
    text = codegen.generate(_adjoint_fn(), primal_name="f", wrt=("x",), source_file="/src/m.py", line=1)
    lines = text.splitlines()
    assert lines[-1].startswith(codegen.LINEMAP + " = ")
    ns: dict = {}
    exec(lines[-1], ns)
    lm = codegen.LineMap.of_namespace(ns)
    assert lm.files == ("/src/m.py",)
    start = lines.index("    # ---- forward sweep ----") + 1
    got = {line.strip(): lm.lookup(i) for i, line in enumerate(lines[start - 1:], start)}
    expected = {
        "y = x * x": None, "result = y": None,   # the forward sweep
        "x_bar = 0.0": None,                     # before the first statement's adjoint
        "y_bar = result_bar": 5,                 # under `# line 5`
        "if x > 0.0:": 4, "x_bar = y_bar * 2.0": 4, "else:": 4, "pass": 4,  # under `# line 4`
        "w[k] = _tape_w.pop()": 2,               # a restore made from line 2, though under line 4's comment
        "return (result, (x_bar,))": 2,          # (no source line of its own)
    }
    for stmt, line in expected.items():
        assert got[stmt] == (("/src/m.py", line) if line else None), stmt


def test_the_source_property_hides_the_line_map():
    g = grad(sine_sum)
    x = np.array([0.3, 1.1])
    c = g.compiled_for(x)
    assert codegen.LINEMAP not in c.source and codegen.LINEMAP in c.fn.__globals__
    np.testing.assert_allclose(g(x), np.sin(x) + x * np.cos(x), rtol=1e-12)


def sine_sum(x):
    y = np.sin(x)
    return np.sum(y * x)


def rhs_sum(y):
    z = y * 2.0
    return np.sum(hm.rhs(z, 0.5))


def test_a_failing_line_of_an_inlined_helper_from_another_file_is_named_with_its_file(monkeypatch):
    g = grad(rhs_sum)
    y = np.array([0.2, -0.4, 1.0])
    np.testing.assert_allclose(g(y), 2.0 * (-0.5 + 0.3 * np.cos(2.0 * y)), rtol=1e-12)
    c = g.compiled_for(y)
    monkeypatch.setitem(c.fn.__globals__, "np", _RaisingNumpy("cos"))  # only the helper's adjoint uses cos
    with pytest.raises(GeneratedCodeError) as e:
        g(y)
    msg = str(e.value)
    assert "planted failure in np.cos" in msg
    assert "of a function it calls (helpers_mod.py): return -k * y + 0.3 * np.sin(y)" in msg


def test_printing_is_deterministic_and_prints_each_statement_once():
    rng = random.Random(3)
    body = [FORWARD_SWEEP]
    for i in range(300):
        body.append(Assign(f"a{i}", mul(Name(f"a{rng.randrange(i)}") if i else X, Y), Loc("/m.py", i + 2)))
    body += [BACKWARD_SWEEP, Return(Name("a299"))]
    fn = Function("g_grad", (), tuple(body), "/m.py", 1)
    t1 = codegen.generate(fn, primal_name="g", wrt=("x",), source_file="/m.py", line=1)
    t2 = codegen.generate(fn, primal_name="g", wrt=("x",), source_file="/m.py", line=1)
    # banner and imports (5), two blank lines, def and docstring, the two sweep comments,
    # the 300 statements, the return, a blank line before the backward sweep and the line map's
    assert t1 == t2 and t1.count("\n") == 5 + 2 + 2 + 2 + 300 + 1 + 1 + 2
    ns = {"np": np, "math": math, "x": 1.0, "y": 1.0}
    exec(t1, ns)
    assert "g_grad" in ns


def test_the_line_map_survives_the_cache_header(tmp_path, monkeypatch):
    """A cache entry puts one line above the generated text: the map is shifted by it."""
    monkeypatch.setenv("ADJOINTC_CACHE_DIR", str(tmp_path))
    g = grad(sine_sum)
    x = np.array([0.2, 1.0])
    c = g.compiled_for(x)
    monkeypatch.setitem(c.fn.__globals__, "np", _RaisingNumpy("cos"))
    with pytest.raises(GeneratedCodeError) as e:
        g(x)
    assert "in the adjoint of this line" in str(e.value)
    assert e.value.loc.line == sine_sum.__code__.co_firstlineno + 1  # y = np.sin(x)
    assert isinstance(e.value, adjointc.AdjointcBug)


def test_ops_used_by_while_and_setitem_are_imported():
    body = (While(Call("lt", (X, Const(1.0))), (Assign("x", Call("unreduce", (X, Y))),)),
            ExprStmt(Call("tape_report", ())), Return(X))
    text = codegen.generate(Function("h_grad", (), body, "/m.py", 1), primal_name="h", wrt=("x",),
                            source_file="/m.py", line=1)
    assert "from adjointc.runtime import tape_report, unreduce" in text
