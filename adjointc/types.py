"""Abstract values: what the compiler knows statically about a variable.

The transform is specialised on the call signature: a Python float is a
scalar, an ndarray of rank k is `array(k)`. Types flow through the program
(`passes/types.py`) using each rule's `result` function. Knowing scalars
keeps scalar code scalar; knowing that two arrays have the same shape (the
same `shape` token) lets the compiler drop `unbroadcast` calls.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

_tokens = itertools.count(1)


def fresh_shape() -> int:
    return next(_tokens)


@dataclass(frozen=True)
class T:
    kind: str            # float int bool complex array list tuple none str object unknown
    rank: int | None = None      # arrays: number of dimensions (None: unknown)
    shape: Any = None            # arrays: equal non-None tokens mean equal shapes
    elts: tuple["T", ...] = ()   # tuples / lists with known element types
    dtype: str | None = None     # arrays: 'f' float, 'i' int, 'b' bool, 'c' complex

    @property
    def is_scalar(self) -> bool:
        return self.kind in ("float", "int", "bool") or (self.kind == "array" and self.rank == 0)

    @property
    def is_array(self) -> bool:
        return self.kind == "array"

    @property
    def differentiable(self) -> bool:
        """Can a value of this type carry a derivative?"""
        if self.kind == "array":
            return self.dtype in (None, "f", "c")
        if self.kind in ("tuple", "list"):
            return not self.elts or any(e.differentiable for e in self.elts)
        return self.kind in ("float", "complex", "unknown", "object")

    def __str__(self) -> str:
        if self.kind == "array":
            return f"array(rank={self.rank}, dtype={self.dtype})"
        return self.kind


FLOAT, INT, BOOL, NONE, STR, UNKNOWN = T("float"), T("int"), T("bool"), T("none"), T("str"), T("unknown")


def array(rank: int | None, shape: Any = None, dtype: str | None = "f") -> T:
    if rank == 0:
        shape = ()
    return T("array", rank, shape if shape is not None else fresh_shape(), dtype=dtype)


def of_value(v: Any) -> T:
    """The abstract value of a concrete argument."""
    if isinstance(v, bool) or isinstance(v, np.bool_):
        return BOOL
    if isinstance(v, (int, np.integer)):
        return INT
    if isinstance(v, (float, np.floating)):
        return FLOAT
    if isinstance(v, complex):
        return T("complex")
    if isinstance(v, np.ndarray):
        k = v.dtype.kind
        return array(v.ndim, dtype={"f": "f", "c": "c", "b": "b"}.get(k, "i"))
    if v is None:
        return NONE
    if isinstance(v, str):
        return STR
    if isinstance(v, tuple):
        return T("tuple", elts=tuple(of_value(x) for x in v))
    if isinstance(v, list):
        return T("list", elts=tuple(of_value(x) for x in v))
    return T("object")


def signature_key(v: Any) -> str:
    """What of an argument the generated code is specialised on (for the cache key)."""
    t = of_value(v)
    if t.kind == "array":
        return f"array{t.rank}{v.dtype.str}"
    if t.kind in ("tuple", "list"):
        return t.kind + "(" + ",".join(signature_key(x) for x in v) + ")"
    return t.kind


def broadcast(*ts: T) -> T:
    """Result type of an elementwise operation."""
    arrays = [t for t in ts if t.kind == "array"]
    if any(t.kind in ("unknown", "object") for t in ts):
        return UNKNOWN
    if not arrays:
        if any(t.kind == "complex" for t in ts):
            return T("complex")
        if any(t.kind == "float" for t in ts):
            return FLOAT
        return INT if any(t.kind == "int" for t in ts) else BOOL
    ranks = [t.rank for t in arrays]
    dtype = "c" if any(t.dtype == "c" for t in arrays) else (
        "f" if any(t.dtype in ("f", None) for t in arrays) or any(t.kind == "float" for t in ts) else arrays[0].dtype)
    if None in ranks:
        return array(None, dtype=dtype)
    rank = max(ranks)
    full = [t for t in arrays if t.rank == rank]
    shape = full[0].shape if all(t.shape == full[0].shape for t in full) and len(full) == len(arrays) else None
    if shape is None and all(t.rank == 0 for t in arrays):
        shape = ()
    return array(rank, shape, dtype)


def same_shape(a: T, b: T) -> bool:
    if a.kind == "array" and b.kind == "array":
        return a.rank is not None and a.rank == b.rank and (a.rank == 0 or (a.shape is not None and a.shape == b.shape))
    return a.is_scalar and b.is_scalar and not (a.kind == "array" or b.kind == "array")
