"""Gradients as functions the compiler reads again: reverse-over-reverse.

A generated adjoint is ordinary Python/NumPy in a real file (the disk cache), so
the frontend can lower it like user code. What a differentiated function may do
with a `Gradient` G (api.py), and how each reaches plain Python source:

* call it, `g = G(w)` inside a function being differentiated: the frontend records
  the call as a call of a user function (resolve.Resolver.call), and at each
  argument signature the compiler differentiates :func:`specialised` ``(G, types)``
  instead, a two-line def that calls G's generated adjoint for those types with
  the seed 1.0 and returns the part of its result G returns::

      def f_grad_wrt_x(x, y):
          _value, _grads = f_grad(x, y, result_bar=1.0)
          return as_adjoint(_grads[0], x)       # (for an array x: x's shape, as G gives it)

  The forward sweep of the caller calls G itself (same values: G runs that adjoint);
  the backward sweep calls the adjoint of the specialised def, which differentiates
  the generated adjoint (compiler.Calls and compiler.compile_gradient link it).
* differentiate it, `grad(G)`, `value_and_grad(G)`, `vjp(G, ...)`: entry.resolve
  differentiates :func:`as_function` ``(G)``, a def with G's parameters that calls
  G, which is the case above. Three levels (`grad(grad(grad(f)))`) are the same
  step once more: the adjoint of an `as_function` def is generated code too.

Both defs are written to the cache directory (cache.load_or_build, keyed by their
text and what they call), so inspect, tracebacks and the frontend read real files.
Contract: a specialised def computes exactly what G returns at those types (G's
conversions aside: a float gradient of a float input is returned as computed);
anything G cannot be (a gradient of a method or partial, one with in-place
outputs, parameters without literal defaults) is refused with a located
UnsupportedFunction, never differentiated approximately.
"""
from __future__ import annotations

import hashlib
import inspect
from typing import Any, Callable

from . import cache
from . import types as T
from .errors import UnsupportedFunction

_LITERALS = (bool, int, float, str, type(None))
_SPECIALISED: dict[tuple, tuple[Any, Callable]] = {}   # (id(G), types) -> (G's Compiled, def)
_AS_FUNCTION: dict[int, tuple[Any, Callable]] = {}      # id(G) -> (G, def)


def is_gradient(obj: Any) -> bool:
    """Is `obj` an adjointc Gradient (api.Gradient; no import: api imports this module)?"""
    return getattr(type(obj), "__adjointc_gradient__", False) is True


def key_of(g: Any) -> str:
    """What about a Gradient determines the code of a function that calls it."""
    return (f"gradient(wrt={','.join(g.wrt)};value={g._with_value};outputs={','.join(g.outputs)}"
            + (";aux=True)" if g.has_aux else ")"))


def _check(g: Any, what: str, outputs: bool = False) -> list[inspect.Parameter]:
    """G's parameters, refusing a G no def can stand for (`outputs`: in-place outputs are
    allowed, for the adjoint of a call, whose def takes their cotangents)."""
    from .frontend import def_loc
    loc = def_loc(g.primal)
    name = g.primal.__name__
    if g._bound_args or g._bound_kwargs or g._visible != g._names:
        raise UnsupportedFunction(f"{what} of {g!r}: a gradient of a method, partial or callable object "
                                  "cannot be differentiated again yet", loc,
                                  f"differentiate the gradient of a plain def: def {name}(...)")
    if g.outputs and not outputs:
        raise UnsupportedFunction(f"{what} of {g!r}: a gradient with in-place outputs cannot be "
                                  "differentiated again", loc)
    params = list(g._sig.parameters.values())
    for p in params:
        if p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            raise UnsupportedFunction(f"{what} of {g!r}: {name} takes *args/**kwargs or positional-only "
                                      "parameters", loc, "give it explicit parameters")
        if p.default is not p.empty and not isinstance(p.default, _LITERALS):
            raise UnsupportedFunction(f"{what} of {g!r}: the default of {name}({p.name}=...) is not a "
                                      "literal", loc, f"pass {p.name} explicitly")
    return params


def _load(name: str, text: str, extra_key: str, namespace: dict[str, Any]) -> Callable:
    key = hashlib.sha256(f"{extra_key}\n{text}".encode()).hexdigest()[:32]
    module, _hit = cache.load_or_build(key, lambda: text, name=name, namespace=namespace)
    return getattr(module, name)


def _header(params: list[inspect.Parameter]) -> tuple[str, str]:
    """(the parameter list of a def, the arguments passing them on)."""
    out, args, star = [], [], False
    for p in params:
        if p.kind == p.KEYWORD_ONLY and not star:
            out.append("*")
            star = True
        out.append(p.name if p.default is p.empty else f"{p.name}={p.default!r}")
        args.append(p.name if p.kind != p.KEYWORD_ONLY else f"{p.name}={p.name}")
    return ", ".join(out), ", ".join(args)


def as_function(g: Any, what: str = "grad") -> Callable:
    """A def with G's parameters that returns G(...): what grad(G) differentiates."""
    hit = _AS_FUNCTION.get(id(g))
    if hit is not None and hit[0] is g:
        return hit[1]
    params = _check(g, what)
    sig, args = _header(params)
    name = f"{g.primal.__name__}_{'value_and_grad' if g._with_value else 'grad'}"
    doc = (f"{'value_and_grad' if g._with_value else 'grad'}({g.primal.__qualname__}, wrt="
           f"{tuple(g.wrt)!r}) as a function, to be differentiated again (adjointc).")
    text = f"def {name}({sig}):\n    \"\"\"{doc}\"\"\"\n    return _gradient({args})\n"
    fn = _load(name, text, f"as_function:{g.primal.__module__}.{g.primal.__qualname__}", {"_gradient": g})
    _AS_FUNCTION[id(g)] = (g, fn)
    return fn


def gradient_behind(fn: Any) -> Any:
    """The Gradient G an :func:`as_function` def calls, or None for any other function."""
    for g, made in _AS_FUNCTION.values():
        if made is fn:
            return g
    return None


def specialised(g: Any, arg_types: list[T.T]) -> Callable:
    """The def a call of G at these argument types is differentiated as (module docstring)."""
    from .compiler import numpy_twin
    g = numpy_twin(g)  # (a numba backend's gradient: its NumPy adjoint is read and differentiated)
    key = (id(g), tuple(T.encode(t) for t in arg_types))
    c = g.get_abstract(list(arg_types))
    hit = _SPECIALISED.get(key)
    if hit is not None and hit[0] is c:
        return hit[1]
    params = _check(g, "a call")
    types = dict(zip(g._names, arg_types))
    for w in g.wrt:
        if types[w].kind not in ("float", "array"):
            from .frontend import def_loc
            raise UnsupportedFunction(f"differentiating {g!r} again: its gradient with respect to {w} (a "
                                      f"{types[w].kind}) is not supported yet", def_loc(g.primal),
                                      "differentiate a gradient with respect to floats and arrays")
    sig, args = _header(params)
    adjoint = c.fn.__name__
    seed = list(inspect.signature(c.fn).parameters)[-1]  # (result_bar, s_bar...: after G's parameters)
    name = f"{g.primal.__name__}_grad_wrt_{'_'.join(g.wrt)}"
    # what G returns: an array gradient with its input's shape (as api._like gives it)
    grads = [f"as_adjoint(_grads[{k}], {w})" if types[w].kind == "array" else f"_grads[{k}]"
             for k, w in enumerate(g.wrt)]
    picked = grads[0] if g._single else f"({', '.join(grads)},)"
    # (has_aux: the adjoint's value is (value, aux); G returns (gradient, aux) or
    # ((value, aux), gradient), so the aux is G's output too, carrying no derivative)
    result = f"(_value, {picked})" if g._with_value else f"({picked}, _value[1])" if g.has_aux else picked
    text = ("from adjointc.runtime import as_adjoint\n\n\n" if "as_adjoint" in picked else "") + (
            f"def {name}({sig}):\n"
            f"    \"\"\"The {'value and ' if g._with_value else ''}gradient of {g.primal.__qualname__} with "
            f"respect to {', '.join(g.wrt)} at one signature: its generated adjoint {adjoint} "
            f"({c.path}) with the seed 1.0 (adjointc).\"\"\"\n"
            f"    _value, _grads = {adjoint}({args}, {seed}=1.0)\n"
            f"    return {result}\n")
    fn = _load(name, text, f"specialised:{c.path}", {adjoint: c.fn})
    _SPECIALISED[key] = (c, fn)
    return fn


_VJP_FUNCTION: dict[int, tuple[Any, Any, Callable]] = {}  # id(CalleeAdjoint) -> (it, Compiled, def)


def is_callee_adjoint(obj: Any) -> bool:
    """Is `obj` a compiler.CalleeAdjoint (what generated code calls as `h_vjp(seed, ...)`)?"""
    return getattr(type(obj), "__adjointc_callee_adjoint__", False) is True


def vjp_function(vjp: Any) -> Callable:
    """`h_vjp(seed, a, b)` of generated code as a def (its types are fixed: one adjoint)::

        def h_vjp(seed, a, b):
            _value, _grads = h_grad(a, b, result_bar=seed)
            return _grads
    """
    c = vjp.compiled_now()
    hit = _VJP_FUNCTION.get(id(vjp))
    if hit is not None and hit[0] is vjp and hit[1] is c:
        return hit[2]
    g = vjp.gradient
    params = _check(g, "the adjoint of a call", outputs=True)
    sig, args = _header(params)
    adjoint = c.fn.__name__
    seed = list(inspect.signature(c.fn).parameters)[-1]
    name = f"{g.primal.__name__}_vjp"
    cot = "_seed"  # (a name none of the parameters has: the adjoint of an adjoint takes `_seed` too)
    while cot in {p.name for p in params}:
        cot += "_"
    # (a callee modifying arguments in place: the cotangents of (its result, *the modified
    # arguments), which its adjoint takes after its parameters, as CalleeAdjoint passes them)
    seeds = (", ".join(f"{cot}[{k}]" for k in range(1 + len(g.outputs))) if g.outputs
             else f"{seed}={cot}")
    text = (f"def {name}({cot}, {sig}):\n"
            f"    \"\"\"The adjoints of {', '.join(g.wrt)} of one call of {g.primal.__qualname__} for the "
            f"cotangent {cot}: its generated adjoint {adjoint} ({c.path}) (adjointc).\"\"\"\n"
            f"    _value, _grads = {adjoint}({args}, {seeds})\n"
            f"    return _grads\n")
    fn = _load(name, text, f"vjp_function:{c.path}", {adjoint: c.fn})
    _VJP_FUNCTION[id(vjp)] = (vjp, c, fn)
    return fn


_RETURNING: dict[int, tuple[Any, Callable]] = {}  # id(runtime.Returning) -> (it, def)


def returning_function(r: Any) -> Callable:
    """Generated code's `h_returning_u(a, u)` (runtime.Returning: h run on a copy of the
    argument it modifies, returning h's result and the copy) as a def the frontend reads,
    for generated code differentiated again::

        def h_returning_u(a, u):
            u_copy = np.copy(u)
            _result = h(a, u_copy)
            return (_result, u_copy)
    """
    hit = _RETURNING.get(id(r))
    if hit is not None and hit[0] is r:
        return hit[1]
    params = list(inspect.signature(r.fn).parameters.values())
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or (p.default is not p.empty and not isinstance(
            p.default, _LITERALS)) for p in params):
        from .frontend import def_loc
        raise UnsupportedFunction(f"differentiating again a call of {r.__name__}: {r.fn.__qualname__}'s "
                                  "parameters are not plain (or have non-literal defaults)", def_loc(r.fn),
                                  "give the helper plain parameters with literal defaults")
    sig, _ = _header(params)
    callee = r.fn.__name__
    # (copies under names of their own: a parameter rebound to its copy would, once the def
    # is inlined, alias the caller's array until the copy is made)
    copy = {p: f"{p}_copy" for p in r.params}
    copies = "".join(f"    {copy[p]} = np.copy({p})\n" for p in r.params)
    args = ", ".join(copy.get(p.name, p.name) if p.kind != p.KEYWORD_ONLY else f"{p.name}={copy.get(p.name, p.name)}"
                     for p in params)
    outs = ", ".join(copy[p] for p in r.params) + ("," if len(r.params) == 1 else "")
    text = (f"import numpy as np\n\n\ndef {r.__name__}({sig}):\n"
            f"    \"\"\"{callee} run on copies of {', '.join(r.params)}, which it modifies in place: "
            f"(its result, the modified copies) (adjointc).\"\"\"\n"
            f"{copies}    _result = {callee}({args})\n    return (_result, {outs})\n")
    fn = _load(r.__name__, text, f"returning:{r.fn.__module__}.{r.fn.__qualname__}", {callee: r.fn})
    _RETURNING[id(r)] = (r, fn)
    return fn


_MADE: dict[tuple, tuple[Any, Any]] = {}  # (maker, id(fn), wrt) -> (fn, the Gradient)


def made_in_code(maker: str, fn: Callable, wrt: Any, spelling: str) -> Any:
    """The Gradient that `grad(fn, wrt=...)` written inside a differentiated function
    stands for (one per function and wrt: the generated code calls it by a name the
    compiler gives it, `__adjointc_gradients__` records how to make it again)."""
    key = (maker, id(fn), repr(wrt))
    hit = _MADE.get(key)
    if hit is not None and hit[0] is fn:
        return hit[1]
    from . import api
    g = (api.value_and_grad if maker == "value_and_grad" else api.grad)(fn, wrt=wrt)
    g.__adjointc_made__ = (maker, spelling, wrt)
    _MADE[key] = (fn, g)
    return g
