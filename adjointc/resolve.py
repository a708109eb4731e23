"""Name resolution for the frontend: what each name in a user function means.

`Resolver` is the frontend's expression lowering (expressions.ExprLowerer) with
Python's scoping applied to the function being lowered:

* a parameter or local (any name the body binds) is a variable, `Name(x)`;
* `True`/`False`/`None` and module attributes holding numbers are constants;
* a module global or closure cell holding a number, an array, a tuple or a string
  is an inactive constant read at call time (`globals_read` records it);
* a call resolves to a derivative rule (bound against its signature, checked
  here: a located `NoAdjointRule` or `UnsupportedSyntax` otherwise), a user
  function with source (`call:NAME`, compiled separately: `callees` records it),
  a nested def (inlined, frontend.py), or a method: an array method means its
  NumPy function (`x.sum(0)` is `np.sum(x, 0)`), another a user object's method
  (`callmethod:NAME`, resolved from the argument's class by the type pass).

`BoundNames` applies Python's local-variable rule: the names a body binds.

In three-address mode calls take atoms (see expressions.py).
"""
from __future__ import annotations

import builtins
import inspect
import types as pytypes
from typing import Any, Callable

import libcst as cst
import numpy as np

from . import rules
from .errors import NoAdjointRule, UnsupportedSyntax
from .expressions import ExprLowerer, dotted
from .ir import Call, Const, Expr, Loc, Name, Stmt
from .names import Namer
from .source import has_source

# Array methods and the NumPy function each one means (`x.sum(0)` is `np.sum(x, 0)`).
ARRAY_METHODS = {m: getattr(np, m) for m in (
    "sum", "mean", "prod", "max", "min", "std", "var", "reshape", "transpose", "ravel",
    "squeeze", "cumsum", "cumprod", "clip", "dot", "trace", "diagonal", "round", "repeat",
    "argmax", "argmin", "argsort", "any", "all", "conj", "nonzero", "swapaxes")}
ARRAY_METHODS.update(flatten=np.ravel, copy=np.copy, conjugate=np.conj, astype=None)

SUPPORTED = ("assignments (=, +=, tuple unpacking), arithmetic, comparisons, indexing and "
             "slicing, calls to math/numpy functions, for/while loops, if/elif/else, "
             "break/continue, return")


class BoundNames:
    """Every name bound in a function body (Python's local-variable rule): targets of
    assignments and for loops, at any depth of statements (nested defs' too). A walk
    over statements only: a libcst visitor would visit every expression node, which
    dominated the lowering of long functions."""

    def __init__(self, body: cst.BaseSuite) -> None:
        self.names: set[str] = set()
        self.count: dict[str, int] = {}  # binding sites per name
        self._suite(body)

    def _targets(self, t: cst.BaseExpression) -> None:
        if isinstance(t, cst.Name):
            self.names.add(t.value)
            self.count[t.value] = self.count.get(t.value, 0) + 1
        elif isinstance(t, (cst.Tuple, cst.List)):
            for e in t.elements:
                self._targets(e.value)

    def _suite(self, suite: Any) -> None:
        for s in getattr(suite, "body", ()):
            self._stmt(s)

    def _stmt(self, s: cst.CSTNode) -> None:
        if isinstance(s, cst.SimpleStatementLine):
            for small in s.body:
                self._stmt(small)
        elif isinstance(s, cst.Assign):
            for t in s.targets:
                self._targets(t.target)
        elif isinstance(s, (cst.AugAssign, cst.AnnAssign)):
            self._targets(s.target)
        elif isinstance(s, cst.If):
            self._suite(s.body)
            if isinstance(s.orelse, cst.If):
                self._stmt(s.orelse)
            elif s.orelse is not None:
                self._suite(s.orelse.body)
        elif isinstance(s, cst.BaseCompoundStatement):
            # for, while, nested def, and what the lowering refuses (class, try, with, match)
            if isinstance(s, cst.For):
                self._targets(s.target)
            for part in ("body", "orelse", "finalbody"):
                sub = getattr(s, part, None)
                self._suite(getattr(sub, "body", None) if isinstance(sub, (cst.Else, cst.Finally)) else sub)
            for h in getattr(s, "handlers", ()):
                self._suite(h.body)
            for case in getattr(s, "cases", ()):
                self._suite(case.body)


_UNRESOLVED = object()
BUILTIN_OPS = {"float", "int", "bool", "len", "range", "round", "abs", "max", "min", "sum", "print"}


class Resolver(ExprLowerer):
    """Expression lowering inside one user function (see the module docstring)."""

    def __init__(self, fn: Callable, src: str, first_line: int, file: str, col_offset: int):
        self.fn = fn
        self.file = file  # (positions are relative to `src`, whose line 1 is the file's first_line)
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
        self.nested: dict[str, cst.FunctionDef] = {}  # nested defs, inlined at their calls
        self.inline_depth = 0

    # ------------------------------------------------------------- utilities
    def loc(self, node: cst.CSTNode) -> Loc:
        p = self.positions.get(node)
        if p is None:
            return Loc(self.file, self.first_line)
        line, column = p
        text = self.src_lines[line - 1] if 0 < line <= len(self.src_lines) else ""
        return Loc(self.file, self.first_line + line - 1, column + self.col_offset,
                   " " * self.col_offset + text)

    def unsupported(self, node: cst.CSTNode, what: str, hint: str = "") -> UnsupportedSyntax:
        return UnsupportedSyntax(f"adjointc does not support {what}", self.loc(node),
                                 hint or f"supported: {SUPPORTED}")

    def tmp(self, hint: str = "t") -> str:
        return self.namer.fresh(hint)

    def ellipsis(self, node: cst.Ellipsis) -> Expr:
        raise self.unsupported(node, "Ellipsis")  # (not in user code yet)

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
        path = dotted(node)
        if path is None:
            return _UNRESOLVED
        head, *rest = path.split(".")
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
            raise self.unsupported(node, f"using {dotted(node)} as a value", "call it")
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
            if name == "pop" and not (not args and not kwargs and isinstance(receiver, Name)
                                      and receiver.id in getattr(self, "own_lists", ())):
                raise self.unsupported(node, "this .pop()", "pop the last element of a list the function "
                                       "builds itself: `v = vals.pop()` (not of a parameter)")
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
        if obj is _UNRESOLVED and isinstance(func, cst.Call):
            made = self.gradient_expression(func)
            if made is not None:  # `grad(f)(w)`, `grad(f, wrt=1)(x, y)`: see adjointc/higher.py
                return self.user_call(made[1], made[0], args, kwargs, node, nested)
        if obj is _UNRESOLVED:
            raise self.unsupported(func, "calling this expression", "call functions by name")
        rule = rules.lookup_object(obj)
        name = dotted(func)
        if rule is None:
            if getattr(type(obj), "__adjointc_gradient__", False) is True:
                # a Gradient (`g = grad(f)(w)`): a call of generated code, see adjointc/higher.py
                return self.user_call(obj, name, args, kwargs, node, nested)
            if getattr(type(obj), "__adjointc_callee_adjoint__", False) is True:
                # generated code's `h_vjp(seed, ...)`: the callee's adjoint as a def (higher.py)
                from .higher import vjp_function
                fn = vjp_function(obj)
                self.user_call(fn, name, args, kwargs, node, nested)
                self.globals_read[name.split(".")[0]] = obj
                return Call(f"call:{name}", args, kwargs)
            if getattr(obj, "__module__", "").partition(".")[0] == "adjointc":
                # (a runtime helper of generated code being differentiated again: never its source)
                raise NoAdjointRule(f"differentiating generated code that calls adjointc's helper {name!r} "
                                    "is not supported yet (it has no rule of its own)", loc,
                                    "higher-order derivatives cover the helpers in adjointc/rules/generated.py; "
                                    "differentiate a first-derivative function written by hand, or use finite "
                                    "differences of the gradient")
            if isinstance(obj, pytypes.FunctionType) and has_source(obj):
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
        if getattr(fn, "__code__", None) is not None and fn.__code__.co_name == "<lambda>":  # (only a lambda passed to grad itself is read)
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
        if head in self.globals:  # (not a gradient made in the code: the compiler binds that name)
            self.globals_read[head] = self.globals[head]
        self.callees[name] = fn
        return Call(f"call:{name}", args, kwargs)

    def gradient_expression(self, node: cst.Call) -> tuple[str, Any] | None:
        """`grad(f)` or `value_and_grad(f, wrt=...)` (adjointc's, f a function or gradient
        read by name, wrt a literal) as (the name generated code calls it by, the Gradient)."""
        import ast

        from . import api
        from .higher import made_in_code
        maker = self.resolve(node.func)
        if maker not in (api.grad, api.value_and_grad) or not node.args or node.args[0].keyword is not None:
            return None
        spelling = dotted(node.args[0].value)
        fn = self.resolve(node.args[0].value) if spelling else _UNRESOLVED
        if fn is _UNRESOLVED or not callable(fn):
            raise self.unsupported(node, "a gradient of this expression inside the function",
                                   "name the function: grad(f)(x), with f a module-level def or gradient")
        wrt: Any = None
        rest = node.args[1:]
        if len(rest) > 1 or any(a.keyword is not None and a.keyword.value != "wrt" or a.star for a in rest):
            raise self.unsupported(node, "these arguments of grad inside the function", "pass f and wrt=...")
        if rest:
            try:
                wrt = ast.literal_eval(cst.Module([]).code_for_node(rest[0].value))
            except (ValueError, SyntaxError):
                raise self.unsupported(rest[0], "a wrt that is not a literal", "e.g. wrt=0 or wrt=(0, 'k')") from None
        label = "_".join(str(w) for w in (wrt if isinstance(wrt, (tuple, list)) else (wrt,))) if wrt is not None else ""
        what = "value_and_grad" if maker is api.value_and_grad else "grad"
        name = f"_{what}_{spelling.replace('.', '_')}" + (f"_wrt_{label}" if label else "")
        return name, made_in_code(what, fn, wrt, spelling)

    def inline(self, fdef: cst.FunctionDef, args: tuple, kwargs: tuple, out: list[Stmt],
               node: cst.CSTNode, nested: bool) -> Expr:
        """A call to the nested def `fdef` (frontend.py inlines it)."""
        raise NotImplementedError

    def bind_check(self, rule: rules.Rule, args: tuple, kwargs: tuple, node: cst.CSTNode) -> Expr:
        try:
            rule.bind(args, kwargs)
        except rules.Refused as e:
            raise NoAdjointRule(e.message, self.loc(node), e.hint) from None
        except TypeError as e:
            raise UnsupportedSyntax(f"bad call: {e}", self.loc(node)) from None
        return Call(rule.op, args, kwargs)

