"""Rules for the list helpers of everyday syntax (rules/helpers/shape.py), so that
generated code calling them can be differentiated again (second order) and run
forward, as rules/generated.py does for the other helpers.

Each helper is linear in its first argument (an adjoint) and piecewise constant in
the others (lengths, ties, an order), so its VJP is the transposed map, and its
tangent is the same call on the tangent (`"linear"`):

    unlist(c, x)                   list(x)'s adjoint        <->  relisted(g, c, x)
    unconcat_list(c, x, y, which)  `x + y`'s, one part      <->  reconcat_list(g, c, x, y, which)
    unrepeat_list(c, x, n)         `x * n`'s                <->  rerepeat_list(g, c, x, n)
    unextreme(c, x, m)             max(x)/min(x)'s          <->  extreme_jvp (their tangent)
    unsorted(c, x, reverse)        sorted(x)'s              <->  sorted_jvp (its tangent)

`unprod` (math.prod's) is not linear in x: it has no rule, and a second derivative of
math.prod is refused where generated code calls it (frontend/resolve.py). Each transpose takes
the symbolic zero 0.0 for c (no cotangent reached it: nothing flows back) and for g.
"""
from __future__ import annotations

from typing import Any

from .. import runtime
from .. import types as T
from . import defjvp, defvjp
from .helpers import shape, zero_adjoint
from .np_results import type_of


def relisted(g: Any, c: Any, x: Any) -> Any:
    """The VJP of `unlist(c, x)` (c, the element adjoints of list(x), back in x's form)
    with respect to c: g's elements (an array's rows) as a list."""
    if runtime.is_zero(c):
        return 0.0
    if runtime.is_zero(g):
        return zero_adjoint(c)
    return list(g)


def reconcat_list(g: Any, c: Any, x: Any, y: Any, which: int) -> Any:
    """The VJP of `unconcat_list(c, x, y, which)` (one part of c, the adjoint of x + y):
    g in that part's place, zeros in the other's."""
    if runtime.is_zero(c):
        return 0.0
    part = list(zero_adjoint(list(x if which == 0 else y)) if runtime.is_zero(g) else g)
    other = [0.0] * len(y if which == 0 else x)
    return part + other if which == 0 else other + part


def rerepeat_list(g: Any, c: Any, x: Any, n: Any) -> Any:
    """The VJP of `unrepeat_list(c, x, n)` (the copies of c, the adjoint of x * n, added):
    g given to every copy."""
    if runtime.is_zero(c):
        return 0.0
    return list(zero_adjoint(list(x)) if runtime.is_zero(g) else g) * max(n, 0)


for _name, _fn in (("relisted", relisted), ("reconcat_list", reconcat_list), ("rerepeat_list", rerepeat_list)):
    if getattr(runtime, _name, None) not in (None, _fn):
        raise ImportError(f"adjointc.rules.generated_lists.{_name} would shadow adjointc.runtime.{_name}")
    setattr(runtime, _name, _fn)  # (generated code imports every helper from adjointc.runtime)


def _like(name: str):
    return lambda types, bound: type_of(types, name)


defvjp(shape.unlist, "c, x", name="unlist", c="relisted(g, c, x)", result=_like("x"))
defvjp(relisted, "d, c, x", name="relisted", d="unlist(g, x)", result=_like("c"))
defvjp(shape.unconcat_list, "c, x, y, which", name="unconcat_list", c="reconcat_list(g, c, x, y, which)",
       result=lambda types, bound: T.T("list"))
defvjp(reconcat_list, "d, c, x, y, which", name="reconcat_list", d="unconcat_list(g, x, y, which)",
       result=_like("c"))
defvjp(shape.unrepeat_list, "c, x, n", name="unrepeat_list", c="rerepeat_list(g, c, x, n)", result=_like("x"))
defvjp(rerepeat_list, "d, c, x, n", name="rerepeat_list", d="unrepeat_list(g, x, n)", result=_like("c"))
defvjp(shape.unextreme, "c, x, m", name="unextreme", c="extreme_jvp(g, x, m)", result=_like("x"))
defvjp(shape.extreme_jvp, "d, x, m", name="extreme_jvp", d="unextreme(g, x, m)", result=_like("m"))
defvjp(shape.unsorted, "c, x, reverse=False", name="unsorted", c="sorted_jvp(g, x, reverse)", result=_like("x"))
defvjp(shape.sorted_jvp, "d, x, reverse=False", name="sorted_jvp", d="unsorted(g, x, reverse)",
       result=_like("d"))
defvjp(shape.undistinct, "c, x", name="undistinct", c="distinct_jvp(g, x)", result=_like("x"))
defvjp(shape.distinct_jvp, "d, x", name="distinct_jvp", d="undistinct(g, x)", result=lambda types, bound: T.T("list"))
for _op in ("undistinct", "distinct_jvp", "unlist", "relisted", "unconcat_list", "reconcat_list", "unrepeat_list", "rerepeat_list",
            "unextreme", "extreme_jvp", "unsorted", "sorted_jvp"):
    defjvp(_op, "linear")
