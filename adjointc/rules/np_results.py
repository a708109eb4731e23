"""Result types of the NumPy rules (the `result=` of each defvjp in rules/np_*.py).

Each is a callable `(types, bound) -> T`: the type of a call's output from the
types of its arguments and the constant options among them (an `axis`, a
`keepdims`, a shape). When in doubt they answer T.UNKNOWN: a too-precise claim
could make the compiler drop an `unbroadcast` that is needed.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from .. import types as T
from ..ir import Call, Const
from .helpers.linalg import einsum_split

NOT_CONST = object()   # "not a compile-time constant"


def const_value(e: Any) -> Any:
    """The Python value of a constant argument, else NOT_CONST."""
    return e.value if isinstance(e, Const) else NOT_CONST


def type_of(types: dict, name: str) -> T.T:
    t = types.get(name)
    return t if isinstance(t, T.T) else T.UNKNOWN


def rank_of(t: Any) -> int | None:
    if isinstance(t, T.T):
        if t.kind == "array":
            return t.rank
        if t.kind in ("float", "int", "bool", "complex"):
            return 0
        if t.kind in ("list", "tuple") and t.elts:
            inner = {rank_of(e) for e in t.elts}
            return None if len(inner) != 1 or None in inner else 1 + inner.pop()
        if t.kind in ("list", "tuple") and t.item is not None and t.item != T.EMPTY:  # (built by appends)
            r = rank_of(t.item)
            return None if r is None else 1 + r
    return None


def dtype_of(t: Any) -> str | None:
    if isinstance(t, T.T):
        if t.kind == "array":
            return t.dtype
        return {"float": "f", "int": "i", "bool": "b", "complex": "c"}.get(t.kind)
    return None


def array_type(rank: int | None, dtype: str | None = "f") -> T.T:
    """A fresh array type; rank 0 is a NumPy scalar (float-like)."""
    if rank is None or rank < 0:
        return T.UNKNOWN
    if rank == 0 and dtype in ("f", None):
        return T.FLOAT
    return T.array(rank, dtype=dtype)


def ndim_of_const(e: Any) -> int | None:
    """len() of a constant shape/axis argument (an int counts as 1)."""
    if isinstance(e, Call) and e.op in ("tuple", "list"):   # (its length is known: `(3, n)`)
        return len(e.args)
    v = const_value(e)
    if v is NOT_CONST:
        return None
    return 1 if np.ndim(v) == 0 else len(v)


def same_rank(name: str):
    """Same rank and dtype as `name`, but not provably the same shape."""
    def result(types, bound):
        t = type_of(types, name)
        return array_type(rank_of(t), dtype_of(t))
    return result


def flat_unless_axis(types, bound):
    """sort/cumsum/cumprod: 1-D for axis=None, else the input's shape."""
    axis = const_value(bound.get("axis"))
    t = type_of(types, "a")
    if axis is None:
        return array_type(1, dtype_of(t))
    return t if axis is not NOT_CONST and t.kind == "array" else T.UNKNOWN


def reshape_result(types, bound):
    shape = bound["shape"] if const_value(bound.get("shape")) is not None else bound.get("newshape")
    return array_type(ndim_of_const(shape), dtype_of(type_of(types, "a")))


def rank_plus(delta: int, name: str = "a", axis: str | None = None):
    """Rank of `name` plus `delta` (times the number of constant axes, if given)."""
    def result(types, bound):
        r = rank_of(type_of(types, name))
        if r is None:
            return T.UNKNOWN
        n = 1
        if axis is not None:
            n = ndim_of_const(bound[axis])
            if n is None:
                return T.UNKNOWN
        return array_type(r + delta * n, dtype_of(type_of(types, name)))
    return result


def squeeze_result(types, bound):
    if const_value(bound["axis"]) is None:   # depends on which dims are 1: unknown statically
        return T.UNKNOWN
    return rank_plus(-1, axis="axis")(types, bound)


def dims_of(e: Any, t: Any) -> tuple[int | None, Any]:
    """(rank, symbolic shape or None) of a shape argument: a constant, an int
    known to be an array's length (`len(u)`, `u.shape[0]`), or a tuple of those."""
    v = const_value(e)
    if v is not NOT_CONST:
        vals = (v,) if np.ndim(v) == 0 else tuple(v)
        if all(isinstance(x, (int, np.integer)) for x in vals):
            return len(vals), tuple((None, int(x)) for x in vals)
        return len(vals), None
    if isinstance(t, T.T) and t.kind == "int":
        return 1, ((t.shape,) if t.shape is not None else None)
    if isinstance(t, T.T) and t.kind == "tuple" and t.elts and all(x.kind == "int" for x in t.elts):
        dims = tuple(x.shape for x in t.elts)
        return len(dims), (dims if all(d is not None for d in dims) else None)
    return None, None


def complex_dtype(bound) -> bool:
    """Is the call's constant `dtype=` a complex type ("complex128", np.complex64...)?"""
    v = const_value(bound.get("dtype"))
    if v is NOT_CONST or v is None:
        return False
    try:
        return np.dtype(v).kind == "c"
    except TypeError:
        return False


def shape_arg_result(name: str):
    def result(types, bound):
        rank, shape = dims_of(bound[name], types.get(name))
        if rank is None:
            return T.UNKNOWN
        if complex_dtype(bound):   # (complex zeros: rules/complex.py reads the dtype)
            return T.array(rank, shape, dtype="c") if rank else T.T("complex")
        return T.array(rank, shape, dtype=None) if rank else T.FLOAT
    return result


def broadcast_to_result(types, bound):
    return array_type(ndim_of_const(bound["shape"]), dtype_of(type_of(types, "array")))


def elts_of(types, name) -> tuple:
    t = types.get(name)
    if isinstance(t, T.T) and t.kind in ("list", "tuple"):
        return t.elts
    return ()


def concatenate_result(types, bound):
    if const_value(bound["axis"]) is None:
        return array_type(1)
    ranks = {rank_of(e) for e in elts_of(types, "arrays")}
    return array_type(ranks.pop()) if len(ranks) == 1 else T.UNKNOWN


def append_result(types, bound):
    axis = const_value(bound["axis"])
    if axis is None:
        return array_type(1, dtype_of(T.broadcast(type_of(types, "arr"), type_of(types, "values"))))
    return same_rank("arr")(types, bound) if axis is not NOT_CONST else T.UNKNOWN


def stack_result(types, bound):
    ranks = {rank_of(e) for e in elts_of(types, "arrays")}
    r = ranks.pop() if len(ranks) == 1 else None
    return array_type(None if r is None else r + 1)


def atleast_result(n: int, name: str = "tup"):
    def result(types, bound):
        ranks = {rank_of(e) for e in elts_of(types, name)}
        r = ranks.pop() if len(ranks) == 1 else None
        return array_type(None if r is None else max(r, n))
    return result


def atleast_vararg_result(n: int):
    def result(types, bound):
        arys = types.get("arys")
        if not isinstance(arys, tuple) or len(arys) != 1:
            return T.UNKNOWN
        r = rank_of(arys[0])
        return T.UNKNOWN if r is None else T.array(max(r, n), dtype=dtype_of(arys[0]))
    return result


def dtype_code(e: Any) -> str | None:
    """The dtype kind ('f', 'i', 'b', 'c') a constant `dtype=` argument names (`float`,
    `np.float64`, `"float32"`, `int`), None when it is not a constant or names no number.
    An int or bool dtype makes a value no derivative goes through (a cast)."""
    v = const_value(e)
    if v is NOT_CONST or v is None:
        return None
    try:
        kind = np.dtype(v).kind
    except TypeError:
        return None
    return {"f": "f", "c": "c", "b": "b", "i": "i", "u": "i"}.get(kind)


def array_result(types, bound):
    t = type_of(types, "object")
    given = bound.get("dtype")
    if const_value(given) is None:  # no dtype=: the values' own (complex if an entry is)
        dtype = "c" if any(T.is_complex(e) for e in _leaf_types(t)) else "f"
        if t.kind == "array":  # a copy: same shape and dtype
            return t
    else:
        dtype = dtype_code(given)
        if t.kind == "array":  # a copy in the dtype given
            return replace(t, dtype=dtype)
    r = rank_of(t)
    if r == 1 and t.kind in ("list", "tuple") and t.elts:  # (known entries: a known length; a list
        #                                                      built by appends has none)
        return T.array(1, ((None, len(t.elts)),), dtype=dtype)
    return T.UNKNOWN if r is None else T.array(r, dtype=dtype)


def dot_result(types, bound):
    ra, rb = rank_of(type_of(types, "a")), rank_of(type_of(types, "b"))
    if ra is None or rb is None:
        return T.UNKNOWN
    if ra == 0 or rb == 0:
        return array_type(ra + rb)
    return array_type(ra + rb - 2 if rb >= 2 else ra - 1)


def inner_result(types, bound):
    ra, rb = rank_of(type_of(types, "a")), rank_of(type_of(types, "b"))
    if ra is None or rb is None:
        return T.UNKNOWN
    return array_type(ra + rb if 0 in (ra, rb) else ra + rb - 2)


def tensordot_result(types, bound):
    ra, rb = rank_of(type_of(types, "a")), rank_of(type_of(types, "b"))
    axes = const_value(bound["axes"])
    if ra is None or rb is None or axes is NOT_CONST:
        return T.UNKNOWN
    n = axes if np.ndim(axes) == 0 else (1 if np.ndim(axes[0]) == 0 else len(axes[0]))
    return array_type(ra + rb - 2 * int(n))


def einsum_result(types, bound):
    subs = const_value(bound["subscripts"])
    if not isinstance(subs, str):
        return T.UNKNOWN
    ins, out = einsum_split(subs)
    if "..." not in out:
        return array_type(len(out))
    ranks = [rank_of(t) for t in types.get("operands", ())]
    if len(ranks) != len(ins) or None in ranks:
        return T.UNKNOWN
    ell = max((r - (len(s) - 3) for s, r in zip(ins, ranks) if "..." in s), default=0)
    return array_type(len(out) - 3 + ell)


def where_result(types, bound):
    if const_value(bound["x"]) is None:            # one-argument where: a tuple of indices
        return T.T("object")
    full = T.broadcast(type_of(types, "condition"), type_of(types, "x"), type_of(types, "y"))
    xy = T.broadcast(type_of(types, "x"), type_of(types, "y"))   # the dtype comes from x and y only
    if full.kind == "array":
        return replace(full, dtype=dtype_of(xy))
    return full if full.kind in ("unknown", "object") else xy


def clip_result(types, bound):
    ts = [type_of(types, p) for p in ("a", "a_min", "a_max", "min", "max")
          if const_value(bound.get(p)) is not None]
    return T.broadcast(*ts)


def take_result(types, bound):
    ri = rank_of(type_of(types, "indices"))
    if ri is None and const_value(bound["indices"]) is not NOT_CONST:
        ri = np.ndim(const_value(bound["indices"]))
    axis = const_value(bound["axis"])
    if ri is None or axis is NOT_CONST:
        return T.UNKNOWN
    if axis is None:
        return array_type(ri)
    ra = rank_of(type_of(types, "a"))
    return T.UNKNOWN if ra is None else array_type(ra - 1 + ri)


def repeat_result(types, bound):
    axis = const_value(bound["axis"])
    if axis is None:
        return array_type(1)
    return same_rank("a")(types, bound) if axis is not NOT_CONST else T.UNKNOWN


def tile_result(types, bound):
    r, n = rank_of(type_of(types, "A")), ndim_of_const(bound["reps"])
    return T.UNKNOWN if r is None or n is None else array_type(max(r, n))


def diag_result(types, bound):
    r = rank_of(type_of(types, "v"))
    return {1: array_type(2), 2: array_type(1)}.get(r, T.UNKNOWN)


def tri_result(types, bound):
    t = type_of(types, "m")
    if t.kind == "array" and t.rank is not None and t.rank >= 2:
        return t
    return array_type(2) if rank_of(t) == 1 else T.UNKNOWN


def interp_result(types, bound):
    t = type_of(types, "x")
    return array_type(rank_of(t))


def solve_result(types, bound):
    ra, rb = rank_of(type_of(types, "a")), rank_of(type_of(types, "b"))
    if ra is None or rb is None:
        return T.UNKNOWN
    return array_type(ra - 1 if rb == 1 else max(ra, rb))


def det_result(types, bound):
    r = rank_of(type_of(types, "a"))
    return T.UNKNOWN if r is None else array_type(r - 2)


def pair_result(first, second):
    def result(types, bound):
        a, b = first(types, bound), second(types, bound)
        return T.UNKNOWN if T.UNKNOWN in (a, b) else T.T("tuple", elts=(a, b))
    return result


def linspace_result(types, bound):
    r = rank_of(T.broadcast(type_of(types, "start"), type_of(types, "stop")))
    dtype = "f" if const_value(bound["dtype"]) is None else None
    n_rank, n_shape = dims_of(bound["num"], types.get("num"))
    if r == 0 and n_rank == 1 and n_shape is not None:  # `np.linspace(0, 1, u.shape[0])`: u's length
        return T.array(1, n_shape, dtype)
    return array_type(None if r is None else r + 1, dtype)


def full_like_result(types, bound):
    t = type_of(types, "a")
    if const_value(bound["dtype"]) is not None:      # dtype changed: same shape, unknown dtype
        return replace(t, dtype="c" if complex_dtype(bound) else None) if t.kind == "array" else T.UNKNOWN
    return t


def _leaf_types(t: T.T) -> list[T.T]:
    """The element types of nested lists/tuples (t itself for anything else)."""
    if t.kind in ("list", "tuple"):
        return [x for e in t.elts for x in _leaf_types(e)]
    return [t]


def arg_reduce_result(types, bound):
    axis, r = const_value(bound["axis"]), rank_of(type_of(types, "a"))
    if axis is None:
        return T.INT
    return T.UNKNOWN if axis is NOT_CONST or r is None else T.array(r - 1, dtype="i")


def arange_result(types, bound):
    args = bound["args"]
    if len(args) == 1:
        _, shape = dims_of(args[0], types["args"][0])
        return T.array(1, shape, dtype=None)
    return T.array(1, dtype=None)


def split_result(types, bound):
    """np.split and its kin: a list of pieces of the input's rank, as many as a constant
    number of sections (or constant cut indices plus one) says."""
    t = type_of(types, "ary")
    r, sections = rank_of(t), const_value(bound["indices_or_sections"])
    if r is None or sections is NOT_CONST:
        return T.UNKNOWN
    count = int(sections) if np.ndim(sections) == 0 else len(sections) + 1
    return T.T("list", elts=(array_type(r, dtype_of(t)),) * count)


def gradient_result(types, bound):
    """np.gradient: one array of f's shape per axis, a tuple of them for several axes."""
    t = type_of(types, "f")
    r, axis = rank_of(t), const_value(bound["axis"])
    if r is None or axis is NOT_CONST:
        return T.UNKNOWN
    n = r if axis is None else (1 if np.ndim(axis) == 0 else len(axis))
    one = array_type(r, dtype_of(t) if dtype_of(t) in ("f", None) else "f")
    return one if n == 1 else T.T("tuple", elts=(one,) * n)


def select_result(types, bound):
    """np.select: the broadcast of the conditions, the choices and the default; the dtype
    of the choices and the default."""
    conds, choices = elts_of(types, "condlist"), elts_of(types, "choicelist")
    if not conds or len(conds) != len(choices):
        return T.UNKNOWN
    values = T.broadcast(*choices, type_of(types, "default"))
    full = T.broadcast(*conds, values)
    if full.kind == "array":
        return replace(full, dtype=dtype_of(values))
    return full if full.kind in ("unknown", "object") else values


def index_concat_result(ndmin: int):
    """np.r_ (ndmin=1) / np.c_ (ndmin=2): the items' largest rank, at least ndmin."""
    def result(types, bound):
        ranks = [rank_of(t) for t in types.get("arys", ())]
        return T.UNKNOWN if not ranks or None in ranks else array_type(max(max(ranks), ndmin))
    return result


def kron_result(types, bound):
    ra, rb = rank_of(type_of(types, "a")), rank_of(type_of(types, "b"))
    return T.UNKNOWN if ra is None or rb is None else array_type(max(ra, rb))


def index_tuple_result(count: int | str | None):
    """Index builders (np.tril_indices...): a tuple of integer arrays, `count` of them
    (an int, or the parameter that says how many)."""
    def result(types, bound):
        n = count
        if isinstance(count, str):
            v = const_value(bound.get(count))
            n = v if isinstance(v, int) else None
        if n is None:
            return T.UNKNOWN
        return T.T("tuple", elts=(T.array(1, dtype="i"),) * n)
    return result


def ix_result(types, bound):
    """np.ix_(*args): one integer array per argument, each of rank len(args)."""
    n = len(bound.get("args", ()))
    return T.T("tuple", elts=(T.array(n, dtype="i"),) * n) if n else T.UNKNOWN


def svd_result(types, bound):
    """(U, s, Vh), or s alone for compute_uv=False."""
    r, uv = rank_of(type_of(types, "a")), const_value(bound["compute_uv"])
    if r is None or uv is NOT_CONST:
        return T.UNKNOWN
    s = array_type(r - 1)
    return T.T("tuple", elts=(array_type(r), s, array_type(r))) if uv else s


def qr_result(types, bound):
    """(Q, R), or R alone for mode='r'."""
    r, mode = rank_of(type_of(types, "a")), const_value(bound["mode"])
    if r is None or mode not in ("reduced", "complete", "r"):
        return T.UNKNOWN
    return array_type(r) if mode == "r" else T.T("tuple", elts=(array_type(r), array_type(r)))


def eig_result(types, bound):
    """(w, v) of unknown dtype: real for real eigenvalues, complex otherwise."""
    r = rank_of(type_of(types, "a"))
    return T.UNKNOWN if r is None else T.T("tuple", elts=(array_type(r - 1, None), array_type(r, None)))
