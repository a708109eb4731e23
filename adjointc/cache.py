"""On-disk cache of generated adjoint modules, shared between processes.

Contract
--------
* Location: ``$ADJOINTC_CACHE_DIR`` if set (read at every call), else ``~/.cache/adjointc``.
* Key: :func:`make_key` hashes the caller's ``parts`` (source texts, options, signature)
  together with the adjointc, Python and NumPy versions; any change gives a new key.
* File: ``<name>-<key[:16]>.py``, a real Python file so tracebacks and debuggers show
  its lines. Line 1 is the integrity header, the rest is the generated source::

      # adjointc cache entry key=<key> sha256=<sha256 hex of the bytes after line 1>

  The header is a comment, so the whole file is compiled and line numbers match the file.
* Atomicity: entries are written to a ``tempfile.mkstemp`` file in the cache directory,
  flushed, fsynced and then ``os.replace``-d into place, so concurrent readers see either
  no file or a complete one; concurrent writers of one key just replace equal content.
* Corruption: a file that is unreadable, lacks a well-formed header, names another key,
  fails its checksum, is not UTF-8 or does not compile is never executed; it counts as a
  miss and is rebuilt and rewritten. The checksum guards against truncation and accidental
  damage, not against an attacker who can write to the cache directory.
* Unwritable cache directory: the module is built anyway, stored in a private temporary
  directory (or, failing that, under a ``<adjointc:...>`` pseudo filename registered in
  ``linecache``), and a ``RuntimeWarning`` is emitted once per cache directory.
* ``ADJOINTC_CACHE_LOG=1`` prints ``adjointc: cache hit|miss <path>`` to stderr per load.
* There is no in-process memo: every :func:`load_or_build` call consults the disk.
"""
from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import linecache
import os
import pathlib
import re
import shutil
import sys
import tempfile
import types
import warnings
from typing import Callable

_HEADER = re.compile(rb"# adjointc cache entry key=([0-9A-Za-z]+) sha256=([0-9a-f]{64})")
_KEY = re.compile(r"[0-9A-Za-z]+")
_STATS = {"hits": 0, "misses": 0, "rebuilt_corrupt": 0}
_warned_dirs: set[str] = set()
_fallback_dir: pathlib.Path | None = None


def cache_dir() -> pathlib.Path:
    """The cache directory: ``$ADJOINTC_CACHE_DIR`` or ``~/.cache/adjointc``."""
    env = os.environ.get("ADJOINTC_CACHE_DIR")
    return pathlib.Path(env) if env else pathlib.Path.home() / ".cache" / "adjointc"


def make_key(parts: dict[str, str]) -> str:
    """A 32-hex-digit key for ``parts`` plus the adjointc, Python and NumPy versions."""
    import numpy

    import adjointc

    payload = {"parts": parts, "adjointc": adjointc.__version__,
               "python": sys.version, "numpy": numpy.__version__}
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


def load_or_build(key: str, build: Callable[[], str], *, name: str,
                  namespace: dict) -> tuple[types.ModuleType, bool]:
    """Load the module cached under ``key``, or ``build()`` its source and cache it.

    Returns ``(module, hit)``. The module's globals start as a copy of ``namespace``.
    """
    if not _KEY.fullmatch(key):
        raise ValueError(f"cache key must be alphanumeric, got {key!r}")
    directory = cache_dir()
    path = directory / f"{_safe_stem(name)}-{key[:16]}.py"
    text, corrupt = _read_entry(path, key)
    if text is not None:
        try:
            code = compile(text, str(path), "exec")
        except (SyntaxError, ValueError):
            corrupt = True
        else:
            _STATS["hits"] += 1
            _log("hit", path)
            return _module(code, name, str(path), namespace), True
    _STATS["misses"] += 1
    _STATS["rebuilt_corrupt"] += corrupt
    source = build()
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
    text = f"# adjointc cache entry key={key} sha256={digest}\n{source}"
    filename = str(path)
    code = compile(text, filename, "exec")  # bad generated code is never cached
    try:
        directory.mkdir(parents=True, exist_ok=True)
        _atomic_write(path, text)
    except OSError as exc:
        filename = _fallback(directory, path.name, text, exc)
        code = compile(text, filename, "exec")
    _log("miss", filename)
    return _module(code, name, filename, namespace), False


def stats() -> dict:
    """Counters for this process: ``hits``, ``misses`` and ``rebuilt_corrupt`` (also misses)."""
    return dict(_STATS)


def entries() -> list[pathlib.Path]:
    """The cache entry files currently in :func:`cache_dir` (in-flight temp files excluded)."""
    try:
        return sorted(p for p in cache_dir().glob("*.py") if p.is_file())
    except OSError:
        return []


def clear() -> int:
    """Delete every entry in :func:`cache_dir`; return how many were removed."""
    removed = 0
    for p in entries():
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
            removed += 1
    return removed


def _safe_stem(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z_]", "_", name)[:64] or "module"


def _read_entry(path: pathlib.Path, key: str) -> tuple[str | None, bool]:
    """``(text, corrupt)``: the verified file text, or None and whether a bad file was found."""
    try:
        data = path.read_bytes()
    except OSError:
        return None, False
    header, newline, body = data.partition(b"\n")
    m = _HEADER.fullmatch(header)
    if (not newline or m is None or m[1].decode("ascii") != key
            or hashlib.sha256(body).hexdigest().encode("ascii") != m[2]):
        return None, True
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        return None, True


def _atomic_write(path: pathlib.Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o644)
            f.write(text.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _fallback(directory: pathlib.Path, filename: str, text: str, exc: OSError) -> str:
    """Store ``text`` outside the unusable cache directory; return the filename to compile with."""
    global _fallback_dir
    if str(directory) not in _warned_dirs:
        _warned_dirs.add(str(directory))
        warnings.warn(f"adjointc: cache directory {directory} is not writable ({exc}); "
                      "generated code will not be cached", RuntimeWarning, stacklevel=3)
    try:
        if _fallback_dir is None:
            _fallback_dir = pathlib.Path(tempfile.mkdtemp(prefix="adjointc-"))
            atexit.register(shutil.rmtree, _fallback_dir, True)
        path = _fallback_dir / filename
        _atomic_write(path, text)
        return str(path)
    except OSError:
        pseudo = f"<adjointc:{filename}>"
        linecache.cache[pseudo] = (len(text), None, text.splitlines(True), pseudo)
        return pseudo


def _module(code: types.CodeType, name: str, filename: str,
            namespace: dict) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(namespace)
    module.__file__ = filename
    exec(code, module.__dict__)
    return module


def _log(kind: str, path: object) -> None:
    if os.environ.get("ADJOINTC_CACHE_LOG") == "1":
        print(f"adjointc: cache {kind} {path}", file=sys.stderr)
