"""The differential oracle: run one generated program through adjointc and judge it.

`judge(program, seed)` loads the program from a real .py file (adjointc reads
source with inspect.getsource), draws input points, and returns an
:class:`Outcome` whose ``kind`` is one of

* ``"ok"``       every checked point agrees with the references;
* ``"refused"``  adjointc raised an :class:`adjointc.AdjointcError` (``detail``: its class)
                 that is not an :class:`adjointc.AdjointcBug`;
* ``"wrong"``    a gradient disagrees with central finite differences (or SymPy);
* ``"value"``    value_and_grad's value differs from calling the function;
* ``"mutated"``  a gradient call changed the caller's arrays;
* ``"crash"``    any other exception, from the transform or from generated code (an
                 AdjointcBug — GeneratedCodeError, InternalError — is a crash too);
* ``"skipped"``  no usable input point (the primal raised, was not finite or huge,
                 or the two finite-difference steps disagreed at every point: a kink
                 or branch switch too close). Not a failure.

Finite differences are taken with two steps, h and h/10, per element. A point is
used only where the two agree with each other (otherwise it lies near a kink or
a branch switch and the reference itself is unreliable); adjointc is then
WRONG only when it disagrees with both. Straight-line scalar programs are also
checked against SymPy's exact derivative.

Forward mode is judged on the same points (`forward=True`, the default): the
jvp along a random direction v must give f's value and agree with <g_fd, v>
for either finite-difference gradient (the same tolerance, on the scale of
sum |g| |v|) and, tightly, with <grad, v> from reverse mode. Its failures have
the same kinds, their detail prefixed "jvp"; a forward-mode refusal of a
program reverse mode accepts is "refused" with detail "jvp:<error class>".

Batched Jacobians are judged on a quarter of the programs (picked by a hash of the
source), at the first point the jvp agreed on: `jacfwd(f, wrt=i)` for each array input
(one batched tangent sweep over the identity's columns, or the per-column sweeps where
the batched build refuses) must equal reverse mode's gradient, tightly. A disagreement
is "wrong" with detail "jvp batched jacfwd ..."; ``extra["batched"]`` says which path
ran ("batched", "per-column"; "refused:<error class>"), which run.py counts.

Second order is judged at the first usable point (`second=True`, the default), for a
program whose gradient and jvp agree there: the Hessian-vector product
`jvp(grad(f), x, v)` (forward over reverse) must give the gradient as its value and
agree with central finite differences of adjointc's gradient along v (two steps
that agree with each other, as above, else the point is not used for it); a
straight-line scalar program (the `sympy` family) also has `grad(grad(f, wrt=i))`
(reverse over reverse) compared with SymPy's second derivatives. Their failures
have the usual kinds, the detail prefixed "hvp" or "grad2". A second-order refusal
(a located AdjointcError) leaves the outcome as first order judged it and is
reported in ``extra["second"]`` ("refused:hvp:<error class>"; "ok" when it agreed), which run.py counts
on its own rows; a refusal without a location is "unlocated:hvp:<error class>", on a row of
its own too (every refusal should say where).

Checkpointing is judged at the first usable point of a program with a loop
(`checkpoint=True`, the default): `grad(f, checkpoints=K)`, K in 1..3 from the seed,
must equal the store-all gradient to rounding (the pushes and pops of each recorded trip
are the store-all ones). A mismatch is "wrong" with detail "ckpt"; a refusal (a loop
it cannot checkpoint, located) is reported in ``extra["checkpoint"]``
("refused:<error class>", "ok", or "n/a" when no loop was checkpointed).

The numba backend is judged on a quarter of the programs (another quarter than jacfwd's,
picked by the same hash), at the first usable point (`numba=True`, the default; "n/a"
without numba installed): grad and value_and_grad with `backend="numba"` must equal the
NumPy backend's gradient to rounding and give f's value, whether the adjoint compiled or
fell back (with a warning) to NumPy. A mismatch is "wrong" with detail "numba ...";
``extra["numba"]`` says which path ran ("compiled", "fallback:printer", "fallback:numba").
"""
from __future__ import annotations

import itertools
import math
import atexit
import os
import shutil
import sys
import tempfile
import traceback
import warnings
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

import adjointc
from adjointc import AdjointcBug, AdjointcError

from corpus import MATH_SHIM, NUMPY_SHIM, A, _BranchAt, bind, copy_value, import_file, sympy_gradient
import sympy as sp
import types

from .generator import F, Program

FAILURES = ("wrong", "value", "mutated", "crash")
STEP, STEP2 = 1e-4, 1e-5          # relative finite-difference steps
FD_AGREE = 1e-5                   # the two steps agree: relative to max(1, |fd|)
GRAD_TOL = 1e-4                   # adjointc vs the finite differences, same scale
VALUE_TOL = 1e-9


@dataclass
class Outcome:
    kind: str
    detail: str = ""              # error class, or a description of the mismatch
    message: str = ""             # the full message / traceback tail
    point: tuple = ()             # the failing input (for reproduction)
    extra: dict = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.kind in FAILURES

    def signature(self) -> str:
        """What must stay the same while a failure is shrunk."""
        if self.kind == "crash":
            return f"crash:{self.detail}"
        return self.kind


# --------------------------------------------------------------------- loading
_counter = itertools.count()
_DIR: str | None = None
BASE: str | None = None           # the long profile puts every worker's directory in one it removes


def program_dir() -> str:
    """This process's directory of program files (removed at exit)."""
    global _DIR
    if _DIR is None:
        _DIR = tempfile.mkdtemp(prefix=f"adjointc-fuzz-{os.getpid()}-", dir=BASE)
        atexit.register(shutil.rmtree, _DIR, ignore_errors=True)
    return _DIR


def load(source: str, directory: str | None = None) -> Callable:
    """Write `source` to a fresh module file and import it; return its `prog`."""
    name = f"adjointc_fuzz_{os.getpid()}_{next(_counter)}"
    path = os.path.join(directory or program_dir(), name + ".py")
    with open(path, "w") as fh:
        fh.write(source)
    return import_file(path, name).prog


def unload(fn: Callable) -> None:
    sys.modules.pop(fn.__module__, None)


# ---------------------------------------------------------------------- inputs
def draw_point(program: Program, rng: np.random.Generator) -> tuple:
    out = []
    for _, kind in program.params:
        if kind == F:
            out.append(float(rng.uniform(-1.5, 1.5)))
        else:
            out.append(rng.normal(size=kind[1:]) * (0.5 if kind[0] == "m" else 1.0))
    return tuple(out)


def primal(fn: Callable, point: tuple) -> float | None:
    """f at a copy of the point, or None when it raises / is not a finite, moderate real.
    A NumPy overflow or invalid operation on the way (an intermediate inf that a later
    bounded op hides) also makes the point unusable: the derivative there is inf * 0."""
    try:
        with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise",
                                                    under="ignore"):
            warnings.simplefilter("ignore")
            v = fn(*copy_value(point))
    except Exception:  # noqa: BLE001  the program misbehaves here: not a usable point
        return None
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.floating, np.integer)):
        return None
    v = float(v)
    return v if math.isfinite(v) and abs(v) < 1e6 else None


def _fd(fn: Callable, point: tuple, rel: float) -> list[Any] | None:
    out: list[Any] = []
    for k, x in enumerate(point):
        def at(xk):
            p = list(copy_value(point))
            p[k] = xk
            return primal(fn, tuple(p))
        if isinstance(x, np.ndarray):
            g = np.zeros(x.shape)
            for idx in np.ndindex(x.shape):
                h = rel * max(1.0, abs(float(x[idx])))
                xp, xm = x.copy(), x.copy()
                xp[idx] += h
                xm[idx] -= h
                fp, fm = at(xp), at(xm)
                if fp is None or fm is None:
                    return None
                g[idx] = (fp - fm) / (xp[idx] - xm[idx])
            out.append(g)
        else:
            h = rel * max(1.0, abs(x))
            fp, fm = at(x + h), at(x - h)
            if fp is None or fm is None:
                return None
            out.append((fp - fm) / ((x + h) - (x - h)))
    return out


def _err(got: Any, ref: Any) -> float:
    got, ref = np.asarray(got, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    if got.shape != ref.shape:
        return math.inf
    if ref.size == 0:
        return 0.0
    diff = np.abs(got - ref) / np.maximum(1.0, np.abs(ref))
    return math.inf if not np.all(np.isfinite(got)) else float(np.max(diff))


def reference(fn: Callable, point: tuple) -> list[Any] | None:
    """Finite differences at `point` where the two step sizes agree, else None."""
    g1 = _fd(fn, point, STEP)
    if g1 is None:
        return None
    g2 = _fd(fn, point, STEP2)
    if g2 is None or any(_err(a, b) > FD_AGREE for a, b in zip(g1, g2)):
        return None
    return g1, g2


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    return a == b or (a != a and b != b)


def _tail(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)[-6:])


def _where(filename: str) -> str:
    """Where an exception was raised: "generated code", "adjointc/<module>.py" or the file."""
    cache = os.environ.get("ADJOINTC_CACHE_DIR")
    if cache and os.path.abspath(filename).startswith(os.path.abspath(cache)) or "_grad-" in filename:
        return "generated code"
    parts = os.path.normpath(filename).split(os.sep)
    if "adjointc" in parts:
        return "/".join(parts[len(parts) - 1 - parts[::-1].index("adjointc"):])
    return os.path.basename(filename)


def _crash(exc: BaseException, point: tuple) -> Outcome:
    tb = traceback.extract_tb(exc.__traceback__)
    where = _where(tb[-1].filename) if tb else "?"
    return Outcome("crash", f"{type(exc).__name__} in {where}", _tail(exc), point)


def _failed(what: str, exc: BaseException, point: tuple) -> Outcome:
    """The outcome of a transform `what` (jvp, numba) that raised: a refusal for an
    AdjointcError that is not an AdjointcBug, else a crash; the detail says which transform."""
    if isinstance(exc, AdjointcError) and not isinstance(exc, AdjointcBug):
        return Outcome("refused", f"{what}:{type(exc).__name__}", str(exc), point)
    out = _crash(exc, point)
    out.detail = f"{what}: {out.detail}"
    return out


def _short(v: Any) -> str:
    return np.array2string(np.asarray(v), precision=6, max_line_width=200)


# ----------------------------------------------------------------------- judge
def judge(program: Program, seed: int = 0, points: int = 3, sympy: bool = True,
          at: list[tuple] | None = None, forward: bool = True, second: bool = True,
          checkpoint: bool = True, numba: bool = True) -> Outcome:
    """Judge one program at up to `points` usable input points drawn from `seed`
    (or exactly at the points `at`, as the shrinker does); see the module doc."""
    try:
        fn = load(program.source)
    except Exception as e:  # noqa: BLE001  not a valid program (the shrinker makes such)
        return Outcome("skipped", f"does not load: {type(e).__name__}")
    try:
        return _judge(fn, program, seed, points, sympy, at, forward, second, checkpoint, numba)
    finally:
        unload(fn)


def _judge(fn: Callable, program: Program, seed: int, points: int, sympy: bool,
           at: list[tuple] | None, forward: bool = True, second: bool = True,
           checkpoint: bool = True, numba: bool = True) -> Outcome:
    rng = np.random.default_rng(seed)
    directions = np.random.default_rng(seed + 7919)  # (its own stream: the points stay as they were)
    names = program.names
    checked, attempts = 0, 0
    g = vg = None
    extra: dict[str, Any] = {}
    todo = list(at) if at is not None else None
    while checked < points and attempts < 3 * points:
        attempts += 1
        if todo is not None:
            if not todo:
                break
            point = todo.pop(0)
        else:
            point = draw_point(program, rng)
        value = primal(fn, point)
        if value is None:
            continue
        ref = reference(fn, point)
        if ref is None:
            continue
        args = copy_value(point)
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                if g is None:
                    g, vg = adjointc.grad(fn, wrt=names), adjointc.value_and_grad(fn, wrt=names)
                got = g(*args)
                v2, got2 = vg(*copy_value(point))
        except AdjointcBug as e:  # (GeneratedCodeError, InternalError: adjointc's own bugs)
            return _crash(e, point)
        except AdjointcError as e:
            return Outcome("refused", type(e).__name__, str(e), point)
        except Exception as e:  # noqa: BLE001  anything else is a crash
            return _crash(e, point)
        if not all(_same(a, b) for a, b in zip(args, point)):
            changed = [n for n, a, b in zip(names, args, point) if not _same(a, b)]
            return Outcome("mutated", f"grad changed {', '.join(changed)}", "", point)
        if not isinstance(got, tuple) or len(got) != len(names):
            return Outcome("wrong", "result is not a tuple with one gradient per input", repr(got), point)
        for name, gv, g1, g2, x in zip(names, got, ref[0], ref[1], point):
            if isinstance(x, np.ndarray) and (not isinstance(gv, np.ndarray) or gv.shape != x.shape):
                return Outcome("wrong", f"d/d{name} has the wrong type/shape", repr(gv), point)
            e1, e2 = _err(gv, g1), _err(gv, g2)
            if min(e1, e2) > GRAD_TOL:
                return Outcome("wrong", f"d/d{name}", f"d/d{name}: adjointc {_short(gv)}\n"
                               f"  finite differences {_short(g2)} (rel. err {min(e1, e2):.1e})", point)
        try:
            v2 = float(v2)
        except Exception:  # noqa: BLE001
            return Outcome("value", "value_and_grad value is not a float", repr(v2), point)
        if not abs(v2 - value) <= VALUE_TOL * max(1.0, abs(value)):
            return Outcome("value", "value_and_grad value != f(x)", f"value {v2!r} != f(x) = {value!r}", point)
        if any(_err(a, b) > 1e-9 for a, b in zip(got, got2)):
            return Outcome("wrong", "grad and value_and_grad disagree", "", point)
        if sympy and "sympy" in program.tags:
            exact = sympy_gradient(fn, A(*point), names)
            if exact is not None and any(_err(gv, r) > 1e-8 for gv, r in zip(got, exact)):
                return Outcome("wrong", "vs SymPy", f"adjointc {got}\n  SymPy {exact}", point)
        if forward:
            bad = _judge_jvp(fn, names, point, value, ref, got, directions)
            if bad is not None:
                return bad
            if "batched" not in extra and zlib.crc32(program.source.encode()) % 4 == 0:
                bad = _judge_jacfwd(fn, names, point, got)
                if isinstance(bad, Outcome):
                    return bad
                extra["batched"] = bad
        if second and forward and "second" not in extra:
            bad = _judge_second(fn, g, names, point, got, sympy and "sympy" in program.tags, directions)
            if isinstance(bad, Outcome):
                return bad
            extra["second"] = bad or "ok"
        if numba and "numba" not in extra and zlib.crc32(program.source.encode()) % 4 == 1:
            bad = _judge_numba(fn, names, point, got, value)
            if isinstance(bad, Outcome):
                return bad
            extra["numba"] = bad
        if checkpoint and "checkpoint" not in extra and ("for " in program.source or "while " in program.source):
            bad = _judge_checkpoint(fn, names, point, got, 1 + seed % 3, value)
            if isinstance(bad, Outcome):
                return bad
            extra["checkpoint"] = bad
        checked += 1
    return Outcome("ok" if checked else "skipped", extra={"points": checked, **extra})


def _judge_jvp(fn: Callable, names: tuple, point: tuple, value: float, ref: tuple, got: tuple,
               rng: np.random.Generator) -> Outcome | None:
    """Forward mode at one point (see the module docstring): None when it agrees."""
    dirs = tuple(rng.normal(size=x.shape) if isinstance(x, np.ndarray) else float(rng.normal()) for x in point)
    args = copy_value(point)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            v, t = adjointc.jvp(fn, args, dirs)
    except Exception as e:  # noqa: BLE001
        return _failed("jvp", e, point)
    if not all(_same(a, b) for a, b in zip(args, point)):
        return Outcome("mutated", "jvp changed its inputs", "", point)
    try:
        v = float(v)
    except Exception:  # noqa: BLE001
        return Outcome("value", "jvp value is not a float", repr(v), point)
    if not abs(v - value) <= VALUE_TOL * max(1.0, abs(value)):
        return Outcome("value", "jvp value != f(x)", f"value {v!r} != f(x) = {value!r}", point)
    if not isinstance(t, float):
        return Outcome("wrong", "jvp tangent is not a float", repr(t), point)

    def along(g: Any) -> tuple[float, float]:  # (<g, v>, its scale sum |g| |v|)
        return (sum(float(np.sum(np.asarray(a) * d)) for a, d in zip(g, dirs)),
                sum(float(np.sum(np.abs(np.asarray(a) * d))) for a, d in zip(g, dirs)))
    (r1, s1), (r2, s2), (rg, sg) = along(ref[0]), along(ref[1]), along(got)
    e1, e2 = abs(t - r1) / max(1.0, s1), abs(t - r2) / max(1.0, s2)
    if not math.isfinite(t) or min(e1, e2) > GRAD_TOL:
        return Outcome("wrong", "jvp vs finite differences", f"jvp {t!r}, <fd gradient, v> {r2!r} "
                       f"(rel. err {min(e1, e2):.1e})", point)
    if abs(t - rg) > 1e-6 * max(1.0, sg):  # (tighter than finite differences can judge)
        return Outcome("wrong", "jvp vs <grad, v>", f"jvp {t!r}, <grad, v> {rg!r}", point)
    return None


# ---------------------------------------------------------------- checkpointing
def _judge_checkpoint(fn: Callable, names: tuple, point: tuple, got: tuple, k: int,
                      value: float) -> Outcome | str:
    """grad(f, checkpoints=k) at `point` against the store-all gradient `got`, and
    value_and_grad(f, checkpoints=k)'s value against f's `value` (the recomputation
    rebinds the loop's state in the backward sweep: the value must not be read from it)."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            g = adjointc.grad(fn, wrt=names, checkpoints=k)
            ck = g(*copy_value(point))
            v2, _ = adjointc.value_and_grad(fn, wrt=names, checkpoints=k)(*copy_value(point))
    except AdjointcBug as e:
        return _crash(e, point)
    except AdjointcError as e:
        return f"refused:{type(e).__name__}"
    except Exception as e:  # noqa: BLE001
        return _crash(e, point)
    callees = [v.compiled_now().source for v in g.compiled_for(*copy_value(point)).fn.__globals__.values()
               if type(v).__name__ == "CalleeAdjoint" and v.compiled is not None]
    if not any("Checkpoints(" in src for src in [g.source, *callees]):
        return "n/a"  # (no loop the output depends on: nothing to checkpoint)
    for name, a, b in zip(names, ck, got):
        if _err(a, b) > 1e-9:
            return Outcome("wrong", f"ckpt d/d{name}", f"checkpoints={k}: {_short(a)}\n  store-all {_short(b)}",
                           point)
    if not abs(float(v2) - value) <= VALUE_TOL * max(1.0, abs(value)):
        return Outcome("value", "checkpointed value_and_grad value != f(x)",
                       f"checkpoints={k}: value {v2!r} != f(x) = {value!r}", point)
    return "ok"


# ----------------------------------------------------------------- numba backend
def _judge_numba(fn: Callable, names: tuple, point: tuple, got: tuple, value: float) -> Outcome | str:
    """grad and value_and_grad with backend="numba" at `point` against the NumPy backend's
    gradient `got` (to rounding: the same adjoint IR, printed for numba) and f's `value`.
    The path taken: "compiled", "fallback:printer" (a construct the numba printer refuses),
    "fallback:numba" (numba's own compile refused it), "n/a" (numba is not installed);
    either fallback must warn and still give the NumPy gradient."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return "n/a"
    args = copy_value(point)
    try:
        with warnings.catch_warnings(record=True) as told, np.errstate(all="ignore"):
            warnings.simplefilter("always", adjointc.AdjointcWarning)
            g = adjointc.grad(fn, wrt=names, backend="numba")
            nb = g(*args)
            v2, nb2 = adjointc.value_and_grad(fn, wrt=names, backend="numba")(*copy_value(point))
    except Exception as e:  # noqa: BLE001
        return _failed("numba", e, point)
    if not all(_same(a, b) for a, b in zip(args, point)):
        return Outcome("mutated", "numba grad changed its inputs", "", point)
    fell = [str(w.message) for w in told if issubclass(w.category, adjointc.AdjointcWarning)]
    path = "compiled" if not fell else "fallback:numba" if "(numba: " in fell[0] else "fallback:printer"
    for name, a, a2, b in zip(names, nb, nb2, got):
        if _err(a, b) > 1e-8 or _err(a2, b) > 1e-8:
            return Outcome("wrong", f"numba d/d{name} ({path})", f"numba {_short(a)}\n  NumPy {_short(b)}", point)
    if not abs(float(v2) - value) <= VALUE_TOL * max(1.0, abs(value)):
        return Outcome("value", f"numba value_and_grad value != f(x) ({path})",
                       f"value {v2!r} != f(x) = {value!r}", point)
    return path


def _judge_jacfwd(fn: Callable, names: tuple, point: tuple, got: tuple) -> Outcome | str:
    """jacfwd (batched where it can be) against reverse mode's gradient at one point: the
    path it took ("batched", "per-column", "refused:<class>", "none") or a failure."""
    modes = []
    for i, (name, x) in enumerate(zip(names, point)):
        if not (isinstance(x, np.ndarray) and x.dtype.kind == "f" and x.size > 1):
            continue
        args = copy_value(point)
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                jf = adjointc.jacfwd(fn, wrt=i)
                J = jf(*args)
        except AdjointcBug as e:
            out = _crash(e, point)
            out.detail = "jvp batched jacfwd: " + out.detail
            return out
        except AdjointcError as e:
            return "refused:" + type(e).__name__
        except Exception as e:  # noqa: BLE001
            out = _crash(e, point)
            out.detail = "jvp batched jacfwd: " + out.detail
            return out
        if not all(_same(a, b) for a, b in zip(args, point)):
            return Outcome("mutated", "jvp batched jacfwd changed its inputs", "", point)
        if not isinstance(J, np.ndarray) or J.shape != x.shape or \
                np.max(np.abs(J - got[i]), initial=0.0) > 1e-6 * max(1.0, float(np.max(np.abs(got[i])))):
            return Outcome("wrong", f"jvp batched jacfwd d/d{name} ({jf.mode})",
                           f"jacfwd {_short(J)}\n  grad {_short(got[i])}", point)
        modes.append(jf.mode)
    return "batched" if "batched" in modes else modes[0] if modes else "none"


# ---------------------------------------------------------------- second order
def _second_failure(e: BaseException, what: str, point: tuple) -> Outcome | str:
    """A second-order transform's exception: a crash (an Outcome) or a refusal (a string)."""
    if isinstance(e, AdjointcError) and not isinstance(e, AdjointcBug):
        where = "refused" if getattr(e, "loc", None) is not None else "unlocated"
        return f"{where}:{what}:{type(e).__name__}"
    out = _crash(e, point)
    out.detail = f"{what}: " + out.detail
    return out


def _fd_along(g: Callable, point: tuple, dirs: tuple, rel: float) -> list[Any] | None:
    """Central differences of adjointc's gradient along the direction `dirs`."""
    scale = max([1.0] + [float(np.max(np.abs(x))) for x in point if np.size(x)])
    h = rel * scale
    plus = tuple(x + h * d for x, d in zip(point, dirs))
    minus = tuple(x - h * d for x, d in zip(point, dirs))
    if primal(g.primal, plus) is None or primal(g.primal, minus) is None:
        return None
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        gp, gm = g(*copy_value(plus)), g(*copy_value(minus))
    return [(np.asarray(a, dtype=float) - np.asarray(b, dtype=float)) / (2 * h) for a, b in zip(gp, gm)]


def _judge_second(fn: Callable, g: Any, names: tuple, point: tuple, got: tuple, exact: bool,
                  rng: np.random.Generator) -> Outcome | str | None:
    """Second order at one point (module docstring): None when it agrees, a string for
    a refusal, an Outcome for a failure."""
    dirs = tuple(rng.normal(size=x.shape) if isinstance(x, np.ndarray) else float(rng.normal()) for x in point)
    try:
        f1, f2 = _fd_along(g, point, dirs, STEP), _fd_along(g, point, dirs, STEP2)
    except Exception:  # noqa: BLE001  (the gradient away from the point: not a usable reference)
        f1 = f2 = None
    args = copy_value(point)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            gv, hv = adjointc.jvp(g, args, dirs)
    except Exception as e:  # noqa: BLE001
        return _second_failure(e, "hvp", point)
    if not all(_same(a, b) for a, b in zip(args, point)):
        return Outcome("mutated", "hvp changed its inputs", "", point)
    if not isinstance(hv, tuple) or len(hv) != len(names):
        return Outcome("wrong", "hvp: the tangent is not one per input", repr(hv), point)
    if any(_err(a, b) > 1e-9 for a, b in zip(gv, got)):
        return Outcome("wrong", "hvp: its value is not the gradient", f"{gv!r} vs {got!r}", point)
    usable = f1 is not None and f2 is not None and all(_err(a, b) <= FD_AGREE for a, b in zip(f1, f2))
    if usable:
        for name, h, r1, r2 in zip(names, hv, f1, f2):
            e = min(_err(h, r1), _err(h, r2))
            if e > GRAD_TOL:
                return Outcome("wrong", f"hvp vs finite differences of grad (d/d{name})",
                               f"hvp {_short(h)}\n  fd of grad {_short(r2)} (rel. err {e:.1e})", point)
    if exact:
        ref = _sympy_hessian(fn, A(*point), names)
        if ref is not None:
            for i, n in enumerate(names):
                try:
                    with warnings.catch_warnings(), np.errstate(all="ignore"):
                        warnings.simplefilter("ignore")
                        row = adjointc.grad(adjointc.grad(fn, wrt=n), wrt=names)(*copy_value(point))
                except Exception as e:  # noqa: BLE001
                    return _second_failure(e, "grad2", point)
                if any(_err(a, b) > 1e-8 for a, b in zip(row, ref[i])):
                    return Outcome("wrong", f"grad2 (d/d{n} d/d...) vs SymPy",
                                   f"adjointc {row}\n  SymPy {ref[i]}", point)
    return None


def _sympy_hessian(fn: Callable, a: A, names: tuple) -> list[list[float]] | None:
    """SymPy's second derivatives of a scalar fn at `a` along the path it takes there
    (as corpus.sympy_gradient: branches decided at the point), or None."""
    glb = dict(fn.__globals__)
    for k, v in list(glb.items()):
        if v is np:
            glb[k] = NUMPY_SHIM
        elif isinstance(v, types.ModuleType) and v.__name__ == "math":
            glb[k] = MATH_SHIM
    copy = types.FunctionType(fn.__code__, glb, fn.__name__, fn.__defaults__, fn.__closure__)
    b = bind(fn, a)
    symbols = {n: sp.Symbol(n, real=True) for n in names}
    at = {}
    for n in names:
        if isinstance(b.arguments[n], np.ndarray):
            return None
        at[symbols[n]] = sp.Float(float(b.arguments[n]), 30)
        b.arguments[n] = symbols[n]
    try:
        with _BranchAt(at):
            expr = sp.sympify(copy(*b.args, **b.kwargs))
        value = complex(expr.subs(at).evalf(30))
        if value.imag != 0 or not np.isfinite(value.real):
            return None
        return [[float(sp.diff(expr, symbols[i], symbols[j]).subs(at).evalf(30)) for j in names] for i in names]
    except Exception:  # noqa: BLE001  any failure means "not sympy-checkable"
        return None
