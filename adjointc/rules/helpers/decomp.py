"""Helpers of the decomposition rules (rules/np_decomp.py): the adjoints (`<op>_vjp`)
and tangents (`<op>_jvp`) of np.linalg.svd, eig, pinv and qr, for real matrices.
(eigh's and cholesky's live with the other np.linalg helpers, in linalg.py.)

Where each is defined, and what is refused (at run time, when the shapes are known:
a NoAdjointRule with a hint, since no location is known inside a helper):

* svd: distinct nonzero singular values (the factors are then unique up to the
  signs of paired columns, which a loss invariant to them does not see). With
  `full_matrices=True` and a non-square matrix the completing columns of U (or rows
  of Vh) are not unique: their adjoint must be zero (they are not read), and their
  tangent is refused. `compute_uv=False` (the singular values only) is defined
  wherever they are distinct (and nonzero for a non-square matrix).
* eig: real distinct eigenvalues (NumPy then returns real arrays, eigenvectors of
  unit norm); complex ones are refused.
* pinv: a matrix whose rank stays constant near it (full rank, typically).
* qr: a full-rank matrix, modes 'reduced', 'r' and 'complete' (the completing
  columns of Q, as for svd, only without an adjoint); 'raw' is refused.

Tuple outputs (svd, eig, qr) receive the tuple of the parts' adjoints, any of which
may be None or the symbolic zero (a part nothing reads). Matrices follow NumPy's
stacking: the last two axes are the matrix, leading axes a batch.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import NoAdjointRule
from .core import is_zero, linear, mT


def _parts(g: Any, n: int) -> list[Any]:
    """The adjoints of a tuple output's parts, None for a zero one."""
    parts = list(g) if isinstance(g, (list, tuple)) else [g] * n
    return [None if x is None or is_zero(x) else np.asarray(x) for x in parts]


def _refuse(message: str, hint: str) -> NoAdjointRule:
    return NoAdjointRule(message, None, hint)


def _gaps(s: np.ndarray, square: bool) -> np.ndarray:
    """F[..., i, j] = 1 / (s_j - s_i) off the diagonal, 0 on it (s: a batch of
    distinct values); `square`: of the squares of s."""
    w = s * s if square else s
    diff = w[..., None, :] - w[..., :, None]
    eye = np.eye(s.shape[-1], dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(eye, 0.0, 1.0 / np.where(eye, 1.0, diff))
    if not np.all(np.isfinite(f)):
        raise _refuse("the derivative of a decomposition with repeated singular values or eigenvalues "
                      "is not defined", "perturb the matrix, or differentiate a symmetric function of "
                      "them (np.sum(s), np.linalg.norm(a, 'nuc'))")
    return f


# ------------------------------------------------------------------ svd
_FULL_HINT = "pass full_matrices=False (the reduced factors are unique up to signs)"


def _svd_reduced(a: np.ndarray, ans: Any, full_matrices: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    u, s, vh = ans
    k = s.shape[-1]
    return (u[..., :, :k], s, vh[..., :k, :]) if full_matrices else (u, s, vh)


@linear("a")
def svd_vjp(g: Any, a: Any, ans: Any, full_matrices: bool = True, compute_uv: bool = True) -> np.ndarray:
    """Adjoint of `np.linalg.svd(a, full_matrices, compute_uv)`: `g` is the triple
    (U_bar, s_bar, Vh_bar), or s_bar alone for compute_uv=False. The reduced-SVD formula
    (U S Vh with k = min(m, n) columns); the completing columns of a full U (rows of a
    full Vh) must have a zero adjoint."""
    a = np.asarray(a)
    m, n = a.shape[-2:]
    if not compute_uv:
        u, _, vh = np.linalg.svd(a, full_matrices=False)
        return (u * np.asarray(g)[..., None, :]) @ vh
    gu, gs, gvh = _parts(g, 3)
    u, s, vh = _svd_reduced(a, ans, full_matrices)
    k = s.shape[-1]
    if full_matrices and m != n:
        if (gu is not None and np.any(gu[..., :, k:])) or (gvh is not None and np.any(gvh[..., k:, :])):
            raise _refuse("np.linalg.svd(a) of a non-square a: the completing columns of U (rows of Vh) "
                          "are not unique, so their derivative is not defined", _FULL_HINT)
        gu = None if gu is None else gu[..., :, :k]
        gvh = None if gvh is None else gvh[..., :k, :]
    f = _gaps(s, square=True)
    mid = np.zeros(np.shape(s) + (k,))
    if gs is not None:
        mid = mid + gs[..., None] * np.eye(k)
    if gu is not None:
        j = mT(u) @ gu
        mid = mid + f * (j - mT(j)) * s[..., None, :]
    if gvh is not None:
        j = vh @ mT(gvh)
        mid = mid + s[..., :, None] * (f * (j - mT(j)))
    out = u @ mid @ vh
    if m > k and gu is not None:      # the part of U_bar outside U's columns
        out = out + ((gu - u @ (mT(u) @ gu)) / s[..., None, :]) @ vh
    if n > k and gvh is not None:     # the part of Vh_bar outside Vh's rows
        out = out + (u / s[..., None, :]) @ (gvh - (gvh @ mT(vh)) @ vh)
    return out


def svd_jvp(d: Any, a: Any, ans: Any, full_matrices: bool = True, compute_uv: bool = True) -> Any:
    """Tangent of `np.linalg.svd(a, ...)` for the input tangent `d`: (U_dot, s_dot,
    Vh_dot), or s_dot alone for compute_uv=False (the transpose of svd_vjp)."""
    a, d = np.asarray(a), np.asarray(d)
    m, n = a.shape[-2:]
    if not compute_uv:
        u, _, vh = np.linalg.svd(a, full_matrices=False)
        return np.einsum("...ij,...ik,...kj->...j", u, d, mT(vh))
    if full_matrices and m != n:
        raise _refuse("the tangent of np.linalg.svd(a) of a non-square a with full_matrices=True is not "
                      "defined (the completing columns of U or rows of Vh are not unique)", _FULL_HINT)
    u, s, vh = ans
    v = mT(vh)
    p = mT(u) @ d @ v
    ds = np.einsum("...ii->...i", p)
    f = _gaps(s, square=True)
    du = u @ (f * (p * s[..., None, :] + s[..., :, None] * mT(p)))
    dv = v @ (f * (s[..., :, None] * p + mT(p) * s[..., None, :]))
    if m > n:
        dav = d @ v
        du = du + (dav - u @ (mT(u) @ dav)) / s[..., None, :]
    if n > m:
        datu = mT(d) @ u
        dv = dv + (datu - v @ (vh @ datu)) / s[..., None, :]
    return du, ds, mT(dv)


# ------------------------------------------------------------------ eig
_COMPLEX_HINT = ("eig's derivative is supported for real distinct eigenvalues; for a symmetric matrix "
                 "use np.linalg.eigh")


def _eig_real(ans: Any) -> tuple[np.ndarray, np.ndarray]:
    w, v = ans
    if np.iscomplexobj(w) or np.iscomplexobj(v):
        raise _refuse("np.linalg.eig: complex eigenvalues or eigenvectors are not differentiated",
                      _COMPLEX_HINT)
    return np.asarray(w), np.asarray(v)


@linear("a")
def eig_vjp(g: Any, a: Any, ans: Any) -> np.ndarray:
    """Adjoint of `w, v = np.linalg.eig(a)` (real distinct eigenvalues, unit-norm
    eigenvectors): V^-T (diag(w_bar) + F * (V^T V')) V^T, where V' = v_bar minus the
    part along each eigenvector that the normalisation removes."""
    w, v = _eig_real(ans)
    gw, gv = _parts(g, 2)
    f = _gaps(w, square=False)
    mid = np.zeros(v.shape)
    if gv is not None:
        c = np.einsum("...ij,...ij->...j", v, gv)      # v_i . v_bar_i
        mid = f * (mT(v) @ (gv - v * c[..., None, :]))
    if gw is not None:
        mid = mid + gw[..., None] * np.eye(w.shape[-1])
    return np.linalg.solve(mT(v), mid @ mT(v))


def eig_jvp(d: Any, a: Any, ans: Any) -> tuple[np.ndarray, np.ndarray]:
    """Tangent of `w, v = np.linalg.eig(a)`: (diag(P), V (F * P) renormalised), with
    P = V^-1 d V (the transpose of eig_vjp)."""
    w, v = _eig_real(ans)
    p = np.linalg.solve(v, np.asarray(d) @ v)
    dv = v @ (_gaps(w, square=False) * p)
    dv = dv - v * np.einsum("...ij,...ij->...j", v, dv)[..., None, :]
    return np.einsum("...ii->...i", p), dv


# ------------------------------------------------------------------ pinv
@linear("a")
def pinv_vjp(g: Any, a: Any, ans: Any) -> np.ndarray:
    """Adjoint of `p = np.linalg.pinv(a)` (rank constant near a): -p^T g p^T
    + (I - a p) g^T p p^T + p^T p g^T (I - p a)."""
    a, p, g = np.asarray(a), np.asarray(ans), np.asarray(g)
    pt, gt = mT(p), mT(g)
    out = -pt @ g @ pt
    out = out + (gt @ p - a @ (p @ gt @ p)) @ pt
    return out + pt @ (p @ gt - (p @ gt @ p) @ a)


def pinv_jvp(d: Any, a: Any, ans: Any) -> np.ndarray:
    """Tangent of `p = np.linalg.pinv(a)`: -p d p + p p^T d^T (I - a p) + (I - p a) d^T p^T p."""
    a, p, d = np.asarray(a), np.asarray(ans), np.asarray(d)
    pt, dt = mT(p), mT(d)
    out = -p @ d @ p
    out = out + p @ pt @ (dt - (dt @ a) @ p)
    return out + (dt - p @ (a @ dt)) @ pt @ p


# ------------------------------------------------------------------ qr
def _qr_parts(a: np.ndarray, ans: Any, mode: str) -> tuple[np.ndarray, np.ndarray]:
    if mode not in ("reduced", "complete", "r"):
        raise _refuse(f"np.linalg.qr(a, mode={mode!r}) is not differentiated",
                      "use mode='reduced' (the default), 'complete' or 'r'")
    if mode == "r":
        return np.linalg.qr(a)
    q, r = ans
    k = min(a.shape[-2:])
    return q[..., :, :k], r[..., :k, :]


def _times_r_inv_t(x: np.ndarray, r: np.ndarray) -> np.ndarray:
    """x R^-T for an upper-triangular invertible R."""
    return mT(np.linalg.solve(r, mT(x)))


def _qr_square_vjp(q: np.ndarray, r: np.ndarray, gq: np.ndarray, gr: np.ndarray) -> np.ndarray:
    """Adjoint of a = q r with r square (m >= n)."""
    qdq = mT(q) @ gq
    rdr = r @ mT(gr)
    low = np.tril(qdq - mT(qdq) + rdr - mT(rdr))
    return q @ (gr + _times_r_inv_t(low, r)) + _times_r_inv_t(gq - q @ qdq, r)


@linear("a")
def qr_vjp(g: Any, a: Any, ans: Any, mode: str = "reduced") -> np.ndarray:
    """Adjoint of `np.linalg.qr(a, mode)` (a of full rank): `g` is (Q_bar, R_bar), or
    R_bar alone for mode='r'. A wide a = [X | Y] (m < n) is X = Q U, Y = Q V: X's
    adjoint is the square case's with Q_bar + Y V_bar^T, Y's is Q V_bar."""
    a = np.asarray(a)
    q, r = _qr_parts(a, ans, mode)
    m, n = a.shape[-2:]
    k = min(m, n)
    gq, gr = ([None] + _parts(g, 1)) if mode == "r" else _parts(g, 2)
    if mode == "complete":
        if gq is not None and m > n and np.any(gq[..., :, k:]):
            raise _refuse("np.linalg.qr(a, mode='complete') of a tall a: the completing columns of Q are "
                          "not unique, so their derivative is not defined", "use mode='reduced'")
        gq = None if gq is None else gq[..., :, :k]
        gr = None if gr is None else gr[..., :k, :]
    gq = np.zeros(q.shape) if gq is None else gq
    gr = np.zeros(r.shape) if gr is None else gr
    if m >= n:
        return _qr_square_vjp(q, r, gq, gr)
    y, gv = a[..., :, m:], gr[..., :, m:]
    gx = _qr_square_vjp(q, r[..., :, :m], gq + y @ mT(gv), gr[..., :, :m])
    return np.concatenate([gx, q @ gv], axis=-1)


def _qr_square_jvp(q: np.ndarray, r: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tangent of a = q r with r square (m >= n): (Q_dot, R_dot)."""
    d_rinv = mT(np.linalg.solve(mT(r), mT(d)))     # d R^-1
    c = mT(q) @ d_rinv
    low = np.tril(c, -1)
    omega = low - mT(low)                           # skew: Q^T Q_dot
    return q @ (omega - c) + d_rinv, (c - omega) @ r


def qr_jvp(d: Any, a: Any, ans: Any, mode: str = "reduced") -> Any:
    """Tangent of `np.linalg.qr(a, mode)`: (Q_dot, R_dot), or R_dot for mode='r'
    (the transpose of qr_vjp)."""
    a, d = np.asarray(a), np.asarray(d)
    q, r = _qr_parts(a, ans, mode)
    m, n = a.shape[-2:]
    if mode == "complete" and m > n:
        raise _refuse("the tangent of np.linalg.qr(a, mode='complete') of a tall a is not defined "
                      "(the completing columns of Q are not unique)", "use mode='reduced'")
    if m >= n:
        dq, dr = _qr_square_jvp(q, r, d)
    else:
        dq, du = _qr_square_jvp(q, r[..., :, :m], d[..., :, :m])
        dv = mT(dq) @ a[..., :, m:] + mT(q) @ d[..., :, m:]
        dr = np.concatenate([du, dv], axis=-1)
    return dr if mode == "r" else (dq, dr)


__all__ = ["svd_vjp", "svd_jvp", "eig_vjp", "eig_jvp", "pinv_vjp", "pinv_jvp", "qr_vjp", "qr_jvp"]
