"""What a generated adjoint depends on besides its own function's text: the cache key
and the cheap per-call check that an in-memory adjoint is still the right one.

Contract
--------
:func:`reach` walks, without lowering anything, every object the frontend may reach
from a function: the names its code (and the code nested in it) loads, looked up in
its globals and closure cells, and from there attribute chains through user modules,
classes and plain objects (``pkg.sub.h``, ``K.h``, ``cm.C``, ``cfg.k``), transitively
through every user function found; plus every method of the classes given (the classes
of parameter objects, whose methods ``p.step()`` reaches through the argument's type).
Library code (the standard library, site-packages, NumPy, adjointc) is not walked: the
Python, NumPy and adjointc versions in the key stand for it, and the frontend never
transforms it.

The :class:`Reach` it returns gives

* :meth:`Reach.key_parts`: text that determines the generated code. The source of every
  user function, method, staticmethod and classmethod reached; the default values of
  each (the frontend folds a callee's literal defaults into the caller's code); the
  value of every number reached through an attribute (the frontend folds ``cm.C`` and
  ``cfg.k`` into the code as literals, so their values, not only their types, are part
  of the key); and the type signature of every module-level value read by name (read at
  call time, but the code is specialised on its type). The source of each function is
  checked against the code object that runs: a file edited after its module was
  imported raises :class:`~adjointc.errors.StaleSource` ("reload the module") instead of
  differentiating text that is not what runs.
* :meth:`Reach.valid`: whether everything the walk saw still holds, by identity (the
  function bound to each name, its ``__code__`` and defaults, each module attribute,
  class attribute and cell, the class a parameter's signature names) or, for folded
  numbers, by value; for values read by name (globals, closure cells), by type
  signature. It reads no source and costs a few dictionary look-ups per name reached.

Objects reached are held (strongly) by the Reach, so identities cannot be reused.
"""
from __future__ import annotations

import __future__ as future_mod
import functools
import importlib.machinery
import inspect
import linecache
import math
import os
import sys
import textwrap
import types as pytypes
from typing import Any, Callable, Iterable

import numpy as np

from . import types as T
from .errors import StaleSource
from .ir import Loc


_MISSING = object()
_MAX_DEPTH = 8  # attribute chains followed from one name (pkg.sub.mod.Class.attr)
_FOLDED = (bool, int, float, complex)  # attribute values the frontend inlines as literals
_BY_NAME = (bool, int, float, complex, str, tuple, np.ndarray, np.generic)  # read at call time
_MEMBERS = (staticmethod, classmethod, property, pytypes.FunctionType) + _FOLDED  # of a class, that matter
_FUTURE_FLAGS = 0
for _name in future_mod.all_feature_names:
    _FUTURE_FLAGS |= getattr(future_mod, _name).compiler_flag

# probe kinds: what `valid` re-checks
_ENTRY = 0   # mapping[name] is expected (a globals dict or a module's __dict__)
_ATTR = 1    # getattr(obj, name) is expected (fn.__code__, fn.__defaults__)
_CELL = 2    # cell.cell_contents is expected
_MRO = 3     # the class attribute found statically through cls.__mro__ is expected
_VALUE = 4   # getattr(obj, name) equals expected (a folded number read off an object)
_SIG = 5     # mapping[name] has expected[1] as type signature (fast path: is expected[0])
_EVALUE = 6  # mapping[name] equals expected (a folded number read off a module)
_CSIG = 7    # like _SIG for a closure cell (a nonlocal counter may change between calls)


class Reach:
    """The result of :func:`reach`: see the module docstring."""

    def __init__(self) -> None:
        self.functions: list[Callable] = []
        self.parts: dict[str, str] = {}
        self.probes: list[tuple[int, Any, Any, Any]] = []

    def valid(self) -> bool:
        """Does every probe still hold? (Called on every gradient call: keep it cheap.)"""
        for kind, where, name, expect in self.probes:
            if kind == _ENTRY:
                if where.get(name, _MISSING) is not expect:
                    return False
            elif kind == _ATTR:
                if getattr(where, name, _MISSING) is not expect:
                    return False
            elif kind == _CELL:
                try:
                    if where.cell_contents is not expect:
                        return False
                except ValueError:
                    return False
            elif kind == _MRO:
                if _static(where, name) is not expect:
                    return False
            elif kind == _VALUE or kind == _EVALUE:
                v = where.get(name, _MISSING) if kind == _EVALUE else _getattr(where, name)
                if v is not expect and not _same_number(v, expect):
                    return False
            elif kind == _SIG:
                v = where.get(name, _MISSING)
                if v is not expect[0] and (v is _MISSING or _signature(v) != expect[1]):
                    return False
            else:  # _CSIG
                try:
                    v = where.cell_contents
                except ValueError:
                    return False
                if v is not expect[0] and _signature(v) != expect[1]:
                    return False
        return True

    def key_parts(self) -> tuple[str, str]:
        """``(sources, values)``: the text of every user function reached (each checked
        against its code object), and the folded values, defaults and global types."""
        # (the first line too: the generated code's comments give the user's line numbers)
        texts = sorted(f"# {f.__module__}.{f.__qualname__}:{f.__code__.co_firstlineno}\n{checked_source(f)}"
                       for f in self.functions)
        values = "\n".join(f"{k}={v}" for k, v in sorted(self.parts.items()))
        return "\n".join(texts), values


def reach(fn: Callable, classes: Iterable[type] = ()) -> Reach:
    """Walk everything `fn` (and the methods of `classes`) may reach: see the module docstring."""
    w = _Walker()
    if isinstance(fn, pytypes.MethodType):  # grad(obj.f): f, and the methods of obj's class
        classes = [*classes, type(fn.__self__) if not isinstance(fn.__self__, type) else fn.__self__]
        fn = fn.__func__
    elif isinstance(fn, functools.partial):  # its bound arguments may be folded in
        w.reach.parts["partial"] = _literal((fn.args, fn.keywords))
        fn = fn.func
    elif not isinstance(fn, pytypes.FunctionType) and isinstance(getattr(type(fn), "__call__", None),
                                                                 pytypes.FunctionType):
        classes = [*classes, type(fn)]  # a callable object: its class's __call__ and methods
    w.function(fn)
    for cls in sorted(set(classes), key=lambda c: f"{c.__module__}.{c.__qualname__}"):
        # a class redefined under the same name (a re-run notebook cell) gives the same
        # signature: the registry entry the signature names must still be this class
        name = f"{cls.__module__}:{cls.__qualname__}"
        if T.CLASSES.get(name) is cls:
            w.reach.probes.append((_ENTRY, T.CLASSES, name, cls))
        w.klass(cls)
    return w.reach


def classes_of(arg_types: Iterable[T.T]) -> list[type]:
    """The user classes of the parameter objects in an abstract signature (nested too)."""
    out: list[type] = []
    todo = list(arg_types)
    while todo:
        t = todo.pop()
        if t.kind == "struct" and t.cls != "dict" and t.cls in T.CLASSES:
            out.append(T.CLASSES[t.cls])
        todo.extend(t.elts or ())
        todo.extend(ft for _, ft in (t.fields or ()))
    return out


class _Walker:
    def __init__(self) -> None:
        self.reach = Reach()
        self.seen: set[int] = set()
        self.explored: set[tuple[int, str]] = set()
        self.keep: list[Any] = []  # (so ids stay unique while the walk runs)

    # ------------------------------------------------------------ functions
    def function(self, f: Callable) -> None:
        wrapped = getattr(f, "__wrapped__", None)
        if wrapped is not None:  # (a functools.wraps wrapper computes what its own code says, too)
            self.function(wrapped)
        if not isinstance(f, pytypes.FunctionType) or id(f) in self.seen or _is_library(f):
            return
        self.seen.add(id(f))
        self.keep.append(f)
        r = self.reach
        r.functions.append(f)
        label = f"{f.__module__}.{f.__qualname__}"
        code = f.__code__
        r.probes += [(_ATTR, f, "__code__", code), (_ATTR, f, "__defaults__", f.__defaults__),
                     (_ATTR, f, "__kwdefaults__", f.__kwdefaults__)]
        if f.__defaults__ or f.__kwdefaults__:
            r.parts[f"{label}:defaults"] = _literal((f.__defaults__, f.__kwdefaults__))
        names = _code_names(code)
        cells = dict(zip(code.co_freevars, f.__closure__ or ()))
        g = f.__globals__
        for n in sorted(names | set(cells)):
            if n in cells:
                try:
                    v = cells[n].cell_contents
                except ValueError:
                    continue
                if isinstance(v, _BY_NAME):
                    r.probes.append((_CSIG, cells[n], None, (v, _signature(v))))
                else:
                    r.probes.append((_CELL, cells[n], None, v))
                self.value(v, f"{label}:{n}", names, 0, by_name=True)
            elif n in g:
                v = g[n]
                if isinstance(v, _BY_NAME):
                    r.probes.append((_SIG, g, n, (v, _signature(v))))
                else:
                    r.probes.append((_ENTRY, g, n, v))
                self.value(v, f"{label}:{n}", names, 0, by_name=True)

    def klass(self, cls: type) -> None:
        """Every method of a parameter object's class (and its user base classes)."""
        if _is_library(cls):
            return
        label = f"{cls.__module__}.{cls.__qualname__}"
        for name in sorted({n for k in cls.__mro__ if not _is_library(k) for n in vars(k)}):
            raw = _static(cls, name)
            if isinstance(raw, _MEMBERS):  # (not __module__, __dict__, dataclass metadata...)
                self.reach.probes.append((_MRO, cls, name, raw))
                self.member(raw, f"{label}.{name}")

    def member(self, raw: Any, label: str) -> None:
        if isinstance(raw, (staticmethod, classmethod)):
            self.function(raw.__func__)
        elif isinstance(raw, property):
            for acc in (raw.fget, raw.fset):
                if acc is not None:
                    self.function(acc)
        elif isinstance(raw, pytypes.FunctionType):
            self.function(raw)
        elif isinstance(raw, _FOLDED):
            self.reach.parts[label] = _literal(raw)

    # --------------------------------------------------------------- values
    def value(self, v: Any, label: str, names: set[str], depth: int, by_name: bool = False) -> None:
        """Something reached by a name or an attribute chain: record what the generated
        code depends on, and follow the attribute names the code loads."""
        if isinstance(v, pytypes.FunctionType) or hasattr(v, "__wrapped__") and callable(v):
            if getattr(type(v), "__adjointc_gradient__", False) is True:  # (which gradient of it)
                from .higher import key_of
                self.reach.parts[label] = key_of(v)
            self.function(v)
            return
        if isinstance(v, _BY_NAME) or v is None:
            # by name: read at call time, only the type matters; by attribute: folded in
            self.reach.parts[label] = _signature(v) if by_name else _literal(v)
            return
        if depth >= _MAX_DEPTH or _is_library(v):
            return
        if isinstance(v, pytypes.ModuleType):
            d = vars(v)
            for a in sorted(names):
                if a in d and (id(v), a) not in self.explored:
                    self.explored.add((id(v), a))
                    x = d[a]
                    self.reach.probes.append((_EVALUE if isinstance(x, _FOLDED) else _ENTRY, d, a, x))
                    self.value(x, f"{label}.{a}", names, depth + 1)
        elif isinstance(v, type):
            for a in sorted(names):
                raw = _static(v, a)
                if raw is not _MISSING and (id(v), a) not in self.explored:
                    self.explored.add((id(v), a))
                    self.keep.append(v)
                    self.reach.probes.append((_MRO, v, a, raw))
                    if isinstance(raw, _MEMBERS):
                        self.member(raw, f"{label}.{a}")
                    else:
                        self.value(raw, f"{label}.{a}", names, depth + 1)
        elif not callable(v) and not isinstance(v, _BY_NAME):  # a plain object holding settings: cfg.k
            self.keep.append(v)
            for a in sorted(names):
                x = _getattr(v, a)
                # what the frontend can take from an object: a number (folded in), a user
                # function (called), or something to follow further; anything else it
                # refuses, and a fresh object per access (a bound method) would never
                # compare equal again
                if (x is _MISSING or (id(v), a) in self.explored or not (
                        x is None or isinstance(x, _FOLDED + (pytypes.FunctionType, pytypes.ModuleType, type))
                        or not callable(x) and not isinstance(x, _BY_NAME))):
                    continue
                again = _getattr(v, a)
                if again is not x and not _same_number(again, x):
                    continue  # a property that makes a new object per read: nothing stable to fold
                self.explored.add((id(v), a))
                self.reach.probes.append((_VALUE, v, a, x))
                self.value(x, f"{label}.{a}", names, depth + 1)


# --------------------------------------------------------------- source check
_LINES: dict[int, tuple[pytypes.CodeType, list[str], tuple[list[str], int]]] = {}


def sourcelines(code: pytypes.CodeType) -> tuple[list[str], int]:
    """`inspect.getsourcelines(code)`, memoised while linecache holds the same lines
    for its file (finding the end of a def tokenizes it: a long function was
    tokenized once per reader). A file edited since is re-read by linecache's
    checkcache into a new list, and so read again here. Raises as inspect does."""
    file = inspect.getsourcefile(code)
    if file:
        linecache.checkcache(file)

    def held() -> list[str] | None:
        entry = linecache.cache.get(file) if file else None
        return entry[2] if entry is not None and len(entry) == 4 else None
    hit, now = _LINES.get(id(code)), held()
    if hit is not None and hit[0] is code and now is not None and hit[1] is now:
        return list(hit[2][0]), hit[2][1]
    lines, first = inspect.getsourcelines(code)
    now = held()
    if now is not None:
        _LINES[id(code)] = (code, now, (list(lines), first))
    return lines, first


_CHECKED: dict[int, tuple[pytypes.CodeType, str]] = {}  # id(code) -> (code, text that matched)


def checked_source(f: pytypes.FunctionType) -> str:
    """The source text of `f`, refused if it does not compile to the code `f` runs."""
    try:  # (the function's own code: inspect.getsource(f) would follow __wrapped__)
        text = "".join(sourcelines(f.__code__)[0])
    except (OSError, TypeError):
        return getattr(f, "__qualname__", "")
    code = f.__code__
    hit = _CHECKED.get(id(code))
    if hit is not None and hit[0] is code and hit[1] == text:
        return text
    if source_matches(f, text) is False:
        raise StaleSource(
            f"the source of {f.__qualname__} in {code.co_filename} no longer matches the code that "
            "runs: the file was edited after the module was imported, and adjointc reads the file",
            Loc(code.co_filename, code.co_firstlineno),
            "reload the module (importlib.reload, or restart the interpreter) and differentiate "
            "the reloaded function")
    _CHECKED[id(code)] = (code, text)
    return text


def source_matches(f: pytypes.FunctionType, text: str) -> bool | None:
    """Does the file that `text` (f's source as read now) comes from still compile to
    f's code? None when it cannot be decided.

    The whole file is compiled, not f's text alone: the bytecode of a function depends
    on its module (a name bound by an import is loaded differently, private names are
    mangled inside classes, closures and ``from __future__`` imports come from around
    it). Some code object of f's qualified name must equal f's, line numbers aside; for
    a module imported through an import hook that may instrument code, it must contain
    the recompiled code's parameters, names and constants (an edit that changes only
    operators is then not detected)."""
    code = f.__code__
    whole = "".join(linecache.getlines(code.co_filename, f.__globals__))
    if text not in whole:
        return None  # (not the file inspect read the text from: nothing to compare with)
    found = _file_codes(code.co_filename, whole)
    if found is None:  # the file does not compile as a whole now: compare f's text alone
        src = textwrap.dedent(text)
        if code.co_freevars:  # closure variables stay closure variables in the recompiled copy
            cells = "".join(f"    {n} = None\n" for n in code.co_freevars)
            src = "def __adjointc_outer__():\n" + cells + textwrap.indent(src, "    ")
        try:
            compiled = compile(src, code.co_filename, "exec", flags=code.co_flags & _FUTURE_FLAGS,
                               dont_inherit=True)
        except (SyntaxError, ValueError):
            return None
        candidates = [c for c in _code_objects(compiled) if c.co_name == code.co_name]
    else:
        # (at f's own first line: the frontend reads f's text by its line numbers, so lines
        # inserted above an unchanged f would have it read another function's text)
        candidates = [c for c in found.get(_qualname(code), []) if c.co_firstlineno == code.co_firstlineno]
    loader = f.__globals__.get("__loader__")
    if loader is None or type(loader) is importlib.machinery.SourceFileLoader:
        return any(_same_code(code, c) for c in candidates)
    # an import hook (pytest's assertion rewriting, a runtime type checker) may have
    # instrumented the code: require only that it still holds everything the text gives
    return any(_covers(code, c) for c in candidates)


_FILES: dict[str, tuple[str, dict[str, list[pytypes.CodeType]] | None]] = {}


def _file_codes(filename: str, text: str) -> dict[str, list[pytypes.CodeType]] | None:
    """The code objects `text` compiles to, by qualified name (memoised per file text)."""
    hit = _FILES.get(filename)
    if hit is not None and hit[0] == text:
        return hit[1]
    index: dict[str, list[pytypes.CodeType]] | None = {}
    try:
        compiled = compile(text, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        index = None
    else:
        for c in _code_objects(compiled):
            index.setdefault(_qualname(c), []).append(c)
    _FILES[filename] = (text, index)
    return index


def _qualname(code: pytypes.CodeType) -> str:
    return getattr(code, "co_qualname", code.co_name)  # (Python 3.10: the plain name)


def _code_objects(code: pytypes.CodeType) -> Iterable[pytypes.CodeType]:
    yield code
    for c in code.co_consts:
        if isinstance(c, pytypes.CodeType):
            yield from _code_objects(c)


def _covers(a: pytypes.CodeType, b: pytypes.CodeType) -> bool:
    """Does the running code `a` contain the parameters, names and constants of `b`,
    compiled from the text (instrumentation adds code; an edit changes these)?"""
    n = b.co_argcount + b.co_kwonlyargcount
    if a.co_varnames[:n] != b.co_varnames[:n] or a.co_argcount != b.co_argcount:
        return False
    names = set(a.co_names)
    if not all(y in names or any(x.startswith("_") and x.endswith(y) for x in names) for y in b.co_names):
        return False
    consts = [c for c in a.co_consts if not isinstance(c, pytypes.CodeType)]
    inner = [c for c in a.co_consts if isinstance(c, pytypes.CodeType)]
    for y in b.co_consts:
        if isinstance(y, pytypes.CodeType):
            if not any(x.co_name == y.co_name and _covers(x, y) for x in inner):
                return False
        elif not any(type(x) is type(y) and (x == y or _same_number(x, y)) for x in consts):
            return False
    return True


def _same_code(a: pytypes.CodeType, b: pytypes.CodeType) -> bool:
    """Equal bytecode, constants and names (line numbers aside; a private name may be
    mangled in `a`, compiled inside its class, and not in `b`, compiled alone)."""
    if (a.co_code != b.co_code or a.co_varnames != b.co_varnames or a.co_freevars != b.co_freevars
            or a.co_argcount != b.co_argcount or a.co_kwonlyargcount != b.co_kwonlyargcount
            or len(a.co_names) != len(b.co_names) or len(a.co_consts) != len(b.co_consts)):
        return False
    if not all(x == y or (y.startswith("__") and not y.endswith("__") and x.startswith("_") and x.endswith(y))
               for x, y in zip(a.co_names, b.co_names)):
        return False
    for x, y in zip(a.co_consts, b.co_consts):
        if isinstance(x, pytypes.CodeType) and isinstance(y, pytypes.CodeType):
            if not _same_code(x, y):
                return False
        elif type(x) is not type(y) or (x != y and not _same_number(x, y)):
            return False
    return True


# ------------------------------------------------------------------- helpers
def _code_names(code: pytypes.CodeType) -> set[str]:
    """Global and attribute names loaded by `code` and the code nested in it."""
    names = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, pytypes.CodeType):
            names |= _code_names(c)
    return names


def _static(cls: type, name: str) -> Any:
    """The class attribute `name` as stored (a staticmethod object, not its function)."""
    for k in cls.__mro__:
        d = vars(k)
        if name in d:
            return d[name]
    return _MISSING


def _getattr(obj: Any, name: str) -> Any:
    try:
        return getattr(obj, name, _MISSING)
    except Exception:  # a property that fails: nothing the frontend could fold either
        return _MISSING


def _same_number(a: Any, b: Any) -> bool:
    if type(a) is not type(b) or not isinstance(a, _FOLDED):
        return False
    if a == b:
        return True
    return isinstance(a, float) and math.isnan(a) and math.isnan(b)


def _signature(v: Any) -> str:
    return "None" if v is None else T.signature_key(v)


def _literal(v: Any) -> str:
    """A process-independent text for a value folded into generated code."""
    if v is None or isinstance(v, (bool, int, float, complex, str)):
        return f"{type(v).__name__}:{v!r}"
    if isinstance(v, (tuple, list)):
        return "(" + ",".join(_literal(x) for x in v) + ")"
    if isinstance(v, dict):
        return "{" + ",".join(f"{k!r}:{_literal(x)}" for k, x in sorted(v.items(), key=lambda kv: str(kv[0]))) + "}"
    if isinstance(v, (np.ndarray, np.generic)):  # (never folded: the frontend refuses them)
        return T.signature_key(v)
    return type(v).__qualname__  # (not folded by the frontend: only its type can matter)


_LIBRARY_FILES: dict[str, bool] = {}


def _is_library(obj: Any) -> bool:
    """Code the frontend never transforms (its version stands for it in the key)."""
    from .frontend import _LIBRARY_ROOTS
    if isinstance(obj, pytypes.FunctionType):
        filename = obj.__code__.co_filename
        modname = obj.__module__ or ""
    elif isinstance(obj, pytypes.ModuleType):
        modname = obj.__name__
        filename = getattr(obj, "__file__", None) or ""
        if not filename:
            return True  # a builtin module (sys, math) or a namespace package without files
    elif isinstance(obj, type):
        modname = obj.__module__
        mod = sys.modules.get(modname)
        filename = getattr(mod, "__file__", None) or ""
        if modname == "builtins":
            return True
    else:
        return False
    if modname.split(".")[0] in ("numpy", "adjointc"):
        return True
    if not filename or filename.startswith("<"):
        return False  # a notebook cell, exec'd code: user code
    hit = _LIBRARY_FILES.get(filename)
    if hit is None:
        path = os.path.realpath(filename)
        hit = _LIBRARY_FILES[filename] = any(path.startswith(root + os.sep) for root in _LIBRARY_ROOTS)
    return hit
