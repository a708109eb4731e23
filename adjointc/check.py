"""Check a gradient function against an independent reference.

Contract of `check(f, *args, wrt=0, gradient=None, ...)`:

* `f` is the function whose gradient is checked (any callable returning a real scalar,
  or an object whose `.primal` is one; the default `gradient` needs what `adjointc.grad`
  accepts); `args`/`kwargs` are the point. `f` must not itself be a gradient (`check(grad(f), x)` would check a second
  derivative, which adjointc cannot compute yet: refused with UnsupportedFunction); to
  check a gradient object `g = grad(f, wrt=w)`, pass `check(f, x, wrt=w, gradient=g)`.
  An `lru_cache`/`cache` wrapper is called through its `__wrapped__` function (the same
  values for the pure function a memo requires; arrays are not hashable). `wrt` is an int (positional index), a
  str (parameter name), or a tuple of those, like `jax.grad`'s argnums.
* `gradient` has f's call signature and returns the gradient w.r.t. `wrt`: one value
  for a single int/str, a tuple for a tuple. Default: `adjointc.api.grad(f, wrt=wrt)`.
* Reference: SymPy (f re-run on symbols, see `sympy_bridge`) when every wrt input is a
  real scalar and the symbolic run is faithful; otherwise central finite differences in
  float64. `method` = "auto" | "sympy" (error if impossible) | "fd".
* Pass criterion, per element (np.allclose style): |g - r| <= atol + rtol * |r|.
  Defaults: SymPy rtol=1e-9, atol=1e-12; FD rtol=1e-5, atol=1e-7.
* Reported errors, per wrt input: max_abs_error = max |g - r|;
  max_rel_error = max |g - r| / max(|r|, atol / rtol). Below |r| = atol/rtol the
  absolute tolerance dominates, so the error is measured relative to that floor rather
  than blowing up near r = 0. Hence max_rel_error <= rtol implies a pass, and a pass
  implies max_rel_error <= 2 * rtol: the number is directly comparable to rtol.
* A gradient of the wrong shape/type fails its row with a message; it never crashes.
  Caller's arrays are never mutated (every call gets fresh copies).
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from .errors import CheckFailed, InvalidArgument

__all__ = ["InputReport", "CheckReport", "check", "numeric_gradient"]

Key = int | str  # positional index into args, or keyword name in kwargs

_TOLERANCES = {"sympy": (1e-9, 1e-12), "fd": (1e-5, 1e-7)}  # (rtol, atol)
# Central differences: truncation error ~ h^2 |f'''| / 6, rounding error ~ u |f| / h
# (u = machine epsilon). Their sum is smallest at h ~ u^(1/3) ~ 6e-6 (times the scale of
# x), giving ~u^(2/3) ~ 4e-11 relative accuracy for well-scaled f: far below FD rtol.
_DEFAULT_EPS = float(np.finfo(np.float64).eps) ** (1.0 / 3.0)


@dataclass
class InputReport:
    name: str
    method: str  # "sympy" | "fd"
    max_rel_error: float
    max_abs_error: float
    passed: bool
    message: str = ""


@dataclass
class CheckReport:
    inputs: list[InputReport]
    passed: bool
    note: str = ""  # e.g. why SymPy was not used in auto mode
    rtol: float = 0.0
    atol: float = 0.0

    def __str__(self) -> str:
        head = ("input", "method", "max abs error", "max rel error", "result")
        rows = [head] + [(r.name, r.method, f"{r.max_abs_error:.3e}", f"{r.max_rel_error:.3e}",
                          "pass" if r.passed else "FAIL") for r in self.inputs]
        widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
        lines.append(f"(pass if |g - ref| <= atol + rtol*|ref|; rtol={self.rtol:g}, atol={self.atol:g})")
        lines += [f"{r.name}: {r.message}" for r in self.inputs if r.message]
        if self.note:
            lines.append(f"note: {self.note}")
        return "\n".join(lines)

    def raise_if_failed(self) -> None:
        if not self.passed:
            bad = ", ".join(r.name for r in self.inputs if not r.passed)
            raise CheckFailed(f"gradient check failed for {bad}\n{self}",
                              hint="the gradient disagrees with the reference; the table shows where")


def _fresh(v: Any) -> Any:
    return v.copy() if isinstance(v, np.ndarray) else v


def _with(args: Sequence[Any], kwargs: dict[str, Any], key: Key | None = None, value: Any = None):
    a, kw = [_fresh(v) for v in args], {k: _fresh(v) for k, v in kwargs.items()}
    if isinstance(key, int):
        a[key] = value
    elif key is not None:
        kw[key] = value
    return a, kw


def _get(args: Sequence[Any], kwargs: dict[str, Any], key: Key) -> Any:
    return args[key] if isinstance(key, int) else kwargs[key]


def _scalar_output(y: Any) -> float:
    if np.ndim(y) != 0:
        raise ValueError(f"f returned a value of shape {np.shape(y)}; check() needs a scalar output. "
                         "For non-scalar outputs, check a vector-Jacobian product (vjp) instead.")
    if np.iscomplexobj(y):
        raise ValueError("f returned a complex value; check() handles real scalar outputs only")
    try:
        return float(y)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"f returned {type(y).__name__}, not a real scalar") from exc


def _is_scalar(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _as_float64(v: Any, name: str) -> float | np.ndarray:
    """The wrt value as float64 (a fresh copy for arrays); ValueError if not differentiable."""
    if _is_scalar(v):
        return float(v)
    if isinstance(v, np.ndarray) and v.dtype.kind == "f":
        return v.astype(np.float64, copy=True)
    if isinstance(v, np.ndarray):
        raise ValueError(f"wrt input {name!r} has dtype {v.dtype}; only floating-point arrays "
                         "have a derivative (integer/bool/complex/object arrays do not)")
    raise ValueError(f"wrt input {name!r} is a {type(v).__name__}; pass a float, int or float ndarray")


def numeric_gradient(f: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any] | None,
                     wrt_index_list: Sequence[Key], eps: float | None = None) -> list[np.ndarray | float]:
    """Central-difference gradient of scalar `f(*args, **kwargs)` w.r.t. each key in
    `wrt_index_list` (int: positional index, str: keyword name). Arrays are perturbed one
    element at a time on a float64 copy with step h_i = eps * max(1, |x_i|) (eps default
    u^(1/3)); returns a float for scalar inputs, a float64 array of x's shape otherwise."""
    kwargs = dict(kwargs or {})
    rel = _DEFAULT_EPS if eps is None else float(eps)
    out: list[np.ndarray | float] = []
    for key in wrt_index_list:
        x0 = _as_float64(_get(args, kwargs, key), str(key))

        def at(x: Any) -> float:
            a, kw = _with(args, kwargs, key, x)
            return _scalar_output(f(*a, **kw))

        def diff(xi: float, set_x: Callable[[float], Any]) -> float:
            h = rel * max(1.0, abs(xi))
            h = (xi + h) - xi  # make the step exactly representable
            return (at(set_x(xi + h)) - at(set_x(xi - h))) / (2.0 * h)

        if isinstance(x0, float):
            out.append(diff(x0, lambda v: v))
            continue
        g = np.empty(x0.shape, dtype=np.float64)
        for i in range(x0.size):
            def set_x(v: float, i: int = i) -> np.ndarray:
                x = x0.copy()  # fresh copy per evaluation: f may mutate its input
                x.flat[i] = v
                return x
            g.flat[i] = diff(float(x0.flat[i]), set_x)
        out.append(g)
    return out


def _resolve_wrt(fn: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any],
                 wrt: Any) -> tuple[list[Key], list[str], bool]:
    single = not isinstance(wrt, (tuple, list))
    items = [wrt] if single else list(wrt)
    if not items:  # (a report over no input would "pass" having checked nothing)
        raise InvalidArgument(f"wrt={wrt!r} names no argument: nothing to check")
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = []
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    varargs = next((p.name for p in params if p.kind == p.VAR_POSITIONAL), "args")
    keys: list[Key] = []
    names: list[str] = []
    for w in items:
        if isinstance(w, bool) or not isinstance(w, (int, str)):
            raise InvalidArgument(f"wrt entries must be int or str, got {w!r}")
        if isinstance(w, int):
            i = w + len(args) if w < 0 else w
            if not 0 <= i < len(args):
                raise InvalidArgument(f"wrt={w} is out of range for {len(args)} positional argument(s)")
            keys.append(i)
            names.append(positional[i].name if i < len(positional) else f"{varargs}[{i - len(positional)}]")
        elif w in kwargs:
            keys.append(w)
            names.append(w)
        else:
            idx = next((j for j, p in enumerate(positional) if p.name == w), None)
            if idx is None or idx >= len(args):
                raise InvalidArgument(f"wrt={w!r} names no argument passed to {getattr(fn, '__name__', fn)}"
                                 " (defaults cannot be differentiated; pass the value explicitly)")
            keys.append(idx)
            names.append(w)
    if len(set(keys)) != len(keys):
        raise InvalidArgument(f"wrt={wrt!r} names the same argument twice")
    return keys, names, single


def _compare(name: str, method: str, g: Any, ref: Any, shape: tuple, rtol: float, atol: float) -> InputReport:
    def fail(msg: str) -> InputReport:
        return InputReport(name, method, float("inf"), float("inf"), False, msg)

    try:
        garr = np.asarray(g)
        if garr.dtype.kind not in "biuf":
            return fail(f"gradient is {type(g).__name__} (dtype {garr.dtype}), not real numbers")
        garr = garr.astype(np.float64)
    except (TypeError, ValueError):
        return fail(f"gradient is {type(g).__name__}, not an array of numbers")
    if garr.shape != tuple(shape):
        return fail(f"gradient has shape {garr.shape}, expected {tuple(shape)} (the input's shape)")
    r = np.asarray(ref, dtype=np.float64)
    if not np.all(np.isfinite(r)):
        return fail("reference gradient is not finite (is f defined around the point?)")
    if garr.size == 0:
        return InputReport(name, method, 0.0, 0.0, True)
    err = np.abs(garr - r)  # nan in g -> nan, handled below as failure
    floor = atol / rtol if rtol > 0 else 0.0
    denom = np.maximum(np.abs(r), floor)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(err == 0, 0.0, err / np.where(denom > 0, denom, np.finfo(np.float64).tiny))
    ok = err <= atol + rtol * np.abs(r)
    passed = bool(np.all(ok))
    max_abs = float(np.nanmax(err)) if not np.any(np.isnan(err)) else float("inf")
    max_rel = float(np.max(rel)) if not np.any(np.isnan(rel)) else float("inf")
    msg = ""
    if not passed:
        worst = int(np.argmax(np.where(ok, -1.0, np.nan_to_num(rel, nan=np.inf))))
        index = tuple(int(i) for i in np.unravel_index(worst, garr.shape))
        where = f" at index {index}" if garr.ndim else ""
        msg = f"worst{where}: gradient {float(garr.flat[worst])!r} vs reference {float(r.flat[worst])!r}"
    return InputReport(name, method, max_rel, max_abs, passed, msg)


def _function_to_check(f: Any) -> Callable[..., Any]:
    from .api import Gradient
    if isinstance(f, Gradient):
        from .errors import UnsupportedFunction
        from .frontend import def_loc
        raise UnsupportedFunction(
            f"check({f!r}): checking a second derivative is not supported yet (its argument is already "
            "a gradient)", def_loc(f.primal),
            "to check this gradient object itself, pass the function and it: "
            f"check(f, *args, wrt={f.wrt if len(f.wrt) > 1 else f.wrt[0]!r}, gradient=g); to check a "
            "second derivative, compare grad(g) with finite differences of g")
    if type(f).__name__ == "_lru_cache_wrapper" and hasattr(f, "__wrapped__"):
        return _function_to_check(f.__wrapped__)
    return getattr(f, "primal", f)  # an object holding the function as `.primal`


def check(f: Any, *args: Any, wrt: Any = 0, gradient: Callable[..., Any] | None = None,
          rtol: float | None = None, atol: float | None = None, eps: float | None = None,
          method: str = "auto", raise_on_fail: bool = False, **kwargs: Any) -> CheckReport:
    """Compare `gradient(*args, **kwargs)` with a SymPy or finite-difference reference."""
    if method not in ("auto", "sympy", "fd"):
        raise ValueError(f"method must be 'auto', 'sympy' or 'fd', got {method!r}")
    fn = _function_to_check(f)
    keys, names, single = _resolve_wrt(fn, args, kwargs, wrt)
    values = [_get(args, kwargs, k) for k in keys]
    for v, n in zip(values, names):
        _as_float64(v, n)  # raises on non-differentiable inputs
    a, kw = _with(args, kwargs)
    y = _scalar_output(fn(*a, **kw))
    if gradient is None:
        from adjointc.api import grad
        gradient = grad(fn, wrt=wrt)
    a, kw = _with(args, kwargs)
    got = gradient(*a, **kw)
    shape_note = ""
    if single:
        grads: list[Any] = [got]
    elif isinstance(got, (tuple, list)) and len(got) == len(keys):
        grads = list(got)
    else:
        shape_note = (f"gradient returned {type(got).__name__}"
                      f"{f' of length {len(got)}' if isinstance(got, (tuple, list)) else ''}; "
                      f"expected a tuple of {len(keys)} gradients, one per wrt entry")
        grads = [None] * len(keys)

    refs: list[Any] | None = None
    used, note = "fd", ""
    if method in ("auto", "sympy"):
        non_scalar = [n for v, n in zip(values, names) if not _is_scalar(v)]
        if non_scalar:
            if method == "sympy":
                raise ValueError(f"method='sympy' needs scalar wrt inputs; {non_scalar[0]!r} is an "
                                 "array. Use method='fd' (or 'auto').")
        else:
            from .sympy_bridge import SympyUnavailable, sympy_gradient
            try:
                refs, used = sympy_gradient(fn, args, kwargs, keys, y), "sympy"
            except SympyUnavailable as exc:
                if method == "sympy":
                    raise ValueError(f"method='sympy' is impossible for {getattr(fn, '__name__', fn)}: "
                                     f"{exc}. Use method='fd' (or 'auto').") from exc
                note = f"SymPy not usable ({exc}); used finite differences"
    if refs is None:
        refs = numeric_gradient(fn, args, kwargs, keys, eps)
    d_rtol, d_atol = _TOLERANCES[used]
    rtol = d_rtol if rtol is None else float(rtol)
    atol = d_atol if atol is None else float(atol)
    rows = []
    for n, g, r, v in zip(names, grads, refs, values):
        if shape_note:
            rows.append(InputReport(n, used, float("inf"), float("inf"), False, shape_note))
        else:
            rows.append(_compare(n, used, g, r, np.shape(v), rtol, atol))
    report = CheckReport(rows, all(r.passed for r in rows), note, rtol, atol)
    if raise_on_fail:
        report.raise_if_failed()
    return report
