"""NumPy's linear-algebra rules: the products (dot, matmul, inner, outer, vdot,
tensordot, einsum, kron, cross), the trace, and np.linalg's inverse, determinants, solve,
symmetric eigendecomposition and Cholesky factorisation. The adjoints call the
helpers of adjointc/rules/helpers/linalg.py. Tangents (`defjvp`, forward mode):
the products are multilinear (a product rule), the traces linear; the np.linalg
ones transpose their adjoints (`<op>_jvp` helpers), over `d`, the input's tangent.
"""
from __future__ import annotations

import numpy as np

from .. import types as T
from . import defjvp, defvjp
from .np_results import (NOT_CONST, const_value, det_result, dot_result, einsum_result, inner_result, kron_result,
                         pair_result, rank_plus, same_rank, solve_result, tensordot_result)
from .operators import _matmul_result


# ------------------------------------------------------------ linear algebra
defvjp(np.dot, "a, b", a="dot_lhs(g, a, b)", b="dot_rhs(g, a, b)", result=dot_result)
defvjp(np.matmul, "x, y", x="matmul_lhs(g, x, y)", y="matmul_rhs(g, x, y)", result=_matmul_result)
defvjp(np.inner, "a, b", a="inner_lhs(g, a, b)", b="inner_rhs(g, a, b)", result=inner_result)
defvjp(np.outer, "a, b", a="outer_lhs(g, a, b)", b="outer_rhs(g, a, b)",
       result=lambda types, bound: T.array(2))
defvjp(np.vdot, "a, b", a="g * np.reshape(b, np.shape(a))", b="g * np.reshape(a, np.shape(b))",
       result="float")   # real inputs: no conjugation
defvjp(np.tensordot, "a, b, axes=2", a="tensordot_lhs(g, a, b, axes)",
       b="tensordot_rhs(g, a, b, axes)", result=tensordot_result)
defvjp(np.trace, "a, offset=0, axis1=0, axis2=1, dtype=None",
       a="untrace(g, a, offset, axis1, axis2)", result=rank_plus(-2))
defjvp(np.trace, "linear")
defvjp(np.kron, "a, b", a="kron_lhs(g, a, b)", b="kron_rhs(g, a, b)", result=kron_result)
defvjp(np.cross, "a, b", a="cross_vjp(g, a, b, 0)", b="cross_vjp(g, a, b, 1)", result="unknown")  # (last axes)
for _f in (np.dot, np.matmul, np.inner, np.outer, np.vdot, np.tensordot, np.kron, np.cross):
    defjvp(_f, "multilinear")
defvjp(np.linalg.inv, "a", a="inv_vjp(g, ans)", result="same")
defjvp(np.linalg.inv, a="-(ans @ d @ ans)")
defvjp(np.linalg.det, "a", a="det_vjp(g, a, ans)",
       result=det_result)
defjvp(np.linalg.det, a="det_jvp(d, a, ans)")   # exact for a singular a too
defvjp(np.linalg.slogdet, "a", a="slogdet_vjp(g, a)",
       result=pair_result(det_result, det_result))   # g = (sign_bar, logabsdet_bar)
defjvp(np.linalg.slogdet, a="slogdet_jvp(d, a)")      # the pair (0, logabsdet_dot)
defvjp(np.linalg.solve, "a, b", a="solve_lhs(g, a, b, ans)", b="solve_rhs(g, a, b)",
       result=solve_result)
defjvp(np.linalg.solve, a="solve_jvp(d, a, b, ans)", b="np.linalg.solve(a, d)")
defvjp(np.linalg.eigh, "a, UPLO='L'", a="eigh_vjp(g, a, ans, UPLO)",
       result=pair_result(rank_plus(-1), same_rank("a")))
defjvp(np.linalg.eigh, a="eigh_jvp(d, a, ans, UPLO)")  # the pair (w_dot, v_dot)
defvjp(np.linalg.eigvalsh, "a, UPLO='L'", a="eigvalsh_vjp(g, a, UPLO)", result=rank_plus(-1))
defjvp(np.linalg.eigvalsh, a="eigvalsh_jvp(d, a, UPLO)")
defvjp(np.linalg.cholesky, "a", a="cholesky_vjp(g, a, ans)", result="same")
defjvp(np.linalg.cholesky, a="cholesky_jvp(d, ans)")
if hasattr(np.linalg, "trace"):   # NumPy >= 2: the trace of the last two axes
    defvjp(np.linalg.trace, "x, *, offset=0, dtype=None", x="untrace(g, x, offset, -2, -1)",
           result=rank_plus(-2, "x"))
    defjvp(np.linalg.trace, "linear")


@defvjp(np.einsum, "subscripts, *operands, optimize=False", result=einsum_result)
def _einsum(subscripts, operands, optimize):
    """The adjoint of operand i is an einsum of g with the other operands
    (`einsum_vjp` also handles ellipses anywhere, broadcasting, traces and
    diagonals). Subscripts that are not a constant string, and the interleaved
    sublist form `np.einsum(x, [0, 1], [1, 0])`, go through `einsum_args_vjp`,
    which reads the form at run time."""
    n = len(operands)
    subs = const_value(subscripts)
    if isinstance(subs, str):
        everything = "(" + ", ".join(f"operands[{j}]" for j in range(n)) + ("," if n == 1 else "") + ")"
        return {"operands": [f"einsum_vjp(g, {subs!r}, {everything}, {i})" for i in range(n)]}
    args = "(subscripts, " + ", ".join(f"operands[{j}]" for j in range(n)) + ")"
    return {"subscripts": f"einsum_args_vjp(g, {args}, 0)",
            "operands": [None if const_value(op) is not NOT_CONST else f"einsum_args_vjp(g, {args}, {j + 1})"
                         for j, op in enumerate(operands)]}   # (constant sublists: no adjoint)


defjvp(np.einsum, "multilinear")   # every form: each operand in turn replaced by its tangent
