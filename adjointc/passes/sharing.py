"""The view/alias relation of a primal program, which several passes read.

`base_map(body, types)`: name -> every variable whose memory it may share,
transitively (a view `w = u[1:]`, a rebinding `v = u`, a container holding an
array `t = (u, x)` or `L.append(u)`, a field of a parameter object). Only
mutable values (arrays, lists, unknown objects) can share memory. Which ops
return views is knowledge of their rules (`Rule.returns_view`).

Used by mutation, aliasing, inline, tape (per-object memory facts) and dce.

`Flow(fn, types)`: the same relation per program point (flow-sensitive: a name
rebound to a new value stops sharing; a list holds what was appended; loops to a
fixpoint, branches joined, a few ways of reaching a point kept apart), which the
aliasing check reads; it over-approximates what may share memory at run time. It
also says which objects are plain (arrays, lists, tuples, dicts, numbers: `own`),
so that a slot write `L[0] = v` is known to change the list, not the element it
replaced. Its cost is linear in the statements visited (a loop body a few times
to its fixpoint): see _State.
"""
from __future__ import annotations

import functools
import inspect

from .. import rules
from .. import types as T
from ..ir import (Assign, Block, Break, Call, Const, Continue, ExprStmt, For, Function, If, Name, Return, SetItem,
                  While, names_in, walk)


def returns_view(op: str) -> bool:
    """May the result of `op` share memory with an argument (a view, or a container
    holding it)? The knowledge sits with each rule (`Rule.returns_view`); `ndarray.view`
    has no rule (it is refused) but the alias analyses must still see it."""
    rule = rules.lookup(op)
    return (rule is not None and rule.returns_view) or op == "method:view"


def _immutable(t: T.T) -> bool:
    """A Python number: a list holding one shares nothing with the variable it came from."""
    return t.is_scalar and t.kind != "array"


_LAST: list[tuple] = []  # (body, types, its base map), the latest last: later passes ask again


def base_map(body: Block, types: dict[str, T.T]) -> dict[str, set[str]]:
    """name -> every variable whose memory it may share (transitively).
    Only mutable values (arrays, lists, unknown) can share memory. The same body and
    types objects (the IR is immutable; a Program's types are inferred once per IR)
    give the last answer again: inline, mutation and dce ask it of one program."""
    for b, t, known in _LAST:
        if b is body and t is types:
            return {n: set(bs) for n, bs in known.items()}  # (fresh sets: callers may change theirs)
    out = _base_map(body, types)
    if len(body) > 1:  # (a statement's own: aliasing asks of each, once)
        _LAST[:] = _LAST[-3:] + [(body, types, {n: frozenset(bs) for n, bs in out.items()})]
    return out


def _base_map(body: Block, types: dict[str, T.T]) -> dict[str, set[str]]:
    direct: dict[str, set[str]] = {}
    def holder(e) -> bool:  # a value whose fields are objects: reading one shares it
        return isinstance(e, Name) and types.get(e.id, T.UNKNOWN).kind in ("struct", "unknown", "object")

    for s in walk(body):
        if isinstance(s, ExprStmt) and isinstance(s.value, Call) and s.value.op == "method:append":
            lst, item = s.value.args[0], s.value.args[1]  # `out.append(buf)`: out holds buf itself
            if isinstance(lst, Name) and isinstance(item, Name) and not (
                    types.get(item.id, T.UNKNOWN).is_scalar and types.get(item.id, T.UNKNOWN).kind != "array"):
                direct.setdefault(lst.id, set()).add(item.id)
            continue
        t = types.get(getattr(s, "target", ""), T.UNKNOWN)
        if isinstance(s, Assign) and not (t.is_scalar and t.kind != "array"):
            v = s.value
            srcs: list[str] = []
            if isinstance(v, Name):
                srcs = [v.id]
            elif isinstance(v, Call) and (returns_view(v.op) or v.kind == "attr" and holder(v.args[0])):
                srcs = [a.id for a in (v.args if v.op in ("tuple", "list") else v.args[:1]) if isinstance(a, Name)
                        and not (v.op in ("tuple", "list") and _immutable(types.get(a.id, T.UNKNOWN)))]
            for x in srcs:
                direct.setdefault(s.target, set()).add(x)
    out: dict[str, set[str]] = {}
    for n in direct:
        todo, seen = list(direct[n]), set()
        while todo:
            b = todo.pop()
            if b not in seen:
                seen.add(b)
                todo += direct.get(b, ())
        out[n] = seen
    return out


# ------------------------------------------------------------------ flow-sensitive
# The relation above is one per function: `v = x` anywhere makes v and x related
# everywhere. The aliasing check needs it per program point, `Flow` below.
#
# Abstract objects: ("e", n) the object name n holds on entry (a parameter, or a
# global read); ("r", k) the most recent object made by the k-th statement (walk
# order) and ("o", k) every older one (recency abstraction: a statement in a loop
# makes a new object on each trip; only the latest can be pointed to by a name just
# assigned, so `L.append(a); a = np.zeros(3); a[0] = 1.0` writes an object L does
# not hold). A name points into a set of objects; a container object (list, tuple,
# dict, struct, unknown) holds a set of objects (its elements); reading an element
# out of one (`L[i]`, `L.pop()`, unpacking) may give any object it holds, or the
# container itself.
Obj = tuple

# ops that may return (part of) an argument although no rule says `returns_view`
_MAY_RETURN_ARG0 = frozenset({"np.real", "np.imag", "np.atleast_3d", "np.diag", "np.asanyarray",
                              "np.ascontiguousarray", "np.asfortranarray", "np.real_if_close", "np.require",
                              "method:pop", "method:view"})
# primitives whose result is a new object (never an argument): arithmetic, comparisons, casts
_FRESH = frozenset({"tuple", "list", "abs", "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "neg", "pos",
                    "matmul", "fdiv", "eq", "ne", "lt", "le", "gt", "ge", "in", "notin", "is", "isnot", "not", "invert",
                    "bitand", "bitor", "bitxor", "bool", "int", "float", "complex", "len", "range", "round",
                    "slice", "sum", "attr:shape", "attr:ndim", "attr:size", "attr:dtype"})
_ATTR_VIEWS = frozenset({"attr:T", "attr:real", "attr:imag", "attr:flat", "attr:mT"})
# reads of an argument that see only its shape, dtype or structure (an in-place write
# changes none of them): op -> those argument positions
SHAPE_ONLY = {"unbroadcast": (1,), "unreduce": (1,), "as_adjoint": (1,), "real_adjoint_check": (1,),
              "seed_adjoint": (1,), "list_adjoint": (1,), "zeros_like": (0,), "stand_in": (0,),
              "np.zeros_like": (0,), "np.ones_like": (0,), "np.empty_like": (0,), "np.shape": (0,),
              "np.ndim": (0,), "np.size": (0,), "len": (0,), "attr:shape": (0,), "attr:ndim": (0,),
              "attr:size": (0,), "attr:dtype": (0,)}
_CONTAINERS = ("list", "tuple", "struct", "object")
# ops whose result is an array of the rank of their argument at that position (when
# that argument is an array): `as_adjoint(x_bar, x)` has x's shape
_SHAPED = {"as_adjoint": 1, "zeros_like": 0, "np.zeros_like": 0, "np.ones_like": 0, "np.empty_like": 0,
           "np.copy": 0}
_LISTS_OF_VIEWS = frozenset({"np.split", "np.array_split", "np.hsplit", "np.vsplit", "np.dsplit",
                             "np.broadcast_arrays", "np.meshgrid", "np.atleast_1d", "np.atleast_2d", "np.atleast_3d"})
# the runtime's helpers (adjointc/runtime.py): the arguments each may hand back (or a
# view of); a VJP helper `un...(g, x, ...)` not listed may give back g (or a view of it),
# any other op not known to be fresh any of its arguments
_RETURNS = {"unbroadcast": (0,), "unreduce": (0,), "add_adjoint": (0, 1), "zero_tangent": (0,),
            "real_adjoint_check": (0,), "as_adjoint": (0,), "stand_in": (), "list_adjoint": (0,),
            "seed_adjoint": (0,), "snapshot": (0,), "copy_adjoint": (), "zeros_like": (), "written_part": (),
            "dict_keys": ()}  # (d.keys(): a new list of keys, which own no memory one can write into)


# runtime helpers whose result is always a new array (arithmetic on their arguments:
# adjointc/rules/helpers/linalg.py), never an argument or a part of one
_FRESH_HELPERS = frozenset({"slogdet_vjp", "inv_vjp"})
# the runtime's helpers whose new result is an array, a list, a dict or a number
# (adjointc/runtime.py), never an object of another type
# (and the VJP helpers `un...`: unbroadcast, unreduce, unpiece, ...)
_PLAIN_HELPERS = frozenset({"zeros_like", "snapshot", "copy_adjoint", "add_adjoint", "as_adjoint", "seed_adjoint"})
_PLAIN_KINDS = ("array", "list", "tuple", "float", "int", "bool", "complex", "str", "none")


@functools.lru_cache(maxsize=1)
def _helpers() -> frozenset:
    """The names of adjointc's own runtime helpers (adjointc.runtime: the VJP and JVP
    helpers rule templates call). Each gives back at most its first argument (the
    cotangent), a part or a view of it or a list holding it, or a new value; never
    another argument (add_adjoint, which may give back either, is in _RETURNS): read
    off their returns when this was written."""
    from .. import runtime  # (at first use: the runtime's helpers join it on import)
    return frozenset(n for n, f in vars(runtime).items()
                     if inspect.isfunction(f) and (f.__module__ or "").startswith("adjointc."))


def _no_memory(t: T.T) -> bool:
    """A value that owns no mutable memory: a Python number, string, None, a function."""
    return t.kind in ("float", "int", "bool", "complex", "str", "none", "func")


_EMPTY: frozenset = frozenset()
_MASK = (1 << 64) - 1


def _closure(holds: dict, objs: frozenset) -> frozenset:
    """objs and everything they may hold (`holds`: container object -> objects), transitively."""
    if holds.keys().isdisjoint(objs):
        # (none of them holds anything: the closure is objs. A name may point into hundreds
        # of objects after a loop, most of which hold nothing; this C-level test looks at
        # the smaller of the two sets instead of following each object)
        return objs if type(objs) is frozenset else frozenset(objs)
    out, todo = set(objs), list(objs)
    while todo:
        for h in holds.get(todo.pop(), ()):
            if h not in out:
                out.add(h)
                todo.append(h)
    return frozenset(out)


class _Point:
    """The facts before one statement, kept for the aliasing check (`Flow.at`): a frozen
    copy of a state's `pts` and `holds` (see _State)."""

    __slots__ = ("pts", "holds")

    def __init__(self, pts: dict, holds: dict) -> None:
        self.pts, self.holds = pts, holds

    def closure(self, objs: frozenset) -> frozenset:
        return _closure(self.holds, objs)


class _State:
    """May-point-to facts at one program point: `pts` name -> objects, `holds` container
    object -> the objects it may hold, `made` the statements that made an object,
    `ranks` name -> the rank its array has here when the types do not say (`x_bar =
    as_adjoint(x_bar, x)`: x's), so that `x_bar[1]` is known to be a number.

    A state is updated in place, statement after statement (copied only where paths
    split: a branch, a loop's trip), through `pt`/`hold`/`rank`, which keep two
    derived facts so that the work per statement does not grow with the function:
    `refs`/`held_in`, each latest object ("r", k) -> the names / containers that may
    point at it (a superset: an entry that stopped pointing is dropped when seen), so
    that `demote` visits only those; and `h`, the sum of the hashes of every fact, so
    that telling two states apart (`_ways`, a loop's fixpoint) costs O(1) unless
    they are equal."""

    __slots__ = ("pts", "holds", "made", "ranks", "refs", "held_in", "h")

    def __init__(self, pts: dict) -> None:
        self.pts: dict = {}
        self.holds: dict = {}
        self.made: set = set()
        self.ranks: dict = {}
        self.refs: dict = {}
        self.held_in: dict = {}
        self.h = 0
        for n, objs in pts.items():
            self.pt(n, objs)

    # ---- updates (each keeps `h`, `refs` and `held_in` right)
    def pt(self, n: str, objs: frozenset) -> None:
        pts, old = self.pts, self.pts.get(n)
        if old is not None:
            if old == objs:
                return
            self.h -= hash(("p", n, old))
        pts[n] = objs
        self.h = (self.h + hash(("p", n, objs))) & _MASK
        refs = self.refs
        for o in objs:
            if o[0] == "r":
                r = refs.get(o, _EMPTY)
                if n not in r:
                    refs[o] = r | {n}

    def hold(self, b: Obj, objs: frozenset) -> None:
        holds, old = self.holds, self.holds.get(b)
        if old is not None:
            if old == objs:
                return
            self.h -= hash(("h", b, old))
        holds[b] = objs
        self.h = (self.h + hash(("h", b, objs))) & _MASK
        held_in = self.held_in
        for o in objs:
            if o[0] == "r":
                r = held_in.get(o, _EMPTY)
                if b not in r:
                    held_in[o] = r | {b}

    def rank(self, n: str, r: int | None) -> None:
        """n's array has rank r here (None: not known)."""
        old = self.ranks.pop(n, None)
        if old is not None:
            self.h -= hash(("k", n, old))
        if r is not None:
            self.ranks[n] = r
            self.h += hash(("k", n, r))
        self.h &= _MASK

    def add_made(self, k: int) -> None:
        if k not in self.made:
            self.made.add(k)
            self.h = (self.h + hash(("m", k))) & _MASK

    # ----
    def copy(self) -> "_State":
        c = _State.__new__(_State)
        c.pts, c.holds, c.made, c.ranks = dict(self.pts), dict(self.holds), set(self.made), dict(self.ranks)
        c.refs, c.held_in, c.h = dict(self.refs), dict(self.held_in), self.h
        return c

    def snapshot(self) -> _Point:
        return _Point(dict(self.pts), dict(self.holds))

    def join(self, o: "_State") -> "_State":
        out = self.copy()
        pts, holds = out.pts, out.holds
        # (the entries both states share, the same frozenset since one was copied from the
        # other, are skipped: a join costs what differs, plus one pass over o's entries)
        for n, s in [(n, s) for n, s in o.pts.items() if pts.get(n) is not s]:
            out.pt(n, pts[n] | s if n in pts else s)
        for b, s in [(b, s) for b, s in o.holds.items() if holds.get(b) is not s]:
            out.hold(b, holds[b] | s if b in holds else s)
        for n, r in list(out.ranks.items()):
            if o.ranks.get(n) != r:
                out.rank(n, None)
        for k in o.made - out.made:
            out.add_made(k)
        return out

    def __eq__(self, o: object) -> bool:
        return isinstance(o, _State) and self.h == o.h and self.pts == o.pts and self.holds == o.holds \
            and self.made == o.made and self.ranks == o.ranks

    __hash__ = None  # type: ignore[assignment]  (mutable)

    def closure(self, objs: frozenset) -> frozenset:
        """objs and everything they may hold, transitively."""
        return _closure(self.holds, objs)

    def demote(self, k: int) -> None:
        """Statement k makes a new object: the one it made before becomes an older one."""
        if k not in self.made:
            return
        r, o = ("r", k), ("o", k)
        older = frozenset({o})
        pts = self.pts
        for n in self.refs.pop(r, ()):
            objs = pts.get(n)
            if objs is not None and r in objs:
                self.pt(n, (objs - {r}) | older)
        holds = self.holds
        moved = holds.pop(r, None)
        if moved is not None:
            self.h = (self.h - hash(("h", r, moved))) & _MASK
        for b in self.held_in.pop(r, ()):
            objs = holds.get(b)
            if objs is not None and r in objs:
                self.hold(b, (objs - {r}) | older)
        if moved is not None:
            self.hold(o, holds.get(o, _EMPTY) | _swap(moved, k))


class Flow:
    """Flow-sensitive may-share facts of a primal function (see the comment above).

    The facts at a program point are a few states, one per way of getting there
    (at most `WAYS`; more are joined into one): after `a, b = b, a` in a loop, a holds
    one buffer and b the other on every trip, which one state per point (a and b
    each "may be either") would lose. `at[k]` (k: a statement's index in
    `walk(fn.body)` order, for every statement some path reaches): the states before
    statement k once loops reached their fixpoint, kept for the statements that write
    in place (a SetItem, an augmented assignment: what the aliasing check asks about),
    `_Point`s; `objects(k, n)`: per state, every object n's value may be or hold there.
    `reached`: every statement some path reaches."""

    WAYS = 8

    def __init__(self, fn: Function, types: dict[str, T.T]) -> None:
        self.types = types
        self.order = list(walk(fn.body))
        self.index = {id(s): k for k, s in enumerate(self.order)}
        self.assigned = {n for s in self.order for n in _bound(s)}
        # the statements whose new object is plain: an array, list, tuple, dict or number
        # (what snapshot copies and a slot write only rebinds a slot of), never an object
        # of a user's class
        self.plain = {k for k, s in enumerate(self.order) if isinstance(s, Assign) and isinstance(s.value, Call)
                      and (types.get(s.target, T.UNKNOWN).kind in _PLAIN_KINDS or s.value.op in _FRESH
                           or s.value.op in _PLAIN_HELPERS
                           or s.value.kind == "primitive" and s.value.op.startswith(("np.", "math.", "un")))}
        self.at: dict[int, list[_Point]] = {}
        self.reached: set[int] = set()
        self.body_end = {k: k + 1 + len(list(walk(s.body))) for k, s in enumerate(self.order)  # (a loop's
                         if isinstance(s, (For, While))}  # body follows it in walk order: where it ends)
        start = _State({p.name: frozenset({("e", p.name)}) for p in fn.params})
        self._block(fn.body, [start])

    def objects(self, k: int, n: str) -> list[frozenset]:
        return [st.closure(self._pts(st, n)) for st in self.at[k]]

    def own(self, k: int, n: str) -> list[frozenset] | None:
        """Per state before statement k, the objects n's value may be, not what they
        hold, when each is plain (an array, list, tuple, dict: a slot write `n[i] = v`
        changes that object only, never one it held); None if one may be of another
        type (its `__setitem__` may write into what it holds)."""
        out = [self._pts(st, n) for st in self.at[k]]
        return out if all(self.is_plain(o) for objs in out for o in objs) else None

    def is_plain(self, o: Obj) -> bool:
        """Is object o known to be an array, a list, a tuple, a dict or a number?"""
        if o[0] == "e":
            return self.types.get(o[1], T.UNKNOWN).kind in _PLAIN_KINDS
        return o[1] in self.plain

    # ---- the transfer functions
    def _pts(self, st: _State | _Point, n: str) -> frozenset:
        if _no_memory(self.types.get(n, T.UNKNOWN)):
            return frozenset()
        if n in st.pts:
            return st.pts[n]
        return frozenset() if n in self.assigned else frozenset({("e", n)})  # (a global, or unbound)

    def _args(self, st: _State, args) -> frozenset:
        out: frozenset = frozenset()
        for a in args:
            for n in names_in(a):
                out |= st.closure(self._pts(st, n))
        return out

    def _rank(self, st: _State, e) -> int | None:
        """The rank of the array e names here, if known."""
        if not isinstance(e, Name):
            return None
        t = self.types.get(e.id, T.UNKNOWN)
        return t.rank if t.kind == "array" and t.rank is not None else st.ranks.get(e.id)

    def _ints(self, e) -> int | None:
        """How many integer indices e is (`1`, `i`, `(i, -1)`), None if it is anything else."""
        def one(x) -> bool:
            return isinstance(x, Const) and type(x.value) is int or \
                isinstance(x, Name) and self.types.get(x.id, T.UNKNOWN).kind == "int"
        if isinstance(e, Call) and e.op == "tuple":
            return len(e.args) if all(one(x) for x in e.args) else None
        return 1 if one(e) else None

    def _ways(self, states: list[_State], join: bool = True, ways: int = WAYS) -> list[_State]:
        """states without repeats; joined into one when there are more than `ways`."""
        out: list[_State] = []
        for x in states:
            if x not in out:
                out.append(x)
        if join and len(out) > max(ways, 1):
            one = out[0]
            for x in out[1:]:
                one = one.join(x)
            out = [one]
        return out

    def _block(self, body: Block, states: list[_State], loop: list | None = None) -> list[_State]:
        """The states after `body` from `states` (none: no path gets there). `loop`
        collects the states at `break` ([0]) and `continue` ([1]) of the innermost loop."""
        for s in body:
            if not states:
                return states
            states = self._stmt(s, states, loop)
        return states

    def _loop(self, s, states: list[_State]) -> list[_State]:
        """The states after loop s: its head's states to a fixpoint, each taken through the
        body once (a trip takes the states the trip before added: n states cost n passes
        over the body, not n(n+1)/2). Once the head is joined into one state, each trip
        takes it, and the facts `at` keeps are the final trip's."""
        head, merged = self._ways(states), False
        k = self.index[id(s)]
        at = self.at
        before = {j: len(at[j]) for j in range(k + 1, self.body_end[k]) if j in at}  # (an outer trip's)
        done: list[_State] = []   # the head's states taken through the body
        breaks: list[_State] = []
        while True:
            jumps: list = [[], []]
            if merged:  # (the facts of this trip replace those of the trips before)
                for j in range(k + 1, self.body_end[k]):
                    if j in at:
                        del at[j][before.get(j, 0):]
                breaks = []
                todo = head
            else:
                todo = [x for x in head if x not in done]
            inner = [x.copy() for x in todo]  # (head is kept to compare with: the trip runs on copies)
            for x in inner:
                if isinstance(s, For):
                    x.rank(s.target, None)
                    x.pt(s.target, frozenset() if _no_memory(self.types.get(s.target, T.UNKNOWN))
                         else self._args(x, (s.iter,)))
            new = self._ways(head + self._block(s.body, inner, jumps) + jumps[1], join=False)
            done += todo
            breaks += jumps[0]
            if merged or len(new) > self.WAYS:
                # (once joined, stay joined: a single state only grows, so the loop ends)
                merged, new = True, self._ways(new, join=True, ways=0)
            if len(new) == len(head) and all(x in head for x in new):
                return self._ways(head + breaks)
            head = new

    def _stmt(self, s, states: list[_State], loop: list | None) -> list[_State]:
        """The states after s; `states` are s's to update in place (each list of states
        is owned by the one path it follows)."""
        k = self.index[id(s)]
        self.reached.add(k)
        if isinstance(s, SetItem) or isinstance(s, Assign) and s.aug:
            # (a loop's trips add the facts of the head's states they take: see _loop)
            self.at.setdefault(k, []).extend(x.snapshot() for x in states)
        if isinstance(s, (For, While)):
            return self._loop(s, states)
        if isinstance(s, If):
            other = [x.copy() for x in states]
            return self._ways(self._block(s.body, states, loop) + self._block(s.orelse, other, loop))
        if isinstance(s, Return):
            return []
        if isinstance(s, (Break, Continue)):
            if loop is not None:
                loop[0 if isinstance(s, Break) else 1].extend(states)
            return []
        return self._ways([self._simple(s, k, x) for x in states])

    def _simple(self, s, k: int, st: _State) -> _State:
        if isinstance(s, Assign):
            self._assign(s, k, st)
        elif isinstance(s, SetItem) and self.types.get(s.target, T.UNKNOWN).kind != "array":
            self._store(st, self._pts(st, s.target), self._args(st, (s.value,)))  # `L[i] = v`: L holds v
        elif isinstance(s, ExprStmt) and isinstance(s.value, Call) and s.value.args \
                and isinstance(s.value.args[0], Name) and s.value.kind == "method" \
                and self.types.get(s.value.args[0].id, T.UNKNOWN).kind != "array":
            # `L.append(v)`, `L.extend(M)`, `L.insert(i, v)`: L holds v (M's elements)
            self._store(st, self._pts(st, s.value.args[0].id), self._args(st, s.value.args[1:]))
        return st

    def _store(self, st: _State, into: frozenset, objs: frozenset) -> None:
        if objs:
            for b in into:
                st.hold(b, st.holds.get(b, _EMPTY) | objs)

    def _assign(self, s: Assign, k: int, st: _State) -> None:
        t, v = self.types.get(s.target, T.UNKNOWN), s.value
        if _no_memory(t):
            st.pt(s.target, _EMPTY)
            return
        if s.aug:  # `x += e` updates x in place (a list: x holds e's elements)
            if t.kind != "array":
                self._store(st, self._pts(st, s.target), self._args(st, v.args[1:] if isinstance(v, Call) else ()))
            return
        st.rank(s.target, None)
        if isinstance(v, Name):
            st.pt(s.target, self._pts(st, v.id))
            st.rank(s.target, st.ranks.get(v.id))
            return
        if not isinstance(v, Call):
            st.pt(s.target, _EMPTY)
            return
        if v.op in _SHAPED and len(v.args) > _SHAPED[v.op]:
            st.rank(s.target, self._rank(st, v.args[_SHAPED[v.op]]))
        if v.op == "getitem" and len(v.args) == 2 and self._rank(st, v.args[0]) is not None \
                and self._rank(st, v.args[0]) == self._ints(v.args[1]):  # (not a dict's d["u"]: None == None)
            st.pt(s.target, _EMPTY)  # (`x_bar[1]` of a 1-D array: a number, a copy)
            return
        if v.op == "getitem" and len(v.args) == 2 and isinstance(v.args[0], Name) \
                and self.types.get(v.args[0].id, T.UNKNOWN).kind in ("list", "struct", "tuple") \
                and not (isinstance(v.args[1], Call) and v.args[1].op in ("slice", "tuple")):
            # an entry of a list or dict: what the container holds, not the container (after
            # `a = d["u"]`, `d["u"] = b` leaves a alone); one whose contents are not known
            # (a parameter, a helper's result) may be its own entry
            st.pts[s.target] = frozenset().union(*(st.closure(st.holds[o]) if o in st.holds else {o}
                                                   for o in self._pts(st, v.args[0].id)))
            return
        holder = v.kind == "attr" and v.args and isinstance(v.args[0], Name) and \
            self.types.get(v.args[0].id, T.UNKNOWN).kind in ("struct", "unknown", "object")
        if v.op not in ("tuple", "list") and (returns_view(v.op) or v.op in _MAY_RETURN_ARG0 or v.op in _ATTR_VIEWS
                                               or holder):
            st.pt(s.target, self._args(st, v.args[:1]))  # a view: into what arg0 is or holds
            return
        args = self._args(st, v.args) | self._args(st, [e for _, e in v.kwargs])
        if v.op == "ifexp":
            st.pt(s.target, self._args(st, v.args[1:]))
            return
        fresh = v.op in _FRESH or v.op in _FRESH_HELPERS or v.kind == "primitive" and v.op.startswith(("np.", "math."))
        if v.calls_user:
            # (a user function's result that may view (or hold) an argument is for
            # mutation.check_views to refuse when that argument is modified; its
            # `_returning` form runs on copies. So here its result is new.)
            back = args = frozenset()
        elif fresh:
            # (`np.asarray(u, copy=False)`, `np.add(a, b, out=c)`: NumPy hands back u, c)
            keep = any(k == "copy" and not (isinstance(e, Const) and e.value is True) for k, e in v.kwargs)
            back = self._args(st, ([v.args[0]] if keep and v.args else []) + [e for k, e in v.kwargs if k == "out"])
        elif v.op in _RETURNS or v.kind == "primitive" and (v.op.startswith("un") or v.op in _helpers() and v.args):
            # (a helper builds its result from the arguments it may give back: `x` in
            # `unbroadcast(g, x)` gives only a shape)
            back = args = self._args(st, [v.args[j] for j in _RETURNS.get(v.op, (0,)) if j < len(v.args)])
            if v.op == "snapshot":  # (arrays, lists, tuples and dicts copied, level by level: only
                back = args = frozenset(o for o in back if not self.is_plain(o))  # other objects come back)
            fresh = True
        else:  # (a method, `min`/`max`, `and`/`or`, another helper)
            back = args
        st.demote(k)
        st.add_made(k)
        # (demoted after the arguments were read: `u = np.tanh(u)` in a loop reads the
        # object the statement made on the trip before, an older one now)
        st.pt(s.target, frozenset({("r", k)}) | _swap(back, k))
        numeric = fresh and t.kind == "array" and t.dtype in ("f", "c", "i", "b")
        if args and not numeric and (t.kind in _CONTAINERS or v.op in _LISTS_OF_VIEWS or not fresh or any(
                self.types.get(n, T.UNKNOWN).kind in _CONTAINERS for a in v.args for n in names_in(a))):
            # a new container may hold its arguments' objects (`L + M`, `L * 2`, `h(L)`,
            # `np.split(x, 2)`); arithmetic and NumPy's functions on arrays make arrays, and
            # a numeric array NumPy makes from a list (`np.array(L, dtype=float)`) holds
            # numbers, copied, never the list's objects
            st.hold(("r", k), _swap(args, k))


def _swap(objs: frozenset, k: int) -> frozenset:
    """objs, with statement k's latest object an older one (k is making a new one)."""
    return (objs - {("r", k)}) | {("o", k)} if ("r", k) in objs else objs


def _bound(s) -> tuple[str, ...]:
    if isinstance(s, (Assign, For)):
        return (s.target,)
    return ()
