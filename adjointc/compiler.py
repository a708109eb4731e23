"""The orchestration: a Gradient's signature -> generated adjoint source -> a callable.

    compile_gradient(g, arg_types, sig)   cache key (reach.py) -> cache.load_or_build(transform)
    transform(g, arg_types)               program_of -> passes.PIPELINE -> a printer: the text
    analyse_callee(fn, arg_types)         a callee through passes.CALLEE_PASSES -> its Effects
    (forward mode, the same path through passes.TANGENT_PIPELINE: compile_tangent.py)

`Calls` answers the passes' questions about calls to user functions and records what
the generated code must be linked to (the callees' adjoints, the argument-returning
wrappers); `CalleeAdjoint` is what a caller's backward sweep calls for a callee
(compile_tangent.CalleeTangent: what a caller's tangent calls). api.py is the public
surface; it hands in the Gradient (`g`: primal, names, wrt, outputs, lowered IR).
"""
from __future__ import annotations

import functools
import gc
import hashlib
import inspect
import os
import re
import types as types_mod
from dataclasses import dataclass
from typing import Any, Callable

from . import cache, codegen, frontend, funcvals, higher, passes, reach, rules, runtime
from . import types as T
from .errors import GeneratedCodeError, UnsupportedSyntax
from .ir import Function, Loc, walk
from .passes import inline as inline_pass
from .passes import mutation
from .program import Program
from .backends import njit as njit_printer

_STATS = {"transforms": 0}

# The printers: adjoint IR (after the last pass of PIPELINE) -> the text of a module
# defining `<name>_grad`. The numba printer (backends/njit.py) also takes the Program
# (its types) and the globals read.
PRINTERS: dict[str, Callable[..., str]] = {"numpy": codegen.generate, "numba": njit_printer.generate}


@dataclass
class Compiled:
    fn: Callable                 # the generated f_grad(params..., result_bar=1.0) -> (value, grads)
    source: str
    global_names: tuple[str, ...]
    path: str
    mutated: tuple[str, ...] = ()  # parameters f modifies in place (copied on entry)
    reach: reach.Reach | None = None  # what it was built from; re-checked before each reuse
    primal: Callable | None = None    # the function whose module globals the code reads
    value: bool = True                # fn returns f's value (False: None, passes/value.py)

    def fresh(self) -> bool:
        """Is this adjoint still the one the function's current code and globals give?"""
        return self.reach is None or self.reach.valid()

    def refresh(self) -> None:
        """Bind the globals the generated code reads to their values now (read at call
        time, as the primal reads them)."""
        if self.global_names:  # (live_globals(primal)[n] for each name, without copying the globals)
            fn, g = self.primal, self.fn.__globals__
            statics, src = funcvals.statics_of(fn), fn.__globals__
            cells = dict(zip(fn.__code__.co_freevars, fn.__closure__)) if fn.__closure__ else {}
            for n in self.global_names:
                if n in statics:
                    g[n] = statics[n]
                    continue
                cell = cells.get(n)
                try:
                    g[n] = cell.cell_contents if cell is not None else src[n]
                except ValueError:  # (an empty cell: the global of that name, as live_globals)
                    g[n] = src[n]


@functools.lru_cache(maxsize=1)
def _package_fingerprint() -> str:
    """Hash of adjointc's own source: a changed compiler never reuses old entries."""
    import pathlib
    h = hashlib.sha256()
    root = pathlib.Path(__file__).parent
    for p in sorted(root.rglob("*.py")):
        h.update(p.relative_to(root).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def _registry_fingerprint() -> str:
    h = hashlib.sha256()
    for op in sorted(rules.REGISTRY):
        r = rules.REGISTRY[op]
        h.update(repr((op, r.params, r.varargs, sorted((r.templates or {}).items(), key=str),
                       r.nondiff, r.result if isinstance(r.result, str) else getattr(r.result, "__name__", ""),
                       _src(r.fn) if r.fn else "",
                       _src(r.jvp) if callable(r.jvp) else repr(r.jvp))).encode())  # (forward mode too)
    return h.hexdigest()


def _src(fn: Callable) -> str:
    try:  # (a function's own code: a functools.wraps wrapper's source, not its __wrapped__'s)
        return inspect.getsource(fn.__code__ if isinstance(fn, types_mod.FunctionType) else fn)
    except (OSError, TypeError):
        return getattr(fn, "__qualname__", "")


def compile_gradient(g: Any, arg_types: list[T.T], sig: str, stats: bool = False) -> Compiled:
    """The adjoint of `g.primal` for these argument types: from the disk cache, or
    transformed and stored; linked to the primal's current globals and callees."""
    # (the transform's many short-lived acyclic objects cost the cyclic collector ~10% of a large
    # transform for nothing: off while compiling, on after unless the caller had it off)
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _compile_gradient(g, arg_types, sig, stats)
    finally:
        if collecting:
            gc.enable()


def _compile_gradient(g: Any, arg_types: list[T.T], sig: str, stats: bool) -> Compiled:
    spec = _specialised(g, arg_types, sig)
    if spec is not g:
        return _compile_gradient(spec, arg_types, sig, stats)
    # everything that determines the generated text (see reach.py): the source of every
    # function and method reached, the values folded in as literals, the globals' types
    reached = funcvals.reach(g.primal, reach.classes_of(arg_types))
    src, consts = reached.key_parts()
    parts = {"source": src, "name": g.primal.__qualname__, "module": str(g.primal.__module__),
             "file": inspect.getsourcefile(g.primal) or "", "wrt": ",".join(g.wrt),
             "outputs": ",".join(g.outputs), "has_aux": str(g.has_aux), "value": str(g.value_wanted),
             "checkpoints": repr(getattr(g, "checkpoints", None)), "inline": str(inline_pass.ENABLED),
             # (a function value's id keeps closures of one def apart in memory, not on disk)
             "signature": re.sub(r"#\d+\)", ")", sig), "globals": consts, "rules": _registry_fingerprint(),
             "compiler": _package_fingerprint()}
    backend = _backend(g, stats)
    if backend != "numpy":
        parts["backend"] = backend + ("+njit" if getattr(g, "from_njit", False) else "")
    key = cache.make_key(parts)
    name = f"{g.primal.__name__}_grad"

    def build() -> str:
        return transform(g, arg_types, stats, backend)
    namespace: dict[str, Any] = {}
    for r in rules.REGISTRY.values():  # names user rules' templates refer to
        namespace.update(r.namespace)
    if backend == "numba":  # (the module name numba's on-disk cache re-imports: one per entry)
        namespace["__name__"] = f"adjointc_numba_{name}_{key[:16]}"
    module, _hit = cache.load_or_build(key, build, name=name, namespace=namespace)
    fn = getattr(module, name)
    c = Compiled(fn, _module_source(module), tuple(getattr(module, "__adjointc_globals__", ())),
                 getattr(module, "__file__", ""), tuple(getattr(module, "__adjointc_mutated__", ())), reached,
                 g.primal, getattr(module, "__adjointc_value__", True))
    linked = module.__dict__  # (fn's globals; a numba dispatcher has none of its own)
    live = live_globals(g.primal)
    for n, spelling in getattr(module, "__adjointc_synthetic__", {}).items():  # (funcvals.py)
        live[n] = linked[n] = funcvals.resolve(spelling, live, _resolve)
    for n in c.global_names:  # the values the primal reads right now (refreshed per call)
        if n in live:
            linked[n] = live[n]
    for gname, (maker, spelling, wrt) in getattr(module, "__adjointc_gradients__", {}).items():
        # `grad(f)(w)` in the primal: the gradient it makes, under the name the code calls
        live[gname] = linked[gname] = higher.made_in_code(maker, _resolve(spelling, live), wrt, spelling)
    for gname, (spelling, wrt, types, outputs) in getattr(module, "__adjointc_callees__", {}).items():
        callee = _resolve(spelling, live)
        if higher.is_gradient(callee):  # a call of a gradient: its generated adjoint, differentiated
            callee = higher.specialised(callee, [T.decode(t) for t in types])
        elif higher.is_callee_adjoint(callee):  # generated code's call of a callee's adjoint
            callee = higher.vjp_function(callee)
        # (a callee's loops are checkpointed as the caller's are: its adjoint runs whole, its
        # forward sweep and then its backward, inside the caller's backward sweep)
        linked[gname] = CalleeAdjoint(gradient_of(callee, wrt, outputs, getattr(g, "checkpoints", None)),
                                               [T.decode(t) for t in types])
    for wname, (spelling, outputs) in getattr(module, "__adjointc_wrappers__", {}).items():
        linked[wname] = runtime.Returning(_resolve(spelling, live), outputs)
    if backend == "numba":
        from .backends import njit_runtime
        twin = lambda: compile_gradient(numpy_twin(g), arg_types, sig).fn  # noqa: E731
        return njit_runtime.link(c, module, f"grad of {g.primal.__qualname__}", twin)
    return c


def _backend(g: Any, stats: bool) -> str:
    """The printer for g (a statistics build is instrumented NumPy code: always NumPy)."""
    return "numpy" if stats else getattr(g, "backend", "numpy")


def numpy_twin(g: Any) -> Any:
    """g as the NumPy backend compiles it (one per Gradient, with its own memo): what a
    numba build falls back to, and what higher order differentiates (higher.py reads a
    gradient's generated source, which must be the NumPy one)."""
    if getattr(g, "backend", "numpy") == "numpy":
        return g
    twin = g.__dict__.get("_numpy_twin")
    if twin is None:
        import copy
        twin = g.__dict__["_numpy_twin"] = copy.copy(g)
        twin.backend, twin._compiled, twin._last = "numpy", {}, None
    return twin


def _specialised(g: Any, arg_types: list[T.T], sig: str = "") -> Any:
    """g, or for a call that passes functions (`f(rhs, y0)`), the Gradient of g's
    specialisation on them (funcvals.py): compiled, cached and linked as its own. For
    `grad(G)` of a gradient G (g's function is higher.as_function's def calling G), the
    Gradient of G's specialised def at these types: the code differentiated is then G's
    generated adjoint itself, inlined where it can be, so `.source` shows the second-order
    code rather than a call of G's adjoint."""
    inner = higher.gradient_behind(g.primal)
    if inner is not None and not g.has_aux and not g.outputs:
        from .api import Gradient
        fn = higher.specialised(inner, arg_types)
        if list(inspect.signature(fn).parameters) == list(g._names):
            return _standing_for(Gradient(fn, g.wrt), g)
    statics = {n: _function_in(sig, n, t) for n, t in zip(g._names, arg_types)
               if t.kind == "func" and n not in funcvals.statics_of(g.primal)}
    if not statics:
        return g
    from .api import Gradient
    return _standing_for(Gradient(funcvals.specialise(g.primal, statics), g.wrt, outputs=g.outputs,
                                  has_aux=g.has_aux), g)


def _standing_for(spec: Any, g: Any) -> Any:
    """spec, compiled in g's place: g's backend, role and whether it returns the value."""
    spec._callee, spec._with_value, spec._keeps_value, spec.backend = g._callee, g._with_value, g._keeps_value, \
        getattr(g, "backend", "numpy")
    return spec


def _function_in(sig: str, name: str, t: T.T) -> Any:
    """The function value the call signature `sig` names for parameter `name` (by its id:
    T.signature_key); the one last seen with its type's key for an abstract signature."""
    m = re.search(rf"(?:^|;){re.escape(name)}:func\(([^)]*)\)", sig)
    return T.FUNCS[m.group(1)] if m and m.group(1) in T.FUNCS else T.FUNCS[t.cls]


def program_of(g: Any, arg_types: list[T.T], callee: bool = False, tape_report: bool = False) -> Program:
    """The Program the pipeline starts from: g's function at this signature (in
    the user's names; passes `lower` and `normalize` give it its IR).
    `callee`: for analysing its effects (then nothing is inlined into it);
    `tape_report`: a statistics build (the adjoint reports its tape)."""
    low = g.lowered()  # (memoised: the `lower` pass reads it; the calls need its callees)
    calls = Calls(dict(low.callees)) if callee else Calls(low.callees, live_globals(g.primal))
    start = Function(low.function.name, (), (), low.function.file, low.function.line)
    return Program(start, dict(zip(g._names, arg_types)), tuple(g.wrt), "", tuple(g.outputs), calls=calls,
                   callee=callee, has_aux=g.has_aux and not callee, primal=g.primal, lowering=g.lowered,
                   value=g.value_wanted or callee, checkpoints=getattr(g, "checkpoints", None),
                   tape_report=tape_report)


def run_pipeline(g: Any, arg_types: list[T.T], after: str | None = None) -> Program:
    """g's Program through passes.PIPELINE (up to and including the pass `after`)."""
    return passes.run(program_of(_specialised(g, arg_types), arg_types), after=after, dump=False if after else None)


def returning_lowered(g: Any) -> Any:
    """g's lowering, refusing a function that can end without returning a value (for
    the function differentiated; a callee's own adjoint returns its cotangents)."""
    low = g.lowered()
    if low.no_return is not None and not g._callee:
        raise UnsupportedSyntax("the function has no return statement: nothing to differentiate",
                                low.no_return, "return the value to differentiate")
    if low.falls_through is not None and not g._callee:
        raise UnsupportedSyntax(f"{low.function.name} can reach the end of its body without a return "
                                "statement, and then returns None: the output must be a float or an array",
                                low.falls_through, "end every path with a return of the value to "
                                "differentiate (e.g. a final return after the if or loop)")
    return low


def manifest(low: Any, prog: Program, globals_read: dict, callees_name: str, callees: dict) -> str:
    """The generated module's tail: what compile_gradient/compile_tangent link when it
    loads (the globals read, the mutated parameters, the callees' adjoints or tangents
    under `callees_name`, the argument-returning wrappers, the synthetic names)."""
    synthetic = low.synthetic  # (an inlined callee never brings its own: inline.inlinable)
    names = tuple(sorted(n for n in globals_read if n not in synthetic))  # (those: linked by spelling)
    text = (f"\n\n__adjointc_globals__ = {names!r}\n__adjointc_mutated__ = {tuple(sorted(prog.mutated))!r}\n"
            f"{callees_name} = {callees!r}\n__adjointc_wrappers__ = {prog.calls.wrappers!r}\n")
    if synthetic:
        text += f"__adjointc_synthetic__ = {dict(sorted(synthetic.items()))!r}\n"
    if not prog.value:  # (grad: the adjoint returns no value, passes/value.py)
        text += "__adjointc_value__ = False\n"
    return text


def transform(g: Any, arg_types: list[T.T], stats: bool = False, printer: str = "numpy") -> str:
    """The generated adjoint's source for g at these argument types (PRINTERS[printer])."""
    # (the numba printer lowers tapes by the Program's types and refuses globals read at call time)
    _STATS["transforms"] += 1
    low = returning_lowered(g)
    prog = passes.run(program_of(g, arg_types, tape_report=stats))
    calls, fn = prog.calls, low.function
    globals_read = {**low.globals_read, **prog.inlined_globals}
    adjoint = prog.adjoint
    extra = {} if printer == "numpy" else {"program": prog, "globals_read": globals_read,
                                           "from_njit": getattr(g, "from_njit", False)}
    text = PRINTERS[printer](adjoint, primal_name=fn.name, wrt=prog.wrt, source_file=fn.file, line=fn.line, **extra)
    text += manifest(low, prog, globals_read, "__adjointc_callees__", calls.manifest)
    made = {n: f.__adjointc_made__ for n, f in sorted(calls.callees.items()) if hasattr(f, "__adjointc_made__")}
    if made:  # (only then: the text of every other adjoint stays as it was)
        text += f"__adjointc_gradients__ = {made!r}\n"
    return text


_GRADIENTS: dict[tuple, Any] = {}
_IN_PROGRESS: set[tuple] = set()


def gradient_of(fn: Callable, wrt: tuple[str, ...], outputs: tuple[str, ...] = (), checkpoints: Any = None) -> Any:
    """The Gradient compiled for calls of `fn` from differentiated functions (one per
    wrt, outputs and checkpoint request; it also memoises fn's lowered IR for inlining
    and effects)."""
    from .api import Gradient  # (api.py is the surface over this module)
    key = (id(fn), wrt, outputs, checkpoints)
    g = _GRADIENTS.get(key)
    if g is None or (g.primal is not fn and g.__wrapped__ is not fn):  # (a lambda: primal is its named copy)
        g = _GRADIENTS[key] = Gradient(fn, wrt, outputs=outputs, checkpoints=checkpoints)
        g._callee = True
    return g


def _callee_call(c: Compiled, gradient: Any, seed: Any, args: tuple, kwargs: dict) -> Any:
    c.refresh()
    if not kwargs and len(args) == len(gradient._names):
        values = list(args)  # (the common case, without inspect's binding)
    else:
        values = gradient._bind(args, kwargs)
    if gradient.outputs:  # seed: the cotangents of (the result, *the modified arguments)
        return c.fn(*values, *seed)[1]
    return c.fn(*values, seed)[1]


class CalleeAdjoint:
    """What a caller's backward sweep calls for a user function: its compiled adjoint,
    compiled on first use (so recursive functions can refer to themselves)."""

    __adjointc_callee_adjoint__ = True  # (higher.is_callee_adjoint: generated code read again)

    def __init__(self, gradient: Any, types: list[T.T]):
        self.gradient, self.types, self.compiled = gradient, types, None
        self.__wrapped__ = gradient.primal  # (reach.py: what a caller of this depends on)

    def compiled_now(self) -> Compiled:
        if self.compiled is None or not self.compiled.fresh():
            self.compiled = self.gradient.get_abstract(self.types)
        return self.compiled

    def __call__(self, seed, *args, **kwargs):
        """The adjoints of the `wrt` inputs of one call, given the output's cotangent."""
        if runtime.TAPE_REPORTS:  # (inside a statistics run: this call's tapes are reported)
            return self._measured(seed, args, kwargs)
        if self.compiled is None:
            self.compiled = self.gradient.get_abstract(self.types)
        return _callee_call(self.compiled, self.gradient, seed, args, kwargs)

    def _measured(self, seed, args, kwargs):
        """A call inside tape_bytes: the callee's statistics build; its report (the largest of
        its calls) joins the caller's as `callee NAME`."""
        c = self.gradient._stats_build([], self.types)
        runtime.TAPE_REPORTS.append({})
        try:
            return _callee_call(c, self.gradient, seed, args, kwargs)
        finally:
            inner = runtime.finished_report(runtime.TAPE_REPORTS.pop())
            key = f"callee {self.gradient.primal.__name__}"
            outer = runtime.TAPE_REPORTS[-1]
            outer[key] = max(outer.get(key, (0, 0)), (inner["total"], inner.data["total"]))


class Calls:
    """Answers the passes' questions about calls to user functions: the type of the
    result, what the call does to its arguments, and the names under which the
    caller reaches the callee's adjoint (and its argument-returning wrapper)."""

    def __init__(self, callees: dict[str, Callable], caller_globals: dict[str, Any] | None = None):
        self.callees = callees
        self.caller_globals = caller_globals  # what names mean where the generated code runs
        self.manifest: dict[str, tuple] = {}     # h_vjp -> (spelling, wrt, types, outputs)
        self.wrappers: dict[str, tuple] = {}     # h_returning_u -> (spelling, modified parameters)
        self.tangents: dict[str, tuple] = {}     # h_jvp -> (spelling, wrt, types, outputs): forward mode

    def result_type(self, name: str, arg_types: list[T.T]) -> T.T:
        if name in self.wrappers:  # (the result, the modified copies)
            spelling, outputs = self.wrappers[name]
            params = self.param_names(name)
            inner = self.effects(spelling, arg_types).result
            return T.T("tuple", elts=(inner,) + tuple(arg_types[params.index(p)] for p in outputs))
        return self.effects(name, arg_types).result

    def effects(self, name: str, arg_types: list[T.T]):
        """What calling `name` with these argument types does (passes/mutation.Effects)."""
        fn = self.callees[name]
        if higher.is_gradient(fn):  # (a gradient: the def its call is differentiated as)
            fn = higher.specialised(fn, arg_types)
        key = (id(fn), tuple(T.encode(t) for t in arg_types))
        hit = _EFFECTS.get(key)
        if hit is not None and hit[0] is fn and hit[1].valid():
            return hit[2]
        if key in _IN_PROGRESS:  # recursion: the inner call's result type is not known yet
            g = gradient_of(fn, ())
            low = g.lowered()
            local = tuple(p for p, t in zip(g._names, arg_types) if t.kind == "array" and any(
                mutation.modifies(s, low.renamed.get(p, p), {low.renamed.get(p, p): t})
                for s in walk(low.function.body)))
            return mutation.Effects(T.UNKNOWN, local)
        r = funcvals.reach(fn, reach.classes_of(arg_types))
        _IN_PROGRESS.add(key)
        try:
            eff = analyse_callee(fn, arg_types)
        finally:
            _IN_PROGRESS.discard(key)
        _EFFECTS[key] = (fn, r, eff)
        return eff

    def lowered(self, name: str):
        """The callee's IR (for inlining), or None for wrappers and non-Python callables."""
        fn = self.callees.get(name)
        if not isinstance(fn, types_mod.FunctionType):
            return None
        return gradient_of(fn, ()).lowered()

    def param_names(self, name: str) -> list[str]:
        return list(inspect.signature(self.callees[name]).parameters)

    def returning(self, name: str, outputs: tuple[str, ...]) -> str:
        """The name of `name`'s wrapper that runs it on copies of the `outputs`
        arguments and returns (its result, *the modified copies)."""
        for w, entry in self.wrappers.items():
            if entry == (name, outputs):
                return w
        base = name.split(":")[-1].replace(".", "_") + "_returning_" + "_".join(outputs)
        w, k = base, 1
        while w in self.wrappers or w in self.callees:
            k += 1
            w = f"{base}{k}"
        self.wrappers[w] = (name, outputs)
        self.callees[w] = runtime.Returning(self.callees[name], outputs)
        return w

    def callee(self, call: Any, receiver: T.T) -> str | None:
        """The key of the function a call/method call reaches ("rhs", "pkg.mod:Model.step")."""
        if call.kind == "user":
            return call.member
        method = call.member
        cls = T.CLASSES.get(receiver.cls) if receiver.kind == "struct" else None
        fn = getattr(cls, method, None) if cls is not None else None
        if not isinstance(fn, types_mod.FunctionType):
            return None
        key = f"{receiver.cls}.{method}"
        self.callees[key] = fn
        return key

    def full_args(self, name: str, args: tuple, kwargs: tuple) -> list:
        """The arguments of a call in parameter order, literal defaults filled in."""
        from .ir import Const
        sig = inspect.signature(self.callees[name])
        bound = sig.bind(*args, **dict(kwargs))
        return [bound.arguments[p] if p in bound.arguments else Const(sig.parameters[p].default)
                for p in sig.parameters]

    def adjoint(self, name: str, arg_types: list[T.T], positions: list[int]) -> str:
        spelling, outputs = self.wrappers.get(name, (name, ()))
        names = tuple(self.param_names(name))
        wrt = tuple(names[i] for i in positions)
        entry = (spelling, wrt, tuple(T.encode(t) for t in arg_types), outputs)
        for gname, e in self.manifest.items():
            if e == entry:
                return gname
        base = spelling.split(":")[-1].replace(".", "_") + "_vjp"
        gname, k = base, 1
        while gname in self.manifest:
            k += 1
            gname = f"{base}{k}"
        self.manifest[gname] = entry
        return gname


    def tangent(self, name: str, arg_types: list[T.T], positions: list[int]) -> str:
        """The name under which a caller's tangent reaches `name`'s own tangent function
        for these argument types, the arguments at `positions` carrying tangents."""
        spelling, outputs = self.wrappers.get(name, (name, ()))
        names = tuple(self.param_names(name))
        entry = (spelling, tuple(names[i] for i in positions), tuple(T.encode(t) for t in arg_types), outputs)
        for tname, e in self.tangents.items():
            if e == entry:
                return tname
        base = spelling.split(":")[-1].replace(".", "_") + "_jvp"
        tname, k = base, 1
        while tname in self.tangents or tname in self.callees:
            k += 1
            tname = f"{base}{k}"
        self.tangents[tname] = entry
        return tname


def analyse_callee(fn: Callable, arg_types: list[T.T]) -> mutation.Effects:
    """A callee's effects on its arguments at these argument types (result type,
    modified parameters, views): its lowered IR through passes.CALLEE_PASSES (its
    own calls in functional form, its aliasing checked), then mutation.effects."""
    g = gradient_of(fn, ())
    low = g.lowered()
    prog = passes.run(program_of(g, arg_types, callee=True), passes.CALLEE_PASSES, dump=False)
    eff = mutation.effects(prog.fn, prog.types, prog.result)
    back = {v: k for k, v in low.renamed.items()}
    t = T.decode(T.encode(eff.result))  # the caller must not share the callee's shape symbols
    return mutation.Effects(t, tuple(back.get(p, p) for p in eff.mutated),
                            back.get(eff.result_param, eff.result_param) if eff.result_param else None,
                            tuple(back.get(p, p) for p in eff.result_views))


_EFFECTS: dict[tuple, tuple] = {}


def _resolve(spelling: str, live: dict[str, Any]) -> Any:
    """The function a manifest entry names: "rhs", "mod.rhs" (through the caller's
    globals) or "package.module:Class.method" (imported)."""
    if ":" in spelling:
        import importlib
        module, qual = spelling.split(":", 1)
        obj = importlib.import_module(module)
        for part in qual.split("."):
            obj = getattr(obj, part)
        return obj
    head, *rest = spelling.split(".")
    obj = live[head]
    for part in rest:
        obj = getattr(obj, part)
    return obj



def _module_source(module) -> str:
    path = getattr(module, "__file__", None)
    text = getattr(module, "__adjointc_source__", None)
    if text is None and path:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError:
            text = ""
    lines = (text or "").splitlines()
    if lines and lines[0].startswith("# adjointc cache entry"):
        lines = lines[1:]
    while lines and (lines[-1].startswith("__adjointc_") or not lines[-1].strip()):
        lines.pop()
    return "\n".join(lines) + "\n"


def live_globals(fn: Callable) -> dict[str, Any]:
    """What names mean where fn runs: its globals, closure cells, and the function values
    a specialisation is made for (funcvals.py)."""
    g = dict(fn.__globals__)
    if fn.__closure__:
        for n, cell in zip(fn.__code__.co_freevars, fn.__closure__):
            try:
                g[n] = cell.cell_contents
            except ValueError:
                pass
    return funcvals.live(fn, g)


def generated_code_error(fn: Callable, c: Compiled, exc: Exception) -> GeneratedCodeError:
    """The error for an exception raised in (or below) generated code while the
    function itself runs: located at the user's line the failing generated line
    differentiates (the module's line map, see codegen.py)."""
    import linecache
    gen_line = None
    tb = exc.__traceback__
    while tb is not None:  # the last frame in the generated file
        if tb.tb_frame.f_code.co_filename == c.path:
            gen_line = tb.tb_lineno
        tb = tb.tb_next
    loc = frontend.def_loc(fn)
    where = "in the forward sweep"
    module = c.fn.__globals__
    text = module.get("__adjointc_source__") or ""
    lines = text.splitlines()
    header = 1 if lines and lines[0].startswith("# adjointc cache entry") else 0
    linemap = codegen.LineMap.of_namespace(module, offset=header)
    generated = ""
    if gen_line is not None and 0 < gen_line <= len(lines):
        generated = f" (generated {c.path}:{gen_line}: {lines[gen_line - 1].strip()})"
        found = linemap.lookup(gen_line) if linemap is not None else None
        if found is not None:
            file, n = found
            src = linecache.getline(file, n).rstrip("\n")
            if file and file == (loc.file if loc is not None else ""):
                loc = Loc(file, n, len(src) - len(src.lstrip()), src)
                where = "in the adjoint of this line"
            else:  # a line of a function it calls (inlined)
                where = f"in the adjoint of line {n} of a function it calls ({os.path.basename(file)}): {src.strip()}"
    return GeneratedCodeError(
        f"the generated adjoint of {fn.__qualname__} raised {type(exc).__name__}: {exc} {where}{generated}",
        loc, f"{fn.__name__} itself runs at these inputs, so this is a bug in adjointc: please report it "
        "with the function and the types and shapes of its arguments")
