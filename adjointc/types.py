"""Abstract values: what the compiler knows statically about a variable.

The transform is specialised on the call signature: a Python float is a
scalar, an ndarray of rank k is `array(k)`. Types flow through the program
(`passes/types.py`) using each rule's `result` function. Knowing scalars
keeps scalar code scalar; knowing that two arrays have the same shape (the
same `shape` token) lets the compiler drop `unbroadcast` calls. The dtype says
whether a value may be complex (rules/complex.py): an op's result is complex where
an argument is (`complexified`, passes/types.py), unless its value is real.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .ir import _direct_init


@dataclass(frozen=True, slots=True)
class T:
    kind: str            # float int bool complex array list tuple none str object unknown func
    rank: int | None = None      # arrays: number of dimensions (None: unknown)
    shape: Any = None            # arrays: a tuple of symbolic dims (see ONE), None or UNSTABLE
    elts: tuple["T", ...] = ()   # tuples / lists with known element types
    dtype: str | None = None     # arrays: 'f' float, 'i' int, 'b' bool, 'c' complex
    fields: tuple[tuple[str, "T"], ...] = ()  # structs: attribute/key -> type
    cls: str = ""                # structs: "dict" or "module:QualName" of the class
    # (a dict, cls "dict": `fields` are the entries of constant keys; `elts` (one type) is
    # the join of the entries written at keys computed at run time, if any: see dict_value)
    # lists of unknown length (no `elts`): the type of every element, when known (the values
    # appended: a comprehension's items); EMPTY for `[]`; None: unknown. Not encoded.
    item: "T | None" = None

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
        if self.kind == "struct":  # (a dict's entries at computed keys: elts)
            return any(t.differentiable for _, t in self.fields) or any(t.differentiable for t in self.elts)
        return self.kind in ("float", "complex", "unknown", "object")

    def position(self, name: Any) -> int | None:
        """A namedtuple's field `name`: its position (None for any other value or name)."""
        if self.kind != "tuple":
            return None
        return next((i for i, (k, _) in enumerate(self.fields) if k == name), None)

    def field(self, name: Any) -> "T":
        for k, t in self.fields:
            if k == name:
                return t
        return UNKNOWN

    def __str__(self) -> str:
        if self.kind == "array":
            return f"array(rank={self.rank}, dtype={self.dtype})"
        return self.kind


_direct_init(T)  # (a transform builds thousands: ir._direct_init says why)

FLOAT, INT, BOOL, NONE, STR, UNKNOWN = T("float"), T("int"), T("bool"), T("none"), T("str"), T("unknown")
EMPTY = T("empty")  # the item type of a list with no elements (`[]`): joins to the other side


def item_of(t: T) -> T | None:
    """The type every element of the list or tuple t has (EMPTY: it has none), None if unknown."""
    if t.item is not None:
        return t.item
    if t.elts:
        out = t.elts[0]
        for e in t.elts[1:]:
            if e != out:
                return None  # (a mixed list: see join_items for the join of its elements)
        return out
    return None


def join_items(a: T, b: T, join: Any) -> T | None:
    """The item type of a join of two lists (None: unknown)."""
    ia, ib = item_of(a), item_of(b)
    if ia is None or ib is None:
        return None
    if ia == EMPTY:
        return ib
    if ib == EMPTY:
        return ia
    t = join(ia, ib)
    return None if t.kind == "unknown" else t


UNSTABLE = "?"  # the shape of a variable whose shape may change between assignments
ONE = (None, 1)  # a dimension of length 1
# A known shape is a tuple of symbolic dims `(symbol, offset)`: the length is
# symbol's length + offset (clamped at 0), symbol None meaning a constant.
# `u[1:-1]`, `u[2:]` and `u[:-2]` all have dims ((u's axis 0, -2),): equal.


def array(rank: int | None, shape: Any = None, dtype: str | None = "f") -> T:
    """An array type. `shape` None means "a new shape": the type pass names it
    after the variable it is assigned to."""
    if rank == 0:
        shape = ()
    return T("array", rank, shape, dtype=dtype)


def dict_type(fields: tuple[tuple[Any, T], ...] = (), other: T | None = None) -> T:
    """A dict: `fields` the entries at constant keys, `other` the join of any others."""
    return T("struct", fields=fields, cls="dict", elts=(other,) if other is not None else ())


def is_dict(t: T) -> bool:
    return t.kind == "struct" and t.cls == "dict"


def dict_value(t: T, key: Any, join: Any, known: bool = True) -> T:
    """The type of d[key] for a dict type t (`known` False: a key computed at run time,
    any entry). A constant key not among the fields reads an entry written at a
    computed key (its join), or is unknown."""
    other = t.elts[0] if t.elts else None
    if known:
        for k, v in t.fields:
            if type(k) is type(key) and k == key:
                return v
        return other if other is not None else UNKNOWN
    out = other
    for _, v in t.fields:
        out = join(out, v)
    return out if out is not None else UNKNOWN


def dict_with(t: T, key: Any, value: T, join: Any, known: bool = True) -> T:
    """The dict type t after `d[key] = value` (joined with what the entry held: the type
    pass is flow-insensitive)."""
    if not known:
        other = t.elts[0] if t.elts else None
        return dict_type(t.fields, join(other, value))
    fields = list(t.fields)
    for i, (k, v) in enumerate(fields):
        if type(k) is type(key) and k == key:
            fields[i] = (k, join(v, value))
            break
    else:
        fields.append((key, value))
    return dict_type(tuple(fields), t.elts[0] if t.elts else None)


def join_dicts(a: T, b: T, join: Any) -> T:
    """Two dict types joined: every key of either (an entry may be written on one path only)."""
    out = a
    for k, v in b.fields:
        out = dict_with(out, k, v, join)
    if b.elts:
        out = dict_with(out, None, b.elts[0], join, known=False)
    return out


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
    if _is_function(v):  # a user function passed as a value: static, specialised on (funcvals.py)
        return T("func", cls=function_key(v))
    if isinstance(v, np.ma.MaskedArray):   # not an array for AD: its mask would be ignored
        return T("object")
    if isinstance(v, np.ndarray):
        k = v.dtype.kind
        return array(v.ndim, dtype={"f": "f", "c": "c", "b": "b"}.get(k, "i"))
    if v is None:
        return NONE
    if isinstance(v, str):
        return STR
    if isinstance(v, tuple):
        elts = tuple(of_value(x) for x in v)
        names = getattr(type(v), "_fields", None)   # a namedtuple: its fields are read by name too
        if isinstance(names, tuple) and len(names) == len(elts) and all(isinstance(n, str) for n in names):
            return T("tuple", elts=elts, fields=tuple(zip(names, elts)), cls=class_key(type(v)))
        return T("tuple", elts=elts)
    if isinstance(v, list):
        return T("list", elts=tuple(of_value(x) for x in v))
    if isinstance(v, dict) and all(isinstance(k, str) for k in v):
        return T("struct", fields=tuple((k, of_value(x)) for k, x in v.items()), cls="dict")
    attrs = struct_fields(v)
    if attrs is not None:
        return T("struct", fields=tuple((k, of_value(x)) for k, x in attrs.items()), cls=class_key(type(v)))
    return T("object")


CLASSES: dict[str, type] = {}  # class_key -> class, for methods called on parameter objects
FUNCS: dict[str, Any] = {}  # function_key (and key#id) -> the function (adjointc/funcvals.py)


def _is_function(v: Any) -> bool:
    import types as pytypes
    return isinstance(v, pytypes.FunctionType)


def function_key(fn: Any) -> str:
    """A function value's identity as a type (`func` kind): deterministic across processes;
    a call's signature_key adds the object's id (two closures of one def differ)."""
    key = f"{fn.__module__}:{fn.__qualname__}:{fn.__code__.co_firstlineno}"
    FUNCS[key] = fn
    return key


def class_key(cls: type) -> str:
    key = f"{cls.__module__}:{cls.__qualname__}"
    CLASSES[key] = cls
    return key


def struct_fields(v: Any) -> dict[str, Any] | None:
    """The data attributes of a dataclass or plain object (None for other values)."""
    import dataclasses
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {f.name: getattr(v, f.name) for f in dataclasses.fields(v)}
    d = getattr(v, "__dict__", None)
    if isinstance(d, dict) and not isinstance(v, type) and type(v).__module__ not in ("builtins",) \
            and not callable(v) and not hasattr(v, "__array__"):
        return {k: x for k, x in d.items() if not k.startswith("_")}
    return None


def signature_key(v: Any) -> str:
    """What of an argument the generated code is specialised on (for the cache key)."""
    t = of_value(v)
    if t.kind == "array":
        return f"array{t.rank}{v.dtype.str}"
    if t.kind == "func":  # (the id part is dropped from the disk cache key: compiler.py)
        key = f"{t.cls}#{id(v)}"
        FUNCS[key] = v  # (held: the id is never reused while a signature may name it)
        return f"func({key})"
    if t.kind in ("tuple", "list"):
        return t.kind + "(" + ",".join(signature_key(x) for x in v) + ")"
    if t.kind == "struct":
        items = v.items() if isinstance(v, dict) else struct_fields(v).items()
        return t.cls + "{" + ",".join(f"{k}:{signature_key(x)}" for k, x in items) + "}"
    return t.kind


def _dims_broadcast(shapes: list[Any]) -> Any:
    """numpy broadcasting on symbolic shapes (tuples of dims); None when unknown."""
    if any(not isinstance(sh, tuple) for sh in shapes):
        return None
    rank = max(len(sh) for sh in shapes)
    out = []
    for axis in range(rank):
        dims = {sh[len(sh) - rank + axis] for sh in shapes if len(sh) - rank + axis >= 0}
        dims.discard(ONE)
        if len(dims) > 1:
            return None
        out.append(dims.pop() if dims else ONE)
    return tuple(out)


def broadcast(*ts: T) -> T:
    """Result type of an elementwise operation."""
    arrays = [t for t in ts if t.kind == "array"]
    if any(t.kind in ("unknown", "object") for t in ts):
        return UNKNOWN_COMPLEX if any(is_complex(t) for t in ts) else UNKNOWN
    if not arrays:
        if any(t.kind == "complex" for t in ts):
            return T("complex")
        if any(t.kind == "float" for t in ts):
            return FLOAT
        return INT if any(t.kind == "int" for t in ts) else BOOL
    ranks = [t.rank for t in arrays]
    dtype = "c" if any(t.dtype == "c" for t in arrays) or any(t.kind == "complex" for t in ts) else (
        "f" if any(t.dtype in ("f", None) for t in arrays) or any(t.kind == "float" for t in ts) else arrays[0].dtype)
    if None in ranks:
        return array(None, dtype=dtype)
    return array(max(ranks), _dims_broadcast([t.shape for t in arrays]), dtype)


def is_complex(t: T) -> bool:
    """A complex scalar, an array of complex dtype, or a complex value of unknown shape."""
    return t.kind == "complex" or (t.kind in ("array", "unknown") and t.dtype == "c")


def is_real(t: T) -> bool:
    """Known real: a float, a float array, or a real value of unknown shape (abs(v) of an
    unknown v)."""
    return t.kind == "float" or (t.kind in ("array", "unknown") and t.dtype == "f")


# A value of unknown shape known to be complex (`1j * v`) or real (`abs(v)`): the dtype of
# an unknown says which (rules/complex.py decides with it; joins forget it).
UNKNOWN_COMPLEX, UNKNOWN_REAL = T("unknown", dtype="c"), T("unknown", dtype="f")


COMPLEX_HINT = ("complex values are differentiated through arithmetic, np.exp/log/sin/cos/sqrt..., "
                "np.fft, np.real/imag/conj/abs/angle, sums, products and reshaping (rules/complex.py); "
                "elsewhere write the real and imaginary parts as separate real values, e.g. "
                "|x + 1j*y|**2 as x**2 + y**2")


def complex_message(value: Any) -> str:
    """What to say when the IR expression `value` makes a complex value from an active one."""
    from .printer import expr
    lits = [a.value for a in getattr(value, "args", ()) if isinstance(getattr(a, "value", None), complex)]
    text = expr(value)
    shown = "" if "_t" in text else f" in `{text}`"   # (no compiler temporaries in messages)
    what = f"the complex number {lits[0]!r}{shown}" if lits else f"this expression{shown}"
    return f"{what} reads or makes a complex value computed from a differentiated input"


def complexified(t: T) -> T:
    """The type of an op's result when an argument is complex: a float becomes complex,
    a float (or unknown-dtype) array a complex one (rules/complex.py lists the ops whose
    result stays real)."""
    if t.kind == "float":
        return T("complex")
    if t.kind == "array" and t.dtype in ("f", None):
        return T("array", t.rank, t.shape, dtype="c")
    if t.kind == "unknown":
        return UNKNOWN_COMPLEX
    return t


def real_part(t: T) -> T:
    """The type of abs(), np.real() of a value of type t: complex becomes real."""
    if t.kind == "complex":
        return FLOAT
    if t.kind == "array" and t.dtype == "c":
        return T("array", t.rank, t.shape, dtype="f")
    if t.kind == "unknown":
        return UNKNOWN_REAL
    return t


def same_shape(a: T, b: T) -> bool:
    if a.kind == "array" and b.kind == "array":
        return a.rank is not None and a.rank == b.rank and (
            a.rank == 0 or (isinstance(a.shape, tuple) and a.shape == b.shape))
    return a.is_scalar and b.is_scalar and not (a.kind == "array" or b.kind == "array")


def encode(t: T) -> str:
    """A compact, literal-evaluable text form of a type (shapes dropped)."""
    return repr(_enc(t))


def _enc(t: T) -> tuple:
    return (t.kind, t.rank, t.dtype, tuple(_enc(e) for e in t.elts),
            tuple((k, _enc(f)) for k, f in t.fields), t.cls)


def decode(text: str) -> T:
    import ast
    return _dec(ast.literal_eval(text))


def _dec(v: tuple) -> T:
    kind, rank, dtype, elts, fields, cls = v
    if kind == "array":
        return array(rank, dtype=dtype)
    return T(kind, rank, None, tuple(_dec(e) for e in elts), dtype,
             tuple((k, _dec(f)) for k, f in fields), cls)
