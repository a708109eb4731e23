"""Session-wide test setup, and fixtures shared by test modules."""
import atexit
import os
import shutil
import tempfile

# Every test session compiles into a fresh cache directory: tests never touch ~/.cache.
_CACHE_DIR = tempfile.mkdtemp(prefix="adjointc-test-cache-")
os.environ["ADJOINTC_CACHE_DIR"] = _CACHE_DIR
atexit.register(shutil.rmtree, _CACHE_DIR, ignore_errors=True)

import pytest  # noqa: E402


@pytest.fixture
def cdir(tmp_path, monkeypatch):
    """A fresh, empty cache directory for one test (ADJOINTC_CACHE_DIR points at it)."""
    d = tmp_path / "cache"
    monkeypatch.setenv("ADJOINTC_CACHE_DIR", str(d))
    monkeypatch.delenv("ADJOINTC_CACHE_LOG", raising=False)
    return d
