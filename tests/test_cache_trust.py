"""The disk cache never serves a stale adjoint, and never executes a planted entry.

* Across processes: a user package is written to ``tmp_path``; a child process
  differentiates one of its functions, the package is edited (or only an environment
  variable its configuration reads changes), and a second child over the same cache
  directory must return the finite-difference gradient *of the edited code*, computed
  in that child from the function it actually runs.
* Within one process: a helper rebound, a module attribute or a method changed after
  the first call, a source file edited without a reload.
* Planted entries: symlinks, other owners, group/world-writable files and directories
  are never executed (the trust model of Python's ``__pycache__``).
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import importlib.util
import inspect
import json
import os
import pathlib
import stat
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import adjointc
from adjointc import AdjointcError, api, cache, reach
from corpus import import_file

ROOT = pathlib.Path(__file__).resolve().parents[1]

# ------------------------------------------------------------ a user package
FILES = {
    "pk/__init__.py": "",
    "pk/sub/__init__.py": "from . import hmod\n",
    "pk/sub/hmod.py": "def h(x):\n    return 2.0 * x ** 2\n",
    "consts.py": "C = 2.0\n",
    "config.py": textwrap.dedent("""\
        import os

        class Cfg:
            def __init__(self):
                self.k = float(os.environ.get("TRUST_K", "2.0"))

        cfg = Cfg()
        """),
    "models.py": textwrap.dedent("""\
        class Model:
            def __init__(self, a):
                self.a = a

            def energy(self, x):
                return self.a * x ** 2

        class K:
            @staticmethod
            def h(x):
                return x ** 3
        """),
    "weights.py": textwrap.dedent("""\
        import numpy as np
        W = 2.0

        def h(x):
            return np.sum(W * x * x)
        """),
    "main.py": textwrap.dedent("""\
        import numpy as np
        import pk.sub.hmod
        import consts as cm
        import weights
        from config import cfg
        from models import Model, K

        class Local:
            def __init__(self, a):
                self.a = a

            def energy(self, x):
                return self.a * x ** 3

        def f_pkg(x):
            return pk.sub.hmod.h(x) + x

        def f_method(m, x):
            return m.energy(x)

        def f_static(x):
            return K.h(x)

        def f_const(x):
            return cm.C * x ** 2

        def f_cfg(x):
            return cfg.k * x ** 2

        def helper(x, a=cm.C):
            return a * x ** 2

        def f_default(x):
            return helper(x) + x

        def f_global_type(x):
            return weights.h(x)

        CASES = {
            "pkg_attribute_chain": (f_pkg, 0, (1.5,)),
            "method_same_module": (f_method, 1, (Local(2.0), 1.5)),
            "method_other_module": (f_method, 1, (Model(2.0), 1.5)),
            "staticmethod": (f_static, 0, (1.5,)),
            "module_constant": (f_const, 0, (1.5,)),
            "config_attribute": (f_cfg, 0, (1.5,)),
            "callee_default": (f_default, 0, (1.5,)),
            "callee_global_type": (f_global_type, 0, (1.5,)),
        }
        """),
}

# case -> (file, old, new) edits, or {"env": value} for a change without any edit
EDITS = {
    "pkg_attribute_chain": ("pk/sub/hmod.py", "2.0 * x ** 2", "3.0 * x ** 3"),
    "method_same_module": ("main.py", "self.a * x ** 3", "self.a * x ** 4"),
    "method_other_module": ("models.py", "self.a * x ** 2", "self.a * x ** 4"),
    "staticmethod": ("models.py", "x ** 3", "x ** 5"),
    "module_constant": ("consts.py", "C = 2.0", "C = 3.5"),
    "config_attribute": {"TRUST_K": "5.0"},
    "callee_default": ("consts.py", "C = 2.0", "C = 7.0"),
    "callee_global_type": ("weights.py", "W = 2.0", "W = np.array([1.0, 2.0, 3.0])"),
}

CHILD = textwrap.dedent("""
    import json, sys
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    import main
    import adjointc
    from adjointc import api, cache

    fn, wrt, args = main.CASES[sys.argv[2]]
    g = np.asarray(adjointc.grad(fn, wrt=wrt)(*args), dtype=float)

    def at(x):
        a = list(args)
        a[wrt] = x
        return float(fn(*a))

    x0 = np.asarray(args[wrt], dtype=float)
    fd = np.zeros_like(x0)
    for i in np.ndindex(x0.shape):
        h = 1e-6 * max(1.0, abs(float(x0[i])))
        up, down = x0.copy(), x0.copy()
        up[i] += h
        down[i] -= h
        if x0.ndim == 0:
            up, down = float(up), float(down)
        fd[i] = (at(up) - at(down)) / (2 * h)
    print(json.dumps({"grad": g.ravel().tolist(), "fd": fd.ravel().tolist(),
                      "transforms": api.stats()["transforms"], "hits": cache.stats()["hits"]}))
""")


def write_package(where: pathlib.Path) -> None:
    for name, text in FILES.items():
        path = where / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def run_child(pkg: pathlib.Path, cache_dir: pathlib.Path, case: str, **env_extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "TRUST_K"}
    env.update(ADJOINTC_CACHE_DIR=str(cache_dir), PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=str(ROOT),
               **env_extra)
    r = subprocess.run([sys.executable, "-c", CHILD, str(pkg), case], capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case", sorted(EDITS))
def test_second_process_sees_the_edit(tmp_path, case):
    pkg, cache_dir = tmp_path / "pkg", tmp_path / "cache"
    write_package(pkg)
    first = run_child(pkg, cache_dir, case)
    np.testing.assert_allclose(first["grad"], first["fd"], rtol=1e-6, atol=1e-6)
    again = run_child(pkg, cache_dir, case)  # nothing changed: served from the cache
    assert again["transforms"] == 0 and again["hits"] >= 1
    np.testing.assert_allclose(again["grad"], first["grad"], rtol=0, atol=0)

    edit, env = EDITS[case], {}
    if isinstance(edit, dict):
        env = edit
    else:
        path = pkg / edit[0]
        text = path.read_text()
        assert edit[1] in text
        path.write_text(text.replace(edit[1], edit[2]))
    second = run_child(pkg, cache_dir, case, **env)
    assert not np.allclose(second["fd"], first["fd"])  # the edit changes the function
    np.testing.assert_allclose(second["grad"], second["fd"], rtol=1e-6, atol=1e-6)
    assert second["transforms"] >= 1
    third = run_child(pkg, cache_dir, case, **env)  # and the new entry is reused in turn
    assert third["transforms"] == 0
    np.testing.assert_allclose(third["grad"], second["grad"], rtol=0, atol=0)


# ---------------------------------------------------------------- within one process


INPROC = textwrap.dedent("""\
    import numpy as np

    C = 2.0
    W = 2.0

    class Cfg:
        k = 2.0

    cfg = Cfg()

    class Model:
        def __init__(self, a):
            self.a = a

        def energy(self, x):
            return self.a * x ** 2

    def energy4(self, x):
        return self.a * x ** 4

    class K:
        @staticmethod
        def h(x):
            return x ** 3

    def cube(x):
        return x ** 3

    def h(x):
        return 2.0 * x ** 2

    def h_other(x):
        return 3.0 * x ** 3

    def h_loop(x):
        s = 0.0
        for i in range(3):
            s = s + x * x
        return s

    def h_loop_other(x):
        s = 0.0
        for i in range(3):
            s = s + x * x * x
        return s

    def with_default(x, a=2.0):
        return a * x ** 2

    def wsum(x):
        return np.sum(W * x * x)

    def f_helper(x):
        return h(x) + x

    def f_loop_helper(x):
        return h_loop(x) + x

    def f_module_attr(x):
        return mod.C * x ** 2

    def f_cfg(x):
        return cfg.k * x ** 2

    def f_method(m, x):
        return m.energy(x)

    def f_static(x):
        return K.h(x)

    def f_default(x):
        return with_default(x) + x

    def f_global_type(x):
        return wsum(x)

    def f_edit(x):
        return 2.0 * x ** 2
    """)

_counter = [0]


def load(tmp_path: pathlib.Path, text: str = INPROC):
    """Import `text` as a fresh module of a unique name (and give it `mod`: itself)."""
    _counter[0] += 1
    name = f"trust_inproc_{_counter[0]}"
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    m = import_file(path, name)
    m.mod = m
    return m


def fd(fn, args, wrt):
    args = list(args)
    x0 = np.asarray(args[wrt], dtype=float)
    out = np.zeros_like(x0)
    for i in np.ndindex(x0.shape):
        h = 1e-6 * max(1.0, abs(float(x0[i])))
        vals = []
        for s in (h, -h):
            x = x0.copy()
            x[i] += s
            args[wrt] = float(x) if x0.ndim == 0 else x
            vals.append(float(fn(*args)))
        out[i] = (vals[0] - vals[1]) / (2 * h)
    return out


def check(g, fn, args, wrt=0):
    got = np.asarray(g(*args), dtype=float)
    ref = fd(fn, args, wrt)
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-6)
    return got


CHANGES = {
    # name: (function, wrt, args(m), change(m))
    "helper_rebound_inlined": ("f_helper", 0, lambda m: (1.5,), lambda m: setattr(m, "h", m.h_other)),
    "helper_rebound_called": ("f_loop_helper", 0, lambda m: (1.5,),
                              lambda m: setattr(m, "h_loop", m.h_loop_other)),
    "module_attribute": ("f_module_attr", 0, lambda m: (1.5,), lambda m: setattr(m, "C", 3.5)),
    "config_attribute": ("f_cfg", 0, lambda m: (1.5,), lambda m: setattr(m.cfg, "k", 5.0)),
    "class_attribute_of_config": ("f_cfg", 0, lambda m: (1.5,), lambda m: setattr(m.Cfg, "k", 6.0)),
    "method_replaced": ("f_method", 1, lambda m: (m.Model(2.0), 1.5),
                        lambda m: setattr(m.Model, "energy", m.energy4)),
    "class_redefined": ("f_method", 1, lambda m: (m.Model(2.0), 1.5),
                        lambda m: setattr(m, "Model", type("Model", (), {
                            "__module__": m.__name__, "__qualname__": "Model",
                            "__init__": m.Model.__init__, "energy": m.energy4}))),
    "staticmethod_replaced": ("f_static", 0, lambda m: (1.5,),
                              lambda m: setattr(m.K, "h", staticmethod(m.h_other))),
    "code_replaced": ("f_static", 0, lambda m: (1.5,),
                      lambda m: setattr(m.K.h, "__code__", m.h_other.__code__)),
    "callee_defaults_changed": ("f_default", 0, lambda m: (1.5,),
                                lambda m: setattr(m.with_default, "__defaults__", (7.0,))),
    "global_type_changed": ("f_global_type", 0, lambda m: (1.5,),
                            lambda m: setattr(m, "W", np.array([1.0, 2.0, 3.0]))),
}


@pytest.mark.parametrize("case", sorted(CHANGES))
def test_memoised_adjoint_follows_changes(tmp_path, case):
    m = load(tmp_path)
    name, wrt, args, change = CHANGES[case]
    fn = getattr(m, name)
    g = adjointc.grad(fn, wrt=wrt)
    before = check(g, fn, args(m), wrt)
    check(g, fn, args(m), wrt)
    change(m)
    after = check(g, fn, args(m), wrt)  # the same Gradient object: its memo was re-validated
    assert not np.allclose(before, after)
    t = api.stats()["transforms"]
    check(g, fn, args(m), wrt)  # and the rebuilt adjoint is memoised in turn
    assert api.stats()["transforms"] == t


def test_unchanged_calls_do_not_recompile(tmp_path):
    m = load(tmp_path)
    for name, wrt, args, _ in CHANGES.values():
        g = adjointc.grad(getattr(m, name), wrt=wrt)
        g(*args(m))
        t, s = api.stats()["transforms"], cache.stats()
        for _ in range(3):
            g(*args(m))
        assert api.stats()["transforms"] == t and cache.stats() == s, name


def test_source_edited_without_reload_is_refused(tmp_path):
    m = load(tmp_path)
    g = adjointc.grad(m.f_edit)
    check(g, m.f_edit, (1.5,))
    path = pathlib.Path(m.__file__)
    old = "def f_edit(x):\n    return 2.0 * x ** 2\n"
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, "def f_edit(x):\n    return 5.0 * x ** 3\n"))
    os.utime(path, (1, 1))  # (a new mtime even within the same second: linecache re-reads)
    # the adjoint already built is the running code's: still served, and still right
    check(g, m.f_edit, (1.5,))
    # building a new one would read the edited text, which is not what runs
    for attempt in (lambda: g(np.array([1.5, 2.0])), lambda: adjointc.grad(m.f_edit)(2.5)):
        with pytest.raises(AdjointcError, match="reload the module") as info:
            attempt()
        assert "f_edit" in str(info.value) and str(path) in str(info.value)
    # after a reload the new function is differentiated, consistently
    spec = importlib.util.spec_from_file_location(m.__name__, path)
    m2 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m2)
    got = check(adjointc.grad(m2.f_edit), m2.f_edit, (1.5,))
    np.testing.assert_allclose(got, 15.0 * 1.5 ** 2)


def test_helper_file_edited_without_reload_is_refused(tmp_path):
    m = load(tmp_path)
    path = pathlib.Path(m.__file__)
    old = "def h(x):\n    return 2.0 * x ** 2\n"
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, "def h(x):\n    return 9.0 * x ** 2\n"))
    os.utime(path, (1, 1))
    with pytest.raises(AdjointcError, match="reload the module") as info:
        adjointc.grad(m.f_helper)(1.5)
    assert "the source of h in" in str(info.value)


def test_source_check_is_not_fooled_by_module_context(tmp_path):
    """Closures, private names, super(), decorators and import-bound names compile
    differently inside their module than alone: none of them is a false alarm."""
    text = textwrap.dedent("""\
        from __future__ import annotations
        import math
        import numpy as np
        from functools import wraps

        def deco(fn):
            return fn

        class Base:
            def scale(self):
                return 1.0

        class Sub(Base):
            __k = 3.0

            def scale(self) -> float:
                return super().scale() * self.__k

        def make(c):
            def inner(x):
                return c * math.sin(x)
            return inner

        @deco
        def decorated(x: float) -> float:
            return np.sin(x) * x

        closure = make(2.0)
        """)
    m = load(tmp_path, text)
    for fn in (m.Sub.scale, m.Base.scale, m.closure, m.decorated, m.make, m.deco):
        assert reach.source_matches(fn, inspect.getsource(fn)) is True, fn
    check(adjointc.grad(m.closure), m.closure, (0.7,))
    check(adjointc.grad(m.decorated), m.decorated, (0.7,))


def test_corpus_adjoints_stay_memoised():
    """No false alarm: over the whole corpus, a second call with nothing changed
    finds its adjoint still fresh (no rebuild, not even a disk look-up)."""
    import test_corpus
    from corpus import copy_value
    checked = 0
    for case in test_corpus.CASES:
        if case.bugs:
            continue
        a = case.calls()[0]
        g = adjointc.grad(case.fn, wrt=case.wrt)
        g(*[copy_value(x) for x in a.args], **{k: copy_value(v) for k, v in a.kwargs.items()})
        t, s = api.stats()["transforms"], cache.stats()
        g(*[copy_value(x) for x in a.args], **{k: copy_value(v) for k, v in a.kwargs.items()})
        assert (api.stats()["transforms"], cache.stats()) == (t, s), case.name
        checked += 1
    assert checked > 200


# ---------------------------------------------------------------- planted entries

GOOD = "def f(x):\n    return x * 3 + OFFSET\n"
NS = {"OFFSET": 1}


class Builder:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        return GOOD


def planted(key: str, marker: pathlib.Path) -> bytes:
    """An entry with a valid header and checksum for `key` that would run code: only the
    trust checks can stop it."""
    body = f"open({str(marker)!r}, 'w').close()\ndef f(x):\n    return -1000\n".encode()
    return f"# adjointc cache entry key={key} sha256={hashlib.sha256(body).hexdigest()}\n".encode() + body


def fresh_key(label: str) -> str:
    return cache.make_key({"t": label, "n": str(_counter[0])})


def load_entry(key: str, name: str = "p"):
    build = Builder()
    m, hit = cache.load_or_build(key, build, name=name, namespace=NS)
    return m, hit, build.calls


def other_owner(path: pathlib.Path, monkeypatch) -> None:
    """Make `path` belong to someone else: chown when we are root; otherwise (we cannot
    give a file away) make the owner check see this one inode as owned by uid 12345."""
    if os.geteuid() == 0:
        os.chown(path, 12345, 12345, follow_symlinks=False)
        return
    ino, real = os.lstat(path).st_ino, cache._euid
    check = cache._untrusted
    monkeypatch.setattr(cache, "_untrusted", lambda st: (
        f"is owned by uid 12345, not by you (uid {real()})" if st.st_ino == ino else check(st)))


def test_directory_is_created_0700_and_entries_0600(cdir):
    old = os.umask(0)  # (even with a permissive umask)
    try:
        key = fresh_key("modes")
        m, hit, _ = load_entry(key)
    finally:
        os.umask(old)
    assert not hit and m.f(2) == 7
    assert stat.S_IMODE(os.lstat(cdir).st_mode) == 0o700
    [path] = cache.entries()
    assert stat.S_IMODE(os.lstat(path).st_mode) == 0o600
    assert sorted(p.name for p in cdir.iterdir()) == [path.name]  # no temp files left
    _, hit, calls = load_entry(key)
    assert hit and calls == 0


def _plant(cdir: pathlib.Path, key: str, how: str, marker: pathlib.Path, monkeypatch, tmp_path) -> pathlib.Path:
    """Build the entry for `key`, then replace it by a planted one as `how` says."""
    load_entry(key)
    [path] = cache.entries()
    if how == "symlink":
        target = tmp_path / "evil.py"
        target.write_bytes(planted(key, marker))
        target.chmod(0o600)
        path.unlink()
        path.symlink_to(target)
    else:
        path.write_bytes(planted(key, marker))
        if how == "entry_0666":
            path.chmod(0o666)
        elif how == "entry_group_writable":
            path.chmod(0o620)
        elif how == "entry_other_owner":
            other_owner(path, monkeypatch)
        elif how == "directory_0777":
            cdir.chmod(0o777)
        elif how == "directory_other_owner":
            other_owner(cdir, monkeypatch)
    return path


ENTRY_CASES = {"symlink": "is a symbolic link", "entry_0666": "writable by group or others",
               "entry_group_writable": "writable by group or others", "entry_other_owner": "is owned by uid"}
DIR_CASES = {"directory_0777": "writable by group or others", "directory_other_owner": "is owned by uid"}


@pytest.mark.parametrize("how", sorted(ENTRY_CASES))
def test_untrusted_entry_is_never_executed_and_is_replaced(cdir, tmp_path, how):
    key, marker, pretence = fresh_key(how), tmp_path / "marker", pytest.MonkeyPatch()
    path = _plant(cdir, key, how, marker, pretence, tmp_path)
    before = cache.stats()
    with pytest.warns(RuntimeWarning) as record:
        m, hit, calls = load_entry(key)
    assert (hit, calls, m.f(2)) == (False, 1, 7)
    assert not marker.exists()
    [w] = [w for w in record if "not trusted" in str(w.message)]
    assert str(path) in str(w.message) and ENTRY_CASES[how] in str(w.message)
    assert cache.stats()["untrusted"] == before["untrusted"] + 1
    # replaced by a trusted entry of ours (a link is replaced itself, its target untouched)
    st = os.lstat(path)
    assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        assert st.st_uid == 0
    if how == "symlink":
        assert (tmp_path / "evil.py").read_bytes() == planted(key, marker)
    pretence.undo()  # (the uid pretence, if any)
    _, hit, calls = load_entry(key)
    assert hit and calls == 0


@pytest.mark.parametrize("how", sorted(ENTRY_CASES))
def test_untrusted_entry_warns_once_per_path(cdir, tmp_path, monkeypatch, how):
    key, marker = fresh_key("once" + how), tmp_path / "marker"
    _plant(cdir, key, how, marker, monkeypatch, tmp_path)
    with pytest.warns(RuntimeWarning, match="not trusted"):
        load_entry(key)
    _plant(cdir, key, how, marker, monkeypatch, tmp_path)  # planted again
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m, hit, calls = load_entry(key)
    assert (hit, calls, m.f(2)) == (False, 1, 7) and not marker.exists()


@pytest.mark.parametrize("how", sorted(DIR_CASES))
def test_untrusted_directory_is_neither_executed_nor_written(cdir, tmp_path, monkeypatch, how):
    key, marker = fresh_key(how), tmp_path / "marker"
    path = _plant(cdir, key, how, marker, monkeypatch, tmp_path)
    with pytest.warns(RuntimeWarning) as record:
        m, hit, calls = load_entry(key)
    assert (hit, calls, m.f(2)) == (False, 1, 7)
    assert not marker.exists()
    [w] = [w for w in record if "not trusted" in str(w.message)]
    assert str(cdir) in str(w.message) and DIR_CASES[how] in str(w.message)
    # built in a private place, the planted entry left as it was (we do not write there)
    assert not m.__file__.startswith(str(cdir)) and pathlib.Path(m.__file__).is_file()
    assert stat.S_IMODE(os.lstat(pathlib.Path(m.__file__).parent).st_mode) == 0o700
    assert path.read_bytes() == planted(key, marker)
    with warnings.catch_warnings():  # once per directory
        warnings.simplefilter("error")
        m, hit, calls = load_entry(key)
    assert (hit, calls, m.f(2)) == (False, 1, 7) and not marker.exists()


def test_symlinked_directory_is_not_trusted(tmp_path, monkeypatch):
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    link = tmp_path / "link"
    link.symlink_to(real)
    monkeypatch.setenv("ADJOINTC_CACHE_DIR", str(link))
    key, marker = fresh_key("dirlink"), tmp_path / "marker"
    entry = real / f"p-{key[:16]}.py"
    entry.write_bytes(planted(key, marker))
    entry.chmod(0o600)
    with pytest.warns(RuntimeWarning, match=r"is not trusted: it is a symbolic link"):
        m, hit, calls = load_entry(key)
    assert (hit, calls, m.f(2)) == (False, 1, 7) and not marker.exists()
    assert entry.read_bytes() == planted(key, marker)


def test_planted_entry_end_to_end(tmp_path):
    """A second process whose entry was replaced by a planted, world-writable one with a
    valid checksum: warns, runs none of it, and returns the right gradient."""
    pkg, cache_dir = tmp_path / "pkg", tmp_path / "cache"
    write_package(pkg)
    first = run_child(pkg, cache_dir, "module_constant")
    [entry] = sorted(cache_dir.glob("f_const_grad-*.py"))
    key = entry.read_text().split("key=", 1)[1].split()[0]
    marker = tmp_path / "marker"
    body = (f"open({str(marker)!r}, 'w').close()\n"
            "def f_const_grad(x, result_bar=1.0):\n    return (0.0, (123.0,))\n").encode()
    entry.write_bytes(f"# adjointc cache entry key={key} sha256={hashlib.sha256(body).hexdigest()}\n".encode()
                      + body)
    entry.chmod(0o666)
    env = {k: v for k, v in os.environ.items() if k != "TRUST_K"}
    env.update(ADJOINTC_CACHE_DIR=str(cache_dir), PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-c", CHILD, str(pkg), "module_constant"], capture_output=True,
                       text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    second = json.loads(r.stdout.strip().splitlines()[-1])
    assert not marker.exists()
    assert "RuntimeWarning" in r.stderr and str(entry) in r.stderr and "writable by group or others" in r.stderr
    np.testing.assert_allclose(second["grad"], second["fd"], rtol=1e-6)
    np.testing.assert_allclose(second["grad"], first["grad"], rtol=0, atol=0)
    assert stat.S_IMODE(os.lstat(entry).st_mode) == 0o600


def test_closure_values_are_read_at_call_time_and_types_rechecked(tmp_path):
    """A closure cell holding a number is read at call time (no rebuild when its value
    changes); a cell that changes type rebuilds."""
    m = load(tmp_path, textwrap.dedent("""\
        import numpy as np

        def make(c):
            def f(x):
                return np.sum(c * x * x)
            def set_c(v):
                nonlocal c
                c = v
            return f, set_c
        """))
    f, set_c = m.make(2.0)
    g = adjointc.grad(f)
    check(g, f, (1.5,))
    t = api.stats()["transforms"] + cache.stats()["misses"]
    set_c(3.0)
    np.testing.assert_allclose(check(g, f, (1.5,)), 9.0)
    assert api.stats()["transforms"] + cache.stats()["misses"] == t  # same type: not rebuilt
    set_c(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(check(g, f, (1.5,)), 18.0)


def test_clear_removes_a_planted_link_not_its_target(cdir, tmp_path, monkeypatch):
    key, marker = fresh_key("clear"), tmp_path / "marker"
    path = _plant(cdir, key, "symlink", marker, monkeypatch, tmp_path)
    assert cache.entries() == []  # (a link is not an entry)
    assert cache.clear() == 1
    assert not os.path.lexists(path) and (tmp_path / "evil.py").read_bytes() == planted(key, marker)


def test_import_hook_instrumentation_is_not_a_false_alarm(tmp_path):
    """An import hook that instruments code (pytest's assertion rewriting, a runtime type
    checker) makes the running code differ from a plain compile of the file: that alone
    is no reason to refuse; an edited constant still is."""
    import ast

    class Instrumenting(importlib.machinery.SourceFileLoader):
        def source_to_code(self, data, path, *, _optimize=-1):
            tree = ast.parse(data)
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef):
                    node.body.insert(0, ast.parse("CALLS.append(1)").body[0])
            return compile(ast.fix_missing_locations(tree), path, "exec", dont_inherit=True)

        def set_data(self, *args, **kwargs):  # (no .pyc: a plain import must not load ours)
            pass

    _counter[0] += 1
    name = f"trust_hooked_{_counter[0]}"
    path = tmp_path / f"{name}.py"
    path.write_text("import numpy as np\n\nCALLS = []\n\n\ndef f(x):\n    return 2.0 * np.sin(x) * x\n")
    loader = Instrumenting(name, str(path))
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    m = importlib.util.module_from_spec(spec)
    sys.modules[name] = m
    loader.exec_module(m)
    m.f(1.0)
    assert m.CALLS == [1]  # (really instrumented)
    check(adjointc.grad(m.f), m.f, (0.7,))
    path.write_text(path.read_text().replace("2.0 * np.sin", "5.0 * np.sin"))
    os.utime(path, (1, 1))
    with pytest.raises(AdjointcError, match="reload the module"):
        adjointc.grad(m.f)(0.7)


def _scaled_square(x, k=2.0, *, p=1.0):
    return k * x * x + p * x


def test_defaults_reassigned_after_the_first_call_are_bound():
    """A call of the function binds its current defaults; so does its gradient."""
    g = adjointc.grad(_scaled_square)
    saved = (_scaled_square.__defaults__, _scaled_square.__kwdefaults__)
    try:
        assert g(3.0) == pytest.approx(2.0 * 2.0 * 3.0 + 1.0, rel=1e-12)
        _scaled_square.__defaults__ = (5.0,)
        _scaled_square.__kwdefaults__ = {"p": -4.0}
        h = 1e-6
        fd = (_scaled_square(3.0 + h) - _scaled_square(3.0 - h)) / (2 * h)
        assert g(3.0) == pytest.approx(fd, rel=1e-8)
        assert g(3.0) == pytest.approx(2.0 * 5.0 * 3.0 - 4.0, rel=1e-12)
    finally:
        _scaled_square.__defaults__, _scaled_square.__kwdefaults__ = saved


def test_lines_inserted_above_an_unchanged_function_are_refused(tmp_path):
    """The frontend reads a function's text at its line numbers: lines inserted above an
    unchanged f (a new helper) would make it read another function's text, a silently
    wrong gradient. Refused like any edit, since f's code is no longer at those lines."""
    path = tmp_path / "shifted_mod.py"
    path.write_text("import numpy as np\n\n\ndef f(x):\n    return x * x * x\n")
    spec = importlib.util.spec_from_file_location("shifted_mod", path)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    path.write_text("import numpy as np\n\n\ndef g(x):\n    return x * 2.0\n\n\ndef f(x):\n    return x * x * x\n")
    os.utime(path, (1, 1))
    with pytest.raises(AdjointcError, match="reload the module"):
        adjointc.grad(m.f)(2.0)
