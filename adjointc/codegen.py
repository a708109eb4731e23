"""Adjoint IR -> Python source that reads like a careful hand-written adjoint.

Single-use temporaries of the three-address form are folded back into the
expressions they came from (`_t1 = x * x; a = y - _t1` prints as
`a = y - x * x`), so the forward sweep looks like the user's code and the
backward sweep's lines stay short. Names are deterministic; every block of
the backward sweep carries the line of the statement it differentiates.
"""
from __future__ import annotations

from collections import Counter

from . import printer
from .ir import (Assign, AugAssign, AugSetItem, Block, Call, Comment, Const, Expr, ExprStmt, For,
                 Function, If, Name, Return, SetItem, Stmt, While, map_expr, names_in,
                 stmt_writes, walk)
from . import runtime
from .passes.simplify import merge_accumulations

RUNTIME_NAMES = sorted(n for n in dir(runtime) if not n.startswith("_") and callable(getattr(runtime, n))
                       and getattr(getattr(runtime, n), "__module__", "").startswith("adjointc"))


def _uses(body: Block) -> Counter:
    c: Counter = Counter()
    for s in walk(body):
        for n in _reads_all(s):
            c[n] += 1
    return c


def _reads_all(s: Stmt) -> list[str]:
    if isinstance(s, Assign):
        return list(names_in(s.value))
    if isinstance(s, (SetItem, AugSetItem)):
        return list(names_in(s.index)) + list(names_in(s.value)) + [s.target]
    if isinstance(s, AugAssign):
        return list(names_in(s.value)) + [s.target]
    if isinstance(s, (ExprStmt, Return)):
        return list(names_in(s.value))
    if isinstance(s, For):
        return list(names_in(s.iter))
    if isinstance(s, (While, If)):
        return list(names_in(s.test))
    return []


def _defs(body: Block) -> Counter:
    c: Counter = Counter()
    for s in walk(body):
        for n in stmt_writes(s):
            c[n] += 1
    return c


def fold_temporaries(body: Block, is_temp) -> Block:
    """Inline temporaries defined once and used once, later in the same block,
    when nothing in between writes what they read."""
    uses, defs = _uses(body), _defs(body)

    def candidates(s: Stmt) -> bool:
        return (isinstance(s, Assign) and is_temp(s.target) and defs[s.target] == 1
                and uses[s.target] == 1 and (isinstance(s.value, Call) or s.target.endswith("_bar"))
                and not (isinstance(s.value, Call) and (s.value.op == "method:pop" or s.value.op == "list")))

    def block(b: Block) -> Block:
        stmts = list(b)
        i = 0
        while i < len(stmts):
            s = stmts[i]
            if isinstance(s, If):
                stmts[i] = If(s.test, block(s.body), block(s.orelse), s.loc)
            elif isinstance(s, For):
                stmts[i] = For(s.target, s.iter, block(s.body), s.loc)
            elif isinstance(s, While):
                stmts[i] = While(s.test, block(s.body), s.loc)
            i += 1
        changed = True
        while changed:
            changed = False
            for i, s in enumerate(stmts):
                if not candidates(s):
                    continue
                reads = set(names_in(s.value))
                for j in range(i + 1, len(stmts)):
                    u = stmts[j]
                    if s.target in _reads_all(u) and not isinstance(u, (For, While, If)):
                        stmts[j] = _replace_use(u, s.target, s.value)
                        del stmts[i]
                        changed = True
                        break
                    if isinstance(u, (For, While, If)) and s.target in _reads_all(u):
                        if isinstance(u, If):
                            stmts[j] = If(map_expr(u.test, _sub(s.target, s.value)), u.body, u.orelse, u.loc)
                            del stmts[i]
                            changed = True
                        break
                    if isinstance(u, (For, While, If)):
                        if reads & _all_writes(u) or s.target in {n for x in walk((u,)) for n in _reads_all(x)}:
                            break
                        continue
                    if reads & stmt_writes(u):
                        break
                if changed:
                    break
        return tuple(stmts)
    return block(body)


def _all_writes(s: Stmt) -> set[str]:
    return {n for x in walk((s,)) for n in stmt_writes(x)}


def _sub(name: str, value: Expr):
    return lambda e: value if isinstance(e, Name) and e.id == name else None


def _replace_use(s: Stmt, name: str, value: Expr) -> Stmt:
    f = _sub(name, value)
    if isinstance(s, Assign):
        return Assign(s.target, map_expr(s.value, f), s.loc)
    if isinstance(s, SetItem):
        return SetItem(s.target, map_expr(s.index, f), map_expr(s.value, f), s.loc)
    if isinstance(s, AugAssign):
        return AugAssign(s.target, s.op, map_expr(s.value, f), s.loc)
    if isinstance(s, AugSetItem):
        return AugSetItem(s.target, map_expr(s.index, f), s.op, map_expr(s.value, f), s.loc)
    if isinstance(s, Return):
        return Return(map_expr(s.value, f), s.loc)
    if isinstance(s, ExprStmt):
        return ExprStmt(map_expr(s.value, f), s.loc)
    return s


def _call_names(body: Block) -> set[str]:
    out: set[str] = set()

    def visit(e: Expr) -> None:
        if isinstance(e, Call):
            out.add(e.op)
            for a in e.args:
                visit(a)
            for _, v in e.kwargs:
                visit(v)
    for s in walk(body):
        for attr in ("value", "index", "iter", "test"):
            e = getattr(s, attr, None)
            if e is not None and not isinstance(e, (str, tuple)):
                visit(e)
    return out


def dedupe_comments(b: Block) -> Block:
    """One `# line N: ...` comment per run of statements from the same line."""
    out: list[Stmt] = []
    last = None
    for s in b:
        if isinstance(s, Comment) and s.text.startswith("line "):
            if s.text == last:
                continue
            last = s.text
        elif isinstance(s, (For, While, If)):
            last = None
            if isinstance(s, For):
                s = For(s.target, s.iter, dedupe_comments(s.body), s.loc)
            elif isinstance(s, While):
                s = While(s.test, dedupe_comments(s.body), s.loc)
            else:
                s = If(s.test, dedupe_comments(s.body), dedupe_comments(s.orelse), s.loc)
        out.append(s)
    return tuple(out)


def recordings(body: Block) -> list[str]:
    """Names of the tapes and saved values the forward sweep fills."""
    out: list[str] = []
    for s in body:
        if isinstance(s, Assign) and (s.target.startswith("_tape_") or s.target.startswith("_saved_")):
            if s.target not in out:
                out.append(s.target)
    for s in walk(body):
        if isinstance(s, Assign) and s.target.startswith("_saved_") and s.target not in out:
            out.append(s.target)
    return out


def with_tape_report(body: Block) -> Block:
    """Insert `tape_report(...)` where the backward sweep starts (statistics builds only)."""
    names = recordings(body)
    out: list[Stmt] = []
    for s in body:
        if isinstance(s, Comment) and s.text.startswith("---- backward"):
            out.append(ExprStmt(Call("tape_report", (), tuple((n, Name(n)) for n in names))))
        out.append(s)
    return tuple(out)


def generate(fn: Function, *, primal_name: str, wrt: tuple[str, ...], source_file: str,
             line: int, is_temp, tape_report: bool = False) -> str:
    body = fold_temporaries(fn.body, is_temp)
    adjoints = {s.target for s in walk(body) if isinstance(getattr(s, "target", None), str)
                and s.target.endswith("_bar")}
    body = merge_accumulations(dedupe_comments(body), adjoints)
    if tape_report:
        body = with_tape_report(body)
    used = _call_names(body)
    helpers = [n for n in RUNTIME_NAMES if n in used]
    header = [
        f"# Generated by adjointc from {source_file}:{line} ({primal_name}). Do not edit:",
        "# it is rebuilt whenever the source changes.",
        "import math",
        "",
        "import numpy as np",
    ]
    if helpers:
        header.append(f"from adjointc.runtime import {', '.join(helpers)}")
    params = []
    for p in fn.params:
        if isinstance(p.default, Const):
            params.append(f"{p.name}={printer.expr(p.default)}")
        else:
            params.append(p.name)
    lines = header + ["", "", f"def {fn.name}({', '.join(params)}):",
                      f'    """Gradient of {primal_name} ({source_file}:{line}) with respect to '
                      f'{", ".join(wrt)}. Generated by adjointc."""']
    for s in body:
        if isinstance(s, Comment) and s.text.startswith("----") and s.text.startswith("---- backward"):
            lines.append("")
        lines += printer.stmt_lines(s, "    ")
    return "\n".join(lines) + "\n"
