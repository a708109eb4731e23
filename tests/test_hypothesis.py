"""Random straight-line scalar programs: adjointc's gradient w.r.t. every input
must match SymPy's exact derivative at the point.

Each program is written to a real .py file and imported, so adjointc reads its
source the ordinary way (inspect.getsource)."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

from adjointc import grad
from corpus import A, import_file, sympy_gradient

# Each template keeps its function inside its domain whatever the operand values:
# log/sqrt of (v*v + 1), division by (v*v + 1), powers of positive bases.
BINARY = ["{a} + {b}", "{a} - {b}", "{a} * {b}", "{a} / ({b} * {b} + 1.0)",
          "({a} * {a} + 1.0) ** {k}", "{a} ** 2 - {b}"]
UNARY = ["math.sin({a})", "math.exp({a})", "math.log({a} * {a} + 1.0)", "math.tanh({a})",
         "math.sqrt({a} * {a} + 1.0)", "-{a}", "{c} * {a}"]
EXPONENTS = ["2", "3", "0.5", "1.5", "2.5"]
CONSTANTS = ["0.5", "2.0", "-1.5", "3"]


@st.composite
def programs(draw):
    n_in = draw(st.integers(2, 3))
    inputs = [f"x{i}" for i in range(n_in)]
    live = list(inputs)
    fresh = itertools.count()
    lines = []
    for _ in range(draw(st.integers(3, 8))):
        # favour recent values so that programs build deep chains, not only shallow sums
        a = draw(st.sampled_from(live[-2:])) if draw(st.booleans()) else draw(st.sampled_from(live))
        b = draw(st.sampled_from(live))
        if draw(st.booleans()):
            template = draw(st.sampled_from(BINARY))
        else:
            template = draw(st.sampled_from(UNARY))
        expr = template.format(a=a, b=b, k=draw(st.sampled_from(EXPONENTS)), c=draw(st.sampled_from(CONSTANTS)))
        if draw(st.integers(0, 2)) == 0 or len(live) == n_in:
            target = f"v{next(fresh)}"       # a new local
        else:
            target = draw(st.sampled_from(live))  # reassign a local or an input
        if target not in live:
            live.append(target)
        lines.append(f"    {target} = {expr}")
    last = lines[-1].split("=")[0].strip()
    extra = draw(st.sampled_from(live))
    lines.append(f"    return {last} + 0.25 * {extra}")
    source = "import math\n\n\ndef prog({}):\n{}\n".format(", ".join(inputs), "\n".join(lines))
    point = tuple(draw(st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False)) for _ in inputs)
    return source, point


_counter = itertools.count()


@pytest.fixture(scope="module")
def program_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("hypothesis_programs")


def _load(directory, source: str):
    name = f"adjointc_hyp_prog_{next(_counter)}"
    path = directory / f"{name}.py"
    path.write_text(source)
    return import_file(path, name).prog


@settings(max_examples=60, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much,
                                 HealthCheck.too_slow])
@given(programs())
def test_random_program_gradient_matches_sympy(program_dir, program):
    source, point = program
    note(source)
    note(f"point = {point!r}")
    fn = _load(program_dir, source)
    try:
        value = fn(*point)
    except (OverflowError, ValueError, ZeroDivisionError):  # the program itself leaves its domain
        assume(False)
    assume(math.isfinite(value) and abs(value) < 1e8)
    names = tuple(f"x{i}" for i in range(len(point)))
    ref = sympy_gradient(fn, A(*point), names)
    assume(ref is not None and all(math.isfinite(r) and abs(r) < 1e10 for r in ref))
    got = grad(fn, wrt=tuple(range(len(point))))(*point)
    assert isinstance(got, tuple) and len(got) == len(point)
    for name, g, r in zip(names, got, ref):
        assert isinstance(g, float), f"d/d{name}: {type(g).__name__}"
        err = abs(g - r) / max(1.0, abs(r))
        assert err < 1e-8, f"d/d{name}: adjointc {g!r}, SymPy {r!r} (rel. err {err:.1e})\n{source}"


def test_generator_produces_valid_programs(tmp_path):
    """The strategy's programs run (sanity check of the test itself)."""
    source = "import math\n\n\ndef prog(x0, x1):\n    v0 = (x0 * x0 + 1.0) ** 1.5\n    x1 = math.log(x1 * x1 + 1.0)\n    v0 = v0 / (x1 * x1 + 1.0)\n    return v0 + 0.25 * x0\n"
    fn = _load(tmp_path, source)
    ref = sympy_gradient(fn, A(0.3, -1.2), ("x0", "x1"))
    got = grad(fn, wrt=(0, 1))(0.3, -1.2)
    np.testing.assert_allclose(got, ref, rtol=1e-10)
