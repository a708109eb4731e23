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
* Trust (the model of Python's ``__pycache__``: your own cache directory is trusted, and
  anyone who can write to it can run code as you). The directory is created ``0700``
  and entries are written ``0600``. An entry is executed only if the directory is a real
  directory (not a symbolic link), owned by the effective user and not writable by group
  or others, and the entry itself is a regular file (opened with ``O_NOFOLLOW``: a
  symbolic link is never followed), owned by the effective user and not writable by
  group or others. Otherwise a ``RuntimeWarning`` naming the path and the reason is
  emitted once per path, nothing from it is executed, and the module is rebuilt: an
  untrusted entry in a trusted directory is replaced (the link itself, never its
  target); for an untrusted directory the module is kept in a private temporary
  directory (``0700``, removed at exit) and the untrusted directory is not written.
* Atomicity: entries are written to a fresh ``O_EXCL`` temp file in the cache directory,
  flushed, fsynced and then ``os.replace``-d into place, so concurrent readers see either
  no file or a complete one; concurrent writers of one key just replace equal content.
* Corruption: a file that is unreadable, lacks a well-formed header, names another key,
  fails its checksum, is not UTF-8 or does not compile is never executed; it counts as a
  miss and is rebuilt and rewritten. The checksum guards against truncation and accidental
  damage, not against an attacker who can write to the cache directory (the trust checks
  above keep other users out; the user's own files are trusted as Python trusts them).
* Unwritable cache directory: the module is built anyway, stored in the private temporary
  directory (or, failing that, under a ``<adjointc:...>`` pseudo filename registered in
  ``linecache``), and a ``RuntimeWarning`` is emitted once per cache directory.
* ``ADJOINTC_CACHE_LOG=1`` prints ``adjointc: cache hit|miss <path>`` to stderr per load.
* There is no in-process memo: every :func:`load_or_build` call consults the disk.
"""
from __future__ import annotations

import atexit
import contextlib
import errno
import hashlib
import json
import linecache
import os
import pathlib
import re
import secrets
import shutil
import stat
import sys
import tempfile
import types
import warnings
from typing import Callable

_HEADER = re.compile(rb"# adjointc cache entry key=([0-9A-Za-z]+) sha256=([0-9a-f]{64})")
_KEY = re.compile(r"[0-9A-Za-z]+")
_STATS = {"hits": 0, "misses": 0, "rebuilt_corrupt": 0, "untrusted": 0}
_warned: set[str] = set()  # paths already warned about (once per process)
_fallback_dir: pathlib.Path | None = None
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIR_FD = os.open in os.supports_dir_fd and os.replace in os.supports_dir_fd and \
    os.unlink in os.supports_dir_fd and hasattr(os, "O_DIRECTORY")


def _euid() -> int | None:
    """The effective user id entries must belong to (None where there are no uids)."""
    return os.geteuid() if hasattr(os, "geteuid") else None


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
    entry = f"{_safe_stem(name)}-{key[:16]}.py"
    path = directory / entry
    dfd, problem = _open_directory(directory)
    try:
        if dfd is not None:
            text, corrupt = _read_entry(dfd, directory, entry, key)
            if text is not None:
                try:
                    code = compile(text, str(path), "exec")
                except (SyntaxError, ValueError):
                    corrupt = True
                else:
                    _STATS["hits"] += 1
                    _log("hit", path)
                    return _module(code, name, str(path), namespace, text), True
            _STATS["rebuilt_corrupt"] += corrupt
        _STATS["misses"] += 1
        source = build()
        digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
        text = f"# adjointc cache entry key={key} sha256={digest}\n{source}"
        filename = str(path)
        code = compile(text, filename, "exec")  # bad generated code is never cached
        written = False
        if dfd is not None:
            try:
                _atomic_write(dfd, entry, text, directory)
                written = True
            except OSError as exc:
                problem = f"is not writable ({exc}); generated code will not be cached"
        if not written:
            _warn_once(str(directory), f"adjointc: cache directory {directory} {problem}")
            filename = _fallback(entry, text)
            code = compile(text, filename, "exec")
        _log("miss", filename)
        return _module(code, name, filename, namespace, text), False
    finally:
        if dfd is not None and dfd >= 0:
            os.close(dfd)


def stats() -> dict:
    """Counters for this process: ``hits``, ``misses``, ``rebuilt_corrupt`` (also misses)
    and ``untrusted`` (entries refused by the trust checks; also misses)."""
    return dict(_STATS)


def entries() -> list[pathlib.Path]:
    """The cache entry files currently in :func:`cache_dir` (regular files only: in-flight
    temp files and symbolic links excluded)."""
    return _listing(links=False)


def clear() -> int:
    """Delete every entry in :func:`cache_dir` (and any symbolic link planted in an entry's
    place; the link itself, never its target); return how many were removed."""
    removed = 0
    for p in _listing(links=True):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
            removed += 1
    return removed


def _listing(links: bool) -> list[pathlib.Path]:
    out = []
    try:
        for p in cache_dir().glob("*.py"):
            with contextlib.suppress(OSError):
                mode = os.lstat(p).st_mode
                if stat.S_ISREG(mode) or (links and stat.S_ISLNK(mode)):
                    out.append(p)
    except OSError:
        return []
    return sorted(out)


def _safe_stem(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z_]", "_", name)[:64] or "module"


def _untrusted(st: os.stat_result) -> str | None:
    """Why a file or directory with this (l)stat may not be trusted, or None."""
    uid = _euid()
    if uid is not None and st.st_uid != uid:
        return f"is owned by uid {st.st_uid}, not by you (uid {uid})"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"is writable by group or others (mode {stat.S_IMODE(st.st_mode):04o})"
    return None


def _open_directory(directory: pathlib.Path) -> tuple[int | None, str]:
    """A descriptor of the cache directory (created 0700 if missing), or None and why it
    cannot be used. Without dir_fd support (Windows) the descriptor is a placeholder -1."""
    try:
        st = os.lstat(directory)
    except FileNotFoundError:
        try:
            directory.parent.mkdir(parents=True, exist_ok=True)
            os.mkdir(directory, 0o700)
        except FileExistsError:
            pass  # (a concurrent process created it: checked below like any other)
        except OSError as exc:
            return None, f"is not writable ({exc}); generated code will not be cached"
        try:
            st = os.lstat(directory)
        except OSError as exc:
            return None, f"is not writable ({exc}); generated code will not be cached"
    except OSError as exc:  # (a path through a file, say)
        return None, f"is not writable ({exc}); generated code will not be cached"
    if not stat.S_ISDIR(st.st_mode) and not stat.S_ISLNK(st.st_mode):
        return None, "is not a directory; generated code will not be cached"
    reason = "is a symbolic link" if stat.S_ISLNK(st.st_mode) else _untrusted(st)
    if reason is not None:
        _STATS["untrusted"] += 1
        fix = " (if it is yours, `chmod 700` it)" if "writable" in reason else ""
        return None, (f"is not trusted: it {reason}; nothing in it is executed and generated "
                      f"code is kept in a private temporary directory instead{fix}")
    if not _DIR_FD:
        return -1, ""
    try:
        dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW)
    except OSError as exc:  # (replaced by a link since the lstat: refused the same way)
        return None, f"could not be opened ({exc}); generated code will not be cached"
    fst = os.fstat(dfd)
    if (fst.st_dev, fst.st_ino) != (st.st_dev, st.st_ino):
        os.close(dfd)
        return None, "changed while being opened; generated code will not be cached"
    return dfd, ""


def _read_entry(dfd: int, directory: pathlib.Path, entry: str, key: str) -> tuple[str | None, bool]:
    """``(text, corrupt)``: the verified file text, or None and whether a bad file was found.
    An untrusted entry is reported (once) and treated as missing: it is rebuilt and replaced."""
    path = directory / entry
    try:
        fd = os.open(entry, os.O_RDONLY | _NOFOLLOW, dir_fd=dfd) if dfd >= 0 else \
            os.open(path, os.O_RDONLY | _NOFOLLOW)
    except FileNotFoundError:
        return None, False
    except OSError as exc:
        with contextlib.suppress(OSError):
            if stat.S_ISLNK(os.lstat(path).st_mode):
                _reject(path, "is a symbolic link")
                return None, False
        if exc.errno == errno.ELOOP:
            _reject(path, "is a symbolic link")
            return None, False
        return None, True
    try:
        st = os.fstat(fd)
        reason = "is not a regular file" if not stat.S_ISREG(st.st_mode) else _untrusted(st)
        if reason is not None:
            _reject(path, reason)
            return None, False
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read()
    except OSError:
        return None, True
    finally:
        os.close(fd)
    header, newline, body = data.partition(b"\n")
    m = _HEADER.fullmatch(header)
    if (not newline or m is None or m[1].decode("ascii") != key
            or hashlib.sha256(body).hexdigest().encode("ascii") != m[2]):
        return None, True
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        return None, True


def _reject(path: pathlib.Path, reason: str) -> None:
    _STATS["untrusted"] += 1
    _warn_once(str(path), f"adjointc: cache entry {path} is not trusted: it {reason}; it is not "
               "executed, and is rebuilt and replaced")


def _warn_once(what: str, message: str) -> None:
    if what not in _warned:
        _warned.add(what)
        warnings.warn(message, RuntimeWarning, stacklevel=4)


def _atomic_write(dfd: int, entry: str, text: str, directory: pathlib.Path | None = None) -> None:
    """Write ``entry`` (mode 0600) in the directory open as ``dfd`` (or at ``directory``
    where there is no dir_fd support): a fresh temp file, fsynced, then os.replace-d."""
    at = {"dir_fd": dfd} if dfd >= 0 else {}

    def where(name: str) -> str:
        return name if dfd >= 0 else str((directory or cache_dir()) / name)
    stem = entry[:-3] if entry.endswith(".py") else entry
    for _ in range(100):
        tmp = f".{stem}-{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(where(tmp), os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600, **at)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(errno.EEXIST, "no free temporary name", entry)
    try:
        with os.fdopen(fd, "wb") as f:
            if hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), 0o600)
            f.write(text.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        if dfd >= 0:
            os.replace(tmp, entry, src_dir_fd=dfd, dst_dir_fd=dfd)
        else:
            os.replace(where(tmp), where(entry))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(where(tmp), **at)
        raise


def _fallback(filename: str, text: str) -> str:
    """Store ``text`` in a private temporary directory; return the filename to compile with."""
    global _fallback_dir
    try:
        if _fallback_dir is None:
            _fallback_dir = pathlib.Path(tempfile.mkdtemp(prefix="adjointc-"))  # (0700)
            atexit.register(shutil.rmtree, _fallback_dir, True)
        dfd = os.open(_fallback_dir, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW) if _DIR_FD else -1
        try:
            _atomic_write(dfd, filename, text, _fallback_dir)
        finally:
            if dfd >= 0:
                os.close(dfd)
        return str(_fallback_dir / filename)
    except OSError:
        pseudo = f"<adjointc:{filename}>"
        linecache.cache[pseudo] = (len(text), None, text.splitlines(True), pseudo)
        return pseudo


def _module(code: types.CodeType, name: str, filename: str, namespace: dict,
            text: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(namespace)
    module.__file__ = filename
    exec(code, module.__dict__)
    # the text that was verified and compiled (`.source` must not re-read the path)
    module.__adjointc_source__ = text
    return module


def _log(kind: str, path: object) -> None:
    if os.environ.get("ADJOINTC_CACHE_LOG") == "1":
        print(f"adjointc: cache {kind} {path}", file=sys.stderr)
