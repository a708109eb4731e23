"""libcst -> IR lowering. The only module that knows libcst's node types.

Its allow-list is the fence: every construct not handled below raises
`UnsupportedSyntax` naming file, line and column. While lowering it

* resolves every name: parameter, local, temporary, `math`/`numpy`
  attribute or builtin (-> a rule's canonical op), module global or closure
  cell (-> an inactive constant, read at call time);
* normalises to three-address form: one primitive per `Assign`, operands are
  names or constants (conditions and index expressions stay nested: they are
  never differentiated); `a += b` -> `a = a + b`; tuple assignment through
  temporaries; a statement never reads its own target (`z = z * z` becomes
  `_t = z * z; z = _t`), which the reverse transform relies on;
* makes control flow explicit for the reverse transform: an `if` test is
  stored in a `_cond` variable, a loop's range in a `_range` variable, loops
  over arrays/enumerate/zip become index loops, `a if c else b` becomes an
  `if` statement; statements after a `break`/`continue` move into the `else`
  of the `if` that holds it, so both sweeps stay structured.
"""
from __future__ import annotations

import builtins
import copy
import dataclasses
import functools
import inspect
import os
import sysconfig
import textwrap
import types as pytypes
from dataclasses import dataclass, field
from typing import Any, Callable

import libcst as cst
import numpy as np
from libcst.metadata import MetadataWrapper, PositionProvider

from . import rules
from .errors import NoAdjointRule, UnsupportedSyntax
from .ir import (Assign, Block, Break, Call, Const, Continue, Expr, ExprStmt, For,
                 Function, If, Loc, Name, Param, Return, SetItem, Stmt, While,
                 NO_DEFAULT, names_in, rename, walk)
from .names import Namer

BINOPS = {cst.Add: "add", cst.Subtract: "sub", cst.Multiply: "mul", cst.Divide: "truediv",
          cst.FloorDivide: "floordiv", cst.Modulo: "mod", cst.Power: "pow",
          cst.MatrixMultiply: "matmul", cst.BitAnd: "bitand", cst.BitOr: "bitor",
          cst.BitXor: "bitxor"}
AUGOPS = {cst.AddAssign: "add", cst.SubtractAssign: "sub", cst.MultiplyAssign: "mul",
          cst.DivideAssign: "truediv", cst.FloorDivideAssign: "floordiv",
          cst.PowerAssign: "pow", cst.ModuloAssign: "mod", cst.MatrixMultiplyAssign: "matmul"}
CMPOPS = {cst.LessThan: "lt", cst.LessThanEqual: "le", cst.GreaterThan: "gt",
          cst.GreaterThanEqual: "ge", cst.Equal: "eq", cst.NotEqual: "ne", cst.Is: "is",
          cst.IsNot: "isnot", cst.In: "in", cst.NotIn: "notin"}
UNOPS = {cst.Minus: "neg", cst.Plus: "pos", cst.Not: "not", cst.BitInvert: "invert"}

# Array methods and the NumPy function each one means (`x.sum(0)` is `np.sum(x, 0)`).
ARRAY_METHODS = {m: getattr(np, m) for m in (
    "sum", "mean", "prod", "max", "min", "std", "var", "reshape", "transpose", "ravel",
    "squeeze", "cumsum", "cumprod", "clip", "dot", "trace", "diagonal", "round", "repeat",
    "argmax", "argmin", "argsort", "any", "all", "conj", "nonzero", "swapaxes")}
ARRAY_METHODS.update(flatten=np.ravel, copy=np.copy, conjugate=np.conj, astype=None)

SUPPORTED = ("assignments (=, +=, tuple unpacking), arithmetic, comparisons, indexing and "
             "slicing, calls to math/numpy functions, for/while loops, if/elif/else, "
             "break/continue, return")


@dataclass
class Lowered:
    """The frontend's product: the IR plus what it learnt about names."""
    function: Function
    globals_read: dict[str, Any] = field(default_factory=dict)   # constant name -> current value
    param_names: tuple[str, ...] = ()
    source: str = ""
    result: str = "result"  # the variable holding the returned value
    user_names: set[str] = field(default_factory=set)  # parameters and locals the user wrote
    callees: dict[str, Any] = field(default_factory=dict)  # "rhs" -> the user function it calls
    temporaries: set[str] = field(default_factory=set)  # names made for one statement's values (_t3, _cond2)
    renamed: dict[str, str] = field(default_factory=dict)  # user name -> name in generated code
    no_return: Loc | None = None  # the function has no return statement (it returns None)
    falls_through: Loc | None = None  # some path reaches the end of the body (returning None)


def _dotted(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


class _Assigned(cst.CSTVisitor):
    """Collect every name bound in the function body (Python's local-variable rule)."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.count: dict[str, int] = {}  # binding sites per name

    def visit_Name(self, node: cst.Name) -> None:  # only reached through targets below
        pass

    def _targets(self, t: cst.BaseExpression) -> None:
        if isinstance(t, cst.Name):
            self.names.add(t.value)
            self.count[t.value] = self.count.get(t.value, 0) + 1
        elif isinstance(t, (cst.Tuple, cst.List)):
            for e in t.elements:
                self._targets(e.value)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._targets(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._targets(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._targets(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._targets(node.target)


class Lowerer:
    def __init__(self, fn: Callable, src: str, first_line: int, file: str, col_offset: int):
        self.fn = fn
        self.file = file
        self.first_line = first_line
        self.col_offset = col_offset
        self.src_lines = src.splitlines()
        self.globals = dict(fn.__globals__)
        if fn.__closure__:
            for name, cell in zip(fn.__code__.co_freevars, fn.__closure__):
                try:
                    self.globals[name] = cell.cell_contents
                except ValueError:  # empty cell
                    pass
        self.globals_read: dict[str, Any] = {}
        self.callees: dict[str, Callable] = {}  # spelling -> user function called
        self.namer: Namer | None = None
        self.locals: set[str] = set()
        self.positions: Any = None
        self.loop_depth = 0
        self._result: str | None = None
        self.bindings: dict[str, int] = {}
        self.nested: dict[str, cst.FunctionDef] = {}  # nested defs, inlined at their calls
        self.inline_depth = 0

    # ------------------------------------------------------------- utilities
    def loc(self, node: cst.CSTNode) -> Loc:
        p = self.positions.get(node)
        if p is None:
            return Loc(self.file, self.first_line)
        line = p.start.line
        text = self.src_lines[line - 1] if 0 < line <= len(self.src_lines) else ""
        return Loc(self.file, self.first_line + line - 1, p.start.column + self.col_offset,
                   " " * self.col_offset + text)

    def unsupported(self, node: cst.CSTNode, what: str, hint: str = "") -> UnsupportedSyntax:
        return UnsupportedSyntax(f"adjointc does not support {what}", self.loc(node),
                                 hint or f"supported: {SUPPORTED}")

    def result_name(self) -> str:
        if self._result is None:
            self._result = self.namer.exact("result")
        return self._result

    def tmp(self, hint: str = "t") -> str:
        return self.namer.fresh(hint)

    # ------------------------------------------------------------ entry point
    def lower_function(self, node: cst.FunctionDef) -> Lowered:
        params: list[Param] = []
        p = node.params
        star = p.star_arg if p.star_arg not in (cst.MaybeSentinel.DEFAULT, None) and not isinstance(
            p.star_arg, cst.ParamStar) else None
        if (star or p.star_kwarg) is not None and hasattr(self.fn, "__wrapped__"):
            # a decorator's `def wrapper(*args, **kwargs)`: what it computes from the wrapped
            # function's value is its own code, which adjointc cannot lower; never
            # differentiate the wrapped function in its place
            raise UnsupportedSyntax(
                f"{self.fn.__qualname__} is a decorator's wrapper (functools.wraps) taking *args/**kwargs: "
                "adjointc cannot differentiate through it", self.loc(star or p.star_kwarg),
                f"differentiate the undecorated function ({self.fn.__name__}.__wrapped__), or give the "
                "wrapper explicit parameters")
        if star is not None:
            raise self.unsupported(star, "*args parameters", "list the parameters explicitly")
        if p.star_kwarg is not None:
            raise self.unsupported(p.star_kwarg, "**kwargs parameters", "list the parameters explicitly")
        live = inspect.signature(self.fn, follow_wrapped=False).parameters
        printable = True
        for prm in list(p.posonly_params) + list(p.params) + list(p.kwonly_params):
            default: Any = NO_DEFAULT
            d = live[prm.name.value].default if prm.name.value in live else inspect.Parameter.empty
            if d is not inspect.Parameter.empty and printable:
                # the generated adjoint shows the default when it prints as a literal
                if (isinstance(d, (int, float, bool, str)) or d is None) and repr(d) == repr(eval(repr(d))):
                    default = Const(d)
                else:
                    printable = False
            params.append(Param(prm.name.value, default))
        collector = _Assigned()
        node.body.visit(collector)
        self.locals = collector.names | {q.name for q in params}
        self.bindings = dict(collector.count)
        for q in params:
            self.bindings[q.name] = self.bindings.get(q.name, 0) + 1
        self.namer = Namer(self.locals | set(self.globals) | set(dir(builtins)))
        body = self.block(node.body.body)
        no_return = None
        if not any(isinstance(s, Return) for s in walk(body)):
            # a helper run for its effect on its arguments (`set_ends(u, a, b)`) returns None;
            # differentiating such a function itself is refused by the caller (api.Gradient)
            no_return = Loc(self.file, self.first_line)
            res = self.result_name()
            body = body + (Assign(res, Const(None), no_return), Return(Name(res), no_return))
        falls_through = None
        if no_return is None and _may_fall_through(body):
            # Python returns None on that path, which the generated adjoint would not see:
            # differentiating such a function itself is refused (api.Gradient)
            falls_through = self.loc(node)
        rets = [r for r in walk(body) if isinstance(r, Return)]
        names = {r.value.id for r in rets if isinstance(r.value, Name)}
        if len(names) == 1 and all(isinstance(r.value, Name) for r in rets) and not names <= set(self.globals_read):
            result = names.pop()
        else:
            result = self.result_name()
        if _returns_in_loop(body):
            flag = self.tmp("returned")
            body = (Assign(flag, Const(False)),) + _lower_loop_returns(body, result, flag, False)
        # `x_bar` is the adjoint of `x` in generated code: a user variable of that
        # name is renamed (x_bar -> x_bar_) so the two never collide
        taken = set(self.locals) | set(self.globals_read)
        renamed: dict[str, str] = {}
        for n in sorted(self.locals):
            if n.endswith("_bar"):
                new = n + "_"
                while new in taken:
                    new += "_"
                taken.add(new)
                renamed[n] = new
        if renamed:
            body = rename(body, renamed)
            params = [Param(renamed.get(q.name, q.name), q.default) for q in params]
            result = renamed.get(result, result)
            self.locals = {renamed.get(n, n) for n in self.locals}
        # named as the caller knows it: a functools.wraps wrapper `w` of `f` is `f`
        name = self.fn.__name__ if self.fn.__name__.isidentifier() else node.name.value
        fn = Function(name, tuple(params), body, self.file, self.first_line)
        self.renamed = renamed
        return Lowered(fn, self.globals_read, tuple(q.name for q in params), result=result,
                       user_names=set(self.locals), callees=dict(self.callees),
                       temporaries=set(self.namer.temporaries), renamed=renamed, no_return=no_return,
                       falls_through=falls_through)

    def const_value(self, node: cst.BaseExpression) -> Any:
        e = self.expr(node, [], nested=True)
        if isinstance(e, Const):
            return e.value
        raise self.unsupported(node, "a non-constant default value", "use a literal default")

    # -------------------------------------------------------------- statements
    def block(self, stmts) -> Block:
        out: list[Stmt] = []
        stmts = list(stmts)
        for i, s in enumerate(stmts):
            lowered = self.stmt(s)
            out.extend(lowered)
            if out and isinstance(out[-1], (Return, Break, Continue)):
                if i + 1 < len(stmts):  # unreachable code after return/break
                    pass
                break
            last = lowered[-1] if lowered else None
            if isinstance(last, If) and _jumps(last) and i + 1 < len(stmts):
                # statements after an `if` that breaks/continues/returns run only on the
                # paths that fall through: move them into those branches.
                rest = self.block(stmts[i + 1:])
                out[-1] = _append_fallthrough(last, rest)
                break
        return tuple(out)

    def stmt(self, node: cst.CSTNode) -> list[Stmt]:
        if isinstance(node, cst.BaseSmallStatement):
            # a suite on its header's line (`def f(x): return x * x`, `if c: y = 1; z = 2`):
            # its body is the small statements themselves
            return self.small_stmt(node)
        if isinstance(node, cst.SimpleStatementLine):
            out: list[Stmt] = []
            for small in node.body:
                out.extend(self.small_stmt(small))
            return out
        if isinstance(node, cst.If):
            return self.if_stmt(node)
        if isinstance(node, cst.For):
            return self.for_stmt(node)
        if isinstance(node, cst.While):
            return self.while_stmt(node)
        if isinstance(node, cst.FunctionDef) and not node.decorators and node.asynchronous is None:
            self.nested[node.name.value] = node  # inlined where it is called
            return []
        kind = {cst.FunctionDef: "nested function definitions", cst.ClassDef: "class definitions",
                cst.Try: "try statements", cst.With: "with statements"}.get(type(node), type(node).__name__)
        hint = ""
        if isinstance(node, cst.FunctionDef):
            hint = "define the helper without decorators, or at module level"
        raise self.unsupported(node, kind, hint)

    def small_stmt(self, node: cst.CSTNode) -> list[Stmt]:
        loc = self.loc(node)
        out: list[Stmt] = []
        if isinstance(node, cst.Assign):
            if len(node.targets) > 1:  # a = b = expr: one value, bound to every target
                val = self.atom(self.expr(node.value, out), out, loc)
                for t in node.targets:
                    self.assign_to(t.target, val, out, loc)
                return out
            self.assign(node.targets[0].target, node.value, out, loc)
            return out
        if isinstance(node, cst.AnnAssign):
            if node.value is None:
                return []
            self.assign(node.target, node.value, out, loc)
            return out
        if isinstance(node, cst.AugAssign):
            op = AUGOPS.get(type(node.operator))
            if op is None:
                raise self.unsupported(node, f"the augmented assignment {type(node.operator).__name__}")
            if isinstance(node.target, cst.Name):
                rhs = self.atom(self.expr(node.value, out), out, loc)
                cur = self.read_name(node.target)
                self.emit_assign(node.target.value, Call(op, (cur, rhs)), out, loc)
                out[-1] = dataclasses.replace(out[-1], aug=True)  # in place if an array: the aliasing check looks
                return out
            if isinstance(node.target, cst.Subscript):
                base, index = self.subscript_target(node.target, out)
                rhs = self.atom(self.expr(node.value, out), out, loc)
                cur = self.tmp()
                out.append(Assign(cur, Call("getitem", (Name(base), index)), loc))
                new = self.tmp()
                out.append(Assign(new, Call(op, (Name(cur), rhs)), loc))
                out.append(SetItem(base, index, Name(new), loc))
                return out
            raise self.unsupported(node.target, "this augmented-assignment target")
        if isinstance(node, cst.Return):
            if node.value is None:
                raise self.unsupported(node, "a bare return", "return the value to differentiate")
            val = self.expr(node.value, out, name_hint="result")
            if not isinstance(val, Name) or val.id not in self.locals:
                if not isinstance(val, Name) or not val.id.startswith("_"):
                    res = self.result_name()
                    self.emit_assign(res, val, out, loc)
                    val = Name(res)
            out.append(Return(val, loc))
            return out
        if isinstance(node, cst.Expr):
            v = node.value
            if isinstance(v, (cst.SimpleString, cst.ConcatenatedString)):  # docstring
                return []
            if isinstance(v, cst.Call) and isinstance(v.func, cst.Attribute) and v.func.attr.value == "append" \
                    and isinstance(v.func.value, cst.Name) and v.func.value.value in self.locals:
                if len(v.args) != 1 or v.args[0].keyword is not None or v.args[0].star:
                    raise self.unsupported(node, "this form of list.append", "append one value")
                item = self.atom(self.expr(v.args[0].value, out), out, loc)
                out.append(ExprStmt(Call("method:append", (Name(v.func.value.value), item)), loc))
                return out
            if isinstance(v, cst.Call):
                obj = self.resolve(v.func)
                rule = rules.lookup_object(obj) if obj is not _UNRESOLVED else None
                if rule is not None and rule.nondiff:  # print(...), a diagnostic: runs in the forward sweep
                    e = self.expr(v, out)
                    out.append(ExprStmt(e, loc))
                    return out
                nested = isinstance(v.func, cst.Name) and v.func.value in self.nested
                user = rule is None and (nested or (isinstance(obj, pytypes.FunctionType) and _has_source(obj))
                                         or (obj is _UNRESOLVED and isinstance(v.func, cst.Attribute)
                                             and v.func.attr.value not in ARRAY_METHODS
                                             and rules.lookup(f"method:{v.func.attr.value}") is None))
                if user:  # `apply_bc(u)`: run for its effect on the arguments (passes/mutation.py)
                    e = self.expr(v, out)
                    if isinstance(e, Call):
                        out.append(Assign(self.tmp(), e, loc))
                    return out
            raise self.unsupported(node, "an expression statement (a call whose result is unused)",
                                   "side effects are not differentiated; assign the result, or mark the "
                                   "function with adjointc.nondiff if it is a diagnostic")
        if isinstance(node, cst.Break):
            return [Break(loc)]
        if isinstance(node, cst.Continue):
            return [Continue(loc)]
        if isinstance(node, cst.Pass):
            return []
        kind = {cst.Global: "global statements", cst.Nonlocal: "nonlocal statements",
                cst.Del: "del statements", cst.Assert: "assert statements",
                cst.Import: "imports inside the function", cst.ImportFrom: "imports inside the function",
                cst.Raise: "raise statements"}.get(type(node), type(node).__name__)
        raise self.unsupported(node, kind)

    def assign(self, target: cst.BaseExpression, value: cst.BaseExpression, out: list[Stmt], loc: Loc) -> None:
        if isinstance(target, cst.Name):
            e = self.expr(value, out, name_hint=target.value)
            self.emit_assign(target.value, e, out, loc)
        elif isinstance(target, (cst.Tuple, cst.List)):
            elts = [el.value for el in target.elements]
            if any(isinstance(el, cst.StarredElement) for el in target.elements):
                raise self.unsupported(target, "starred assignment")
            if isinstance(value, (cst.Tuple, cst.List)) and len(value.elements) == len(elts):
                # a, b = b, a: evaluate every right-hand side before assigning any
                vals = [self.atom(self.expr(v.value, out), out, loc) for v in value.elements]
                vals = [self.snapshot(v, out, loc) for v in vals]
                for t, v in zip(elts, vals):
                    self.assign_to(t, v, out, loc)
            else:
                whole = self.atom(self.expr(value, out), out, loc)
                for i, t in enumerate(elts):
                    self.assign_to(t, Call("getitem", (whole, Const(i))), out, loc)
        elif isinstance(target, cst.Subscript):
            base, index = self.subscript_target(target, out)
            val = self.atom(self.expr(value, out), out, loc)
            out.append(SetItem(base, index, val, loc))
        elif isinstance(target, cst.Attribute):
            raise self.unsupported(target, "assignment to an attribute", "use local variables")
        else:
            raise self.unsupported(target, "this assignment target")

    def assign_to(self, target: cst.BaseExpression, value: Expr, out: list[Stmt], loc: Loc) -> None:
        if isinstance(target, cst.Name):
            self.emit_assign(target.value, value, out, loc)
        elif isinstance(target, cst.Subscript):
            base, index = self.subscript_target(target, out)
            out.append(SetItem(base, index, self.atom(value, out, loc), loc))
        elif isinstance(target, (cst.Tuple, cst.List)):
            whole = self.atom(value, out, loc)
            for i, el in enumerate(target.elements):
                self.assign_to(el.value, Call("getitem", (whole, Const(i))), out, loc)
        else:
            raise self.unsupported(target, "this assignment target")

    def snapshot(self, v: Expr, out: list[Stmt], loc: Loc) -> Expr:
        if isinstance(v, Name) and v.id in self.locals:
            t = self.tmp()
            out.append(Assign(t, v, loc))
            return Name(t)
        return v

    def emit_assign(self, target: str, value: Expr, out: list[Stmt], loc: Loc) -> None:
        """Assign, keeping the invariant that a statement never reads its own target.
        `x = x` binds nothing new: it is dropped (kept, its copy adjoint would first add
        x_bar into x_bar and then zero it, losing the adjoint)."""
        if isinstance(value, Name) and value.id == target:
            return
        if isinstance(value, Call) and target in set(names_in(value)):
            t = self.tmp()
            out.append(Assign(t, value, loc))
            value = Name(t)
        out.append(Assign(target, value, loc))

    def subscript_target(self, node: cst.Subscript, out: list[Stmt]) -> tuple[str, Expr]:
        if not isinstance(node.value, cst.Name) or node.value.value not in self.locals:
            raise self.unsupported(node, "assignment into something other than a local array",
                                   "copy it into a local first: u = u0.copy(); u[...] = ...")
        base = node.value.value
        index = self.index(node, out)
        # The backward sweep re-reads the index after the write: an index that
        # reads the array itself (u[u > 0] = ...) or computes a mask is evaluated once.
        parts = index.args if isinstance(index, Call) and index.op == "tuple" else (index,)
        loc = self.loc(node)
        hoisted = []
        for part in parts:
            if base in set(names_in(part)) or _computes(part):
                part = self.atom(part, out, loc, "idx")
            hoisted.append(part)
        index = Call("tuple", tuple(hoisted)) if isinstance(index, Call) and index.op == "tuple" else hoisted[0]
        return base, index

    def if_stmt(self, node: cst.If) -> list[Stmt]:
        out: list[Stmt] = []
        loc = self.loc(node)
        test = self.expr(node.test, out, nested=True)
        cond = self.tmp("cond")
        out.append(Assign(cond, test, loc))
        body = self.block(node.body.body)
        orelse: Block = ()
        if isinstance(node.orelse, cst.If):
            orelse = tuple(self.if_stmt(node.orelse))
        elif isinstance(node.orelse, cst.Else):
            orelse = self.block(node.orelse.body.body)
        out.append(If(Name(cond), body, orelse, loc))
        return out

    def for_stmt(self, node: cst.For) -> list[Stmt]:
        loc = self.loc(node)
        if node.orelse is not None:
            raise self.unsupported(node.orelse, "for ... else", "use a flag variable")
        if node.asynchronous is not None:
            raise self.unsupported(node, "async for")
        out: list[Stmt] = []
        it = node.iter
        targets = node.target
        prologue: list[tuple[cst.BaseExpression, Expr]] = []  # loop targets bound from the index
        call = it.func if isinstance(it, cst.Call) else None
        fname = _dotted(call) if call is not None else None
        if fname in ("enumerate", "zip") and self.resolve_callable(call) in (enumerate, zip):
            args = [a.value for a in it.args]
            if fname == "enumerate":
                if len(args) != 1 or not isinstance(targets, cst.Tuple) or len(targets.elements) != 2:
                    raise self.unsupported(it, "this form of enumerate", "use `for i, v in enumerate(seq):`")
                seq = self.loop_sequence(args[0], out, loc)
                index_target = targets.elements[0].value
                prologue.append((targets.elements[1].value, seq))
            else:
                if not isinstance(targets, cst.Tuple) or len(targets.elements) != len(args):
                    raise self.unsupported(it, "this form of zip", "unpack one target per sequence")
                seqs = [self.loop_sequence(a, out, loc) for a in args]
                index_target = None
                for t, s in zip(targets.elements, seqs):
                    prologue.append((t.value, s))
            lengths = [s for _, s in prologue]
            n = Call("len", (lengths[0],)) if len(lengths) == 1 else Call("min", tuple(Call("len", (s,)) for s in lengths))
            rng: Expr = Call("range", (n,))
        elif fname == "reversed" and self.resolve_callable(call) is reversed and len(it.args) == 1 \
                and isinstance(it.args[0].value, cst.Call) and _dotted(it.args[0].value.func) == "range" \
                and self.resolve_callable(it.args[0].value.func) is range:
            # `for i in reversed(range(...))`: the same range read backwards, range(...)[::-1]
            inner_args = tuple(self.expr(a.value, out, nested=True) for a in it.args[0].value.args)
            rng = Call("getitem", (Call("range", inner_args), Call("slice", (Const(None), Const(None), Const(-1)))))
            index_target = targets
        elif fname == "range" and self.resolve_callable(call) is range:
            if it.keywords if hasattr(it, "keywords") else False:
                raise self.unsupported(it, "keyword arguments to range")
            rng = Call("range", tuple(self.expr(a.value, out, nested=True) for a in it.args))
            index_target = targets
        else:
            seq = self.loop_sequence(it, out, loc)
            rng = Call("range", (Call("len", (seq,)),))
            index_target = None
            prologue.append((targets, seq))
        if index_target is not None and not isinstance(index_target, cst.Name):
            raise self.unsupported(index_target, "this loop target", "loop over range(...) with a plain name")
        rvar = self.tmp("range")
        out.append(Assign(rvar, rng, loc))
        ivar = index_target.value if index_target is not None else self.tmp("i")
        body: list[Stmt] = []
        if index_target is not None and self.bindings.get(ivar, 0) > 1:
            # the loop variable is also assigned elsewhere: the header binds a fresh index
            # (the reversed loop rebinds it) and the user's variable is an ordinary assignment
            body.append(Assign(ivar, Name(self.tmp("i")), loc))
            ivar = body[-1].value.id
        for t, seq in prologue:
            self.assign_to(t, Call("getitem", (seq, Name(ivar))), body, loc)
        self.loop_depth += 1
        inner = self.block(node.body.body)
        self.loop_depth -= 1
        out.append(For(ivar, Name(rvar), tuple(body) + inner, loc))
        return out

    def loop_sequence(self, node: cst.BaseExpression, out: list[Stmt], loc: Loc) -> Expr:
        e = self.expr(node, out)
        if isinstance(e, Call) and e.op == "range":
            raise self.unsupported(node, "iterating a range inside enumerate/zip",
                                   "loop over the index: for i in range(n)")
        return self.atom(e, out, loc)

    def while_stmt(self, node: cst.While) -> list[Stmt]:
        if node.orelse is not None:
            raise self.unsupported(node.orelse, "while ... else", "use a flag variable")
        pre: list[Stmt] = []
        test = self.expr(node.test, pre, nested=True)
        if pre:
            raise self.unsupported(node.test, "this loop condition")
        self.loop_depth += 1
        body = self.block(node.body.body)
        self.loop_depth -= 1
        return [While(test, body, self.loc(node))]

    # ------------------------------------------------------------ expressions
    def atom(self, e: Expr, out: list[Stmt], loc: Loc, hint: str = "t") -> Expr:
        if isinstance(e, (Name, Const)):
            return e
        t = self.tmp(hint)
        out.append(Assign(t, e, loc))
        return Name(t)

    def expr(self, node: cst.BaseExpression, out: list[Stmt], nested: bool = False,
             name_hint: str = "") -> Expr:
        """Lower an expression. In three-address mode (nested=False) the result is a
        Name, a Const or one Call over atoms, with temporaries emitted to `out`;
        in nested mode (conditions, indices) the whole tree is returned."""
        loc = self.loc(node)

        def sub(n: cst.BaseExpression) -> Expr:
            e = self.expr(n, out, nested)
            return e if nested else self.atom(e, out, loc)

        if isinstance(node, cst.Name):
            return self.read_name(node)
        if isinstance(node, (cst.Integer, cst.Float, cst.Imaginary)):
            return Const(node.evaluated_value)
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            return Const(node.evaluated_value)
        if isinstance(node, cst.BinaryOperation):
            op = BINOPS.get(type(node.operator))
            if op is None:
                raise self.unsupported(node, f"the operator {type(node.operator).__name__}")
            return Call(op, (sub(node.left), sub(node.right)))
        if isinstance(node, cst.UnaryOperation):
            op = UNOPS[type(node.operator)]
            operand = self.expr(node.expression, out, nested)
            if op == "neg" and isinstance(operand, Const) and isinstance(operand.value, (int, float, complex)) \
                    and not isinstance(operand.value, bool):
                return Const(-operand.value)
            if op == "pos" and isinstance(operand, Const):
                return operand
            return Call(op, (operand if nested else self.atom(operand, out, loc),))
        if isinstance(node, cst.Comparison):
            left = sub(node.left)
            result: Expr | None = None
            for c in node.comparisons:
                op = CMPOPS.get(type(c.operator))
                if op is None:
                    raise self.unsupported(node, "this comparison")
                right = sub(c.comparator)
                part = Call(op, (left, right))
                result = part if result is None else Call("and", (result, part))
                left = right
            return result if nested or len(node.comparisons) == 1 else self.atom(result, out, loc)
        if isinstance(node, cst.BooleanOperation):
            op = "and" if isinstance(node.operator, cst.And) else "or"
            return Call(op, (self.expr(node.left, out, True), self.expr(node.right, out, True)))
        if isinstance(node, cst.IfExp):
            if nested:
                return Call("ifexp", (self.expr(node.test, out, True), self.expr(node.body, out, True),
                                      self.expr(node.orelse, out, True)))
            return self.ifexp(node, out, loc, name_hint)
        if isinstance(node, (cst.Tuple, cst.List)):
            op = "tuple" if isinstance(node, cst.Tuple) else "list"
            if any(isinstance(el, cst.StarredElement) for el in node.elements):
                raise self.unsupported(node, "starred expressions")
            return Call(op, tuple(sub(el.value) for el in node.elements))
        if isinstance(node, cst.Subscript):
            base = sub(node.value)
            return Call("getitem", (base, self.index(node, out)))
        if isinstance(node, cst.Attribute):
            return self.attribute(node, out, nested)
        if isinstance(node, cst.Call):
            return self.call(node, out, nested)
        kind = {cst.Lambda: "lambda expressions", cst.ListComp: "list comprehensions",
                cst.GeneratorExp: "generator expressions", cst.DictComp: "dict comprehensions",
                cst.SetComp: "set comprehensions", cst.Dict: "dict literals", cst.Set: "set literals",
                cst.NamedExpr: "assignment expressions (:=)", cst.Yield: "yield",
                cst.Await: "await", cst.FormattedString: "f-strings"}.get(type(node), type(node).__name__)
        raise self.unsupported(node, kind)

    def ifexp(self, node: cst.IfExp, out: list[Stmt], loc: Loc, name_hint: str) -> Expr:
        test = self.expr(node.test, out, nested=True)
        cond = self.tmp("cond")
        out.append(Assign(cond, test, loc))
        result = self.tmp(name_hint or "t")
        body: list[Stmt] = []
        self.emit_assign(result, self.expr(node.body, body), body, loc)
        orelse: list[Stmt] = []
        self.emit_assign(result, self.expr(node.orelse, orelse), orelse, loc)
        out.append(If(Name(cond), tuple(body), tuple(orelse), loc))
        return Name(result)

    def index(self, node: cst.Subscript, out: list[Stmt]) -> Expr:
        parts: list[Expr] = []
        for el in node.slice:
            s = el.slice
            if isinstance(s, cst.Index):
                if s.star is not None:
                    raise self.unsupported(s, "starred index")
                parts.append(self.expr(s.value, out, nested=True))
            elif isinstance(s, cst.Slice):
                parts.append(Call("slice", tuple(
                    Const(None) if b is None else self.expr(b, out, nested=True)
                    for b in (s.lower, s.upper, s.step))))
            else:
                raise self.unsupported(s, "this index")
        if len(parts) == 1 and not (len(node.slice) == 1 and node.slice[0].comma not in (cst.MaybeSentinel.DEFAULT, None)):
            return parts[0]
        return Call("tuple", tuple(parts))

    def read_name(self, node: cst.Name) -> Expr:
        n = node.value
        if n in self.locals:
            return Name(n)
        if n in ("True", "False", "None"):
            return Const({"True": True, "False": False, "None": None}[n])
        if n in self.globals:
            v = self.globals[n]
            if isinstance(v, (bool, int, float, complex, str, np.ndarray, np.generic, tuple)) or v is None:
                self.globals_read[n] = v
                return Name(n)
            raise self.unsupported(node, f"reading the global {n!r} of type {type(v).__name__} as a value",
                                   "module-level numbers, arrays and tuples can be read; pass other objects as arguments")
        if hasattr(builtins, n):
            raise self.unsupported(node, f"the builtin {n!r} used as a value")
        raise UnsupportedSyntax(f"name {n!r} is not defined", self.loc(node))

    def resolve(self, node: cst.BaseExpression) -> Any:
        """The object a dotted name (`np.linalg.norm`, `math.pi`, `sin`) refers to, or a sentinel."""
        dotted = _dotted(node)
        if dotted is None:
            return _UNRESOLVED
        head, *rest = dotted.split(".")
        if head in self.locals:
            return _UNRESOLVED
        if head in self.globals:
            obj = self.globals[head]
        elif hasattr(builtins, head):
            obj = getattr(builtins, head)
        else:
            return _UNRESOLVED
        for part in rest:
            if not hasattr(obj, part):
                return _UNRESOLVED
            obj = getattr(obj, part)
        return obj

    def resolve_callable(self, node: cst.BaseExpression) -> Any:
        return self.resolve(node)

    def attribute(self, node: cst.Attribute, out: list[Stmt], nested: bool) -> Expr:
        obj = self.resolve(node)
        if obj is not _UNRESOLVED:
            if isinstance(obj, (int, float, complex, bool)) or obj is None:
                return Const(obj)
            if isinstance(obj, (np.ndarray, np.generic, tuple, str)):
                raise self.unsupported(node, "reading a module's array attribute",
                                       "bind it to a module-level name first")
            raise self.unsupported(node, f"using {_dotted(node)} as a value", "call it")
        base = self.expr(node.value, out, nested)
        if not nested:
            base = self.atom(base, out, self.loc(node))
        # array attributes (.T, .shape) have rules; on a parameter object or dataclass
        # it is a field read (checked against the argument's type by the type pass)
        return Call(f"attr:{node.attr.value}", (base,))

    def call(self, node: cst.Call, out: list[Stmt], nested: bool) -> Expr:
        loc = self.loc(node)

        def arg(a: cst.Arg) -> Expr:
            if a.star:
                raise self.unsupported(a, "*args/**kwargs in a call", "pass the arguments explicitly")
            e = self.expr(a.value, out, nested)
            return e if nested else self.atom(e, out, loc)

        args = tuple(arg(a) for a in node.args if a.keyword is None)
        kwargs = tuple((a.keyword.value, arg(a)) for a in node.args if a.keyword is not None)
        func = node.func
        if isinstance(func, cst.Name) and func.value in self.nested:
            return self.inline(self.nested[func.value], args, kwargs, out, node, nested)
        obj = self.resolve(func)
        if obj is _UNRESOLVED and isinstance(func, cst.Attribute):
            # a method call on a local value: x.sum(axis=0), x.copy(), x.reshape(...)
            name = func.attr.value
            receiver = self.expr(func.value, out, nested)
            if not nested:
                receiver = self.atom(receiver, out, loc)
            if name == "astype":
                raise self.unsupported(node, "x.astype(...)", "use np.asarray(x, dtype=...) or float(...)")
            target = ARRAY_METHODS.get(name)
            rule = rules.lookup_object(target) if target is not None else rules.lookup(f"method:{name}")
            if rule is None:
                if nested:
                    raise self.unsupported(node, f"a method call .{name}() inside a condition or index",
                                           "assign its result to a variable first")
                # a method of a user object: resolved from the argument's class by the type pass
                return Call(f"callmethod:{name}", (receiver,) + args, kwargs)
            if name in ("reshape", "transpose") and len(args) > 1:  # x.reshape(2, 3)
                args = (Call("tuple", args),)
            return self.bind_check(rule, (receiver,) + args, kwargs, node)
        if obj is _UNRESOLVED:
            raise self.unsupported(func, "calling this expression", "call functions by name")
        rule = rules.lookup_object(obj)
        name = _dotted(func)
        if rule is None:
            if isinstance(obj, pytypes.FunctionType) and _has_source(obj):
                return self.user_call(obj, name, args, kwargs, node, nested)
            raise NoAdjointRule(f"no derivative rule for {name!r}", loc,
                                f"register one with adjointc.defvjp({name}, ...) or mark it "
                                "with adjointc.nondiff (see the README, 'Custom rules')")
        if rule.refused is not None:   # (np.ma.*, complex): a located NoAdjointRule
            return self.bind_check(rule, args, kwargs, node)
        if not rule.op.startswith(("np.", "math.")) and rule.op not in BUILTIN_OPS:
            # a user-registered rule: call it the way the user spelled it
            head = name.split(".")[0]
            self.globals_read[head] = self.globals[head]
            rules.alias(name, rule)
            call = self.bind_check(rule, args, kwargs, node)
            return Call(name, call.args, call.kwargs)
        return self.bind_check(rule, args, kwargs, node)

    def user_call(self, fn: Callable, name: str, args: tuple, kwargs: tuple, node: cst.CSTNode,
                  nested: bool) -> Expr:
        """A call to a user function: its adjoint is compiled separately and called
        from the backward sweep (see passes/reverse.py)."""
        if fn.__code__.co_name == "<lambda>":  # (only a lambda passed to grad itself is read)
            raise self.unsupported(node, f"calling the lambda {name!r}", f"define {name} with def")
        if nested:
            raise self.unsupported(node, f"a call to the Python function {name!r} inside a condition or index",
                                   "assign its result to a variable first")
        sig = inspect.signature(fn)
        params = list(sig.parameters.values())
        if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
            raise self.unsupported(node, f"calling {name!r}, which takes *args/**kwargs",
                                   "give the helper explicit parameters")
        try:
            bound = sig.bind(*args, **dict(kwargs))
        except TypeError as e:
            raise UnsupportedSyntax(f"bad call to {name}: {e}", self.loc(node)) from None
        for p in params:
            if p.name not in bound.arguments and not (
                    isinstance(p.default, (int, float, bool, str)) or p.default is None):
                raise self.unsupported(node, f"relying on the non-literal default of {name}({p.name}=...)",
                                       f"pass {p.name} explicitly")
        head = name.split(".")[0]
        self.globals_read[head] = self.globals[head]
        self.callees[name] = fn
        return Call(f"call:{name}", args, kwargs)

    def inline(self, fdef: cst.FunctionDef, args: tuple, kwargs: tuple, out: list[Stmt],
               node: cst.CSTNode, nested: bool) -> Expr:
        """A call to a function defined inside the differentiated one: its body is
        inlined here (it may read the enclosing function's variables); its own
        variables are renamed `name_helper` so they never clash."""
        name = fdef.name.value
        loc = self.loc(node)
        if nested:
            raise self.unsupported(node, f"a call to the nested function {name!r} inside a condition or index",
                                   "assign its result to a variable first")
        if self.inline_depth > 20:
            raise self.unsupported(node, f"recursion of the nested function {name!r}",
                                   "define the recursive function at module level")
        p = fdef.params
        if p.star_kwarg is not None or isinstance(p.star_arg, cst.Param) or p.posonly_params:
            raise self.unsupported(fdef, "*args/**kwargs in a nested function", "list the parameters")
        params = list(p.params) + list(p.kwonly_params)
        bound: dict[str, Expr] = {}
        for prm, a in zip(p.params, args):
            bound[prm.name.value] = a
        if len(args) > len(p.params):
            raise UnsupportedSyntax(f"bad call to {name}: too many arguments", loc)
        for k, v in kwargs:
            if k in bound or k not in {q.name.value for q in params}:
                raise UnsupportedSyntax(f"bad call to {name}: argument {k!r}", loc)
            bound[k] = v
        for prm in params:
            if prm.name.value not in bound:
                if prm.default is None:
                    raise UnsupportedSyntax(f"bad call to {name}: missing argument {prm.name.value!r}", loc)
                bound[prm.name.value] = self.expr(prm.default, out, nested=True)
        collector = _Assigned()
        fdef.body.visit(collector)
        inner = collector.names | set(bound)
        sub = copy.copy(self)
        sub.locals = self.locals | inner
        sub.bindings = dict(collector.count)
        sub._result = None
        sub.inline_depth = self.inline_depth + 1
        body = sub.block(fdef.body.body)
        rets = [r.value for r in walk(body) if isinstance(r, Return)]
        if rets and all(isinstance(r, Name) and r == rets[0] and r.id in inner for r in rets):
            result = rets[0].id  # `return v` everywhere: v is the value (no copy, no alias)
        else:
            result = sub._result or self.namer.fresh(f"{name}_ret")
        if _returns_in_loop(body):
            flag = self.tmp("returned")
            body = (Assign(flag, Const(False)),) + _lower_loop_returns(body, result, flag, False)
        body = _returns_to_assign(body, result)
        mapping = {n: self.namer.exact(f"{n.lstrip('_')}_{name}") for n in sorted(inner | {result})
                   if not (n.startswith("_") and n != result)}
        for prm in params:
            pn, arg = prm.name.value, bound[prm.name.value]
            if isinstance(arg, Name) and pn not in collector.names:
                # a parameter the helper never rebinds *is* the caller's object (Python passes
                # references): `a[0] = ...` in the helper writes the caller's array. Read the
                # caller's name itself, not a copy of the reference (an alias the in-place
                # check would have to refuse).
                mapping[pn] = arg.id
        self.locals |= set(mapping.values()) | inner
        for prm in params:
            pn = prm.name.value
            if mapping.get(pn) != getattr(bound[pn], "id", None):
                out.append(Assign(mapping.get(pn, pn), bound[pn], loc))
        out.extend(rename(body, mapping))
        return Name(mapping.get(result, result))

    def bind_check(self, rule: rules.Rule, args: tuple, kwargs: tuple, node: cst.CSTNode) -> Expr:
        try:
            rule.bind(args, kwargs)
        except rules.Refused as e:
            raise NoAdjointRule(e.message, self.loc(node), e.hint) from None
        except TypeError as e:
            raise UnsupportedSyntax(f"bad call: {e}", self.loc(node)) from None
        return Call(rule.op, args, kwargs)


_UNRESOLVED = object()
BUILTIN_OPS = {"float", "int", "bool", "len", "range", "round", "abs", "max", "min", "sum", "print"}


def _has_source(fn: Callable) -> bool:
    """Is `fn` user code adjointc should transform? Library code (the standard
    library, site-packages) is opaque: it needs a rule."""
    try:
        inspect.getsourcelines(fn)
        path = os.path.realpath(inspect.getsourcefile(fn) or "")
    except (OSError, TypeError):
        return False
    return not any(path.startswith(root + os.sep) for root in _LIBRARY_ROOTS)


_LIBRARY_ROOTS = tuple({os.path.realpath(p) for p in (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"],
                                                        sysconfig.get_paths()["platlib"])})
_INT_OPS = {"slice", "add", "sub", "mul", "floordiv", "mod", "neg", "attr:shape", "getitem", "len"}


def _may_fall_through(b: Block) -> bool:
    """Can running `b` reach its end without a `return`? (The lowered block ends at a
    return, and statements after an `if` that jumps sit in its branches.) A loop may run
    zero times, except `while True` without a `break` of its own."""
    if not b:
        return True
    last = b[-1]
    if isinstance(last, Return):
        return False
    if isinstance(last, If):
        return _may_fall_through(last.body) or _may_fall_through(last.orelse)
    if isinstance(last, While) and last.test == Const(True):
        return _breaks(last.body)
    return True


def _breaks(b: Block) -> bool:
    """Does `b` (a loop body) break out of its own loop?"""
    for s in b:
        if isinstance(s, Break):
            return True
        if isinstance(s, If) and (_breaks(s.body) or _breaks(s.orelse)):
            return True
    return False


def _computes(e: Expr) -> bool:
    """Does an index part compute something beyond integer arithmetic (a mask, a call)?"""
    return isinstance(e, Call) and (e.op not in _INT_OPS or any(_computes(a) for a in e.args))


def _returns_in_loop(b: Block, in_loop: bool = False) -> bool:
    for s in b:
        if isinstance(s, Return) and in_loop:
            return True
        if isinstance(s, (For, While)) and _returns_in_loop(s.body, True):
            return True
        if isinstance(s, If) and (_returns_in_loop(s.body, in_loop) or _returns_in_loop(s.orelse, in_loop)):
            return True
    return False


def _lower_loop_returns(b: Block, result: str, flag: str, in_loop: bool, direct: bool = True) -> Block:
    """`return v` inside a loop -> `result = v; flag = True; break`; after the loop,
    the rest of the block runs only if not flag, and the enclosing loop stops too.

    `direct`: `b` is a loop body itself, not a branch inside one. Only there does a
    returned flag become a `break` (`if flag: break` else the rest): a break must end
    its trip's statements so the backward sweep never replays what it skipped (the
    structure `block` gives a user's `break`). Deeper, the rest of the branch is skipped
    (`if not flag: ...`) and the enclosing loop body's own check breaks."""
    out: list[Stmt] = []

    def stop(rest: Block, loc: Loc) -> list[Stmt]:
        if not in_loop:
            return [If(Name(flag), (Return(Name(result), loc),), rest, loc)]
        if direct:
            return [If(Name(flag), (Break(loc),), rest, loc)]
        return [If(Name(flag), (), rest, loc)] if rest else []

    for i, s in enumerate(b):
        if isinstance(s, Return) and in_loop:
            if s.value != Name(result):
                out.append(Assign(result, s.value, s.loc))
            out += [Assign(flag, Const(True), s.loc), Break(s.loc)]
            return tuple(out)
        if isinstance(s, If):
            out.append(If(s.test, _lower_loop_returns(s.body, result, flag, in_loop, False),
                          _lower_loop_returns(s.orelse, result, flag, in_loop, False), s.loc))
            if _returns_in_loop(s.body) or _returns_in_loop(s.orelse):
                # a loop inside this `if` can return: as after a loop, the rest of the
                # block runs only if it did not
                rest = _lower_loop_returns(b[i + 1:], result, flag, in_loop, direct)
                if rest or (in_loop and direct):
                    out += stop(rest, s.loc)
                return tuple(out)
            continue
        if isinstance(s, (For, While)) and _returns_in_loop(s.body, True):
            body = _lower_loop_returns(s.body, result, flag, True, True)
            out.append(For(s.target, s.iter, body, s.loc) if isinstance(s, For) else While(s.test, body, s.loc))
            rest = _lower_loop_returns(b[i + 1:], result, flag, in_loop, direct)
            out += stop(rest, s.loc)
            return tuple(out)
        out.append(s)
    return tuple(out)


def _returns_to_assign(b: Block, result: str) -> Block:
    """An inlined body's `return v` (at the end of a branch) becomes `result = v`."""
    out: list[Stmt] = []
    for s in b:
        if isinstance(s, Return):
            if s.value != Name(result):
                out.append(Assign(result, s.value, s.loc))
            break
        if isinstance(s, If):
            s = If(s.test, _returns_to_assign(s.body, result), _returns_to_assign(s.orelse, result), s.loc)
        elif isinstance(s, For):
            s = For(s.target, s.iter, _returns_to_assign(s.body, result), s.loc)
        elif isinstance(s, While):
            s = While(s.test, _returns_to_assign(s.body, result), s.loc)
        out.append(s)
    return tuple(out)


def _jumps(s: Stmt) -> bool:
    """Does this statement (an If) contain a break/continue/return on some path?"""
    if isinstance(s, (Break, Continue, Return)):
        return True
    if isinstance(s, If):
        return any(_jumps(x) for x in s.body) or any(_jumps(x) for x in s.orelse)
    return False


def _append_fallthrough(s: If, rest: Block) -> If:
    """Append `rest` to every path through `s` that does not jump."""
    def extend(b: Block) -> Block:
        if b and isinstance(b[-1], (Break, Continue, Return)):
            return b
        if b and isinstance(b[-1], If) and _jumps(b[-1]):
            return b[:-1] + (_append_fallthrough(b[-1], rest),)
        return b + rest
    return If(s.test, extend(s.body), extend(s.orelse), s.loc)


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


@functools.lru_cache(maxsize=8)
def _parsed_lambdas(src: str) -> tuple[Any, tuple[cst.Lambda, ...]]:
    """The positions of a file's nodes and its lambdas (a file holding several lambdas
    is parsed once)."""
    wrapper = MetadataWrapper(cst.parse_module(src))

    class Lambdas(cst.CSTVisitor):
        def __init__(self) -> None:
            self.found: list[cst.Lambda] = []

        def visit_Lambda(self, node: cst.Lambda) -> None:
            self.found.append(node)
    finder = Lambdas()
    wrapper.module.visit(finder)
    return wrapper.resolve(PositionProvider), tuple(finder.found)


def _lower_lambda(fn: Callable) -> Lowered:
    """A lambda, lowered as `def <name>(params): return <body>`. Its source is found in
    its file's parse tree: the lambda on its first line with its parameters whose body
    spans the positions of its code's instructions (several lambdas can share a line)."""
    import collections
    import linecache
    code = fn.__code__
    file = code.co_filename
    src = "".join(linecache.getlines(file, fn.__globals__))
    where = Loc(file, code.co_firstlineno, 0, linecache.getline(file, code.co_firstlineno).rstrip("\n"))
    if not src:
        raise UnsupportedSyntax(f"cannot read the source of the lambda at {file}:{code.co_firstlineno}", where,
                                "adjointc needs functions defined in a .py file (or a notebook cell)")
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
    lw = Lowerer(fn, src, 1, file, 0)
    lw.positions = collections.ChainMap({ret: positions[lam], fdef: positions[lam]}, positions)
    lowered = lw.lower_function(fdef)
    start, end = positions[lam].start.line, positions[lam].end.line
    lowered.function = dataclasses.replace(lowered.function, line=start)
    lowered.source = "\n".join(lines[start - 1:end]) + "\n"
    return lowered


def lower(fn: Callable) -> Lowered:
    """Read the source of `fn` and lower it to IR.

    The source is the def of `fn`'s own code object: a `functools.wraps` wrapper is
    read as written, never replaced by its `__wrapped__` (which it may scale, shift or
    call on other arguments). A method is read as its function; an lru_cache wrapper
    as the function it memoises (see api._entry)."""
    while not isinstance(fn, pytypes.FunctionType):
        if isinstance(fn, pytypes.MethodType):
            fn = fn.__func__
        elif type(fn).__name__ == "_lru_cache_wrapper" and hasattr(fn, "__wrapped__"):
            fn = fn.__wrapped__
        else:
            break
    refuse_def_form(fn)
    if fn.__code__.co_name == "<lambda>":
        return _lower_lambda(fn)
    try:
        lines, first = inspect.getsourcelines(fn.__code__)
        file = inspect.getsourcefile(fn.__code__) or "<unknown>"
    except (OSError, TypeError, AttributeError) as e:
        raise UnsupportedSyntax(f"cannot read the source of {getattr(fn, '__name__', fn)!r}: {e}",
                                hint="adjointc needs functions defined in a .py file (or a notebook cell)") from None
    raw = "".join(lines)
    src = textwrap.dedent(raw)
    col_offset = len(lines[0]) - len(lines[0].lstrip()) if lines else 0
    try:
        module = cst.parse_module(src)
    except cst.ParserSyntaxError as e:
        raise UnsupportedSyntax(f"cannot parse the source of {fn.__name__}: {e}", def_loc(fn)) from None
    wrapper = MetadataWrapper(module)
    defs = [n for n in wrapper.module.body if isinstance(n, cst.FunctionDef)]
    defs = [n for n in defs if n.name.value == fn.__code__.co_name] or defs
    if not defs:
        raise UnsupportedSyntax(f"cannot find the def of {fn.__qualname__} in its source", def_loc(fn),
                                "define the function with a def statement")
    lw = Lowerer(fn, src, first, file, col_offset)
    lw.positions = wrapper.resolve(PositionProvider)
    node = defs[0]
    lowered = lw.lower_function(node)
    lowered.source = src
    return lowered
