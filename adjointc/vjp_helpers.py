"""Runtime helpers that rule templates call (`from adjointc.runtime import *`).

Every helper computes one adjoint (or a piece of one) that is too long to
inline as a template. Naming conventions, so generated code reads well:

* `un<op>(g, ...)`   adjoint of a structural op (`unsort`, `untile`, `unpad`):
                     route the output adjoint `g` back to the input's layout.
* `<op>_lhs/_rhs`    adjoints of the two operands of a bilinear op (`dot_lhs`).
* `<op>_vjp`         adjoint of a nonlinear op (`norm_vjp`, `eigh_vjp`).

Helpers take the primal values they need and return an array shaped like the
corresponding input (a list of them for list inputs). They are kept small and
NumPy-only; each handles the options its rule declares, nothing more.

The symbolic zero: an adjoint not yet accumulated is the scalar 0.0, and a
helper may receive it as `g` for an array output (a value rebound in a loop
and not read after it). Helpers linear in `g` are decorated `@linear`: the
zero in gives 0.0 out (or a list of 0.0 for a list input) without running
array code that needs `g` to have the output's shape.
"""
from __future__ import annotations

import functools
import inspect
import string
from typing import Any, Callable, Sequence, TypeVar

import numpy as np

_NUMPY2 = int(np.__version__.split(".")[0]) >= 2
F = TypeVar("F", bound=Callable[..., Any])


# ------------------------------------------------------------------- basics
def _sum_to(g: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Sum a broadcast adjoint down to `shape` (like `unbroadcast`, by shape)."""
    g = np.asarray(g)
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """Normalise an `axis` argument (None, int or tuple) to sorted non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    return tuple(sorted(int(a) % max(ndim, 1) for a in axes))


def _float_zeros(shape: tuple[int, ...], *like: Any) -> np.ndarray:
    return np.zeros(shape, dtype=np.result_type(float, *like))


def is_zero(g: Any) -> bool:
    """Is `g` the symbolic zero? Adjoints start as the scalar 0.0 (free), so a
    helper can receive it for an array output, e.g. for a value overwritten in
    a loop that nothing reads after the loop."""
    return not isinstance(g, (list, tuple)) and np.ndim(g) == 0 and g == 0


def zero_adjoint(x: Any) -> Any:
    """The zero adjoint of a value: 0.0 for a scalar, float zeros of its shape for an
    array, one zero adjoint per element for a list or tuple."""
    if isinstance(x, (list, tuple)):
        return [zero_adjoint(v) for v in x]
    if np.ndim(x) == 0:
        return 0.0
    return np.zeros(np.shape(x), dtype=np.result_type(np.asarray(x).dtype, float))


def linear(like: str | Callable[[dict[str, Any]], Any]) -> Callable[[F], F]:
    """Decorator for a helper linear in its first argument `g`, returning the adjoint of
    the parameter named `like` (or the value `like(arguments)` picks): for a zero `g`
    (the symbolic zero 0.0 included) it returns that input's `zero_adjoint` without
    running the helper, whose array code needs `g` to have the output's shape."""
    def deco(fn: F) -> F:
        sig = inspect.signature(fn)

        @functools.wraps(fn)
        def helper(g: Any, *args: Any, **kwargs: Any) -> Any:
            if not is_zero(g):
                return fn(g, *args, **kwargs)
            b = sig.bind(g, *args, **kwargs)
            b.apply_defaults()
            return zero_adjoint(like(b.arguments) if callable(like) else b.arguments[like])
        return helper  # type: ignore[return-value]
    return deco


def mT(x: Any) -> np.ndarray:
    """Matrix transpose: swap the last two axes (NumPy 2's `x.mT`)."""
    return np.swapaxes(x, -1, -2)


# ------------------------------------------------------- products / matmul
def _matmul_promote(g: Any, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Promote 1-D operands to matrices the way `@` does, and the adjoint with them."""
    g, x, y = np.asarray(g), np.asarray(x), np.asarray(y)
    if y.ndim == 1:            # (..., m, k) @ (k,) dropped the trailing n axis
        g, y = g[..., None], y[:, None]
    if x.ndim == 1:            # (k,) @ (..., k, n) dropped the m axis
        g, x = g[..., None, :], x[None, :]
    return g, x, y


@linear("x")
def matmul_lhs(g: Any, x: Any, y: Any) -> np.ndarray:
    """Adjoint of `x` in `x @ y` (1-D promotion, broadcast batch dimensions)."""
    g2, x2, y2 = _matmul_promote(g, x, y)
    return _sum_to(g2 @ mT(y2), x2.shape).reshape(np.shape(x))


@linear("y")
def matmul_rhs(g: Any, x: Any, y: Any) -> np.ndarray:
    """Adjoint of `y` in `x @ y` (1-D promotion, broadcast batch dimensions)."""
    g2, x2, y2 = _matmul_promote(g, x, y)
    return _sum_to(mT(x2) @ g2, y2.shape).reshape(np.shape(y))


@linear("a")
def dot_lhs(g: Any, a: Any, b: Any) -> Any:
    """Adjoint of `a` in `np.dot(a, b)` for every rank combination."""
    g, a, b = np.asarray(g), np.asarray(a), np.asarray(b)
    if a.ndim == 0 or b.ndim == 0:      # dot with a scalar is multiplication
        return _sum_to(g * b, a.shape)[()]
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
        return _sum_to(g * a, b.shape)[()]
    lead = list(range(a.ndim - 1))      # a's non-contracted axes lead g
    if b.ndim == 1:
        return np.tensordot(g, a, axes=(lead, lead))
    return np.moveaxis(np.tensordot(a, g, axes=(lead, lead)), 0, -2)


@linear("a")
def inner_lhs(g: Any, a: Any, b: Any) -> Any:
    """Adjoint of `a` in `np.inner(a, b)` (contracts the last axes)."""
    g, a, b = np.asarray(g), np.asarray(a), np.asarray(b)
    if a.ndim == 0 or b.ndim == 0:
        return _sum_to(g * b, a.shape)[()]
    g_axes = list(range(a.ndim - 1, g.ndim))
    return np.tensordot(g, b, axes=(g_axes, list(range(b.ndim - 1))))


@linear("b")
def inner_rhs(g: Any, a: Any, b: Any) -> Any:
    """Adjoint of `b` in `np.inner(a, b)`."""
    g, a, b = np.asarray(g), np.asarray(a), np.asarray(b)
    if a.ndim == 0 or b.ndim == 0:
        return _sum_to(g * a, b.shape)[()]
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
    sizes = dict(zip(s, x.shape))
    full = tuple(sizes[c] for c in uniq)
    val = _sum_to(val, full)
    if val.shape != full:   # letters only operand i has: it summed over them
        val = np.broadcast_to(val, full)
    if uniq == s:
        return val
    res = _float_zeros(x.shape, val)
    np.einsum(f"{s}->{uniq}", res)[...] = val   # a writeable view of the diagonal
    return res


@linear(lambda b: b['args'][b['k']])
def einsum_args_vjp(g: Any, args: Sequence[Any], k: int) -> np.ndarray:
    """Adjoint of positional argument `k` of `np.einsum(*args)`, in either form:
    subscripts first (operand k - 1) or interleaved sublists (operand k // 2)."""
    if isinstance(args[0], str):
        return einsum_vjp(g, args[0], args[1:], k - 1)
    subs, ops = einsum_from_sublists(args)
    return einsum_vjp(g, subs, ops, k // 2)


# -------------------------------------------------------------- reductions
@linear("a")
def unreduce_minmax(g: Any, a: Any, ans: Any, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    """Adjoint of max/min: `g` goes to the elements equal to the result,
    split evenly among ties (JAX's convention)."""
    a = np.asarray(a)
    hit = a == unreduce(ans, a, axis, keepdims)
    count = np.sum(hit, axis=_axes(axis, a.ndim), keepdims=True)
    return unreduce(g, a, axis, keepdims) * hit / count


def prod_of_others(a: Any, axis: Any = None) -> np.ndarray:
    """For each element, the product of the *other* elements reduced with it
    along `axis`: d prod / d a, exact when some elements are zero."""
    a = np.asarray(a)
    axes = _axes(axis, a.ndim)
    keep = [d for d in range(a.ndim) if d not in axes]
    b = np.transpose(a, keep + list(axes))
    shape = b.shape
    n = int(np.prod(shape[len(keep):], dtype=int))
    if n == 0:
        return np.zeros(a.shape, dtype=a.dtype)
    b = b.reshape(shape[:len(keep)] + (n,))
    one = np.ones(b.shape[:-1] + (1,), dtype=b.dtype)
    before = np.cumprod(np.concatenate([one, b[..., :-1]], -1), -1)           # prod of b[:j]
    after = np.cumprod(np.concatenate([one, b[..., :0:-1]], -1), -1)[..., ::-1]  # prod of b[j+1:]
    return np.transpose((before * after).reshape(shape), np.argsort(keep + list(axes)))


@linear("a")
def unreduce_var(g: Any, a: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> np.ndarray:
    """Adjoint of `np.var(a, axis, ddof=ddof, keepdims=keepdims)`."""
    a = np.asarray(a)
    axes = _axes(axis, a.ndim)
    n = int(np.prod([a.shape[d] for d in axes], dtype=int))
    if n - ddof <= 0:   # np.var is nan here (with a RuntimeWarning): so is its derivative
        return unreduce(g, a, axis, keepdims) * np.full(a.shape, np.nan)
    centred = a - a.mean(axis=axes, keepdims=True)
    return unreduce(g, a, axis, keepdims) * (2 / (n - ddof)) * centred


@linear("x")
def norm_vjp(g: Any, x: Any, ans: Any, ord: Any = None, axis: Any = None,
             keepdims: bool = False) -> np.ndarray:
    """Adjoint of `np.linalg.norm(x, ord, axis, keepdims)`.

    Vector norms: any `ord` (p-norms, inf, -inf). Matrix norms (2-D x with
    axis None, or a 2-tuple axis): 'fro', 'nuc', 1, -1, 2, -2, inf, -inf.
    Ties (inf-norms, max column sums) split `g` evenly."""
    x = np.asarray(x, dtype=np.result_type(x, float))
    if axis is None:
        axes = tuple(range(x.ndim))
        matrix = ord is not None and x.ndim == 2
    else:   # keep the order: (row axis, column axis) for matrix norms
        axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
        axes = tuple(int(a) % x.ndim for a in axes)
        matrix = len(axes) == 2
    gk = unreduce(g, x, axis, keepdims)
    nk = unreduce(ans, x, axis, keepdims)
    if ord is None or ord == "fro" or (ord == 2 and not matrix):
        return gk * div0(x, nk)   # 0 at x = 0 (a subgradient)
    if not matrix:
        if ord in (np.inf, -np.inf):
            hit = np.abs(x) == nk
            return gk * np.sign(x) * hit / np.sum(hit, axis=axes, keepdims=True)
        if ord == 0:
            return np.zeros_like(x)
        return gk * np.sign(x) * div0(np.abs(x), nk) ** (ord - 1)   # p >= 1 at x = 0: 0
    xm = np.moveaxis(x, axes, (-2, -1))
    gm = np.moveaxis(gk, axes, (-2, -1))
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
    return np.moveaxis(gm * d, (-2, -1), axes)


# --------------------------------------------------------- scans / sorting
@linear("a")
def uncumsum(g: Any, a: Any, axis: Any = None) -> np.ndarray:
    """Adjoint of `np.cumsum(a, axis)`: a cumulative sum from the end."""
    g = np.asarray(g)
    if axis is None:
        return uncumsum(g, np.ravel(a), 0).reshape(np.shape(a))
    return np.flip(np.cumsum(np.flip(g, axis), axis), axis)


@linear("a")
def cumprod_vjp(g: Any, a: Any, ans: Any, axis: Any = None) -> np.ndarray:
    """Adjoint of `np.cumprod(a, axis)`, exact when `a` contains zeros."""
    a, g = np.asarray(a), np.asarray(g)
    if axis is None:
        return cumprod_vjp(g, a.ravel(), np.ravel(ans), 0).reshape(a.shape)
    if np.all(a != 0):
        return uncumsum(g * ans, a, axis) / a
    # With zeros: d ans[i] / d a[j] = prod(a[k] for k <= i, k != j) for i >= j.
    am, gm = np.moveaxis(a, axis, -1), np.moveaxis(g, axis, -1)
    n = am.shape[-1]
    skip_j = np.where(np.eye(n, dtype=bool), 1, am[..., None, :])   # row j: a with a[j] = 1
    partial = np.triu(np.cumprod(skip_j, axis=-1))                  # [j, i] for i >= j
    return np.moveaxis(np.sum(partial * gm[..., None, :], axis=-1), -1, axis)


@linear("a")
def unsort(g: Any, a: Any, axis: Any = -1) -> np.ndarray:
    """Adjoint of `np.sort(a, axis)`: send each sorted slot back where it came from."""
    a, g = np.asarray(a), np.asarray(g)
    if axis is None:
        return unsort(g, a.ravel(), 0).reshape(a.shape)
    out = _float_zeros(a.shape, g)
    np.put_along_axis(out, np.argsort(a, axis=axis, kind="stable"), g, axis)
    return out


@linear("a")
def undiff(g: Any, a: Any, n: int = 1, axis: int = -1) -> np.ndarray:
    """Adjoint of `np.diff(a, n, axis)`: a negated difference of the zero-padded `g`."""
    for _ in range(n):
        g = -np.diff(g, axis=axis, prepend=0, append=0)
    return g


# ------------------------------------------------------- shape / selection
@linear("array")
def unpad(g: Any, array: Any, pad_width: Any) -> np.ndarray:
    """Adjoint of `np.pad(a, pad_width)` w.r.t. `a`: cut the padding off."""
    g = np.asarray(g)
    width = np.broadcast_to(np.asarray(pad_width, dtype=int), (g.ndim, 2))
    return g[tuple(slice(lo, n - hi) for n, (lo, hi) in zip(g.shape, width))]


@linear("a")
def untake(g: Any, a: Any, indices: Any, axis: Any = None) -> np.ndarray:
    """Adjoint of `np.take(a, indices, axis)`: scatter-add `g` (repeats add up)."""
    out = _float_zeros(np.shape(a), g)
    if axis is None:
        np.add.at(out.reshape(-1), indices, g)
    else:
        np.add.at(out, (slice(None),) * (axis % out.ndim) + (indices,), g)
    return out


@linear("a")
def unrepeat(g: Any, a: Any, repeats: Any, axis: Any = None) -> np.ndarray:
    """Adjoint of `np.repeat(a, repeats, axis)`: sum each element's copies."""
    a, g = np.asarray(a), np.asarray(g)
    if axis is None:
        return unrepeat(g, a.ravel(), repeats, 0).reshape(a.shape)
    axis %= a.ndim
    source = np.repeat(np.arange(a.shape[axis]), repeats)  # which element each copy is of
    out = _float_zeros(a.shape, g)
    np.add.at(out, (slice(None),) * axis + (source,), g)
    return out


@linear("a")
def untile(g: Any, a: Any, reps: Any) -> np.ndarray:
    """Adjoint of `np.tile(a, reps)`: sum the tiles."""
    shape = np.shape(a)
    reps = (int(reps),) if np.ndim(reps) == 0 else tuple(reps)
    d = max(len(shape), len(reps))
    full = (1,) * (d - len(shape)) + shape
    reps = (1,) * (d - len(reps)) + reps
    g = np.reshape(g, [n for pair in zip(reps, full) for n in pair])  # (r0, s0, r1, s1, ...)
    return g.sum(axis=tuple(range(0, 2 * d, 2))).reshape(shape)


@linear("a")
def undiagonal(g: Any, a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> np.ndarray:
    """Adjoint of `np.diagonal(a, offset, axis1, axis2)`: `g` on a zero diagonal."""
    g = np.asarray(g)
    out = _float_zeros(np.shape(a), g)
    view = np.moveaxis(out, (axis1, axis2), (-2, -1))  # a view: writes go to out
    k = np.arange(g.shape[-1])
    view[..., k + max(-offset, 0), k + max(offset, 0)] = g
    return out


@linear("a")
def untrace(g: Any, a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> np.ndarray:
    """Adjoint of `np.trace(a, offset, axis1, axis2)`: `g` on every diagonal element."""
    k = np.diagonal(np.broadcast_to(0.0, np.shape(a)), offset, axis1, axis2).shape[-1]
    g = np.asarray(g)
    return undiagonal(np.broadcast_to(g[..., None], g.shape + (k,)), a, offset, axis1, axis2)


@linear("v")
def undiag(g: Any, v: Any, k: int = 0) -> np.ndarray:
    """Adjoint of `np.diag(v, k)`, which builds (1-D v) or extracts (2-D v) a diagonal."""
    return np.diag(g, k) if np.ndim(v) == 1 else undiagonal(g, v, k, 0, 1)


@linear("arrays")
def unconcatenate(g: Any, arrays: Sequence[Any], axis: Any = 0) -> list[np.ndarray]:
    """Adjoint of `np.concatenate(arrays, axis)`: split `g` into pieces shaped like `arrays`."""
    shapes = [np.shape(x) for x in arrays]
    if axis is None:
        cuts = np.cumsum([int(np.prod(s, dtype=int)) for s in shapes])[:-1]
        return [p.reshape(s) for p, s in zip(np.split(np.ravel(g), cuts), shapes)]
    return np.split(g, np.cumsum([s[axis] for s in shapes])[:-1], axis=axis)


@linear(lambda b: b['values'] if b['which'] else b['arr'])
def unappend(g: Any, arr: Any, values: Any, axis: Any, which: int) -> np.ndarray:
    """Adjoint of `arr` (which=0) or `values` (which=1) in `np.append(arr, values, axis)`:
    the leading or trailing part of `g` (flattened first for axis=None)."""
    x = arr if which == 0 else values
    if axis is None:
        flat = np.ravel(g)
        part = flat[:np.size(arr)] if which == 0 else flat[np.size(arr):]
        return part.reshape(np.shape(x))
    n = np.shape(arr)[axis]
    index = [slice(None)] * np.ndim(g)
    index[axis] = slice(0, n) if which == 0 else slice(n, None)
    return np.reshape(g[tuple(index)], np.shape(x))


@linear("arrays")
def unstack(g: Any, arrays: Sequence[Any], axis: int = 0) -> list[np.ndarray]:
    """Adjoint of `np.stack(arrays, axis)`: the slices of `g` along `axis`."""
    return list(np.moveaxis(np.asarray(g), axis, 0))


def _split_promoted(g: Any, arrays: Sequence[Any], promoted: list[tuple[int, ...]], axis: int) -> list[np.ndarray]:
    pieces = np.split(g, np.cumsum([s[axis] for s in promoted])[:-1], axis=axis)
    return [p.reshape(np.shape(x)) for p, x in zip(pieces, arrays)]


@linear("tup")
def unhstack(g: Any, tup: Sequence[Any]) -> list[np.ndarray]:
    """Adjoint of `np.hstack(tup)` (axis 0 for 1-D inputs, else axis 1)."""
    shapes = [np.shape(np.atleast_1d(x)) for x in tup]
    return _split_promoted(g, tup, shapes, 0 if len(shapes[0]) == 1 else 1)


@linear("tup")
def unvstack(g: Any, tup: Sequence[Any]) -> list[np.ndarray]:
    """Adjoint of `np.vstack(tup)` (inputs promoted to 2-D, stacked on axis 0)."""
    return _split_promoted(g, tup, [np.shape(np.atleast_2d(x)) for x in tup], 0)


def unsum(g: Any, x: Any) -> Any:
    """Adjoint of the builtin `sum(x)`: every element of a list gets `g`; an
    array is summed over axis 0, so `g` (a row) goes to every row."""
    if isinstance(x, np.ndarray):
        return np.broadcast_to(g, x.shape)
    return [g] * len(x)


def unarray(g: Any, obj: Any) -> Any:
    """Adjoint of `np.array(obj)`: split `g` into the (nested) list structure of `obj`."""
    if isinstance(obj, (list, tuple)):
        if is_zero(g):
            return zero_adjoint(obj)
        return [unarray(g[i], o) for i, o in enumerate(obj)]
    return g


@linear("a")
def unreshape(g: Any, a: Any) -> np.ndarray:
    """Adjoint of reshape, ravel, squeeze, expand_dims, atleast_*: `g` in a's shape."""
    return np.reshape(g, np.shape(a))


@linear("a")
def untranspose(g: Any, a: Any, axes: Any = None) -> np.ndarray:
    """Adjoint of `np.transpose(a, axes)`: transpose back (the inverse permutation)."""
    return np.transpose(g) if axes is None else np.transpose(g, np.argsort(axes))


@linear("a")
def unswapaxes(g: Any, a: Any, axis1: int, axis2: int) -> np.ndarray:
    """Adjoint of `np.swapaxes(a, axis1, axis2)`: swap them back."""
    return np.swapaxes(g, axis1, axis2)


@linear("a")
def unmoveaxis(g: Any, a: Any, source: Any, destination: Any) -> np.ndarray:
    """Adjoint of `np.moveaxis(a, source, destination)`: move them back."""
    return np.moveaxis(g, destination, source)


@linear("m")
def unflip(g: Any, m: Any, axis: Any = None) -> np.ndarray:
    """Adjoint of `np.flip(a, axis)` (and fliplr: axis 1, flipud: axis 0): flip back."""
    return np.flip(g, axis)


@linear("a")
def unroll(g: Any, a: Any, shift: Any, axis: Any = None) -> np.ndarray:
    """Adjoint of `np.roll(a, shift, axis)`: roll back by -shift."""
    return np.roll(g, np.negative(shift), axis)


@linear("m")
def untril(g: Any, m: Any, k: int = 0) -> np.ndarray:
    """Adjoint of `np.tril(m, k)` (a 1-D m is broadcast along the rows)."""
    return _sum_to(np.tril(g, k), np.shape(m))


@linear("m")
def untriu(g: Any, m: Any, k: int = 0) -> np.ndarray:
    """Adjoint of `np.triu(m, k)`."""
    return _sum_to(np.triu(g, k), np.shape(m))


@linear("a")
def outer_lhs(g: Any, a: Any, b: Any) -> np.ndarray:
    """Adjoint of `a` in `np.outer(a, b)` (both are flattened)."""
    return np.reshape(g @ np.ravel(b), np.shape(a))


@linear("b")
def outer_rhs(g: Any, a: Any, b: Any) -> np.ndarray:
    """Adjoint of `b` in `np.outer(a, b)`."""
    return np.reshape(np.ravel(a) @ g, np.shape(b))


@linear("x")
def linspace_vjp(g: Any, x: Any, num: int, endpoint: bool, weight_from: float) -> Any:
    """Adjoint of `start` (weight_from=1.0) or `stop` (0.0) in `np.linspace(start, stop,
    num, endpoint)`, which is linear: start * (1 - t) + stop * t along axis 0."""
    w = np.linspace(weight_from, 1.0 - weight_from, num, endpoint)
    return _sum_to(np.tensordot(w, g, 1), np.shape(x))[()]


def piece(g: Any, i: int) -> Any:
    """`g[i]` for the adjoint of a tuple output, the symbolic zero staying zero."""
    return 0.0 if is_zero(g) else g[i]


# ------------------------------------------------------------ elementwise
def pow_dx(x: Any, y: Any) -> Any:
    """d(x ** y)/dx = y * x ** (y - 1), never a ZeroDivisionError: 0 where y == 0
    (x ** 0 is the constant 1, also at x = 0), inf at x = 0 for 0 < y < 1."""
    x, y = np.asarray(x, dtype=np.result_type(x, float)), np.asarray(y, dtype=np.result_type(y, float))
    with np.errstate(divide="ignore", invalid="ignore"):
        d = y * np.power(x, y - 1)
    return np.where(y == 0, 0.0, d)[()]


def pow_dy(x: Any, ans: Any) -> Any:
    """d(x ** y)/dy = x ** y * log(x), with 0 at x = 0 (0 ** y is 0 for every y > 0;
    JAX's convention), nan for x < 0 (no real logarithm)."""
    x = np.asarray(x, dtype=np.result_type(x, float))
    with np.errstate(invalid="ignore"):
        return (ans * np.log(np.where(x == 0, 1.0, x)))[()]


def div0(a: Any, b: Any) -> Any:
    """a / b, 0 where b == 0: where a norm (`np.linalg.norm`, `hypot`, `std`) is 0,
    its adjoint takes the subgradient 0, as abs'(0) = 0 (JAX gives nan there)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.true_divide(a, b)
    return np.where(np.asarray(b) == 0, 0.0, q)[()]


def fdiv(a: Any, b: Any) -> Any:
    """a / b in floating point: inf (or nan) where b == 0, as NumPy gives, instead of
    Python's ZeroDivisionError for floats (`math.sqrt`'s derivative at 0 is inf)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.true_divide(a, b)[()]


def dsinc(x: Any) -> np.ndarray:
    """Derivative of `np.sinc` (0 at 0; a Taylor series near 0 avoids cancellation)."""
    x = np.asarray(x, dtype=np.result_type(x, float))
    with np.errstate(divide="ignore", invalid="ignore"):
        d = (np.cos(np.pi * x) - np.sinc(x)) / x
    return np.where(np.abs(x) < 1e-4, -np.pi ** 2 / 3 * x, d)


def interp_slope(x: Any, xp: Any, fp: Any) -> np.ndarray:
    """d np.interp(x, xp, fp) / dx: the slope of the segment holding x (0 outside xp)."""
    x, xp, fp = np.asarray(x), np.asarray(xp), np.asarray(fp)
    if len(xp) < 2:
        return np.zeros(x.shape)
    i = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 2)
    slope = (fp[i + 1] - fp[i]) / (xp[i + 1] - xp[i])
    return np.where((x >= xp[0]) & (x < xp[-1]), slope, 0.0)


@linear("xp")
def interp_vjp(g: Any, x: Any, xp: Any, left: Any = None, right: Any = None) -> np.ndarray:
    """Adjoint of `fp` in `np.interp(x, xp, fp, left, right)`: each x spreads
    its `g` over the two knots around it (the end knot outside, unless
    `left`/`right` replace the value there)."""
    x, xp = np.asarray(x), np.asarray(xp)
    g = np.broadcast_to(g, x.shape)
    keep = np.ones(x.shape, dtype=bool)
    if left is not None:
        keep &= x >= xp[0]
    if right is not None:
        keep &= x <= xp[-1]
    g = g * keep
    out = _float_zeros(xp.shape, g)
    if len(xp) == 1:
        out[0] = np.sum(g)
        return out
    i = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 2)
    t = np.clip((x - xp[i]) / (xp[i + 1] - xp[i]), 0.0, 1.0)
    np.add.at(out, i, g * (1 - t))
    np.add.at(out, i + 1, g * t)
    return out


# ----------------------------------------------------------- linear algebra
def _solve_is_vector(a: np.ndarray, b: np.ndarray) -> bool:
    # NumPy 2 treats b as a vector only when it is 1-D; NumPy 1 when b.ndim == a.ndim - 1.
    return b.ndim == 1 if _NUMPY2 else b.ndim == a.ndim - 1


@linear("b")
def solve_rhs(g: Any, a: Any, b: Any) -> np.ndarray:
    """Adjoint of `b` in `np.linalg.solve(a, b)`: solve with the transposed matrix."""
    a, b, g = np.asarray(a), np.asarray(b), np.asarray(g)
    if _solve_is_vector(a, b):
        return _sum_to(np.linalg.solve(mT(a), g[..., None])[..., 0], b.shape)
    return _sum_to(np.linalg.solve(mT(a), g), b.shape)


@linear("a")
def solve_lhs(g: Any, a: Any, b: Any, ans: Any) -> np.ndarray:
    """Adjoint of `a` in `x = np.linalg.solve(a, b)`: `-solve(a.T, g) @ x.T`."""
    a, b, g, x = np.asarray(a), np.asarray(b), np.asarray(g), np.asarray(ans)
    if _solve_is_vector(a, b):
        g, x = g[..., None], x[..., None]
    return _sum_to(-np.linalg.solve(mT(a), g) @ mT(x), a.shape)


def _from_triangle(s: np.ndarray, uplo: str) -> np.ndarray:
    """Gradient w.r.t. the matrix whose `uplo` triangle a symmetric routine reads,
    given the gradient `s` w.r.t. the symmetric matrix it stands for."""
    s = (s + mT(s)) / 2
    off = np.tril(2 * s, -1) if uplo.upper() == "L" else np.triu(2 * s, 1)
    return off + s * np.eye(s.shape[-1])


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


@linear("a")
def det_vjp(g: Any, a: Any, ans: Any) -> np.ndarray:
    """Adjoint of `np.linalg.det(a)`: g times the cofactor matrix, det * inv(a).T.
    Exact for a singular matrix too (where inv fails): from a = U S V^T, the
    adjugate is det(U) det(V^T) V adj(S) U^T, adj(S) holding the products of
    the other singular values."""
    a, g, ans = np.asarray(a), np.asarray(g), np.asarray(ans)
    try:
        with np.errstate(all="raise"):
            return np.asarray(g * ans)[..., None, None] * mT(np.linalg.inv(a))
    except (np.linalg.LinAlgError, FloatingPointError):
        u, sv, vt = np.linalg.svd(a)
        sign = np.linalg.det(u) * np.linalg.det(vt)
        adjugate = sign[..., None, None] * (mT(vt) * prod_of_others(sv, -1)[..., None, :]) @ mT(u)
        return g[..., None, None] * mT(adjugate)


@linear("a")
def slogdet_vjp(g: Any, a: Any) -> np.ndarray:
    """Adjoint of `sign, logabsdet = np.linalg.slogdet(a)`: only logabsdet has a
    derivative, inv(a).T times its adjoint `g[1]`."""
    g1 = piece(g, 1)
    if is_zero(g1):
        return zero_adjoint(a)
    return np.expand_dims(g1, (-2, -1)) * mT(np.linalg.inv(a))


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


from .runtime import unreduce  # noqa: E402  (runtime re-exports this module; import last)

# What `from adjointc.runtime import *` exports: the helpers, not our imports.
__all__ = [n for n, v in list(globals().items())
           if not n.startswith("_") and callable(v) and getattr(v, "__module__", None) == __name__]
