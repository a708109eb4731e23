"""The fast path of a gradient call (api.Gradient): binding, specialisation lookup, results.

A gradient is called inside optimizer loops on small problems, so what a call costs
over the generated adjoint matters (GradBench's `x * x`). The general path binds the
arguments with `inspect.Signature.bind` and builds the signature string of every
argument (types.signature_key); this module gives the same answers cheaply for the
common calls, and says "not here" (None) for the rest, which then take the general path:

* `positional_plan` / `bind_positional`: the parameter values of a call with
  positional arguments only, when the function has no `*args`/`**kwargs`, every
  keyword-only parameter has a default and nothing binds keywords first (a partial's).
  The defaults are read from the function at each call (a reassigned `__defaults__`
  is bound as Python would).
* `quick_key`: a hashable key of the abstract signature built from exact types only
  (float, int, bool, complex, str, None, an exact ndarray by rank and dtype (the dtype
  object itself: reading `dtype.str` costs ten times more, and equal dtypes have one kind), exact
  tuples and lists of those). Invariant: two argument lists with the same quick key
  have the same `types.signature_key` string, so the adjoint memoised under the key is
  the one the general path would choose (tests/test_call_path.py checks it). Anything
  else (subclasses, masked arrays, dataclasses, dicts, function values) gives None.
* `like_fast`: `api._like` for a float (or np.float64) gradient of a float, and for an array gradient
  already of its input's shape and real dtype (the result is the gradient itself).
"""
from __future__ import annotations

import inspect
from typing import Any, Callable

import numpy as np

# What of a scalar the generated code is specialised on, by exact type (types.of_value
# maps these; np.float64 is a float, np.int64 an int there).
_SCALARS: dict[type, str] = {float: "float", int: "int", bool: "bool", complex: "complex", str: "str",
                             type(None): "none", np.float64: "float", np.int64: "int"}
_ndarray, _float64 = np.ndarray, np.float64


def positional_plan(sig: inspect.Signature, bound_kwargs: dict) -> tuple[int, tuple[str, ...]] | None:
    """(number of positional parameters, names of keyword-only ones) when a call with
    positional arguments alone can be bound without `inspect`; None otherwise."""
    if bound_kwargs:
        return None
    npos, kwonly = 0, []
    for p in sig.parameters.values():
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            if kwonly:
                return None
            npos += 1
        elif p.kind == p.KEYWORD_ONLY and p.default is not p.empty:
            kwonly.append(p.name)
        else:  # *args, **kwargs, or a keyword-only parameter without a default
            return None
    return npos, tuple(kwonly)


def bind_positional(fn: Callable, plan: tuple[int, tuple[str, ...]], given: tuple) -> list[Any] | None:
    """The values of all of fn's parameters for the positional arguments `given` (what
    a method or partial binds first included), or None if they do not fit the plan
    (too few or too many: the general path raises Python's TypeError)."""
    npos, kwonly = plan
    n = len(given)
    if n == npos:
        values = list(given)
    else:
        defaults = fn.__defaults__ or ()
        if not npos - len(defaults) <= n < npos:
            return None
        values = [*given, *defaults[len(defaults) - (npos - n):]]
    if kwonly:
        kw = fn.__kwdefaults__
        values += [kw[k] for k in kwonly]
    return values


def _key(v: Any) -> Any:
    t = type(v)
    if t is _ndarray:
        return (v.ndim, v.dtype)
    s = _SCALARS.get(t)
    if s is not None:
        return s
    if t is tuple or t is list:
        items = tuple(_key(x) for x in v)
        return None if None in items else (t.__name__, items)
    return None


def quick_key(values: list[Any]) -> tuple | None:
    """The abstract signature of `values` as a hashable key, or None (see the module doc)."""
    out = []
    for v in values:
        t = type(v)
        if t is _ndarray:
            out.append((v.ndim, v.dtype))
            continue
        k = _SCALARS.get(t) or _key(v)
        if k is None:
            return None
        out.append(k)
    return tuple(out)


MISS = object()  # (like_fast: "not on the fast path")


def like_fast(g: Any, x: Any) -> Any:
    """`g` when it already is what api._like makes of it for input `x`; else `MISS`."""
    tx = type(x)
    if tx is float:
        tg = type(g)
        return g if tg is float else float(g) if tg is _float64 else MISS
    if tx is _ndarray and type(g) is _ndarray:
        if g.shape == x.shape and g.dtype == x.dtype and x.dtype.kind == "f":
            return g
    return MISS
