"""Rules for Python operators and syntax primitives (+ - * / ** @, indexing,
tuples, builtins). Indexing's adjoint (`x_bar[i] += g`) is emitted by the
reverse transform itself, since it updates the adjoint in place."""
from __future__ import annotations

import builtins
import math
import operator
from typing import Any, Callable

# ------------------------------------------------------------ the operator table
# The one table of Python's operators: op name (the IR's `Call.op` and the key of
# the operator's rule below) -> (Python spelling, precedence: Python's, higher binds
# tighter). The frontend derives its libcst node maps from the spellings
# (expressions.operator_nodes), the printer prints with them, and PYTHON gives the
# callables (rules.testing). Defined before any rule: registering a rule parses its
# templates, which reads this table (through frontend/expressions.py).
BINARY: dict[str, tuple[str, int]] = {
    "add": ("+", 11), "sub": ("-", 11), "mul": ("*", 12), "truediv": ("/", 12),
    "floordiv": ("//", 12), "mod": ("%", 12), "matmul": ("@", 12), "pow": ("**", 14),
    "bitand": ("&", 9), "bitor": ("|", 7), "bitxor": ("^", 8)}
AUGMENTED = ("add", "sub", "mul", "truediv", "floordiv", "pow", "mod", "matmul")  # `x op= y` the frontend accepts
COMPARE: dict[str, tuple[str, int]] = {
    "lt": ("<", 6), "le": ("<=", 6), "gt": (">", 6), "ge": (">=", 6), "eq": ("==", 6),
    "ne": ("!=", 6), "is": ("is", 6), "isnot": ("is not", 6), "in": ("in", 6), "notin": ("not in", 6)}
BOOLEAN: dict[str, tuple[str, int]] = {"and": ("and", 4), "or": ("or", 3)}
UNARY: dict[str, tuple[str, int]] = {"neg": ("-", 13), "pos": ("+", 13), "invert": ("~", 13), "not": ("not ", 5)}
PYTHON: dict[str, Callable[..., Any]] = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv,
    "floordiv": operator.floordiv, "mod": operator.mod, "matmul": operator.matmul, "pow": operator.pow,
    "bitand": operator.and_, "bitor": operator.or_, "bitxor": operator.xor,
    "lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge, "eq": operator.eq,
    "ne": operator.ne, "is": operator.is_, "isnot": operator.is_not,
    "in": lambda x, y: x in y, "notin": lambda x, y: x not in y,
    "neg": operator.neg, "pos": operator.pos, "invert": operator.invert, "not": operator.not_}

from .. import types as T  # noqa: E402
from ..ir import Const  # noqa: E402
from . import defjvp, defvjp, nondiff, refuse  # noqa: E402


def _matmul_result(types, bound):
    a, b = types["x"], types["y"]
    if a.kind != "array" or b.kind != "array" or a.rank is None or b.rank is None:
        return T.array(None)
    if a.rank == 1 and b.rank == 1:
        return T.FLOAT
    rank = max(a.rank, b.rank) if min(a.rank, b.rank) >= 2 else max(a.rank, b.rank) - 1
    return T.array(rank)


def power_templates(x: Any, y: Any, power: str = "x ** (y - 1)", log: str = "np.log(x)") -> dict[str, str]:
    """Templates for x ** y (operator, np.power, math.pow) that are exact at the edges.

    d/dx: with a constant exponent, `y * x ** (y - 1)` (x ** 2 gives 2 * x: no log,
    finite for x <= 0), nothing for y == 0 (a constant); `pow_dx` otherwise (0 at
    y == 0, inf at x == 0 for 0 < y < 1, never a ZeroDivisionError).
    d/dy: x ** y * log(x), 0 at x == 0 (`pow_dy`, JAX's convention)."""
    out: dict[str, str] = {}
    def number(e: Any) -> Any:
        return e.value if isinstance(e, Const) and isinstance(e.value, (int, float)) else None
    yv, xv = number(y), number(x)
    if yv is not None and yv >= 1:             # x ** (y - 1) cannot divide by zero
        out["x"] = f"unbroadcast(g * y * {power}, x)"
    elif yv != 0:                              # (x ** 0 is a constant)
        out["x"] = "unbroadcast(g * pow_dx(x, y), x)"
    if xv is not None and xv > 0:
        out["y"] = f"unbroadcast(g * ans * {log}, y)"
    elif xv != 0:                              # (0 ** y is 0 for y > 0)
        out["y"] = "unbroadcast(g * pow_dy(x, ans), y)"
    return out


defvjp("add", "x, y", x="unbroadcast(g, x)", y="unbroadcast(g, y)")
defvjp("sub", "x, y", x="unbroadcast(g, x)", y="unbroadcast(-g, y)")
defvjp("mul", "x, y", x="unbroadcast(g * y, x)", y="unbroadcast(g * x, y)")
defvjp("truediv", "x, y", x="unbroadcast(g / y, x)", y="unbroadcast(-g * ans / y, y)")
defvjp("pow", "x, y")(power_templates)
defvjp("neg", "x", x="-g", result="same")
defvjp("pos", "x", x="g", result="same")
defvjp("matmul", "x, y", x="matmul_lhs(g, x, y)", y="matmul_rhs(g, x, y)",
       result=_matmul_result)
defvjp("mod", "x, y", x="unbroadcast(g, x)", y="unbroadcast(-g * ((x - ans) / y), y)")
nondiff("floordiv", "x, y", result="elementwise_int")
# Tangents: + - unary -/+ are linear, * and @ multilinear; /, ** and % are derived from
# their elementwise adjoints (rules/tangents.py), so the conventions at 0 are the same.
for _op in ("add", "sub", "neg", "pos"):
    defjvp(_op, "linear")
for _op in ("mul", "matmul"):
    defjvp(_op, "multilinear")
for _op in (*COMPARE, "not", *BOOLEAN, "invert"):
    nondiff(_op, "*args", result="bool")


def _bitwise_result(types, bound) -> T.T:
    """`a | b`, `a & b`, `a ^ b` of bools or ints; refused on lists, which is what a set is
    here (runtime.distinct builds one as the list of its distinct items)."""
    kinds = [u.kind for t in types.values() for u in (t if isinstance(t, (tuple, list)) else (t,))
             if isinstance(u, T.T)]
    if "list" in kinds:
        from ..passes.types import TypeProblem
        raise TypeProblem("set operators (|, &, ^) on a set: adjointc builds a set as the list of its "
                          "distinct items, which has no set operators",
                          "build the result with a comprehension, e.g. {v for v in a if v in b}")
    return T.BOOL


for _op in ("bitand", "bitor", "bitxor"):
    nondiff(_op, "*args", result=_bitwise_result)


def real_result(types, bound) -> T.T:
    """abs / np.real of a complex value are real (so `x * abs(1j)` is not complex)."""
    t = next(iter(types.values()))   # the one input
    return T.real_part(t) if isinstance(t, T.T) else T.UNKNOWN


# Containers: the adjoint of a tuple/list literal is split element by element
# (`piece` keeps the symbolic zero 0.0, which a container's adjoint may still be, zero).
defvjp("tuple", "*elts", result="tuple", returns_view=True)(lambda elts: {"elts": [f"piece(g, {i})" for i in range(len(elts))]})
defvjp("list", "*elts", result="list", returns_view=True)(lambda elts: {"elts": [f"piece(g, {i})" for i in range(len(elts))]})
# getitem: special-cased in passes/reverse.py (scatter into the adjoint in place).
defvjp("getitem", "x, index", x="g", result="getitem", returns_view=True)
nondiff("slice", "*args", result="object")

# Attributes and methods every array has.
defvjp("attr:T", "x", x="np.transpose(g)", result="transpose", returns_view=True)
defvjp("attr:real", "x", x="g", result=real_result, returns_view=True)
for _op in ("tuple", "list", "getitem", "attr:T", "attr:real"):   # linear: the same op on tangents
    defjvp(_op, "linear")
def _length(x: T.T, axis: int = 0) -> T.T:
    """An int that is known to be the length of an axis of an array (its symbolic dim)."""
    if x.kind == "array" and isinstance(x.shape, tuple) and len(x.shape) > axis:
        return T.T("int", shape=x.shape[axis])
    return T.INT


def _shape_result(types, bound):
    x = types["x"]
    if x.kind == "array" and x.rank is not None:
        return T.T("tuple", elts=tuple(_length(x, i) for i in range(x.rank)))
    return T.T("object")


nondiff("attr:shape", "x", result=_shape_result)
for _attr in ("ndim", "size", "dtype"):
    nondiff(f"attr:{_attr}", "x", result="int" if _attr in ("ndim", "size") else "object")
defvjp("method:copy", "x", x="g", result="same")
defjvp("method:copy", "linear")

# Builtins.
defvjp(builtins.float, "x=0.0", name="float", x="g", result="float")
defjvp("float", "linear")
nondiff(builtins.int, "x=0, base=10", name="int", result="int")
nondiff(builtins.bool, "x=False", name="bool", result="bool")
nondiff(builtins.len, "x", name="len", result=lambda types, bound: _length(types["x"]))
nondiff(builtins.range, "*args", name="range", result=lambda types, bound: T.T("object", cls="range"))  # (its items: ints)
nondiff(builtins.print, "*args, sep=' ', end='\\n', file=None, flush=False", name="print", result="none")
# `assert test, msg` (frontend sugar.py): runs in the forward sweep, printed as the statement
nondiff("assert", "test, msg=None", result="none")
nondiff(builtins.round, "x, ndigits=None", name="round", result="elementwise_int")
defvjp(builtins.abs, "x", name="abs", x="g * np.sign(x)", result=real_result)
# complex(a, b): rules/complex.py
# ties split the adjoint in halves, as np.maximum/np.minimum (and JAX) do
defvjp(builtins.max, "x, y", name="max", x="g * ((x > y) + 0.5 * (x == y))",
       y="g * ((y > x) + 0.5 * (x == y))", result="elementwise")
defvjp(builtins.min, "x, y", name="min", x="g * ((x < y) + 0.5 * (x == y))",
       y="g * ((y < x) + 0.5 * (x == y))", result="elementwise")


def _extreme_result(types, bound):
    """max(x)/min(x) of one iterable: an element (the broadcast of a list's; a row of an array)."""
    x = types["x"]
    if x.kind in ("list", "tuple") and x.elts:
        return T.broadcast(*x.elts)
    if x.kind == "array" and x.rank == 1:
        return T.FLOAT if x.dtype in ("f", None) else (T.INT if x.dtype == "i" else T.UNKNOWN)
    return T.UNKNOWN


# max(L)/min(L) of one list, tuple or 1-D array (frontend/resolve.py chooses these for one argument;
# several are folded pairwise into max/min above): the adjoint goes to the maxima
for _name in ("max", "min"):
    defvjp(f"py:{_name}", "x", x="unextreme(g, x, ans)", result=_extreme_result)
    defjvp(f"py:{_name}", x="extreme_jvp(d, x, ans)")


def _builtin_sum_result(types, bound):
    """sum(list) adds the elements; sum(array) adds the rows (axis 0)."""
    x, start = types["x"], types.get("start", T.INT)
    if x.kind in ("list", "tuple") and x.elts:
        return T.broadcast(*x.elts, start)
    if x.kind in ("list", "tuple") and x.item is not None and x.item != T.EMPTY:  # (built by appends)
        return T.broadcast(x.item, start)
    if x.kind == "array" and x.rank is not None and x.rank >= 1:
        if x.rank == 1:
            return T.broadcast(T.FLOAT, start) if x.dtype in ("f", None) else T.UNKNOWN
        row = T.array(x.rank - 1, x.shape[1:] if isinstance(x.shape, tuple) else None, x.dtype)
        return row if start.kind in ("int", "float", "bool") else T.UNKNOWN
    return T.UNKNOWN


def _list_result(types, bound):
    """list(x): the elements of a list or tuple (known when its length is); an array's rows."""
    x = types["x"]
    if x.kind in ("list", "tuple"):
        return T.T("list", elts=x.elts)
    return T.T("list")


# list(x): a list of x's elements (an array's are its rows, views of it); the adjoint puts
# the element adjoints back in x's form (rules/helpers/shape.unlist)
defvjp(builtins.list, "x=()", name="py:list", x="unlist(g, x)", result=_list_result, returns_view=True)
defjvp("py:list", "linear")
defvjp(builtins.tuple, "x=()", name="py:tuple", x="unlist(g, x)", returns_view=True,
       result=lambda types, bound: T.T("tuple", elts=_list_result(types, bound).elts))
defjvp("py:tuple", "linear")
# sorted(x) (key= is refused when the call is bound): a permutation of x's elements
defvjp(builtins.sorted, "iterable, *, reverse=False", name="sorted", iterable="unsorted(g, iterable, reverse)",
       result=lambda types, bound: _list_result({"x": types["iterable"]}, bound))
defjvp("sorted", iterable="sorted_jvp(d, iterable, reverse)")
defvjp(builtins.sum, "x, start=0", name="sum", x="unsum(g, x)", start="unbroadcast(g, start)",
       result=_builtin_sum_result)
defjvp("sum", "linear")
# math.fsum: sum's derivative (its exact rounding changes the value, never the derivative)
defvjp(math.fsum, "seq", seq="unsum(g, seq)", result=lambda types, bound: T.FLOAT)
defjvp("math.fsum", "linear")
defvjp(math.prod, "iterable, *, start=1", iterable="unprod(g, iterable, start)",
       start="g * math.prod(iterable)", result=lambda types, bound: _builtin_sum_result(
           {"x": types["iterable"], "start": types.get("start", T.INT)}, bound))
defjvp("math.prod", iterable="prod_jvp(d, iterable, start)", start="d * math.prod(iterable)")
