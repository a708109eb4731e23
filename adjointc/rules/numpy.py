"""Rules for NumPy: elementwise functions, reductions, linear algebra, shapes.

One rule per line where possible. Templates name the parameters as NumPy's
documentation does (ufuncs, which only take positional inputs, use `x` and
`y`). Longer adjoints call the helpers of `adjointc/vjp_helpers.py`.

Signatures list only the options a rule handles correctly: `out=`, `where=`,
`initial=`, `order=` and the like are left out (or made keyword-only so a
positional use cannot shift the others), so using one is a clear binding
error instead of a silently wrong derivative.

Subgradients at kinks and ties follow JAX: abs'(0) = 0 (via sign), maximum /
minimum split `g` 0.5 / 0.5 on ties, max / min reductions split `g` evenly
among tied extrema, clip passes `g` where lo <= x <= hi. Where a norm is 0
(`np.linalg.norm`, `np.hypot`, `np.std`) the adjoint is 0, a subgradient of
the convex function at its minimum (JAX gives nan there); sqrt'(0) = inf, the
true value, is kept. Powers are exact at x == 0 and y == 0 (`power_templates`).

A rule may be handed the symbolic zero `g = 0.0` for an array output (an
adjoint not yet accumulated): templates and helpers must map it to a zero
adjoint (the helpers are `@linear`), which tests/test_rules.py checks for
every case.

Every rule is exercised by the inner-product test in tests/test_rules.py,
which fails when a rule here has no test case.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from .. import types as T
from ..ir import Const
from ..vjp_helpers import einsum_split
from . import BY_OBJECT, defvjp, nondiff, refuse
from .operators import _matmul_result, power_templates, real_result

_NONE = object()   # "not a compile-time constant"


def _const(e: Any) -> Any:
    """The Python value of a constant argument, else _NONE."""
    return e.value if isinstance(e, Const) else _NONE


# ------------------------------------------------------------- result types
# Callables `(types, bound) -> T` for outputs whose rank follows from the
# ranks of the inputs and constant options. When in doubt they answer
# T.UNKNOWN: a too-precise claim could make the compiler drop an unbroadcast.
def _t(types: dict, name: str) -> T.T:
    t = types.get(name)
    return t if isinstance(t, T.T) else T.UNKNOWN


def _rank(t: Any) -> int | None:
    if isinstance(t, T.T):
        if t.kind == "array":
            return t.rank
        if t.kind in ("float", "int", "bool", "complex"):
            return 0
        if t.kind in ("list", "tuple") and t.elts:
            inner = {_rank(e) for e in t.elts}
            return None if len(inner) != 1 or None in inner else 1 + inner.pop()
    return None


def _dtype(t: Any) -> str | None:
    if isinstance(t, T.T):
        if t.kind == "array":
            return t.dtype
        return {"float": "f", "int": "i", "bool": "b", "complex": "c"}.get(t.kind)
    return None


def _arr(rank: int | None, dtype: str | None = "f") -> T.T:
    """A fresh array type; rank 0 is a NumPy scalar (float-like)."""
    if rank is None or rank < 0:
        return T.UNKNOWN
    if rank == 0 and dtype in ("f", None):
        return T.FLOAT
    return T.array(rank, dtype=dtype)


def _ndim_of_const(e: Any) -> int | None:
    """len() of a constant shape/axis argument (an int counts as 1)."""
    v = _const(e)
    if v is _NONE:
        return None
    return 1 if np.ndim(v) == 0 else len(v)


def _same_rank(name: str):
    """Same rank and dtype as `name`, but not provably the same shape."""
    def result(types, bound):
        t = _t(types, name)
        return _arr(_rank(t), _dtype(t))
    return result


def _flat_unless_axis(types, bound):
    """sort/cumsum/cumprod: 1-D for axis=None, else the input's shape."""
    axis = _const(bound.get("axis"))
    t = _t(types, "a")
    if axis is None:
        return _arr(1, _dtype(t))
    return t if axis is not _NONE and t.kind == "array" else T.UNKNOWN


def _reshape_result(types, bound):
    shape = bound["shape"] if _const(bound.get("shape")) is not None else bound.get("newshape")
    return _arr(_ndim_of_const(shape), _dtype(_t(types, "a")))


def _rank_plus(delta: int, name: str = "a", axis: str | None = None):
    """Rank of `name` plus `delta` (times the number of constant axes, if given)."""
    def result(types, bound):
        r = _rank(_t(types, name))
        if r is None:
            return T.UNKNOWN
        n = 1
        if axis is not None:
            n = _ndim_of_const(bound[axis])
            if n is None:
                return T.UNKNOWN
        return _arr(r + delta * n, _dtype(_t(types, name)))
    return result


def _squeeze_result(types, bound):
    if _const(bound["axis"]) is None:   # depends on which dims are 1: unknown statically
        return T.UNKNOWN
    return _rank_plus(-1, axis="axis")(types, bound)


def _dims_of(e: Any, t: Any) -> tuple[int | None, Any]:
    """(rank, symbolic shape or None) of a shape argument: a constant, an int
    known to be an array's length (`len(u)`, `u.shape[0]`), or a tuple of those."""
    v = _const(e)
    if v is not _NONE:
        vals = (v,) if np.ndim(v) == 0 else tuple(v)
        if all(isinstance(x, (int, np.integer)) for x in vals):
            return len(vals), tuple((None, int(x)) for x in vals)
        return len(vals), None
    if isinstance(t, T.T) and t.kind == "int":
        return 1, ((t.shape,) if t.shape is not None else None)
    if isinstance(t, T.T) and t.kind == "tuple" and t.elts and all(x.kind == "int" for x in t.elts):
        dims = tuple(x.shape for x in t.elts)
        return len(dims), (dims if all(d is not None for d in dims) else None)
    return None, None


def _shape_arg_result(name: str):
    def result(types, bound):
        rank, shape = _dims_of(bound[name], types.get(name))
        if rank is None:
            return T.UNKNOWN
        return T.array(rank, shape, dtype=None) if rank else T.FLOAT
    return result


def _broadcast_to_result(types, bound):
    return _arr(_ndim_of_const(bound["shape"]), _dtype(_t(types, "array")))


def _elts(types, name) -> tuple:
    t = types.get(name)
    if isinstance(t, T.T) and t.kind in ("list", "tuple"):
        return t.elts
    return ()


def _concatenate_result(types, bound):
    if _const(bound["axis"]) is None:
        return _arr(1)
    ranks = {_rank(e) for e in _elts(types, "arrays")}
    return _arr(ranks.pop()) if len(ranks) == 1 else T.UNKNOWN


def _append_result(types, bound):
    axis = _const(bound["axis"])
    if axis is None:
        return _arr(1, _dtype(T.broadcast(_t(types, "arr"), _t(types, "values"))))
    return _same_rank("arr")(types, bound) if axis is not _NONE else T.UNKNOWN


def _stack_result(types, bound):
    ranks = {_rank(e) for e in _elts(types, "arrays")}
    r = ranks.pop() if len(ranks) == 1 else None
    return _arr(None if r is None else r + 1)


def _atleast(n: int, name: str = "tup"):
    def result(types, bound):
        ranks = {_rank(e) for e in _elts(types, name)}
        r = ranks.pop() if len(ranks) == 1 else None
        return _arr(None if r is None else max(r, n))
    return result


def _atleast_vararg(n: int):
    def result(types, bound):
        arys = types.get("arys")
        if not isinstance(arys, tuple) or len(arys) != 1:
            return T.UNKNOWN
        r = _rank(arys[0])
        return T.UNKNOWN if r is None else T.array(max(r, n), dtype=_dtype(arys[0]))
    return result


def _array_result(types, bound):
    t = _t(types, "object")
    dtype = "f" if _const(bound.get("dtype")) is None else None
    if t.kind == "array":      # a copy: same shape
        return t if dtype else replace(t, dtype=None)
    r = _rank(t)
    return T.UNKNOWN if r is None else T.array(r, dtype=dtype)


def _dot_result(types, bound):
    ra, rb = _rank(_t(types, "a")), _rank(_t(types, "b"))
    if ra is None or rb is None:
        return T.UNKNOWN
    if ra == 0 or rb == 0:
        return _arr(ra + rb)
    return _arr(ra + rb - 2 if rb >= 2 else ra - 1)


def _inner_result(types, bound):
    ra, rb = _rank(_t(types, "a")), _rank(_t(types, "b"))
    if ra is None or rb is None:
        return T.UNKNOWN
    return _arr(ra + rb if 0 in (ra, rb) else ra + rb - 2)


def _tensordot_result(types, bound):
    ra, rb = _rank(_t(types, "a")), _rank(_t(types, "b"))
    axes = _const(bound["axes"])
    if ra is None or rb is None or axes is _NONE:
        return T.UNKNOWN
    n = axes if np.ndim(axes) == 0 else (1 if np.ndim(axes[0]) == 0 else len(axes[0]))
    return _arr(ra + rb - 2 * int(n))


def _einsum_result(types, bound):
    subs = _const(bound["subscripts"])
    if not isinstance(subs, str):
        return T.UNKNOWN
    ins, out = einsum_split(subs)
    if "..." not in out:
        return _arr(len(out))
    ranks = [_rank(t) for t in types.get("operands", ())]
    if len(ranks) != len(ins) or None in ranks:
        return T.UNKNOWN
    ell = max((r - (len(s) - 3) for s, r in zip(ins, ranks) if "..." in s), default=0)
    return _arr(len(out) - 3 + ell)


def _where_result(types, bound):
    if _const(bound["x"]) is None:            # one-argument where: a tuple of indices
        return T.T("object")
    full = T.broadcast(_t(types, "condition"), _t(types, "x"), _t(types, "y"))
    xy = T.broadcast(_t(types, "x"), _t(types, "y"))   # the dtype comes from x and y only
    if full.kind == "array":
        return replace(full, dtype=_dtype(xy))
    return full if full.kind in ("unknown", "object") else xy


def _clip_result(types, bound):
    ts = [_t(types, p) for p in ("a", "a_min", "a_max", "min", "max")
          if _const(bound.get(p)) is not None]
    return T.broadcast(*ts)


def _take_result(types, bound):
    ri = _rank(_t(types, "indices"))
    if ri is None and _const(bound["indices"]) is not _NONE:
        ri = np.ndim(_const(bound["indices"]))
    axis = _const(bound["axis"])
    if ri is None or axis is _NONE:
        return T.UNKNOWN
    if axis is None:
        return _arr(ri)
    ra = _rank(_t(types, "a"))
    return T.UNKNOWN if ra is None else _arr(ra - 1 + ri)


def _repeat_result(types, bound):
    axis = _const(bound["axis"])
    if axis is None:
        return _arr(1)
    return _same_rank("a")(types, bound) if axis is not _NONE else T.UNKNOWN


def _tile_result(types, bound):
    r, n = _rank(_t(types, "A")), _ndim_of_const(bound["reps"])
    return T.UNKNOWN if r is None or n is None else _arr(max(r, n))


def _diag_result(types, bound):
    r = _rank(_t(types, "v"))
    return {1: _arr(2), 2: _arr(1)}.get(r, T.UNKNOWN)


def _tri_result(types, bound):
    t = _t(types, "m")
    if t.kind == "array" and t.rank is not None and t.rank >= 2:
        return t
    return _arr(2) if _rank(t) == 1 else T.UNKNOWN


def _interp_result(types, bound):
    t = _t(types, "x")
    return _arr(_rank(t))


def _solve_result(types, bound):
    ra, rb = _rank(_t(types, "a")), _rank(_t(types, "b"))
    if ra is None or rb is None:
        return T.UNKNOWN
    return _arr(ra - 1 if rb == 1 else max(ra, rb))


def _det_result(types, bound):
    r = _rank(_t(types, "a"))
    return T.UNKNOWN if r is None else _arr(r - 2)


def _pair(first, second):
    def result(types, bound):
        a, b = first(types, bound), second(types, bound)
        return T.UNKNOWN if T.UNKNOWN in (a, b) else T.T("tuple", elts=(a, b))
    return result


def _linspace_result(types, bound):
    r = _rank(T.broadcast(_t(types, "start"), _t(types, "stop")))
    dtype = "f" if _const(bound["dtype"]) is None else None
    n_rank, n_shape = _dims_of(bound["num"], types.get("num"))
    if r == 0 and n_rank == 1 and n_shape is not None:  # `np.linspace(0, 1, u.shape[0])`: u's length
        return T.array(1, n_shape, dtype)
    return _arr(None if r is None else r + 1, dtype)


def _full_like_result(types, bound):
    t = _t(types, "a")
    if _const(bound["dtype"]) is not None:      # dtype changed: same shape, unknown dtype
        return replace(t, dtype=None) if t.kind == "array" else T.UNKNOWN
    return t


def _arg_reduce_result(types, bound):
    axis, r = _const(bound["axis"]), _rank(_t(types, "a"))
    if axis is None:
        return T.INT
    return T.UNKNOWN if axis is _NONE or r is None else T.array(r - 1, dtype="i")


# ------------------------------------------------------ elementwise (unary)
defvjp(np.sin, "x", x="g * np.cos(x)")
defvjp(np.cos, "x", x="-g * np.sin(x)")
defvjp(np.tan, "x", x="g * (1 + ans * ans)")
defvjp(np.arcsin, "x", x="g / np.sqrt(1 - x * x)")
defvjp(np.arccos, "x", x="-g / np.sqrt(1 - x * x)")
defvjp(np.arctan, "x", x="g / (1 + x * x)")
defvjp(np.sinh, "x", x="g * np.cosh(x)")
defvjp(np.cosh, "x", x="g * np.sinh(x)")
defvjp(np.tanh, "x", x="g * (1 - ans * ans)")
defvjp(np.arcsinh, "x", x="g / np.sqrt(x * x + 1)")
defvjp(np.arccosh, "x", x="g / np.sqrt(x * x - 1)")
defvjp(np.arctanh, "x", x="g / (1 - x * x)")
defvjp(np.exp, "x", x="g * ans")
defvjp(np.expm1, "x", x="g * (ans + 1)")
defvjp(np.exp2, "x", x="g * ans * np.log(2)")
defvjp(np.log, "x", x="g / x")
defvjp(np.log1p, "x", x="g / (1 + x)")
defvjp(np.log2, "x", x="g / (x * np.log(2))")
defvjp(np.log10, "x", x="g / (x * np.log(10))")
defvjp(np.sqrt, "x", x="g / (2 * ans)")
defvjp(np.cbrt, "x", x="g / (3 * ans * ans)")
defvjp(np.square, "x", x="2 * g * x")
defvjp(np.reciprocal, "x", x="-g * ans * ans")
defvjp(np.negative, "x", x="-g")
defvjp(np.positive, "x", x="g")
defvjp(np.absolute, "x", x="g * np.sign(x)", result=real_result)     # np.abs is np.absolute; abs'(0) = 0
defvjp(np.fabs, "x", x="g * np.sign(x)", result=real_result)
defvjp(np.sinc, "x", x="g * dsinc(x)")
defvjp(np.deg2rad, "x", x="g * (np.pi / 180)")
defvjp(np.radians, "x", x="g * (np.pi / 180)")
defvjp(np.rad2deg, "x", x="g * (180 / np.pi)")
defvjp(np.degrees, "x", x="g * (180 / np.pi)")
defvjp(np.real, "val", val="g", result=real_result)    # real inputs only
defvjp(np.conjugate, "x", x="np.conj(g)")

# ----------------------------------------------------- elementwise (binary)
# Broadcasting: each adjoint is summed back to its input's shape.
defvjp(np.add, "x, y", x="unbroadcast(g, x)", y="unbroadcast(g, y)")
defvjp(np.subtract, "x, y", x="unbroadcast(g, x)", y="unbroadcast(-g, y)")
defvjp(np.multiply, "x, y", x="unbroadcast(g * y, x)", y="unbroadcast(g * x, y)")
defvjp(np.divide, "x, y", x="unbroadcast(g / y, x)", y="unbroadcast(-g * ans / y, y)")
defvjp(np.power, "x, y")(power_templates)   # exact at x == 0, y == 0 (see operators.py)
defvjp(np.arctan2, "y, x", y="unbroadcast(g * x / (x * x + y * y), y)",
       x="unbroadcast(-g * y / (x * x + y * y), x)")
defvjp(np.hypot, "x, y", x="unbroadcast(g * div0(x, ans), x)", y="unbroadcast(g * div0(y, ans), y)")
defvjp(np.logaddexp, "x, y", x="unbroadcast(g * np.exp(x - ans), x)",
       y="unbroadcast(g * np.exp(y - ans), y)")
defvjp(np.logaddexp2, "x, y", x="unbroadcast(g * np.exp2(x - ans), x)",
       y="unbroadcast(g * np.exp2(y - ans), y)")
defvjp(np.mod, "x, y", x="unbroadcast(g, x)", y="unbroadcast(-g * np.floor_divide(x, y), y)")
defvjp(np.fmod, "x, y", x="unbroadcast(g, x)", y="unbroadcast(-g * np.trunc(x / y), y)")
# Ties split 0.5 / 0.5 (JAX). fmax/fmin ignore a NaN operand, so g goes to the other.
defvjp(np.maximum, "x, y", x="unbroadcast(g * ((x > y) + 0.5 * (x == y)), x)",
       y="unbroadcast(g * ((y > x) + 0.5 * (x == y)), y)")
defvjp(np.minimum, "x, y", x="unbroadcast(g * ((x < y) + 0.5 * (x == y)), x)",
       y="unbroadcast(g * ((y < x) + 0.5 * (x == y)), y)")
defvjp(np.fmax, "x, y", x="unbroadcast(g * ((x > y) + 0.5 * (x == y) + np.isnan(y)), x)",
       y="unbroadcast(g * ((y > x) + 0.5 * (x == y) + np.isnan(x)), y)")
defvjp(np.fmin, "x, y", x="unbroadcast(g * ((x < y) + 0.5 * (x == y) + np.isnan(y)), x)",
       y="unbroadcast(g * ((y < x) + 0.5 * (x == y) + np.isnan(x)), y)")


@defvjp(np.where, "condition, x=None, y=None", result=_where_result)
def _where(condition, x, y):
    """x's adjoint is g where condition holds, y's where it does not."""
    if _const(x) is None:       # np.where(condition): indices, no derivative
        return {}
    return {"x": "unbroadcast(np.where(condition, g, 0.0), x)",
            "y": "unbroadcast(np.where(condition, 0.0, g), y)"}


@defvjp(np.clip, "a, a_min=None, a_max=None, *, min=None, max=None", result=_clip_result)
def _clip(a, a_min, a_max, min, max):
    """g passes to `a` where lo <= a <= hi (JAX), to a bound where it is active."""
    lo = "a_min" if _const(a_min) is not None else "min" if _const(min) is not None else None
    hi = "a_max" if _const(a_max) is not None else "max" if _const(max) is not None else None
    inside = " & ".join(f"({c})" for c in ([f"{lo} <= a"] if lo else []) + ([f"a <= {hi}"] if hi else []))
    out = {"a": f"unbroadcast(g * ({inside}), a)" if inside else "unbroadcast(g, a)"}
    if lo:
        out[lo] = f"unbroadcast(g * (a < {lo}), {lo})"
    if hi:
        out[hi] = f"unbroadcast(g * (a > {hi}), {hi})"
    return out


# --------------------------------------------------------------- reductions
# `unreduce(g, a, axis, keepdims)` broadcasts g back over the reduced axes.
R = "reduce"
defvjp(np.sum, "a, axis=None, dtype=None, *, keepdims=False",
       a="unreduce(g, a, axis, keepdims)", result=R)
defvjp(np.mean, "a, axis=None, dtype=None, *, keepdims=False",
       a="unreduce(g, a, axis, keepdims) * np.size(ans) / np.size(a)", result=R)
defvjp(np.prod, "a, axis=None, dtype=None, *, keepdims=False",
       a="unreduce(g, a, axis, keepdims) * prod_of_others(a, axis)", result=R)
defvjp(np.var, "a, axis=None, dtype=None, *, ddof=0, keepdims=False",
       a="unreduce_var(g, a, axis, ddof, keepdims)", result=R)
defvjp(np.std, "a, axis=None, dtype=None, *, ddof=0, keepdims=False",
       a="unreduce_var(div0(g, 2 * ans), a, axis, ddof, keepdims)", result=R)  # std = 0: 0
# max/min: ties share g equally (JAX); NaNs never match, so nanmax/nanmin skip them.
for _f in (np.max, np.amax, np.min, np.amin, np.nanmax, np.nanmin):
    defvjp(_f, "a, axis=None, *, keepdims=False",
           a="unreduce_minmax(g, a, ans, axis, keepdims)", result=R)
defvjp(np.nansum, "a, axis=None, dtype=None, *, keepdims=False",
       a="np.where(np.isnan(a), 0.0, unreduce(g, a, axis, keepdims))", result=R)
defvjp(np.nanmean, "a, axis=None, dtype=None, *, keepdims=False",
       a="np.where(np.isnan(a), 0.0, unreduce(g / np.sum(~np.isnan(a), axis=axis, keepdims=keepdims), a, axis, keepdims))",
       result=R)


@defvjp(np.linalg.norm, "x, ord=None, axis=None, keepdims=False", result=R)
def _norm(x, ord, axis, keepdims):
    """2-norm / Frobenius: x / norm. Other orders: see `norm_vjp`."""
    if _const(ord) is None:
        return {"x": "x * unreduce(div0(g, ans), x, axis, keepdims)"}   # 0 at x = 0 (JAX: nan)
    return {"x": "norm_vjp(g, x, ans, ord, axis, keepdims)"}


# ------------------------------------------------------------ scans, sorting
defvjp(np.cumsum, "a, axis=None, dtype=None", a="uncumsum(g, a, axis)", result=_flat_unless_axis)
defvjp(np.cumprod, "a, axis=None, dtype=None", a="cumprod_vjp(g, a, ans, axis)",
       result=_flat_unless_axis)
defvjp(np.sort, "a, axis=-1, kind=None", a="unsort(g, a, axis)", result=_flat_unless_axis)
defvjp(np.diff, "a, n=1, axis=-1", a="undiff(g, a, n, axis)", result=_same_rank("a"))

# ------------------------------------------------------------ linear algebra
defvjp(np.dot, "a, b", a="dot_lhs(g, a, b)", b="dot_rhs(g, a, b)", result=_dot_result)
defvjp(np.matmul, "x, y", x="matmul_lhs(g, x, y)", y="matmul_rhs(g, x, y)", result=_matmul_result)
defvjp(np.inner, "a, b", a="inner_lhs(g, a, b)", b="inner_rhs(g, a, b)", result=_inner_result)
defvjp(np.outer, "a, b", a="outer_lhs(g, a, b)", b="outer_rhs(g, a, b)",
       result=lambda types, bound: T.array(2))
defvjp(np.vdot, "a, b", a="g * np.reshape(b, np.shape(a))", b="g * np.reshape(a, np.shape(b))",
       result="float")   # real inputs: no conjugation
defvjp(np.tensordot, "a, b, axes=2", a="tensordot_lhs(g, a, b, axes)",
       b="tensordot_rhs(g, a, b, axes)", result=_tensordot_result)
defvjp(np.trace, "a, offset=0, axis1=0, axis2=1, dtype=None",
       a="untrace(g, a, offset, axis1, axis2)", result=_rank_plus(-2))
defvjp(np.linalg.inv, "a", a="inv_vjp(g, ans)", result="same")
defvjp(np.linalg.det, "a", a="det_vjp(g, a, ans)",
       result=_det_result)
defvjp(np.linalg.slogdet, "a", a="slogdet_vjp(g, a)",
       result=_pair(_det_result, _det_result))   # g = (sign_bar, logabsdet_bar)
defvjp(np.linalg.solve, "a, b", a="solve_lhs(g, a, b, ans)", b="solve_rhs(g, a, b)",
       result=_solve_result)
defvjp(np.linalg.eigh, "a, UPLO='L'", a="eigh_vjp(g, a, ans, UPLO)",
       result=_pair(_rank_plus(-1), _same_rank("a")))
defvjp(np.linalg.eigvalsh, "a, UPLO='L'", a="eigvalsh_vjp(g, a, UPLO)", result=_rank_plus(-1))
defvjp(np.linalg.cholesky, "a", a="cholesky_vjp(g, a, ans)", result="same")
if hasattr(np.linalg, "trace"):   # NumPy >= 2: the trace of the last two axes
    defvjp(np.linalg.trace, "x, *, offset=0, dtype=None", x="untrace(g, x, offset, -2, -1)",
           result=_rank_plus(-2, "x"))


@defvjp(np.einsum, "subscripts, *operands, optimize=False", result=_einsum_result)
def _einsum(subscripts, operands, optimize):
    """The adjoint of operand i is an einsum of g with the other operands
    (`einsum_vjp` also handles ellipses anywhere, broadcasting, traces and
    diagonals). Subscripts that are not a constant string, and the interleaved
    sublist form `np.einsum(x, [0, 1], [1, 0])`, go through `einsum_args_vjp`,
    which reads the form at run time."""
    n = len(operands)
    subs = _const(subscripts)
    if isinstance(subs, str):
        everything = "(" + ", ".join(f"operands[{j}]" for j in range(n)) + ("," if n == 1 else "") + ")"
        return {"operands": [f"einsum_vjp(g, {subs!r}, {everything}, {i})" for i in range(n)]}
    args = "(subscripts, " + ", ".join(f"operands[{j}]" for j in range(n)) + ")"
    return {"subscripts": f"einsum_args_vjp(g, {args}, 0)",
            "operands": [None if _const(op) is not _NONE else f"einsum_args_vjp(g, {args}, {j + 1})"
                         for j, op in enumerate(operands)]}   # (constant sublists: no adjoint)


# --------------------------------------------------------------- interpolate
defvjp(np.interp, "x, xp, fp, left=None, right=None",
       x="g * interp_slope(x, xp, fp)", fp="interp_vjp(g, x, xp, left, right)",
       left="np.sum(g * (x < xp[0]))", right="np.sum(g * (x > xp[-1]))",
       result=_interp_result)   # xp: no derivative


# -------------------------------------------------- shapes and rearrangement
defvjp(np.reshape, "a, shape=None, *, newshape=None", a="unreshape(g, a)",
       result=_reshape_result)   # `newshape`: NumPy 1 spelling
defvjp(np.ravel, "a", a="unreshape(g, a)",
       result=lambda types, bound: _arr(1, _dtype(_t(types, "a"))))
defvjp(np.squeeze, "a, axis=None", a="unreshape(g, a)", result=_squeeze_result)
defvjp(np.expand_dims, "a, axis", a="unreshape(g, a)", result=_rank_plus(1, axis="axis"))
defvjp(np.swapaxes, "a, axis1, axis2", a="unswapaxes(g, a, axis1, axis2)", result=_same_rank("a"))
defvjp(np.moveaxis, "a, source, destination", a="unmoveaxis(g, a, source, destination)",
       result=_same_rank("a"))
defvjp(np.broadcast_to, "array, shape", array="unbroadcast(g, array)", result=_broadcast_to_result)
defvjp(np.copy, "a", a="g", result="same")
defvjp(np.flip, "m, axis=None", m="unflip(g, m, axis)", result="same")
defvjp(np.fliplr, "m", m="unflip(g, m, 1)", result="same")
defvjp(np.flipud, "m", m="unflip(g, m, 0)", result="same")
defvjp(np.tril, "m, k=0", m="untril(g, m, k)", result=_tri_result)  # 1-D m: rows broadcast
defvjp(np.triu, "m, k=0", m="untriu(g, m, k)", result=_tri_result)
defvjp(np.diagonal, "a, offset=0, axis1=0, axis2=1", a="undiagonal(g, a, offset, axis1, axis2)",
       result=_rank_plus(-1))
defvjp(np.diag, "v, k=0", v="undiag(g, v, k)", result=_diag_result)
defvjp(np.tile, "A, reps", A="untile(g, A, reps)", result=_tile_result)
defvjp(np.repeat, "a, repeats, axis=None", a="unrepeat(g, a, repeats, axis)", result=_repeat_result)
defvjp(np.take, "a, indices, axis=None", a="untake(g, a, indices, axis)", result=_take_result)
defvjp(np.concatenate, "arrays, axis=0", arrays="unconcatenate(g, arrays, axis)",
       result=_concatenate_result)
defvjp(np.append, "arr, values, axis=None", arr="unappend(g, arr, values, axis, 0)",
       values="unappend(g, arr, values, axis, 1)", result=_append_result)
defvjp(np.stack, "arrays, axis=0", arrays="unstack(g, arrays, axis)", result=_stack_result)
defvjp(np.hstack, "tup", tup="unhstack(g, tup)", result=_atleast(1))
defvjp(np.vstack, "tup", tup="unvstack(g, tup)", result=_atleast(2))
defvjp(np.array, "object, dtype=None", object="unarray(g, object)", result=_array_result)
defvjp(np.asarray, "a, dtype=None", a="unarray(g, a)",
       result=lambda types, bound: _array_result({"object": types.get("a")}, bound))


@defvjp(np.pad, "array, pad_width, mode='constant'", result=_same_rank("array"))
def _pad(array, pad_width, mode):
    """Constant padding: the adjoint cuts the padding off g."""
    if _const(mode) != "constant":
        raise TypeError("np.pad: only mode='constant' is differentiable")
    return {"array": "unpad(g, array, pad_width)"}


defvjp(np.transpose, "a, axes=None", a="untranspose(g, a, axes)", result=_same_rank("a"))
defvjp(np.roll, "a, shift, axis=None", a="unroll(g, a, shift, axis)", result="same")


def _atleast_rule(n: int):
    def rule(arys):
        if len(arys) == 1:
            return {"arys": ["unreshape(g, arys[0])"]}
        return {"arys": [f"unreshape(piece(g, {i}), arys[{i}])" for i in range(len(arys))]}
    return rule


defvjp(np.atleast_1d, "*arys", result=_atleast_vararg(1))(_atleast_rule(1))
defvjp(np.atleast_2d, "*arys", result=_atleast_vararg(2))(_atleast_rule(2))
defvjp(np.atleast_3d, "*arys", result=_atleast_vararg(3))(_atleast_rule(3))

# -------------------------------------------- constructors with a value input
defvjp(np.full, "shape, fill_value, dtype=None", fill_value="unbroadcast(g, fill_value)",
       result=_shape_arg_result("shape"))
defvjp(np.full_like, "a, fill_value, dtype=None", fill_value="unbroadcast(g, fill_value)",
       result=_full_like_result)
# linspace is linear in start and stop: out = start * (1 - t) + stop * t.
defvjp(np.linspace, "start, stop, num=50, endpoint=True, *, dtype=None",
       start="linspace_vjp(g, start, num, endpoint, 1.0)",
       stop="linspace_vjp(g, stop, num, endpoint, 0.0)",
       result=_linspace_result)

# ---------------------------------------------------------- no derivative
# Rounding, sign, tests and comparisons: piecewise constant outputs.
for _f in (np.floor, np.ceil, np.trunc, np.rint, np.fix, np.sign, np.signbit):
    nondiff(_f, "x", result="elementwise")
for _f in (np.round, np.around):
    nondiff(_f, "a, decimals=0", result="elementwise")
for _f in (np.heaviside, np.floor_divide):
    nondiff(_f, "x, y", result="elementwise")
for _f in (np.isnan, np.isinf, np.isfinite, np.isneginf, np.isposinf, np.logical_not):
    nondiff(_f, "x", result="elementwise_bool")
for _f in (np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
           np.logical_and, np.logical_or, np.logical_xor):
    nondiff(_f, "x, y", result="elementwise_bool")
nondiff(np.isclose, "a, b, rtol=1e-05, atol=1e-08, equal_nan=False", result="elementwise_bool")
nondiff(np.allclose, "a, b, rtol=1e-05, atol=1e-08, equal_nan=False", result="bool")
nondiff(np.array_equal, "a1, a2, equal_nan=False", result="bool")
for _f in (np.all, np.any, np.count_nonzero):
    nondiff(_f, "a, axis=None, *, keepdims=False", result="unknown")
# Indices.
for _f in (np.argmax, np.argmin):
    nondiff(_f, "a, axis=None, *, keepdims=False", result=_arg_reduce_result)
nondiff(np.argsort, "a, axis=-1, kind=None, *, stable=None", result="unknown")
for _f in (np.nonzero, np.argwhere):
    nondiff(_f, "a", result="unknown")
nondiff(np.flatnonzero, "a", result=lambda types, bound: T.array(1, dtype="i"))
nondiff(np.searchsorted, "a, v, side='left', sorter=None", result="unknown")
nondiff(np.digitize, "x, bins, right=False", result="unknown")
nondiff(np.unique, "ar, return_index=False, return_inverse=False, return_counts=False, axis=None",
        result="unknown")
# Constructors: the output does not depend on a differentiable value.
for _f in (np.zeros, np.ones, np.empty):
    nondiff(_f, "shape, dtype=None", result=_shape_arg_result("shape"))
for _f in (np.zeros_like, np.ones_like, np.empty_like):
    nondiff(_f, "a, dtype=None", result=_full_like_result)
def _arange_result(types, bound):
    args = bound["args"]
    if len(args) == 1:
        _, shape = _dims_of(args[0], types["args"][0])
        return T.array(1, shape, dtype=None)
    return T.array(1, dtype=None)


nondiff(np.arange, "*args, dtype=None", result=_arange_result)
nondiff(np.eye, "N, M=None, k=0, dtype=None", result=lambda types, bound: T.array(2, dtype=None))
nondiff(np.identity, "n, dtype=None", result=lambda types, bound: T.array(2, dtype=None))
# Shape queries.
nondiff(np.shape, "a", result="object")
nondiff(np.ndim, "a", result="int")
nondiff(np.size, "a, axis=None", result="int")


# ------------------------------------------------------------ refused: np.ma
# A masked array's derivative would flow into masked elements too (NumPy computes
# with the underlying data): refuse every callable of np.ma at transform time.
def _refuse_masked_arrays() -> None:
    for attr, obj in sorted(vars(np.ma).items()):
        if attr.startswith("_") or not callable(obj) or id(obj) in BY_OBJECT \
                or getattr(np, attr, None) is obj:
            continue
        refuse(obj, "masked arrays (np.ma) are not differentiable: the derivative would reach "
               "the masked elements too",
               "keep a boolean mask yourself: np.where(mask, x, 0.0), np.sum(x * mask) or "
               "x[mask]", name=f"np.ma.{attr}")


_refuse_masked_arrays()
