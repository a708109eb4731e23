"""Golden snapshots of generated adjoints: a readability regression fails a test.

For each case of tests/golden/programs.py the adjoint adjointc generates,
``grad(fn, wrt=...).source_for(*args)``, must equal the checked-in text
tests/golden/expected/<case>.py.txt exactly; the same test checks that
gradient against central finite differences on that input (and SymPy where
the function is scalar), so a snapshot is never the record of a wrong gradient.

The text is made machine-independent by one normalisation only: absolute
paths under the repository root (the header and docstring name the source
file) become paths relative to the root.

Regenerating the snapshots (deliberately, after a change that is meant to alter
the generated code; read the diff before committing it)::

    ADJOINTC_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py

rewrites every expected file whose text changed, reports which it rewrote (as a
warning per file, and a summary line at the end of the module), and passes.
Without the flag a mismatch fails with a unified diff against the expected file.
"""
from __future__ import annotations

import dataclasses
import difflib
import inspect
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from adjointc import grad, tangent
from corpus import A, fd_gradient, sympy_gradient, wrt_names
from golden.programs import CASES, TANGENT_CASES, GoldenCase

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = ROOT / "tests" / "golden" / "expected"
UPDATE = os.environ.get("ADJOINTC_UPDATE_GOLDEN", "") not in ("", "0")
_REWRITTEN: list[str] = []


def normalise(source: str) -> str:
    """The generated text with absolute paths under the repository root made relative."""
    for root in {str(ROOT), os.path.realpath(ROOT)}:
        source = source.replace(root + os.sep, "")
    return source


def expected_path(case: GoldenCase) -> Path:
    return EXPECTED / f"{case.name}.py.txt"


@pytest.fixture(scope="module", autouse=True)
def _report_rewrites(request):
    """With the update flag: one line at the end naming the files rewritten."""
    yield
    if UPDATE:
        line = (f"ADJOINTC_UPDATE_GOLDEN: rewrote {len(_REWRITTEN)} snapshot(s)"
                + (": " + ", ".join(_REWRITTEN) if _REWRITTEN else ""))
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        if reporter is None or capture is None:
            print(line)
            return
        with capture.global_and_fixture_disabled():  # (teardown output is captured otherwise)
            reporter.write_line("\n" + line)


# ------------------------------------------------------------ numeric checks
def _max_rel_err(got, ref) -> float:
    got, ref = np.asarray(got, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    return float(np.max(np.abs(got - ref))) / max(1.0, float(np.max(np.abs(ref))))


def _leaves(x) -> list[tuple[str, Any]]:
    """The differentiable leaves of a parameter: itself (float/array) or a dataclass's
    float and array fields, as (field name or "", value)."""
    if dataclasses.is_dataclass(x):
        return [(f.name, getattr(x, f.name)) for f in dataclasses.fields(x)
                if isinstance(getattr(x, f.name), (float, np.ndarray))]
    return [("", x)]


def _fd_leaf(case: GoldenCase, pos: int, fieldname: str) -> Any:
    """Central differences of case.fn with respect to argument `pos`, or to one field
    of it when it is a dataclass (the inputs are never modified)."""
    params = list(inspect.signature(case.fn).parameters)
    if not fieldname:
        return fd_gradient(case.fn, A(*case.args, **case.kwargs), (params[pos],))[0]
    arg = case.args[pos]

    def with_field(v):
        args = list(case.args)
        args[pos] = dataclasses.replace(arg, **{fieldname: v})
        return case.fn(*args, **case.kwargs)
    return fd_gradient(with_field, A(getattr(arg, fieldname)), ("v",))[0]


def check_gradient(case: GoldenCase) -> None:
    """The gradient on the snapshot's input agrees with finite differences (leaf by
    leaf for a dataclass) and, for scalar cases, with SymPy."""
    names, single = wrt_names(case.fn, case.wrt)
    params = list(inspect.signature(case.fn).parameters)
    got = grad(case.fn, wrt=case.wrt)(*case.args, **case.kwargs)
    got = (got,) if single else got
    assert len(got) == len(names)
    for name, g in zip(names, got):
        pos = params.index(name)
        for fieldname, leaf in _leaves(case.args[pos]):
            gl = getattr(g, fieldname) if fieldname else g
            assert np.shape(gl) == np.shape(leaf), f"d/d{name}.{fieldname}: shape {np.shape(gl)}"
            ref = _fd_leaf(case, pos, fieldname)
            err = _max_rel_err(gl, ref)
            assert err < case.rtol, (f"{case.name}: d/d{name}{'.' + fieldname if fieldname else ''} relative "
                                     f"error {err:.2e} vs finite differences\n  adjointc: {gl!r}\n  FD: {ref!r}")
    if case.sympy:
        ref = sympy_gradient(case.fn, A(*case.args, **case.kwargs), names)
        assert ref is not None, f"{case.name}: not evaluable on SymPy symbols"
        for name, g, r in zip(names, got, ref):
            err = abs(float(g) - r) / max(1.0, abs(r))
            assert err < 1e-9, f"{case.name}: d/d{name} = {g!r}, SymPy says {r!r} (rel. err {err:.1e})"


# ------------------------------------------------------------------ snapshots
def check_snapshot(case: GoldenCase) -> None:
    derived = tangent(case.fn, wrt=case.wrt) if case.name in TANGENT_CASES else grad(case.fn, wrt=case.wrt)
    text = normalise(derived.source_for(*case.args, **case.kwargs))
    assert str(ROOT) not in text
    path = expected_path(case)
    old = path.read_text() if path.exists() else None
    if text == old:
        return
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        rel = str(path.relative_to(ROOT))
        _REWRITTEN.append(rel)
        warnings.warn(f"ADJOINTC_UPDATE_GOLDEN: rewrote {rel}", stacklevel=1)
        return
    if old is None:
        pytest.fail(f"no snapshot {path.relative_to(ROOT)}: create it with "
                    f"ADJOINTC_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py", pytrace=False)
    diff = "".join(difflib.unified_diff(old.splitlines(keepends=True), text.splitlines(keepends=True),
                                        fromfile=f"expected/{path.name}", tofile="generated"))
    pytest.fail(f"the generated adjoint of {case.name} changed (if deliberate, regenerate with "
                f"ADJOINTC_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py):\n{diff}", pytrace=False)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_generated_adjoint_matches_its_snapshot_and_finite_differences(case: GoldenCase):
    check_gradient(case)
    check_snapshot(case)


def test_there_are_at_least_ten_snapshots_and_none_is_stale():
    names = [c.name for c in CASES]
    assert len(names) >= 10 and len(set(names)) == len(names)
    on_disk = {p.name for p in EXPECTED.glob("*.py.txt")}
    stale = on_disk - {expected_path(c).name for c in CASES}
    assert not stale, f"snapshots without a case (delete them): {sorted(stale)}"


def test_normalise_only_makes_repository_paths_relative():
    src = f"# Generated by adjointc from {ROOT}{os.sep}tests/golden/programs.py:3 (f).\nx = '/usr/lib'\n"
    assert normalise(src) == "# Generated by adjointc from tests/golden/programs.py:3 (f).\nx = '/usr/lib'\n"
