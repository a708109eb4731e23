"""Helpers of the shape and indexing rules (rules/np_shape.py): route the adjoint
`g` of a rearranged, selected or assembled array back to the input's layout
(`un<op>`: unpad, untake, unstack, untranspose...), split it over the pieces
of a concatenation or a list, and the adjoints of np.linspace's endpoints.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ...runtime import first_positions, unbroadcast
from .core import float_zeros, is_zero, linear, zero_adjoint


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
    out = float_zeros(np.shape(a), g)
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
    out = float_zeros(a.shape, g)
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
    out = float_zeros(np.shape(a), g)
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


def _ties(x: Any, m: Any) -> tuple[Any, int]:
    """Which elements of `x` equal its max/min `m`, and how many do."""
    if isinstance(x, np.ndarray):
        hit = np.asarray(x == m, dtype=float)
        return hit, max(int(hit.sum()), 1)
    hit = [1.0 if e == m else 0.0 for e in x]
    return hit, max(int(sum(hit)), 1)


@linear("x")
def unextreme(g: Any, x: Any, m: Any) -> Any:
    """Adjoint of the builtin `max(x)` / `min(x)` of one iterable (m the result): `g` goes
    to the elements equal to m, split evenly among ties (as np.max's adjoint)."""
    hit, n = _ties(x, m)
    if isinstance(x, np.ndarray):
        return g * hit / n
    return [g * h / n for h in hit]


def extreme_jvp(d: Any, x: Any, m: Any) -> Any:
    """Tangent of `max(x)` / `min(x)`: the mean of the tied elements' tangents (the
    transpose of `unextreme`)."""
    if is_zero(d):
        return 0.0
    hit, n = _ties(x, m)
    if isinstance(x, np.ndarray):
        return np.sum(np.asarray(d) * hit) / n
    return sum(di * h for di, h in zip(d, hit) if h) / n


@linear("x")
def unprod(g: Any, x: Any, start: Any = 1) -> Any:
    """Adjoint of `math.prod(x, start=s)`: each element gets g times the product of
    the others and s (no division: exact at zeros)."""
    vals = list(x)
    out = []
    for i in range(len(vals)):
        p = start
        for j, v in enumerate(vals):
            if j != i:
                p = p * v
        out.append(g * p)
    return np.array(out, dtype=np.result_type(float, *vals)).reshape(np.shape(x)) \
        if isinstance(x, np.ndarray) else out


def prod_jvp(d: Any, x: Any, start: Any = 1) -> Any:
    """Tangent of `math.prod(x, start=s)` for the elements' tangents d (unprod's transpose)."""
    parts = unprod(1.0, x, start)
    return sum(di * p for di, p in zip(list(d), list(parts)))


def unconcat_list(g: Any, x: Any, y: Any, which: int) -> Any:
    """Adjoint of the list (or tuple) concatenation `x + y` w.r.t. x (which 0) or y (1):
    the element adjoints of its part."""
    part = x if which == 0 else y
    if is_zero(g):
        return zero_adjoint(part)
    return list(g[:len(x)]) if which == 0 else list(g[len(x):])


@linear("x")
def unrepeat_list(g: Any, x: Any, n: Any) -> Any:
    """Adjoint of the list repetition `x * n` (or `n * x`): each element's copies added."""
    m = len(x)
    out = [g[i] for i in range(m)] if n > 0 else zero_adjoint(x)
    for k in range(1, max(n, 0)):
        out = [_add(a, b) for a, b in zip(out, g[k * m:(k + 1) * m])]
    return out


def _add(a: Any, b: Any) -> Any:
    return a if is_zero(b) else (b if is_zero(a) else a + b)


def _order(x: Any, reverse: Any) -> list[int]:
    """The positions of x's elements in `sorted(x, reverse=reverse)` (stable, as sorted is)."""
    return sorted(range(len(x)), key=lambda i: x[i], reverse=bool(reverse))


@linear("x")
def unsorted(g: Any, x: Any, reverse: Any = False) -> Any:
    """Adjoint of the builtin `sorted(x)`: each sorted position's adjoint back to the
    element it came from (a permutation: ties keep their order, as sorted's)."""
    out: list[Any] = [0.0] * len(x)
    for k, i in enumerate(_order(x, reverse)):
        out[i] = g[k]
    if isinstance(x, np.ndarray):
        return np.array([np.zeros(np.shape(x)[1:]) if is_zero(e) else e for e in out], dtype=float)
    return out


def sorted_jvp(d: Any, x: Any, reverse: Any = False) -> list[Any]:
    """Tangent of `sorted(x)`: the tangents in the sorted order (unsorted's transpose)."""
    if is_zero(d):
        return [0.0] * len(x)
    return [d[i] for i in _order(x, reverse)]


@linear("x")
def undistinct(g: Any, x: Any) -> list[Any]:
    """Adjoint of `distinct(x)` (a set): each distinct item's adjoint back to its first
    occurrence in x; the repeats, which the set dropped, get none."""
    out: list[Any] = [0.0] * len(x)
    for k, i in enumerate(first_positions(x)):
        out[i] = g[k]
    return out


def distinct_jvp(d: Any, x: Any) -> list[Any]:
    """Tangent of `distinct(x)`: the first occurrences' tangents (undistinct's transpose)."""
    if is_zero(d):
        return [0.0] * len(first_positions(x))
    return [d[i] for i in first_positions(x)]


def unsum(g: Any, x: Any) -> Any:
    """Adjoint of the builtin `sum(x)`: every element of a list gets `g`; an
    array is summed over axis 0, so `g` (a row) goes to every row."""
    if isinstance(x, np.ndarray):
        return np.broadcast_to(g, x.shape)
    return [g] * len(x)


@linear("x")
def unlist(g: Any, x: Any) -> Any:
    """Adjoint of the builtin `list(x)` (a list of x's elements, or rows): for an array the
    element adjoints stacked back into x's shape, for a list or tuple the list of them."""
    if isinstance(x, np.ndarray):
        out = float_zeros(np.shape(x), x)
        for i, e in enumerate(g):
            if not is_zero(e):
                out[i] = e
        return out
    return list(g)


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
    return unbroadcast(np.tril(g, k), m)


@linear("m")
def untriu(g: Any, m: Any, k: int = 0) -> np.ndarray:
    """Adjoint of `np.triu(m, k)`."""
    return unbroadcast(np.triu(g, k), m)


@linear("x")
def linspace_vjp(g: Any, x: Any, num: int, endpoint: bool, weight_from: float) -> Any:
    """Adjoint of `start` (weight_from=1.0) or `stop` (0.0) in `np.linspace(start, stop,
    num, endpoint)`, which is linear: start * (1 - t) + stop * t along axis 0."""
    w = np.linspace(weight_from, 1.0 - weight_from, num, endpoint)
    return unbroadcast(np.tensordot(w, g, 1), x)[()]


@linear("ary")
def unsplit(g: Any, ans: Any, ary: Any, axis: Any) -> np.ndarray:
    """Adjoint of the pieces `ans` of np.split / array_split (axis an int), hsplit
    (axis "h": 1, or 0 for a 1-D array), vsplit ("v": 0) or dsplit ("d": 2): the
    pieces' adjoints `g` put back together, a zero one (a piece nothing read) as zeros."""
    axis = {"h": 1 if np.ndim(ary) > 1 else 0, "v": 0, "d": 2}.get(axis, axis)
    parts = [float_zeros(np.shape(p), ary) if x is None or is_zero(x) else np.broadcast_to(x, np.shape(p))
             for x, p in zip(g, ans)]
    return np.concatenate(parts, axis=axis)


@linear("m")
def unrot90(g: Any, m: Any, k: int = 1, axes: Any = (0, 1)) -> np.ndarray:
    """Adjoint of `np.rot90(m, k, axes)`: rotate back."""
    return np.rot90(g, -k, axes)


@linear("a")
def unrollaxis(g: Any, a: Any, axis: int, start: int = 0) -> np.ndarray:
    """Adjoint of `np.rollaxis(a, axis, start)`: the inverse of its permutation."""
    n = np.ndim(a)
    axis, start = axis % n, start + n if start < 0 else start
    order = [i for i in range(n) if i != axis]
    order.insert(start - 1 if axis < start else start, axis)
    return np.transpose(g, np.argsort(order))


def _partition_orders(a: Any, ans: Any, axis: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """np.partition moves values: (a, ia, ia_out, axis) with a[ia[r]] == ans[ia_out[r]]
    along `axis` (stable sorts of both: tied values are matched in order)."""
    a = np.ravel(a) if axis is None else np.asarray(a)
    axis = 0 if axis is None else axis
    return a, np.argsort(a, axis, kind="stable"), np.argsort(ans, axis, kind="stable"), axis


@linear("a")
def unpartition(g: Any, a: Any, ans: Any, axis: Any = -1) -> np.ndarray:
    """Adjoint of `np.partition(a, kth, axis)`: each output's adjoint goes to the input
    element it holds."""
    flat, ia, io, ax = _partition_orders(a, ans, axis)
    out = float_zeros(flat.shape, g)
    np.put_along_axis(out, ia, np.take_along_axis(np.asarray(g), io, ax), ax)
    return out.reshape(np.shape(a))


def partition_jvp(d: Any, a: Any, ans: Any, axis: Any = -1) -> np.ndarray:
    """Tangent of `np.partition(a, kth, axis)`: the input tangents, moved as the values were."""
    flat, ia, io, ax = _partition_orders(a, ans, axis)
    d = np.ravel(d) if axis is None else np.asarray(d)
    out = np.zeros(np.shape(ans), dtype=np.result_type(d, float))
    np.put_along_axis(out, io, np.take_along_axis(d, ia, ax), ax)
    return out


@linear(lambda b: b["default"] if b["which"] == "default" else b["choicelist"])
def unselect(g: Any, condlist: Sequence[Any], choicelist: Sequence[Any], default: Any, which: str) -> Any:
    """Adjoint of the choices (which="choices": a list) or of `default` in
    `np.select(condlist, choicelist, default)`: `g` where that one was picked (the first
    true condition; default where none is)."""
    g = np.asarray(g)
    taken = np.zeros(g.shape, dtype=bool)
    out = []
    for c, x in zip(condlist, choicelist):
        picked = np.broadcast_to(c, g.shape) & ~taken
        out.append(unbroadcast(np.where(picked, g, 0.0), x))
        taken = taken | picked
    return unbroadcast(np.where(taken, 0.0, g), default) if which == "default" else out


@linear("tup")
def uncolumn_stack(g: Any, tup: Sequence[Any]) -> list[np.ndarray]:
    """Adjoint of `np.column_stack(tup)`: 1-D (and 0-d) inputs were one column, 2-D ones
    their columns."""
    widths = [1 if np.ndim(x) < 2 else np.shape(x)[1] for x in tup]
    return [np.reshape(p, np.shape(x)) for p, x in zip(np.split(g, np.cumsum(widths)[:-1], axis=1), tup)]


def _index_piece(g: Any, arys: Sequence[Any], i: int, columns: bool) -> np.ndarray:
    """Item i's part of the adjoint `g` of np.r_[...] (columns=False: numbers and 0-d
    arrays became 1-D, joined on axis 0) or np.c_[...] (True: 1-D items became columns,
    numbers 1x1, joined on the last axis), in the item's shape."""
    dims = [np.shape(x) for x in arys]
    sizes = [s[-1] if len(s) >= 2 else 1 for s in dims] if columns else [s[0] if s else 1 for s in dims]
    g = np.asarray(g)
    index = [slice(None)] * g.ndim
    index[-1 if columns else 0] = slice(sum(sizes[:i]), sum(sizes[:i + 1]))
    return np.reshape(g[tuple(index)], dims[i])


@linear(lambda b: b["arys"][b["i"]])
def unr_(g: Any, arys: Sequence[Any], i: int) -> np.ndarray:
    """Adjoint of item i of `np.r_[a, b, ...]`: its rows of `g`."""
    return _index_piece(g, arys, i, False)


@linear(lambda b: b["arys"][b["i"]])
def unc_(g: Any, arys: Sequence[Any], i: int) -> np.ndarray:
    """Adjoint of item i of `np.c_[a, b, ...]`: its columns of `g`."""
    return _index_piece(g, arys, i, True)


def _gradient_axes(f: Any, varargs: Sequence[Any], axis: Any) -> list[tuple[int, Any]]:
    """np.gradient's (axis, spacing) pairs, in the order of its outputs."""
    n = np.ndim(f)
    axes = list(range(n)) if axis is None else [int(a) % n for a in np.atleast_1d(axis)]
    if not varargs:
        spacing: list[Any] = [1.0] * len(axes)
    elif len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        spacing = [varargs[0]] * len(axes)
    else:
        spacing = list(varargs)
    return list(zip(axes, spacing))


@linear("f")
def ungradient(g: Any, f: Any, varargs: Sequence[Any], axis: Any = None, edge_order: int = 1) -> np.ndarray:
    """Adjoint of `np.gradient(f, *varargs, axis, edge_order)`, which is linear in f: per
    axis, a banded matrix J (output i reads inputs i-2..i+2 at most: central differences
    inside, one-sided at the edges). Its entries are read off np.gradient itself, applied
    to five combs (ones at the indices j = r mod 5): output i then holds J[i, j] for the
    one j of its band in that comb, and J^T g gathers g[i] * J[i, j] into j. Spacings
    (numbers or coordinate arrays) and both edge orders are NumPy's own."""
    f = np.asarray(f)
    pairs = _gradient_axes(f, varargs, axis)
    gs = [g] if len(pairs) == 1 else list(g)
    out = float_zeros(f.shape, f)
    for (ax, h), gi in zip(pairs, gs):
        if gi is None or is_zero(gi):
            continue
        n = f.shape[ax]
        gi = np.moveaxis(np.broadcast_to(gi, f.shape), ax, 0)
        acc = np.zeros(gi.shape, dtype=np.result_type(gi, float))
        i = np.arange(n)
        for r in range(5):
            coef = np.gradient((i % 5 == r).astype(float), h, edge_order=edge_order)
            j = i + (r - i + 2) % 5 - 2
            ok = (j >= 0) & (j < n)
            np.add.at(acc, j[ok], coef[ok].reshape((-1,) + (1,) * (gi.ndim - 1)) * gi[ok])
        out = out + np.moveaxis(acc, 0, ax)
    return out


def piece(g: Any, i: int) -> Any:
    """`g[i]` for the adjoint of a tuple output, the symbolic zero staying zero."""
    return 0.0 if is_zero(g) else g[i]


# What joins adjointc.runtime (see helpers/__init__.py): the helpers, not our imports.
__all__ = [n for n, v in list(globals().items())
           if not n.startswith("_") and callable(v) and getattr(v, "__module__", None) == __name__]
