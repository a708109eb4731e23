"""Rules for the `math` module: scalar in, scalar out (`result="float"`).

Templates use `ans` (the output) where that is cheaper than recomputing,
e.g. `exp`, `sqrt`, `tanh`. Every rule here is checked against `sympy.diff`
in tests/test_rules.py, which fails if a rule has no sympy counterpart. Their
tangents (forward mode) are derived from these templates (rules/tangents.py:
a function of scalars is elementwise) and checked against SymPy too
(tests/test_tangent_rules.py).
"""
from __future__ import annotations

import math

from ..ir import Const
from . import defvjp, nondiff
from .operators import power_templates

F = "float"

# Trigonometric.
defvjp(math.sin, "x", x="g * math.cos(x)", result=F)
defvjp(math.cos, "x", x="-g * math.sin(x)", result=F)
defvjp(math.tan, "x", x="g * (1 + ans * ans)", result=F)
defvjp(math.asin, "x", x="fdiv(g, math.sqrt(1 - x * x))", result=F)
defvjp(math.acos, "x", x="fdiv(-g, math.sqrt(1 - x * x))", result=F)
defvjp(math.atan, "x", x="g / (1 + x * x)", result=F)
defvjp(math.atan2, "y, x", y="fdiv(g * x, x * x + y * y)", x="fdiv(-g * y, x * x + y * y)", result=F)
defvjp(math.degrees, "x", x="g * (180 / math.pi)", result=F)
defvjp(math.radians, "x", x="g * (math.pi / 180)", result=F)

# Hyperbolic.
defvjp(math.sinh, "x", x="g * math.cosh(x)", result=F)
defvjp(math.cosh, "x", x="g * math.sinh(x)", result=F)
defvjp(math.tanh, "x", x="g * (1 - ans * ans)", result=F)
defvjp(math.asinh, "x", x="g / math.sqrt(x * x + 1)", result=F)
defvjp(math.acosh, "x", x="fdiv(g, math.sqrt(x * x - 1))", result=F)
defvjp(math.atanh, "x", x="g / (1 - x * x)", result=F)

# Exponentials, logarithms, powers.
defvjp(math.exp, "x", x="g * ans", result=F)
defvjp(math.expm1, "x", x="g * (ans + 1)", result=F)
defvjp(math.log1p, "x", x="g / (1 + x)", result=F)
defvjp(math.log2, "x", x="g / (x * math.log(2))", result=F)
defvjp(math.log10, "x", x="g / (x * math.log(10))", result=F)
defvjp(math.sqrt, "x", x="fdiv(g, 2 * ans)", result=F)   # inf at 0
defvjp(math.pow, "x, y", result=F)(
    lambda x, y: power_templates(x, y, power="math.pow(x, y - 1)", log="math.log(x)"))
if hasattr(math, "cbrt"):  # Python >= 3.11
    defvjp(math.cbrt, "x", x="fdiv(g, 3 * ans * ans)", result=F)
if hasattr(math, "exp2"):
    defvjp(math.exp2, "x", x="g * ans * math.log(2)", result=F)


@defvjp(math.log, "x, base=None", result=F)
def _log(x, base):
    """log(x) or log(x, base) = log(x) / log(base)."""
    if isinstance(base, Const) and base.value is None:
        return {"x": "g / x"}
    return {"x": "g / (x * math.log(base))", "base": "-g * ans / (base * math.log(base))"}


@defvjp(math.hypot, "*coordinates", result=F)
def _hypot(coordinates):
    """d/dx_i sqrt(sum x^2) = x_i / ans (0 at the origin, as np.linalg.norm)."""
    return {"coordinates": [f"g * div0(coordinates[{i}], ans)" for i in range(len(coordinates))]}  # 0 at 0


# Absolute value and sign games. At 0, fabs takes derivative 0 (sign(0) = 0, as JAX).
defvjp(math.fabs, "x", x="g * np.sign(x)", result=F)
defvjp(math.copysign, "x, y", x="g * math.copysign(1.0, x) * math.copysign(1.0, y)", result=F)
defvjp(math.fmod, "x, y", x="g", y="-g * ((x - ans) / y)", result=F)  # ans = x - trunc(x/y) * y

# Special functions.
defvjp(math.erf, "x", x="g * (2 / math.sqrt(math.pi)) * math.exp(-x * x)", result=F)
defvjp(math.erfc, "x", x="-g * (2 / math.sqrt(math.pi)) * math.exp(-x * x)", result=F)

# No derivative: integer-valued or boolean results.
for _f in (math.floor, math.ceil, math.trunc):
    nondiff(_f, "x", result="int")
for _f in (math.factorial,):
    nondiff(_f, "x", result="int")
for _f in (math.gcd, math.lcm, math.comb, math.perm):
    nondiff(_f, "*args", result="int")
for _f in (math.isnan, math.isinf, math.isfinite):
    nondiff(_f, "x", result="bool")
nondiff(math.isclose, "a, b, *, rel_tol=1e-09, abs_tol=0.0", result="bool")
