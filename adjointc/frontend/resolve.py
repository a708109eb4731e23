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
  a nested def or a lambda bound to a name (inlined, nested.py), or a method: an
  array method means its NumPy function (`x.sum(0)` is `np.sum(x, 0)`), another a
  user object's method (`callmethod:NAME`, resolved from the argument's class by the
  type pass);
* a user function passed as an argument of a call to a user function (`FuncValue`:
  by name, a module attribute, a nested def or a lambda) makes the call one of the
  callee's specialisation on it (funcvals.py, `specialised_call`); a nested def or
  lambda passed so is materialised from its code object when it reads nothing of the
  enclosing function; in a specialisation, the static parameters mean their
  functions. A function used as a value in any other way (stored, returned, chosen by
  a branch, taken from a list) is refused with its location.

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

from .. import funcvals, rules
from ..errors import NoAdjointRule, UnsupportedSyntax
from .expressions import ExprLowerer, dotted
from ..ir import Call, Const, Expr, Loc, Name, Stmt
from ..names import Namer
from .source import has_source


class FuncValue:
    """A function passed as a call's argument, known when compiling (funcvals.py):
    `fn` a user function (a global, closure cell or static), or `fdef` a nested def or
    lambda of the function being lowered (then `fn` is its materialised function when it
    reads none of the enclosing function's variables). `expr` is what the generated code
    passes at run time, `spelling` how a synthetic name finds it again."""

    def __init__(self, fn: Any = None, fdef: Any = None, expr: Expr | None = None, spelling: Any = None,
                 closure: tuple[str, ...] = (), what: str = "", src: Any = None):
        self.fn, self.fdef, self.expr, self.spelling = fn, fdef, expr, spelling
        self.closure, self.what, self.src = closure, what, src

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
BUILTIN_OPS = {"float", "int", "bool", "complex", "len", "range", "round", "abs", "max", "min", "sum", "print",
               "py:list", "py:tuple", "sorted", "any", "all"}  # (any/all: rules/containers.py)


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
        self.nested_src: dict[str, cst.CSTNode] = {}  # their def or lambda node (to materialise them)
        self.inline_depth = 0
        # a specialisation's static parameters mean their functions, as globals would
        self.statics = funcvals.statics_of(fn)
        self.globals.update(self.statics)
        self.synthetic: dict[str, Any] = {}  # name in generated code -> spelling (funcvals.py)
        self.aliases: dict[str, str] = {}  # a nested def's function parameter -> the name passed

    # ------------------------------------------------------------- utilities
    def loc(self, node: cst.CSTNode) -> Loc:
        p = self.positions.get(node)
        if p is None:
            return Loc(self.file, self.first_line)
        if isinstance(p, Loc):  # (a node of an inlined module-level helper: sugar.variadic_call)
            return p
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
        return Const(Ellipsis)  # (an index part: `m[..., None]`, `u[..., 0] = v`)

    def read_name(self, node: cst.Name) -> Expr:
        n = node.value
        self.refuse_ambiguous(node)
        if n in self.nested or n in self.aliases:
            raise self.unsupported(node, f"the function {n!r} used as a value here",
                                   "a function can be called, or passed by name as an argument of a call "
                                   "to a user function; it cannot be stored, returned or chosen at run time")
        if n in self.locals:
            return Name(n)
        if n in ("True", "False", "None"):
            return Const({"True": True, "False": False, "None": None}[n])
        if n in self.globals:
            v = self.globals[n]
            if isinstance(v, (bool, int, float, complex, str, np.ndarray, np.generic, tuple)) or v is None:
                self.globals_read[n] = v
                return Name(n)
            if callable(v):
                raise self.unsupported(node, f"the function {n!r} used as a value here",
                                       "a function can be passed by name as an argument of a call to a user "
                                       "function (it is specialised on it) or called; it cannot be stored, "
                                       "returned or chosen at run time")
            raise self.unsupported(node, f"reading the global {n!r} of type {type(v).__name__} as a value",
                                   "module-level numbers, arrays and tuples can be read; pass other objects as arguments")
        if n in ("float", "int", "bool", "complex") and getattr(builtins, n) is self.resolve(node):
            return Const(getattr(builtins, n))  # a type as a value: `dtype=float`, `.astype(int)`
        if hasattr(builtins, n):
            raise self.unsupported(node, f"the builtin {n!r} used as a value")
        raise UnsupportedSyntax(f"name {n!r} is not defined", self.loc(node))

    def resolve(self, node: cst.BaseExpression) -> Any:
        """The object a dotted name (`np.linalg.norm`, `math.pi`, `sin`) refers to, or a sentinel."""
        path = dotted(node)
        if path is None:
            return _UNRESOLVED
        head, *rest = path.split(".")
        head = self.aliases.get(head, head)
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
            if isinstance(obj, type) and issubclass(obj, np.generic):
                return Const(obj)  # a NumPy scalar type as a value: `dtype=np.float64`
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

    def concatenator(self, node: cst.Subscript, out: list[Stmt], nested: bool) -> Expr | None:
        op = {id(np.r_): "np.r_", id(np.c_): "np.c_"}.get(id(self.resolve(node.value)))
        if op is None:
            return None
        items = []
        for el in node.slice:
            s = el.slice
            if not isinstance(s, cst.Index) or s.star is not None or isinstance(
                    s.value, (cst.SimpleString, cst.ConcatenatedString)):
                raise self.unsupported(s, f"{op}[...] with a slice, a string directive or a starred item",
                                       "write np.concatenate([...]) (np.arange or np.linspace for a range); "
                                       f"{op}[a, b, ...] of arrays and numbers is supported")
            e = self.expr(s.value, out, nested)
            items.append(e if nested else self.atom(e, out, self.loc(node)))
        return self.bind_check(rules.lookup(op), tuple(items), (), node)

    def call(self, node: cst.Call, out: list[Stmt], nested: bool) -> Expr:
        if any(a.star for a in node.args) and hasattr(self, "expand_stars"):
            node = self.expand_stars(node)  # f(*a, **{...}): spliced in (frontend sugar.py)
        loc = self.loc(node)

        def arg(a: cst.Arg) -> Expr:
            if a.star:
                raise self.unsupported(a, "*args/**kwargs in a call", "pass the arguments explicitly")
            e = self.expr(a.value, out, nested)
            return e if nested else self.atom(e, out, loc)

        func = node.func
        if isinstance(func, cst.Name) and func.value in self.aliases:
            func = cst.Name(self.aliases[func.value])
        if isinstance(func, cst.Name):
            self.refuse_ambiguous(func)
        if isinstance(func, cst.Lambda):  # (lambda v: ...)(x)
            func_def = self.lambda_def(func, "lambda")
        else:
            func_def = self.nested.get(func.value) if isinstance(func, cst.Name) else None
        obj = self.resolve(func) if func_def is None else _UNRESOLVED
        if (obj is builtins.min or obj is builtins.max or obj is builtins.reversed) and hasattr(self, "extreme"):
            return self.extreme(node, obj.__name__, out, nested)  # (frontend sugar.py)
        values = {id(a): self.function_value(a.value) for a in node.args if not a.star}
        if any(v is not None for v in values.values()):
            user = func_def is not None or (isinstance(obj, pytypes.FunctionType) and has_source(obj)
                                            and rules.lookup_object(obj) is None)
            if not user:
                what = dotted(func) or "this call"
                raise self.unsupported(node, f"passing a function as an argument of {what}",
                                       "functions can be passed to user functions (def or lambda with "
                                       "source), which are specialised on them")

        def arg_or_value(a: cst.Arg) -> Any:
            v = values.get(id(a))
            return v if v is not None else arg(a)
        args = tuple(arg_or_value(a) for a in node.args if a.keyword is None)
        kwargs = tuple((a.keyword.value, arg_or_value(a)) for a in node.args if a.keyword is not None)
        if func_def is not None:
            return self.inline(func_def, args, kwargs, out, node, nested)
        if any(isinstance(a, FuncValue) for a in args + tuple(v for _, v in kwargs)):
            return self.specialised_call(obj, dotted(func), args, kwargs, node, nested)
        if isinstance(func, cst.Name) and func.value in self.locals and obj is _UNRESOLVED:
            raise self.unsupported(func, f"calling the variable {func.value!r}",
                                   "a function value must be known when adjointc compiles: call a user "
                                   "function by name, or pass one by name to a helper (which is "
                                   "specialised on it); not one taken from a list or dict, returned by a "
                                   "call, or chosen by a branch at run time")
        if obj is _UNRESOLVED and isinstance(func, cst.Attribute):
            # a method call on a local value: x.sum(axis=0), x.copy(), x.reshape(...)
            name = func.attr.value
            receiver = self.expr(func.value, out, nested)
            if not nested:
                receiver = self.atom(receiver, out, loc)
            if name == "astype":
                # a copy in the new dtype: np.array(x, dtype=...)'s rule (an int or bool dtype is
                # a cast no derivative goes through: rules/np_results.array_result)
                if len(args) != 1 or kwargs:
                    raise self.unsupported(node, "this form of x.astype(...)", "write x.astype(dtype)")
                return self.bind_check(rules.lookup_object(np.array), (receiver,), (("dtype", args[0]),), node)
            if name == "pop" and len(node.args) == 1 and not nested and hasattr(self, "list_method") \
                    and isinstance(receiver, Name) and receiver.id in getattr(self, "own_lists", ()):
                return self.list_method(node, loc, out, args)  # v = L.pop(i) (frontend sugar.py)
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
            raise self.unsupported(func, "calling this expression",
                                   "call functions by name; a function value must be known when adjointc "
                                   "compiles (pass it by name to a helper, which is specialised on it), not "
                                   "taken from a list, tuple or dict or returned by a call")
        rule = rules.lookup_object(obj)
        name = dotted(func)
        if rule is None:
            if getattr(type(obj), "__adjointc_gradient__", False) is True:
                # a Gradient (`g = grad(f)(w)`): a call of generated code, see adjointc/higher.py
                return self.user_call(obj, name, args, kwargs, node, nested)
            if getattr(type(obj), "__adjointc_callee_adjoint__", False) is True:
                # generated code's `h_vjp(seed, ...)`: the callee's adjoint as a def (higher.py)
                from ..higher import vjp_function
                fn = vjp_function(obj)
                self.user_call(fn, name, args, kwargs, node, nested)
                self.globals_read[name.split(".")[0]] = obj
                return Call(f"call:{name}", args, kwargs)
            if type(obj).__name__ == "Returning" and type(obj).__module__ == "adjointc.runtime":
                # generated code's `h_returning_u(...)` (a helper modifying an argument, run on a
                # copy): that as a def (higher.py), a call of h the passes handle as in user code
                from ..higher import returning_function
                fn = returning_function(obj)
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
                if obj.__code__.co_flags & 0x0C and not hasattr(obj, "__wrapped__") and hasattr(self, "variadic_call"):
                    return self.variadic_call(obj, node, args, kwargs, out, nested)  # (inlined: sugar.py)
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
        if head in self.globals and head not in self.statics:  # (a static parameter, or a gradient made
            # in the code: the generated code reads the parameter / the compiler binds that name)
            self.globals_read[head] = self.globals[head]
        self.callees[name] = fn
        return Call(f"call:{name}", args, kwargs)

    # ------------------------------------------------ function values (funcvals.py)
    def function_value(self, node: cst.BaseExpression) -> FuncValue | None:
        """The function an argument expression names, if it names one (else None)."""
        if isinstance(node, cst.Lambda):
            return self.nested_value(self.lambda_def(node, "lambda"), node, None)
        if isinstance(node, cst.Name):
            self.refuse_ambiguous(node)
        if isinstance(node, cst.Name) and node.value in self.nested:
            return self.nested_value(self.nested[node.value], self.nested_src[node.value], node.value)
        if isinstance(node, cst.Name) and node.value in self.aliases:
            node = cst.Name(self.aliases[node.value])
        if not isinstance(node, (cst.Name, cst.Attribute)):
            return None
        obj = self.resolve(node)
        if obj is _UNRESOLVED or not callable(obj) or isinstance(obj, type):
            return None
        spelling = dotted(node)
        if not (isinstance(obj, pytypes.FunctionType) and has_source(obj)) or rules.lookup_object(obj) is not None:
            raise self.unsupported(node, f"passing {spelling} (a library or builtin function) as a value",
                                   f"wrap it in a user function: def f(x): return {spelling}(x)")
        if isinstance(node, cst.Name):
            if node.value not in self.statics:
                self.globals_read[node.value] = obj
            return FuncValue(obj, expr=Name(node.value), spelling=spelling)
        return FuncValue(obj, expr=Name(self.synthetic_name(obj, spelling, obj.__name__)), spelling=spelling)

    def nested_value(self, fdef: cst.FunctionDef, src: cst.CSTNode, name: str | None) -> FuncValue:
        """A nested def or lambda passed as a value; materialised when it is closed."""
        line = self.loc(src).line
        is_lambda = isinstance(src, cst.Lambda)
        codes = funcvals.nested_code(self.fn.__code__, "<lambda>" if is_lambda else fdef.name.value, line)
        what = f"the lambda on line {line}" if is_lambda else f"the nested function {fdef.name.value!r}"
        if len(codes) != 1:
            return FuncValue(fdef=fdef, what=what + " (several functions start on that line)", src=src)
        code = codes[0]
        if code.co_freevars:  # it reads variables of the enclosing function: only inlinable
            return FuncValue(fdef=fdef, closure=code.co_freevars, what=what, src=src)
        try:
            defaults = funcvals.literal_defaults([cst.Module([]).code_for_node(q.default)
                                                  for q in fdef.params.params if q.default is not None])
            hash(defaults)
        except (ValueError, TypeError, SyntaxError):
            return FuncValue(fdef=fdef, what=what + " (its defaults are not literals)", src=src)
        fn = funcvals.materialise(code, self.fn.__globals__, self.fn.__module__, defaults)
        spelling = funcvals.code_spelling(code, self.fn.__module__, defaults)
        hint = name or f"lambda{line}"
        return FuncValue(fn, fdef, Name(self.synthetic_name(fn, spelling, hint)), spelling, what=what, src=src)

    def lambda_def(self, lam: cst.Lambda, name: str) -> cst.FunctionDef:
        """`lambda params: body` as the nested def `def name(params): return body`."""
        ret = cst.Return(value=lam.body)
        fdef = cst.FunctionDef(name=cst.Name(name), params=lam.params,
                               body=cst.IndentedBlock(body=[cst.SimpleStatementLine(body=[ret])]))
        at = self.positions.get(lam)
        if at is not None:  # (errors in its body point at the lambda)
            self.positions = _Overlay(self.positions, {ret: at, fdef: at})
        return fdef

    def synthetic_name(self, obj: Any, spelling: Any, hint: str) -> str:
        """The generated code's name for a function the user's module does not bind by
        that name (funcvals.py): one per spelling, linked by compiler.compile_gradient."""
        for n, sp in self.synthetic.items():
            if sp == spelling:
                return n
        n = self.namer.exact(hint if hint.isidentifier() else "fn")
        self.synthetic[n] = spelling
        self.globals[n] = obj
        self.globals_read[n] = obj
        return n

    def specialised_call(self, fn: Any, name: str | None, args: tuple, kwargs: tuple, node: cst.CSTNode,
                         nested: bool) -> Expr:
        """A call of the user function `fn` with function values among its arguments: a
        call of its specialisation on them (funcvals.py), which takes them as before."""
        try:
            bound = inspect.signature(fn).bind(*args, **dict(kwargs))
        except TypeError as e:
            raise UnsupportedSyntax(f"bad call to {name}: {e}", self.loc(node)) from None
        statics: dict[str, Any] = {}
        spelled = []
        for p, v in bound.arguments.items():
            if isinstance(v, FuncValue):
                if v.fn is None:
                    why = (f"it reads {', '.join(repr(c) for c in v.closure)} of the enclosing function"
                           if v.closure else "")
                    raise self.unsupported(node, f"passing {v.what} to {name}" + (f": {why}" if why else ""),
                                           "pass those values as arguments of the function instead (or "
                                           "define it at module level); a function that reads them can "
                                           "be called where it is defined")
                statics[p] = v.fn
                spelled.append((p, v.spelling))
        spec = funcvals.specialise(fn, statics)
        sname = self.synthetic_name(spec, ("spec", name, tuple(spelled)), spec.__name__)

        def value(a: Any) -> Any:
            return a.expr if isinstance(a, FuncValue) else a
        return self.user_call(spec, sname, tuple(value(a) for a in args), tuple((k, value(a)) for k, a in kwargs),
                              node, nested)

    def gradient_expression(self, node: cst.Call) -> tuple[str, Any] | None:
        """`grad(f)` or `value_and_grad(f, wrt=...)` (adjointc's, f a function or gradient
        read by name, wrt a literal) as (the name generated code calls it by, the Gradient)."""
        import ast

        from .. import api
        from ..higher import made_in_code
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
        """A call to the nested def `fdef` (nested.py inlines it)."""
        raise NotImplementedError

    def refuse_ambiguous(self, node: cst.Name) -> None:
        """(nested.py: a nested function whose definition a branch decides)"""

    def bind_check(self, rule: rules.Rule, args: tuple, kwargs: tuple, node: cst.CSTNode) -> Expr:
        try:
            rule.bind(args, kwargs)
        except rules.Refused as e:
            raise NoAdjointRule(e.message, self.loc(node), e.hint) from None
        except TypeError as e:
            raise UnsupportedSyntax(f"bad call: {e}", self.loc(node)) from None
        return Call(rule.op, args, kwargs)


def names_outside(fdef: cst.FunctionDef) -> set[str]:
    """The names a def's body mentions that are not its own (its parameters and locals):
    a superset of what it reads from around it."""
    class Names(cst.CSTVisitor):
        def __init__(self) -> None:
            self.found: set[str] = set()

        def visit_Name(self, n: cst.Name) -> None:
            self.found.add(n.value)
    v = Names()
    fdef.body.visit(v)
    p = fdef.params
    own = {q.name.value for q in list(p.posonly_params) + list(p.params) + list(p.kwonly_params)}
    return v.found - own - BoundNames(fdef.body).names


class _Overlay(dict):
    """Positions with a few more nodes (a lambda's synthesised def and return)."""

    def __init__(self, base: Any, extra: dict) -> None:
        super().__init__(extra)
        self.base = base

    def get(self, key: Any, default: Any = None) -> Any:
        return super().get(key, self.base.get(key, default))

    def __getitem__(self, key: Any) -> Any:
        return super().__getitem__(key) if dict.__contains__(self, key) else self.base[key]
