"""Rules for the linear-algebra helpers generated adjoints call (helpers/linalg.py), so
that the adjoints of np.tensordot, np.outer, np.inner and np.linalg.inv can be
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

Not covered here (still refused, located, when differentiated): det_vjp, slogdet_vjp,
solve_lhs/solve_rhs, eigh_vjp/eigvalsh_vjp, cholesky_vjp, norm_vjp, einsum_vjp.
"""
from __future__ import annotations

from . import defjvp, defvjp
from .helpers import linalg
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
