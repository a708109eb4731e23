"""Print IR as Python source.

`expr(e)` prints one expression with the fewest parentheses Python's
precedence allows; `block(b)` prints statements. `stmt_lines(s, indent,
origins)` also records, per printed line, the statement it prints: codegen
builds the module's line map from that. The IR dump of `adjointc.passes`
(debugging) uses them as is. Printing never changes the IR.
"""
from __future__ import annotations

from .ir import (Assign, AugAssign, AugSetItem, Block, Break, Call, Comment, Const,
                 Continue, Expr, ExprStmt, For, If, Name, Return, SetItem, Stmt, While)
from .rules.operators import BINARY, BOOLEAN, COMPARE, UNARY

# (op -> (spelling, precedence), from the one operator table)
BINOPS = {**BINARY, **COMPARE, **BOOLEAN}
UNOPS = dict(UNARY)
ATOM = 16


def _const(v: object) -> str:
    if v is Ellipsis:
        return "..."
    if isinstance(v, type):   # a dtype: `float`, `np.float64` (frontend/resolve.py makes them constants)
        return v.__name__ if v.__module__ == "builtins" else f"np.{v.__name__}"
    if isinstance(v, float):
        if v != v:
            return "math.nan"
        if v in (float("inf"), float("-inf")):
            return "math.inf" if v > 0 else "-math.inf"
    return repr(v)


def _prec(e: Expr) -> int:
    if isinstance(e, Call):
        if e.op in BINOPS:
            return BINOPS[e.op][1]
        if e.op in UNOPS:
            return UNOPS[e.op][1]
        if e.op == "ifexp":
            return 2
        if e.op == "tuple":
            return 1
    if isinstance(e, Const) and isinstance(e.value, (int, float)) and not isinstance(e.value, bool) \
            and (e.value < 0 or _const(e.value).startswith("-")):
        return 13
    return ATOM


def _wrap(e: Expr, min_prec: int) -> str:
    s = expr(e)
    return f"({s})" if _prec(e) < min_prec else s


def _index(e: Expr) -> str:
    if isinstance(e, Call) and e.op == "tuple" and e.args:
        return ", ".join(_index(a) if _is_slice(a) else _wrap(a, 2) for a in e.args)
    if _is_slice(e):
        lo, hi, st = (("" if isinstance(a, Const) and a.value is None else expr(a)) for a in e.args)
        return f"{lo}:{hi}" + (f":{st}" if st else "")
    return expr(e)


def _is_slice(e: Expr) -> bool:
    return isinstance(e, Call) and e.op == "slice"


def expr(e: Expr) -> str:
    if isinstance(e, Name):
        return e.id
    if isinstance(e, Const):
        return _const(e.value)
    op, a = e.op, e.args
    if op in BINOPS:
        sym, p = BINOPS[op]
        if op == "pow":  # right-associative, binds tighter than unary on its left
            return f"{_wrap(a[0], p + 1)} ** {_wrap(a[1], 13)}"
        return f"{_wrap(a[0], p)} {sym} {_wrap(a[1], p + 1)}"
    if op in UNOPS:
        sym, p = UNOPS[op]
        return f"{sym}{_wrap(a[0], p)}"
    if op == "ifexp":  # args: test, body, orelse
        return f"{_wrap(a[1], 3)} if {_wrap(a[0], 3)} else {_wrap(a[2], 2)}"
    if op == "getitem":
        return f"{_wrap(a[0], ATOM)}[{_index(a[1])}]"
    if op == "slice":
        return f"slice({', '.join(expr(x) for x in a)})"
    if op == "tuple":
        if len(a) == 1:
            return f"({expr(a[0])},)"
        return "(" + ", ".join(expr(x) for x in a) + ")"
    if op == "list":
        return "[" + ", ".join(expr(x) for x in a) + "]"
    if op == "dict" and not a:  # (an empty dict display: filled by item writes)
        return "{}"
    if op in ("np.r_", "np.c_"):   # index expressions, not calls (expressions.concatenator)
        return f"{op}[{', '.join(expr(x) for x in a)}]"
    kind = e.kind
    if kind == "attr":
        return f"{_wrap(a[0], ATOM)}.{e.member}"
    method = kind in ("method", "user_method")
    args = [expr(x) for x in (a[1:] if method else a)]
    args += [f"{k}={expr(v)}" for k, v in e.kwargs]
    if method:
        return f"{_wrap(a[0], ATOM)}.{e.member}({', '.join(args)})"
    if kind in ("user", "python"):
        op = e.member
    return f"{op}({', '.join(args)})"


def stmt_lines(s: Stmt, indent: str = "", origins: list[Stmt] | None = None) -> list[str]:
    """The lines of one statement. With `origins`, appends to it, for each line
    printed, the statement that line prints (a compound statement for its header,
    `else:` and `pass` lines): what a line map is built from."""
    out: list[str] = []
    _emit(s, indent, out, origins)
    return out


def _emit(s: Stmt, indent: str, out: list[str], origins: list[Stmt] | None) -> None:
    def line(text: str, origin: Stmt = s) -> None:
        out.append(text)
        if origins is not None:
            origins.append(origin)
    if isinstance(s, Assign):
        return line(f"{indent}{s.target} = {expr(s.value)}")
    if isinstance(s, SetItem):
        return line(f"{indent}{s.target}[{_index(s.index)}] = {expr(s.value)}")
    if isinstance(s, AugAssign):
        return line(f"{indent}{s.target} {BINOPS[s.op][0]}= {expr(s.value)}")
    if isinstance(s, AugSetItem):
        return line(f"{indent}{s.target}[{_index(s.index)}] {BINOPS[s.op][0]}= {expr(s.value)}")
    if isinstance(s, ExprStmt):
        if isinstance(s.value, Call) and s.value.op == "assert":   # (frontend/sugar.py: `assert test, msg`)
            return line(f"{indent}assert {', '.join(expr(x) for x in s.value.args)}")
        return line(f"{indent}{expr(s.value)}")
    if isinstance(s, Return):
        return line(f"{indent}return {expr(s.value)}")
    if isinstance(s, Break):
        return line(f"{indent}break")
    if isinstance(s, Continue):
        return line(f"{indent}continue")
    if isinstance(s, Comment):
        return line(f"{indent}# {s.text}")
    inner = indent + "    "
    if isinstance(s, For):
        line(f"{indent}for {s.target} in {expr(s.iter)}:")
        return _body(s.body, inner, out, origins, s)
    if isinstance(s, While):
        line(f"{indent}while {expr(s.test)}:")
        return _body(s.body, inner, out, origins, s)
    if isinstance(s, If):
        if not s.body and s.orelse:  # if c: pass / else: ... reads better as `if not c:`
            return _emit(If(Call("not", (s.test,)), s.orelse, (), s.loc), indent, out, origins)
        line(f"{indent}if {expr(s.test)}:")
        _body(s.body, inner, out, origins, s)
        orelse = s.orelse
        while len(orelse) == 1 and isinstance(orelse[0], If):  # elif chains
            e = orelse[0]
            line(f"{indent}elif {expr(e.test)}:", e)
            _body(e.body, inner, out, origins, e)
            orelse = e.orelse
        if orelse:
            line(f"{indent}else:")
            _body(orelse, inner, out, origins, s)
        return None
    raise TypeError(f"not a statement: {s!r}")


def _body(b: Block, indent: str, out: list[str], origins: list[Stmt] | None, owner: Stmt) -> None:
    start = len(out)
    for s in b:
        _emit(s, indent, out, origins)
    if all(x.lstrip().startswith("#") for x in out[start:]):  # only comments: Python needs a statement
        out.append(indent + "pass")
        if origins is not None:
            origins.append(owner)


def block_lines(b: Block, indent: str = "", origins: list[Stmt] | None = None) -> list[str]:
    out: list[str] = []
    for s in b:
        _emit(s, indent, out, origins)
    return out


def block(b: Block, indent: str = "") -> str:
    return "\n".join(block_lines(b, indent))
