"""A corpus of ordinary scientific Python functions run end to end through adjointc.

Each module of this package defines plain module-level functions (adjointc reads
their source with `inspect`) and a list ``CASES`` of :class:`Case` entries. The
reference gradients come from the two independent helpers below, which do not use
adjointc at all:

* :func:`fd_gradient`: central finite differences, element by element, in float64;
* :func:`sympy_gradient`: evaluate a copy of a scalar function on
  SymPy symbols (``math``/``np`` replaced by shims) and differentiate exactly
  (comparisons are decided at the point: the path taken there).
"""
from __future__ import annotations

import importlib.util
import inspect
import sys
import types
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import sympy as sp

__all__ = ["Case", "A", "bug", "rng_for", "fd_gradient", "sympy_gradient", "copy_value",
           "wrt_names", "bind", "call", "import_file"]


# ----------------------------------------------------------------- case data
class A:
    """Arguments of one call: ``A(1.0, x, k=2.0)``."""

    def __init__(self, *args: Any, **kwargs: Any):
        self.args, self.kwargs = args, kwargs

    def __repr__(self) -> str:
        return f"A({', '.join([_short(a) for a in self.args] + [f'{k}={_short(v)}' for k, v in self.kwargs.items()])})"


def _short(v: Any) -> str:
    if isinstance(v, np.ndarray):
        return f"array(shape={v.shape}, dtype={v.dtype})"
    return repr(v)


@dataclass
class Case:
    """One corpus entry: differentiate `fn` with respect to `wrt` at each of `inputs`.

    inputs: tuples of positional arguments, or :class:`A` objects (with keywords).
    sympy:  the function is scalar-only: also compare with SymPy (along the path taken).
    rtol:   tolerance against finite differences, relative to max(1, |reference|).
    bugs:   {test kind: reason} for known compiler bugs; kinds are "grad"
            (finite differences, shape/dtype, inputs unchanged), "value" and "sympy".
            Each becomes a strict xfail of that test only.
    """
    fn: Callable
    wrt: Any
    inputs: Sequence[Any]
    sympy: bool = False
    rtol: float = 1e-5
    bugs: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.fn.__name__

    def calls(self) -> list[A]:
        return [i if isinstance(i, A) else A(*i) for i in self.inputs]


def bug(reason: str, *kinds: str) -> dict:
    """``bugs=bug("wrong sign", "grad")``: a known bug in the listed tests (default: all)."""
    return {k: reason for k in (kinds or ("grad", "value", "sympy"))}


def rng_for(name: str) -> np.random.Generator:
    """A deterministic generator per corpus module."""
    return np.random.default_rng(sum(map(ord, name)) * 7919)


def samplers(name: str):
    """`_u(lo, hi)` (a float) and `_n(*shape)` (a normal array) drawing from rng_for(name)."""
    r = rng_for(name)
    return (lambda lo, hi: float(r.uniform(lo, hi))), (lambda *shape: r.normal(size=shape))


# ----------------------------------------------------------------- plumbing
def copy_value(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return v.copy()
    if isinstance(v, list):
        return [copy_value(x) for x in v]
    if isinstance(v, tuple):
        items = [copy_value(x) for x in v]
        return type(v)._make(items) if hasattr(type(v), "_make") else tuple(items)  # (a namedtuple stays one)
    return v


def wrt_names(fn: Callable, wrt: Any) -> tuple[tuple[str, ...], bool]:
    """Parameter names for `wrt` (as adjointc.grad reads it) and whether the result is single."""
    names = list(inspect.signature(fn).parameters)
    single = wrt is None or isinstance(wrt, (int, str))
    items = [0] if wrt is None else ([wrt] if single else list(wrt))
    return tuple(names[w] if isinstance(w, int) else w for w in items), single


def bind(fn: Callable, a: A) -> inspect.BoundArguments:
    """Bound arguments (defaults applied) over fresh copies of the values."""
    b = inspect.signature(fn).bind(*[copy_value(x) for x in a.args],
                                   **{k: copy_value(v) for k, v in a.kwargs.items()})
    b.apply_defaults()
    return b


def call(fn: Callable, a: A, /, **replace: Any) -> Any:
    """fn(*a.args, **a.kwargs) on copies, with some parameters replaced by name."""
    b = bind(fn, a)
    for k, v in replace.items():
        b.arguments[k] = v
    return fn(*b.args, **b.kwargs)


# --------------------------------------------------------- finite differences
def fd_gradient(fn: Callable, a: A, names: Sequence[str], rel_step: float = 1e-6) -> list[Any]:
    """Central differences of the scalar fn at `a` w.r.t. each named parameter.

    Scalars give a float, arrays an array of the same shape (float64). The step is
    rel_step * max(1, |x|) per element; the inputs are never modified."""
    base = bind(fn, a).arguments
    out: list[Any] = []
    for name in names:
        x = base[name]
        if isinstance(x, np.ndarray):
            x = np.asarray(x, dtype=np.float64)
            g = np.zeros(x.shape)
            for idx in np.ndindex(x.shape):
                h = rel_step * max(1.0, abs(float(x[idx])))
                xp, xm = x.copy(), x.copy()
                xp[idx] += h
                xm[idx] -= h
                fp = float(call(fn, a, **{name: xp.copy()}))
                fm = float(call(fn, a, **{name: xm.copy()}))
                g[idx] = (fp - fm) / (xp[idx] - xm[idx])
            out.append(g)
        else:
            x = float(x)
            h = rel_step * max(1.0, abs(x))
            xp, xm = x + h, x - h
            out.append((float(call(fn, a, **{name: xp})) - float(call(fn, a, **{name: xm}))) / (xp - xm))
    return out


# --------------------------------------------------------------------- sympy
def _log(x, base=None):
    return sp.log(x) if base is None else sp.log(x) / sp.log(base)


_SCALAR = {
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh,
    "exp": sp.exp, "expm1": lambda x: sp.exp(x) - 1, "log": _log, "log1p": lambda x: sp.log(1 + x),
    "log2": lambda x: sp.log(x) / sp.log(2), "log10": lambda x: sp.log(x) / sp.log(10),
    "sqrt": sp.sqrt, "pi": sp.pi, "e": sp.E,
}
MATH_SHIM = types.SimpleNamespace(
    **_SCALAR, asin=sp.asin, acos=sp.acos, atan=sp.atan, atan2=sp.atan2,
    asinh=sp.asinh, acosh=sp.acosh, atanh=sp.atanh, pow=lambda x, y: x ** y,
    hypot=lambda x, y: sp.sqrt(x * x + y * y), fabs=sp.Abs, erf=sp.erf, erfc=sp.erfc,
    degrees=lambda x: x * 180 / sp.pi, radians=lambda x: x * sp.pi / 180)
NUMPY_SHIM = types.SimpleNamespace(
    **_SCALAR, arcsin=sp.asin, arccos=sp.acos, arctan=sp.atan, arctan2=sp.atan2,
    arcsinh=sp.asinh, arccosh=sp.acosh, arctanh=sp.atanh, power=lambda x, y: x ** y,
    square=lambda x: x * x, abs=sp.Abs, absolute=sp.Abs, float64=lambda x: x)


class _BranchAt:
    """While active, a comparison of symbolic values (`if s > 2.0:`, `while s < 1.0:`)
    is decided at the numeric point: evaluating fn on symbols then follows the path
    fn takes there, and its expression is that path's, exact. (Only
    `Relational.__bool__` changes; building a comparison is untouched.)"""

    def __init__(self, point: dict):
        self.point = point

    def __enter__(self) -> None:
        from sympy.core.relational import Relational
        self.saved = Relational.__bool__
        point = self.point

        def decide(rel):
            v = rel.subs(point)
            if v not in (sp.true, sp.false):
                raise TypeError(f"cannot decide {rel} at the point")
            return bool(v)
        Relational.__bool__ = decide

    def __exit__(self, *exc) -> None:
        from sympy.core.relational import Relational
        Relational.__bool__ = self.saved


def sympy_gradient(fn: Callable, a: A, names: Sequence[str]) -> list[float] | None:
    """Exact partial derivatives of a scalar fn at `a` along the path it takes there
    (branches and loop exits on values are decided at `a`, see `_BranchAt`), or None
    when the function cannot be evaluated on symbols (an unmapped call...)."""
    g = dict(fn.__globals__)
    for k, v in list(g.items()):
        if v is np:
            g[k] = NUMPY_SHIM
        elif isinstance(v, types.ModuleType) and v.__name__ == "math":
            g[k] = MATH_SHIM
    copy = types.FunctionType(fn.__code__, g, fn.__name__, fn.__defaults__, fn.__closure__)
    copy.__kwdefaults__ = fn.__kwdefaults__
    b = bind(fn, a)
    symbols = {n: sp.Symbol(n, real=True) for n in names}
    point = {}
    for n in names:
        if isinstance(b.arguments[n], np.ndarray):
            return None
        point[symbols[n]] = sp.Float(float(b.arguments[n]), 30)
        b.arguments[n] = symbols[n]
    try:
        with _BranchAt(point):
            expr = sp.sympify(copy(*b.args, **b.kwargs))
        value = complex(expr.subs(point).evalf(30))
        if value.imag != 0 or not np.isfinite(value.real):
            return None
        return [float(sp.diff(expr, symbols[n]).subs(point).evalf(30)) for n in names]
    except Exception:  # noqa: BLE001  any failure means "not sympy-checkable"
        return None


def import_file(path: Any, name: str) -> types.ModuleType:
    """Import the file at `path` as a new module `name` (registered in sys.modules, so
    adjointc reads its functions' source the ordinary way, with inspect)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
