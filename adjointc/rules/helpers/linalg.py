"""Helpers of the linear-algebra rules (rules/np_linalg.py): the two operands'
adjoints of the bilinear products (`<op>_lhs` / `<op>_rhs`: matmul, dot, inner,
tensordot, outer), einsum's, the norms', and those of the np.linalg
factorisations and solves (`<op>_vjp`), and the tangents (forward mode) of the
norms and np.linalg (`<op>_jvp`, each the transpose of its `<op>_vjp`).

Matrix helpers follow NumPy's stacking: the last two axes are the matrix,
leading axes are a batch (`mT` swaps the last two).
"""
from __future__ import annotations

import string
from typing import Any, Sequence

import numpy as np

from ...runtime import unbroadcast, unreduce
from .core import float_zeros, is_zero, linear, mT, zero_adjoint
from .elementwise import div0
from .reductions import prod_of_others
from .shape import piece

_ndarray = np.ndarray
_NUMPY2 = int(np.__version__.split(".")[0]) >= 2


# ------------------------------------------------------- products / matmul
def _matmul_promote(g: Any, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Promote 1-D operands to matrices the way `@` does, and the adjoint with them."""
    g, x, y = np.asarray(g), np.asarray(x), np.asarray(y)
    if y.ndim == 1:            # (..., m, k) @ (k,) dropped the trailing n axis
        g, y = g[..., None], y[:, None]
    if x.ndim == 1:            # (k,) @ (..., k, n) dropped the m axis
        g, x = g[..., None, :], x[None, :]
    return g, x, y


def _plain(g: Any, x: Any, y: Any) -> int:
    """The rank pair of `x @ y` when it is a plain matrix or matrix-vector product of
    arrays with `g` its adjoint (22: 2-D @ 2-D, 21: 2-D @ 1-D, 12: 1-D @ 2-D); 0 otherwise
    (batch dimensions, Python lists, anything else: the general path)."""
    if type(g) is not _ndarray or type(x) is not _ndarray or type(y) is not _ndarray:
        return 0
    r = x.ndim * 10 + y.ndim
    return r if r in (22, 21, 12) and g.ndim == (2 if r == 22 else 1) else 0


@linear("x")
def matmul_lhs(g: Any, x: Any, y: Any) -> np.ndarray:
    """Adjoint of `x` in `x @ y` (1-D promotion, broadcast batch dimensions)."""
    r = _plain(g, x, y)
    if r == 22:
        return g @ y.T
    if r == 21:      # (m, k) @ (k,): the outer product of g and y
        return g[:, None] * y
    if r == 12:      # (k,) @ (k, n)
        return y @ g
    g2, x2, y2 = _matmul_promote(g, x, y)
    return unbroadcast(g2 @ mT(y2), x2).reshape(np.shape(x))


@linear("y")
def matmul_rhs(g: Any, x: Any, y: Any) -> np.ndarray:
    """Adjoint of `y` in `x @ y` (1-D promotion, broadcast batch dimensions)."""
    r = _plain(g, x, y)
    if r == 22 or r == 21:
        return x.T @ g
    if r == 12:      # (k,) @ (k, n): the outer product of x and g
        return x[:, None] * g
    g2, x2, y2 = _matmul_promote(g, x, y)
    return unbroadcast(mT(x2) @ g2, y2).reshape(np.shape(y))


@linear("a")
def dot_lhs(g: Any, a: Any, b: Any) -> Any:
    """Adjoint of `a` in `np.dot(a, b)` for every rank combination."""
    g, a, b = np.asarray(g), np.asarray(a), np.asarray(b)
    if a.ndim == 0 or b.ndim == 0:      # dot with a scalar is multiplication
        return unbroadcast(g * b, a)[()]
    if b.ndim == 1:                     # (..., k) . (k,): outer product back
        return np.multiply.outer(g, b)
    # (..., k) . (..., k, m): contract with every axis of b except k
    g_axes = list(range(a.ndim - 1, g.ndim))
    b_axes = list(range(b.ndim - 2)) + [b.ndim - 1]
    return np.tensordot(g, b, axes=(g_axes, b_axes))


@linear("b")
def dot_rhs(g: Any, a: Any, b: Any) -> Any:
    """Adjoint of `b` in `np.dot(a, b)` for every rank combination."""
    g, a, b = np.asarray(g), np.asarray(a), np.asarray(b)
    if a.ndim == 0 or b.ndim == 0:
        return unbroadcast(g * a, b)[()]
    lead = list(range(a.ndim - 1))      # a's non-contracted axes lead g
    if b.ndim == 1:
        return np.tensordot(g, a, axes=(lead, lead))
    return np.moveaxis(np.tensordot(a, g, axes=(lead, lead)), 0, -2)


@linear("a")
def inner_lhs(g: Any, a: Any, b: Any) -> Any:
    """Adjoint of `a` in `np.inner(a, b)` (contracts the last axes)."""
    g, a, b = np.asarray(g), np.asarray(a), np.asarray(b)
    if a.ndim == 0 or b.ndim == 0:
        return unbroadcast(g * b, a)[()]
    g_axes = list(range(a.ndim - 1, g.ndim))
    return np.tensordot(g, b, axes=(g_axes, list(range(b.ndim - 1))))


@linear("b")
def inner_rhs(g: Any, a: Any, b: Any) -> Any:
    """Adjoint of `b` in `np.inner(a, b)`."""
    g, a, b = np.asarray(g), np.asarray(a), np.asarray(b)
    if a.ndim == 0 or b.ndim == 0:
        return unbroadcast(g * a, b)[()]
    lead = list(range(a.ndim - 1))
    return np.tensordot(g, a, axes=(lead, lead))


def _tensordot_axes(axes: Any, na: int, nb: int) -> tuple[list[int], list[int]]:
    if np.ndim(axes) == 0:
        n = int(axes)
        return list(range(na - n, na)), list(range(n))
    ax_a, ax_b = axes
    ax_a = [ax_a] if np.ndim(ax_a) == 0 else list(ax_a)
    ax_b = [ax_b] if np.ndim(ax_b) == 0 else list(ax_b)
    return [int(i) % na for i in ax_a], [int(i) % nb for i in ax_b]


@linear("a")
def tensordot_lhs(g: Any, a: Any, b: Any, axes: Any = 2) -> np.ndarray:
    """Adjoint of `a` in `np.tensordot(a, b, axes)`."""
    g, a, b = np.asarray(g), np.asarray(a), np.asarray(b)
    ax_a, ax_b = _tensordot_axes(axes, a.ndim, b.ndim)
    free_a = [i for i in range(a.ndim) if i not in ax_a]
    free_b = [i for i in range(b.ndim) if i not in ax_b]
    out = np.tensordot(g, b, axes=(list(range(len(free_a), g.ndim)), free_b))
    # out's axes: a's free axes, then b's contracted axes in b's order
    order = free_a + [ax_a[ax_b.index(j)] for j in sorted(ax_b)]
    return np.transpose(out, np.argsort(order))


@linear("b")
def tensordot_rhs(g: Any, a: Any, b: Any, axes: Any = 2) -> np.ndarray:
    """Adjoint of `b` in `np.tensordot(a, b, axes)`."""
    g, a, b = np.asarray(g), np.asarray(a), np.asarray(b)
    ax_a, ax_b = _tensordot_axes(axes, a.ndim, b.ndim)
    free_a = [i for i in range(a.ndim) if i not in ax_a]
    free_b = [i for i in range(b.ndim) if i not in ax_b]
    out = np.tensordot(a, g, axes=(free_a, list(range(len(free_a)))))
    order = [ax_b[ax_a.index(i)] for i in sorted(ax_a)] + free_b
    return np.transpose(out, np.argsort(order))


@linear("a")
def outer_lhs(g: Any, a: Any, b: Any) -> np.ndarray:
    """Adjoint of `a` in `np.outer(a, b)` (both are flattened)."""
    return np.reshape(g @ np.ravel(b), np.shape(a))


@linear("b")
def outer_rhs(g: Any, a: Any, b: Any) -> np.ndarray:
    """Adjoint of `b` in `np.outer(a, b)`."""
    return np.reshape(np.ravel(a) @ g, np.shape(b))


def _kron_operands(g: Any, a: Any, b: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """np.kron's operands padded to a common rank, and `g` with their axes interleaved:
    g4[i0, k0, i1, k1, ...] = g[i0 * p0 + k0, i1 * p1 + k1, ...] for b's shape (p0, p1, ...)."""
    a, b = np.asarray(a), np.asarray(b)
    nd = max(a.ndim, b.ndim)
    a2, b2 = a.reshape((1,) * (nd - a.ndim) + a.shape), b.reshape((1,) * (nd - b.ndim) + b.shape)
    return a2, b2, np.reshape(g, [n for pair in zip(a2.shape, b2.shape) for n in pair]), nd


@linear("a")
def kron_lhs(g: Any, a: Any, b: Any) -> np.ndarray:
    """Adjoint of `a` in `np.kron(a, b)`: each block of `g` contracted with b."""
    _, b2, g4, nd = _kron_operands(g, a, b)
    return np.reshape(np.tensordot(g4, b2, (list(range(1, 2 * nd, 2)), list(range(nd)))), np.shape(a))


@linear("b")
def kron_rhs(g: Any, a: Any, b: Any) -> np.ndarray:
    """Adjoint of `b` in `np.kron(a, b)`: the blocks of `g` weighted by a's entries and summed."""
    a2, _, g4, nd = _kron_operands(g, a, b)
    return np.reshape(np.tensordot(g4, a2, (list(range(0, 2 * nd, 2)), list(range(nd)))), np.shape(b))


@linear(lambda b: b["a"] if b["which"] == 0 else b["b"])
def cross_vjp(g: Any, a: Any, b: Any, which: int) -> np.ndarray:
    """Adjoint of `a` (which=0) or `b` (1) in `np.cross(a, b)` over the last axis:
    g . (a x b) = a . (b x g) = b . (g x a). 2-vectors are 3-vectors with z = 0 (two of
    them give the z component alone)."""
    a, b, g = np.asarray(a), np.asarray(b), np.asarray(g)

    def three(x: np.ndarray) -> np.ndarray:
        return x if x.shape[-1] == 3 else np.concatenate([x, np.zeros(x.shape[:-1] + (1,))], axis=-1)
    if a.shape[-1] == 2 and b.shape[-1] == 2:
        g = np.stack(np.broadcast_arrays(0.0, 0.0, g), axis=-1)
    x = a if which == 0 else b
    bar = np.cross(three(b), g) if which == 0 else np.cross(g, three(a))
    return unbroadcast(bar[..., :x.shape[-1]], x)


# ------------------------------------------------------------------ einsum
_SUBLIST_LABELS = string.ascii_uppercase + string.ascii_lowercase   # NumPy's labels 0..51


def einsum_from_sublists(args: Sequence[Any]) -> tuple[str, list[Any]]:
    """The interleaved form `np.einsum(op0, sub0, op1, sub1, ..., [sub_out])` in
    the subscripts form: (subscripts, operands). Sublist labels are ints 0..51,
    mapped as NumPy does (0 -> 'A', 26 -> 'a'), or Ellipsis."""
    def term(sub: Sequence[Any]) -> str:
        return "".join("..." if k is Ellipsis else _SUBLIST_LABELS[int(k)] for k in sub)
    n = len(args) // 2
    subs = ",".join(term(args[2 * j + 1]) for j in range(n))
    if len(args) % 2:
        subs += "->" + term(args[-1])
    return subs, [args[2 * j] for j in range(n)]


def einsum_split(subscripts: str) -> tuple[list[str], str]:
    """Split einsum subscripts into input terms and the output term, making
    the implicit output explicit ('...' first, then the letters used once,
    in NumPy's order: uppercase before lowercase)."""
    subs = subscripts.replace(" ", "")
    if "->" in subs:
        lhs, out = subs.split("->")
        return lhs.split(","), out
    ins = subs.split(",")
    letters = [c for c in subs if c.isalpha()]
    once = sorted((c for c in set(letters) if letters.count(c) == 1),
                  key=lambda c: (c.islower(), c))
    return ins, ("..." if "..." in subs else "") + "".join(once)


def _einsum_explicit(subscripts: str, ndims: Sequence[int]) -> tuple[list[str], str]:
    """Like `einsum_split`, with every '...' replaced by fresh letters. An
    ellipsis stands for the broadcast of the operands' ellipsis dimensions,
    aligned from the right wherever the '...' sits in its term."""
    ins, out = einsum_split(subscripts)
    used = set(c for c in subscripts if c.isalpha())
    fresh = [c for c in string.ascii_letters if c not in used]
    width = [nd - (len(s) - 3) if "..." in s else 0 for s, nd in zip(ins, ndims)]
    n_ell = max(width, default=0)
    ell = "".join(fresh[:n_ell])
    ins = [s.replace("...", ell[n_ell - w:]) for s, w in zip(ins, width)]
    return ins, out.replace("...", ell)


@linear(lambda b: b['operands'][b['i']])
def einsum_vjp(g: Any, subscripts: str, operands: Sequence[Any], i: int) -> np.ndarray:
    """Adjoint of operand `i` of `np.einsum(subscripts, *operands)`.

    An einsum of `g` with the other operands onto operand i's letters, broadcast
    along letters only operand i has (it summed over them), summed over
    dimensions it broadcast (size 1 against the others), and written back onto
    the diagonal for repeated letters (`ii->i`, `ii->`)."""
    ops = [np.asarray(o) for o in operands]
    ins, out = _einsum_explicit(subscripts, [o.ndim for o in ops])
    x, s = ops[i], ins[i]
    others = [(t, o) for j, (t, o) in enumerate(zip(ins, ops)) if j != i]
    avail = set(out).union(*(set(t) for t, _ in others))
    uniq = "".join(dict.fromkeys(s))
    target = "".join(c for c in uniq if c in avail)
    spec = ",".join([out] + [t for t, _ in others]) + "->" + target
    val = np.einsum(spec, g, *[o for _, o in others])
    val = np.expand_dims(val, tuple(k for k, c in enumerate(uniq) if c not in avail))
    # unbroadcast sums over the dimensions operand i broadcast and broadcasts along
    # the letters only it has (it summed over them)
    if uniq == s:
        return unbroadcast(val, x)
    res = float_zeros(x.shape, val)
    diagonal = np.einsum(f"{s}->{uniq}", res)   # a writeable view of res's diagonal, one axis per letter
    diagonal[...] = unbroadcast(val, diagonal)
    return res


@linear(lambda b: b['args'][b['k']])
def einsum_args_vjp(g: Any, args: Sequence[Any], k: int) -> np.ndarray:
    """Adjoint of positional argument `k` of `np.einsum(*args)`, in either form:
    subscripts first (operand k - 1) or interleaved sublists (operand k // 2)."""
    if isinstance(args[0], str):
        return einsum_vjp(g, args[0], args[1:], k - 1)
    subs, ops = einsum_from_sublists(args)
    return einsum_vjp(g, subs, ops, k // 2)


# ------------------------------------------------------------------- norms
def _norm_slope(x: np.ndarray, ans: Any, ord: Any, axis: Any, keepdims: bool) -> tuple[np.ndarray, tuple[int, ...]]:
    """(D, axes): the derivative of `np.linalg.norm(x, ord, axis, keepdims)` with
    respect to each element of x, shaped like x, and the reduced axes (in the
    order given: (row axis, column axis) for a matrix norm). The adjoint is
    `g * D` (g broadcast back), the tangent `sum(D * d)` over the axes."""
    if axis is None:
        axes = tuple(range(x.ndim))
        matrix = ord is not None and x.ndim == 2
    else:   # keep the order: (row axis, column axis) for matrix norms
        axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
        axes = tuple(int(a) % x.ndim for a in axes)
        matrix = len(axes) == 2
    nk = unreduce(ans, x, axis, keepdims)
    if ord is None or ord == "fro" or (ord == 2 and not matrix):
        return div0(x, nk), axes   # 0 at x = 0 (a subgradient)
    if not matrix:
        if ord in (np.inf, -np.inf):
            hit = np.abs(x) == nk
            return np.sign(x) * hit / np.sum(hit, axis=axes, keepdims=True), axes
        if ord == 0:
            return np.zeros_like(x), axes
        return np.sign(x) * div0(np.abs(x), nk) ** (ord - 1), axes   # p >= 1 at x = 0: 0
    xm = np.moveaxis(x, axes, (-2, -1))
    if ord in ("nuc", 2, -2):
        u, _, vt = np.linalg.svd(xm, full_matrices=False)
        if ord == "nuc":
            d = u @ vt
        else:
            k = 0 if ord == 2 else -1
            d = u[..., :, k:k + 1 or None] @ vt[..., k:k + 1 or None, :]
    else:  # 1/-1: column sums (reduce rows), inf/-inf: row sums
        over = -2 if ord in (1, -1) else -1
        sums = np.sum(np.abs(xm), axis=over, keepdims=True)
        pick = np.max if ord in (1, np.inf) else np.min
        hit = sums == pick(sums, axis=-1 if over == -2 else -2, keepdims=True)
        d = np.sign(xm) * hit / np.sum(hit, axis=(-2, -1), keepdims=True)
    return np.moveaxis(d, (-2, -1), axes), axes


@linear("x")
def norm_vjp(g: Any, x: Any, ans: Any, ord: Any = None, axis: Any = None,
             keepdims: bool = False) -> np.ndarray:
    """Adjoint of `np.linalg.norm(x, ord, axis, keepdims)`.

    Vector norms: any `ord` (p-norms, inf, -inf). Matrix norms (2-D x with
    axis None, or a 2-tuple axis): 'fro', 'nuc', 1, -1, 2, -2, inf, -inf.
    Ties (inf-norms, max column sums) split `g` evenly."""
    x = np.asarray(x, dtype=np.result_type(x, float))
    slope, _ = _norm_slope(x, ans, ord, axis, keepdims)
    return unreduce(g, x, axis, keepdims) * slope


def norm_jvp(d: Any, x: Any, ans: Any, ord: Any = None, axis: Any = None,
             keepdims: bool = False) -> Any:
    """Tangent of `np.linalg.norm(x, ord, axis, keepdims)` for x's tangent `d`: the
    transpose of `norm_vjp` (the same orders; ties take the mean of the tangents)."""
    x = np.asarray(x, dtype=np.result_type(x, float))
    slope, axes = _norm_slope(x, ans, ord, axis, keepdims)
    return np.sum(slope * d, axis=axes, keepdims=keepdims)


# ----------------------------------------------------------- linear algebra
def _solve_is_vector(a: np.ndarray, b: np.ndarray) -> bool:
    # NumPy 2 treats b as a vector only when it is 1-D; NumPy 1 when b.ndim == a.ndim - 1.
    return b.ndim == 1 if _NUMPY2 else b.ndim == a.ndim - 1


def solve_jvp(d: Any, a: Any, b: Any, ans: Any) -> np.ndarray:
    """The tangent of `x = np.linalg.solve(a, b)` from a's tangent `d`: -solve(a, d @ x)
    (b's is `solve(a, b_dot)`: solve is linear in b)."""
    a, b, d, x = np.asarray(a), np.asarray(b), np.asarray(d), np.asarray(ans)
    if _solve_is_vector(a, b):
        return -np.linalg.solve(a, d @ x[..., None])[..., 0]
    return -np.linalg.solve(a, d @ x)


@linear("b")
def solve_rhs(g: Any, a: Any, b: Any) -> np.ndarray:
    """Adjoint of `b` in `np.linalg.solve(a, b)`: solve with the transposed matrix."""
    a, b, g = np.asarray(a), np.asarray(b), np.asarray(g)
    if _solve_is_vector(a, b):
        return unbroadcast(np.linalg.solve(mT(a), g[..., None])[..., 0], b)
    return unbroadcast(np.linalg.solve(mT(a), g), b)


@linear("a")
def solve_lhs(g: Any, a: Any, b: Any, ans: Any) -> np.ndarray:
    """Adjoint of `a` in `x = np.linalg.solve(a, b)`: `-solve(a.T, g) @ x.T`."""
    a, b, g, x = np.asarray(a), np.asarray(b), np.asarray(g), np.asarray(ans)
    if _solve_is_vector(a, b):
        g, x = g[..., None], x[..., None]
    return unbroadcast(-np.linalg.solve(mT(a), g) @ mT(x), a)


def _from_triangle(s: np.ndarray, uplo: str) -> np.ndarray:
    """Gradient w.r.t. the matrix whose `uplo` triangle a symmetric routine reads,
    given the gradient `s` w.r.t. the symmetric matrix it stands for."""
    s = (s + mT(s)) / 2
    off = np.tril(2 * s, -1) if uplo.upper() == "L" else np.triu(2 * s, 1)
    return off + s * np.eye(s.shape[-1])


def _to_symmetric(d: np.ndarray, uplo: str) -> np.ndarray:
    """The symmetric matrix the `uplo` triangle of `d` stands for, as a symmetric
    routine reads it (the transpose of `_from_triangle`)."""
    half = np.tril(d) if uplo.upper() == "L" else np.triu(d)
    return half + mT(half) - half * np.eye(d.shape[-1])


def _eigh_parts(s: np.ndarray, w: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(w_dot, v_dot) of `w, v = eigh(a)` for the symmetric tangent `s` (distinct
    eigenvalues): w_dot = diag(V^T s V), v_dot = V (F * V^T s V), F[i, j] = 1 / (w_j - w_i)."""
    m = mT(v) @ s @ v
    with np.errstate(divide="ignore"):
        f = 1 / (w[..., None, :] - w[..., :, None])
    n = w.shape[-1]
    f[..., np.arange(n), np.arange(n)] = 0
    return np.diagonal(m, axis1=-2, axis2=-1).copy(), v @ (f * m)


def eigh_jvp(d: Any, a: Any, ans: Any, UPLO: str = "L") -> tuple[np.ndarray, np.ndarray]:
    """Tangent of `w, v = np.linalg.eigh(a)` (eigenvalues distinct): the pair
    (w_dot, v_dot), the transpose of `eigh_vjp`."""
    w, v = ans
    return _eigh_parts(_to_symmetric(np.asarray(d), UPLO), w, v)


def eigvalsh_jvp(d: Any, a: Any, UPLO: str = "L") -> np.ndarray:
    """Tangent of `np.linalg.eigvalsh(a)`: diag(V^T s V), s the symmetric tangent."""
    _, v = np.linalg.eigh(a, UPLO)
    s = _to_symmetric(np.asarray(d), UPLO)
    return np.einsum("...ji,...jk,...ki->...i", v, s, v)


@linear("a")
def eigh_vjp(g: Any, a: Any, ans: Any, UPLO: str = "L") -> np.ndarray:
    """Adjoint of `w, v = np.linalg.eigh(a)` (eigenvalues distinct).

    `g` is the pair of adjoints (w_bar, v_bar); either may be None or zero."""
    w, v = ans
    gw, gv = g
    gw, gv = (None if x is None or is_zero(x) else x for x in (gw, gv))
    inner = np.zeros(v.shape) if gv is None else mT(v) @ gv
    with np.errstate(divide="ignore"):
        f = 1 / (w[..., None, :] - w[..., :, None])     # f[i, j] = 1 / (w_j - w_i)
    f[..., np.arange(w.shape[-1]), np.arange(w.shape[-1])] = 0
    mid = f * inner
    if gw is not None:
        mid = mid + np.asarray(gw)[..., None] * np.eye(w.shape[-1])
    return _from_triangle(v @ mid @ mT(v), UPLO)


@linear("a")
def eigvalsh_vjp(g: Any, a: Any, UPLO: str = "L") -> np.ndarray:
    """Adjoint of `np.linalg.eigvalsh(a)`: `V diag(g) V.T` for the eigenvectors V."""
    _, v = np.linalg.eigh(a, UPLO)
    return _from_triangle((v * np.asarray(g)[..., None, :]) @ mT(v), UPLO)


@linear("ans")
def inv_vjp(g: Any, ans: Any) -> np.ndarray:
    """Adjoint of `np.linalg.inv(a)`: -inv(a).T @ g @ inv(a).T."""
    return -mT(ans) @ g @ mT(ans)


def _cofactors(a: np.ndarray, ans: np.ndarray) -> np.ndarray:
    """The cofactor matrix of `a` (d det / d a), det(a) * inv(a).T, exact for a
    singular matrix too (where inv fails): from a = U S V^T, the adjugate is
    det(U) det(V^T) V adj(S) U^T, adj(S) holding the products of the other
    singular values."""
    try:
        with np.errstate(all="raise"):
            return np.asarray(ans)[..., None, None] * mT(np.linalg.inv(a))
    except (np.linalg.LinAlgError, FloatingPointError):
        u, sv, vt = np.linalg.svd(a)
        sign = np.linalg.det(u) * np.linalg.det(vt)
        adjugate = sign[..., None, None] * (mT(vt) * prod_of_others(sv, -1)[..., None, :]) @ mT(u)
        return mT(adjugate)


@linear("a")
def det_vjp(g: Any, a: Any, ans: Any) -> np.ndarray:
    """Adjoint of `np.linalg.det(a)`: g times the cofactor matrix (`_cofactors`:
    exact for a singular matrix too)."""
    return np.asarray(g)[..., None, None] * _cofactors(np.asarray(a), np.asarray(ans))


def det_jvp(d: Any, a: Any, ans: Any) -> Any:
    """Tangent of `np.linalg.det(a)`: sum(cofactors * d) over the matrix axes
    (det * trace(inv(a) @ d) where a is invertible; exact where it is singular)."""
    return np.sum(_cofactors(np.asarray(a), np.asarray(ans)) * d, axis=(-2, -1))


@linear("a")
def slogdet_vjp(g: Any, a: Any) -> np.ndarray:
    """Adjoint of `sign, logabsdet = np.linalg.slogdet(a)`: only logabsdet has a
    derivative, inv(a).T times its adjoint `g[1]`."""
    g1 = piece(g, 1)
    if is_zero(g1):
        return zero_adjoint(a)
    return np.expand_dims(g1, (-2, -1)) * mT(np.linalg.inv(a))


def slogdet_jvp(d: Any, a: Any) -> tuple[Any, Any]:
    """Tangent of `sign, logabsdet = np.linalg.slogdet(a)`: the pair (0, trace(inv(a) @ d))
    (the sign is piecewise constant)."""
    a = np.asarray(a)
    return np.zeros(a.shape[:-2])[()], np.sum(mT(np.linalg.inv(a)) * d, axis=(-2, -1))


@linear("a")
def cholesky_vjp(g: Any, a: Any, ans: Any) -> np.ndarray:
    """Adjoint of `L = np.linalg.cholesky(a)` (which reads the lower triangle of a).

    With Phi = lower triangle with the diagonal halved (Murray 2016):
    a_bar = L^-T Phi(L^T g) L^-1, symmetrised."""
    ell = np.asarray(ans)
    phi = np.tril(mT(ell) @ g)
    phi = phi - 0.5 * phi * np.eye(ell.shape[-1])
    linv = np.linalg.inv(ell)
    return _from_triangle(mT(linv) @ phi @ linv, "L")


def cholesky_jvp(d: Any, ans: Any) -> np.ndarray:
    """Tangent of `L = np.linalg.cholesky(a)` for a's tangent `d` (its lower triangle
    read as a symmetric s, as the primal reads a): L Phi(L^-1 s L^-T), Phi the lower
    triangle with the diagonal halved (the transpose of `cholesky_vjp`)."""
    ell = np.asarray(ans)
    s = _to_symmetric(np.asarray(d), "L")
    x = np.linalg.solve(ell, mT(np.linalg.solve(ell, s)))   # L^-1 s L^-T (s symmetric)
    return ell @ (np.tril(x) - 0.5 * x * np.eye(ell.shape[-1]))


# What joins adjointc.runtime (see helpers/__init__.py): the helpers, not our imports.
__all__ = [n for n, v in list(globals().items())
           if not n.startswith("_") and callable(v) and getattr(v, "__module__", None) == __name__]
