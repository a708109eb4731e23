"""libcst -> IR lowering of statements (the `Lowerer`), and `lower`/`lower_raw`.

See the package docstring (adjointc/frontend/__init__.py) for what lowering does.
"""
from __future__ import annotations

import builtins
import dataclasses
import inspect
import types as pytypes
from dataclasses import dataclass, field
from typing import Any, Callable

import libcst as cst
import numpy as np

from .. import rules

from . import source
from ..errors import UnsupportedSyntax
from .comprehensions import Comprehensions
from .expressions import dotted, operator_nodes
from ..ir import (Assign, Block, Break, Call, Const, Continue, Expr, ExprStmt, For,
                 Function, If, Loc, Name, Param, Return, SetItem, Stmt, While,
                 NO_DEFAULT, names_in)
from ..names import Namer
from ..passes import normalize as N
from .nested import NestedDefs
from .resolve import _UNRESOLVED, ARRAY_METHODS, BoundNames, Resolver
from .sugar import LIST_METHODS, Sugar
# (api, check and reach read these as frontend.X; they live in source.py)
from .source import _LIBRARY_ROOTS, def_loc, has_source, refuse_def_form  # noqa: F401


@dataclass
class Lowered:
    """The frontend's product: the IR plus what it learnt about names."""
    function: Function
    globals_read: dict[str, Any] = field(default_factory=dict)   # constant name -> current value
    param_names: tuple[str, ...] = ()
    source: str = ""
    result: str | None = "result"  # the variable holding the returned value (None: none made yet)
    user_names: set[str] = field(default_factory=set)  # parameters and locals the user wrote
    callees: dict[str, Any] = field(default_factory=dict)  # "rhs" -> the user function it calls
    temporaries: set[str] = field(default_factory=set)  # names made for one statement's values (_t3, _cond2)
    fresh: dict[str, str] = field(default_factory=dict)  # every name the namer made -> its hint (_idx2: idx)
    renamed: dict[str, str] = field(default_factory=dict)  # user name -> name in generated code
    synthetic: dict[str, Any] = field(default_factory=dict)  # name -> spelling of a function value (funcvals.py)
    no_return: Loc | None = None  # the function has no return statement (it returns None)
    falls_through: Loc | None = None  # some path reaches the end of the body (returning None)
    # ---- the stages: `lower_raw` gives the IR as lowered (`raw` None); `lower` gives it
    # normalised (passes/normalize.finish), `raw` the stage it came from
    namer: Namer | None = None  # the names taken so far (normalize makes more: a copy of it)
    where: Loc | None = None    # the def (normalize reports falling through there)
    raw: "Lowered | None" = None


class Lowerer(Comprehensions, Sugar, NestedDefs, Resolver):
    """Lowers one function's def (see the module docstring); `lower_function` is the entry."""

    def __init__(self, fn: Callable, src: str, first_line: int, file: str, col_offset: int):
        super().__init__(fn, src, first_line, file, col_offset)
        self._result: str | None = None
        self.bindings: dict[str, int] = {}
        self.defaults: dict[int, tuple[cst.FunctionDef, dict[str, Expr]]] = {}
        self.ambiguous: dict[str, str] = {}

    def result_name(self) -> str:
        if self._result is None:
            self._result = self.namer.exact("result")
        return self._result

    # ------------------------------------------------------------ entry point
    def lower_function(self, node: cst.FunctionDef) -> Lowered:
        self.fn_node = node
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
        collector = BoundNames(node.body)
        for name in self.statics:
            if name in collector.names:
                raise UnsupportedSyntax(f"{self.fn.__qualname__} assigns to its parameter {name!r}, a function "
                                        "value it is specialised on", self.loc(node),
                                        "use another name for the new value")
        self.locals = collector.names | {q.name for q in params if q.name not in self.statics}
        self.write_backs: list[Stmt] = []  # (subscript_target's, of a nested write target)
        self.own_lists = collector.names - {q.name for q in params}  # (what `.pop()` may be called on)
        self.bindings = dict(collector.count)
        for q in params:
            self.bindings[q.name] = self.bindings.get(q.name, 0) + 1
        self.namer = Namer(self.locals | set(self.globals) | set(dir(builtins)))
        body = self.block(node.body.body)
        # named as the caller knows it: a functools.wraps wrapper `w` of `f` is `f`
        name = self.fn.__name__ if self.fn.__name__.isidentifier() else node.name.value
        return Lowered(Function(name, tuple(params), body, self.file, self.first_line), self.globals_read,
                       tuple(q.name for q in params), result=self._result, user_names=set(self.locals),
                       callees=dict(self.callees), temporaries=set(self.namer.temporaries),
                       fresh=dict(self.namer.made), namer=self.namer, where=self.loc(node),
                       synthetic=dict(self.synthetic))

    # -------------------------------------------------------------- statements
    def block(self, stmts) -> Block:
        """The statements, lowered in order up to the first that ends in a jump (what
        follows never runs, and is not lowered). Structuring is normalize.structure's."""
        out: list[Stmt] = []
        for s in stmts:
            out.extend(self.stmt(s))
            if out and isinstance(out[-1], (Return, Break, Continue)):
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
                if out and isinstance(out[-1], (Return, Break, Continue)):
                    break  # (`break; x = 1`: what follows never runs)
            return out
        if isinstance(node, cst.If):
            return self.if_stmt(node)
        if isinstance(node, cst.For):
            return self.for_stmt(node)
        if isinstance(node, cst.While):
            return self.while_stmt(node)
        if isinstance(node, cst.FunctionDef) and not node.decorators and node.asynchronous is None:
            return self.define(node.name.value, node, node, self.loc(node))  # inlined where it is called
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
            op = operator_nodes()["augmented"].get(type(node.operator))
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
                out.append(SetItem(base, index, Name(new), loc, aug=True))
                self.stored(out)
                return out
            raise self.unsupported(node.target, "this augmented-assignment target")
        if isinstance(node, cst.Return):
            if node.value is None:
                raise self.unsupported(node, "a bare return", "return the value to differentiate")
            val = self.expr(node.value, out, name_hint="result")
            if not isinstance(val, Name) or val.id not in self.locals:
                if not isinstance(val, Name) or val.id not in self.namer.made:  # (a temporary: the value)
                    res = self.result_name()
                    self.emit_assign(res, val, out, loc)
                    val = Name(res)
            out.append(Return(val, loc))
            return out
        if isinstance(node, cst.Expr):
            v = node.value
            if isinstance(v, (cst.SimpleString, cst.ConcatenatedString)):  # docstring
                return []
            if isinstance(v, cst.Call) and isinstance(v.func, cst.Attribute) and isinstance(v.func.value, cst.Name) \
                    and v.func.attr.value in LIST_METHODS and v.func.value.value in self.own_lists \
                    and (v.func.attr.value != "pop" or v.args):  # (a bare `vals.pop()`: below)
                return self.list_method(v, loc)  # L.extend(M), L.insert(i, v), L.pop(i), L.reverse() (sugar.py)
            if isinstance(v, cst.Call) and isinstance(v.func, cst.Attribute) and v.func.attr.value == "append" \
                    and isinstance(v.func.value, cst.Name) and v.func.value.value in self.locals:
                if len(v.args) != 1 or v.args[0].keyword is not None or v.args[0].star:
                    raise self.unsupported(node, "this form of list.append", "append one value")
                item = self.atom(self.expr(v.args[0].value, out), out, loc)
                out.append(ExprStmt(Call("method:append", (Name(v.func.value.value), item)), loc))
                return out
            if isinstance(v, cst.Call) and isinstance(v.func, cst.Attribute) and v.func.attr.value == "pop" \
                    and not v.args and isinstance(v.func.value, cst.Name) and v.func.value.value in self.own_lists:
                # `vals.pop()` (generated code undoing an append): a pop into an unused temporary
                out.append(Assign(self.tmp(), Call("method:pop", (Name(v.func.value.value),)), loc))
                return out
            if isinstance(v, cst.Call):
                obj = self.resolve(v.func)
                if getattr(obj, "__self__", None) is np.add and getattr(obj, "__name__", "") == "at":
                    return self.add_at(node, v, loc)
                rule = rules.lookup_object(obj) if obj is not _UNRESOLVED else None
                if rule is not None and rule.nondiff:  # print(...), a diagnostic: runs in the forward sweep
                    e = self.expr(v, out)
                    out.append(ExprStmt(e, loc))
                    return out
                nested = isinstance(v.func, cst.Name) and v.func.value in self.nested
                user = rule is None and (nested or (isinstance(obj, pytypes.FunctionType) and has_source(obj))
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
        if isinstance(node, cst.Assert):
            return self.assert_stmt(node)
        kind = {cst.Global: "global statements", cst.Nonlocal: "nonlocal statements",
                cst.Del: "del statements",
                cst.Import: "imports inside the function", cst.ImportFrom: "imports inside the function",
                cst.Raise: "raise statements"}.get(type(node), type(node).__name__)
        raise self.unsupported(node, kind)

    def assign(self, target: cst.BaseExpression, value: cst.BaseExpression, out: list[Stmt], loc: Loc) -> None:
        if isinstance(value, cst.Lambda):
            # `f = lambda v: ...`: a nested def by another spelling (inlined where it is called)
            if not isinstance(target, cst.Name) or self.bindings.get(target.value, 0) != 1:
                raise self.unsupported(value, "a lambda assigned to a name that is assigned more than once",
                                       "bind each lambda to its own name, once (or use def)")
            out.extend(self.define(target.value, self.lambda_def(value, target.value), value, loc))
            return
        if isinstance(target, cst.Name):
            e = self.expr(value, out, name_hint=target.value)
            self.emit_assign(target.value, e, out, loc)
        elif isinstance(target, (cst.Tuple, cst.List)):
            elts = [el.value for el in target.elements]
            if any(isinstance(el, cst.StarredElement) for el in target.elements):
                return self.starred_assign(target, value, out, loc)  # (sugar.py)
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
            self.stored(out)
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
            self.stored(out)
        elif isinstance(target, (cst.Tuple, cst.List)):
            whole = self.atom(value, out, loc)
            if any(isinstance(el, cst.StarredElement) for el in target.elements):
                return self.starred_assign(target, whole, out, loc)  # (sugar.py)
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

    def add_at(self, node: cst.Expr, v: cst.Call, loc: Loc) -> list[Stmt]:
        """`np.add.at(a, index, v)` (v added at index, repeated indices accumulating; first-order
        adjoints emit it for fancy-index reads) as `_t = add_at(a, index, v); a[:] = _t`: the
        functional helper has a rule (rules/generated_reductions.py), and the write stays in
        place, so views of a see it as they see np.add.at's."""
        args = v.args
        if len(args) != 3 or any(a.keyword is not None or a.star for a in args) \
                or not isinstance(args[0].value, cst.Name) or args[0].value.value not in self.locals:
            raise self.unsupported(node, "this form of np.add.at",
                                   "np.add.at(a, index, values) with a a local array: copy it first, a = a0.copy()")
        out: list[Stmt] = []
        base = args[0].value.value
        index = self.atom(self.expr(args[1].value, out), out, loc, "idx")
        val = self.atom(self.expr(args[2].value, out), out, loc)
        t = self.tmp()
        out.append(Assign(t, Call("add_at", (Name(base), index, val)), loc))
        out.append(SetItem(base, Call("slice", (Const(None), Const(None), Const(None))), Name(t), loc))
        return out

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
        """The (base, index) a write `base[index] = ...` stores into. `d[k][i] = v` (an
        element of something a local holds) is `_held = d[k]; _held[i] = v; d[k] = _held`:
        the write-back (`self.write_backs`, emitted by `stored`) replaces the entry, so the
        passes see the container change by value; the alias check knows the pattern."""
        if isinstance(node.value, cst.Subscript):
            outer, key = self.subscript_target(node.value, out)
            loc = self.loc(node)
            held = self.tmp("held")
            out.append(Assign(held, Call("getitem", (Name(outer), key)), loc))
            self.write_backs.append(SetItem(outer, key, Name(held), loc))
            return held, self._target_index(node, held, out)
        if not isinstance(node.value, cst.Name) or node.value.value not in self.locals:
            raise self.unsupported(node, "assignment into something other than a local array",
                                   "copy it into a local first: u = u0.copy(); u[...] = ...")
        return node.value.value, self._target_index(node, node.value.value, out)

    def stored(self, out: list[Stmt]) -> None:
        """Emit the write-backs of the nested targets of the write just emitted, innermost first."""
        while self.write_backs:
            out.append(self.write_backs.pop())

    def _target_index(self, node: cst.Subscript, base: str, out: list[Stmt]) -> Expr:
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
        return Call("tuple", tuple(hoisted)) if isinstance(index, Call) and index.op == "tuple" else hoisted[0]

    def if_stmt(self, node: cst.If) -> list[Stmt]:
        out: list[Stmt] = []
        loc = self.loc(node)
        test = self.expr(node.test, out, nested=True)
        cond = self.tmp("cond")
        out.append(Assign(cond, test, loc))
        before = dict(self.nested)
        body = self.block(node.body.body)
        after_body, self.nested = self.nested, dict(before)
        orelse: Block = ()
        if isinstance(node.orelse, cst.If):
            orelse = tuple(self.if_stmt(node.orelse))
        elif isinstance(node.orelse, cst.Else):
            orelse = self.block(node.orelse.body.body)
        self.merge_defs(after_body, body, orelse, loc)
        out.append(If(Name(cond), body, orelse, loc))
        return out

    def for_stmt(self, node: cst.For) -> list[Stmt]:
        loc = self.loc(node)
        if node.asynchronous is not None:
            raise self.unsupported(node, "async for")
        out: list[Stmt] = []
        it = node.iter
        targets = node.target
        prologue: list[tuple[cst.BaseExpression, Expr]] = []  # loop targets bound from the index
        call = it.func if isinstance(it, cst.Call) else None
        fname = dotted(call) if call is not None else None
        if fname in ("enumerate", "zip") and self.resolve(call) in (enumerate, zip):
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
        elif fname == "reversed" and self.resolve(call) is reversed and len(it.args) == 1 \
                and isinstance(it.args[0].value, cst.Call) and dotted(it.args[0].value.func) == "range" \
                and self.resolve(it.args[0].value.func) is range:
            # `for i in reversed(range(...))`: the same range read backwards, range(...)[::-1]
            inner_args = tuple(self.expr(a.value, out, nested=True) for a in it.args[0].value.args)
            rng = Call("getitem", (Call("range", inner_args), Call("slice", (Const(None), Const(None), Const(-1)))))
            index_target = targets
        elif fname == "range" and self.resolve(call) is range:
            if it.keywords if hasattr(it, "keywords") else False:
                raise self.unsupported(it, "keyword arguments to range")
            rng = Call("range", tuple(self.expr(a.value, out, nested=True) for a in it.args))
            index_target = targets
        elif fname == "reversed" and self.resolve(call) is reversed and len(it.args) == 1:
            # `for v in reversed(seq)` (generated adjoints: `reversed(_range1)`): seq's elements
            # read by index, the index running backwards (a range, list, tuple or array)
            seq = self.loop_sequence(it.args[0].value, out, loc)
            rng = Call("getitem", (Call("range", (Call("len", (seq,)),)),
                                   Call("slice", (Const(None), Const(None), Const(-1)))))
            index_target = None
            prologue.append((targets, seq))
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
        before = dict(self.nested)
        inner = self.block(node.body.body)
        self.loop_defs(before)
        out.append(For(ivar, Name(rvar), tuple(body) + inner, loc))
        if node.orelse is not None:  # (sugar.py: a flag says whether a break ran)
            out[-1:] = self.loop_else(out[-1], node.orelse, loc)
        return out

    def loop_sequence(self, node: cst.BaseExpression, out: list[Stmt], loc: Loc) -> Expr:
        e = self.iterable(node, out)  # (a dict's keys: comprehensions.py)
        if isinstance(e, Call) and e.op == "range":
            raise self.unsupported(node, "iterating a range inside enumerate/zip",
                                   "loop over the index: for i in range(n)")
        return self.atom(e, out, loc)

    def while_stmt(self, node: cst.While) -> list[Stmt]:
        pre: list[Stmt] = []
        test = self.expr(node.test, pre, nested=True)
        if pre:
            raise self.unsupported(node.test, "this loop condition")
        before = dict(self.nested)
        body = self.block(node.body.body)
        self.loop_defs(before)
        loop = While(test, body, self.loc(node))
        return [loop] if node.orelse is None else self.loop_else(loop, node.orelse, self.loc(node))

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


_INT_OPS = {"slice", "add", "sub", "mul", "floordiv", "mod", "neg", "attr:shape", "getitem", "len"}


def _computes(e: Expr) -> bool:
    """Does an index part compute something beyond integer arithmetic (a mask, a call)?"""
    return isinstance(e, Call) and (e.op not in _INT_OPS or any(_computes(a) for a in e.args))


def lower(fn: Callable) -> Lowered:
    """`lower_raw(fn)`, normalised (passes/normalize.finish: what the pipeline's
    `lower` and `normalize` passes do; api.Gradient memoises it)."""
    return N.finish(lower_raw(fn))


def lower_raw(fn: Callable) -> Lowered:
    """Read the source of `fn` and lower it to IR, as written (not yet normalised).

    The source is the def of `fn`'s own code object: a `functools.wraps` wrapper is
    read as written, never replaced by its `__wrapped__` (which it may scale, shift or
    call on other arguments). A method is read as its function; an lru_cache wrapper
    as the function it memoises (see entry.resolve). A lambda is lowered as
    `def <name>(params): return <body>`."""
    fn = source.unwrap(fn)
    refuse_def_form(fn)
    src = source.read(fn)
    lw = Lowerer(fn, src.text, src.first_line, src.file, src.col_offset)
    lw.positions = src.positions
    lowered = lw.lower_function(src.node)
    if src.line is not None:
        lowered.function = dataclasses.replace(lowered.function, line=src.line)
    lowered.source = src.shown
    return lowered
