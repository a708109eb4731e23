"""Batch forms of reductions, shape operations and products (see rules/batched.py, whose
`form` registry they join): each rewrites one call whose operands read tangents for
tangents with a leading batch axis, or raises `Unbatchable`.

Axis options shift past the batch axis (non-negative ones by one; negative ones count
from the end as before); `axis=None` means every non-batch axis; a shape gets the
batch length in front. A product keeps the batch axis first where the operand ranks
allow it (the stack dimensions of `@` must never meet the batch axis), else refuses.
"""
from __future__ import annotations

from typing import Any

from ..ir import Call, Const, Expr
from .batched import (ALL, Batcher, Kid, Unbatchable, _axis, _bound, _call, _const, _only, elementwise,
                      form)


@form("np.sum", "np.mean")
def _reduce(b: Batcher, call: Call, kids: list[Kid], kw: dict[str, Kid]) -> Expr:
    args, flags = _bound(call, kids, kw)
    _only(flags, "a")
    r = b.rank_or_none(args["__orig__"]["a"])
    if not (isinstance(args["axis"], Const) and args["axis"].value is None):
        axis: Any = _axis(b, args["axis"], r)
    elif r is not None:
        axis = tuple(range(1, r + 1))
    elif isinstance(args["keepdims"], Const) and args["keepdims"].value is False:
        b.used = True   # (over every axis of a rank not known: the rows flattened)
        flat = Call("np.reshape", (args["a"], Call("tuple", (b.nb, Const(-1)))))
        return _call(call.op, (flat,), axis=1, dtype=args["dtype"])
    else:
        raise Unbatchable(f"{call.op} over every axis of a rank not known, keeping them")
    return _call(call.op, (args["a"],), axis=axis, dtype=args["dtype"], keepdims=args["keepdims"])


@form("sum")
def _builtin_sum(b: Batcher, call: Call, kids: list[Kid], kw: dict[str, Kid]) -> Expr:
    if len(kids) != 1 or kw:
        raise Unbatchable("sum with a start")
    t = b.types(call.args[0])
    if t.kind in ("list", "tuple"):
        return Call("sum", (kids[0][0],))
    b.rank(call.args[0])
    return _call("np.sum", (kids[0][0],), axis=1)   # (sum over an array's first axis)


@form("np.cumsum")
def _cumsum(b: Batcher, call: Call, kids: list[Kid], kw: dict[str, Kid]) -> Expr:
    args, flags = _bound(call, kids, kw)
    _only(flags, "a")
    if not (isinstance(args["axis"], Const) and args["axis"].value is None):
        return _call(call.op, (args["a"],), axis=_axis(b, args["axis"], b.rank_or_none(args["__orig__"]["a"])),
                     dtype=args["dtype"])
    if b.rank_or_none(args["__orig__"]["a"]) == 1:
        return _call(call.op, (args["a"],), axis=1, dtype=args["dtype"])
    b.used = True   # (of the flattened array: each row flattened)
    return _call(call.op, (Call("np.reshape", (args["a"], Call("tuple", (b.nb, Const(-1))))),), axis=1,
                 dtype=args["dtype"])


@form("np.diff")
def _diff(b: Batcher, call: Call, kids: list[Kid], kw: dict[str, Kid]) -> Expr:
    args, flags = _bound(call, kids, kw)
    _only(flags, "a")
    r = b.rank_or_none(args["__orig__"]["a"])
    return _call(call.op, (args["a"], args["n"]), axis=_axis(b, args["axis"], r))


@form("np.trace")
def _trace(b: Batcher, call: Call, kids: list[Kid], kw: dict[str, Kid]) -> Expr:
    args, flags = _bound(call, kids, kw)
    _only(flags, "a")
    r = b.rank_or_none(args["__orig__"]["a"])
    return _call(call.op, (args["a"], args["offset"]), axis1=_axis(b, args["axis1"], r),
                 axis2=_axis(b, args["axis2"], r), dtype=args["dtype"])


@form("np.max", "np.amax", "np.min", "np.amin")
def _minmax_never(b: Batcher, call: Call, kids: list[Kid], kw: dict[str, Kid]) -> Expr:
    raise Unbatchable(f"{call.op} of a tangent")   # (its tangent is minmax_jvp's, below)


@form("minmax_jvp")
def _minmax(b: Batcher, call: Call, kids: list[Kid], kw: dict[str, Kid]) -> Expr:
    args, flags = _bound(call, kids, kw)
    _only(flags, "d")
    return Call("batch_minmax_jvp", tuple(args[p] for p in ("d", "a", "m", "axis", "keepdims")))


@form("np.transpose", "attr:T")
def _transpose(b: Batcher, call: Call, kids: list[Kid], kw: dict[str, Kid]) -> Expr:
    x, axes = kids[0][0], Const(None)
    if call.op != "attr:T":
        args, flags = _bound(call, kids, kw)
        _only(flags, "a")
        x, axes = args["a"], args["axes"]
    if isinstance(axes, Const) and axes.value is None:   # (all axes reversed)
        r = b.rank_or_none(call.args[0])
        return Call("batch_transpose", (x,)) if r is None else _call("np.transpose", (x, Const((0,) + tuple(
            range(r, 0, -1)))))
    try:
        perm = tuple(_const(axes, "the axes"))
        return _call("np.transpose", (x, Const((0,) + tuple(a % len(perm) + 1 for a in perm))))
    except Unbatchable:
        if b.types(axes).kind != "tuple":
            raise
        return Call("batch_transpose", (x, axes))


@form("np.swapaxes")
def _swapaxes(b: Batcher, call: Call, kids: list[Kid], kw: dict[str, Kid]) -> Expr:
    args, flags = _bound(call, kids, kw)
    _only(flags, "a")
    r = b.rank_or_none(args["__orig__"]["a"])
    return _call(call.op, (args["a"], _axis(b, args["axis1"], r), _axis(b, args["axis2"], r)))


@form("np.moveaxis")
def _moveaxis(b: Batcher, call: Call, kids: list[Kid], kw: dict[str, Kid]) -> Expr:
    args, flags = _bound(call, kids, kw)
    _only(flags, "a")
    r = b.rank_or_none(args["__orig__"]["a"])
    return _call(call.op, (args["a"], _axis(b, args["source"], r), _axis(b, args["destination"], r)))


@form("np.expand_dims")
def _expand_dims(b: Batcher, call: Call, kids: list[Kid], kw: dict[str, Kid]) -> Expr:
    args, flags = _bound(call, kids, kw)
    _only(flags, "a")
    return _call(call.op, (args["a"], _axis(b, args["axis"], b.rank_or_none(call))))


@form("np.squeeze")
def _squeeze(b: Batcher, call: Call, kids: list[Kid], kw: dict[str, Kid]) -> Expr:
    args, flags = _bound(call, kids, kw)
    _only(flags, "a")
    if isinstance(args["axis"], Const) and args["axis"].value is None:
        return Call("batch_squeeze", (args["a"],))
    return _call(call.op, (args["a"], _axis(b, args["axis"], b.rank_or_none(args["__orig__"]["a"]))))


@form("np.reshape")
def _reshape(b: Batcher, call: Call, kids: list[Kid], kw: dict[str, Kid]) -> Expr:
    args, flags = _bound(call, kids, kw)
    _only(flags, "a")
    shape = args["shape"] if not (isinstance(args["shape"], Const) and args["shape"].value is None) \
        else args["newshape"]
    return _call(call.op, (args["a"], _prepend(b, shape)))


@form("np.ravel")
def _ravel(b: Batcher, call: Call, kids: list[Kid], kw: dict[str, Kid]) -> Expr:
    if len(kids) != 1 or kw:
        raise Unbatchable("np.ravel with an order")
    b.used = True
    return Call("np.reshape", (kids[0][0], Call("tuple", (b.nb, Const(-1)))))


def _prepend(b: Batcher, shape: Expr) -> Expr:
    """The shape (nb,) + shape, from a shape expression (an int, or a tuple of them)."""
    b.used = True
    if isinstance(shape, Call) and shape.op == "tuple":
        return Call("tuple", (b.nb,) + shape.args)
    if isinstance(shape, Const) and isinstance(shape.value, tuple):
        return Call("tuple", (b.nb,) + tuple(Const(v) for v in shape.value))
    t = b.types(shape)
    if (isinstance(shape, Const) and isinstance(shape.value, int)) or t.kind == "int":
        return Call("tuple", (b.nb, shape))
    if t.kind == "tuple":
        return Call("add", (Call("tuple", (b.nb,)), shape))
    raise Unbatchable(f"a shape of type {t}")


@form("np.broadcast_to")
def _broadcast_to(b: Batcher, call: Call, kids: list[Kid], kw: dict[str, Kid]) -> Expr:
    args, flags = _bound(call, kids, kw)
    _only(flags, "array")
    x = b.expand(args["array"], b.rank(args["__orig__"]["array"]), b.rank(call))
    return Call("batch_broadcast_to", (x, args["shape"]))


@form("np.stack", "np.concatenate")
def _join(b: Batcher, call: Call, kids: list[Kid], kw: dict[str, Kid]) -> Expr:
    args, flags = _bound(call, kids, kw)
    _only(flags, "arrays")
    seq = args["arrays"]
    orig = args["__orig__"]["arrays"]
    t = b.types(orig)
    if isinstance(orig, Call) and orig.op in ("tuple", "list"):
        seq = Call(orig.op, tuple(b.array(b.value(x, x), x) for x in orig.args))
    elif t.kind not in ("list", "tuple"):
        raise Unbatchable(f"{call.op} of a {t}")
    elif not t.elts or any(e.kind not in ("float", "int", "array") for e in t.elts):
        seq = Call("batch_items", (seq,))   # (entries that are lists: stacked as arrays)
    if isinstance(args["axis"], Const) and args["axis"].value is None:
        raise Unbatchable(f"{call.op} of flattened arrays")
    return _call(call.op, (seq,), axis=_axis(b, args["axis"], b.rank_or_none(call)))


@form("np.array", "np.asarray")
def _array(b: Batcher, call: Call, kids: list[Kid], kw: dict[str, Kid]) -> Expr:
    args, flags = _bound(call, kids, kw)
    first = "object" if call.op == "np.array" else "a"
    _only(flags, first)
    x, orig = args[first], args["__orig__"][first]
    dtype = args["dtype"]
    if isinstance(dtype, Const) and dtype.value is not None and dtype.value not in (float, "float", "float64"):
        raise Unbatchable(f"{call.op} with dtype {dtype.value!r}")
    t = b.types(orig)
    if t.kind == "array":
        return Call(call.op, (x,))
    if t.kind not in ("list", "tuple"):
        raise Unbatchable(f"{call.op} of a {t}")
    return Call("batch_array", (x,))


@form("float")
def _float(b: Batcher, call: Call, kids: list[Kid], kw: dict[str, Kid]) -> Expr:
    if len(kids) != 1 or kw:
        raise Unbatchable("float of options")
    return Call("batch_float", (kids[0][0],))


@form("np.roll")
def _roll(b: Batcher, call: Call, kids: list[Kid], kw: dict[str, Kid]) -> Expr:
    args, flags = _bound(call, kids, kw)
    _only(flags, "a")
    r = b.rank_or_none(args["__orig__"]["a"])
    if isinstance(args["axis"], Const) and args["axis"].value is None:
        if r != 1:
            raise Unbatchable("np.roll of a flattened array")
        return _call(call.op, (args["a"], args["shift"]), axis=1)
    return _call(call.op, (args["a"], args["shift"]), axis=_axis(b, args["axis"], r))


@form("np.flip")
def _flip(b: Batcher, call: Call, kids: list[Kid], kw: dict[str, Kid]) -> Expr:
    args, flags = _bound(call, kids, kw)
    _only(flags, "m")
    if isinstance(args["axis"], Const) and args["axis"].value is None:
        return _call(call.op, (args["m"],), axis=tuple(range(1, b.rank(args["__orig__"]["m"]) + 1)))
    return _call(call.op, (args["m"],), axis=_axis(b, args["axis"], b.rank_or_none(args["__orig__"]["m"])))


# ------------------------------------------------------------- products
@form("matmul", "np.matmul", "np.dot")
def _matmul(b: Batcher, call: Call, kids: list[Kid], kw: dict[str, Kid]) -> Expr:
    if len(kids) != 2 or kw:
        raise Unbatchable(f"{call.op} with options")
    (x, fx), (y, fy) = kids
    rx, ry = b.rank(call.args[0]), b.rank(call.args[1])
    if fx and fy:
        raise Unbatchable("a product of two tangents")
    if call.op == "np.dot":
        if rx == 0 or ry == 0:
            return elementwise(b, Call("mul", call.args), kids, {})
        if rx > 2 or ry > 2:
            raise Unbatchable("np.dot of arrays of rank > 2")
    if rx == 0 or ry == 0:
        raise Unbatchable("matmul of a scalar")
    if fx:   # (nb, ..., n, m) @ y: y's stack dimensions must not meet the batch axis
        if ry > 2 and rx < ry:
            raise Unbatchable("matmul of a low-rank tangent and a stack")
        return Call("matmul", (x, y))
    if ry == 1:   # x @ v: (nb, m) @ x.T
        if rx > 2:
            raise Unbatchable("matmul of a stack and a vector tangent")
        return Call("matmul", (y, x if rx == 1 else Call("attr:T", (x,))))
    if rx > 2 and ry < rx:
        raise Unbatchable("matmul of a stack and a low-rank tangent")
    return Call("matmul", (x, y))


@form("np.einsum")
def _einsum(b: Batcher, call: Call, kids: list[Kid], kw: dict[str, Kid]) -> Expr:
    if any(f for _, f in kw.values()) or kids[0][1]:
        raise Unbatchable("np.einsum with a tangent option")
    spec = _const(call.args[0], "the subscripts")
    if not isinstance(spec, str) or "->" not in spec:
        raise Unbatchable("np.einsum without an explicit output")
    ins, out = spec.replace(" ", "").split("->")
    terms = ins.split(",")
    if len(terms) != len(kids) - 1:
        raise Unbatchable("np.einsum's subscripts")
    z = next(c for c in "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA" if c not in spec)
    terms = [z + s if f else s for s, (_, f) in zip(terms, kids[1:])]
    new = Const(",".join(terms) + "->" + z + out)
    return Call("np.einsum", (new,) + tuple(x for x, _ in kids[1:]), tuple((k, x) for k, (x, _) in kw.items()))


@form("np.tensordot")
def _tensordot(b: Batcher, call: Call, kids: list[Kid], kw: dict[str, Kid]) -> Expr:
    args, flags = _bound(call, kids, kw)
    _only(flags, "a", "b")
    k = _const(args["axes"], "the axes")
    if isinstance(k, bool) or not isinstance(k, int):
        raise Unbatchable("np.tensordot with axes pairs")
    ra = b.rank(args["__orig__"]["a"])
    if flags.get("a"):
        return _call("np.tensordot", (args["a"], args["b"]), axes=k)
    axes = (tuple(range(ra - k, ra)), tuple(range(1, k + 1)))
    return Call("np.moveaxis", (_call("np.tensordot", (args["a"], args["b"]), axes=axes), Const(ra - k),
                                Const(0)))


@form("np.outer")
def _outer(b: Batcher, call: Call, kids: list[Kid], kw: dict[str, Kid]) -> Expr:
    (x, fx), (y, fy) = kids
    if kw or (fx and fy):
        raise Unbatchable("np.outer of two tangents")
    b.used = True
    flat = Call("tuple", (b.nb, Const(-1)))
    if fx:   # (nb, n, 1) * (m,)
        return Call("mul", (Call("getitem", (Call("np.reshape", (x, flat)), Call("tuple", (ALL, ALL, Const(None))))),
                            Call("np.ravel", (y,))))
    return Call("mul", (Call("getitem", (Call("np.ravel", (x,)), Call("tuple", (ALL, Const(None))))),
                        Call("getitem", (Call("np.reshape", (y, flat)), Call("tuple", (ALL, Const(None), ALL))))))
