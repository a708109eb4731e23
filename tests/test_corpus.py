"""End-to-end corpus: every function in tests/corpus/ is differentiated by adjointc
and compared with central finite differences (and SymPy for scalar
code); unsupported constructs must fail with a located, hinted AdjointcError."""
from __future__ import annotations

import collections
import importlib
import inspect
import os

import numpy as np
import pytest

import adjointc

from adjointc import AdjointcError, NoAdjointRule, UnsupportedSyntax, grad, value_and_grad
from corpus import A, Case, bind, call, copy_value, fd_gradient, sympy_gradient, wrt_names

MODULES = ("straight_line", "numpy_ops", "numpy_more", "loops", "branches", "inplace", "edge_cases",
           "entry_points", "fuzz_found", "function_values", "containers", "everyday", "spectral", "pipe")
CASES: list[Case] = [c for m in MODULES for c in importlib.import_module(f"corpus.{m}").CASES]
UNSUPPORTED = importlib.import_module("corpus.unsupported").CASES


def _ids(cases: list[Case]) -> list[str]:
    counts = collections.Counter(c.name for c in cases)
    out = []
    for c in cases:
        names, _ = wrt_names(c.fn, c.wrt)
        out.append(c.name if counts[c.name] == 1 else f"{c.name}[wrt={','.join(names)}]")
    seen = collections.Counter(out)
    taken: collections.Counter = collections.Counter()
    for k, i in enumerate(out):
        if seen[i] > 1:
            taken[i] += 1
            out[k] = f"{i}#{taken[i]}"
    return out


def _params(kind: str, cases: list[Case]) -> list:
    return [pytest.param(c, id=i, marks=[pytest.mark.xfail(strict=True, reason=c.bugs[kind])]
                         if kind in c.bugs else [])
            for c, i in zip(cases, _ids(cases))]


def _max_rel_err(got, ref) -> float:
    got, ref = np.asarray(got, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(ref))) if ref.size else 1.0)
    return float(np.max(np.abs(got - ref))) / scale if ref.size else 0.0


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype \
            and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and (a == b or (a != a and b != b))


def _assert_like_input(g, x, name: str) -> None:
    """The gradient w.r.t. `x` has x's type: float for a float, same shape/dtype for an array."""
    if isinstance(x, np.ndarray):
        assert isinstance(g, np.ndarray), f"d/d{name}: expected an array, got {type(g).__name__}"
        assert g.shape == x.shape, f"d/d{name}: shape {g.shape} != input shape {x.shape}"
        assert g.dtype == x.dtype, f"d/d{name}: dtype {g.dtype} != input dtype {x.dtype}"
    else:
        assert isinstance(g, float) and not isinstance(g, np.ndarray), \
            f"d/d{name}: expected a Python float, got {type(g).__name__}"


# ------------------------------------------------------------------ the corpus
def test_corpus_is_large_and_each_function_has_several_inputs():
    fns = collections.defaultdict(int)
    for c in CASES:
        fns[c.fn] += len(c.inputs)
    assert len(fns) >= 80, f"only {len(fns)} corpus functions"
    assert all(n >= 2 for n in fns.values()), [f.__name__ for f, n in fns.items() if n < 2]
    for c in CASES:  # corpus functions are real module-level (or factory-made) defs in .py files
        assert inspect.getsourcefile(inspect.unwrap(c.fn)).endswith(".py")  # (an lru_cache: its function)


@pytest.mark.parametrize("case", _params("grad", CASES))
def test_gradient_matches_finite_differences(case: Case):
    names, single = wrt_names(case.fn, case.wrt)
    g = grad(case.fn, wrt=case.wrt)
    for a in case.calls():
        snapshot = (copy_value(a.args), copy_value(a.kwargs))
        got = g(*a.args, **a.kwargs)
        assert _same(a.args, snapshot[0]) and _same(a.kwargs, snapshot[1]), \
            f"{case.name}{a}: the gradient call modified its inputs"
        got = (got,) if single else got
        assert isinstance(got, tuple) and len(got) == len(names), f"{case.name}{a}: got {got!r}"
        ref = fd_gradient(case.fn, a, names)
        point = bind(case.fn, a).arguments
        for name, gv, rv in zip(names, got, ref):
            _assert_like_input(gv, point[name], name)
            err = _max_rel_err(gv, rv)
            assert err < case.rtol, (f"{case.name}{a}: d/d{name} relative error {err:.2e} vs finite "
                                     f"differences\n  adjointc: {gv!r}\n  FD:       {rv!r}")


@pytest.mark.parametrize("case", _params("value", CASES))
def test_value_and_grad_returns_the_primal_value(case: Case):
    names, single = wrt_names(case.fn, case.wrt)
    vg = value_and_grad(case.fn, wrt=case.wrt)
    for a in case.calls():
        value, _ = vg(*a.args, **a.kwargs)
        ref = call(case.fn, a)
        assert value is not None and np.ndim(value) == 0, f"{case.name}{a}: value {value!r}"
        assert abs(float(value) - float(ref)) <= 1e-12 * max(1.0, abs(float(ref))), \
            f"{case.name}{a}: value {value!r} != f(*args) = {ref!r}"


SYMPY_CASES = [c for c in CASES if c.sympy]


@pytest.mark.parametrize("case", _params("sympy", SYMPY_CASES))
def test_gradient_matches_sympy(case: Case, symbolic=lambda fn: fn):
    """`symbolic`: what to evaluate on SymPy symbols (test_calls passes helpers too)."""
    names, single = wrt_names(case.fn, case.wrt)
    g = grad(case.fn, wrt=case.wrt)
    for a in case.calls():
        ref = sympy_gradient(symbolic(case.fn), a, names)
        assert ref is not None, f"{case.name}{a}: corpus error: not evaluable on SymPy symbols"
        got = g(*a.args, **a.kwargs)
        got = (got,) if single else got
        for name, gv, rv in zip(names, got, ref):
            err = abs(float(gv) - rv) / max(1.0, abs(rv))
            assert err < 1e-9, f"{case.name}{a}: d/d{name} = {gv!r}, SymPy says {rv!r} (rel. err {err:.1e})"


def test_sympy_helper_agrees_with_finite_differences():
    """The two references agree with each other (guards the test helpers themselves)."""
    for case in SYMPY_CASES:
        names, _ = wrt_names(case.fn, case.wrt)
        a = case.calls()[0]
        ref = sympy_gradient(case.fn, a, names)
        fd = fd_gradient(case.fn, a, names)
        assert ref is not None, case.name
        assert _max_rel_err(ref, fd) < 1e-6, (case.name, ref, fd)


def test_module_constants_and_closures_are_read_at_call_time(monkeypatch):
    """A changed module constant, or another closure from the same factory, is used
    by the already compiled gradient (nothing is baked into the cached adjoint)."""
    from corpus import straight_line as sl
    g = grad(sl.projectile, wrt=1)
    v, theta = 10.0, 0.4
    first = g(v, theta)
    monkeypatch.setattr(sl, "G", 2.0 * sl.G)
    second = g(v, theta)
    assert abs(second - first / 2.0) <= 1e-12 * abs(first)
    ref = fd_gradient(sl.projectile, A(v, theta), ("theta",))[0]
    assert abs(second - ref) <= 1e-6 * max(1.0, abs(ref))
    assert abs(grad(sl.make_scaled(7.0))(0.3) - (7.0 * np.cos(0.3) + 49.0)) < 1e-12


# ------------------------------------------------------- unsupported constructs
def _expected_line(fn) -> int:
    lines, first = inspect.getsourcelines(fn)
    marked = [i for i, line in enumerate(lines) if "# <- unsupported" in line]
    assert len(marked) == 1, f"{fn.__name__}: mark exactly one line with '# <- unsupported'"
    return first + marked[0]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.fn.__name__) for c in UNSUPPORTED])
def test_unsupported_construct_is_reported_with_location_and_hint(case):
    a = case.args if isinstance(case.args, A) else A(*case.args)
    snapshot = copy_value(a.args)
    with pytest.raises(AdjointcError) as info:
        grad(case.fn, wrt=case.wrt)(*a.args, **a.kwargs)
    err = info.value
    assert isinstance(err, (UnsupportedSyntax, NoAdjointRule)), type(err).__name__
    assert isinstance(err, case.error), f"expected {case.error.__name__}, got {type(err).__name__}: {err}"
    message = str(err)
    where = f"{os.path.basename(inspect.getsourcefile(case.fn))}:{_expected_line(case.fn)}:"
    assert where in message, f"expected {where!r} in the message:\n{message}"
    assert any(line.startswith("hint:") for line in message.splitlines()), f"no 'hint:' line in:\n{message}"
    assert _same(a.args, snapshot)


@pytest.mark.parametrize("case", _params("dead", CASES))  # "dead": a known bug leaves a dead statement
def test_generated_adjoint_has_no_dead_assignments(case):
    """Readable output: every name the generated adjoint assigns is read later."""
    from adjointc.frontend import lower
    from test_api import assert_no_dead_assignments
    a = case.inputs[0]
    args, kwargs = (a.args, a.kwargs) if hasattr(a, "kwargs") else (a, {})
    source = adjointc.grad(case.fn, wrt=case.wrt).source_for(*args, **kwargs)
    assert_no_dead_assignments(source, allowed=lower(case.fn).user_names)  # the user's own may be dead
