"""Rules for the reduction, scan, interpolation and norm helpers generated code calls
(helpers/reductions.py, helpers/elementwise.py, helpers/linalg.py), so that the
adjoints and tangents of np.prod, np.cumprod, np.interp, np.linalg.norm (every ord
and axis form), np.einsum's sublist form (or subscripts not known when compiling)
and the tangent of np.linalg.solve can be differentiated again (hessian, grad of
grad, jvp of grad, tangent of a tangent).

Conventions of rules/generated.py: a helper's VJP in each differentiable parameter
is a template, its tangent a template in ``d``; a parameter standing for the helper's
primal result is spelled ``r`` or ``x`` (`ans` in a template is the rule's own result).
Each helper's partial derivatives are those of the helper as implemented, each
argument independent (so the inner-product test can check them): where a helper
branches (cumprod's `np.all(a != 0)`), the partials follow the branch.

* ``prod_of_others(a)`` (p_i = the product of the others): its Jacobian is the
  symmetric matrix of the products of all but two, so one helper,
  `prod_of_others_da`, is its VJP and its tangent (exact with zeros: prefix and
  suffix products, no division).
* ``cumprod_vjp(c, a, r)`` and ``cumprod_jvp(e, a, r)`` transpose into each other in
  their first argument. Without zeros in `a` they are ``uncumsum(c r) / a`` and
  ``r cumsum(e / a)``, with plain partials in a and r; with zeros they ignore r and
  are exact polynomials in a, whose derivatives are the second derivative of
  cumprod (`_cumprod_bi`, forward) and its transpose (`_cumprod_tri`), by recurrences.
* ``interp_slope(x, xp, fp)`` is linear in fp and piecewise constant in x;
  ``interp_vjp`` and ``interp_jvp`` are linear in their first argument and piecewise
  linear in x, with slope `interp_slope` (xp carries no derivative, as in np.interp's rule).
* ``norm_vjp(c, x, r, ...) = unreduce(c) S`` and ``norm_jvp(e, x, r, ...) = sum(S e)``
  transpose into each other; S, the norm's gradient, is differentiated by
  `norm_slope_dx` (S's Jacobian in x applied to w: elementwise for vector p-norms and
  'fro', the norm's Hessian from the SVD for 'nuc', 2, -2; zero where S is piecewise
  constant: inf, -inf, 0, and the matrix 1, -1, inf, -inf) and `norm_slope_dr` (dS/dr).
* ``einsum_args_vjp(c, args, k)`` like einsum_vjp (generated_linalg.py), positions in args.
* ``solve_jvp(e, a, b, x) = -solve(a, e x)``: linear in e and x, and in a its
  VJP is solve_lhs with its own result (``ans``).
* tangent code's ``rebroadcast(t, r)`` (linear in t) and ``zero_tangent`` (a constant).

The new helpers join adjointc.runtime as generated.py's do and have no rules: a
third derivative through them is refused, located.

Also `add_at(a, index, v)`, a copy of a with v added at index as np.add.at adds
(repeated indices accumulate): the frontend reads the statement `np.add.at(a, i, v)`
(first-order adjoints of fancy-index reads emit it) as ``a[...] = add_at(a, i, v)``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import runtime
from .. import types as T
from . import defjvp, defvjp, nondiff
from .helpers import elementwise, linalg, reductions, zero_adjoint
from .helpers.core import linear, mT, reduced_axes
from .np_results import NOT_CONST, const_value, interp_result, same_rank, type_of


def _to_last(a: np.ndarray, axis: Any) -> tuple[np.ndarray, Any]:
    """a with the reduced axes moved last and flattened into one, and how to undo it."""
    axes = list(reduced_axes(axis, a.ndim))
    keep = [k for k in range(a.ndim) if k not in axes]
    b = np.transpose(a, keep + axes)
    shape = b.shape
    back = np.argsort(keep + axes)
    return b.reshape(shape[:len(keep)] + (-1,)), lambda m: np.transpose(np.reshape(m, shape), back)


# ------------------------------------------------------------------ np.prod
def prod_of_others_da(g: Any, a: Any, axis: Any = None) -> np.ndarray:
    """The VJP (and tangent: the Jacobian is symmetric) of `prod_of_others(a, axis)`:
    out_k = sum over i != k of g_i times the product of the elements other than i, k.
    Exact with zeros: with prefix products L, suffix products R and the recurrences
    A_{k+1} = A_k a_k + g_k L_k, B_{k-1} = B_k a_k + g_k R_k, out = A R + L B."""
    a = np.asarray(a)
    if runtime.is_zero(g):
        return np.zeros(a.shape, dtype=np.result_type(a.dtype, float))
    b, back = _to_last(a, axis)
    w, _ = _to_last(np.broadcast_to(g, a.shape), axis)
    n = b.shape[-1]
    if n == 0:
        return np.zeros(a.shape, dtype=np.result_type(a.dtype, float))
    one = np.ones(b.shape[:-1] + (1,), dtype=np.result_type(b, w))
    left = np.cumprod(np.concatenate([one, b[..., :-1]], -1), -1)             # prod of b[:k]
    right = np.cumprod(np.concatenate([one, b[..., :0:-1]], -1), -1)[..., ::-1]  # prod of b[k+1:]
    lo, hi = np.zeros_like(left), np.zeros_like(left)
    for k in range(1, n):
        lo[..., k] = lo[..., k - 1] * b[..., k - 1] + w[..., k - 1] * left[..., k - 1]
    for k in range(n - 2, -1, -1):
        hi[..., k] = hi[..., k + 1] * b[..., k + 1] + w[..., k + 1] * right[..., k + 1]
    return back(lo * right + left * hi)


# ------------------------------------------------------------------ np.cumprod
def _scan(a: Any, axis: Any, *vs: Any) -> tuple[Any, list[np.ndarray]]:
    """(undo, [a, *vs] with the scanned axis last): axis None scans the flat array."""
    a = np.asarray(a)
    if axis is None:   # (vs: shaped like a, or flat like cumprod's result)
        return (lambda m, shape=None: np.reshape(m, shape if shape is not None else -1)), \
            [np.ravel(a)] + [np.ravel(v) if np.size(v) == a.size else np.ravel(np.broadcast_to(v, a.shape))
                             for v in vs]
    ax = int(axis) % a.ndim
    return (lambda m, shape=None: np.moveaxis(m, -1, ax)), \
        [np.moveaxis(a, ax, -1)] + [np.moveaxis(np.broadcast_to(v, a.shape), ax, -1) for v in vs]


def _cumprod_bi(a: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The second derivative of cumprod along the last axis in directions x, y:
    sum over j != m <= i of x_j y_m times the product of a_k, k <= i, k not j, m."""
    p = np.ones(a.shape[:-1])
    px, py, pxy = (np.zeros(a.shape[:-1]) for _ in range(3))
    out = np.zeros(np.broadcast_shapes(a.shape, x.shape, y.shape))
    for i in range(a.shape[-1]):
        pxy = pxy * a[..., i] + px * y[..., i] + py * x[..., i]
        px, py = px * a[..., i] + p * x[..., i], py * a[..., i] + p * y[..., i]
        p = p * a[..., i]
        out[..., i] = pxy
    return out


def _cumprod_tri(a: np.ndarray, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """The transpose of y -> `_cumprod_bi(a, x, y)` applied to z (reverse mode of its recurrence)."""
    n = a.shape[-1]
    p = np.concatenate([np.ones(a.shape[:-1] + (1,)), np.cumprod(a[..., :-1], -1)], -1)   # prod of a[:i]
    px = np.zeros(np.broadcast_shapes(a.shape, x.shape))   # tangent of p along x
    for i in range(1, n):
        px[..., i] = px[..., i - 1] * a[..., i - 1] + p[..., i - 1] * x[..., i - 1]
    lam = mu = np.zeros(px.shape[:-1])
    out = np.zeros(px.shape)
    for i in range(n - 1, -1, -1):   # (λ_i = z_i + a_{i+1} λ_{i+1}, μ_i = x_{i+1} λ_{i+1} + a_{i+1} μ_{i+1})
        if i + 1 < n:
            lam, mu = z[..., i] + a[..., i + 1] * lam, x[..., i + 1] * lam + a[..., i + 1] * mu
        else:
            lam = z[..., i] + lam
        out[..., i] = mu * p[..., i] + lam * px[..., i]
    return out


def _nonzero(a: Any) -> bool:
    return bool(np.all(np.asarray(a) != 0))   # (the branch cumprod_vjp and cumprod_jvp take)


def _scanned_zeros(a: Any, axis: Any) -> np.ndarray:
    """Zeros shaped like np.cumprod(a, axis) (flat for axis None)."""
    return np.zeros(np.shape(a) if axis is not None else (np.size(a),))


def cumprod_vjp_da(w: Any, c: Any, a: Any, r: Any, axis: Any = None) -> np.ndarray:
    """The VJP of `cumprod_vjp(c, a, r, axis)` in a, and its tangent in a (both
    symmetric): -w F / a without zeros (F = cumprod_vjp's value), the second
    derivative of cumprod contracted with c and w with zeros."""
    a = np.asarray(a)
    if runtime.is_zero(w) or runtime.is_zero(c):
        return zero_adjoint(a)
    if _nonzero(a):
        return -np.broadcast_to(w, a.shape) * reductions.cumprod_vjp(c, a, r, axis) / a
    undo, (am, wm, cm) = _scan(a, axis, w, c)
    return undo(_cumprod_tri(am, wm, cm), a.shape)


def cumprod_vjp_dr(g: Any, c: Any, a: Any, axis: Any = None) -> Any:
    """The VJP of `cumprod_vjp(c, a, r, axis)` in r: c cumsum(g / a) without zeros, else 0."""
    if not _nonzero(a) or runtime.is_zero(g) or runtime.is_zero(c):
        return _scanned_zeros(a, axis)
    undo, (am, gm) = _scan(a, axis, g)
    return np.asarray(c) * undo(np.cumsum(gm / am, -1))


def cumprod_vjp_jr(d: Any, c: Any, a: Any, axis: Any = None) -> Any:
    """The tangent of `cumprod_vjp(c, a, r, axis)` from r's tangent d: uncumsum(c d) / a
    without zeros, else 0."""
    if not _nonzero(a) or runtime.is_zero(c):
        return zero_adjoint(a)
    return reductions.uncumsum(np.asarray(c) * d, a, axis) / np.asarray(a) if axis is not None \
        else reductions.uncumsum(np.asarray(c) * d, np.ravel(a), 0).reshape(np.shape(a)) / np.asarray(a)


def cumprod_jvp_da(g: Any, e: Any, a: Any, r: Any, axis: Any = None) -> np.ndarray:
    """The VJP of `cumprod_jvp(e, a, r, axis)` in a: -(e / a²) uncumsum(g r) without zeros
    (e broadcast to a), else the transposed second derivative of cumprod."""
    a = np.asarray(a)
    if runtime.is_zero(g) or runtime.is_zero(e):
        return zero_adjoint(a)
    e = np.broadcast_to(e, a.shape)
    if _nonzero(a):
        return -e / a * reductions.cumprod_vjp(g, a, r, axis)   # (uncumsum(g r) / a is cumprod_vjp's value)
    undo, (am, em, gm) = _scan(a, axis, e, g)
    return undo(_cumprod_tri(am, em, gm), a.shape)


def cumprod_jvp_ja(d: Any, e: Any, a: Any, r: Any, axis: Any = None) -> np.ndarray:
    """The tangent of `cumprod_jvp(e, a, r, axis)` from a's tangent d: -r cumsum(e d / a²)
    without zeros, else the second derivative of cumprod along e and d."""
    a = np.asarray(a)
    undo, (am, em, dm) = _scan(a, axis, e, d)
    if _nonzero(a):
        return np.asarray(r) * -undo(np.cumsum(em * dm / (am * am), -1))
    return undo(_cumprod_bi(am, em, dm))


def cumprod_jvp_dr(w: Any, e: Any, a: Any, axis: Any = None) -> Any:
    """The VJP of `cumprod_jvp(e, a, r, axis)` in r and its tangent in r (elementwise):
    w cumsum(e / a) without zeros, else 0."""
    if not _nonzero(a) or runtime.is_zero(w):
        return _scanned_zeros(a, axis)
    undo, (am, em) = _scan(a, axis, e)
    return np.asarray(w) * undo(np.cumsum(em / am, -1))


# ------------------------------------------------------------------ np.interp
@linear("xp")
def interp_slope_dfp(g: Any, x: Any, xp: Any) -> np.ndarray:
    """The VJP of `interp_slope(x, xp, fp)` in fp (linear in it): each x's g, divided by
    its segment's width, to the segment's right knot and negated to its left one."""
    x, xp = np.asarray(x), np.asarray(xp)
    out = np.zeros(xp.shape, dtype=np.result_type(g, float))
    if len(xp) < 2:
        return out
    i = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 2)
    w = np.where((x >= xp[0]) & (x < xp[-1]), np.broadcast_to(g, x.shape), 0.0) / (xp[i + 1] - xp[i])
    np.add.at(out, i + 1, w)
    np.add.at(out, i, -w)
    return out


# ------------------------------------------------------------------ np.linalg.norm
_ZERO_SLOPE_ORDS = (np.inf, -np.inf, 0, 1)   # S is piecewise constant: no derivative in x or r


def _norm_kind(x: np.ndarray, ord: Any, axis: Any) -> tuple[bool, tuple[int, ...]]:
    """(matrix norm?, the reduced axes in order), as helpers.linalg._norm_slope decides."""
    if axis is None:
        return ord is not None and x.ndim == 2, tuple(range(x.ndim))
    axes = tuple(int(k) % x.ndim for k in ((axis,) if np.ndim(axis) == 0 else axis))
    return len(axes) == 2, axes


def _svd_slope_dx(w: np.ndarray, x: np.ndarray, ord: Any) -> np.ndarray:
    """The Hessian of the nuclear (ord 'nuc'), spectral (2) or smallest-singular-value (-2)
    norm of each matrix x (..., m, n) applied to w (symmetric: the VJP and the tangent of
    the slope U Vᵀ, u_k v_kᵀ). m < n is the transposed problem. Singular values distinct
    (2, -2) and nonzero."""
    if x.shape[-2] < x.shape[-1]:
        return mT(_svd_slope_dx(mT(w), mT(x), ord))
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    v = mT(vt)
    wv = w @ v
    m = mT(u) @ wv                                # Uᵀ W V
    rest = (wv - u @ m) / s[..., None, :]          # (I - U Uᵀ) W V S⁻¹
    if ord == "nuc":
        return u @ ((m - mT(m)) / (s[..., :, None] + s[..., None, :])) @ vt + rest @ vt
    k = 0 if ord == 2 else s.shape[-1] - 1
    sk, mk, mkt = s[..., k:k + 1], m[..., :, k], m[..., k, :]    # (column k and row k of M)
    with np.errstate(divide="ignore", invalid="ignore"):
        den = sk * sk - s * s
        ca = np.where(den == 0, 0.0, (sk * mk + s * mkt) / den)   # du_k = U ca + rest_k
        cb = np.where(den == 0, 0.0, (s * mk + sk * mkt) / den)   # dv_k = V cb
    du = (u @ ca[..., None])[..., 0] + rest[..., :, k]
    dv = (v @ cb[..., None])[..., 0]
    return du[..., :, None] * vt[..., k:k + 1, :] + u[..., :, k:k + 1] * dv[..., None, :]


def norm_slope_dx(w: Any, x: Any, r: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """dS/dx applied to w (x-shaped), S = `_norm_slope`, the gradient of
    np.linalg.norm(x, ord, axis) (r, its value, held fixed): symmetric, so the VJP
    and the tangent in x of norm_vjp / norm_jvp."""
    x = np.asarray(x, dtype=np.result_type(x, float))
    if runtime.is_zero(w):
        return zero_adjoint(x)
    w = np.broadcast_to(w, x.shape)
    matrix, axes = _norm_kind(x, ord, axis)
    nk = runtime.unreduce(r, x, axis, keepdims)
    if ord is None or ord == "fro" or (ord == 2 and not matrix):
        return elementwise.div0(w, nk)
    if matrix:
        if ord not in ("nuc", 2, -2):
            return np.zeros(x.shape)   # (1, -1, inf, -inf: S picks rows or columns)
        xm, wm = np.moveaxis(x, axes, (-2, -1)), np.moveaxis(w, axes, (-2, -1))
        return np.moveaxis(_svd_slope_dx(wm, xm, ord), (-2, -1), axes)
    if ord in (np.inf, -np.inf, 0) or ord == 1:
        return np.zeros(x.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        return w * (ord - 1) * elementwise.div0(np.abs(x), nk) ** (ord - 2) * elementwise.div0(1.0, nk)


def norm_slope_dr(x: Any, r: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    """dS/dr, elementwise (x-shaped): -(p - 1) S / r for the p-norms ('fro' and the vector
    2-norm: p = 2), 0 where S does not read r."""
    x = np.asarray(x, dtype=np.result_type(x, float))
    matrix, _ = _norm_kind(x, ord, axis)
    if matrix and ord not in (None, "fro"):
        return np.zeros(x.shape)
    p = 2 if ord is None or ord == "fro" else ord
    if p in (np.inf, -np.inf, 0) or p == 1:
        return np.zeros(x.shape)
    nk = runtime.unreduce(r, x, axis, keepdims)
    slope, _ = linalg._norm_slope(x, r, ord, axis, keepdims)
    return -(p - 1) * elementwise.div0(slope, nk)


# ------------------------------------------------------------------ np.einsum, sublist form
def _operand_positions(args: Any) -> list[int]:
    """Where the operands are in einsum's positional arguments (either form)."""
    if isinstance(args[0], str):
        return list(range(1, len(args)))
    return list(range(0, len(args) - len(args) % 2, 2))


def einsum_args_with(g: Any, args: Any, k: int) -> Any:
    """np.einsum(*args) with argument k replaced by g: the VJP of einsum_args_vjp(c, args, k) in c."""
    if runtime.is_zero(g):
        return 0.0
    return np.einsum(*[g if j == k else v for j, v in enumerate(args)])


def einsum_args_vjp_args(g: Any, c: Any, args: Any, k: int) -> list:
    """The VJP of einsum_args_vjp(c, args, k) in args (a list): einsum_args_vjp(c,
    args[k := g], j) for the operands j != k, zero for the rest."""
    if runtime.is_zero(g) or runtime.is_zero(c):
        return [zero_adjoint(v) for v in args]
    put = [g if j == k else v for j, v in enumerate(args)]
    ops = _operand_positions(args)
    return [linalg.einsum_args_vjp(c, put, j) if j in ops and j != k else zero_adjoint(v) for j, v in enumerate(args)]


def einsum_args_vjp_jvp_args(d: Any, c: Any, args: Any, k: int) -> Any:
    """The tangent of einsum_args_vjp(c, args, k) from the arguments' tangents d: the sum
    over the operands j != k of operand j replaced by its tangent."""
    total: Any = 0.0
    for j in _operand_positions(args):
        if j != k and not runtime.is_zero(d[j]) and not runtime.is_zero(c):
            total = total + linalg.einsum_args_vjp(c, [d[j] if i == j else v for i, v in enumerate(args)], k)
    return total if not runtime.is_zero(total) else zero_adjoint(args[k])


# ------------------------------------------------------------------ np.add.at
def add_at(a: Any, index: Any, v: Any) -> np.ndarray:
    """A copy of a with v added at index, repeated indices accumulating (np.add.at, which
    keeps a's dtype: an integer a refuses float values as np.add.at does)."""
    out = np.array(a, copy=True)
    np.add.at(out, index, v)
    return out


for _name, _fn in (("prod_of_others_da", prod_of_others_da), ("cumprod_vjp_da", cumprod_vjp_da),
                   ("cumprod_vjp_dr", cumprod_vjp_dr), ("cumprod_vjp_jr", cumprod_vjp_jr),
                   ("cumprod_jvp_da", cumprod_jvp_da), ("cumprod_jvp_ja", cumprod_jvp_ja),
                   ("cumprod_jvp_dr", cumprod_jvp_dr), ("interp_slope_dfp", interp_slope_dfp),
                   ("norm_slope_dx", norm_slope_dx), ("norm_slope_dr", norm_slope_dr),
                   ("einsum_args_with", einsum_args_with), ("einsum_args_vjp_args", einsum_args_vjp_args),
                   ("einsum_args_vjp_jvp_args", einsum_args_vjp_jvp_args), ("add_at", add_at)):
    if getattr(runtime, _name, None) not in (None, _fn):
        raise ImportError(f"adjointc.rules.generated_reductions.{_name} would shadow adjointc.runtime.{_name}")
    setattr(runtime, _name, _fn)  # (generated code imports every helper from adjointc.runtime)


# ------------------------------------------------------------------ the rules
defvjp(reductions.prod_of_others, "a, axis=None", name="prod_of_others", a="prod_of_others_da(g, a, axis)",
       result=same_rank("a"))
defjvp("prod_of_others", a="prod_of_others_da(d, a, axis)")

# (r: cumprod's result, read as its own argument)
defvjp(reductions.cumprod_vjp, "c, a, r, axis=None", name="cumprod_vjp", c="cumprod_jvp(g, a, r, axis)",
       a="cumprod_vjp_da(g, c, a, r, axis)", r="cumprod_vjp_dr(g, c, a, axis)", result=same_rank("a"))
defjvp("cumprod_vjp", c="cumprod_vjp(d, a, r, axis)", a="cumprod_vjp_da(d, c, a, r, axis)",
       r="cumprod_vjp_jr(d, c, a, axis)")
defvjp(reductions.cumprod_jvp, "e, a, r, axis=None", name="cumprod_jvp",
       e="unbroadcast(cumprod_vjp(g, a, r, axis), e)", a="cumprod_jvp_da(g, e, a, r, axis)",
       r="cumprod_jvp_dr(g, e, a, axis)", result=lambda types, bound: type_of(types, "r"))
defjvp("cumprod_jvp", e="cumprod_jvp(d, a, r, axis)", a="cumprod_jvp_ja(d, e, a, r, axis)",
       r="cumprod_jvp_dr(d, e, a, axis)")

# np.interp's helpers (xp: no derivative, as in np.interp's own rule)
defvjp(elementwise.interp_slope, "x, xp, fp", name="interp_slope", fp="interp_slope_dfp(g, x, xp)",
       result=interp_result)   # (x: piecewise constant)
defjvp("interp_slope", "linear")
defvjp(elementwise.interp_vjp, "c, x, xp, left=None, right=None", name="interp_vjp",
       c="unbroadcast(interp_jvp(g, x, xp, left, right), c)", x="unbroadcast(c * interp_slope(x, xp, g), x)",
       result=same_rank("xp"))
defjvp("interp_vjp", c="interp_vjp(d, x, xp, left, right)", x="interp_slope_dfp(c * d, x, xp)")
defvjp(elementwise.interp_jvp, "e, x, xp, left=None, right=None", name="interp_jvp",
       e="interp_vjp(g, x, xp, left, right)", x="unbroadcast(g * interp_slope(x, xp, e), x)", result=interp_result)
defjvp("interp_jvp", e="interp_jvp(d, x, xp, left, right)", x="d * interp_slope(x, xp, e)")


def _piecewise_constant(ord: Any) -> bool:
    v = const_value(ord)
    return v is not NOT_CONST and not isinstance(v, str) and v is not None and v in _ZERO_SLOPE_ORDS


# (r: the norm, read as its own argument)
@defvjp(linalg.norm_vjp, "c, x, r, ord=None, axis=None, keepdims=False", name="norm_vjp", result=same_rank("x"))
def _norm_vjp(c, x, r, ord, axis, keepdims):
    """S's derivatives are zero where it is piecewise constant (no template: no derivative)."""
    out = {"c": "unbroadcast(norm_jvp(g, x, r, ord, axis, keepdims), c)"}
    if not _piecewise_constant(ord):
        out["x"] = "norm_slope_dx(unreduce(c, x, axis, keepdims) * g, x, r, ord, axis, keepdims)"
        out["r"] = ("reduce_like(unreduce(c, x, axis, keepdims) * g * norm_slope_dr(x, r, ord, axis, keepdims), "
                    "r, x, axis, keepdims)")
    return out


@defjvp(linalg.norm_vjp)
def _norm_vjp_tangent(c, x, r, ord, axis, keepdims):
    if _piecewise_constant(ord):
        return {"c": "norm_vjp(d, x, r, ord, axis, keepdims)"}
    return {"c": "norm_vjp(d, x, r, ord, axis, keepdims)",
            "x": "norm_slope_dx(unreduce(c, x, axis, keepdims) * d, x, r, ord, axis, keepdims)",
            "r": "unreduce(c, x, axis, keepdims) * unreduce(d, x, axis, keepdims) "
                 "* norm_slope_dr(x, r, ord, axis, keepdims)"}


@defvjp(linalg.norm_jvp, "e, x, r, ord=None, axis=None, keepdims=False", name="norm_jvp",
        result=lambda types, bound: type_of(types, "r"))
def _norm_jvp(e, x, r, ord, axis, keepdims):
    out = {"e": "unbroadcast(norm_vjp(g, x, r, ord, axis, keepdims), e)"}
    if not _piecewise_constant(ord):
        out["x"] = "norm_slope_dx(unreduce(g, x, axis, keepdims) * e, x, r, ord, axis, keepdims)"
        out["r"] = ("reduce_like(unreduce(g, x, axis, keepdims) * e * norm_slope_dr(x, r, ord, axis, keepdims), "
                    "r, x, axis, keepdims)")
    return out


@defjvp(linalg.norm_jvp)
def _norm_jvp_tangent(e, x, r, ord, axis, keepdims):
    if _piecewise_constant(ord):
        return {"e": "norm_jvp(d, x, r, ord, axis, keepdims)"}
    return {"e": "norm_jvp(d, x, r, ord, axis, keepdims)",
            "x": "reduce_like(e * norm_slope_dx(d, x, r, ord, axis, keepdims), r, x, axis, keepdims)",
            "r": "reduce_like(e * unreduce(d, x, axis, keepdims) * norm_slope_dr(x, r, ord, axis, keepdims), "
                 "r, x, axis, keepdims)"}


defvjp(linalg.einsum_args_vjp, "c, args, k", name="einsum_args_vjp", c="einsum_args_with(g, args, k)",
       args="einsum_args_vjp_args(g, c, args, k)", result=lambda types, bound: T.UNKNOWN)
defjvp("einsum_args_vjp", c="einsum_args_vjp(d, args, k)", args="einsum_args_vjp_jvp_args(d, c, args, k)")

# (x: solve's result; the VJP in a is solve_lhs at this helper's own result, `ans`)
defvjp(linalg.solve_jvp, "e, a, b, x", name="solve_jvp", e="solve_lhs(g, a, b, x)", a="solve_lhs(g, a, b, ans)",
       x="solve_lhs_dx(e, g, a, b, x)", result=same_rank("x"))
defjvp("solve_jvp", e="solve_jvp(d, a, b, x)", a="solve_jvp(d, a, b, ans)", x="solve_jvp(e, a, b, d)")

# tangent code's own helpers: rebroadcast (a derived tangent broadcast to its result's
# shape: linear in t, r read for its shape) and zero_tangent (a constant)
defvjp(elementwise.rebroadcast, "t, r", name="rebroadcast", t="unbroadcast(g, t)",
       result=lambda types, bound: type_of(types, "r"), returns_view=True)   # (t itself where shapes agree)
defjvp("rebroadcast", "linear")
nondiff(runtime.zero_tangent, "x", name="zero_tangent", result="same")

# add_at(a, index, v): the identity in a, a gather in v (each repeated index reads g once)
defvjp(add_at, "a, index, v", name="add_at", a="g", v="unbroadcast(g[index], v)", result="same")
defjvp("add_at", "linear")
