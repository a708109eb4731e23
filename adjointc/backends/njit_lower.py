"""Lowering the adjoint for the numba printer (backends/njit.py): the final adjoint IR
-> the same computation in what numba's nopython mode compiles, with no Python object
inside a compiled loop:

* Tapes. A list used only as a stack (`T = []`, `T.append(v)`, `v = T.pop()`: what
  passes/record.py emits) becomes a typed array and a count: `T = np.empty(0,
  np.float64)`, `T_n = 0`; a push `T[T_n] = v; T_n += 1`, a pop `T_n -= 1; v =
  T[T_n]`. The element type is the pushed value's (passes/types.py: float, int,
  bool, or an element of a 1-D array). Capacity: before a `for` over a range, the
  tapes its body pushes directly (not inside a nested loop; under an `if`, the
  larger branch) are reserved for the whole trip count (`tape_reserve`, at loop
  entry), unless the tape is also pushed in a nested loop; any other push (a `while`
  body, that tape) reserves one more, doubling as it grows. numba does not check bounds:
  a push that skips the check is one a reservation counted.
* A tape of 1-D real arrays becomes one flat typed array of their elements, pushed one
  after another (`tape_push_array` copies them in, doubling the array as it grows), with
  each push's size in a second typed array (reserved at loop entry as above) and an end
  position: a pop moves the end back by the last size and restores a copy of those
  elements. A copy on the tape is what the NumPy adjoint's list holds (passes/tape.py
  pushes a copy of a value changed in place afterwards) only for an array that shares
  memory with no other name (passes/sharing.py's facts of the primal); a tape of such
  arrays, or of arrays of another rank, is refused.
* `x = None` before a first push (a value unbound before its loop) is the typed zero
  of x's type (an empty array for an array): the pop that restores it is never read after.
* `x_bar = 0.0`, the symbolic zero, at the top of the backward sweep is `x_bar =
  zeros_like(x)` for a real array x of one shape bound there (numba gives a variable
  one type, and x_bar becomes an array in the sweep; see `_Lowering._array_zeros`).
* `reversed(R)` over a range (or `R[:k]`, a loop that may break) is the descending
  `range` itself; `reversed(x)` over an array is `x[::-1]`.
* A list of fixed length, read and updated at constant indices only (`g = [0.0, 0.0,
  0.0]`, `g[2] += d`, `h = copy_adjoint(g)`, `piece(h, 0)`: the adjoint of a helper's
  tuple result) becomes one variable per entry (`g_2`); a copy copies entry by entry
  (`h_0 = copy_adjoint(g_0)`: an array entry copied, a number as it is). Tuples stay
  tuples (numba compiles them).

Anything else numba cannot be given (a call of a runtime helper or of a user
function's own adjoint, a list or dict, a global read at call time, an argument
that is not a number or an array, a tape of arrays other than the above) raises `Refused`, naming the
construct and its line: `generate` then prints the NumPy adjoint with a banner
line and `__adjointc_numba_refused__` saying why, and njit_runtime.link warns.
Lowering never changes what is computed: only where values are kept.
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Mapping

from .. import codegen, runtime
from .. import types as T
from ..ir import (Assign, AugAssign, AugSetItem, Block, Call, Const, Expr, ExprStmt, For, Function, If, Loc,
                  Name, Return, SetItem, Stmt, While, backward_start, calls_in as _calls, map_expr, names_in,
                  walk)

_DTYPES = {"float": "np.float64", "int": "np.int64", "bool": "np.bool_", "range": "np.int64"}
_ZEROS: dict[str, Expr] = {"float": Const(0.0), "int": Const(0), "bool": Const(False),
                           "range": Call("range", (Const(0),))}
_RANGE_FIELDS = ("start", "stop", "step")  # (a tape of ranges: one row of three ints per push)
# The runtime helpers with a numba implementation (njit_runtime.py); any other is refused.
HELPERS = ("as_adjoint", "copy_adjoint", "fdiv", "pow_dx", "seed_adjoint", "tape_push_array", "tape_reserve",
           "unbroadcast", "unreduce", "zeros_like")
_ARRAY_DTYPES = {"f": "float", "i": "int", "b": "bool"}
_ARRAY = "array of "  # (the kind of a tape of 1-D arrays: "array of float", ...)
_SIZES = "size of "   # (of a tape of the sizes of 1-D arrays read only for their shape: "size of float")
_INT_OPS = frozenset({"add", "sub", "mul", "floordiv", "mod", "neg"})


class Refused(Exception):
    """A construct the numba backend does not compile (the message names it)."""

    def __init__(self, what: str, loc: Loc | None = None):
        where = f" (line {loc.line}: {loc.text.strip()})" if loc is not None and loc.line and loc.text else ""
        super().__init__(f"{what}{where}")


def _exprs(s: Stmt) -> list[Expr]:
    """The expressions a statement holds (its value, index, iterable or test)."""
    out = []
    for attr in ("value", "index", "iter", "test"):
        e = getattr(s, attr, None)
        if e is not None and not isinstance(e, (str, tuple)):
            out.append(e)
    return out


# ------------------------------------------------------------------ lowering
def lower(fn: Function, types: Mapping[str, T.T], arg_types: Mapping[str, T.T],
          globals_read: Mapping[str, Any], shared: frozenset[str] = frozenset()) -> Function:
    """The adjoint `fn` as numba compiles it (see the module docstring), or Refused.
    `shared`: the primal's names that may share memory with another (a tape of such
    arrays is refused: a snapshot would not be the object the NumPy adjoint restores)."""
    for name, t in arg_types.items():
        if not (t.kind in ("float", "int", "bool") or (t.kind == "array" and t.dtype in _ARRAY_DTYPES)):
            raise Refused(f"the argument {name}, a {t}: the numba backend takes numbers and real arrays")
    read = sorted({n for s in walk(fn.body) for e in _exprs(s) for n in names_in(e)} & set(globals_read))
    if read:  # (an inlined helper is among the globals the primal reads, but its adjoint is not)
        raise Refused(f"reads of the module global{'s' if len(read) > 1 else ''} {', '.join(read)} "
                      "(read at call time; numba would freeze their values)")
    return Function(fn.name, fn.params, _Lowering(fn, types, shared).run(), fn.file, fn.line)


class _Lowering:
    def __init__(self, fn: Function, types: Mapping[str, T.T], shared: frozenset[str] = frozenset()):
        self.fn, self.types, self.shared = fn, types, shared
        self.used = {p.name for p in fn.params} | {n for s in walk(fn.body) for n in _names_of(s)}
        self.ranges = {s.target: s.value for s in walk(fn.body)
                       if isinstance(s, Assign) and isinstance(s.value, Call) and s.value.op == "range"}
        self.tapes = self._tapes()
        self.count = {t: self._fresh(f"{t}_n") for t in sorted(self.tapes)}
        # (a tape of 1-D arrays: the elements one push after another, each push's size, the end)
        arrays = sorted(t for t, k in self.tapes.items() if k.startswith(_ARRAY))
        self.sizes = {t: self._fresh(f"{t}_sizes") for t in arrays}
        self.end = {t: self._fresh(f"{t}_end") for t in arrays}
        self.parts = self._scalarised()
        self.part_names = {(L, k): self._fresh(f"{L}_{k}") for L, n in sorted(self.parts.items())
                           for k in range(n)}

    def _fresh(self, base: str) -> str:
        name, k = base, 1
        while name in self.used:
            k += 1
            name = f"{base}{k}"
        self.used.add(name)
        return name

    # ---- what is a tape, and of what
    def _tapes(self) -> dict[str, str]:
        """Lists used only as stacks -> the kind of their elements."""
        made = {s.target for s in walk(self.fn.body) if isinstance(s, Assign) and s.value == Call("list")}
        kinds: dict[str, set[str]] = {t: set() for t in made}
        for s in walk(self.fn.body):
            if isinstance(s, Assign) and s.target in made and s.value == Call("list"):
                continue
            for e in _exprs(s):
                for c in _calls(e):
                    if c.op == "method:append" and c.args and c.args[0] in map(Name, made):
                        if not (isinstance(s, ExprStmt) and s.value is c):
                            kinds.pop(c.args[0].id, None)
                        elif c.args[0].id in kinds:
                            kinds[c.args[0].id].add(self._element_kind(c.args[1], s))
            for n in set(_names_of(s)) & set(kinds):
                if not self._stack_use(s, n):
                    kinds.pop(n)
        out = {}
        for t, ks in kinds.items():
            if len(ks) != 1:
                raise Refused(f"a tape {t} of values of types {', '.join(sorted(ks)) or 'unknown'}")
            out[t] = ks.pop()
        return out

    def _stack_use(self, s: Stmt, t: str) -> bool:
        """Does s use the list t only as a stack: `t.append(v)` or a whole `t.pop()`?"""
        pop = Call("method:pop", (Name(t),))
        if isinstance(s, ExprStmt) and isinstance(s.value, Call) and s.value.args[:1] == (Name(t),):
            return s.value.op in ("method:append", "method:pop") and t not in _reads(s.value.args[1:])
        if isinstance(s, (Assign, SetItem)) and s.value == pop:
            return s.target != t and (not isinstance(s, SetItem) or t not in names_in(s.index))
        return False

    def _element_kind(self, v: Expr, s: Stmt) -> str:
        """The kind of a pushed value: a scalar name's, an element of a 1-D array, a 1-D
        real array (a copy, or a name sharing memory with no other), or the shape of one
        (`stand_in(x)`: the backward sweep reads only its size)."""
        if isinstance(v, Call) and v.op == "stand_in" and len(v.args) == 1 and isinstance(v.args[0], Name):
            if self._kind(v.args[0].id) in _DTYPES:  # (stand_in of a number: the number)
                return self._kind(v.args[0].id)
            dtype = self._vector(v.args[0])
            if dtype is not None:
                return _SIZES + dtype
        copied = isinstance(v, Call) and v.op == "method:copy" and len(v.args) == 1
        if copied:
            v = v.args[0]
            dtype = self._vector(v)
            if dtype is not None:  # (a fresh array: no name shares its memory)
                return _ARRAY + dtype
        if isinstance(v, Name):  # (a range: an inner loop's, made again at each outer trip)
            t = self.types.get(v.id, T.UNKNOWN)
            if self._kind(v.id) in _DTYPES:
                return self._kind(v.id)
            if self._vector(v) is not None and v.id not in self.shared:
                return _ARRAY + self._vector(v)
            what = "arrays sharing memory with another name" if v.id in self.shared else \
                "arrays that are not real" if t.dtype not in _ARRAY_DTYPES else "arrays of rank other than 1"
            raise Refused(f"a tape of {what if t.kind == 'array' else t.kind + ' values'} "
                          f"({v.id} is overwritten in a loop)", s.loc)
        if self._element(v):
            return _ARRAY_DTYPES[self.types[v.args[0].id].dtype]
        raise Refused("a list appended to in a loop whose entries are not numbers (a value kept for the "
                      "backward sweep, or the user's list: the numba backend keeps numbers, ranges, "
                      "elements of 1-D arrays and 1-D arrays)", s.loc)

    def _vector(self, e: Expr) -> str | None:
        """The element kind of e if e is a 1-D real array: a name, or a slice of one."""
        if isinstance(e, Call) and e.op == "getitem" and isinstance(e.args[1], Call) and e.args[1].op == "slice":
            e = e.args[0]
        if not isinstance(e, Name):
            return None
        t = self.types.get(e.id, T.UNKNOWN)
        return _ARRAY_DTYPES[t.dtype] if t.kind == "array" and t.rank == 1 and t.dtype in _ARRAY_DTYPES else None

    def _counter(self, n: str) -> bool:
        """Is n a trip counter (a while loop's, made by the reverse pass): only ever an int
        constant or itself plus one?"""
        made = [s.value for s in walk(self.fn.body) if isinstance(s, Assign) and s.target == n]
        return bool(made) and all((isinstance(v, Const) and (type(v.value) is int or v.value is None)) or
                                  v == Call("add", (Name(n), Const(1))) for v in made)

    def _kind(self, n: str) -> str:
        """The kind of the values a name holds, for its tape and its typed zero."""
        if n in self.ranges:
            return "range"
        kind = self.types.get(n, T.UNKNOWN).kind
        return "int" if kind == "unknown" and self._counter(n) else kind

    def _element(self, e: Expr) -> bool:
        """Is e one element of a real array (`x[i]`, `A[i, j]`: an int per axis)?"""
        if not (isinstance(e, Call) and e.op == "getitem" and isinstance(e.args[0], Name)):
            return False
        t = self.types.get(e.args[0].id, T.UNKNOWN)
        index = e.args[1]
        ints = index.args if isinstance(index, Call) and index.op == "tuple" else (index,)
        return t.kind == "array" and t.dtype in _ARRAY_DTYPES and t.rank == len(ints) and \
            all(self._is_int(i) for i in ints)

    def _no_element_copy(self, e: Expr) -> Expr | None:
        """`x[i].copy()` of an element is the element (a number: numba has no .copy for it)."""
        if isinstance(e, Call) and e.op == "method:copy" and len(e.args) == 1 and self._element(e.args[0]):
            return e.args[0]
        return None

    def _is_int(self, e: Expr) -> bool:
        if isinstance(e, Const):
            return type(e.value) is int
        if isinstance(e, Name):
            return self.types.get(e.id, T.UNKNOWN).kind == "int"
        return isinstance(e, Call) and e.op in _INT_OPS and all(self._is_int(a) for a in e.args)

    # ---- adjoint lists of fixed length, at constant indices
    def _scalarised(self) -> dict[str, int]:
        """Names holding a list of fixed length, used only at constant indices (and copied
        whole to other such names) -> the length."""
        length: dict[str, int] = {}
        sources: dict[str, str] = {}
        self.uses: dict[str, list[Stmt]] = {}
        for s in walk(self.fn.body):
            for n in set(_names_of(s)):
                self.uses.setdefault(n, []).append(s)
            if not isinstance(s, Assign):
                continue
            v = s.value
            if isinstance(v, Call) and v.op == "list" and v.args and s.target not in self.tapes:
                if length.setdefault(s.target, len(v.args)) != len(v.args):
                    length[s.target] = -1
            src = _copied(v)
            if src is not None and sources.setdefault(s.target, src) != src:
                sources[s.target] = ""
        ok = {n for n, k in length.items() if k > 0 and n not in sources}
        ok |= {n for n in sources if n not in length and _root(n, sources) in ok}
        changed = True
        while changed:
            changed = False
            for n in sorted(ok):
                src = sources.get(n)
                if (src is not None and src not in ok) or not all(self._part_use(s, n, ok)
                                                                  for s in self.uses.get(n, ())):
                    ok.discard(n)
                    changed = True
        return {n: length[_root(n, sources)] for n in ok}

    def _part_use(self, s: Stmt, n: str, ok: set[str]) -> bool:
        """Does s use n only at constant indices, make it whole, or copy it to another such name?"""
        if isinstance(s, Assign) and s.target == n:
            if isinstance(s.value, Call) and s.value.op == "list":
                return n not in names_in(s.value)
            return _copied(s.value) not in (None, n)  # (anything else made n: not a list)
        if isinstance(s, Assign) and _copied(s.value) == n:
            return s.target in ok
        if getattr(s, "target", None) == n:
            if not (isinstance(s, (AugSetItem, SetItem)) and isinstance(s.index, Const)
                    and type(s.index.value) is int):
                return False
        for e in _exprs(s):
            if e == Name(n):
                return False
            for c in _calls(e):
                if Name(n) in c.args and not (c.op in ("getitem", "piece") and c.args[0] == Name(n) and
                                              isinstance(c.args[1], Const) and type(c.args[1].value) is int):
                    return False
        return True

    def _part(self, e: Expr) -> Expr | None:
        if isinstance(e, Call) and e.op in ("getitem", "piece") and isinstance(e.args[0], Name) and \
                e.args[0].id in self.parts and isinstance(e.args[1], Const):
            key = (e.args[0].id, e.args[1].value)
            if key not in self.part_names:
                raise Refused(f"an index {e.args[1].value} past the end of {e.args[0].id}")
            return Name(self.part_names[key])
        return None

    # ---- the rewrite
    def run(self) -> Block:
        body = self.block(self._array_zeros(self.fn.body), frozenset())
        self.check(body)
        return body

    def _array_zeros(self, body: Block) -> Block:
        """`x_bar = 0.0` at the top level of the backward sweep, for an x that is a real array
        of one shape (every value it holds has it: the types' shape is static) and bound
        there (a parameter, or assigned at the top level of the forward sweep), is
        `x_bar = zeros_like(x)`: numba gives a variable one type, and x_bar becomes an array
        in the sweep (`x_bar = -(x_bar * np.sin(x))` in a loop). The same values: the
        symbolic zero times, or plus, an array of x's shape is that array's zero."""
        try:
            start = backward_start(body)
        except StopIteration:
            return body
        bound = {p.name for p in self.fn.params} | {s.target for s in body[:start] if isinstance(s, Assign)}
        out = list(body)
        for k in range(start + 1, len(body)):
            s = body[k]
            if not (isinstance(s, Assign) and s.value == Const(0.0) and s.target.endswith("_bar")
                    and s.target not in self.types):
                continue
            v = s.target[:-len("_bar")]
            t = self.types.get(v, T.UNKNOWN)
            if v in bound and t.kind == "array" and t.rank and isinstance(t.shape, tuple) and t.dtype == "f":
                out[k] = Assign(s.target, Call("zeros_like", (Name(v),)), s.loc, sid=s.sid)
        return tuple(out)

    def block(self, b: Block, reserved: frozenset[str]) -> Block:
        out: list[Stmt] = []
        for s in b:
            out += self.stmt(s, reserved)
        return tuple(out)

    def expr(self, e: Expr) -> Expr:
        e = map_expr(e, self._no_element_copy)
        if self.parts:
            e = map_expr(e, self._part)
        return e

    def stmt(self, s: Stmt, reserved: frozenset[str]) -> list[Stmt]:
        if isinstance(s, Assign) and s.target in self.sizes and s.value == Call("list"):
            t = s.target
            dtype = Name(_DTYPES[self.tapes[t][len(_ARRAY):]])
            return [Assign(t, Call("np.empty", (Const(0), dtype)), s.loc),
                    Assign(self.sizes[t], Call("np.empty", (Const(0), Name("np.int64"))), s.loc),
                    Assign(self.count[t], Const(0), s.loc), Assign(self.end[t], Const(0), s.loc)]
        if isinstance(s, Assign) and s.target in self.tapes and s.value == Call("list"):
            kind = self.tapes[s.target]
            size: Expr = Call("tuple", (Const(0), Const(3))) if kind == "range" else Const(0)
            dtype = Name("np.int64" if kind.startswith(_SIZES) else _DTYPES[kind])
            return [Assign(s.target, Call("np.empty", (size, dtype)), s.loc),
                    Assign(self.count[s.target], Const(0), s.loc)]
        if isinstance(s, Assign) and s.value == Const(None):
            kind = self._kind(s.target)
            t = self.types.get(s.target, T.UNKNOWN)
            if kind == "array" and t.rank == 1 and t.dtype in _ARRAY_DTYPES:  # (an empty array of its type)
                return [Assign(s.target, Call("np.empty", (Const(0), Name(_DTYPES[_ARRAY_DTYPES[t.dtype]]))), s.loc)]
            if kind not in _ZEROS:
                raise Refused(f"the value None given to {s.target}", s.loc)
            return [Assign(s.target, _ZEROS[kind], s.loc)]
        if isinstance(s, ExprStmt) and isinstance(s.value, Call) and s.value.args[:1] and \
                isinstance(s.value.args[0], Name) and s.value.args[0].id in self.tapes:
            t = s.value.args[0].id
            n = self.count[t]
            if t in self.sizes:
                return self.array_push(s, t, reserved)
            if s.value.op == "method:pop":
                return [AugAssign(n, "sub", Const(1), s.loc)]
            v = self.expr(s.value.args[1])
            grow = [] if t in reserved else [
                Assign(t, Call("tape_reserve", (Name(t), Call("add", (Name(n), Const(1))))), s.loc)]
            if self.tapes[t] == "range":
                put = [SetItem(t, Call("tuple", (Name(n), Const(k))), Call(f"attr:{a}", (v,)), s.loc)
                       for k, a in enumerate(_RANGE_FIELDS)]
            elif self.tapes[t].startswith(_SIZES):  # (stand_in(x): x's size is all that is read)
                put = [SetItem(t, Name(n), Call("attr:size", v.args), s.loc)]
            else:
                put = [SetItem(t, Name(n), v, s.loc)]
            return grow + put + [AugAssign(n, "add", Const(1), s.loc)]
        if isinstance(s, (Assign, SetItem)) and isinstance(s.value, Call) and s.value.op == "method:pop" and \
                s.value.args[0] in map(Name, self.tapes):
            t = s.value.args[0].id
            if t in self.sizes:
                return self.array_pop(s, t)
            got: Expr = Call("getitem", (Name(t), Name(self.count[t])))
            if self.tapes[t] == "range":
                got = Call("range", tuple(Call("getitem", (Name(t), Call("tuple", (Name(self.count[t]), Const(k)))))
                                          for k in range(3)))
            elif self.tapes[t].startswith(_SIZES):  # (zeros of the size kept: only the shape is read)
                got = Call("np.zeros", (got, Name(_DTYPES[self.tapes[t][len(_SIZES):]])))
            restore = Assign(s.target, got, s.loc) if isinstance(s, Assign) else \
                SetItem(s.target, self.expr(s.index), got, s.loc)
            return [AugAssign(self.count[t], "sub", Const(1), s.loc), restore]
        if isinstance(s, Assign) and s.target in self.parts:
            return self.parts_assign(s)
        if isinstance(s, (AugSetItem, SetItem)) and s.target in self.parts:
            part = self.part_names.get((s.target, s.index.value))
            if part is None:
                raise Refused(f"an index {s.index.value} past the end of {s.target}", s.loc)
            if isinstance(s, SetItem):
                return [Assign(part, self.expr(s.value), s.loc)]
            return [AugAssign(part, s.op, self.expr(s.value), s.loc)]
        if isinstance(s, For):
            it = self.iteration(s.iter, s.loc)
            # (a tape also pushed inside a nested loop is not reserved here: its count at
            # this loop's entry would not bound the pushes that skip the check)
            nested = {t for inner in walk(s.body) if isinstance(inner, (For, While))
                      for t in _direct_pushes(inner.body, self.tapes)}
            pushes = Counter({t: k for t, k in _direct_pushes(s.body, self.tapes).items() if t not in nested})
            before: list[Stmt] = []
            if pushes and self._range_like(it):
                for t in pushes:  # (in the order of their first push)
                    trips = Call("len", (it,))
                    need = Call("mul", (Const(pushes[t]), trips)) if pushes[t] != 1 else trips
                    rows = self.sizes.get(t, t)  # (an array tape's elements grow as they are pushed)
                    before.append(Assign(rows, Call("tape_reserve", (Name(rows), Call("add", (Name(self.count[t]),
                                                                                             need)))), s.loc))
                inner = frozenset(pushes)
            else:
                inner = frozenset()
            return before + [_replace(s, iter=it, body=self.block(s.body, inner))]
        if isinstance(s, While):
            return [_replace(s, test=self.expr(s.test), body=self.block(s.body, frozenset()))]
        if isinstance(s, If):
            return [_replace(s, test=self.expr(s.test), body=self.block(s.body, reserved),
                             orelse=self.block(s.orelse, reserved))]
        if isinstance(s, Assign):
            return [_replace(s, value=self.expr(s.value))]
        if isinstance(s, (SetItem, AugSetItem)):
            return [_replace(s, index=self.expr(s.index), value=self.expr(s.value))]
        if isinstance(s, (AugAssign, ExprStmt, Return)):
            return [_replace(s, value=self.expr(s.value))]
        return [s]

    def array_push(self, s: ExprStmt, t: str, reserved: frozenset[str]) -> list[Stmt]:
        """A push onto (or a pop of) a tape of 1-D arrays: its elements copied after the
        last push's (a snapshot: what the NumPy adjoint's list holds, the tape pass having
        copied a value changed afterwards), its size kept."""
        n, sizes, end = self.count[t], self.sizes[t], self.end[t]
        if s.value.op == "method:pop":
            return [AugAssign(n, "sub", Const(1), s.loc),
                    AugAssign(end, "sub", Call("getitem", (Name(sizes), Name(n))), s.loc)]
        v = s.value.args[1]
        if isinstance(v, Call) and v.op == "method:copy":
            v = v.args[0]  # (copied onto the tape anyway)
        size = Call("attr:size", (v,))
        grow = [] if t in reserved else [
            Assign(sizes, Call("tape_reserve", (Name(sizes), Call("add", (Name(n), Const(1))))), s.loc)]
        return grow + [SetItem(sizes, Name(n), size, s.loc),
                       Assign(t, Call("tape_push_array", (Name(t), Name(end), v)), s.loc),
                       AugAssign(end, "add", size, s.loc), AugAssign(n, "add", Const(1), s.loc)]

    def array_pop(self, s: Assign | SetItem, t: str) -> list[Stmt]:
        """`v = T.pop()` of a tape of 1-D arrays: a copy of the last push's elements (the
        tape's memory is reused by later pushes)."""
        if isinstance(s, Assign) and s.target in self.shared:
            raise Refused(f"a tape of arrays restoring {s.target}, which shares memory with another name", s.loc)
        n, sizes, end = self.count[t], self.sizes[t], self.end[t]
        size = Call("getitem", (Name(sizes), Name(n)))
        got = Call("method:copy", (Call("getitem", (Name(t), Call("slice", (Name(end), Call("add", (Name(end), size)),
                                                                            Const(None))))),))
        restore = Assign(s.target, got, s.loc) if isinstance(s, Assign) else \
            SetItem(s.target, self.expr(s.index), got, s.loc)
        return [AugAssign(n, "sub", Const(1), s.loc), AugAssign(end, "sub", size, s.loc), restore]

    def parts_assign(self, s: Assign) -> list[Stmt]:
        v, n = s.value, self.parts[s.target]
        if v.op == "list":
            values = [self.expr(a) for a in v.args]
        else:  # (copy_adjoint: an array entry is copied, as runtime.copy_adjoint copies it)
            values = [Call("copy_adjoint", (Name(self.part_names[(v.args[0].id, k)]),)) for k in range(n)]
        return [Assign(self.part_names[(s.target, k)], values[k], s.loc) for k in range(n)]

    def _range_like(self, it: Expr) -> bool:
        return (isinstance(it, Call) and it.op == "range") or (isinstance(it, Name) and it.id in self.ranges)

    def iteration(self, it: Expr, loc: Loc) -> Expr:
        """A loop's iterable as numba takes it (reversed ranges and arrays, see the docstring)."""
        if not (isinstance(it, Call) and it.op == "reversed"):
            return self.expr(it)
        (arg,) = it.args
        if isinstance(arg, Name) and self.types.get(arg.id, T.UNKNOWN).kind == "array":
            return Call("getitem", (arg, Call("slice", (Const(None), Const(None), Const(-1)))))
        base, count = arg, None
        if isinstance(arg, Call) and arg.op == "getitem" and isinstance(arg.args[1], Call) and \
                arg.args[1].op == "slice" and arg.args[1].args[0] == Const(None) and \
                arg.args[1].args[2] == Const(None):
            base, count = arg.args[0], arg.args[1].args[1]
        if not self._range_like(base):
            raise Refused("a loop over reversed(...) of something other than a range or an array", loc)
        count = count if count is not None else Call("len", (base,))
        spelled = self.ranges.get(base.id) if isinstance(base, Name) else base
        last = Call("sub", (count, Const(1)))
        if spelled is not None and len(spelled.args) == 1:  # range(n): start 0, step 1
            return Call("range", (last, Const(-1), Const(-1)))
        start, step = Call("attr:start", (base,)), Call("attr:step", (base,))
        return Call("range", (Call("add", (start, Call("mul", (last, step)))), Call("sub", (start, step)),
                              Call("neg", (step,))))

    # ---- what numba cannot be given
    def check(self, body: Block) -> None:
        helpers = set(codegen.RUNTIME_NAMES) | {n for n in dir(runtime) if not n.startswith("_")
                                                and callable(getattr(runtime, n))}
        for s in walk(body):
            for e in _exprs(s):
                if e == Const(None):
                    raise Refused("the value None", s.loc)
                for c in _calls(e):
                    if c.op not in ("slice", "tuple", "getitem") + HELPERS and Const(None) in c.args:
                        raise Refused("the value None", s.loc)
                    if c.calls_user:
                        raise Refused(f"a call of {c.member} through its own adjoint (a function adjointc does not "
                                      "inline: a loop in it, or recursion)", s.loc)
                    if c.op in helpers and c.op not in HELPERS:
                        raise Refused(f"the adjointc runtime helper {c.op}()", s.loc)
                    if c.op in ("list", "dict", "set") or c.op in ("method:append", "method:pop"):
                        raise Refused(f"a Python {c.op.split(':')[-1]} (a Python object in compiled code)", s.loc)


def _root(n: str, sources: dict[str, str]) -> str:
    """Where a chain of copies starts."""
    seen = set()
    while n in sources and n not in seen:
        seen.add(n)
        n = sources[n]
    return n


def _copied(v: Expr) -> str | None:
    """The name `v` copies (`copy_adjoint(m)`), if it is one."""
    if isinstance(v, Call) and v.op == "copy_adjoint" and len(v.args) == 1 and isinstance(v.args[0], Name):
        return v.args[0].id
    return None


def _reads(es: tuple) -> set[str]:
    return {n for e in es for n in names_in(e)}


def _names_of(s: Stmt) -> list[str]:
    out = [n for e in _exprs(s) for n in names_in(e)]
    target = getattr(s, "target", None)
    if isinstance(target, str):
        out.append(target)
    return out


def _direct_pushes(b: Block, tapes: Mapping[str, str]) -> Counter:
    """Pushes per trip of each tape in `b`, outside nested loops (an if: its larger branch)."""
    out: Counter = Counter()
    for s in b:
        if isinstance(s, ExprStmt) and isinstance(s.value, Call) and s.value.op == "method:append" and \
                isinstance(s.value.args[0], Name) and s.value.args[0].id in tapes:
            out[s.value.args[0].id] += 1
        elif isinstance(s, If):
            a, c = _direct_pushes(s.body, tapes), _direct_pushes(s.orelse, tapes)
            for t in list(a) + [t for t in c if t not in a]:  # (in the order of their first push)
                out[t] += max(a[t], c[t])
    return out


def _replace(s: Stmt, **kw: Any) -> Stmt:
    from dataclasses import replace
    return replace(s, **kw)


