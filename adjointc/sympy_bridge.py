"""Evaluate an ordinary Python function on SymPy symbols to get a reference gradient.

Contract: `sympy_gradient(fn, args, kwargs, keys, y)` runs a copy of `fn` whose
globals (and closure cells) see `math` and `numpy` replaced by shims mapping their
elementary functions to SymPy ones, with the scalar inputs named by `keys` (int:
positional index, str: keyword name) replaced by real symbols. It differentiates
the resulting expression and evaluates each partial at the point, returning floats.
Anything that prevents a faithful symbolic evaluation (branching on a symbol,
`float(symbol)`, an unmapped function, a non-real or non-finite result, a symbolic
value that disagrees with the numeric output `y`) raises `SympyUnavailable`; the
caller then falls back to finite differences or reports the reason.
"""
from __future__ import annotations

import math
import types
from typing import Any, Callable, Sequence

import numpy as np
import sympy

__all__ = ["SympyUnavailable", "symbolic_copy", "sympy_gradient"]


class SympyUnavailable(Exception):
    """The function could not be evaluated faithfully on SymPy symbols."""


def _log_base(b: int) -> Callable[[Any], Any]:
    return lambda x: sympy.log(x) / sympy.log(b)


_COMMON: dict[str, Any] = {
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan,
    "sinh": sympy.sinh, "cosh": sympy.cosh, "tanh": sympy.tanh,
    "exp": sympy.exp, "expm1": lambda x: sympy.exp(x) - 1,
    "log": sympy.log, "log1p": lambda x: sympy.log(1 + x),
    "log2": _log_base(2), "log10": _log_base(10),
    "sqrt": sympy.sqrt, "hypot": lambda x, y: sympy.sqrt(x**2 + y**2),
    "fabs": sympy.Abs, "pi": sympy.pi, "e": sympy.E,
    "degrees": lambda x: x * 180 / sympy.pi, "radians": lambda x: x * sympy.pi / 180,
}
_MATH: dict[str, Any] = {
    **_COMMON,
    "asin": sympy.asin, "acos": sympy.acos, "atan": sympy.atan, "atan2": sympy.atan2,
    "asinh": sympy.asinh, "acosh": sympy.acosh, "atanh": sympy.atanh,
    "pow": sympy.Pow, "erf": sympy.erf, "erfc": sympy.erfc,
    "gamma": sympy.gamma, "lgamma": sympy.loggamma,
}
_NUMPY: dict[str, Any] = {
    **_COMMON,
    "arcsin": sympy.asin, "arccos": sympy.acos, "arctan": sympy.atan, "arctan2": sympy.atan2,
    "arcsinh": sympy.asinh, "arccosh": sympy.acosh, "arctanh": sympy.atanh,
    "power": sympy.Pow, "square": lambda x: x**2, "exp2": lambda x: 2**x,
    "cbrt": lambda x: sympy.sign(x) * sympy.Abs(x) ** sympy.Rational(1, 3),
    "abs": sympy.Abs, "absolute": sympy.Abs, "negative": lambda x: -x,
    "reciprocal": lambda x: 1 / x, "maximum": sympy.Max, "minimum": sympy.Min,
    "float64": lambda x: x, "float32": lambda x: x,
}

_MATH_SHIM = types.SimpleNamespace(**_MATH)
_NUMPY_SHIM = types.SimpleNamespace(**_NUMPY)

# `from math import sin` / `from numpy import tanh`: map the very objects by identity.
_BY_ID: dict[int, Any] = {}
for _mod, _table in ((math, _MATH), (np, _NUMPY)):
    for _name, _sym in _table.items():
        _obj = getattr(_mod, _name, None)
        if callable(_obj):  # constants (pi, e) are plain floats: identity is meaningless
            _BY_ID[id(_obj)] = _sym


class _Rebinder:
    """Copies functions of one module onto shimmed globals; memoised so that
    recursion (also through closure cells) terminates and maps to the copies."""

    def __init__(self, orig_globals: dict):
        self.orig = orig_globals
        self.globals: dict = dict(orig_globals)
        self.memo: dict[int, types.FunctionType] = {}
        for name, v in orig_globals.items():
            self.globals[name] = self.shim(v)

    def shim(self, v: Any) -> Any:
        if v is math:
            return _MATH_SHIM
        if v is np:
            return _NUMPY_SHIM
        if callable(v) and id(v) in _BY_ID:
            return _BY_ID[id(v)]
        if isinstance(v, types.FunctionType) and v.__globals__ is self.orig:
            return self.rebind(v)  # same-module helper: shim it too
        return v

    def rebind(self, fn: types.FunctionType) -> types.FunctionType:
        if id(fn) in self.memo:
            return self.memo[id(fn)]
        cells = None if fn.__closure__ is None else tuple(types.CellType() for _ in fn.__closure__)
        new = types.FunctionType(fn.__code__, self.globals, fn.__name__, fn.__defaults__, cells)
        new.__kwdefaults__ = fn.__kwdefaults__
        self.memo[id(fn)] = new
        for old, cell in zip(fn.__closure__ or (), cells or ()):
            try:
                content = old.cell_contents
            except ValueError:  # empty cell: leave the copy empty too
                continue
            cell.cell_contents = self.shim(content)
        return new


def symbolic_copy(fn: types.FunctionType) -> types.FunctionType:
    """A copy of `fn` that sees SymPy-backed `math`/`numpy` (also in same-module helpers)."""
    if not isinstance(fn, types.FunctionType):
        raise SympyUnavailable(f"{fn!r} is not a plain Python function")
    return _Rebinder(fn.__globals__).rebind(fn)


def _to_float(value: Any, what: str) -> float:
    try:
        c = complex(value)
    except (TypeError, ValueError) as exc:
        raise SympyUnavailable(f"{what} did not evaluate to a number: {value}") from exc
    if abs(c.imag) > 1e-14 * max(1.0, abs(c.real)) or not math.isfinite(c.real):
        raise SympyUnavailable(f"{what} is not a finite real number: {value}")
    return c.real


def sympy_gradient(fn: types.FunctionType, args: Sequence[Any], kwargs: dict[str, Any],
                   keys: Sequence[int | str], y: float) -> list[float]:
    """Partials of scalar `fn` w.r.t. the scalar inputs named by `keys`, via SymPy."""
    symbols = [sympy.Symbol(f"_adjc_x{i}", real=True) for i in range(len(keys))]
    a, kw = list(args), dict(kwargs)
    point: dict[sympy.Symbol, Any] = {}
    for key, s in zip(keys, symbols):
        value = a[key] if isinstance(key, int) else kw[key]
        exact_int = isinstance(value, (int, np.integer))
        point[s] = sympy.Integer(int(value)) if exact_int else sympy.Float(float(value), 30)
        if isinstance(key, int):
            a[key] = s
        else:
            kw[key] = s
    try:
        out = symbolic_copy(fn)(*a, **kw)
        expr = sympy.sympify(out)
    except SympyUnavailable:
        raise
    except Exception as exc:  # branching on a symbol, float(symbol), unmapped name, ...
        raise SympyUnavailable(f"{type(exc).__name__}: {exc}") from exc
    if not isinstance(expr, sympy.Expr):
        raise SympyUnavailable(f"symbolic result is not a scalar expression: {type(out).__name__}")
    value = _to_float(expr.evalf(30, subs=point), "symbolic value")
    if not abs(value - y) <= 1e-6 * max(1.0, abs(y)):  # catches unfaithful shims, nan vs complex
        raise SympyUnavailable(f"symbolic value {value!r} disagrees with f's output {y!r}")
    return [_to_float(sympy.diff(expr, s).evalf(30, subs=point), f"d/d{key}")
            for key, s in zip(keys, symbols)]
