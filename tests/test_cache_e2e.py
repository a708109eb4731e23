"""The disk cache end to end: a second process loads the adjoint without
transforming; a corrupt entry is rebuilt; an edited source gets a new entry."""
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MODULE = '''
import numpy as np

def helper(u, c):
    return c * (u[2:] - 2.0 * u[1:-1] + u[:-2])

def set_bc(u, left):
    u[0] = left

def relax(u, c):
    for _ in range(2):
        u[1:-1] = u[1:-1] + 0.1 * helper(u, c)

def simulate(u0, c, steps=5):
    u = u0.copy()
    for _ in range(steps):
        u[1:-1] = u[1:-1] + helper(u, c)
        set_bc(u, 0.5 * c)
        relax(u, c)
    return np.sum(u ** 2)
'''

CHILD = '''
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import model
import adjointc
from adjointc import api, cache
g = adjointc.grad(model.simulate, wrt=(0, 1))
du, dc = g(np.linspace(0.0, 1.0, 7) ** 2, 0.2)
print(json.dumps({"transforms": api.stats()["transforms"], "hits": cache.stats()["hits"],
                  "grad": [float(v) for v in du] + [float(dc)]}))
'''


def run_child(tmp_path, cache_dir):
    env = dict(os.environ, ADJOINTC_CACHE_DIR=str(cache_dir), PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], capture_output=True, text=True,
                         env=env, check=True, timeout=120)
    import json
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_second_process_does_not_transform(tmp_path):
    (tmp_path / "model.py").write_text(MODULE)
    cache_dir = tmp_path / "cache"
    first = run_child(tmp_path, cache_dir)
    assert first["transforms"] >= 2  # simulate and relax (it loops: called; the others are inlined)
    second = run_child(tmp_path, cache_dir)
    assert second["transforms"] == 0 and second["hits"] >= 2
    np.testing.assert_allclose(second["grad"], first["grad"], rtol=0, atol=0)

    # a corrupt entry is rebuilt, never executed
    entries = sorted(cache_dir.glob("simulate_grad-*.py"))
    assert entries
    entries[0].write_text(entries[0].read_text()[:-40] + "\nraise SystemExit('tampered')\n")
    third = run_child(tmp_path, cache_dir)
    assert third["transforms"] == 1
    np.testing.assert_allclose(third["grad"], first["grad"])

    # editing the helper (not the caller) invalidates the caller's entry too
    (tmp_path / "model.py").write_text(MODULE.replace("c * (u[2:]", "0.5 * c * (u[2:]"))
    fourth = run_child(tmp_path, cache_dir)
    assert fourth["transforms"] >= 2
    assert not np.allclose(fourth["grad"], first["grad"])
