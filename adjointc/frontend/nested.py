"""Nested defs and lambdas of the function being lowered (part of the frontend: libcst-aware).

A nested def, or a lambda bound to a name, is inlined where it is called
(`NestedDefs.inline`): its body is lowered there to an IR function of its own, which
the one inliner, passes/inline.splice, splices into the call site: its own variables
and parameters renamed `name_helper`, its free variables left as the enclosing
function's names, so that they read the enclosing variables' values at the call, which
is what Python's closure cell holds when the call runs (assigned before the def, between
the def and the call, or reassigned in a loop between calls). It is lowered per call,
not once at the def, because what the names its body calls mean (other nested defs,
the functions passed to it) is also decided when the call runs.

What Python decides when the *def* runs is decided here at the def statement:

* defaults: a default that reads a variable of the enclosing function is evaluated at
  the def into a variable of its own (`s_g = a`), which the calls read; a literal or a
  module constant is read at the call (the same value, and the same generated text);
* which definition a name means: a def (or lambda) made in only one branch of an `if`,
  or differently in the two, is ambiguous after the `if` (Python decides at run time):
  calling it there is refused; a loop body that redefines a def made before the loop is
  refused (its calls would mean the old def in the first iteration, the new one after).
"""
from __future__ import annotations

import copy
from typing import Any

import libcst as cst

from ..errors import UnsupportedSyntax
from ..ir import Block, Break, Continue, Expr, Function, Loc, Name, Param, Return, Stmt, names_in, walk
from ..passes import inline as I
from ..passes import normalize as N
from .resolve import BoundNames, FuncValue, names_outside


class NestedDefs:
    """Mixin of frontend.Lowerer: the defs and lambdas nested in the function it lowers."""
    nested: dict[str, cst.FunctionDef]
    nested_src: dict[str, cst.CSTNode]
    # id(def node) -> (the node, parameter -> its value evaluated at the def); the node is
    # kept so that the id is never another's (a lambda called where written has no entry)
    defaults: dict[int, tuple[cst.FunctionDef, dict[str, Expr]]]
    ambiguous: dict[str, str]              # nested name -> why a call of it cannot be resolved here

    def define(self, name: str, fdef: cst.FunctionDef, src: cst.CSTNode, loc: Loc) -> list[Stmt]:
        """The def (or lambda binding) `name` runs here: bind it, and evaluate its defaults
        that read the enclosing function's variables (the statements doing so)."""
        out: list[Stmt] = []
        values: dict[str, Expr] = {}
        for prm in list(fdef.params.params) + list(fdef.params.kwonly_params):
            if prm.default is None:
                continue
            try:
                probe: list[Stmt] = []
                e = self.expr(prm.default, probe, nested=True)
            except UnsupportedSyntax:
                continue  # (reported where it is called, as before: a def never called is no error)
            if probe or set(names_in(e)) & self.locals:
                var = self.namer.exact(f"{prm.name.value.lstrip('_')}_{name}")
                self.locals.add(var)
                self.emit_assign(var, self.expr(prm.default, out), out, loc)
                values[prm.name.value] = Name(var)
        self.defaults[id(fdef)] = (fdef, values)
        self.nested[name], self.nested_src[name] = fdef, src
        self.ambiguous.pop(name, None)
        return out

    def merge_defs(self, after_body: dict[str, Any], body: Block, orelse: Block, loc: Loc) -> None:
        """After an `if`: the defs of the branch that goes on (one ending in a jump never
        does); a name bound differently by the two is ambiguous."""
        after_else = self.nested
        if _jumps(body) or _jumps(orelse):
            self.nested = after_else if _jumps(body) else after_body
            return
        self.nested = {}
        for n in list(after_body) + [n for n in after_else if n not in after_body]:
            if after_body.get(n) is after_else.get(n):
                self.nested[n] = after_body[n]
            else:
                self.ambiguous[n] = f"it is defined differently in the branches of the if on line {loc.line}"

    def loop_defs(self, before: dict[str, Any]) -> None:
        """After a loop body: a def of it replacing one made before the loop is refused."""
        for n, f in self.nested.items():
            if n in before and before[n] is not f:
                raise self.unsupported(self.nested_src[n], f"redefining the nested function {n!r} inside a "
                                       "loop (it is defined before the loop too)",
                                       "give the definition in the loop another name")

    def refuse_ambiguous(self, node: cst.Name) -> None:
        """A nested function whose definition depends on a branch taken at run time."""
        if node.value in self.ambiguous and node.value not in self.nested:
            raise self.unsupported(node, f"calling the nested function {node.value!r} here: "
                                   + self.ambiguous[node.value],
                                   "define it once before the if (branch inside it), or call it in the branch")

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
                at_def = self.defaults[id(fdef)][1] if id(fdef) in self.defaults else {}
                bound[prm.name.value] = at_def[prm.name.value] if prm.name.value in at_def else \
                    self.expr(prm.default, out, nested=True)
        collector = BoundNames(fdef.body)
        values = {pn: v for pn, v in bound.items() if isinstance(v, FuncValue)}
        for pn in values:  # function values: names of the helper's body, not variables
            del bound[pn]
        params = [q for q in params if q.name.value not in values]
        inner = collector.names | set(bound)
        sub = copy.copy(self)
        sub.nested, sub.nested_src, sub.aliases = dict(self.nested), dict(self.nested_src), dict(self.aliases)
        sub.ambiguous = dict(self.ambiguous)
        for pn, v in values.items():
            if pn in collector.names:
                raise self.unsupported(node, f"{name} assigns to its parameter {pn!r}, a function value",
                                       "use another name for the new value")
            if v.fdef is not None:
                captured = names_outside(v.fdef) & inner
                if captured:
                    raise self.unsupported(node, f"passing {v.what} to the nested function {name}, which has "
                                           f"variables of the same names ({', '.join(sorted(captured))})",
                                           "rename them, or define the functions at module level")
                sub.nested[pn], sub.nested_src[pn] = v.fdef, v.src
            else:
                sub.aliases[pn] = v.expr.id
        sub.locals = self.locals | inner
        sub.bindings = dict(collector.count)
        sub._result = None
        sub.inline_depth = self.inline_depth + 1
        body = N.structure(sub.block(fdef.body.body))
        rets = [r.value for r in walk(body) if isinstance(r, Return)]
        if rets and all(isinstance(r, Name) and r == rets[0] and r.id in inner for r in rets):
            result = rets[0].id  # `return v` everywhere: v is the value (no copy, no alias)
        else:
            result = sub._result or self.namer.fresh(f"{name}_ret")
        body = N.returns_to_assign(N.lower_loop_returns(body, result, self.namer), result)
        # the nested def as an IR function of its own (lowered here, at the call: the names its
        # body calls, other nested defs and the functions passed to it, mean what they mean
        # when the call runs), spliced by the one inliner. Every variable of the helper is
        # renamed (`_a` too: a user's name, however spelled, must not meet the caller's `_a`);
        # its temporaries are fresh already; the enclosing function's names are free.
        fn = Function(name, tuple(Param(q.name.value) for q in params), body, self.file, self.loc(fdef).line)
        names = [q.name for q in fn.params]
        # a parameter the helper never rebinds *is* the caller's object (Python passes
        # references): `a[0] = ...` in the helper writes the caller's array. It reads the
        # caller's name itself, not a copy of the reference (an alias the in-place check
        # would have to refuse); other arguments are assigned to the parameter's new name.
        bind = [q.name.value for q in params if q.name.value in collector.names
                or not isinstance(bound[q.name.value], Name)]
        stmts, env = I.splice(fn.body, names, [bound[n] for n in names], (inner | {result}) - set(names), name,
                              self.namer, loc, bind=bind)
        self.locals |= {v.id for v in env.values() if isinstance(v, Name)} | inner
        out.extend(stmts)
        return env.get(result, Name(result))


def _jumps(block: Block) -> bool:
    return bool(block) and isinstance(block[-1], (Return, Break, Continue))
