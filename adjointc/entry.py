"""What can be differentiated: how a callable given to grad/value_and_grad/vjp reaches a `def`.

`resolve(fn, what)` follows bound methods, classmethods/staticmethods, `functools.partial`,
callable objects, lru_cache wrappers, numba @njit functions and gradients (higher order) to the
Python def adjointc lowers, or refuses with a located error saying what to differentiate instead.
`backend` picks the printer; `named_lambda` gives a lambda a deterministic name.
"""
from __future__ import annotations

import functools
import inspect
import os
import types as types_mod
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from . import frontend, higher
from .errors import InvalidArgument, UnsupportedFunction


@dataclass
class Entry:
    """How a callable passed to grad reaches a `def`: `function` is called with
    `args` first and `kwargs` as defaults a caller may override (a partial's), which is
    what `call(*a, **k)` does; `signature` is the one the caller sees."""
    function: types_mod.FunctionType
    args: tuple
    kwargs: dict
    call: Callable
    signature: inspect.Signature


HIGHER_ORDER_HINT = ("differentiate a gradient instead (grad(grad(f)), jvp(grad(f), ...) work); for a "
                      "Jacobian's derivative, differentiate the function computing it, or use finite "
                      "differences")


def resolve(fn: Any, what: str) -> Entry:
    """Resolve what grad/value_and_grad/vjp received to a def (see `Gradient`), or refuse.
    Never unwraps silently: a `functools.wraps` decorator's wrapper is differentiated
    as written (its `__wrapped__` is what it calls, not what it computes)."""
    from .api import Gradient  # (api imports this module)
    if isinstance(fn, Gradient):  # higher order: G as a def calling G (adjointc/higher.py)
        return resolve(higher.as_function(fn, what), what)
    if isinstance(fn, functools.partial) and isinstance(fn.func, Gradient):  # (its signature is G's def's)
        return resolve(functools.partial(higher.as_function(fn.func, what), *fn.args, **fn.keywords), what)
    if type(fn).__module__ == "adjointc.transforms" and hasattr(fn, "primal"):
        raise UnsupportedFunction(f"{what} of {fn!r}: differentiating a {type(fn).__name__} is not supported yet",
                                  frontend.def_loc(fn.primal), HIGHER_ORDER_HINT)
    if isinstance(fn, types_mod.FunctionType):
        frontend.refuse_def_form(fn)
        if fn.__code__.co_name == "<lambda>":
            named = named_lambda(fn)
            return Entry(named, (), {}, fn, inspect.signature(fn, follow_wrapped=False))
        path = os.path.realpath(fn.__code__.co_filename)
        if any(path.startswith(root + os.sep) for root in frontend._LIBRARY_ROOTS):
            # (by its own code's file: a wraps wrapper of a library function is the user's)
            name = f"{fn.__module__}.{fn.__qualname__}"
            raise UnsupportedFunction(
                f"{what}({name}): {name} is library code (standard library or site-packages), "
                "which adjointc does not transform", frontend.def_loc(fn),
                f"differentiate a function that calls it: def f(x): return {name}(x) "
                "(it needs a derivative rule, see adjointc.defvjp)")
        return Entry(fn, (), {}, fn, inspect.signature(fn, follow_wrapped=False))
    if is_njit(fn):  # a numba @njit function: its Python source (an @njit adjoint by default)
        return resolve(fn.py_func, what)
    if isinstance(fn, staticmethod):  # (the raw class-dict entry)
        return resolve(fn.__func__, what)
    if isinstance(fn, types_mod.MethodType):  # obj.f, or K.f of a classmethod: self/cls bound
        inner = resolve(fn.__func__, what)
        return Entry(inner.function, (fn.__self__,) + inner.args, inner.kwargs, fn,
                      inspect.signature(fn, follow_wrapped=False))
    if isinstance(fn, functools.partial):
        inner = resolve(fn.func, what)
        return Entry(inner.function, inner.args + tuple(fn.args), {**inner.kwargs, **fn.keywords}, fn,
                      inspect.signature(fn, follow_wrapped=False))
    if type(fn).__name__ == "_lru_cache_wrapper" and hasattr(fn, "cache_info"):
        # functools.lru_cache/cache memoise a function that must be pure for the memo to be
        # correct: the wrapper computes exactly what the wrapped function computes, so its
        # derivative is the wrapped function's. (Called uncached: arrays are unhashable.)
        return resolve(fn.__wrapped__, what)
    name = callable_name(fn)
    if isinstance(fn, type):
        raise UnsupportedFunction(f"{what}({name}): a class cannot be differentiated",
                                  hint="differentiate a function that builds and uses the object")
    if isinstance(fn, (types_mod.BuiltinFunctionType, types_mod.BuiltinMethodType, np.ufunc,
                       types_mod.MethodWrapperType, types_mod.WrapperDescriptorType)) or not callable(fn):
        if not callable(fn):
            raise InvalidArgument(f"{what} expects a function, got {type(fn).__name__}")
        raise UnsupportedFunction(
            f"{what}({name}): {name} is a builtin (compiled) function; adjointc differentiates "
            "Python source", hint=f"differentiate a function that calls it: def f(x): return {name}(x), or "
            f"lambda x: {name}(x) (its derivative rule is then used)")
    call = getattr(type(fn), "__call__", None)
    if isinstance(call, types_mod.FunctionType):  # a callable object: its __call__, bound to it
        inner = resolve(types_mod.MethodType(call, fn), what)
        return Entry(inner.function, inner.args, inner.kwargs, fn, inspect.signature(fn, follow_wrapped=False))
    raise UnsupportedFunction(f"{what}({name}): cannot read a Python def behind this {type(fn).__name__}",
                              hint=f"differentiate a function that calls it: def f(x): return {name}(x); "
                              "grad takes a def, a method, a partial or a callable object whose __call__ is one")


def is_njit(fn: Any) -> bool:
    """Is fn a numba-compiled function (a CPUDispatcher, whose `.py_func` is its def)?"""
    return type(fn).__name__ == "CPUDispatcher" and isinstance(getattr(fn, "py_func", None), types_mod.FunctionType)


def backend_for(backend: str | None, from_njit: bool, fn: types_mod.FunctionType) -> str:
    """The printer the adjoint is made by: backend=, else numba for an @njit function."""
    if backend is None:
        return "numba" if from_njit else "numpy"
    if backend not in ("numpy", "numba"):
        raise InvalidArgument(f"backend={backend!r} is not a backend", frontend.def_loc(fn),
                              "backend='numpy' (the default) or backend='numba'")
    if backend == "numba":
        try:
            import numba  # noqa: F401
        except ImportError:
            raise InvalidArgument("backend='numba' needs numba, which is not installed", frontend.def_loc(fn),
                                  "pip install adjointc[numba] (or pip install numba)") from None
    return backend


def named_lambda(fn: types_mod.FunctionType) -> types_mod.FunctionType:
    """The lambda as a function with a name the generated code can use, unique per
    lambda (its line and column: two lambdas on one line have different names, so
    different cache keys) and deterministic (the same in every process)."""
    code = fn.__code__
    cols = [p[2] for p in code.co_positions()
            if None not in p and p[2:] != (0, 0) and p[0] == code.co_firstlineno]
    name = f"lambda_{code.co_firstlineno}_{min(cols) if cols else 0}"
    named = types_mod.FunctionType(code, fn.__globals__, name, fn.__defaults__, fn.__closure__)
    named.__kwdefaults__ = fn.__kwdefaults__
    named.__qualname__ = fn.__qualname__.replace("<lambda>", name)
    named.__module__ = fn.__module__
    return named


def callable_name(fn: Any) -> str:
    if isinstance(fn, np.ufunc):
        return f"np.{fn.__name__}"
    mod = getattr(fn, "__module__", None)
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__
    return f"{mod}.{name}" if mod and mod != "builtins" else name
