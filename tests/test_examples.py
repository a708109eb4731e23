"""The shipped examples run from a clean process and report gradients that agree
with their own finite-difference checks."""
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = sorted(f for f in os.listdir(os.path.join(ROOT, "examples")) if f.endswith(".py"))


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_runs(name, tmp_path):
    env = dict(os.environ, ADJOINTC_CACHE_DIR=str(tmp_path), PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", name)], capture_output=True,
                         text=True, env=env, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    for err in re.findall(r"relative error(?: of [^:]*:)? ([0-9.e+-]+)", out.stdout):
        assert float(err) < 1e-5, out.stdout
    assert "unchanged by the gradient: False" not in out.stdout


def test_examples_are_covered():
    assert {"heat.py", "heat_bc.py", "lorenz.py"} <= set(EXAMPLES)
