"""The frontend: source -> three-address IR, and its error messages."""
import inspect
import math

import numpy as np
import pytest

import adjointc
from adjointc.frontend import lower
from adjointc.printer import block
from adjointc.ir import Assign, walk


def swap_and_accumulate(a, b):
    a, b = b, a
    a += b * 2.0
    return a


def condition(x):
    y = math.exp(x) if x > 0 else -x
    return y * y


def loops(x, n):
    s = 0.0
    for i in range(n):
        if i == 3:
            break
        s = s + x[i]
    return s


def lambdas(x):
    f = lambda t: t * t  # noqa: E731  (inlined where called; storing it is refused)
    fs = [f, f]
    return fs[0](x)


def test_tuple_swap_uses_temporaries_and_augmented_assignment_expands():
    text = block(lower(swap_and_accumulate).function.body)
    assert text.splitlines() == [
        "_t1 = b", "_t2 = a", "a = _t1", "b = _t2", "_t3 = b * 2.0", "_t4 = a + _t3", "a = _t4", "return a"]


def test_conditional_expression_becomes_a_recorded_branch():
    text = block(lower(condition).function.body)
    assert "_cond1 = x > 0" in text and "if _cond1:" in text and "math.exp(x)" in text


def test_break_moves_the_rest_of_the_body_into_the_else_branch():
    text = block(lower(loops).function.body)
    assert "_range1 = range(n)" in text and "for i in _range1:" in text
    body = text.split("for i in _range1:")[1]
    assert body.index("break") < body.index("else:") < body.index("s = _t")


def test_unsupported_construct_names_file_line_column_and_hint():
    with pytest.raises(adjointc.UnsupportedSyntax) as info:
        lower(lambdas)
    lines, first = inspect.getsourcelines(lambdas)
    msg = str(info.value)
    assert f"test_frontend.py:{first + 2}:11:" in msg  # (columns count from 1)
    assert "the function 'f' used as a value" in msg and "^" in msg and "hint:" in msg


def test_unknown_library_call_points_to_custom_rules():
    import statistics

    def uses_stats(x):
        return statistics.fmean([x, x])
    with pytest.raises(adjointc.NoAdjointRule, match="defvjp"):
        adjointc.grad(uses_stats)(1.0)
    assert np.isfinite(1.0)


def self_assignments(k, x):
    s = k
    s = s
    x = x
    return s * x


def return_from_loop_in_branch_of_loop(x, y):
    s = x
    for i in range(2):
        if y > 0.5:
            for j in range(2):
                return s * s
        s = s + y
    return s


def test_self_assignment_binds_nothing_and_is_dropped():
    text = block(lower(self_assignments).function.body)
    assert text.splitlines() == ["s = k", "result = s * x", "return result"]


def test_return_from_a_nested_loop_breaks_only_at_the_loop_body_level():
    """A `break` ends its trip's statements: inside the branch the rest is skipped with
    `if not flag`, and the outer loop body's own `if flag: break` stops the loop."""
    text = block(lower(return_from_loop_in_branch_of_loop).function.body)
    outer = text.split("for i in _range1:")[1]
    branch, after = outer.split("if _returned1:", 1)
    assert "for j in _range2:" in branch and branch.count("break") == 1  # the inner loop's own
    assert after.lstrip().startswith("break") and after.index("else:") < after.index("s = ")


def test_libcst_is_known_only_to_the_frontend_package():
    """Lowering source to IR is the only libcst-aware code, and it is one package:
    adjointc/frontend/ (source.py reads defs, expressions.py and resolve.py lower
    expressions, comprehensions.py comprehensions and dict displays, statements.py
    statements, nested.py the calls of nested defs and lambdas, sugar.py the statement
    forms it rewrites)."""
    import pathlib
    import re
    root = pathlib.Path(adjointc.__file__).parent
    users = sorted(str(p.relative_to(root)) for p in root.rglob("*.py")
                   if re.search(r"^\s*(import libcst|from libcst)", p.read_text(), re.M))
    assert users and all(u.startswith("frontend/") for u in users), users
    assert "frontend/statements.py" in users and "frontend/expressions.py" in users


def test_lowered_reports_what_it_learnt_about_names():
    low = lower(return_from_loop_in_branch_of_loop)
    assert low.param_names == ("x", "y") and low.result == "result"
    assert {"s", "i", "j"} <= low.user_names and low.no_return is None and low.falls_through is None
    assert low.function.line == inspect.getsourcelines(return_from_loop_in_branch_of_loop)[1]
    assert low.source.startswith("def return_from_loop_in_branch_of_loop(x, y):")
    low = lower(swap_and_accumulate)
    assert [s.target for s in walk(low.function.body) if isinstance(s, Assign) and s.aug] == ["a"]


def _position_sources():
    """The package's own varied source, the corpus, the examples and a few edge cases."""
    import glob
    import os
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    paths = sorted(p for d in ("adjointc", "tests/corpus", "examples", "benchmarks")
                   for p in glob.glob(os.path.join(root, d, "**", "*.py"), recursive=True))
    texts = [open(p, encoding="utf-8").read() for p in paths]
    return texts + [
        "def f(x):\n    y = (x +\n         1)  # c\n    if y: z = 1; w = 2\n    return [\n  y]\r\n",
        "def g(x):\n    t = (x, (x))\n    s = ((x) + 1) * (2)\n    u = (f)(x)[1:2, ::3]\n"
        "    v = x if (x) else -(x)\n    if x:\n        pass\n    elif x > 1 < 2:\n        a = b = {1: x}\n"
        "    else:\n        a = [*x, (x)]\n    return f(*x, k=(1), **x), (x)\n",
        "def h(\u00e9):\n    \u00e92 = \u00e9 * 2; r = h(\u00e92)\n    return (r,)\n",
        "def k(x):\r    return x\r",
        "def m(x):\n    \x0c\n    y = x  # \u00e9\x0c\n    z = g('\u00e9', f(y))\n    return z\n",
    ]


def test_node_starts_agree_with_libcst_positions():
    # positions.full is a lean replay of libcst's PositionProvider, and positions.Starts
    # (what the frontend reads: ast's starts for the nodes it pairs, the full table for the
    # rest) gives the same start for every node: both must be the provider's
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    from adjointc.frontend import positions
    paired = 0
    for text in _position_sources():
        m = cst.parse_module(text)
        ranges = MetadataWrapper(m, unsafe_skip_copy=True).resolve(PositionProvider)
        want = {id(n): (r.start.line, r.start.column) for n, r in ranges.items()}
        got = positions.full(m)
        assert len(got) == len(ranges)
        assert all(got[n] == (r.start.line, r.start.column) for n, r in ranges.items())
        fast = positions.Starts(m, text)
        bad = [(type(n).__name__, m.code_for_node(n)[:30], p, want[i]) for n, r in ranges.items()
               for i in [id(n)] if (p := fast.paired.get(i)) is not None and p != want[i]]
        assert not bad, bad
        assert all(fast.get(n) == (r.start.line, r.start.column) for n, r in ranges.items())
        paired += len(fast.paired)
    assert paired > 10_000  # (the pairing covers most of what the frontend asks about)


def test_positions_of_nodes_outside_the_pairing_come_from_the_full_table():
    import libcst as cst

    from adjointc.frontend import positions
    text = "def f(x):\n    g = lambda y: y + 1\n    return [v for v in x]\n"
    m = cst.parse_module(text)
    fast = positions.Starts(m, text)
    lam = m.body[0].body.body[0].body[0].value
    assert isinstance(lam, cst.Lambda) and id(lam) not in fast.paired
    assert fast._full is None and fast.get(lam) == (2, 8) and fast._full is not None
    lone_cr = "def k(x):\r    return x\r"  # (libcst ends lines there, CPython's tokenizer may not)
    assert positions.Starts(cst.parse_module(lone_cr), lone_cr).paired == {}
