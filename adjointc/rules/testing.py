"""Evaluate a derivative rule numerically, outside the compiler.

`eval_rule` binds concrete arguments to a rule, prints its templates the way
the compiler would inline them and evaluates them; `check_vjp` compares the
result with central finite differences through the inner-product test

    < J u, v >  ==  < u, J^T v >

for random input directions `u` and output cotangents `v`. Together they make
"adding an op" = one `defvjp` line plus one test case::

    from adjointc.rules.testing import check_vjp
    check_vjp(np.sinh, (np.linspace(-1, 1, 5),))

Forward mode likewise: `eval_tangent` evaluates a rule's tangent (rules/tangents.py),
`check_jvp` compares it with finite differences element by element, and
`check_transpose` checks the tangent and the VJP are transposes of each other
(the inner-product identity, both sides exact: no finite differences).
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from .. import printer, runtime
from .. import types as T
from ..ir import Call, Const, Expr, Name, map_expr, substitute
from . import Rule, lookup, lookup_object, parse_template
from .operators import PYTHON

# Python callables for the operator rules (registered by op name).
OPERATORS: dict[str, Callable[..., Any]] = {
    **PYTHON,
    "tuple": lambda *elts: tuple(elts), "list": lambda *elts: list(elts),
    "py:list": list, "py:tuple": tuple, "py:max": max, "py:min": min,
    "attr:T": lambda x: x.T, "attr:real": lambda x: x.real, "method:copy": lambda x: x.copy(),
    "attr:imag": lambda x: x.imag, "method:conjugate": lambda x: x.conjugate(), "method:conj": lambda x: x.conj(),
    "getitem": lambda x, index: x[index],
    "np.r_": lambda *items: np.r_[items], "np.c_": lambda *items: np.c_[items],   # (index expressions)
}


def find_rule(fn_or_op: Any) -> Rule:
    rule = lookup(fn_or_op) if isinstance(fn_or_op, str) else lookup_object(fn_or_op)
    if rule is None:
        raise LookupError(f"no rule registered for {fn_or_op!r}")
    return rule


def primal(fn_or_op: Any) -> Callable[..., Any]:
    return OPERATORS[fn_or_op] if isinstance(fn_or_op, str) else fn_or_op


def is_differentiable_value(v: Any) -> bool:
    """Values that carry a derivative: floats, float arrays, and lists of them."""
    if isinstance(v, (bool, np.bool_)):
        return False
    if isinstance(v, np.ndarray):
        return v.dtype.kind in "fc"
    if isinstance(v, (float, complex, np.floating)):
        return True
    if isinstance(v, (list, tuple)):
        return any(is_differentiable_value(x) for x in v)
    return False


def _ir_arg(v: Any, name: str, values: dict[str, Any]) -> Expr:
    """A Name for an array/float/list-of-them argument (or a tuple holding an array, such
    as an index), a Const for options."""
    if isinstance(v, np.ndarray) or is_differentiable_value(v) \
            or (isinstance(v, tuple) and any(isinstance(x, np.ndarray) for x in v)):
        values[name] = v
        return Name(name)
    return Const(v)


def bind(fn_or_op: Any, args: tuple, kwargs: dict) -> tuple[Rule, dict[str, Any], dict[str, Any]]:
    """Bind concrete arguments: (rule, bound IR args, values of the Names)."""
    rule = for_values(find_rule(fn_or_op), args, kwargs)
    values: dict[str, Any] = {}
    n = len(rule.params)
    ir_args = tuple(_ir_arg(v, rule.params[i] if i < n else f"{rule.varargs}{i - n}", values)
                    for i, v in enumerate(args))
    ir_kwargs = tuple((k, _ir_arg(v, k, values)) for k, v in kwargs.items())
    return rule, rule.bind(ir_args, ir_kwargs), values


def for_values(rule: Rule, args: tuple, kwargs: dict) -> Rule:
    """The rule the passes apply to these concrete arguments: its complex variant
    (rules/complex.py) where an argument is complex."""
    if any(np.iscomplexobj(v) for v in _leaves(list(args) + list(kwargs.values()))
           if isinstance(v, (np.ndarray, complex, np.complexfloating))):
        from .complex import complex_rule
        variant = complex_rule(rule)
        assert variant is not None, f"{rule.op} is refused for complex values"
        return variant
    return rule


def _simplify(e: Expr) -> Expr:
    """`(a, b)[1]` -> `b`: how `operands[i]` reads once the tuple is substituted."""
    def fold(n: Expr) -> Expr | None:
        if isinstance(n, Call) and n.op == "getitem" and isinstance(n.args[0], Call) \
                and n.args[0].op == "tuple" and isinstance(n.args[1], Const) \
                and isinstance(n.args[1].value, int):
            return n.args[0].args[n.args[1].value]
        return None
    return map_expr(e, fold)


def render(template: str, bound: dict[str, Any]) -> str:
    """The template with the bound arguments substituted, printed as source."""
    env = {k: (Call("tuple", v) if isinstance(v, tuple) else v) for k, v in bound.items()}
    return printer.expr(_simplify(substitute(parse_template(template), env)))


def rendered_templates(fn_or_op: Any, args: tuple, kwargs: dict | None = None) -> dict[str, Any]:
    """param -> printed adjoint expression (a list for *varargs params)."""
    rule, bound, _ = bind(fn_or_op, args, kwargs or {})
    out: dict[str, Any] = {}
    for p, t in rule.templates_for(bound).items():
        if isinstance(t, list):
            out[p] = [None if x is None else render(x, bound) for x in t]
        elif t is not None:
            out[p] = render(t, bound)
    return out


def namespace() -> dict[str, Any]:
    """What generated code sees: np, math and the public names of adjointc.runtime."""
    ns = {k: v for k, v in vars(runtime).items() if not k.startswith("_")}
    ns.update(np=np, math=math)
    return ns


def eval_rule(fn_or_op: Any, args: tuple, kwargs: dict | None, g: Any, *,
              ans: Any = None) -> dict[str, Any]:
    """Evaluate a rule's adjoints for concrete arguments and output adjoint `g`.

    Returns param -> adjoint value (a list, one per operand, for *varargs).
    Parameters whose argument is a constant (an int option, a string, None)
    get no entry; neither do parameters without a template."""
    kwargs = kwargs or {}
    rule, bound, values = bind(fn_or_op, args, kwargs)
    if ans is None:
        ans = primal(fn_or_op)(*args, **kwargs)
    ns = namespace()
    ns.update(values, g=g, ans=ans)
    out: dict[str, Any] = {}
    for p, t in rule.templates_for(bound).items():
        arg = bound.get(p)
        if isinstance(t, list):
            out[p] = [None if x is None or not isinstance(a, Name) else eval(render(x, bound), ns)
                      for x, a in zip(t, arg)]
        elif t is not None and isinstance(arg, Name):
            out[p] = eval(render(t, bound), ns)
    return out


# ------------------------------------------------------- the inner-product test
def _leaves(v: Any) -> list[Any]:
    if isinstance(v, (list, tuple)):
        return [x for e in v for x in _leaves(e)]
    return [v]


def _rebuild(v: Any, items: list) -> Any:
    """A list/tuple/namedtuple like `v` holding `items`."""
    return type(v)(*items) if hasattr(v, "_fields") else type(v)(items)


def _like(v: Any, rng: np.random.Generator) -> Any:
    """A random value with v's structure (floats stay floats)."""
    if isinstance(v, (list, tuple)):
        return _rebuild(v, [_like(e, rng) for e in v])
    if isinstance(v, np.ndarray):
        if v.dtype.kind == "c":
            return rng.standard_normal(v.shape) + 1j * rng.standard_normal(v.shape)
        return rng.standard_normal(v.shape) if v.dtype.kind == "f" else np.zeros(v.shape)
    if isinstance(v, (complex, np.complexfloating)):
        return complex(rng.standard_normal(), rng.standard_normal())
    return float(rng.standard_normal()) if is_differentiable_value(v) else 0.0


def _axpy(x: Any, t: float, u: Any) -> Any:
    """x + t * u over matching nested structures (non-float leaves unchanged)."""
    if isinstance(x, (list, tuple)):
        return _rebuild(x, [_axpy(a, t, b) for a, b in zip(x, u)])
    if isinstance(x, np.ndarray) and x.dtype.kind not in "fc":
        return x
    if not is_differentiable_value(x):
        return x
    y = x + t * u
    return float(y) if isinstance(x, float) and not isinstance(x, np.ndarray) else y


def vdot(a: Any, b: Any) -> float:
    """Sum of elementwise products over matching nested structures; for complex values
    Re(sum(a * b)), no conjugate: how a tangent and a cotangent pair in JAX's
    convention (rules/complex.py)."""
    if a is None or b is None:
        return 0.0
    if isinstance(a, (list, tuple)):
        return sum(vdot(x, y) for x, y in zip(a, b))
    if np.iscomplexobj(a) or np.iscomplexobj(b):
        return float(np.real(np.sum(np.asarray(a) * np.asarray(b))))
    return float(np.sum(np.asarray(a, dtype=float) * np.asarray(b, dtype=float)))


def _numbers(v: Any) -> np.ndarray:
    """v as a float array, or a complex one for complex values (never cast to real)."""
    return np.asarray(v, dtype=np.result_type(np.asarray(v).dtype, float))


def _check_shapes(adj: Any, x: Any, where: str) -> None:
    if isinstance(x, (list, tuple)) and isinstance(adj, np.ndarray):
        # An array adjoint for a list of numbers is fine (runtime.list_adjoint splits it).
        assert adj.shape == np.asarray(x).shape, \
            f"{where}: adjoint has shape {adj.shape}, the input list {np.asarray(x).shape}"
        return
    if isinstance(x, (list, tuple)):
        assert isinstance(adj, (list, tuple)) and len(adj) == len(x), \
            f"{where}: adjoint of a list must be a list of {len(x)} pieces, got {type(adj).__name__}"
        for i, (a, e) in enumerate(zip(adj, x)):
            _check_shapes(a, e, f"{where}[{i}]")
        return
    assert np.shape(adj) == np.shape(x), \
        f"{where}: adjoint has shape {np.shape(adj)}, the input {np.shape(x)}"


def check_vjp(fn_or_op: Any, args: tuple, kwargs: dict | None = None, *,
              seed: int = 0, h: float = 1e-4, rtol: float = 1e-6, atol: float = 1e-8,
              wrt: tuple[str, ...] | None = None) -> dict[str, float]:
    """Inner-product test of a rule against finite differences.

    For random directions u (one per differentiable argument) and a random
    cotangent v, compares <(f(x + h u) - f(x - h u)) / 2h, v> (a 4-point
    stencil, error O(h^4)) with <u, rule(v)>. Also checks every adjoint has its
    input's shape. Returns {"fd": ..., "rule": ...}; raises AssertionError."""
    kwargs = dict(kwargs or {})
    rng = np.random.default_rng(seed)
    f = primal(fn_or_op)
    rule, bound, _ = bind(fn_or_op, args, kwargs)
    assert not rule.nondiff, f"{rule.op} is marked nondiff"
    ans = f(*args, **kwargs)
    v = _like(ans, rng)
    adj = eval_rule(fn_or_op, args, kwargs, v, ans=ans)

    # Which arguments to perturb: positional slots and keywords with an adjoint.
    n = len(rule.params)
    slots: list[tuple[str, Any, Any, Any]] = [   # (label, key, value, adjoint)
        ((rule.params[k] if k < n else f"{rule.varargs}[{k - n}]") if isinstance(k, int) else k, k,
         args[k] if isinstance(k, int) else kwargs[k], a)
        for k, a in _differentiated(rule, args, kwargs, adj, wrt).items()]

    dirs = []
    for label, _, x, a in slots:
        _check_shapes(a, x, f"{rule.op}: adjoint of {label}")
        dirs.append(_like(x, rng))

    def along(t: float) -> Any:
        a2, k2 = list(args), dict(kwargs)
        for (_, key, x, _), u in zip(slots, dirs):
            if isinstance(key, int):
                a2[key] = _axpy(x, t, u)
            else:
                k2[key] = _axpy(x, t, u)
        return f(*a2, **k2)

    fd = (8 * (vdot(along(h), v) - vdot(along(-h), v))
          - (vdot(along(2 * h), v) - vdot(along(-2 * h), v))) / (12 * h)
    by_rule = sum(vdot(u, a) for u, (_, _, _, a) in zip(dirs, slots))
    assert abs(fd - by_rule) <= atol + rtol * max(abs(fd), abs(by_rule), 1.0), \
        f"{rule.op}: finite differences give {fd!r}, the rule {by_rule!r}\n" \
        + "\n".join(f"  {p}: {s}" for p, s in rendered_templates(fn_or_op, args, kwargs).items())
    return {"fd": fd, "rule": by_rule}


# ------------------------------------------------------- forward mode (JVP)
def eval_tangent(fn_or_op: Any, args: tuple, kwargs: dict | None, tangents: dict[Any, Any], *,
                 ans: Any = None) -> Any:
    """Evaluate a rule's tangent for concrete arguments: `tangents` maps an argument's
    position (int) or keyword (str) to its tangent (absent: a constant). Returns the
    output's tangent (None when no argument carries one)."""
    kwargs = kwargs or {}
    rule = for_values(find_rule(fn_or_op), args, kwargs)
    values: dict[str, Any] = {}
    n = len(rule.params)
    labels = [rule.params[i] if i < n else f"{rule.varargs}{i - n}" for i in range(len(args))]
    ir_args = tuple(_ir_arg(v, labels[i], values) for i, v in enumerate(args))
    ir_kwargs = tuple((k, _ir_arg(v, k, values)) for k, v in kwargs.items())
    dots: dict[str, str] = {}
    for key, t in tangents.items():
        name = labels[key] if isinstance(key, int) else key
        dots[name] = f"{name}__dot"
        values[dots[name]] = t
    call = Call(rule.op, ir_args, ir_kwargs)
    bound = rule.bind(ir_args, ir_kwargs)
    if ans is None:
        ans = primal(fn_or_op)(*args, **kwargs)
    e = rule.tangent(call, bound, lambda a: Name(dots[a.id]) if isinstance(a, Name) and a.id in dots else None,
                     Name("ans"))
    if e is None:
        return None
    ns = namespace()
    ns.update(values, ans=ans)
    return eval(printer.expr(e), ns)


def _differentiated(rule: Rule, args: tuple, kwargs: dict, adj: dict[str, Any],
                    wrt: tuple[str, ...] | None) -> dict[Any, Any]:
    """The arguments the VJP `adj` (eval_rule's) differentiates, narrowed by `wrt`:
    position (int) or keyword (str) -> that argument's adjoint."""
    n = len(rule.params)
    out: dict[Any, Any] = {}
    for i, x in enumerate(args):
        p = rule.params[i] if i < n else rule.varargs
        a = adj.get(p)
        if i >= n and a is not None:
            a = a[i - n]
        if a is not None and (wrt is None or p in wrt):
            out[i] = a
    out.update({k: adj[k] for k in kwargs if adj.get(k) is not None and (wrt is None or k in wrt)})
    assert out, f"{rule.op}: no differentiable argument in this case"
    return out


def check_transpose(fn_or_op: Any, args: tuple, kwargs: dict | None = None, *, seed: int = 0,
                    rtol: float = 1e-9, atol: float = 1e-12, wrt: tuple[str, ...] | None = None) -> None:
    """A rule's tangent and its VJP are transposes: < J u, v > == < u, J^T v > for random
    input directions u and a random output cotangent v, the tangent by `eval_tangent`,
    the adjoint by `eval_rule`, no finite differences (so a convention at a kink or a
    tie that finite differences cannot see must agree between the two modes)."""
    kwargs = dict(kwargs or {})
    rng = np.random.default_rng(seed)
    rule = find_rule(fn_or_op)
    assert not rule.nondiff, f"{rule.op} is marked nondiff"
    ans = primal(fn_or_op)(*args, **kwargs)
    v = _like(ans, rng)
    adj = _differentiated(rule, args, kwargs, eval_rule(fn_or_op, args, kwargs, v, ans=ans), wrt)
    dirs = {k: _like(args[k] if isinstance(k, int) else kwargs[k], rng) for k in adj}
    tangent = eval_tangent(fn_or_op, args, kwargs, dirs, ans=ans)
    forward = vdot(tangent, v)
    backward = sum(vdot(dirs[k], a) for k, a in adj.items())
    assert abs(forward - backward) <= atol + rtol * max(abs(forward), abs(backward), 1.0), \
        f"{rule.op}: <J u, v> = {forward!r} (tangent), <u, J^T v> = {backward!r} (VJP)"


def _eigenvectors_like(out: Any, ans: Any) -> Any:
    """eigh's eigenvectors are defined up to sign, and LAPACK's choice of sign can flip
    under a perturbation of 1e-4: each perturbed eigenvector takes the sign that
    agrees with the eigenvector at the point, the continuous branch the tangent is of."""
    w, v = out
    s = np.sign(np.sum(v * ans[1], axis=-2, keepdims=True))
    v = v * np.where(s == 0, 1.0, s)
    return type(out)(w, v) if hasattr(out, "_fields") else type(out)((w, v))


_GAUGE = {"np.linalg.eigh": _eigenvectors_like}   # (op -> its output in the point's gauge)


def check_jvp(fn_or_op: Any, args: tuple, kwargs: dict | None = None, *,
              seed: int = 0, h: float = 1e-4, rtol: float = 1e-6, atol: float = 1e-8,
              wrt: tuple[str, ...] | None = None) -> Any:
    """A rule's tangent against finite differences, elementwise: for random input
    directions u (one per differentiable argument), the tangent must equal
    (f(x + h u) - f(x - h u)) / 2h (a 4-point stencil) and have the output's shape.
    The arguments perturbed are those the VJP differentiates (`wrt` narrows them).
    Returns the tangent; raises AssertionError."""
    kwargs = dict(kwargs or {})
    rng = np.random.default_rng(seed)
    f = primal(fn_or_op)
    rule, bound, _ = bind(fn_or_op, args, kwargs)
    assert not rule.nondiff, f"{rule.op} is marked nondiff"
    ans = f(*args, **kwargs)
    keys = list(_differentiated(rule, args, kwargs, eval_rule(fn_or_op, args, kwargs, _like(ans, rng), ans=ans),
                                wrt))
    dirs = {k: _like(args[k] if isinstance(k, int) else kwargs[k], rng) for k in keys}
    tan = eval_tangent(fn_or_op, args, kwargs, dirs, ans=ans)
    assert tan is not None, f"{rule.op}: the tangent is zero, but the VJP is not"

    def along(t: float) -> Any:
        a2, k2 = list(args), dict(kwargs)
        for k, u in dirs.items():
            if isinstance(k, int):
                a2[k] = _axpy(a2[k], t, u)
            else:
                k2[k] = _axpy(k2[k], t, u)
        out = f(*a2, **k2)
        return _GAUGE[rule.op](out, ans) if rule.op in _GAUGE else out

    def fd_of(p2: Any, m2: Any, p1: Any, m1: Any) -> Any:
        if isinstance(p1, (list, tuple)):
            return _rebuild(p1, [fd_of(*z) for z in zip(p2, m2, p1, m1)])
        return (8 * (_numbers(p1) - _numbers(m1)) - (_numbers(p2) - _numbers(m2))) / (12 * h)
    fd = fd_of(along(2 * h), along(-2 * h), along(h), along(-h))

    def compare(t: Any, d: Any, where: str) -> None:
        if isinstance(d, (list, tuple)):
            assert isinstance(t, (list, tuple)) and len(t) == len(d), f"{where}: tangent is not a {type(d).__name__}"
            for i, (a, b) in enumerate(zip(t, d)):
                compare(a, b, f"{where}[{i}]")
            return
        assert np.shape(t) == np.shape(d), f"{where}: tangent has shape {np.shape(t)}, the output {np.shape(d)}"
        ok = np.abs(_numbers(t) - d) <= atol + rtol * np.maximum(np.abs(d), 1.0)
        assert np.all(ok), f"{where}: finite differences give {d!r}, the tangent {t!r}"
    compare(tan, fd, rule.op)
    return tan


# ------------------------------------------------------------- result types
def claimed_type(fn_or_op: Any, args: tuple, kwargs: dict | None = None) -> T.T | None:
    """The output type a rule claims for these arguments (None: not checkable here).

    Strings are interpreted as documented in the rules' `result=` keyword;
    "elementwise" broadcasts the differentiable inputs."""
    rule, bound, _ = bind(fn_or_op, args, kwargs or {})
    values = dict(zip(rule.params, args))
    values.update(kwargs or {})
    types: dict[str, Any] = {}
    for p, e in bound.items():
        if isinstance(e, tuple):
            types[p] = tuple(T.of_value(x) for x in args[len(rule.params):])
        else:
            types[p] = T.of_value(values[p] if p in values else e.value)
    res = rule.result
    if callable(res):
        return res(types, bound)
    if res == "float":
        return T.FLOAT
    if res == "same":
        return types[rule.params[0]]
    if res == "elementwise" and not rule.nondiff:
        ts = [types[p] for p in rule.differentiable_params]
        flat = [x for t in ts for x in (t if isinstance(t, tuple) else (t,))]
        return T.broadcast(*flat)
    if res == "reduce":
        t = types[rule.params[0]]
        axis, keep = bound.get("axis"), bound.get("keepdims", Const(False))
        if t.kind != "array" or not isinstance(axis, Const) or not isinstance(keep, Const):
            return None
        if keep.value:
            return t
        n = t.rank if axis.value is None else (1 if np.ndim(axis.value) == 0 else len(axis.value))
        return T.array(t.rank - n) if t.rank - n else T.FLOAT
    return None
