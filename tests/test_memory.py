"""adjointc.retain_freed_memory (adjointc/memory.py): opt-in, process-wide, and it leaves
every gradient as it was.

What it changes is the process's allocator, so the tests that call it run in a
subprocess (the test session's own allocator stays as glibc made it). The probe is
glibc's documented policy, not a timing: 40 arrays of 1 MiB allocated and freed,
three rounds; without retention the freed heap top is trimmed back to the kernel
after each round and the next round faults its 10,240 pages in again; with it,
the third round reuses the pages of the second.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import adjointc
from adjointc import memory

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_PROBE = textwrap.dedent("""
    import json, resource, sys
    import numpy as np
    import adjointc

    def rd(u0, kappa, steps=5):
        u = u0.copy()
        for _ in range(steps):
            lap = np.zeros_like(u)
            lap[1:-1] = u[2:] - 2.0 * u[1:-1] + u[:-2]
            u = u + 0.1 * (kappa * lap - u * u * u)
        return np.sum(u * u)

    applied = adjointc.retain_freed_memory() if sys.argv[1] == "retain" else None
    g = adjointc.grad(rd, wrt=(0, 1))
    u0 = np.linspace(0.0, 1.0, 40)
    u0 = np.exp(-5.0 * (u0 - 0.5) ** 2)
    du0, dkappa = g(u0, 0.3)

    def round_():
        arrays = [np.ones(2 ** 17) for _ in range(40)]  # 40 x 1 MiB, touched
        del arrays

    faults = []
    for _ in range(3):
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        round_()
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
    print(json.dumps({"applied": applied, "faults": faults, "du0": du0.tolist(), "dkappa": dkappa}))
""")


def _run(mode: str, script) -> dict:
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "OPENBLAS_NUM_THREADS": "1"}
    env.pop("GLIBC_TUNABLES", None)
    env.pop("MALLOC_TRIM_THRESHOLD_", None)
    env.pop("MALLOC_MMAP_THRESHOLD_", None)
    out = subprocess.run([sys.executable, str(script), mode], env=env, capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _rd(u0, kappa, steps=5):
    u = u0.copy()
    for _ in range(steps):
        lap = np.zeros_like(u)
        lap[1:-1] = u[2:] - 2.0 * u[1:-1] + u[:-2]
        u = u + 0.1 * (kappa * lap - u * u * u)
    return np.sum(u * u)


def _central(f, x, h=1e-6):
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    script = tmp_path_factory.mktemp("memory") / "probe.py"  # (a file: adjointc reads rd's source)
    script.write_text(_PROBE)
    return {mode: _run(mode, script) for mode in ("default", "retain")}


def test_importing_adjointc_and_taking_gradients_leaves_the_allocator_alone(runs):
    # glibc's adaptive default: the 40 MiB freed at the heap's top go back to the kernel,
    # and every round faults its pages in again (10,240 pages of 4 KiB)
    assert memory._glibc() is not None, "these tests run on glibc (Linux)"
    assert min(runs["default"]["faults"][1:]) > 5000


def test_retained_memory_is_reused_by_the_next_round(runs):
    assert runs["retain"]["applied"] is True
    assert runs["retain"]["faults"][2] < 500  # (the third round reuses the second's pages)


def test_gradients_are_the_same_with_memory_retained(runs):
    u0 = np.linspace(0.0, 1.0, 40)
    u0 = np.exp(-5.0 * (u0 - 0.5) ** 2)
    want_u0 = _central(lambda u: _rd(u, 0.3), u0)
    want_kappa = (_rd(u0, 0.3 + 1e-6) - _rd(u0, 0.3 - 1e-6)) / 2e-6
    for mode in ("default", "retain"):
        assert np.allclose(runs[mode]["du0"], want_u0, rtol=1e-6, atol=1e-8)
        assert np.isclose(runs[mode]["dkappa"], want_kappa, rtol=1e-6, atol=1e-8)
    assert runs["default"]["du0"] == runs["retain"]["du0"]  # (bit for bit: only the allocator changed)
    assert runs["default"]["dkappa"] == runs["retain"]["dkappa"]


@pytest.mark.parametrize("limit", [0, -1, True, "lots", "3GiB", 2**31 + 1, None])
def test_a_limit_that_is_not_a_size_is_refused_before_anything_changes(limit, monkeypatch):
    monkeypatch.setattr(memory, "_glibc", lambda: pytest.fail("the allocator was touched"))
    with pytest.raises(adjointc.InvalidArgument, match="retain_freed_memory"):
        adjointc.retain_freed_memory(limit)


def test_on_another_c_library_nothing_changes(monkeypatch):
    monkeypatch.setattr(memory, "_glibc", lambda: None)
    assert adjointc.retain_freed_memory("200MB") is False


def test_sizes_are_given_to_mallopt_within_its_range(monkeypatch):
    calls = []

    class FakeLibc:
        def mallopt(self, param, value):
            calls.append((param.value, value.value))
            return 1

    monkeypatch.setattr(memory, "_glibc", FakeLibc)
    assert adjointc.retain_freed_memory("2GiB") is True
    assert calls == [(memory.M_TRIM_THRESHOLD, 2**31 - 1), (memory.M_MMAP_THRESHOLD, 32 * 2**20)]
    calls.clear()
    assert adjointc.retain_freed_memory("10MB") is True
    assert calls == [(memory.M_TRIM_THRESHOLD, 10**7), (memory.M_MMAP_THRESHOLD, 10**7)]
