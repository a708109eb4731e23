"""Rules for Python's container builtins and dicts (what comprehensions and dict code call).

* `any` / `all` of an iterable: no derivative (bool);
* sets (`{e for ...}`, `{a, b}`, `set(x)`): `distinct(items)` (runtime.distinct), the
  distinct items in the order first seen, as a list; adjoint `undistinct`, linear;
* dicts (see adjointc/comprehensions.py for how displays and comprehensions lower):
  `{}` is the op `dict` (no arguments: an empty dict, filled by item writes);
  `dict_keys/dict_values/dict_items(d)` are d.keys()/.values()/.items() as lists (the
  loop lowering indexes its sequence); `dict_get(d, k, default)` is d.get(k, default).
  A dict's adjoint is a dict of adjoints, keyed as the dict (runtime.dict_scatter
  adds an entry's adjoint into it); a key carries no derivative.
"""
from __future__ import annotations

import builtins

from .. import runtime
from .. import types as T
from ..ir import Const
from . import defjvp, defvjp, nondiff

nondiff(builtins.any, "x", name="any", result="bool")
nondiff(builtins.all, "x", name="all", result="bool")


# a set is built as runtime.distinct(list) (frontend/comprehensions.py): its distinct items in the
# order first seen; the adjoint goes back to each item's first occurrence
defvjp(runtime.distinct, "x", name="distinct", x="undistinct(g, x)", result=lambda types, bound: T.T("list"))
defjvp("distinct", x="distinct_jvp(d, x)")


def _receiver(types: dict, what: str) -> T.T:
    m = types["m"]
    if not (T.is_dict(m) or m.kind in ("unknown", "object")):
        from ..passes.types import TypeProblem
        raise TypeProblem(f"{what} of a value of type {m}: adjointc knows it for dicts only",
                          "call it on a dict (d.keys(), d.values(), d.items(), d.get(k, default))")
    return m


def _list_of(what: str):
    def result(types: dict, bound: dict) -> T.T:
        _receiver(types, what)
        return T.T("list")  # (of unknown length)
    return result


def _entry(types: dict, bound: dict) -> T.T:
    m = _receiver(types, ".get()")
    if not T.is_dict(m):
        return T.UNKNOWN
    from ..passes.types import join
    k = bound["k"]
    known = isinstance(k, Const)
    t = T.dict_value(m, k.value if known else None, join, known)
    d = bound.get("default", Const(None))
    return t if d == Const(None) else join(t, types["default"])


nondiff("dict", "", result=lambda types, bound: T.dict_type())
nondiff(runtime.dict_keys, "m", name="dict_keys", result=_list_of(".keys()"))
defvjp(runtime.dict_values, "m", name="dict_values", m="values_adjoint(g, m)", result=_list_of(".values()"))
defvjp(runtime.dict_items, "m", name="dict_items", m="items_adjoint(g, m)", result=_list_of(".items()"))
defvjp(runtime.dict_get, "m, k, default=None", name="dict_get", m="entry_adjoint(g, m, k)",
       default="default_adjoint(g, m, k)", result=_entry)
for _op in ("dict_values", "dict_items", "dict_get"):
    defjvp(_op, "linear")
