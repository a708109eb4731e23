"""Rules for the linear-algebra helpers generated adjoints call (helpers/linalg.py), so
that the adjoints of np.tensordot, np.outer, np.inner, np.linalg.inv, np.linalg.solve,
x ** y (in y), np.sinc, np.einsum (subscripts form), np.linalg.det, slogdet, eigh,
eigvalsh and cholesky can be differentiated again (hessian, grad of grad, jvp of grad).

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

The others (solve_rhs/solve_lhs, pow_dy, dsinc, einsum_vjp, det_vjp, slogdet_vjp,
eigh_vjp, eigvalsh_vjp, cholesky_vjp) are explained next to their rules; where a VJP
needs a new helper (solve_lhs_da, ddsinc, einsum_with, det_vjp_da, eigh_vjp_dr, ...),
it is defined here, joins adjointc.runtime as generated.py's do, and has no rule itself: a
third derivative through it is refused, located (slogdet_vjp's templates need none:
its third derivative goes on). Each new helper takes the symbolic zero 0.0 for its
cotangent or the helper's own adjoint and gives the zero adjoint. eigh's and eigvalsh's
second derivatives hold for distinct eigenvalues (inf or nan where they repeat: never a
finite wrong value); det's hold at a singular matrix too.

The rules of norm_vjp, einsum_args_vjp, prod_of_others, cumprod_vjp and interp_* are in
generated_reductions.py. Still refused, located, when differentiated: the tangent helpers
det_jvp, slogdet_jvp, eigh_jvp, eigvalsh_jvp, cholesky_jvp (grad of a jvp), and a third
derivative through det, eigh, eigvalsh and cholesky.
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


# ------------------------------------------------------------------ np.linalg.det
# det_vjp(c, a, t) = c cof(a), t = det(a), in two branches (helpers/linalg._cofactors):
# t inv(a)ᵀ where inv succeeds, else the SVD adjugate (exact at a singular a), which does
# not read t. Each partial below takes the branch det_vjp took, so every one is the true
# partial of the helper. Invertible, X = inv(a)ᵀ: d(t X) = dt X - t X daᵀ X. SVD branch,
# a = U S Vᵀ: d adj(a)[H] = σ V D(Uᵀ H V) Uᵀ (σ = det U det Vᵀ), where D, the derivative
# of adj(S) along K, is -p2 K off the diagonal and sum_l p2[i, l] K[l, l] on it, p2[i, j]
# the product of the singular values but the i-th and j-th (adj is a polynomial: exact).
def _det_inverse(a: np.ndarray, t: Any) -> np.ndarray | None:
    """inv(a) where det_vjp takes its first branch (t inv(a)ᵀ), None where it takes the
    SVD one: the same test as helpers/linalg._cofactors (inv under errstate "raise")."""
    try:
        with np.errstate(all="raise"):
            inv = np.linalg.inv(a)
            np.asarray(t)[..., None, None] * linalg.mT(inv)
        return inv
    except (np.linalg.LinAlgError, FloatingPointError):
        return None


def _adjugate_parts(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, Any, np.ndarray]:
    """(U, Vᵀ, σ, p2) of a = U S Vᵀ, for D (see above)."""
    u, s, vt = np.linalg.svd(a)
    n = s.shape[-1]
    eye = np.eye(n, dtype=bool)
    keep = ~(eye[:, None, :] | eye[None, :, :])            # keep[i, j, k]: k is neither i nor j
    p2 = np.where(eye, 0.0, np.prod(np.where(keep, s[..., None, None, :], 1.0), axis=-1))
    return u, vt, (np.linalg.det(u) * np.linalg.det(vt))[..., None, None], p2


def _dadj(k: np.ndarray, p2: np.ndarray) -> np.ndarray:
    """D(K): the derivative of adj(diag(s)) along K (self-adjoint: p2 is symmetric)."""
    diag = np.diagonal(k, axis1=-2, axis2=-1)[..., None]
    return -p2 * k + (p2 @ diag) * np.eye(k.shape[-1])


def _cof_vjp(w: Any, a: np.ndarray, t: Any) -> tuple[np.ndarray, Any]:
    """The VJPs of cof(a), as det_vjp computes it from (a, t), for its cotangent w: (in a, in t)."""
    inv = _det_inverse(a, t)
    if inv is not None:
        x = linalg.mT(inv)
        return -np.asarray(t)[..., None, None] * (x @ linalg.mT(w) @ x), np.sum(w * x, axis=(-2, -1))
    u, vt, sign, p2 = _adjugate_parts(a)
    return sign * (u @ _dadj(vt @ linalg.mT(w) @ u, p2) @ vt), np.zeros(np.shape(t))[()]


def _cof_jvp(h: Any, e: Any, a: np.ndarray, t: Any) -> np.ndarray:
    """The tangent of cof(a), as det_vjp computes it from (a, t), for a's tangent h and t's e."""
    inv = _det_inverse(a, t)
    if inv is not None:
        x = linalg.mT(inv)
        return -np.asarray(t)[..., None, None] * (x @ linalg.mT(h) @ x) + np.asarray(e)[..., None, None] * x
    u, vt, sign, p2 = _adjugate_parts(a)
    return sign * (u @ linalg.mT(_dadj(linalg.mT(u) @ h @ linalg.mT(vt), p2)) @ vt)


def det_vjp_da(g: Any, c: Any, a: Any, t: Any) -> Any:
    """The VJP of `det_vjp(c, a, t)` with respect to a (t, det(a), held)."""
    a = np.asarray(a, dtype=float)
    if runtime.is_zero(g) or runtime.is_zero(c):
        return zero_adjoint(a)
    return _cof_vjp(np.asarray(c)[..., None, None] * g, a, t)[0]


def det_vjp_dt(g: Any, c: Any, a: Any, t: Any) -> Any:
    """The VJP of `det_vjp(c, a, t)` with respect to t: c <g, inv(a)ᵀ> (0 in the SVD branch)."""
    if runtime.is_zero(g) or runtime.is_zero(c):
        return zero_adjoint(t)
    return _cof_vjp(np.asarray(c)[..., None, None] * g, np.asarray(a, dtype=float), t)[1]


def det_vjp_jvp(da: Any, dt: Any, c: Any, a: Any, t: Any) -> Any:
    """The tangent of `det_vjp(c, a, t)` from the tangents of a (da) and t (dt; 0.0 for none)."""
    a = np.asarray(a, dtype=float)
    if runtime.is_zero(c):
        return zero_adjoint(a)
    return np.asarray(c)[..., None, None] * _cof_jvp(np.broadcast_to(da, a.shape), dt, a, t)


# ------------------------------------------------------------------ np.linalg.eigh, eigvalsh
# eigh_vjp(c, a, r) = from_triangle(V M Vᵀ), M = F ∘ (Vᵀ c_v) + diag(c_w), r = (w, V),
# F[i, j] = 1 / (w_j - w_i) (0 on the diagonal); it does not read a. With Q = to_symmetric(g)
# (the transpose of from_triangle) and B = Vᵀ Q V: V's cotangent is Q V (M + Mᵀ) - c_v (F ∘ B),
# w's that of F through dF[i, j] = -F[i, j]² (dw_j - dw_i). Distinct eigenvalues only:
# at a repeated one F is infinite and these give inf or nan (as eigh_vjp itself does).
def _eigh_f(w: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        f = 1 / (w[..., None, :] - w[..., :, None])
    n = w.shape[-1]
    f[..., np.arange(n), np.arange(n)] = 0
    return f


def _pair(c: Any, w: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """eigh_vjp's adjoint pair as arrays (zeros for the symbolic zero or None)."""
    cw, cv = (None, None) if runtime.is_zero(c) else c
    cw = np.zeros(w.shape) if cw is None or runtime.is_zero(cw) else np.broadcast_to(cw, w.shape)
    cv = np.zeros(v.shape) if cv is None or runtime.is_zero(cv) else np.broadcast_to(cv, v.shape)
    return cw, cv


def eigh_vjp_dc(g: Any, r: Any, UPLO: str = "L") -> list:
    """The VJP of `eigh_vjp(c, a, r, UPLO)` with respect to c: eigh's tangent (a list)."""
    w, v = r
    if runtime.is_zero(g):
        return [zero_adjoint(w), zero_adjoint(v)]
    return list(linalg._eigh_parts(linalg._to_symmetric(np.asarray(g), UPLO), np.asarray(w), np.asarray(v)))


def eigh_vjp_dr(g: Any, c: Any, r: Any, UPLO: str = "L") -> list:
    """The VJP of `eigh_vjp(c, a, r, UPLO)` with respect to r = (w, V): [w's, V's]."""
    w, v = np.asarray(r[0], dtype=float), np.asarray(r[1], dtype=float)
    if runtime.is_zero(g) or runtime.is_zero(c):
        return [zero_adjoint(w), zero_adjoint(v)]
    cw, cv = _pair(c, w, v)
    f, q = _eigh_f(w), linalg._to_symmetric(np.asarray(g), UPLO)
    p, b = linalg.mT(v) @ cv, linalg.mT(v) @ q @ v
    m = f * p + cw[..., None] * np.eye(w.shape[-1])
    rr = b * p * f * f
    return [rr.sum(-1) - rr.sum(-2), q @ v @ (m + linalg.mT(m)) - cv @ (f * b)]


def eigh_vjp_jvp_r(d: Any, c: Any, r: Any, UPLO: str = "L") -> Any:
    """The tangent of `eigh_vjp(c, a, r, UPLO)` from r's tangent d = (w_dot, V_dot)."""
    w, v = np.asarray(r[0], dtype=float), np.asarray(r[1], dtype=float)
    if runtime.is_zero(c) or runtime.is_zero(d):
        return zero_adjoint(v)
    cw, cv = _pair(c, w, v)
    dw, dv = _pair(d, w, v)
    f = _eigh_f(w)
    p = linalg.mT(v) @ cv
    m = f * p + cw[..., None] * np.eye(w.shape[-1])
    dm = -f * f * (dw[..., None, :] - dw[..., :, None]) * p + f * (linalg.mT(dv) @ cv)
    s = dv @ m @ linalg.mT(v) + v @ m @ linalg.mT(dv) + v @ dm @ linalg.mT(v)
    return linalg._from_triangle(s, UPLO)


# eigvalsh_vjp(c, a) = from_triangle(V diag(c) Vᵀ), V = eigh(a)'s. Along a's tangent (and,
# being self-adjoint, for a cotangent) it moves by from_triangle(V (F' ∘ Vᵀ to_symmetric(d) V) Vᵀ),
# F'[i, j] = (c_j - c_i) / (w_j - w_i), a divided difference. At a repeated eigenvalue it is
# left inf or nan (0 / 0 for equal weights, where this partial's limit is 0): the eigenvalues,
# which the weights c of a second derivative are functions of, have no derivative there, so a
# finite value would be wrong whenever c depends on a (the Hessian of sum(eigvalsh(a) ** 2)).
def eigvalsh_vjp_da(g: Any, c: Any, a: Any, UPLO: str = "L") -> Any:
    """The VJP of `eigvalsh_vjp(c, a, UPLO)` with respect to a, and its tangent from a's (g)."""
    a = np.asarray(a, dtype=float)
    if runtime.is_zero(g) or runtime.is_zero(c):
        return zero_adjoint(a)
    w, v = np.linalg.eigh(a, UPLO)
    c = np.broadcast_to(c, w.shape)
    n = w.shape[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        fd = (c[..., None, :] - c[..., :, None]) / (w[..., None, :] - w[..., :, None])
    fd[..., np.arange(n), np.arange(n)] = 0
    b = linalg.mT(v) @ linalg._to_symmetric(np.broadcast_to(g, a.shape), UPLO) @ v
    return linalg._from_triangle(v @ (fd * b) @ linalg.mT(v), UPLO)


# ------------------------------------------------------------------ np.linalg.cholesky
# cholesky_vjp(c, a, L) = from_triangle(Yᵀ Φ(Lᵀ c) Y), Y = L⁻¹, Φ the lower triangle with
# the diagonal halved (self-adjoint); it does not read a. With Q = to_symmetric(g):
# L's cotangent is -Yᵀ (Φ + Φᵀ) Y Q Yᵀ + c Φ(Y Q Yᵀ)ᵀ (L read as any invertible matrix).
def _phi(x: np.ndarray) -> np.ndarray:
    return np.tril(x) - 0.5 * x * np.eye(x.shape[-1])


def cholesky_vjp_dl(g: Any, c: Any, ell: Any) -> Any:
    """The VJP of `cholesky_vjp(c, a, ell)` with respect to ell (a's Cholesky factor)."""
    ell = np.asarray(ell, dtype=float)
    if runtime.is_zero(g) or runtime.is_zero(c):
        return zero_adjoint(ell)
    c = np.broadcast_to(c, ell.shape)
    y, q = np.linalg.inv(ell), linalg._to_symmetric(np.asarray(g), "L")
    p = _phi(linalg.mT(ell) @ c)
    return -linalg.mT(y) @ (p + linalg.mT(p)) @ y @ q @ linalg.mT(y) + c @ linalg.mT(_phi(y @ q @ linalg.mT(y)))


def cholesky_vjp_jvp_l(d: Any, c: Any, ell: Any) -> Any:
    """The tangent of `cholesky_vjp(c, a, ell)` from ell's tangent d."""
    ell = np.asarray(ell, dtype=float)
    if runtime.is_zero(d) or runtime.is_zero(c):
        return zero_adjoint(ell)
    c, d = np.broadcast_to(c, ell.shape), np.broadcast_to(d, ell.shape)
    y = np.linalg.inv(ell)
    dy, p = -y @ d @ y, _phi(linalg.mT(ell) @ c)
    s = linalg.mT(dy) @ p @ y + linalg.mT(y) @ p @ dy + linalg.mT(y) @ _phi(linalg.mT(d) @ c) @ y
    return linalg._from_triangle(s, "L")


for _name, _fn in (("det_vjp_da", det_vjp_da), ("det_vjp_dt", det_vjp_dt), ("det_vjp_jvp", det_vjp_jvp),
                   ("eigh_vjp_dc", eigh_vjp_dc), ("eigh_vjp_dr", eigh_vjp_dr), ("eigh_vjp_jvp_r", eigh_vjp_jvp_r),
                   ("eigvalsh_vjp_da", eigvalsh_vjp_da), ("cholesky_vjp_dl", cholesky_vjp_dl),
                   ("cholesky_vjp_jvp_l", cholesky_vjp_jvp_l)):
    if getattr(runtime, _name, None) not in (None, _fn):
        raise ImportError(f"adjointc.rules.generated_linalg.{_name} would shadow adjointc.runtime.{_name}")
    setattr(runtime, _name, _fn)  # (generated code imports every helper from adjointc.runtime)

# (t, for det(a); r, for eigh(a); ell, for cholesky(a): `ans` in a template is the helper's own result)
defvjp(linalg.det_vjp, "c, a, t", name="det_vjp", c="det_jvp(g, a, t)", a="det_vjp_da(g, c, a, t)",
       t="det_vjp_dt(g, c, a, t)", result=same_rank("a"))
defjvp("det_vjp", c="det_vjp(d, a, t)", a="det_vjp_jvp(d, 0.0, c, a, t)", t="det_vjp_jvp(0.0, d, c, a, t)")
# slogdet_vjp(c, a) = c[1] inv(a)ᵀ: its templates use ops with rules only (third order goes on)
_X = "np.swapaxes(np.linalg.inv(a), -1, -2)"
defvjp(linalg.slogdet_vjp, "c, a", name="slogdet_vjp", c=f"unpiece(np.sum(g * {_X}, axis=(-2, -1)), c, 1)",
       a="np.expand_dims(piece(c, 1), (-2, -1)) * inv_vjp(np.swapaxes(g, -1, -2), np.linalg.inv(a))",
       result=same_rank("a"))
defjvp("slogdet_vjp", c="slogdet_vjp(d, a)",
       a="np.expand_dims(piece(c, 1), (-2, -1)) * inv_vjp(np.swapaxes(d, -1, -2), np.linalg.inv(a))")
defvjp(linalg.eigh_vjp, "c, a, r, UPLO='L'", name="eigh_vjp", c="eigh_vjp_dc(g, r, UPLO)",
       r="eigh_vjp_dr(g, c, r, UPLO)", result=same_rank("a"))
defjvp("eigh_vjp", c="eigh_vjp(d, a, r, UPLO)", r="eigh_vjp_jvp_r(d, c, r, UPLO)")
defvjp(linalg.eigvalsh_vjp, "c, a, UPLO='L'", name="eigvalsh_vjp", c="eigvalsh_jvp(g, a, UPLO)",
       a="eigvalsh_vjp_da(g, c, a, UPLO)", result=same_rank("a"))
defjvp("eigvalsh_vjp", c="eigvalsh_vjp(d, a, UPLO)", a="eigvalsh_vjp_da(d, c, a, UPLO)")
defvjp(linalg.cholesky_vjp, "c, a, ell", name="cholesky_vjp", c="cholesky_jvp(g, ell)",
       ell="cholesky_vjp_dl(g, c, ell)", result=same_rank("a"))
defjvp("cholesky_vjp", c="cholesky_vjp(d, a, ell)", ell="cholesky_vjp_jvp_l(d, c, ell)")
# (the _da/_dt/_dc/_dr/_dl/_jvp helpers, det_jvp, eigvalsh_jvp and cholesky_jvp have no rules:
# a third derivative of det, eigh, eigvalsh or cholesky is refused, located)
