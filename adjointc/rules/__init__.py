"""The derivative-rule registry: one small readable template per primitive.

A rule says, for `ans = f(x, y, ...)` with incoming adjoint `g`, what each
differentiable argument's adjoint contribution is, as a Python expression
over `g`, `ans` and the parameter names::

    defvjp(np.sin, "x", x="g * np.cos(x)")
    defvjp(np.arctan2, "y, x", y="g * x / (x * x + y * y)", x="-g * y / (x * x + y * y)")
    defvjp(np.sum, "a, axis=None, dtype=None, out=None, keepdims=False",
           a="unreduce(g, a, axis, keepdims)", result=REDUCE)

Parameters without a template are not differentiable (their adjoint is
zero). When the templates depend on constant options (an `axis`, an einsum
subscript string) give a function instead; it receives the IR expressions of
the bound arguments and returns the templates::

    @defvjp(np.einsum, "subscripts, *operands")
    def _einsum(subscripts, operands): return {"operands": [...]}

Templates are parsed once, inlined into the generated adjoint with the
actual argument names substituted, and simplified with the types known at
transform time (`unbroadcast(g, x)` disappears when shapes provably agree; a
helper's plain form, `plain_form`, replaces its call where the types allow).
Built-in rules use this same public decorator; so do users registering the
adjoint of their own opaque function. `nondiff(f)` marks a function whose
output carries no derivative (rounding, comparisons, random draws).
"""
from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from .. import types as T
from ..ir import Call, Const, Expr

Templates = Mapping[str, "str | list[str | None] | None"]


@dataclass
class Rule:
    op: str                                   # canonical spelling in generated code
    params: tuple[str, ...]                   # positional/keyword parameters in order
    defaults: dict[str, Any]                  # default values (python constants)
    varargs: str | None = None                # name of the *args parameter, if any
    templates: dict[str, Any] | None = None   # param -> template (static rules)
    fn: Callable[..., Templates] | None = None  # dynamic rules: bound args -> templates
    nondiff: bool = False                     # output has no derivative at all
    result: Callable[..., T.T] | str = "elementwise"
    namespace: dict[str, Any] = field(default_factory=dict)  # names the templates use
    objects: tuple[Any, ...] = ()             # the Python callables this rule is for
    keyword_only: tuple[str, ...] = ()
    varkw: bool = False                       # accepts any keyword (**kwargs)
    refused: tuple[str, str] | None = None    # (message, hint): see `refuse`
    recompute: str | None = None              # "view" | "scalar" | "never": see cheap_to_recompute
    returns_view: bool = False                # the result may share memory with an argument
    jvp: Any = None                           # forward mode: see rules/tangents.py and `defjvp`
    on_complex: Any = None                    # complex values: see rules/complex.py (None: refused)

    def tangent(self, call: Call, bound: dict[str, Any], tangent_of: Callable[[Expr], Expr | None],
                ans: Expr) -> Expr | None:
        """The tangent of `ans = call` (forward mode; rules/tangents.py), None if zero."""
        from .tangents import tangent
        return tangent(self, call, bound, tangent_of, ans)

    def cheap_to_recompute(self, result: T.T) -> bool:
        """Op knowledge for the tape pass (passes/tape.py): may the backward sweep redo
        this op where it reads the result, instead of the forward sweep storing it?
        A view (an element or slice read, a transpose) costs nothing to redo; arithmetic
        and math functions on Python numbers cost about what a tape push and pop cost.
        `recompute` overrides the default the op's name gives."""
        kind = self.recompute or ("view" if self.op in _VIEW_OPS else "scalar" if (
            self.op in _SCALAR_OPS or self.op.startswith("math.")) else "never")
        return kind == "view" or (kind == "scalar" and result.kind in ("float", "int"))

    def bind(self, args: tuple[Expr, ...], kwargs: tuple[tuple[str, Expr], ...]) -> dict[str, Any]:
        """Bind call arguments to parameter names; fill defaults as Consts.

        Raises TypeError (turned into an adjointc error by the caller) when
        the call does not fit the signature, `Refused` for a refused function."""
        if self.refused is not None:
            raise Refused(*self.refused)
        pos = self.params
        bound: dict[str, Any] = dict(zip(pos, args))  # (the positional arguments, in order)
        if len(args) > len(pos):
            if self.varargs is None:
                raise TypeError(f"{self.op}() takes at most {len(pos)} positional arguments")
            bound[self.varargs] = tuple(args[len(pos):])
        elif self.varargs:
            bound[self.varargs] = ()
        for k, v in kwargs:
            if k not in self.params and k not in self.keyword_only and not self.varkw:
                raise TypeError(f"{self.op}() got an unexpected keyword argument {k!r}")
            if k in bound:
                raise TypeError(f"{self.op}() got multiple values for argument {k!r}")
            bound[k] = v
        for p in self.params + self.keyword_only:
            if p not in bound:
                if p not in self.defaults:
                    raise TypeError(f"{self.op}() missing required argument {p!r}")
                bound[p] = Const(self.defaults[p])
        return bound

    def templates_for(self, bound: dict[str, Any]) -> dict[str, Any]:
        """The adjoint templates for this call (both modes read them: rules/tangents.py).
        None at all (no derivative) for a call whose constant `dtype` option is an
        integer or boolean type (`np.sum(x, dtype="int64")`): its result is piecewise
        constant in the inputs."""
        if self.nondiff or _integer_dtype(bound.get("dtype")):
            return {}
        if self.fn is not None:
            return dict(self.fn(**bound))
        return dict(self.templates or {})

    @property
    def differentiable_params(self) -> tuple[str, ...]:
        if self.nondiff:
            return ()
        if self.templates is not None:
            return tuple(self.templates)
        return self.params + ((self.varargs,) if self.varargs else ())


def _integer_dtype(e: Any) -> bool:
    """Is `e` a constant dtype option naming an integer or boolean type?"""
    if not isinstance(e, Const) or e.value is None:
        return False
    try:
        return np.dtype(e.value).kind in "iub"
    except TypeError:
        return False


_VIEW_OPS = frozenset({"getitem", "attr:T"})
_SCALAR_OPS = frozenset({"neg", "add", "sub", "mul", "truediv", "pow"})
REGISTRY: dict[str, Rule] = {}      # canonical op name -> rule
BY_OBJECT: dict[int, Rule] = {}     # id(python callable) -> rule
_KEEP: list[Any] = []               # keep registered objects alive (ids stay valid)


def _parse_signature(sig: str) -> tuple[tuple[str, ...], dict[str, Any], str | None, tuple[str, ...]]:
    """(parameters, defaults, *args name, keyword-only names); see `_accepts_kwargs`."""
    fn = ast.parse(f"def _({sig}): pass").body[0]
    a = fn.args
    names = tuple(x.arg for x in a.posonlyargs + a.args)
    defaults = {}
    for name, d in zip(names[len(names) - len(a.defaults):], a.defaults):
        defaults[name] = ast.literal_eval(d)
    kwonly = tuple(x.arg for x in a.kwonlyargs)
    for x, d in zip(a.kwonlyargs, a.kw_defaults):
        if d is not None:
            defaults[x.arg] = ast.literal_eval(d)
    return names, defaults, (a.vararg.arg if a.vararg else None), kwonly


def _canonical_name(obj: Any) -> str:
    import math

    import numpy as np
    name = getattr(obj, "__name__", None)
    if name and getattr(np, name, None) is obj:
        return f"np.{name}"
    if name and getattr(np.linalg, name, None) is obj:
        return f"np.linalg.{name}"
    if name and getattr(np.fft, name, None) is obj:
        return f"np.fft.{name}"
    if name and getattr(math, name, None) is obj:
        return f"math.{name}"
    mod = getattr(obj, "__module__", None) or ""
    return f"{mod}.{getattr(obj, '__qualname__', name)}".strip(".").replace("<locals>.", "")


def register(rule: Rule) -> Rule:
    REGISTRY[rule.op] = rule
    for obj in rule.objects:
        BY_OBJECT[id(obj)] = rule
        _KEEP.append(obj)
    return rule


def defvjp(fn: Any, signature: str | None = None, *, name: str | None = None,
           result: Callable[..., T.T] | str = "elementwise",
           namespace: dict[str, Any] | None = None, returns_view: bool = False, **templates: str | None):
    """Register the vector-Jacobian product of `fn` (a callable, or an op name
    such as "add"). With templates given as keywords, registers them; with
    none, returns a decorator for a function computing templates from the
    bound arguments. `returns_view`: the result may share memory with an
    argument (a view, or a container holding it), which the alias analyses follow."""
    op = name or (fn if isinstance(fn, str) else _canonical_name(fn))
    if signature is None:
        if templates:
            signature = ", ".join(templates)
        else:
            signature = str(inspect.signature(fn))[1:-1]
    params, defaults, varargs, kwonly = _parse_signature(signature)
    objs = () if isinstance(fn, str) else (fn,)
    for p in templates:
        if p not in params and p != varargs and p not in kwonly:
            raise ValueError(f"defvjp({op}): template for unknown parameter {p!r}")
    for t in templates.values():  # fail at registration, not at use
        if isinstance(t, str):
            parse_template(t)

    def make(fn_rule: Callable[..., Templates] | None) -> Rule:
        return register(Rule(op, params, defaults, varargs,
                             templates=None if fn_rule else {k: v for k, v in templates.items()},
                             fn=fn_rule, result=result, namespace=dict(namespace or {}),
                             objects=objs, keyword_only=kwonly, varkw=_accepts_kwargs(signature),
                             returns_view=returns_view))

    if templates:
        return make(None)

    def deco(fn_rule: Callable[..., Templates]) -> Callable[..., Templates]:
        make(fn_rule)
        return fn_rule
    return deco


def defjvp(fn: Any, how: str | None = None, **templates: "str | None"):
    """Forward-mode knowledge for `fn`'s rule (registered already, by `defvjp`):
    `how` = "linear" (fn is linear in its differentiable arguments jointly) or
    "multilinear" (linear in each separately), or per-parameter tangent templates
    over the parameters, `ans` and `d` (that argument's tangent), whose
    contributions are added. With neither, returns a decorator for a function of
    the bound arguments computing the templates. Each contribution must have the
    result's shape (`d` alone is x's shape: for f(x, y) = x + y broadcasting, write
    `"linear"`, which fills in the zeros). See rules/tangents.py."""
    rule = lookup(fn) if isinstance(fn, str) else lookup_object(fn)
    if rule is None:
        raise ValueError(f"defjvp({fn!r}): register its rule with defvjp first")
    if how is not None:
        if how not in ("linear", "multilinear") or templates:
            raise ValueError(f"defjvp({rule.op}): give 'linear', 'multilinear' or templates, not {how!r}")
        rule.jvp = how
        return rule
    if "d" in rule.params + rule.keyword_only or rule.varargs == "d":  # (templates only: "linear" names none)
        raise ValueError(f"defjvp({rule.op}): a parameter named 'd' would be read as the tangent "
                         "in the templates; rename it in the defvjp signature")
    for p in templates:
        if p not in rule.params and p != rule.varargs and p not in rule.keyword_only:
            raise ValueError(f"defjvp({rule.op}): template for unknown parameter {p!r}")
    for t in templates.values():
        if isinstance(t, str):
            parse_template(t)
    if templates:
        rule.jvp = dict(templates)
        return rule

    def deco(fn_rule: Callable[..., Templates]) -> Callable[..., Templates]:
        rule.jvp = fn_rule
        return fn_rule
    return deco


def nondiff(fn: Any, signature: str = "*args, **kwargs", *, name: str | None = None,
            result: Callable[..., T.T] | str = "unknown") -> Rule:
    """Mark `fn` as having no derivative: its output is a constant for AD."""
    op = name or (fn if isinstance(fn, str) else _canonical_name(fn))
    params, defaults, varargs, kwonly = _parse_signature(signature)
    return register(Rule(op, params, defaults, varargs, templates={}, nondiff=True,
                         result=result, objects=() if isinstance(fn, str) else (fn,),
                         keyword_only=kwonly, varkw=_accepts_kwargs(signature)))


class Refused(Exception):
    """A call to a function adjointc refuses to differentiate (the frontend turns
    it into a located NoAdjointRule with the hint)."""

    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.message, self.hint = message, hint


def refuse(fn: Any, message: str, hint: str, *, name: str | None = None) -> Rule:
    """Register `fn` as refused: a call to it is a located NoAdjointRule saying
    `message` and `hint`, at transform time (for functions whose derivative
    would be silently wrong, such as np.ma's, which ignore the mask's role)."""
    op = name or (fn if isinstance(fn, str) else _canonical_name(fn))
    return register(Rule(op, (), {}, "args", templates={}, varkw=True, result="unknown",
                         objects=() if isinstance(fn, str) else (fn,), refused=(message, hint)))


def _accepts_kwargs(sig: str) -> bool:
    return ast.parse(f"def _({sig}): pass").body[0].args.kwarg is not None


def alias(spelling: str, rule: Rule) -> None:
    """Let generated code call a rule's function by the user's own spelling."""
    REGISTRY.setdefault(spelling, rule)


def lookup(op: str) -> Rule | None:
    return REGISTRY.get(op)


def lookup_object(obj: Any) -> Rule | None:
    return BY_OBJECT.get(id(obj))


# ------------------------------------------------------------- template parse
_cache: dict[str, Expr] = {}


def parse_template(src: str) -> Expr:
    """Parse a template expression into IR (cached: templates are parsed at every use).

    The frontend's own expression lowering reads it (expressions.TemplateLowerer):
    names are free, `np.`/`math.` names are functions, `a.f(...)` is `method:f`.
    Raises ValueError for what a template cannot say."""
    e = _cache.get(src)
    if e is None:
        from ..frontend.expressions import lower_template  # (lazy: expressions reads operators' table)
        e = _cache[src] = lower_template(src)
    return e


# Template operations that take the symbolic zero 0.0 for g and give a zero contribution
# (elementwise arithmetic and functions, broadcasting back); anything else may need g's
# shape (matmul, reshape, cumsum, indexing g...), and the reverse pass gives g its shape
# first (shape_adjoint).
ZERO_COTANGENT_SAFE = frozenset({
    "add", "sub", "mul", "truediv", "neg", "pow", "eq", "gt", "lt", "invert",
    "np.conj", "np.cos", "np.cosh", "np.exp", "np.exp2", "np.log", "np.sin", "np.sinh",
    "np.sqrt", "np.sign", "np.where", "np.isnan", "np.trunc", "np.floor_divide",
    "np.shape", "np.size", "len", "unbroadcast", "unreduce", "dsinc", "csign", "dangle"})


def takes_zero_cotangent(e: Expr) -> bool:
    """Does the parsed template `e` work (and give zero) when g is the scalar 0.0?"""
    if isinstance(e, Call):
        return ((e.op in ZERO_COTANGENT_SAFE or e.op.startswith("math."))
                and all(takes_zero_cotangent(a) for a in e.args)
                and all(takes_zero_cotangent(v) for _, v in e.kwargs))
    return True


# ------------------------------------------------------------- plain forms
# What a careful hand-written adjoint prints instead of a helper call, where the types
# prove it valid (`matmul_lhs(g, x, y)` of 2-D operands is `g @ y.T`). Each op's entry is
# registered beside its rule's family (generated_forms.py for the helpers whose rules
# generated.py registers, np_shape.py for np.size); passes/forms.py is the driver that
# consults them. A form never changes a value's shape or elements.
PlainForm = Callable[[tuple[Expr, ...], Any], "Expr | None"]
PLAIN_FORMS: dict[str, PlainForm] = {}   # op -> (its call's arguments, types) -> plain form or None
SHAPE_ONLY: dict[str, int] = {}          # op -> the position of the argument it reads for its shape only


def plain_form(op: str) -> Callable[[PlainForm], PlainForm]:
    """Register the plain form of calls of `op` without keywords: a function of the call's
    arguments (folded already) and `types` (`types.of(e)`: an expression's type), giving
    the form or None. One entry per op."""
    def deco(fn: PlainForm) -> PlainForm:
        if op in PLAIN_FORMS:
            raise ValueError(f"plain_form({op}): registered already")
        PLAIN_FORMS[op] = fn
        return fn
    return deco


def shape_only(op: str, position: int) -> None:
    """Declare that `op` reads its argument at `position` for its shape only (`unbroadcast(g,
    x)` reads x's): passes/forms.py may pass an array of that shape instead."""
    SHAPE_ONLY[op] = position


# The helpers the templates call (they join adjointc.runtime's namespace), then the
# built-in rules (they use the same public decorator).
from . import helpers as _helpers  # noqa: E402,F401
from . import operators as _operators  # noqa: E402,F401
from . import math as _math  # noqa: E402,F401
from . import numpy as _numpy  # noqa: E402,F401
from . import generated as _generated  # noqa: E402,F401  (the helpers generated code calls)
from . import generated_forms as _generated_forms  # noqa: E402,F401  (their plain forms)
from . import generated_linalg as _generated_linalg  # noqa: E402,F401  (the linear-algebra helpers' rules)
from . import containers as _containers  # noqa: E402,F401  (any/all, sets, dicts)
from . import generated_lists as _generated_lists  # noqa: E402,F401  (the list helpers' rules: everyday syntax)
from . import special as _special  # noqa: E402,F401  (lgamma, gamma, digamma...)
from . import np_fft as _np_fft  # noqa: E402,F401
from . import generated_spectral as _generated_spectral  # noqa: E402,F401  (the FFT helpers' rules)

from . import complex as _complex  # noqa: E402  (after the others: marks which rules hold for complex values)


BUILTIN_RULE_OPS = frozenset(REGISTRY)   # adjointc's own rules (not users')
from . import generated_reductions as _generated_reductions  # noqa: E402,F401  (the reduction, norm and interp helpers' rules)
_complex.mark_helpers()   # (the reduction helpers' rules hold for complex values too: rules/complex.py)
