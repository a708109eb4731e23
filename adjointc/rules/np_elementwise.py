"""NumPy's elementwise rules: ufuncs of one and two arguments (broadcasting is
undone by `unbroadcast`), np.where and np.clip, np.interp, and the piecewise
constant ones (rounding, sign, tests, comparisons), which have no derivative.

Tangents (forward mode): an elementwise rule's is derived from its adjoint
template (rules/tangents.py: `unbroadcast(g * D, x)` transposes to `d * D`);
the linear ones say so (`defjvp(f, "linear")`), np.multiply is multilinear,
and np.interp's are written (`defjvp`) next to its adjoints.
"""
from __future__ import annotations

import numpy as np

from . import defjvp, defvjp, nondiff
from .np_results import clip_result, const_value, interp_result, where_result
from .operators import power_templates, real_result


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


@defvjp(np.where, "condition, x=None, y=None", result=where_result)
def _where(condition, x, y):
    """x's adjoint is g where condition holds, y's where it does not."""
    if const_value(x) is None:       # np.where(condition): indices, no derivative
        return {}
    return {"x": "unbroadcast(np.where(condition, g, 0.0), x)",
            "y": "unbroadcast(np.where(condition, 0.0, g), y)"}


@defvjp(np.clip, "a, a_min=None, a_max=None, *, min=None, max=None", result=clip_result)
def _clip(a, a_min, a_max, min, max):
    """g passes to `a` where lo <= a <= hi (JAX), to a bound where it is active."""
    lo = "a_min" if const_value(a_min) is not None else "min" if const_value(min) is not None else None
    hi = "a_max" if const_value(a_max) is not None else "max" if const_value(max) is not None else None
    inside = " & ".join(f"({c})" for c in ([f"{lo} <= a"] if lo else []) + ([f"a <= {hi}"] if hi else []))
    out = {"a": f"unbroadcast(g * ({inside}), a)" if inside else "unbroadcast(g, a)"}
    if lo:
        out[lo] = f"unbroadcast(g * (a < {lo}), {lo})"
    if hi:
        out[hi] = f"unbroadcast(g * (a > {hi}), {hi})"
    return out


# --------------------------------------------------------------- interpolate
defvjp(np.interp, "x, xp, fp, left=None, right=None",
       x="g * interp_slope(x, xp, fp)", fp="interp_vjp(g, x, xp, left, right)",
       left="np.sum(g * (x < xp[0]))", right="np.sum(g * (x > xp[-1]))",
       result=interp_result)   # xp: no derivative
defjvp(np.interp, x="d * interp_slope(x, xp, fp)", fp="interp_jvp(d, x, xp, left, right)",
       left="d * (x < xp[0])", right="d * (x > xp[-1])")

# nan_to_num passes g where x is finite; a replacement value given as an input gets the
# adjoints of the elements it replaced (`copy=False`, which writes into x, is left out).
defvjp(np.nan_to_num, "x, *, nan=0.0, posinf=None, neginf=None", x="np.where(np.isfinite(x), g, 0.0)",
       nan="np.sum(np.where(np.isnan(x), g, 0.0))", posinf="np.sum(np.where(np.isposinf(x), g, 0.0))",
       neginf="np.sum(np.where(np.isneginf(x), g, 0.0))")
defjvp(np.nan_to_num, x="np.where(np.isfinite(x), d, 0.0)", nan="np.where(np.isnan(x), d, 0.0)",
       posinf="np.where(np.isposinf(x), d, 0.0)", neginf="np.where(np.isneginf(x), d, 0.0)")

# Linear (the tangent is the same call on the tangents) and multilinear ones.
for _f in (np.add, np.subtract, np.negative, np.positive, np.real, np.conjugate):
    defjvp(_f, "linear")
defjvp(np.multiply, "multilinear")


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
