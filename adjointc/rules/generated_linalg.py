"""Rules for the linear-algebra helpers generated adjoints call (helpers/linalg.py), so
that the adjoints of np.tensordot, np.outer, np.inner, np.linalg.inv, np.linalg.solve,
x ** y (in y), np.sinc and np.einsum (subscripts form) can be
differentiated again (hessian, grad of grad, jvp of grad).

The operand adjoints of the bilinear products are bilinear in (the cotangent, the
other operand), read the differentiated operand for its shape only, and transpose
into each other like matmul's (rules/generated.py):
``<d, tensordot_lhs(c, a, b, axes)> = <c, np.tensordot(d, b, axes)>``, so
``tensordot_lhs``'s VJP is ``c: np.tensordot(g, b, axes)`` and
``b: tensordot_rhs(c, g, b, axes)`` (and symmetrically; outer and inner alike).
Their tangents are product rules (`"multilinear"`).

`inv_vjp(c, r) = -rᵀ c rᵀ` (r = inv(a)) is linear in c and quadratic in r:
its VJP in c is the same map with r transposed, ``-r G r``; in r it is
``-(c rᵀ Gᵀ + Gᵀ rᵀ c)`` (both factors' product rule, transposed); its tangent
writes the product rule out. These templates use only ops that have rules
(np.matmul, np.swapaxes), so higher derivatives go on.

The others (solve_rhs/solve_lhs, pow_dy, dsinc, einsum_vjp) are explained
next to their rules; where a VJP needs a new helper (solve_lhs_da, ddsinc, einsum_with, ...),
it is defined here, joins adjointc.runtime as generated.py's do, and has no rule itself: a
third derivative through it is refused, located.

Not covered here (still refused, located, when differentiated): det_vjp, slogdet_vjp,
eigh_vjp/eigvalsh_vjp, cholesky_vjp (norm_vjp, einsum_args_vjp, prod_of_others, cumprod_vjp, interp_*: generated_reductions.py).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import runtime
from .. import types as T
from . import defjvp, defvjp
from .helpers import elementwise, linalg, zero_adjoint
from .np_results import same_rank

defvjp(linalg.tensordot_lhs, "c, a, b, axes=2", name="tensordot_lhs", c="np.tensordot(g, b, axes)",
       b="tensordot_rhs(c, g, b, axes)", result=same_rank("a"))
defvjp(linalg.tensordot_rhs, "c, a, b, axes=2", name="tensordot_rhs", c="np.tensordot(a, g, axes)",
       a="tensordot_lhs(c, a, g, axes)", result=same_rank("b"))
defvjp(linalg.outer_lhs, "c, a, b", name="outer_lhs", c="np.outer(g, b)", b="outer_rhs(c, g, b)",
       result=same_rank("a"))
defvjp(linalg.outer_rhs, "c, a, b", name="outer_rhs", c="np.outer(a, g)", a="outer_lhs(c, a, g)",
       result=same_rank("b"))
defvjp(linalg.inner_lhs, "c, a, b", name="inner_lhs", c="np.inner(g, b)", b="inner_rhs(c, g, b)",
       result=same_rank("a"))
defvjp(linalg.inner_rhs, "c, a, b", name="inner_rhs", c="np.inner(a, g)", a="inner_lhs(c, a, g)",
       result=same_rank("b"))
for _op in ("tensordot_lhs", "tensordot_rhs", "outer_lhs", "outer_rhs", "inner_lhs", "inner_rhs"):
    defjvp(_op, "multilinear")

# (its second parameter is spelled r, for inv(a): `ans` in a template is the helper's own result)
_T = "np.swapaxes({}, -1, -2)"
defvjp(linalg.inv_vjp, "c, r", name="inv_vjp", c=f"inv_vjp(g, {_T.format('r')})",
       r=f"-(np.matmul(np.matmul(c, {_T.format('r')}), {_T.format('g')})"
           f" + np.matmul(np.matmul({_T.format('g')}, {_T.format('r')}), c))",
       result=same_rank("r"))
defjvp("inv_vjp", c="inv_vjp(d, r)",
       r=f"-(np.matmul(np.matmul({_T.format('d')}, c), {_T.format('r')})"
           f" + np.matmul(np.matmul({_T.format('r')}, c), {_T.format('d')}))")


# ------------------------------------------------------------------ np.linalg.solve
# solve_rhs(c, a, b) = solve(aᵀ, c) (summed to b's shape) and solve_lhs(c, a, b, x) =
# -solve(aᵀ, c) xᵀ (summed to a's shape) are linear in c (and x); in a, through u = solve(aᵀ, c):
# du = -solve(aᵀ, daᵀ u). b is read for its shape only (vector or matrix right-hand side).
def _vec(a: np.ndarray, b: Any, *vs: Any) -> tuple[bool, list[np.ndarray]]:
    """Whether solve(a, b) solves for vectors, and vs as column matrices if so."""
    v = linalg._solve_is_vector(a, np.asarray(b))
    return v, [np.asarray(x)[..., None] if v else np.asarray(x) for x in vs]


def _flat(v: bool, m: np.ndarray) -> np.ndarray:
    return m[..., 0] if v else m


def solve_lhs_dc(g: Any, c: Any, a: Any, b: Any, x: Any) -> Any:
    """The VJP of `solve_lhs(c, a, b, x)` with respect to c: solve(a, -g x)."""
    a = np.asarray(a)
    v, (x,) = _vec(a, b, x)
    return np.reshape(_flat(v, np.linalg.solve(a, -np.asarray(g) @ x)), np.shape(c))


def solve_lhs_dx(g: Any, c: Any, a: Any, b: Any, x: Any) -> Any:
    """The VJP of `solve_lhs(c, a, b, x)` with respect to x: -gᵀ solve(aᵀ, c)."""
    a = np.asarray(a)
    v, (c1,) = _vec(a, b, c)
    u = np.linalg.solve(linalg.mT(a), c1)
    return runtime.unbroadcast(_flat(v, -linalg.mT(np.asarray(g)) @ u), np.asarray(x))


def solve_lhs_da(g: Any, c: Any, a: Any, b: Any, x: Any) -> Any:
    """The VJP of `solve_lhs(c, a, b, x)` with respect to a: u solve(a, g x)ᵀ, u = solve(aᵀ, c)."""
    a = np.asarray(a)
    v, (c1, x1) = _vec(a, b, c, x)
    u = np.linalg.solve(linalg.mT(a), c1)
    return runtime.unbroadcast(u @ linalg.mT(np.linalg.solve(a, np.asarray(g) @ x1)), a)


def solve_lhs_jvp_a(d: Any, c: Any, a: Any, b: Any, x: Any) -> Any:
    """The tangent of `solve_lhs(c, a, b, x)` from a's tangent d: solve(aᵀ, dᵀ u) xᵀ."""
    a = np.asarray(a)
    v, (c1, x1) = _vec(a, b, c, x)
    u = np.linalg.solve(linalg.mT(a), c1)
    return runtime.unbroadcast(np.linalg.solve(linalg.mT(a), linalg.mT(np.asarray(d)) @ u) @ linalg.mT(x1), a)


def solve_rhs_jvp_a(d: Any, c: Any, a: Any, b: Any) -> Any:
    """The tangent of `solve_rhs(c, a, b)` from a's tangent d: -solve(aᵀ, dᵀ u), u = solve(aᵀ, c)."""
    a = np.asarray(a)
    v, (c1,) = _vec(a, b, c)
    u = np.linalg.solve(linalg.mT(a), c1)
    return runtime.unbroadcast(_flat(v, -np.linalg.solve(linalg.mT(a), linalg.mT(np.asarray(d)) @ u)), np.asarray(b))


for _name, _fn in (("solve_lhs_dc", solve_lhs_dc), ("solve_lhs_dx", solve_lhs_dx), ("solve_lhs_da", solve_lhs_da),
                   ("solve_lhs_jvp_a", solve_lhs_jvp_a), ("solve_rhs_jvp_a", solve_rhs_jvp_a)):
    if getattr(runtime, _name, None) not in (None, _fn):
        raise ImportError(f"adjointc.rules.generated_linalg.{_name} would shadow adjointc.runtime.{_name}")
    setattr(runtime, _name, _fn)  # (generated code imports every helper from adjointc.runtime)

# (g, shaped like b, solves to c's shape whatever b's vector-ness: solve reads it as the original b)
defvjp(linalg.solve_rhs, "c, a, b", name="solve_rhs", c="np.linalg.solve(a, g)",
       a="solve_lhs(c, a, b, np.linalg.solve(a, g))", result=same_rank("b"))
defjvp("solve_rhs", c="solve_rhs(d, a, b)", a="solve_rhs_jvp_a(d, c, a, b)")
# (x, for solve's result: `ans` in a template is the helper's own result)
defvjp(linalg.solve_lhs, "c, a, b, x", name="solve_lhs", c="solve_lhs_dc(g, c, a, b, x)",
       a="solve_lhs_da(g, c, a, b, x)", x="solve_lhs_dx(g, c, a, b, x)", result=same_rank("a"))
defjvp("solve_lhs", c="solve_lhs(d, a, b, x)", a="solve_lhs_jvp_a(d, c, a, b, x)", x="solve_lhs(c, a, b, d)")
# (solve_lhs_dc, _dx, _da and the _jvp_a helpers have no rules: a third derivative of solve is refused, located)


# ------------------------------------------------------------------ elementwise: x ** y, np.sinc
# pow_dy(x, p) = p log x (p = x ** y, read as its own argument; 0 at x = 0): its partials
# are p / x (0 at x = 0, where the helper is the constant 0) and log x = pow_dy(x, 1.0).
def ddsinc(x: Any) -> Any:
    """The derivative of `dsinc` (np.sinc's derivative): -(pi sin(pi x) + 2 dsinc(x)) / x,
    a Taylor series near 0, as dsinc's (-pi²/3 + pi⁴ x² / 10)."""
    x = np.asarray(x, dtype=np.result_type(x, float))
    with np.errstate(divide="ignore", invalid="ignore"):
        d = -(np.pi * np.sin(np.pi * x) + 2 * elementwise.dsinc(x)) / x
    return np.where(np.abs(x) < 1e-4, -np.pi ** 2 / 3 + np.pi ** 4 / 10 * x * x, d)[()]


if getattr(runtime, "ddsinc", None) not in (None, ddsinc):
    raise ImportError("adjointc.rules.generated_linalg.ddsinc would shadow adjointc.runtime.ddsinc")
runtime.ddsinc = ddsinc  # type: ignore[attr-defined]
# (p, for x ** y: `ans` in a template is the helper's own result)
defvjp(elementwise.pow_dy, "x, p", name="pow_dy", x="unbroadcast(g * div0(p, x), x)",
       p="unbroadcast(g * pow_dy(x, 1.0), p)")
defjvp("pow_dy", x="d * div0(p, x)", p="d * pow_dy(x, 1.0)")
defvjp(elementwise.dsinc, "x", name="dsinc", x="g * ddsinc(x)")
defjvp("dsinc", x="d * ddsinc(x)")
# (ddsinc has no rule: a third derivative of np.sinc is refused, located)


# ------------------------------------------------------------------ np.einsum
# einsum_vjp(c, s, ops, i), operand i's adjoint, is linear in c and in every other operand
# (ops[i] is read for its shape only). It transposes into the forward einsum with operand i
# replaced: <G, einsum_vjp(c, s, ops, i)> = <c, einsum(s, ops[i := G])>, so its VJP in c is
# that einsum, and in ops[j] (j != i) it is einsum_vjp(c, s, ops[i := G], j).
def _put(ops: Any, i: int, v: Any) -> list:
    return [v if j == i else o for j, o in enumerate(ops)]


def einsum_with(g: Any, subscripts: str, operands: Any, i: int) -> Any:
    """np.einsum(subscripts, *operands) with operand i replaced by g: the VJP of
    einsum_vjp(c, subscripts, operands, i) with respect to c."""
    if runtime.is_zero(g):
        return 0.0
    return np.einsum(subscripts, *_put(operands, i, g))


def einsum_vjp_operands(g: Any, c: Any, subscripts: str, operands: Any, i: int) -> list:
    """The VJP of einsum_vjp(c, subscripts, operands, i) with respect to the operands
    (a list): einsum_vjp(c, subscripts, operands[i := g], j) for j != i, zero for i."""
    if runtime.is_zero(g) or runtime.is_zero(c):
        return [zero_adjoint(o) for o in operands]
    ops = _put(operands, i, g)
    return [zero_adjoint(o) if j == i else linalg.einsum_vjp(c, subscripts, ops, j) for j, o in enumerate(operands)]


def einsum_vjp_jvp_operands(d: Any, c: Any, subscripts: str, operands: Any, i: int) -> Any:
    """The tangent of einsum_vjp(c, subscripts, operands, i) from the operands' tangents d
    (a list): the sum over j != i of operand j replaced by its tangent (a product rule)."""
    total: Any = 0.0
    for j, dj in enumerate(d):
        if j != i and not runtime.is_zero(dj) and not runtime.is_zero(c):
            total = total + linalg.einsum_vjp(c, subscripts, _put(operands, j, dj), i)
    return total if not runtime.is_zero(total) else zero_adjoint(operands[i])


for _name, _fn in (("einsum_with", einsum_with), ("einsum_vjp_operands", einsum_vjp_operands),
                   ("einsum_vjp_jvp_operands", einsum_vjp_jvp_operands)):
    if getattr(runtime, _name, None) not in (None, _fn):
        raise ImportError(f"adjointc.rules.generated_linalg.{_name} would shadow adjointc.runtime.{_name}")
    setattr(runtime, _name, _fn)  # (generated code imports every helper from adjointc.runtime)
defvjp(linalg.einsum_vjp, "c, subscripts, operands, i", name="einsum_vjp",
       c="einsum_with(g, subscripts, operands, i)", operands="einsum_vjp_operands(g, c, subscripts, operands, i)",
       result=lambda types, bound: T.UNKNOWN)
defjvp("einsum_vjp", c="einsum_vjp(d, subscripts, operands, i)",
       operands="einsum_vjp_jvp_operands(d, c, subscripts, operands, i)")
# (einsum_with and the operands' helpers have no rules: a third derivative of einsum is refused, located)
