"""Function values (adjointc/funcvals.py): user functions passed to helpers and to
the differentiated function itself, lambdas in each position, checked against
finite differences (and SymPy where scalar), through both inlining and the
callees' own adjoints (joint mode); the function values that cannot be resolved
when compiling are refused with a located error."""
from __future__ import annotations

import numpy as np
import pytest

import adjointc
from adjointc.passes import inline as inline_pass
from corpus import A, bind, call, copy_value, fd_gradient, sympy_gradient, wrt_names
from corpus import function_values as fv

CASES = fv.CASES + fv.TOP_LEVEL


def _check(case, a) -> None:
    g = adjointc.grad(case.fn, wrt=case.wrt)
    got = g(*copy_value(a.args), **copy_value(a.kwargs))
    names, single = wrt_names(case.fn, case.wrt)
    ref = fd_gradient(case.fn, a, names)
    got = (got,) if single else got
    for n, x, r in zip(names, got, ref):
        np.testing.assert_allclose(np.asarray(x, dtype=float), np.asarray(r, dtype=float),
                                   rtol=1e-5, atol=1e-6, err_msg=f"d/d{n} of {case.name}")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@pytest.mark.parametrize("inlining", [True, False], ids=["inlined", "joint"])
def test_against_finite_differences(case, inlining, monkeypatch):
    monkeypatch.setattr(inline_pass, "ENABLED", inlining)
    for a in case.calls():
        _check(case, a)


def test_helper_is_specialised_per_function_and_the_source_shows_it(monkeypatch):
    monkeypatch.setattr(inline_pass, "ENABLED", False)
    y = np.array([0.3, -0.2, 0.5])
    g = adjointc.grad(fv.two_functions_one_helper)
    g(y)
    src = g.source
    assert "rk4_step__lorenz(lorenz, y0, 0.01)" in src and "rk4_step__decay(decay, y0, 0.05)" in src
    assert "rk4_step__lorenz_vjp" in src and "integrate__decay_vjp" in src


def test_the_differentiated_function_is_specialised_per_function_value():
    g = adjointc.grad(fv.simulate, wrt=1)
    y = np.array([0.3, -0.2, 0.5])
    a, b = g(fv.lorenz, y), g(fv.decay, y)
    for f, got in ((fv.lorenz, a), (fv.decay, b)):
        ref = fd_gradient(fv.simulate, fv.A(f, y), ("y0",))[0]
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-7)
    assert not np.allclose(a, b)


def test_closures_of_one_def_are_told_apart():
    def make(k):
        def rhs(y):
            return -k * y
        return rhs
    g = adjointc.grad(fv.simulate, wrt=1)
    y = np.array([0.3, -0.2, 0.5])
    for k in (0.5, 2.0, 0.5):
        f = make(k)
        ref = fd_gradient(fv.simulate, fv.A(f, y), ("y0",))[0]
        np.testing.assert_allclose(g(f, y), ref, rtol=1e-5, atol=1e-7)


def test_wrt_a_function_argument_is_refused():
    with pytest.raises(adjointc.TypeMismatch, match="rhs: it is the function lorenz, a static argument"):
        adjointc.grad(fv.simulate, wrt=0)(fv.lorenz, np.ones(3))


def test_a_changed_function_value_source_changes_the_cache_key(tmp_path, monkeypatch):
    from corpus import import_file
    body = "import numpy as np\n\ndef rhs(y):\n    return {expr}\n\ndef sim(f, y0):\n    return np.sum(step(f, y0))\n\n" \
           "def step(f, y):\n    return y + 0.1 * f(y)\n\ndef caller(y0):\n    return np.sum(step(rhs, y0))\n"
    import os
    y = np.array([0.5, 1.5])
    path = tmp_path / "fv_cache_mod.py"
    path.write_text(body.format(expr="-y"))
    m = import_file(str(path), "_fv_cache_mod")
    first = (adjointc.grad(m.caller)(y), adjointc.grad(m.sim, wrt=1)(m.rhs, y))
    path.write_text(body.format(expr="np.sin(y) "))  # (same file and module: only rhs changed)
    os.utime(path, (1, 1))
    m = import_file(str(path), "_fv_cache_mod")  # (re-imported: the new source runs)
    second = (adjointc.grad(m.caller)(y), adjointc.grad(m.sim, wrt=1)(m.rhs, y))
    np.testing.assert_allclose(first[0], 0.9 * np.ones(2))
    np.testing.assert_allclose(first[1], 0.9 * np.ones(2))
    np.testing.assert_allclose(second[0], 1.0 + 0.1 * np.cos(y))
    np.testing.assert_allclose(second[1], 1.0 + 0.1 * np.cos(y))


def test_specialisation_key_covers_the_static_function_source():
    from adjointc import funcvals
    spec = funcvals.specialise(fv.rk4_step, {"rhs": fv.lorenz})
    src, _ = funcvals.reach(spec).key_parts()
    assert "def lorenz(y):" in src and "def rk4_step(rhs, y, dt):" in src
    assert funcvals.specialise(fv.rk4_step, {"rhs": fv.lorenz}) is spec
    assert funcvals.specialise(fv.rk4_step, {"rhs": fv.decay}) is not spec


def test_a_new_process_links_specialisations_and_lambdas_from_the_disk_cache(tmp_path):
    """A disk-cache hit lowers nothing: the specialised helpers and the lambdas passed as
    values are found again from their spellings (funcvals.resolve), in joint mode too."""
    import json
    import os
    import subprocess
    import sys
    here = os.path.dirname(os.path.abspath(__file__))
    code = (
        "import json, sys, numpy as np, adjointc\n"
        "from adjointc import api, cache\n"
        "from adjointc.passes import inline\n"
        "inline.ENABLED = sys.argv[1] == '1'\n"
        "from corpus import function_values as fv\n"
        "y = np.array([0.3, -0.2, 0.5])\n"
        "fs = [fv.lambda_inline_to_helper, fv.nested_def_to_helper, fv.lambda_to_helper,\n"
        "      fv.two_functions_one_helper, fv.forwards_through_a_nested_def]\n"
        "out = [adjointc.grad(f)(y).tolist() for f in fs]\n"
        "out.append(adjointc.grad(fv.simulate, wrt=1)(fv.lorenz, y).tolist())\n"
        "print(json.dumps([out, api.stats()['transforms'], cache.stats()['hits']]))\n")
    env = {**os.environ, "ADJOINTC_CACHE_DIR": str(tmp_path), "PYTHONPATH": os.pathsep.join(
        [os.path.dirname(here), here, os.environ.get("PYTHONPATH", "")])}
    y = np.array([0.3, -0.2, 0.5])
    refs = [fd_gradient(f, fv.A(y), ("y0",) if f is not fv.lambda_to_helper else ("y",))[0] for f in (
        fv.lambda_inline_to_helper, fv.nested_def_to_helper, fv.lambda_to_helper, fv.two_functions_one_helper,
        fv.forwards_through_a_nested_def)] + [fd_gradient(fv.simulate, fv.A(fv.lorenz, y), ("y0",))[0]]
    for mode in ("0", "1"):
        runs = [json.loads(subprocess.run([sys.executable, "-c", code, mode], env=env, capture_output=True,
                                          text=True, check=True).stdout) for _ in range(2)]
        assert runs[0][1] > 0 and runs[1][1] == 0 and runs[1][2] > 0  # (the second: all from the cache)
        for out, _, _ in runs:
            for got, ref in zip(out, refs):
                np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-7)


def _decay_rhs(y):
    return -0.5 * y


def _simulate_with_aux(f, y0):
    y = y0
    for _ in range(3):
        y = y + 0.1 * f(y)
    return np.sum(y * y), y


@pytest.mark.parametrize("y0", [np.array([1.0, 2.0]), np.array([-0.3, 0.7, 1.5])])
def test_has_aux_and_value_and_grad_survive_the_specialisation_on_a_function(y0):
    # (the specialised Gradient once lost has_aux: its adjoint seeded the (value, aux) pair)
    end = y0 * 0.95 ** 3
    g, aux = adjointc.grad(_simulate_with_aux, wrt=1, has_aux=True)(_decay_rhs, y0)
    fd = fd_gradient(lambda v: _simulate_with_aux(_decay_rhs, v)[0], A(y0), ["v"])[0]
    np.testing.assert_allclose(g, fd, rtol=1e-6)
    np.testing.assert_allclose(g, 2 * end * 0.95 ** 3, rtol=1e-13)
    np.testing.assert_allclose(aux, end, rtol=1e-13)
    (value, aux2), g2 = adjointc.value_and_grad(_simulate_with_aux, wrt=1, has_aux=True)(_decay_rhs, y0)
    assert value == pytest.approx(np.sum(end * end), rel=1e-13)
    np.testing.assert_allclose(aux2, end, rtol=1e-13)
    np.testing.assert_allclose(g2, g, rtol=1e-14)
    v3, g3 = adjointc.value_and_grad(_simulate_with_aux, wrt=1, has_aux=True)(_decay_rhs, y0)
    assert v3[0] == value
