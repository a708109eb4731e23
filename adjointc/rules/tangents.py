"""Forward mode: the tangent (Jacobian-vector product) of one rule's call.

For `ans = f(x, y, ...)` with input tangents `x_dot, y_dot, ...` (None for an
input that is constant), `tangent` returns the IR expression of `ans_dot`, or
None when no input carries a tangent. A rule's `jvp` field says how, in one of
four forms (set with `defjvp`):

* ``"linear"``: f is linear in its differentiable arguments jointly (getitem,
  reshape, transpose, sum, concatenate, `+`): ``ans_dot = f(x_dot, y_dot, ...)``,
  the same call with every differentiable argument replaced by its tangent (an
  inactive one by its zero, `zeros_like(x)`) and every option kept.
* ``"multilinear"``: f is linear in each differentiable argument separately
  (`*`, matmul, dot, einsum, outer): ``ans_dot = f(x_dot, y, ...) + f(x, y_dot, ...)``
  over the arguments that carry a tangent.
* templates (a dict, or a function of the bound arguments returning one, as
  `defvjp`'s dynamic rules): per differentiable parameter, its contribution to
  ``ans_dot`` as an expression over the parameters, `ans` and ``d`` (that
  argument's tangent); the contributions of the arguments that carry a tangent
  are added. A list gives one template per operand of a ``*args`` parameter.
* None: derived from the VJP templates, for adjointc's own elementwise rules
  only. An elementwise function has a diagonal Jacobian, so a VJP template of
  the form ``unbroadcast(g * D, x)`` transposes to ``d * D`` (broadcasting does
  forward what `unbroadcast` undoes backward). The derivation accepts a template
  only where ``g`` occurs once, reached through elementwise linear operations
  (`*`, `/` by something else, unary minus, `np.where(c, g, 0.0)`, `fdiv`,
  `div0`, `np.conj`) below at most one `unbroadcast`, the template's root; and
  only for rules that are elementwise: result "elementwise" (the output is the
  broadcast of the inputs, element by element), the `math` functions (scalars
  in and out) and the listed ones (where, clip, abs...). A result "same" or
  "float" says only the output's type: `np.linalg.inv`'s is "same", and a
  scalar result of array inputs is a reduction, where `g * D` has D larger than
  `g` (np.vdot's ``g * np.reshape(b, np.shape(a))``: the tangent is
  ``sum(d * b)``, not ``d * b``). The result is the broadcast of every input,
  constant ones too, and a derived term may lack one (x's in `np.mod(x, y)` is
  `x_dot`; `np.where(c, x_dot, 0.0)` lacks y): where a constant input is not
  among the leaves the tangent broadcasts against, it becomes
  `rebroadcast(t, ans)`, the result's shape. Anything else has no derived tangent:
  `tangent` raises `NoTangentRule`, which the tangent pass reports with the
  call's location (a user's own rule always needs `defjvp`: its `result` may
  not say whether it is elementwise).

The name ``d`` is the tangent in every template: `defjvp` refuses a rule with a
parameter of that name.

Every built-in rule's tangent is checked against finite differences and
against its VJP (they must be transposes: exact, so also at kinks and ties),
by rules/testing.check_jvp and check_transpose in tests/test_tangent_rules.py.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from ..ir import Call, Const, Expr, Name, substitute

if TYPE_CHECKING:
    from . import Rule

TangentOf = Callable[[Expr], "Expr | None"]


class NoTangentRule(Exception):
    """A rule with no forward-mode knowledge (the tangent pass locates it)."""


# The operations a derived tangent may pass `g` through, and at which argument position
# (None: any): each is linear in that argument and elementwise.
_LINEAR_PATH: dict[str, int | tuple[int, ...] | None] = {
    "mul": None, "truediv": 0, "neg": 0, "pos": 0, "fdiv": 0, "div0": 0, "np.conj": 0,
    "np.where": (1, 2)}
# Ops (besides NumPy's ufuncs and the math functions) whose value is the broadcast of
# their arguments, element by element: the shape a derived tangent's term gets.
_BROADCASTING = frozenset({"add", "sub", "mul", "truediv", "pow", "mod", "neg", "pos", "invert", "gt", "ge",
                           "lt", "le", "eq", "ne", "bitand", "bitor", "bitxor", "np.where", "div0", "fdiv",
                           "pow_dx", "pow_dy", "dsinc"})
# The result kind of an elementwise rule, and the elementwise rules whose result is
# computed (by a function of the argument types). Not "same" or "float": see the docstring.
_ELEMENTWISE_RESULTS = ("elementwise",)
_ELEMENTWISE_OPS = frozenset({"np.where", "np.clip", "np.absolute", "np.fabs", "np.real", "abs",
                              "attr:real"})


def _count(e: Expr, name: str = "g") -> int:
    """How many times the Name `name` occurs in `e`."""
    if isinstance(e, Name):
        return int(e.id == name)
    if isinstance(e, Call):
        return sum(_count(a, name) for a in e.args) + sum(_count(v, name) for _, v in e.kwargs)
    return 0


def derive(template: Expr) -> Expr | None:
    """`d * D` from a VJP template `unbroadcast(g * D, x)` (see the module docstring),
    or None when the template is not of that form."""
    if _count(template) != 1 or _count(template, "d"):   # (d: the tangent's name)
        return None
    if isinstance(template, Call) and template.op == "unbroadcast":   # only at the root
        if not _count(template.args[0]):
            return None
        template = template.args[0]

    def walk(e: Expr) -> Expr | None:
        if isinstance(e, Name):
            return Name("d") if e.id == "g" else e
        if not isinstance(e, Call):
            return e
        if any(_count(v) for _, v in e.kwargs):
            return None
        where = [i for i, a in enumerate(e.args) if _count(a)]
        if not where:
            return e
        i = where[0]
        allowed = _LINEAR_PATH.get(e.op, -1)
        if allowed == -1 or (allowed is not None and i not in (allowed if isinstance(allowed, tuple)
                                                                 else (allowed,))):
            return None
        inner = walk(e.args[i])
        if inner is None:
            return None
        if e.op == "np.where" and not (isinstance(e.args[3 - i], Const) and e.args[3 - i].value == 0.0):
            return None
        return Call(e.op, e.args[:i] + (inner,) + e.args[i + 1:], e.kwargs)
    return walk(template)


def _is_elementwise(rule: "Rule") -> bool:
    return (isinstance(rule.result, str) and rule.result in _ELEMENTWISE_RESULTS) \
        or rule.op in _ELEMENTWISE_OPS or rule.op.startswith("math.")


def _zero(a: Expr) -> Expr:
    return Call("zeros_like", (a,))


def _add(parts: list[Expr]) -> Expr | None:
    out: Expr | None = None
    for p in parts:
        out = p if out is None else Call("add", (out, p))
    return out


def _params(rule: "Rule", bound: dict[str, Any]) -> list[str]:
    """The parameters whose arguments carry a derivative in this call (those the VJP
    gives an adjoint: a dynamic rule decides per call, e.g. np.pad's widths do not), and
    those only a tangent template names (a tape's `L.pop()`: its adjoint is no template)."""
    vjp = rule.templates_for(bound)
    own = [p for p in rule.jvp if p in bound and p not in vjp] if isinstance(rule.jvp, dict) else []
    return [p for p, t in vjp.items() if p in bound and t is not None] + own


def _rebuild(rule: "Rule", call: Call, replaced: dict[str, Any]) -> Call:
    """`call` as written, with the arguments of some parameters replaced (a tuple,
    aligned with the operands, for the *args parameter)."""
    n = len(rule.params)
    args: list[Expr] = []
    for i, a in enumerate(call.args):
        if i < n:
            args.append(replaced.get(rule.params[i], a))
        else:
            r = replaced.get(rule.varargs) if rule.varargs else None
            args.append(a if r is None else r[i - n])
    return Call(call.op, tuple(args), tuple((k, replaced.get(k, v)) for k, v in call.kwargs))


def tangent(rule: "Rule", call: Call, bound: dict[str, Any], tangent_of: TangentOf, ans: Expr) -> Expr | None:
    """The tangent of `ans = call` (bound to `rule`'s parameters by `rule.bind`):
    an IR expression, or None when no differentiable argument carries a tangent."""
    if rule.nondiff:
        return None
    params = _params(rule, bound)

    def dots(v: Any) -> Any:
        return tuple(tangent_of(x) for x in v) if isinstance(v, tuple) else tangent_of(v)

    tangents = {p: dots(bound[p]) for p in params}
    carrying = {p for p, t in tangents.items()
                if (any(x is not None for x in t) if isinstance(t, tuple) else t is not None)}
    if not carrying:
        return None
    how = rule.jvp
    if how == "linear":
        def zero_or(t: Any, v: Any) -> Any:
            if isinstance(v, tuple):
                return tuple(x if x is not None else _zero(a) for x, a in zip(t, v))
            return t if t is not None else _zero(v)
        return _rebuild(rule, call, {p: zero_or(tangents[p], bound[p]) for p in params})
    if how == "multilinear":
        parts: list[Expr] = []
        for p in params:
            t, v = tangents[p], bound[p]
            if isinstance(v, tuple):
                for i, x in enumerate(t):
                    if x is not None:
                        parts.append(_rebuild(rule, call, {p: v[:i] + (x,) + v[i + 1:]}))
            elif t is not None:
                parts.append(_rebuild(rule, call, {p: t}))
        return _add(parts)
    templates = _templates(rule, bound)
    env = {k: (Call("tuple", v) if isinstance(v, tuple) else v) for k, v in bound.items()}
    env["ans"] = ans
    from . import parse_template
    parts = []
    for p in params:
        tpl, t = templates.get(p), tangents[p]
        pairs = list(zip(tpl, t)) if isinstance(t, tuple) else [(tpl, t)]
        for tp, x in pairs:
            if x is None:
                continue
            if tp is None:
                raise NoTangentRule(f"{rule.op}: no tangent for argument {p!r}")
            e = tp if not isinstance(tp, str) else parse_template(tp)
            parts.append(substitute(e, {**env, "d": x}))
    out = _add(parts)
    if how is None and out is not None and _may_be_narrower(rule, bound, tangents, out, ans):
        out = Call("rebroadcast", (out, ans))
    return out


def _broadcasts(op: str) -> bool:
    """Does the op broadcast its arguments against each other, element by element?"""
    if op in _BROADCASTING or op.startswith("math."):
        return True
    f = getattr(np, op[3:], None) if op.startswith("np.") else None
    return isinstance(f, np.ufunc)


def _shaping(e: Expr) -> set[Expr]:
    """The leaves of `e` whose shapes its value's shape is the broadcast of (those
    reached through broadcasting ops only: not an `np.shape(y)`, an `np.sum(y)`)."""
    if isinstance(e, Call):
        if not _broadcasts(e.op):
            return set()
        return set().union(*(_shaping(a) for a in e.args)) if e.args else set()
    return {e}


def _may_be_narrower(rule: "Rule", bound: dict[str, Any], tangents: dict[str, Any], out: Expr,
                     ans: Expr) -> bool:
    """Might the derived tangent `out` of an elementwise call have fewer elements than its
    result? The result is the broadcast of every input; a term without a constant input
    (x's in `np.mod(x, y)`: just `x_dot`; `np.where(c, x_dot, 0.0)` without y) lacks that
    input's dimensions. (A carrying input's tangent is in every one of its terms.)"""
    if rule.op.startswith("math."):   # scalars only
        return False
    shaping = _shaping(out)
    if ans in shaping:
        return False
    for p, v in bound.items():
        vals, dots = (v, tangents.get(p) or (None,) * len(v)) if isinstance(v, tuple) else ((v,), (tangents.get(p),))
        for a, t in zip(vals, dots):
            if t is None and a not in shaping and not (isinstance(a, Const) and np.ndim(a.value) == 0):
                return True
    return False


def _templates(rule: "Rule", bound: dict[str, Any]) -> dict[str, Any]:
    """Per-parameter tangent templates: given (`defjvp`) or derived from the VJP."""
    how = rule.jvp
    if callable(how):
        return dict(how(**bound))
    if isinstance(how, dict):
        return dict(how)
    from . import BUILTIN_RULE_OPS, parse_template
    if rule.op not in BUILTIN_RULE_OPS or not _is_elementwise(rule):
        raise NoTangentRule(f"{rule.op} has no forward-mode (JVP) rule")
    out: dict[str, Any] = {}
    for p, tpl in rule.templates_for(bound).items():
        items = tpl if isinstance(tpl, list) else [tpl]
        derived = []
        for t in items:
            e = None if t is None else derive(parse_template(t))
            if t is not None and e is None:
                raise NoTangentRule(f"{rule.op} has no forward-mode (JVP) rule "
                                    f"(its VJP for {p!r} is not elementwise)")
            derived.append(e)
        out[p] = derived if isinstance(tpl, list) else derived[0]
    return out


def has_tangent(rule: "Rule") -> bool:
    """Does `rule` have forward-mode knowledge (given, or derivable in principle)?"""
    from . import BUILTIN_RULE_OPS
    return rule.nondiff or rule.jvp is not None or (rule.op in BUILTIN_RULE_OPS and _is_elementwise(rule))
