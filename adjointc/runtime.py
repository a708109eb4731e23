"""The helpers generated adjoint code calls directly: broadcasting and reductions
undone (`unbroadcast`, `unreduce`), adjoints made, copied, added and checked
(`as_adjoint`, `zeros_like`, `copy_adjoint`, `add_adjoint`...), the wrapper of a
user function that modifies its argument (`Returning`), and the tape statistics.
Kept small and dependency-free: NumPy only (adjointc.types and adjointc.errors
are imported where a function needs them).

Generated code imports every name it calls from here (one import line, see
codegen.RUNTIME_NAMES), including the helpers rule templates call. Those live in
adjointc/rules/helpers/, which imports this module and adds its helpers to this
namespace when the rules load; this module never imports them.
"""
from __future__ import annotations

import sys
from typing import Any

import numpy as np

_ndarray = np.ndarray


def unbroadcast(g, x):
    """Sum the adjoint `g` of a broadcast result back to the shape of `x`."""
    if type(g) is _ndarray and type(x) is _ndarray and g.shape == x.shape:  # (the common case first)
        return g
    shape = np.shape(x)
    if np.ndim(g) == 0 or np.shape(g) == shape:  # a scalar: the symbolic zero, or it broadcast
        return g
    g = np.asarray(g)
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    elif extra < 0:  # g of lower rank: a product with the symbolic zero (it is zero)
        g = g.reshape((1,) * -extra + g.shape)
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if not shape:
        return g[()] if isinstance(g, np.ndarray) else g
    return g if g.shape == shape else np.broadcast_to(g, shape)


def unreduce(g, x, axis=None, keepdims=False):
    """Broadcast the adjoint `g` of a reduction over `axis` back to x's shape."""
    shape = np.shape(x)
    if axis is not None and not keepdims and np.ndim(g):  # (a scalar g broadcasts as it is)
        axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
        g = np.expand_dims(g, tuple(a % len(shape) for a in axes))
    return np.broadcast_to(g, shape)


def zeros_like(x):
    """A zero adjoint for a value of x's type: 0.0 for scalars, zeros for arrays."""
    if isinstance(x, np.ndarray):
        return np.zeros(x.shape, dtype=x.dtype if x.dtype.kind in "fc" else float)
    if isinstance(x, (list, tuple)):
        return [zeros_like(v) for v in x]
    if isinstance(x, dict):
        return {k: zeros_like(v) for k, v in x.items()}
    fields = _struct_fields(x)
    if fields is not None:
        return {k: zeros_like(v) for k, v in fields.items()}
    return 0.0


def zero_tangent(x):
    """A zero tangent of x's structure (forward mode): 0.0 for numbers, float zeros of
    x's shape for arrays, and lists, tuples, dicts and objects of zeros (an object's
    copy with its differentiable fields zeroed, so `x_dot.field` reads as `x.field`)."""
    if isinstance(x, np.ndarray):
        return np.zeros(x.shape, dtype=x.dtype if x.dtype.kind in "fc" else float)
    if isinstance(x, (bool, np.bool_, str, bytes, type(None))):
        return x
    if isinstance(x, (int, float, complex, np.number)):
        return 0.0
    if isinstance(x, list):
        return [zero_tangent(v) for v in x]
    if isinstance(x, tuple):
        items = [zero_tangent(v) for v in x]
        return type(x)._make(items) if hasattr(type(x), "_make") else tuple(items)
    if isinstance(x, dict):
        return {k: zero_tangent(v) for k, v in x.items()}
    fields = _struct_fields(x)
    if fields is None:
        return 0.0
    import copy
    out = copy.copy(x)
    for k, v in fields.items():
        # (an int field, a count or a flag, carries no tangent: it keeps its value)
        object.__setattr__(out, k, v if isinstance(v, (int, np.integer)) else zero_tangent(v))
    return out


def _struct_fields(x):
    from .types import struct_fields
    return struct_fields(x) if not isinstance(x, (int, float, complex, str, bytes, type(None))) else None


def is_zero(g) -> bool:
    """Is `g` the symbolic zero? Adjoints start as the scalar 0.0 (free), so a
    helper can receive it for an array output, e.g. for a value overwritten in
    a loop that nothing reads after the loop."""
    if type(g) is _ndarray and g.ndim:  # (the common case first: an array adjoint)
        return False
    return not isinstance(g, (list, tuple)) and np.ndim(g) == 0 and g == 0


def add_adjoint(a, b):
    """a + b for adjoints of any structure: arrays and floats add; lists, tuples and
    dicts (adjoints of containers and parameter objects) add element by element."""
    if isinstance(a, dict) or isinstance(b, dict):
        if not isinstance(a, dict):
            return b
        if not isinstance(b, dict):
            return a
        out = dict(a)
        for k, v in b.items():
            out[k] = add_adjoint(out[k], v) if k in out else v
        return out
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        # (the other side is the symbolic zero, a list, or an array: the adjoint of a
        # list that was used as an array, `np.concatenate((x, L))`, adds row by row)
        if is_zero(a):
            return list(b)
        if is_zero(b):
            return list(a)
        if len(a) != len(b):
            raise ValueError(f"adjoints of containers of lengths {len(a)} and {len(b)} cannot be added")
        return [add_adjoint(x, y) for x, y in zip(a, b)]
    return a + b


def written_part(u_bar, index):
    """`u_bar[index]`, zero where `u[index] = v` did not store v's element: with a
    repeated integer index NumPy keeps the last write, so earlier ones get no adjoint."""
    sel = u_bar[index]
    ids = np.arange(np.size(sel)).reshape(np.shape(sel))
    marker = np.full(np.shape(u_bar), -1)
    marker[index] = ids
    return np.where(marker[index] == ids, sel, 0.0)


def copy_adjoint(x):
    """A copy of an adjoint that may then be updated in place: arrays copied, lists
    and dicts (adjoints of containers and parameter objects) copied level by level."""
    if isinstance(x, np.ndarray):
        return x.copy()
    if isinstance(x, (list, tuple)):
        return [copy_adjoint(v) for v in x]
    if isinstance(x, dict):
        return {k: copy_adjoint(v) for k, v in x.items()}
    return x


def snapshot(x):
    """A copy of an auxiliary output (has_aux) taken at the end of the forward sweep,
    before the backward sweep restores overwritten values in place: arrays copied,
    lists, tuples and dicts copied level by level (each keeps its type)."""
    if isinstance(x, np.ndarray):
        return x.copy()
    if isinstance(x, (list, tuple)):
        items = [snapshot(v) for v in x]
        return type(x)._make(items) if hasattr(type(x), "_make") else type(x)(items)
    if isinstance(x, dict):
        return {k: snapshot(v) for k, v in x.items()}
    return x


def real_like(e, x):
    """A contribution e to the adjoint of x, real where x is real when the code runs (the
    gradient of a real value is real: JAX's convention, rules/complex.py); complex where x
    is complex. For a value whose type the transform could not read."""
    if isinstance(e, (list, tuple, dict)):
        return e  # (containers are checked entry by entry: real_adjoint_check)
    if np.iscomplexobj(e) and not np.iscomplexobj(x):
        return np.real(e)
    return e


def real_adjoint_check(x_bar, x):
    """Refuse a complex adjoint for a real value: a complex intermediate the
    transform could not see (`np.asarray(x, dtype=np.complex128)`, a negative
    float ** 0.5) made it; casting it to real would discard part of it (NumPy's
    ComplexWarning) and return a wrong gradient. Containers are checked element by
    element (as_adjoint checks them again when their entries are read)."""
    if isinstance(x, (list, tuple)) or isinstance(x_bar, (list, tuple)):
        if isinstance(x, (list, tuple)) and isinstance(x_bar, (list, tuple)):
            for b, v in zip(x_bar, x):
                real_adjoint_check(b, v)
        return x_bar
    if isinstance(x, dict) or isinstance(x_bar, dict) or _struct_fields(x) is not None:
        return x_bar
    if np.iscomplexobj(x_bar) and not np.iscomplexobj(x):
        from .errors import TypeMismatch
        from .types import COMPLEX_HINT
        raise TypeMismatch("a complex value was computed from a differentiated input while the "
                           "function ran: its gradient would be wrong", hint=COMPLEX_HINT)
    return x_bar


def as_adjoint(x_bar, x):
    """`x_bar` as an array of x's shape that may be updated in place.

    Adjoints start as the scalar 0.0 (a symbolic zero that costs nothing);
    the first in-place update `x_bar[i] += g` needs a real array. A complex
    adjoint of a real x is refused (`real_adjoint_check`)."""
    if type(x_bar) is _ndarray and type(x) is _ndarray and x_bar.shape == x.shape and x_bar.base is None \
            and x_bar.flags.writeable and (x_bar.dtype.kind != "c" or x.dtype.kind == "c"):
        return x_bar  # (the common case first: an owned array adjoint of x's shape, not complex for a real x)
    real_adjoint_check(x_bar, x)
    if isinstance(x, np.ndarray):
        if not isinstance(x_bar, np.ndarray) or x_bar.shape != x.shape:
            return np.zeros_like(x, dtype=np.result_type(x.dtype, float)) + x_bar
        if not x_bar.flags.writeable or x_bar.base is not None:
            return x_bar.copy()  # a view (of another adjoint, or broadcast): own it first
        return x_bar
    if isinstance(x, (list, tuple)):
        if isinstance(x_bar, list):
            return x_bar
        return [zeros_like(v) for v in x]
    if isinstance(x, dict):
        if not isinstance(x_bar, dict):
            return zeros_like(x)
        if any(k not in x_bar for k in x):  # (an adjoint made before an entry was written)
            return {**{k: zeros_like(v) for k, v in x.items() if k not in x_bar}, **x_bar}
        return x_bar
    if _struct_fields(x) is not None:
        return x_bar if isinstance(x_bar, dict) else zeros_like(x)
    return x_bar


_STAND_INS: dict = {}  # (shape, dtype) -> its stand-in (read-only, so one serves every push)


def stand_in(x):
    """What the forward sweep keeps of an array the backward sweep reads only for its
    shape and dtype (passes/tape.py): a read-only array of x's shape and dtype that
    holds one element (a tuple: one per entry). Anything else is kept as it is.
    A loop pushing arrays of one shape pushes one shared object (no allocation)."""
    if isinstance(x, np.ndarray):
        key = (x.shape, x.dtype)
        s = _STAND_INS.get(key)
        if s is None:
            if len(_STAND_INS) >= 256:  # (a program making ever new shapes: stay small)
                _STAND_INS.clear()
            s = _STAND_INS[key] = np.broadcast_to(np.zeros((), x.dtype), x.shape)
        return s
    if isinstance(x, tuple):
        return tuple(stand_in(v) for v in x)
    return x


def list_adjoint(vals_bar, vals):
    """The adjoint of a Python list as a list of per-element adjoints."""
    if isinstance(vals_bar, list):
        return vals_bar
    if isinstance(vals_bar, np.ndarray) and vals_bar.ndim:
        return list(vals_bar)
    return [zeros_like(v) for v in vals]


# ---- dicts (adjointc/comprehensions.py lowers displays and comprehensions to item writes;
# rules/containers.py has these helpers' rules). A dict's adjoint is a dict of adjoints.
class _Missing:
    """What a tape holds for a dict entry that did not exist before a write."""
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


def dict_entry(m, k):
    """m[k] before `m[k] = v` overwrites it, or MISSING when the write inserts k."""
    return m[k] if k in m else MISSING


def restore_entry(m, k, old) -> None:
    """Undo `m[k] = v` (the backward sweep): put the old entry back, or remove an inserted one."""
    if old is MISSING:
        m.pop(k, None)
    else:
        m[k] = old


def _mapping(m, method: str):
    """m, checked to be a dict (a value whose type was unknown when compiling): never the
    elements of an array or list read as keys."""
    if not isinstance(m, dict):
        raise TypeError(f".{method}() of a {type(m).__name__}: adjointc compiles it for dicts only")
    return m


def dict_keys(m):
    """m.keys() as a list (the loop lowering reads its sequence by position)."""
    return list(_mapping(m, "keys"))


def dict_values(m):
    """m.values() as a list."""
    return list(_mapping(m, "values").values())


def dict_items(m):
    """m.items() as a list of (key, value) pairs."""
    return list(_mapping(m, "items").items())


def dict_get(m, k, default=None):
    """m.get(k, default)."""
    return _mapping(m, "get").get(k, default)


def entry_adjoint(g, m, k):
    """The adjoint of m for reading m[k] (a dict of zeros but g at k), or 0.0 (k absent)."""
    if k not in m or is_zero(g):
        return 0.0
    out = zeros_like(m)
    out[k] = g
    return out


def default_adjoint(g, m, k):
    """The adjoint of the default of m.get(k, default): g when k is absent."""
    return 0.0 if k in m else g


def values_adjoint(g, m):
    """The adjoint of m for m.values(): the list of adjoints g keyed as m."""
    if is_zero(g):
        return 0.0
    return dict(zip(m, list_adjoint(g, list(m.values()))))


def items_adjoint(g, m):
    """The adjoint of m for m.items(): each pair's value adjoint, keyed as m."""
    if is_zero(g):
        return 0.0
    g = list_adjoint(g, list(m.items()))
    return {k: (0.0 if is_zero(p) else p[1]) for k, p in zip(m, g)}


def first_positions(items) -> list[int]:
    """The position of the first occurrence of each distinct item (distinct's order)."""
    seen: set = set()
    out = []
    for i, v in enumerate(items):
        if v not in seen:  # (an unhashable item raises TypeError, as set() does)
            seen.add(v)
            out.append(i)
    return out


def distinct(items):
    """A set as adjointc builds it (`{e for ...}`, `{a, b}`, `set(x)`): the distinct
    items in the order first seen, as a list (membership, `len`, iteration and sums
    are a set's; the order is deterministic where a set's hash order is not)."""
    items = list(items)
    return [items[i] for i in first_positions(items)]


def seed_adjoint(seed, y):
    """The cotangent of the output as a fresh array the backward sweep may update."""
    if isinstance(y, np.ndarray):
        return np.array(np.broadcast_to(seed, y.shape), dtype=np.result_type(y.dtype, float))
    if isinstance(y, (list, tuple)):
        if is_zero(seed):  # (the symbolic zero for a tuple output: a caller's unread result)
            return [seed_adjoint(0.0, v) for v in y]
        return [seed_adjoint(s, v) for s, v in zip(seed, y)]
    return seed


class Returning:
    """`h_returning_u(u, c)`: call the user function h, which modifies its array
    argument u in place, on a copy of u; return (h's result, the modified copy).
    The generated code then writes the copy back into the caller's u, a step its
    backward sweep can reverse (see adjointc/passes/mutation.py)."""

    def __init__(self, fn, params):
        import inspect
        self.fn, self.params = fn, tuple(params)
        self.__signature__ = inspect.signature(fn)
        names = list(self.__signature__.parameters)
        self._positions = [names.index(p) for p in self.params]
        self.__name__ = f"{getattr(fn, '__name__', 'fn')}_returning_{'_'.join(self.params)}"

    def __call__(self, *args, **kwargs):
        if all(i < len(args) for i in self._positions):
            args = list(args)
            copies = []
            for i in self._positions:
                args[i] = np.array(args[i], copy=True)
                copies.append(args[i])
            return (self.fn(*args, **kwargs),) + tuple(copies)
        b = self.__signature__.bind(*args, **kwargs)
        copies = []
        for p in self.params:
            b.arguments[p] = np.array(b.arguments[p], copy=True)
            copies.append(b.arguments[p])
        return (self.fn(*b.args, **b.kwargs),) + tuple(copies)

    def __repr__(self) -> str:
        return f"<adjointc wrapper {self.__name__}>"


from .checkpointing import Checkpoints  # noqa: E402 (checkpointed loops: passes/checkpoint.py)

# The statistics runs in progress (api.Gradient.tape_bytes; a callee's adjoint called inside
# one pushes its own): each a dict of what the run's backward sweep keeps, filled by tape_report.
TAPE_REPORTS: list[dict[str, Any]] = []


def held_bytes(v, seen: set[int] | None = None) -> int:
    """Bytes of memory a recorded value keeps alive: the objects (a list's slots, a float
    object, an array's header) and the data, each object counted once (`seen`: the ids
    already counted). An array view counts its header and the data it shows."""
    seen = set() if seen is None else seen
    if v is None or id(v) in seen or isinstance(v, (bool, type)):
        return 0
    seen.add(id(v))
    if isinstance(v, np.ndarray):
        if v.size and not any(v.strides):  # a stand-in: one element broadcast to a shape
            return sys.getsizeof(v) + (int(v.itemsize) if v.base is not None else 0)
        return sys.getsizeof(v) + (int(v.nbytes) if v.base is not None else 0)
    if isinstance(v, (list, tuple)):
        return sys.getsizeof(v) + sum(held_bytes(x, seen) for x in v)
    if isinstance(v, dict):
        return sys.getsizeof(v) + sum(held_bytes(x, seen) for x in v.values())
    return sys.getsizeof(v)


def nbytes(v) -> int:
    """Bytes of the data in a recorded value (what a C implementation would store)."""
    if v is None:
        return 0
    if isinstance(v, (list, tuple)):
        return sum(nbytes(x) for x in v)
    if isinstance(v, np.ndarray) and v.size and not any(v.strides):
        return int(v.itemsize)  # a stand-in (one element broadcast to a shape)
    if isinstance(v, (np.ndarray, np.generic)):
        return int(v.nbytes)
    if isinstance(v, bool):
        return 1
    if isinstance(v, (int, float)):
        return 8
    if isinstance(v, complex):
        return 16
    if isinstance(v, range):
        return 24
    return 8


class TapeReport(dict):
    """tape_bytes' report: memory held per entry (held_bytes); `.data` the same entries as
    bytes of data alone (nbytes: what a C implementation would store)."""

    def __init__(self, memory: dict[str, int], data: dict[str, int]):
        super().__init__(memory)
        self.data = data


def tape_report(**recordings) -> None:
    """Statistics builds call this where the backward sweep starts: what each recording
    holds (a checkpointed loop's Checkpoints: read when the run ends, its peak)."""
    if not TAPE_REPORTS:
        return
    report, seen = TAPE_REPORTS[-1], set()
    for k, v in recordings.items():
        report[k] = v if isinstance(v, Checkpoints) else (held_bytes(v, seen), nbytes(v))


def finished_report(report: dict[str, Any]) -> TapeReport:
    """A statistics run's report with its checkpointed loops read (their snapshots' peak and
    the largest tape of one recorded trip, entries of their own) and "total" (the sum)."""
    memory: dict[str, int] = {}
    data: dict[str, int] = {}
    for k, v in report.items():
        if isinstance(v, Checkpoints):
            for key, (m, d) in ((f"{k} snapshots (peak, K={v.snapshots})", v.peak_bytes),
                                (f"{k} tape of one trip", v.trip_bytes)):
                memory[key], data[key] = m, d
        else:
            memory[k], data[k] = v
    memory["total"], data["total"] = sum(memory.values()), sum(data.values())
    return TapeReport(memory, data)



