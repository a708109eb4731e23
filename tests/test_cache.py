"""Tests for adjointc.cache: hits across processes, corruption policy, atomic writes."""
from __future__ import annotations

import hashlib
import os
import pathlib
import subprocess
import sys
import textwrap
import time
import traceback
import warnings

import numpy
import pytest

import adjointc
from adjointc import cache

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCE = "def f(x):\n    return x * 3 + OFFSET\n\ndef boom():\n    raise ValueError('boom')\n"
NS = {"OFFSET": 1}


class Builder:
    def __init__(self, source: str = SOURCE):
        self.source, self.calls = source, 0

    def __call__(self) -> str:
        self.calls += 1
        return self.source


def delta(before: dict) -> dict:
    now = cache.stats()
    return {k: now[k] - before[k] for k in now}


def verify(path: pathlib.Path) -> bool:
    """Independent check of the documented file format."""
    header, _, body = path.read_bytes().partition(b"\n")
    digest = header.rsplit(b"sha256=", 1)[-1].decode()
    return header.startswith(b"# adjointc cache entry key=") and \
        hashlib.sha256(body).hexdigest() == digest


def child_env(d: pathlib.Path, **extra: str) -> dict:
    env = dict(os.environ, ADJOINTC_CACHE_DIR=str(d), **extra)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return env


# --- keys -------------------------------------------------------------------

def test_key_is_deterministic_and_sensitive_to_parts():
    k = cache.make_key({"src": "def f(x): return x", "opts": "a=1"})
    assert k == cache.make_key({"opts": "a=1", "src": "def f(x): return x"})
    assert len(k) == 32 and int(k, 16) >= 0
    assert k != cache.make_key({"src": "def f(x): return x", "opts": "a=2"})
    assert k != cache.make_key({"src": "def f(x): return x"})
    # keys and values cannot be shuffled into each other
    assert cache.make_key({"a": "b", "c": "d"}) != cache.make_key({"a": "bc", "": "d"})


@pytest.mark.parametrize("obj, attr", [(adjointc, "__version__"), (sys, "version"),
                                       (numpy, "__version__")])
def test_key_changes_with_versions(monkeypatch, obj, attr):
    k = cache.make_key({"src": "x"})
    monkeypatch.setattr(obj, attr, getattr(obj, attr) + "-changed")
    assert cache.make_key({"src": "x"}) != k


def test_cache_dir_reads_env_each_call(monkeypatch, tmp_path):
    monkeypatch.setenv("ADJOINTC_CACHE_DIR", str(tmp_path / "a"))
    assert cache.cache_dir() == tmp_path / "a"
    monkeypatch.delenv("ADJOINTC_CACHE_DIR")
    assert cache.cache_dir() == pathlib.Path.home() / ".cache" / "adjointc"


# --- hits and misses ----------------------------------------------------------

def test_miss_then_hit_same_process(cdir):
    key, build, before = cache.make_key({"t": "hit"}), Builder(), cache.stats()
    m1, hit1 = cache.load_or_build(key, build, name="heat_grad", namespace=NS)
    m2, hit2 = cache.load_or_build(key, build, name="heat_grad", namespace=NS)
    assert (hit1, hit2, build.calls) == (False, True, 1)
    assert m1.f(2) == m2.f(2) == 7
    assert delta(before) == {"hits": 1, "misses": 1, "rebuilt_corrupt": 0, "untrusted": 0}
    [path] = cache.entries()
    assert path.name == f"heat_grad-{key[:16]}.py" and verify(path)
    assert m2.__file__ == str(path) and m2.__name__ == "heat_grad"
    assert cache.clear() == 1 and cache.entries() == []


def test_second_process_hits_without_building(cdir):
    key = cache.make_key({"t": "xproc"})
    cache.load_or_build(key, Builder(), name="xproc", namespace=NS)
    code = textwrap.dedent(f"""
        from adjointc import cache
        def build():
            raise SystemExit("build called in child")
        m, hit = cache.load_or_build({key!r}, build, name="xproc", namespace={{"OFFSET": 1}})
        print(hit, cache.stats()["hits"], cache.stats()["misses"], m.f(2))
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=child_env(cdir, ADJOINTC_CACHE_LOG="1"), timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["True", "1", "0", "7"]
    assert f"adjointc: cache hit {cache.entries()[0]}" in r.stderr


def test_log_lines(cdir, monkeypatch, capsys):
    monkeypatch.setenv("ADJOINTC_CACHE_LOG", "1")
    key = cache.make_key({"t": "log"})
    cache.load_or_build(key, Builder(), name="log", namespace=NS)
    cache.load_or_build(key, Builder(), name="log", namespace=NS)
    path = cache.entries()[0]
    assert capsys.readouterr().err.splitlines() == [
        f"adjointc: cache miss {path}", f"adjointc: cache hit {path}"]


def test_namespace_is_copied_and_name_is_sanitized(cdir):
    ns = {"OFFSET": 10}
    m, _ = cache.load_or_build(cache.make_key({"t": "ns"}), Builder(), name="../a b", namespace=ns)
    assert m.f(1) == 13 and "f" not in ns
    [path] = cache.entries()
    assert path.parent == cdir and path.name.startswith("___a_b-")


def test_tracebacks_point_at_cache_file(cdir):
    m, _ = cache.load_or_build(cache.make_key({"t": "tb"}), Builder(), name="tb", namespace=NS)
    [path] = cache.entries()
    assert m.f.__code__.co_filename == m.boom.__code__.co_filename == str(path)
    with pytest.raises(ValueError) as info:
        m.boom()
    frame = traceback.extract_tb(info.tb)[-1]
    assert frame.filename == str(path)
    assert frame.line == "raise ValueError('boom')"
    assert path.read_text().splitlines()[frame.lineno - 1].strip() == frame.line


def test_build_failure_caches_nothing(cdir):
    def build():
        raise RuntimeError("transform failed")
    with pytest.raises(RuntimeError):
        cache.load_or_build(cache.make_key({"t": "fail"}), build, name="fail", namespace=NS)
    with pytest.raises(SyntaxError):
        cache.load_or_build(cache.make_key({"t": "bad"}), Builder("def (:\n"), name="bad",
                            namespace=NS)
    assert not cdir.exists() or list(cdir.iterdir()) == []


def test_rejects_unsafe_key(cdir):
    with pytest.raises(ValueError):
        cache.load_or_build("../x", Builder(), name="k", namespace=NS)


# --- corruption ----------------------------------------------------------------

def _entry(key: str, body: bytes, header_key: str | None = None) -> bytes:
    sha = hashlib.sha256(body).hexdigest()
    return f"# adjointc cache entry key={header_key or key} sha256={sha}\n".encode() + body


def _corruptions(path: pathlib.Path, key: str, marker: pathlib.Path) -> dict[str, bytes]:
    good = path.read_bytes()
    evil = f"open({str(marker)!r}, 'w').close()\nraise SystemExit(3)\n"
    header = good.partition(b"\n")[0]
    return {
        "truncated": good[: len(good) // 2],
        "header_only": header,
        "empty": b"",
        "tampered": header + b"\n" + evil.encode(),
        "tampered_appended": good + evil.encode(),
        "wrong_key": _entry(key, evil.encode(), header_key="0" * 32),
        "no_header": evil.encode(),
        "malformed_header": b"# adjointc cache entry key=" + key.encode() + b"\n" + evil.encode(),
        "garbage": bytes(range(256)) * 8,
        "non_utf8_valid_checksum": _entry(key, b"x = '\xff\xfe'\n"),
        "syntax_error_valid_checksum": _entry(key, b"def (:\n"),
        "directory": b"",
    }


def test_bad_entries_are_rebuilt_and_never_executed(cdir, tmp_path):
    key, marker = cache.make_key({"t": "corrupt"}), tmp_path / "marker"
    cache.load_or_build(key, Builder(), name="c", namespace=NS)
    [path] = cache.entries()
    for label, data in _corruptions(path, key, marker).items():
        if label == "directory":  # unreadable: a directory where the file should be
            path.unlink()
            path.mkdir()
        else:
            path.write_bytes(data)
        build, before = Builder(), cache.stats()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the directory case cannot be replaced in place
            m, hit = cache.load_or_build(key, build, name="c", namespace=NS)
        assert (hit, build.calls, m.f(2)) == (False, 1, 7), label
        assert not marker.exists(), label
        if label == "directory":
            path.rmdir()
            continue
        assert verify(path) and path.read_bytes().endswith(SOURCE.encode()), label
        assert delta(before) == {"hits": 0, "misses": 1, "rebuilt_corrupt": 1, "untrusted": 0}, label
        _, hit = cache.load_or_build(key, Builder(), name="c", namespace=NS)
        assert hit, label


# --- unwritable cache ------------------------------------------------------------

def test_unwritable_cache_dir_falls_back_and_warns_once(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("ADJOINTC_CACHE_DIR", str(blocker / "cache"))
    key, build = cache.make_key({"t": "ro"}), Builder()
    with pytest.warns(RuntimeWarning, match="not writable"):
        m, hit = cache.load_or_build(key, build, name="ro", namespace=NS)
    assert (hit, m.f(2)) == (False, 7)
    assert pathlib.Path(m.__file__).is_file() and m.f.__code__.co_filename == m.__file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m2, hit2 = cache.load_or_build(key, build, name="ro", namespace=NS)
    assert (hit2, m2.f(2), build.calls) == (False, 7, 2)
    assert cache.entries() == [] and cache.clear() == 0


# --- concurrency -------------------------------------------------------------------

WRITER = textwrap.dedent("""
    import sys, time
    from adjointc import cache
    def build():
        time.sleep(0.2)
        pad = "".join(f"# padding line {i:08d} ........................................\\n"
                      for i in range(16000))
        return pad + "def f(x):\\n    return x * 3 + OFFSET\\n"
    m, hit = cache.load_or_build(sys.argv[1], build, name="race", namespace={"OFFSET": 1})
    print(m.f(2), hit)
""")


def test_concurrent_writers_never_expose_partial_files(cdir):
    key = cache.make_key({"t": "race"})
    env = child_env(cdir)
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, key], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(6)]
    checks, deadline = 0, time.monotonic() + 30
    while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
        for path in cache.entries():
            assert verify(path), "a reader saw a partial entry"
            checks += 1
        time.sleep(0.005)
    outs = [p.communicate(timeout=30) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
        assert out.split()[0] == "7"
    assert checks > 0  # the parent really observed entries while writers ran
    assert sorted(x.name for x in cdir.iterdir()) == [f"race-{key[:16]}.py"]  # no temp files
    [path] = cache.entries()
    assert verify(path) and path.stat().st_size > 1_000_000
    m, hit = cache.load_or_build(key, Builder(), name="race", namespace=NS)
    assert hit and m.f(2) == 7


def test_the_cache_key_covers_user_rules_in_both_modes():
    """Changing a user's VJP or JVP template makes a new key (stale code is never reused)."""
    import numpy as np
    from adjointc import compiler
    from adjointc.rules import defjvp, defvjp, lookup_object

    def softsign(x):
        return x / (1 + np.abs(x))
    defvjp(softsign, "x", x="g / (1 + np.abs(x)) ** 2")
    before = compiler._registry_fingerprint()
    defjvp(softsign, x="d / (1 + np.abs(x)) ** 2")
    with_jvp = compiler._registry_fingerprint()
    defjvp(softsign, x="d / (1 + np.abs(x)) ** 3")
    changed_jvp = compiler._registry_fingerprint()
    lookup_object(softsign).templates["x"] = "g / (1 + np.abs(x)) ** 3"
    changed_vjp = compiler._registry_fingerprint()
    assert len({before, with_jvp, changed_jvp, changed_vjp}) == 4
