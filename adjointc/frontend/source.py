"""Reading a function's source: the first step of the frontend.

Contract:

* `read(fn)` gives the libcst `FunctionDef` of `fn`'s own code object with the
  positions of its nodes, the dedented source text, and where it sits in its
  file (first line, column offset); a lambda is given as the equivalent
  `def <name>(params): return <body>` (its node found in its file's parse tree).
  Everything it cannot read is an `UnsupportedSyntax` with a location.
* `has_source(fn)`: is `fn` user code adjointc transforms (library code —
  the standard library, site-packages — is opaque: it needs a rule)?
* `def_loc(fn)`: the `Loc` of `fn`'s `def` line, for errors about the function
  as a whole; `refuse_def_form(fn)` refuses async defs and generators.

libcst is used here only to parse and to find nodes; lowering them to IR is
frontend.py's (with expressions.py).
"""
from __future__ import annotations

import collections
import functools
import inspect
import linecache
import os
import sysconfig
import textwrap
import types as pytypes
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from ..errors import UnsupportedSyntax
from ..ir import Loc
from ..reach import sourcelines
from . import positions

NEEDS_A_FILE = "adjointc needs functions defined in a .py file (or a notebook cell)"

_LIBRARY_ROOTS = tuple({os.path.realpath(p) for p in (sysconfig.get_paths()["stdlib"],
                                                        sysconfig.get_paths()["purelib"],
                                                        sysconfig.get_paths()["platlib"])})


@dataclass
class Source:
    """A function's def as libcst sees it, and where it is."""
    node: cst.FunctionDef
    positions: Mapping[cst.CSTNode, tuple[int, int]]  # node -> its start (line, column), relative to `text`
    text: str                  # the source the positions refer to
    file: str
    first_line: int            # the file's line number of `text`'s line 1
    col_offset: int            # the indentation removed from every line of `text`
    shown: str                 # the source the generated adjoint's header shows
    line: int | None = None    # the function's line, when not `first_line` (a lambda)


def has_source(fn: Callable) -> bool:
    """Is `fn` user code adjointc should transform? Library code (the standard
    library, site-packages) is opaque: it needs a rule."""
    try:
        inspect.getsourcelines(fn)
        path = os.path.realpath(inspect.getsourcefile(fn) or "")
    except (OSError, TypeError):
        return False
    return not any(path.startswith(root + os.sep) for root in _LIBRARY_ROOTS)


def def_loc(fn: Callable) -> Loc | None:
    """Where `fn` is defined: its file and the line of its `def` (after decorators)."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    try:
        lines, first = inspect.getsourcelines(code)
    except (OSError, TypeError):
        return Loc(code.co_filename, code.co_firstlineno)
    is_lambda = code.co_name == "<lambda>"
    for i, text in enumerate(lines):
        stripped = text.lstrip()
        if ("lambda" in stripped) if is_lambda else stripped.startswith(("def ", "async def ")):
            return Loc(code.co_filename, first + i, len(text) - len(stripped), text.rstrip("\n"))
    return Loc(code.co_filename, first, 0, lines[0].rstrip("\n") if lines else "")


def refuse_def_form(fn: Callable) -> None:
    """Refuse the kinds of function whose body is not a plain computation of the
    result: async defs and generators (their body would be differentiated as if the
    call returned its value)."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return
    flags = code.co_flags
    what = None
    if flags & (inspect.CO_COROUTINE | inspect.CO_ITERABLE_COROUTINE):
        what, hint = "async def", "differentiate a plain def that computes the value"
    elif flags & inspect.CO_ASYNC_GENERATOR:
        what, hint = "async generators", "differentiate a plain def that computes the value"
    elif flags & inspect.CO_GENERATOR:
        what, hint = "generator functions (yield)", "return the value instead of yielding it"
    if what is not None:
        raise UnsupportedSyntax(f"adjointc does not support {what}: {fn.__qualname__} is one",
                                def_loc(fn), hint)


def unwrap(fn: Callable) -> Callable:
    """The plain function whose code is read: a method's function, the function an
    lru_cache wrapper memoises. A `functools.wraps` wrapper stays itself (it may scale,
    shift or call its `__wrapped__` on other arguments)."""
    while not isinstance(fn, pytypes.FunctionType):
        if isinstance(fn, pytypes.MethodType):
            fn = fn.__func__
        elif type(fn).__name__ == "_lru_cache_wrapper" and hasattr(fn, "__wrapped__"):
            fn = fn.__wrapped__
        else:
            break
    return fn


def read(fn: pytypes.FunctionType) -> Source:
    """The def of `fn`'s own code object (see the module docstring)."""
    if fn.__code__.co_name == "<lambda>":
        return _read_lambda(fn)
    try:
        lines, first = sourcelines(fn.__code__)
        file = inspect.getsourcefile(fn.__code__) or "<unknown>"
    except (OSError, TypeError, AttributeError) as e:
        raise UnsupportedSyntax(f"cannot read the source of {getattr(fn, '__name__', fn)!r}: {e}",
                                hint=NEEDS_A_FILE) from None
    src = textwrap.dedent("".join(lines))
    col_offset = len(lines[0]) - len(lines[0].lstrip()) if lines else 0
    try:
        module = cst.parse_module(src)
    except cst.ParserSyntaxError as e:
        raise UnsupportedSyntax(f"cannot parse the source of {fn.__name__}: {e}", def_loc(fn)) from None
    defs = [n for n in module.body if isinstance(n, cst.FunctionDef)]
    defs = [n for n in defs if n.name.value == fn.__code__.co_name] or defs
    if not defs:
        raise UnsupportedSyntax(f"cannot find the def of {fn.__qualname__} in its source", def_loc(fn),
                                "define the function with a def statement")
    return Source(defs[0], positions.Starts(module, src), src, file, first, col_offset, src)


@functools.lru_cache(maxsize=8)
def _parsed_lambdas(src: str) -> tuple[Any, tuple[cst.Lambda, ...]]:
    """The positions of a file's nodes and its lambdas (a file holding several lambdas
    is parsed once)."""
    wrapper = MetadataWrapper(cst.parse_module(src), unsafe_skip_copy=True)

    class Lambdas(cst.CSTVisitor):
        def __init__(self) -> None:
            self.found: list[cst.Lambda] = []

        def visit_Lambda(self, node: cst.Lambda) -> None:
            self.found.append(node)
    finder = Lambdas()
    wrapper.module.visit(finder)
    return wrapper.resolve(PositionProvider), tuple(finder.found)


class _Starts(Mapping):
    """A PositionProvider's ranges seen as starts (line, column)."""

    def __init__(self, ranges: Mapping[cst.CSTNode, Any]) -> None:
        self.ranges = ranges

    def __getitem__(self, node: cst.CSTNode) -> tuple[int, int]:
        r = self.ranges[node]
        return r.start.line, r.start.column

    def __iter__(self) -> Any:
        return iter(self.ranges)

    def __len__(self) -> int:
        return len(self.ranges)


def _read_lambda(fn: pytypes.FunctionType) -> Source:
    """A lambda, as `def <name>(params): return <body>`. Its source is found in its
    file's parse tree: the lambda on its first line with its parameters whose body
    spans the positions of its code's instructions (several lambdas can share a line)."""
    code = fn.__code__
    file = code.co_filename
    src = "".join(linecache.getlines(file, fn.__globals__))
    where = Loc(file, code.co_firstlineno, 0, linecache.getline(file, code.co_firstlineno).rstrip("\n"))
    if not src:
        raise UnsupportedSyntax(f"cannot read the source of the lambda at {file}:{code.co_firstlineno}", where,
                                NEEDS_A_FILE)
    try:
        positions, lambdas = _parsed_lambdas(src)
    except cst.ParserSyntaxError as e:
        raise UnsupportedSyntax(f"cannot parse the file of the lambda: {e}", where) from None
    names = list(code.co_varnames[:code.co_argcount + code.co_kwonlyargcount])
    lines = src.splitlines()

    def column(line: int, byte_col: int) -> int:  # code positions count UTF-8 bytes, libcst characters
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        return len(text.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))
    spans = [(p[0], p[1], column(p[0], p[2]), column(p[1], p[3]))
             for p in code.co_positions() if None not in p and p[2:] != (0, 0)]

    def params(lam: cst.Lambda) -> list[str]:
        ps = lam.params
        return [q.name.value for q in list(ps.posonly_params) + list(ps.params) + list(ps.kwonly_params)]

    def spans_body(lam: cst.Lambda) -> bool:
        b = positions[lam.body]
        return all((b.start.line, b.start.column) <= (p[0], p[2]) and (p[1], p[3]) <= (b.end.line, b.end.column)
                   for p in spans)
    found = [lam for lam in lambdas if positions[lam].start.line == code.co_firstlineno
             and params(lam) == names and spans_body(lam)]
    if len(found) != 1:
        raise UnsupportedSyntax(f"cannot tell which lambda on line {code.co_firstlineno} is {fn.__qualname__}",
                                where, "define the function with def")
    lam = found[0]
    ret = cst.Return(value=lam.body)
    fdef = cst.FunctionDef(name=cst.Name(fn.__name__ if fn.__name__.isidentifier() else "lambda_"),
                           params=lam.params, body=cst.IndentedBlock(body=[cst.SimpleStatementLine(body=[ret])]))
    start, end = positions[lam].start.line, positions[lam].end.line
    at = (start, positions[lam].start.column)
    pos = collections.ChainMap({ret: at, fdef: at}, _Starts(positions))
    return Source(fdef, pos, src, file, 1, 0, "\n".join(lines[start - 1:end]) + "\n", line=start)
