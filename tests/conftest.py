"""Session-wide test setup."""
import atexit
import os
import shutil
import tempfile

# Every test session compiles into a fresh cache directory: tests never touch ~/.cache.
_CACHE_DIR = tempfile.mkdtemp(prefix="adjointc-test-cache-")
os.environ["ADJOINTC_CACHE_DIR"] = _CACHE_DIR
atexit.register(shutil.rmtree, _CACHE_DIR, ignore_errors=True)
