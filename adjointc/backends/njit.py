"""The numba printer: final adjoint IR -> the text of a module whose `f_grad` is `@njit`.

`generate` has codegen.generate's contract (the same IR after passes/cleanup, the
same module layout, banner, line comments and line map) plus `program` (its
types) and `globals_read`. It first lowers the adjoint to what numba's nopython
mode compiles (backends/njit_lower.py: tapes as typed arrays, fixed-length adjoint
lists as variables, reversed ranges), then prints it with codegen, the `@njit(cache=True)`
decorator, a banner and the imports of njit_runtime's helpers.

What the lowering refuses (`Refused`, naming the construct and its line) makes
`generate` print the NumPy adjoint with a banner line and `__adjointc_numba_refused__`
saying why, and njit_runtime.link warns.
"""
from __future__ import annotations

import ast
from typing import Any, Mapping

from .. import codegen
from ..ir import Function, names_in, walk
from ..passes import sharing
from .njit_lower import HELPERS, Refused, _calls, _exprs, lower  # noqa: F401 (lower: re-exported)

DECORATOR = "@njit(cache=True)"


def generate(fn: Function, *, primal_name: str, wrt: tuple[str, ...], source_file: str, line: int,
             program: Any, globals_read: Mapping[str, Any], from_njit: bool = False) -> str:
    """The module text (see the module docstring): numba's, or NumPy's with the reason."""
    try:
        low = lower(fn, program.types, program.arg_types, globals_read, _shared(program, fn))
    except Refused as r:
        text = codegen.generate(fn, primal_name=primal_name, wrt=wrt, source_file=source_file, line=line)
        note = [f"# Backend: NumPy. The numba backend was asked for, but cannot compile {r}."]
        return _insert(text, note, [], None) + f"__adjointc_numba_refused__ = {str(r)!r}\n"
    text = codegen.generate(low, primal_name=primal_name, wrt=wrt, source_file=source_file, line=line)
    banner = ["# Backend: numba (@njit, machine code cached on disk beside this file); tapes are typed arrays."]
    if from_njit:
        banner.append(f"# {primal_name} is a numba @njit function: its Python source (.py_func) was "
                      "differentiated, and this adjoint is @njit too.")
    imports = ["from numba import njit"]
    used = sorted({c.op for s in walk(low.body) for e in _exprs(s) for c in _calls(e) if c.op in HELPERS})
    if used:
        imports.append(f"from adjointc.backends.njit_runtime import {', '.join(used)}")
    return _insert(text, banner, imports, DECORATOR, set(used))


def _without_runtime_imports(lines: list[str], names: set[str]) -> list[str]:
    """`lines` without their imports from adjointc.runtime of `names` (njit_runtime's are
    imported instead: one import per name)."""
    out = []
    for ln in lines:
        if ln.startswith("from adjointc.runtime import "):
            kept = [n for n in ln.split(" import ", 1)[1].split(", ") if n not in names]
            if not kept:
                continue
            ln = f"from adjointc.runtime import {', '.join(kept)}"
        out.append(ln)
    return out


def _shared(program: Any, fn: Function) -> frozenset[str]:
    """The names that may view, or be viewed by, another name the adjoint `fn` uses (by
    passes/sharing.py's facts of the primal; a primal temporary the adjoint no longer
    names, `_t6` of `u = _t6`, shares with nobody there)."""
    used = {p.name for p in fn.params} | {n for s in walk(fn.body) for e in _exprs(s) for n in names_in(e)} | \
        {s.target for s in walk(fn.body) if isinstance(getattr(s, "target", None), str)}
    related: dict[str, set[str]] = {}
    for n, bs in sharing.base_map(program.fn.body, program.types).items():
        for b in bs - {n}:
            related.setdefault(n, set()).add(b)
            related.setdefault(b, set()).add(n)
    return frozenset(n for n, others in related.items() if others & (used - {n}))


def _insert(text: str, banner: list[str], imports: list[str], decorator: str | None,
            replaced: set[str] = frozenset()) -> str:
    """`text` with banner lines after its two header comments, imports after numpy's (the
    runtime's imports of the names in `replaced` left out) and the decorator above the def,
    its line map shifted by the lines added above the def."""
    lines = text.rstrip("\n").split("\n")
    trailer = lines.pop()
    assert trailer.startswith(codegen.LINEMAP + " = ")
    files, entries = ast.literal_eval(trailer.split(" = ", 1)[1])
    at_numpy = lines.index("import numpy as np") + 1
    while lines[at_numpy].startswith("from "):
        at_numpy += 1
    at_def = next(i for i, ln in enumerate(lines) if ln.startswith("def "))
    out = lines[:2] + banner + _without_runtime_imports(lines[2:at_numpy], replaced) + imports + \
        _without_runtime_imports(lines[at_numpy:at_def], replaced)
    out += ([decorator] if decorator else []) + lines[at_def:]
    shift = len(out) - len(lines)
    linemap = codegen.LineMap(tuple(files), tuple((g + shift, f, s) for g, f, s in entries))
    return "\n".join(out) + "\n" + linemap.trailer() + "\n"
