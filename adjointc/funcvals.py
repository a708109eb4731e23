"""Function values: a user function passed as an argument is a static argument.

`rk4_step(rhs, y, dt)` called with `rhs=lorenz` is compiled as the specialisation
`rk4_step__lorenz`: a copy of `rk4_step` (the same code object, so the same source,
the same cache checks) that carries `{"rhs": lorenz}` as its *statics*
(`STATIC_ATTR`). The frontend lowers a specialisation's body with each static
parameter meaning its function, as a global would (`rhs(y)` is a direct call of
lorenz, `call:rhs`), so everything downstream (inlining, the callee's own adjoint in
joint mode, activity, types) sees ordinary calls. The static parameter stays in the
signature: the caller passes the function at run time (the generated `rhs(y)` reads
it), and a function value is of the type `func` (types.py), never differentiated.

Contract:

* `specialise(base, statics)` is memoised on the identities of `base` and of the
  static functions (it holds them), so a specialisation is one object per
  combination and its compiled adjoint is reused; `statics_of(fn)` gives them.
* `live(fn)` adds a specialisation's statics to what its names mean at run time
  (compiler.live_globals); `reach(fn, classes)` adds the statics' own reach (their
  source, their globals) to the cache key and the freshness probes of `fn`'s.
* Synthetic names: a caller's generated code refers to a specialisation
  (`rk4_step__lorenz`) and to a lambda or nested def passed as a value
  (`lambda_12`) by names the user's module does not bind. The frontend records
  them with a *spelling* (`Lowered.synthetic`); `resolve(spelling, live, globals)`
  gives the object again from the spelling alone (a disk-cache hit in a new process
  lowers nothing): `("spec", base, ((param, value), ...))`, `("code", module,
  filename, qualname, line)` (a nested def or lambda: its code object found in its
  file), or a dotted name read through the caller's globals.
* A lambda or nested def passed as a value must not read the enclosing function's
  variables (its code has no free variables): it is then an ordinary function of its
  module, materialised from its code object (`materialise`).
"""
from __future__ import annotations

import ast
import linecache
import sys
import types as pytypes
from typing import Any, Callable, Iterable

from . import reach as reach_mod

STATIC_ATTR = "__adjointc_static__"
BASE_ATTR = "__adjointc_base__"

_SPECS: dict[tuple, pytypes.FunctionType] = {}
_MATERIALISED: dict[tuple, pytypes.FunctionType] = {}


def statics_of(fn: Any) -> dict[str, Any]:
    """The static function arguments a specialisation was made for ({} otherwise)."""
    return getattr(fn, STATIC_ATTR, None) or {}


def tag(fn: Any) -> str:
    """The part of a specialisation's name that names a function value."""
    name = getattr(fn, "__name__", "fn")
    if not name.isidentifier():  # a lambda: by its line
        name = f"lambda{fn.__code__.co_firstlineno}"
    return name.strip("_") or "fn"


def specialise(base: pytypes.FunctionType, statics: dict[str, Any]) -> pytypes.FunctionType:
    """`base` specialised on the function values `statics` (parameter -> function)."""
    inherited = statics_of(base)
    origin = getattr(base, BASE_ATTR, base)
    full = {**inherited, **statics}
    key = (id(origin), tuple(sorted((p, id(v)) for p, v in full.items())))
    hit = _SPECS.get(key)
    if hit is not None and getattr(hit, BASE_ATTR) is origin and hit.__code__ is origin.__code__ \
            and hit.__defaults__ is origin.__defaults__ and all(statics_of(hit).get(p) is v for p, v in full.items()):
        return hit  # (a base whose code or defaults were reassigned since gets a new copy)
    suffix = "_".join(tag(full[p]) for p in sorted(full))
    root = origin.__name__ if origin.__name__.isidentifier() else tag(origin)
    spec = pytypes.FunctionType(origin.__code__, origin.__globals__, f"{root}__{suffix}",
                                origin.__defaults__, origin.__closure__)
    spec.__kwdefaults__ = origin.__kwdefaults__
    spec.__qualname__ = f"{origin.__qualname__}__{suffix}".replace("<lambda>", root)
    spec.__module__ = origin.__module__
    spec.__doc__ = origin.__doc__
    setattr(spec, STATIC_ATTR, full)
    setattr(spec, BASE_ATTR, origin)
    _SPECS[key] = spec
    return spec


def live(fn: Callable, names: dict[str, Any]) -> dict[str, Any]:
    """`names` (fn's globals and cells) with fn's statics: what names mean where fn runs."""
    statics = statics_of(fn)
    if statics:
        names.update(statics)
    return names


def reach(fn: Callable, classes: Iterable[type] = ()) -> reach_mod.Reach:
    """reach.reach(fn), with the reach of each static function value merged in."""
    r = reach_mod.reach(fn, classes)
    todo = list(statics_of(fn).items())
    seen: set[int] = set()
    while todo:
        p, v = todo.pop()
        if id(v) in seen or not isinstance(v, pytypes.FunctionType):
            continue
        seen.add(id(v))
        inner = reach_mod.reach(v)
        r.functions += [f for f in inner.functions if f not in r.functions]
        r.probes += inner.probes
        r.parts.update({f"static {p}: {k}": x for k, x in inner.parts.items()})
        todo += list(statics_of(v).items())
    return r


# ------------------------------------------------- lambdas and nested defs as values
def nested_code(outer: pytypes.CodeType, name: str, line: int) -> list[pytypes.CodeType]:
    """The code objects nested in `outer` (at any depth) named `name` starting on `line`."""
    out = []
    todo = [outer]
    while todo:
        c = todo.pop()
        for k in c.co_consts:
            if isinstance(k, pytypes.CodeType):
                if k.co_name == name and k.co_firstlineno == line:
                    out.append(k)
                todo.append(k)
    return out


def materialise(code: pytypes.CodeType, globals_: dict, module: str,
                defaults: tuple | None = None) -> pytypes.FunctionType:
    """A function of `module` (whose globals are `globals_`) running `code` (a nested def
    or lambda without free variables); one object per code (memoised), so
    specialisations on it are reused."""
    key = (code.co_filename, code.co_qualname, code.co_firstlineno, module, id(globals_), defaults)
    hit = _MATERIALISED.get(key)
    if hit is not None and hit.__globals__ is globals_:
        return hit
    fn = pytypes.FunctionType(code, globals_, code.co_name, defaults)
    fn.__qualname__ = code.co_qualname
    fn.__module__ = module
    _MATERIALISED[key] = fn
    return fn


def code_spelling(code: pytypes.CodeType, module: str, defaults: tuple | None) -> tuple:
    return ("code", module, code.co_filename, code.co_qualname, code.co_firstlineno, defaults)


def resolve(spelling: Any, live_names: dict[str, Any], lookup: Callable[[str, dict], Any]) -> Any:
    """The object a synthetic name's spelling (see the module docstring) means now.
    `lookup(name, live)`: a dotted name through the caller's globals (compiler._resolve)."""
    if isinstance(spelling, str):
        return lookup(spelling, live_names)
    kind = spelling[0]
    if kind == "spec":
        _, base, statics = spelling
        fn = resolve(base, live_names, lookup)
        return specialise(fn, {p: resolve(v, live_names, lookup) for p, v in statics})
    _, module, filename, qualname, line, defaults = spelling
    if module not in sys.modules:
        raise LookupError(f"the module {module} of {qualname} is not imported")
    globals_ = sys.modules[module].__dict__
    text = "".join(linecache.getlines(filename, globals_))
    codes = [c for c in (reach_mod._file_codes(filename, text) or {}).get(qualname, [])
             if c.co_firstlineno == line]
    if len(codes) != 1:
        raise LookupError(f"cannot find the code of {qualname} at {filename}:{line}")
    return materialise(codes[0], globals_, module, defaults)


def literal_defaults(fdef_defaults: list[Any]) -> tuple | None:
    """The values of a nested def's literal defaults (None: none; raises ValueError
    for a default that is not a literal)."""
    if not fdef_defaults:
        return None
    return tuple(ast.literal_eval(d) for d in fdef_defaults)
