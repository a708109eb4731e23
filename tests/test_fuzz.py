"""The differential fuzzer's fast CI profile (tests/fuzz): a fixed-seed sample of
random whole programs, each differentiated by adjointc and checked against
central finite differences at two step sizes (SymPy too when scalar and
straight-line), a third of them to second order too (oracle._judge_second). Any
wrong gradient, wrong value, changed input or crash (an exception that is not an
AdjointcError) fails; refusals are fine.

The families drawn are tests/fuzz/profiles.py's CI set: everything except the
families that hit a known, unfixed bug (listed there, one line each). The long
profile (``PYTHONPATH=. python -m tests.fuzz --programs 20000 --seed 1``) draws
them all. On failure hypothesis shrinks the program and prints it (``note``)."""
from __future__ import annotations

import math
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, event, given, note, settings

import adjointc
from fuzz import oracle
from fuzz.generator import ALL, SCALAR_STRAIGHT, Program, programs
from fuzz.oracle import judge, load, primal
from fuzz.profiles import CI
from fuzz.shrink import shrink

# Generate only: hypothesis' shrinker is slow on whole programs (minutes); the
# fuzzer's own line shrinker reports the minimal failing program in seconds.
CI_SETTINGS = dict(derandomize=True, database=None, deadline=None, phases=[Phase.generate],
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _check(program: Program) -> None:
    note(program.source)
    crc = zlib.crc32(program.source.encode())
    # second order (the HVP; grad of grad vs SymPy) on every third program: it compiles
    # the gradient's tangent too, and the long profile judges it on every program
    out = judge(program, seed=crc, points=2, second=crc % 3 == 0)
    event(out.kind if out.kind != "refused" else f"refused: {out.detail}")
    if out.failed:
        small, small_out = shrink(program, out)
        pytest.fail(f"{out.kind.upper()}: {small_out.detail}\n{small_out.message}\npoint = {out.point!r}\n"
                    f"minimal program:\n{small.source}\n(original program above)", pytrace=False)


@settings(max_examples=300, **CI_SETTINGS)
@given(programs(CI))
def test_random_programs_ci_profile(program):
    _check(program)


@settings(max_examples=100, **CI_SETTINGS)
@given(programs(SCALAR_STRAIGHT.replace(self_assign=CI.self_assign, copies=CI.copies)))
def test_random_scalar_straight_line_programs_vs_sympy(program):
    assert "sympy" in program.tags
    _check(program)


# ------------------------------------------------------- the fuzzer's own parts
@settings(max_examples=150, **CI_SETTINGS)
@given(programs(ALL))
def test_generated_programs_run_and_return_a_float(program):
    """The generator's contract: every program (all families) runs at random inputs
    without an exception and returns a finite float; no adjointc involved."""
    note(program.source)
    fn = load(program.source)
    rng = np.random.default_rng(0)
    for _ in range(3):
        with np.errstate(all="ignore"):
            v = fn(*oracle.draw_point(program, rng))
        assert isinstance(v, (float, np.floating)) and math.isfinite(v), repr(v)


SRC = """import math

import numpy as np


def prog(a, x):
    s = a * 2.0
    u = np.sin(x)
    t = s * s
    return s + np.sum(u * x)
"""
PROGRAM = Program(SRC, [("a", "f"), ("x", ("a", 4))], 4)


def _fake(result=None, exc=None, mutate=False):
    """A stand-in for adjointc.grad / value_and_grad with a chosen behaviour."""
    def make(fn, wrt=None):
        def g(*args):
            if exc is not None:
                raise exc
            if mutate:
                args[1][0] += 1.0
            exact = (2.0, np.sin(args[1]) + args[1] * np.cos(args[1]))
            return exact if result is None else result(args)
        return g

    def make_vg(fn, wrt=None):
        g = make(fn, wrt)
        return lambda *args: (fn(*[np.copy(a) for a in args]), g(*args))
    return make, make_vg


@pytest.mark.parametrize("behaviour, kind", [
    (dict(), "ok"),
    (dict(result=lambda a: (2.0, np.cos(a[1]))), "wrong"),
    (dict(result=lambda a: (2.000001, np.sin(a[1]) + a[1] * np.cos(a[1]))), "ok"),   # within tolerance
    (dict(result=lambda a: (2.01, np.sin(a[1]) + a[1] * np.cos(a[1]))), "wrong"),
    (dict(result=lambda a: (2.0,)), "wrong"),
    (dict(exc=adjointc.UnsupportedSyntax("no")), "refused"),
    (dict(exc=IndexError("pop from empty list")), "crash"),
    (dict(mutate=True), "mutated"),
])
def test_oracle_classifies_outcomes(monkeypatch, behaviour, kind):
    grad, vg = _fake(**behaviour)
    monkeypatch.setattr(adjointc, "grad", grad)
    monkeypatch.setattr(adjointc, "value_and_grad", vg)
    out = judge(PROGRAM, seed=3)
    assert out.kind == kind, out
    if kind == "refused":
        assert out.detail == "UnsupportedSyntax"
    if kind == "crash":
        assert out.detail.startswith("IndexError in")


def test_oracle_on_the_real_compiler_and_a_wrong_value(monkeypatch):
    assert judge(PROGRAM, seed=1).kind == "ok"
    real = adjointc.value_and_grad
    monkeypatch.setattr(adjointc, "value_and_grad",
                        lambda fn, wrt=None: (lambda *a: (lambda v, g: (v + 1.0, g))(*real(fn, wrt=wrt)(*a))))
    assert judge(PROGRAM, seed=1).kind == "value"


def test_two_step_sizes_reject_points_at_a_branch_switch():
    """At a jump of f the two finite-difference steps disagree: the point is not
    used (no false alarm), whatever adjointc says."""
    src = SRC.replace("    s = a * 2.0\n", "    s = a * 2.0\n    if a > 0.3:\n        s = s + 1.0\n")
    p = Program(src, PROGRAM.params, 4)
    fn = load(p.source)
    x = np.array([0.1, 0.2, 0.3, 0.4])
    assert oracle.reference(fn, (0.3 + 1e-6, x)) is None          # switch inside both steps
    assert oracle.reference(fn, (0.9, x)) is not None
    out = judge(p, at=[(0.3 + 1e-6, x)], points=1)
    assert out.kind == "skipped"


def test_shrinker_keeps_the_failure_and_drops_the_rest(monkeypatch):
    """With a compiler that is wrong exactly when `np.cos` is in the program, the
    shrinker reduces a longer program to the lines needed for the failure."""
    src = """import math

import numpy as np


def h0(p1):
    return p1 * 2.0


def prog(a, x):
    s = a * 2.0
    if a > 5.0:
        s = s + 1.0
        u = np.cos(x)
        s = s + np.sum(u)
    for i in range(2):
        s = s + 0.5
    return s + np.sum(x) + h0(a)
"""
    real = adjointc.grad

    def grad(fn, wrt=None):
        import inspect
        g = real(fn, wrt=wrt)
        if "np.cos" not in inspect.getsource(fn):
            return g
        return lambda *args: tuple(v * 0.0 for v in g(*args))
    monkeypatch.setattr(adjointc, "grad", grad)
    p = Program(src, PROGRAM.params, 4)
    point = (0.5, np.array([0.1, 0.2, 0.3, 0.4]))
    out = judge(p, at=[point], points=1)
    assert out.kind == "wrong"
    small, small_out = shrink(p, out)
    assert small_out.kind == "wrong"
    body = small.source.split("def prog(a, x):\n")[1]
    assert "np.cos" in body and "range" not in body and "if " not in body, small.source
    assert len(body.splitlines()) <= 3, small.source
    assert math.isfinite(primal(load(small.source), point))
