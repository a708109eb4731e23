"""Whole programs (tests/corpus/calls.py): calls to user functions, closures and module
constants, methods and parameter structures, custom rules, located errors, NumPy breadth
inside programs, and a disk cache keyed by the whole call tree.

The per-case checks are those of tests/test_corpus.py, called on this corpus; the
SymPy check evaluates the helpers on symbols too (see `_symbolic`)."""
from __future__ import annotations

import copy
import dataclasses
import glob
import importlib
import inspect
import json
import math
import os
import subprocess
import sys
import types

import numpy as np
import pytest

import adjointc
import test_corpus as tc
from adjointc import NoAdjointRule, grad, value_and_grad
from corpus import MATH_SHIM, NUMPY_SHIM, A, Case, fd_gradient, sympy_gradient, wrt_names
from corpus import calls, helpers_mod

CASES: list[Case] = calls.CASES
SYMPY_CASES = [c for c in CASES if c.sympy]
TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)


# ------------------------------------------------------------ the corpus checks
def test_each_function_has_several_inputs():
    counts: dict = {}
    for c in CASES:
        counts[c.fn] = counts.get(c.fn, 0) + len(c.inputs)
    assert len(counts) >= 50
    assert all(n >= 2 for n in counts.values()), [f.__name__ for f, n in counts.items() if n < 2]
    for c in calls.STRUCT_CASES:
        assert len(c.inputs) >= 2, c.name


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.fn.__name__)
def test_generated_adjoint_has_no_dead_assignments(case: Case):
    tc.test_generated_adjoint_has_no_dead_assignments(case)


@pytest.mark.parametrize("case", tc._params("grad", CASES))
def test_gradient_matches_finite_differences(case: Case):
    tc.test_gradient_matches_finite_differences(case)


@pytest.mark.parametrize("case", tc._params("value", CASES))
def test_value_and_grad_returns_the_primal_value(case: Case):
    tc.test_value_and_grad_returns_the_primal_value(case)


@pytest.fixture
def joint_mode(monkeypatch):
    """No inlining: every call goes through the callee's own adjoint (a checkpoint)."""
    from adjointc.passes import inline
    monkeypatch.setattr(inline, "ENABLED", False)


@pytest.mark.parametrize("case", tc._params("grad", CASES))
def test_joint_mode_matches_finite_differences(case: Case, joint_mode):
    """The same corpus with small helpers called, not inlined (the path large,
    looping and recursive helpers always take)."""
    tc.test_gradient_matches_finite_differences(case)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.fn.__name__)
def test_joint_mode_has_no_dead_assignments(case: Case, joint_mode):
    tc.test_generated_adjoint_has_no_dead_assignments(case)


def _symbolic(fn: types.FunctionType, memo: dict | None = None) -> types.FunctionType:
    """A copy of `fn` evaluable on SymPy symbols: in its globals, and in those of every
    corpus function or corpus module it reaches, `np`/`math` are the SymPy shims."""
    memo = {} if memo is None else memo
    if id(fn) in memo:
        return memo[id(fn)]
    g: dict = {}
    out = types.FunctionType(fn.__code__, g, fn.__name__, fn.__defaults__, fn.__closure__)
    out.__kwdefaults__ = fn.__kwdefaults__
    memo[id(fn)] = out
    for k, v in fn.__globals__.items():
        if v is np:
            g[k] = NUMPY_SHIM
        elif v is math:
            g[k] = MATH_SHIM
        elif isinstance(v, types.FunctionType) and v.__module__.startswith("corpus"):
            g[k] = _symbolic(v, memo)
        elif isinstance(v, types.ModuleType) and v.__name__.startswith("corpus."):
            g[k] = types.SimpleNamespace(**{n: _symbolic(f, memo) if isinstance(f, types.FunctionType)
                                            and f.__module__ == v.__name__ else f for n, f in vars(v).items()})
        else:
            g[k] = v
    return out


@pytest.mark.parametrize("case", tc._params("sympy", SYMPY_CASES))
def test_gradient_matches_sympy(case: Case):
    tc.test_gradient_matches_sympy(case, symbolic=_symbolic)


def test_sympy_reference_agrees_with_finite_differences():
    """The symbolic copies (helpers included) agree with finite differences: guards `_symbolic`."""
    for case in SYMPY_CASES:
        names, _ = wrt_names(case.fn, case.wrt)
        a = case.calls()[0]
        ref = sympy_gradient(_symbolic(case.fn), a, names)
        assert ref is not None, case.name
        assert tc._max_rel_err(ref, fd_gradient(case.fn, a, names)) < 1e-6, case.name


def test_small_helpers_are_inlined():
    """A helper without loops is spliced into the caller: no call in either sweep."""
    g = grad(calls.rk4_integrate, wrt=(0, 1))
    g(np.ones(3), 0.5)
    code = [line for line in g.source.splitlines() if not line.strip().startswith("#")]
    assert not any("rk4_step(" in line or "rk4_step_vjp" in line for line in code), g.source
    assert "(rk4_step)" in g.source  # its lines keep their numbers, marked with the helper's name


def test_looping_helpers_get_their_own_adjoints():
    """A helper with a loop is called from the backward sweep through its own adjoint
    (a checkpoint: its tape exists only while its own backward sweep runs)."""
    g = grad(calls.diffuse, wrt=(0, 1))
    g(np.ones(5), 0.2)
    assert "laplacian_vjp" not in g.source  # (laplacian is small: inlined)
    g = grad(calls.deep_loss, wrt=(0, 1))
    g(np.array([1.0, -0.5]), 1.3, np.array([0.2, 0.1]))
    assert "simulate_vjp(" in g.source


def test_joint_mode_calls_adjoints(joint_mode):
    g = grad(calls.rk4_integrate, wrt=(0, 1))
    g(np.ones(3), 0.5)
    assert "rk4_step_vjp" in g.source
    g = grad(calls.heat_with_bc_statement, wrt=(0, 1, 2))
    g(np.ones(5), 0.2, 0.3)
    assert "set_ends_returning_u(u, left, -left)" in g.source


# ------------------------------------------- module globals and closures in helpers
def test_changed_global_read_by_a_helper_changes_the_gradient(monkeypatch):
    g = grad(calls.integrate_with_constant, wrt=(0, 1))
    y0, k = np.array([0.3, -1.2, 0.8]), 0.7
    first = g(y0, k)
    monkeypatch.setattr(calls, "DT", 0.05)
    second = g(y0, k)
    assert not np.allclose(second[0], first[0])
    ref = fd_gradient(calls.integrate_with_constant, A(y0, k), ("y0", "k"))
    for got, r in zip(second, ref):
        assert tc._max_rel_err(got, r) < 1e-6


def test_changed_global_of_another_module_changes_the_gradient(monkeypatch):
    g = grad(calls.uses_global_read_in_other_module)
    y = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(g(y), -2.0 * helpers_mod.RATE * y, rtol=1e-12)
    monkeypatch.setattr(helpers_mod, "RATE", 3.0)
    np.testing.assert_allclose(g(y), -6.0 * y, rtol=1e-12)


def test_closures_from_one_factory_differ():
    a = grad(calls.decay_fast)(1.0, 5)
    b = grad(calls.decay_slow)(1.0, 5)
    assert abs(a - b) > 1e-3
    fresh = calls.make_decay(0.5)
    assert grad(fresh)(1.0, 5) == pytest.approx(b, rel=1e-12)


def test_non_differentiable_functions_give_exact_zeros():
    for x in (np.array([0.3, -1.7, 2.2]), np.array([-0.6, 1.3, 0.1, 4.5], dtype=np.float32)):
        g = grad(calls.only_nondiff)(x)
        assert g.dtype == x.dtype and g.shape == x.shape and not np.any(g)


def test_vjp_through_imported_helpers():
    y, k = np.array([0.4, -1.0, 2.0]), 0.7
    value, pull = adjointc.vjp(helpers_mod.euler_step, y, k, wrt=(0, 1))
    np.testing.assert_allclose(value, helpers_mod.euler_step(y, k), rtol=1e-15)
    ct = np.array([1.0, -2.0, 0.5])
    gy, gk = pull(ct)
    np.testing.assert_allclose(gy, ct * (1.0 + 0.1 * (-k + 0.3 * np.cos(y))), rtol=1e-12)
    assert gk == pytest.approx(float(np.sum(ct * 0.1 * -y)), rel=1e-12)


# ------------------------------------------------- structures as the wrt input
def _fields(x) -> dict | None:
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {f.name: getattr(x, f.name) for f in dataclasses.fields(x)}
    if isinstance(x, dict):
        return dict(x)
    if isinstance(x, (tuple, list)):
        return dict(enumerate(x))
    if hasattr(x, "__dict__") and not isinstance(x, (type, types.ModuleType)):
        return {k: v for k, v in vars(x).items() if not k.startswith("_")}
    return None


def _is_leaf(x) -> bool:
    return isinstance(x, float) or (isinstance(x, np.ndarray) and x.dtype.kind == "f")


def _compare(g, x, path=()) -> list:
    """Assert g has x's structure (type, keys/fields, non-differentiable fields copied);
    return [(path, gradient leaf, input leaf)] for every float/array leaf."""
    where = "params" + "".join(f"[{p!r}]" for p in path)
    if _is_leaf(x):
        tc._assert_like_input(g, x, where)
        return [(path, g, x)]
    fx = _fields(x)
    if fx is None:  # an int, a string...: copied unchanged
        assert type(g) is type(x) and g == x, f"{where}: non-differentiable {x!r} came back as {g!r}"
        return []
    assert type(g) is type(x), f"{where}: gradient is a {type(g).__name__}, input a {type(x).__name__}"
    fg = _fields(g)
    assert list(fg) == list(fx), f"{where}: fields {list(fg)} != {list(fx)}"
    return [leaf for k in fx for leaf in _compare(fg[k], fx[k], path + (k,))]


def _with(x, path, value):
    """A deep copy of structure x with the leaf at `path` replaced."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(x, (tuple, list)):
        items = [_with(v, rest, value) if i == head else copy.deepcopy(v) for i, v in enumerate(x)]
        return type(x)._make(items) if hasattr(type(x), "_make") else type(x)(items)
    if isinstance(x, dict):
        return {k: _with(v, rest, value) if k == head else copy.deepcopy(v) for k, v in x.items()}
    y = copy.deepcopy(x)
    setattr(y, head, _with(getattr(x, head), rest, value))
    return y


def _fd_leaf(fn, args, pos, path, leaf, rel_step=1e-6):
    def f(v):
        a = [copy.deepcopy(x) for x in args]
        a[pos] = _with(args[pos], path, v)
        return float(fn(*a))
    if isinstance(leaf, float):
        h = rel_step * max(1.0, abs(leaf))
        return (f(leaf + h) - f(leaf - h)) / (2 * h)
    out = np.zeros(leaf.shape)
    for idx in np.ndindex(leaf.shape):
        h = rel_step * max(1.0, abs(float(leaf[idx])))
        xp, xm = leaf.astype(np.float64), leaf.astype(np.float64)
        xp[idx] += h
        xm[idx] -= h
        out[idx] = (f(xp) - f(xm)) / (2 * h)
    return out


@pytest.mark.parametrize("case", tc._params("grad", calls.STRUCT_CASES))
def test_gradient_of_a_structure_has_its_structure(case: Case):
    """Each gradient has its input's structure; every leaf matches finite differences
    (one leaf perturbed at a time); the inputs are not modified."""
    names, single = wrt_names(case.fn, case.wrt)
    params = list(inspect.signature(case.fn).parameters)
    g = grad(case.fn, wrt=case.wrt)
    for a in case.calls():
        args = a.args
        before = copy.deepcopy(args)
        got = g(*args)
        got = (got,) if single else got
        assert isinstance(got, tuple) and len(got) == len(names), f"{case.name}: got {got!r}"
        for name, gv in zip(names, got):
            pos = params.index(name)
            for (_, x0, x1) in _compare(before[pos], args[pos]):  # the input is unchanged
                np.testing.assert_array_equal(x0, x1)
            leaves = _compare(gv, args[pos])  # the gradient has the input's structure
            assert leaves, f"{case.name}: no differentiable leaf in {name}"
            for path, gl, xl in leaves:
                ref = _fd_leaf(case.fn, args, pos, path, xl)
                err = tc._max_rel_err(gl, ref)
                assert err < case.rtol, \
                    f"{case.name}: d/d{name}{list(path)} = {gl!r}, finite differences {ref!r}"


def test_dataclass_gradient_copies_non_differentiable_fields():
    p = calls.Params(0.7, np.array([0.1, -0.4, 0.9]), n=3, label="fit")
    x = np.array([0.5, 1.5, -0.2])
    gp, gx = grad(calls.params_loss, wrt=("params", "x"))(p, x)
    assert isinstance(gp, calls.Params) and gp.n == 3 and gp.label == "fit"
    assert isinstance(gp.k, float) and gp.w.shape == (3,)
    ref = fd_gradient(calls.params_loss, A(p, x), ("x",))[0]
    assert tc._max_rel_err(gx, ref) < 1e-6
    spring = calls.Spring(2.0, 0.3, name="s")
    gs = grad(calls.object_loss)(spring, 0.4)
    assert type(gs) is calls.Spring and gs is not spring and gs.name == "s" and spring.k == 2.0


def test_value_and_grad_with_a_dict():
    p = {"a": 0.5, "b": np.array([0.1, 0.2]), "c": -1.0, "w": np.array([1.0, 2.0])}
    x = np.array([0.3, -0.7])
    v, gp = value_and_grad(calls.dict_loss)(p, x)
    assert v == pytest.approx(calls.dict_loss(p, x), rel=1e-12)
    assert isinstance(gp, dict) and list(gp) == ["a", "b", "c", "w"]
    np.testing.assert_allclose(gp["w"], p["c"] * x, rtol=1e-12)


# ------------------------------------------------------------------ custom rules
def test_registered_rule_for_scipy_special_is_inlined():
    g = grad(calls.besseli0_loss)
    x = np.array([0.3, -1.1, 2.0])
    got = g(x)
    assert "special.i1(" in g.source and "special.i0(" in g.source
    np.testing.assert_allclose(got, calls.special.i0(x) + x * calls.special.i1(x), rtol=1e-12)


def test_user_rule_is_inlined_and_takes_precedence(monkeypatch):
    g = grad(calls.solve_loss, wrt=(0, 1))
    A_ = np.array([[3.0, 0.5, 0.1], [0.2, 2.0, -0.3], [0.0, 0.4, 1.5]])
    b = np.array([1.0, -0.5, 0.25])
    g(A_, b)
    src = g.source
    assert "-np.outer(np.linalg.solve(A.T, " in src and "np.linalg.solve(A.T, " in src
    assert "my_solve(A, b)" in src and "my_solve_vjp" not in src  # not transformed: the rule is used
    # without the rule, the body (scipy.linalg LU routines, no rules) could not be differentiated
    from adjointc import rules
    rule = rules.BY_OBJECT[id(calls.my_solve)]
    monkeypatch.delitem(rules.BY_OBJECT, id(calls.my_solve))
    monkeypatch.delitem(rules.REGISTRY, rule.op)
    with pytest.raises(NoAdjointRule):
        grad(calls.solve_loss, wrt=(0, 1))(A_, b)


def test_nondiff_call_is_a_constant():
    g = grad(calls.noisy_loss, wrt=(0, 1))
    for x, w in ((np.array([0.3, -1.0, 0.7]), np.array([1.5, 0.5, -2.0])),
                 (np.array([2.0, 0.1]), np.array([-0.3, 0.9]))):
        got = g(x, w)
        noise = calls._jitter(x)
        ref = fd_gradient(calls.noisy_loss_frozen, A(x, w, noise), ("x", "w"))
        for gv, rv in zip(got, ref):
            assert tc._max_rel_err(gv, rv) < 1e-6
        # the jitter does depend on x: differentiating through it would give another answer
        full = fd_gradient(calls.noisy_loss, A(x, w), ("x",))[0]
        assert tc._max_rel_err(got[0], full) > 1e-3
        # the same inside a helper: d/dx sum((2x + c)^2) = 4 (2x + c) with c = jitter(2x) held fixed
        np.testing.assert_allclose(grad(calls.nondiff_inside_helper)(x), 4.0 * (2.0 * x + calls._jitter(2.0 * x)),
                                   rtol=1e-12)


def test_print_and_diagnostic_inside_a_differentiated_function(capsys):
    x = np.array([0.2, -0.8, 1.1])
    got = grad(calls.loss_with_diagnostics)(x, 1.3)
    assert "calls.loss_with_diagnostics: peak" in capsys.readouterr().out
    ref = fd_gradient(calls.loss_with_diagnostics, A(x, 1.3), ("x",))[0]
    assert tc._max_rel_err(got, ref) < 1e-6


# ----------------------------------------------------------------------- errors
@pytest.mark.parametrize("fn,args,error,where", [pytest.param(*c, id=c[0].__name__) for c in calls.ERROR_CASES])
def test_error_names_file_and_line(fn, args, error, where):
    with pytest.raises(adjointc.AdjointcError) as info:
        grad(fn)(*args)
    err = info.value
    assert isinstance(err, error), f"expected {error.__name__}, got {type(err).__name__}: {err}"
    message = str(err)
    expected = f"{os.path.basename(inspect.getsourcefile(where))}:{tc._expected_line(where)}:"
    assert expected in message, f"expected {expected!r} in the message:\n{message}"
    assert any(line.startswith("hint:") for line in message.splitlines()), message
    if error is NoAdjointRule:
        assert "adjointc.defvjp" in message, message


@pytest.mark.parametrize("fn,args,error,where", [pytest.param(*c, id=c[0].__name__) for c in calls.ERROR_CASES])
def test_joint_mode_errors_name_file_and_line(fn, args, error, where, joint_mode):
    test_error_names_file_and_line(fn, args, error, where)


# ----------------------------------------------------- the cache covers the call tree
CALLER = '''
import numpy as np
from {helper} import damping

def acall_loss(u0, c):
    u = u0.copy()
    for _ in range(4):
        u = u - damping(u, c)
    return np.sum(u * u)
'''
HELPER = '''
def damping(u, c):
    return {factor} * c * u * u
'''


def _import_fresh(tmp_path, tag: str, factor: float):
    """Write caller/helper modules with unique names into tmp_path and import them."""
    helper, caller = f"acall_helper_{tag}", f"acall_caller_{tag}"
    (tmp_path / f"{helper}.py").write_text(HELPER.format(factor=factor))
    (tmp_path / f"{caller}.py").write_text(CALLER.format(helper=helper))
    for name in (helper, caller):
        sys.modules.pop(name, None)
    importlib.invalidate_caches()
    return importlib.import_module(caller)


def _caller_entries() -> set:
    """The caller's adjoints in this session's disk cache (tests/conftest.py sets the directory)."""
    return set(glob.glob(os.path.join(os.environ["ADJOINTC_CACHE_DIR"], "acall_loss_grad-*.py")))


def test_cache_key_covers_an_edited_helper(tmp_path, monkeypatch):
    """A caller with the same source in a new module whose helper has another constant."""
    monkeypatch.syspath_prepend(str(tmp_path))
    u0, c = np.array([0.3, -0.5, 0.8]), 0.2
    first_mod = _import_fresh(tmp_path, "a", 0.1)
    first = grad(first_mod.acall_loss, wrt=(0, 1))(u0, c)
    before, entries = adjointc.api.stats()["transforms"], _caller_entries()
    second_mod = _import_fresh(tmp_path, "b", 0.3)
    second = grad(second_mod.acall_loss, wrt=(0, 1))(u0, c)
    assert adjointc.api.stats()["transforms"] >= before + 1  # the caller (the helper is inlined)
    assert len(_caller_entries() - entries) == 1
    assert not np.allclose(second[0], first[0])
    for mod, got in ((first_mod, first), (second_mod, second)):
        ref = fd_gradient(mod.acall_loss, A(u0, c), ("u0", "c"))
        for gv, rv in zip(got, ref):
            assert tc._max_rel_err(gv, rv) < 1e-6


def test_cache_key_covers_a_reloaded_helper(tmp_path, monkeypatch):
    """Edit the helper's file and reload it (the caller module keeps its own source)."""
    monkeypatch.syspath_prepend(str(tmp_path))
    u0, c = np.array([0.3, -0.5, 0.8]), 0.2
    caller = _import_fresh(tmp_path, "r", 0.1)
    helper = sys.modules["acall_helper_r"]
    first = grad(caller.acall_loss, wrt=(0, 1))(u0, c)
    again = grad(caller.acall_loss, wrt=(0, 1))
    before, entries = adjointc.api.stats()["transforms"], _caller_entries()
    assert again(u0, c)[1] == first[1] and adjointc.api.stats()["transforms"] == before  # from disk
    (tmp_path / "acall_helper_r.py").write_text(HELPER.format(factor=0.25))
    importlib.reload(helper)
    caller = importlib.reload(caller)  # the caller's source is unchanged
    second = grad(caller.acall_loss, wrt=(0, 1))(u0, c)
    assert adjointc.api.stats()["transforms"] >= before + 1  # the caller (the helper is inlined)
    assert len(_caller_entries() - entries) == 1
    ref = fd_gradient(caller.acall_loss, A(u0, c), ("u0", "c"))
    assert not np.allclose(second[0], first[0])
    for gv, rv in zip(second, ref):
        assert tc._max_rel_err(gv, rv) < 1e-6


CHILD = '''
import json
import numpy as np
import adjointc
from corpus import calls
g = adjointc.grad(calls.deep_loss, wrt=(0, 1))
ds, domega = g(np.array([1.0, -0.5]), 1.3, np.array([0.2, 0.1]))
print(json.dumps({"transforms": adjointc.api.stats()["transforms"],
                  "grad": [float(v) for v in ds] + [float(domega)]}))
'''


def _child(cache_dir) -> dict:
    env = dict(os.environ, ADJOINTC_CACHE_DIR=str(cache_dir),
               PYTHONPATH=os.pathsep.join([TESTS, ROOT, os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env,
                         timeout=120, cwd=str(cache_dir))
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_second_process_loads_the_call_tree_from_disk(tmp_path):
    first = _child(tmp_path)
    assert first["transforms"] >= 2  # deep_loss and simulate (which loops); its helpers are inlined
    second = _child(tmp_path)
    assert second["transforms"] == 0
    assert second["grad"] == first["grad"]
