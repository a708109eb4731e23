"""Forward mode's orchestration: a Tangent's signature -> generated tangent source -> a callable.

    compile_tangent(t, arg_types, sig)   cache key (reach.py, the mode, wrt) -> cache.load_or_build
    transform_tangent(t, arg_types)      program_of -> passes.TANGENT_PIPELINE (BATCHED_TANGENT_PIPELINE
                                         for t.batched) -> cleanup -> a printer
    tangent_of(fn, wrt, outputs, batched) the Tangent compiled for calls of fn from tangent code
    CalleeTangent                        what a caller's tangent calls: `h_jvp(*args, *dots)`

The same path as compiler.compile_gradient (whose helpers it uses), keyed by the mode
so a tangent and an adjoint of one signature never meet. Linking a tangent's callees
follows reverse-over-reverse (higher.py): a call of a Gradient G is a call of
`higher.specialised(G, types)`, the def calling G's generated adjoint, so the
tangent of a gradient is the tangent of that generated code (forward over reverse,
the Hessian-vector product); a call of a callee's adjoint in generated code is its
`higher.vjp_function`. A Gradient is never a callee whose tangent is again a Tangent
of the Gradient (that recursed forever).
"""
from __future__ import annotations

import inspect
import re
from typing import Any, Callable

from . import cache, funcvals, higher, passes, reach, rules, runtime
from . import types as T
from .compiler import (PRINTERS, _STATS, Compiled, _module_source, _package_fingerprint, _registry_fingerprint,
                       _resolve, _specialised, live_globals, manifest, program_of, returning_lowered)
from .passes import cleanup
from .passes import inline as inline_pass
from .passes import tangent as tangent_pass


def compile_tangent(t: Any, arg_types: list[T.T], sig: str) -> Compiled:
    """The tangent function of `t.primal` (forward.Tangent: its wrt are the arguments
    carrying tangents) for these argument types, cached like an adjoint; the key holds
    the mode, so a tangent and an adjoint of one signature never meet."""
    spec = _specialised(t, arg_types, sig)
    if spec is not t:  # (a call passing functions: the tangent of the specialisation on them)
        from .forward import Tangent
        spec = Tangent(spec.primal, t.wrt, outputs=t.outputs, batched=t.batched)
        spec._callee = t._callee
        return compile_tangent(spec, arg_types, sig)
    reached = funcvals.reach(t.primal, reach.classes_of(arg_types))
    src, consts = reached.key_parts()
    parts = {"mode": "tangent-batched" if t.batched else "tangent", "source": src,
             "name": t.primal.__qualname__, "module": str(t.primal.__module__),
             "file": inspect.getsourcefile(t.primal) or "", "wrt": ",".join(t.wrt),
             "outputs": ",".join(t.outputs), "inline": str(inline_pass.ENABLED),
             "signature": re.sub(r"#\d+\)", ")", sig), "globals": consts,
             "rules": _registry_fingerprint(),  # (the VJPs and the tangents)
             "compiler": _package_fingerprint()}
    key = cache.make_key(parts)
    name = f"{t.primal.__name__}_jvp_batch" if t.batched else f"{t.primal.__name__}_jvp"
    namespace: dict[str, Any] = {}
    for r in rules.REGISTRY.values():
        namespace.update(r.namespace)
    module, _hit = cache.load_or_build(key, lambda: transform_tangent(t, arg_types), name=name,
                                       namespace=namespace)
    fn = getattr(module, name)
    c = Compiled(fn, _module_source(module), tuple(getattr(module, "__adjointc_globals__", ())),
                 getattr(module, "__file__", ""), tuple(getattr(module, "__adjointc_mutated__", ())), reached,
                 t.primal)
    live = live_globals(t.primal)
    for n, spelling in getattr(module, "__adjointc_synthetic__", {}).items():  # (funcvals.py)
        live[n] = fn.__globals__[n] = funcvals.resolve(spelling, live, _resolve)
    for n in c.global_names:
        if n in live:
            fn.__globals__[n] = live[n]
    for tname, (spelling, wrt, types, outputs) in getattr(module, "__adjointc_callee_tangents__", {}).items():
        callee = _resolve(spelling, live)
        if higher.is_gradient(callee):  # a call of a gradient: the tangent of its generated adjoint
            callee = higher.specialised(callee, [T.decode(x) for x in types])
        elif higher.is_callee_adjoint(callee):  # generated code's call of a callee's adjoint
            callee = higher.vjp_function(callee)
        # (a batched tangent calls its callees' batched tangents: every tangent has the batch axis)
        fn.__globals__[tname] = CalleeTangent(tangent_of(callee, wrt, outputs, t.batched),
                                              [T.decode(x) for x in types])
    for wname, (spelling, outputs) in getattr(module, "__adjointc_wrappers__", {}).items():
        fn.__globals__[wname] = runtime.Returning(_resolve(spelling, live), outputs)
    return c


def transform_tangent(t: Any, arg_types: list[T.T], printer: str = "numpy") -> str:
    """The generated tangent's source for t at these argument types."""
    _STATS["transforms"] += 1
    low = returning_lowered(t)
    prog = passes.run(program_of(t, arg_types),
                      passes.BATCHED_TANGENT_PIPELINE if t.batched else passes.TANGENT_PIPELINE)
    calls, fn = prog.calls, low.function
    globals_read = {**low.globals_read, **prog.inlined_globals}
    temps = prog.temporaries | {d for n, d in tangent_pass.dot_names(prog.fn, set(prog.active)).items()
                                if n in prog.temporaries}
    out = cleanup.run(prog.adjoint, temps.__contains__)
    text = PRINTERS[printer](out, primal_name=fn.name, wrt=prog.wrt, source_file=fn.file, line=fn.line,
                             title="Batched tangent (one JVP per row of the leading axis)" if t.batched
                             else "Tangent (JVP)")
    text += manifest(low, prog, globals_read, "__adjointc_callee_tangents__", calls.tangents)
    return text


_TANGENTS: dict[tuple, Any] = {}


def tangent_of(fn: Callable, wrt: tuple[str, ...], outputs: tuple[str, ...] = (),
               batched: bool = False) -> Any:
    """The forward.Tangent compiled for calls of `fn` from functions in forward mode
    (`batched`: from a batched tangent, its tangents with the leading batch axis)."""
    from .forward import Tangent
    key = (id(fn), wrt, outputs, batched)
    t = _TANGENTS.get(key)
    if t is None or t.primal is not fn:
        t = _TANGENTS[key] = Tangent(fn, wrt, outputs=outputs, batched=batched)
        t._callee = True
    return t


class CalleeTangent:
    """What a caller's tangent calls for a user function: its compiled tangent function
    (compiled on first use), `h_jvp(*args, *dots) -> (out, out_dot)`."""

    def __init__(self, tangent: Any, types: list[T.T]):
        self.tangent, self.types, self.compiled = tangent, types, None

    def __call__(self, *args):
        if self.compiled is None:
            self.compiled = self.tangent.get_abstract(self.types)
        c = self.compiled
        c.refresh()
        return c.fn(*args)
