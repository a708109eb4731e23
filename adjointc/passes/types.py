"""Type/rank inference: given the abstract call signature, the static type of
every variable (`adjointc.types.T`).

Flow-insensitive per name: a variable assigned several times gets the join
of its assignments; a variable whose kind or rank differs between
assignments becomes `unknown` (the generated code then stays generic, e.g.
keeps `unbroadcast`). Loops are iterated to a fixpoint. The result is a
side table `name -> T`; the IR is not changed.

One exception to the plain join: a zero slot (`_zero_slots`), the element of a
tuple's zero adjoint `L = [0.0, 0.0]` that only `L[i] = add_adjoint(L[i], g)`
ever stores into. Its 0.0 is the symbolic zero (runtime.is_zero), never a float
arithmetic reads, so it joins into the container adjoints added there instead
of making the element unknown (what lets a third derivative through a loop
prove the second level's in-place updates safe).
"""
from __future__ import annotations

import dataclasses
from typing import Any

from .. import rules
from .. import types as T
from ..rules.complex import REAL_VALUED
from ..ir import (Assign, Block, Call, Const, Expr, ExprStmt, For, Function, If, Name, SetItem, While, call_kind,
                  names_in, walk)

ELEMENTWISE_EXCLUDE = {"axis", "dtype", "out", "keepdims", "where", "casting", "order", "subok", "ddof"}


def join(a: T.T | None, b: T.T) -> T.T:
    if a is None or a == b:
        return b
    if a.kind == b.kind:
        if a.kind == "array":
            if a.rank != b.rank:
                return T.array(None, dtype=a.dtype if a.dtype == b.dtype else None)
            shape = a.shape if a.shape == b.shape else T.UNSTABLE
            if a.rank == 0:
                shape = ()
            return T.T("array", a.rank, shape, dtype=a.dtype if a.dtype == b.dtype else None)
        if a.kind in ("tuple", "list"):
            if len(a.elts) == len(b.elts) and a.elts:
                return T.T(a.kind, elts=tuple(join(x, y) for x, y in zip(a.elts, b.elts)))
            return T.T(a.kind, item=T.join_items(a, b, join))  # (of unknown length, or empty)
        if a.kind == "int":  # two different lengths: just an int
            return T.INT
        if a.kind == "struct" and a.cls == b.cls == "dict":
            return T.join_dicts(a, b, join)
        if a.kind == "struct":  # the same fields: join them; otherwise nothing is known
            if a.cls == b.cls and [k for k, _ in a.fields] == [k for k, _ in b.fields]:
                return T.T("struct", fields=tuple((k, join(x, y)) for (k, x), (_, y) in zip(a.fields, b.fields)),
                           cls=a.cls)
            return T.UNKNOWN
        if a.kind == "unknown" and a.dtype != b.dtype:   # (known real, or known complex: rules/complex.py)
            return T.UNKNOWN
        return a
    if {a.kind, b.kind} <= {"int", "float", "bool"}:
        return T.FLOAT if "float" in (a.kind, b.kind) else T.INT
    if {a.kind, b.kind} <= {"int", "float", "bool", "complex"}:   # sometimes complex: complex
        return T.T("complex")
    if {a.kind, b.kind} == {"float", "unknown"} and T.is_real(a) and T.is_real(b):
        return T.UNKNOWN_REAL   # (a float, or a real value of unknown shape: abs(v), v.imag)
    if a.kind == "array" and b.is_scalar or b.kind == "array" and a.is_scalar:
        arr = a if a.kind == "array" else b
        return T.array(None, dtype=arr.dtype)
    return T.UNKNOWN


class TypeEnv:
    def __init__(self, env: dict[str, T.T], consts: dict[str, Any], calls: Any = None):
        self.env = env
        self.consts = consts
        self.calls = calls  # resolves the result type of calls to user functions
        self.order: dict[int, int] = {}  # statement's sid -> its position (names new shapes)
        self.in_loop: set[int] = set()   # sids of the statements inside a loop
        self.appended: dict[str, T.T] = {}  # list -> join of the values appended (what a pop gives)
        self.appended_to: set[str] = set()  # the lists the function appends to somewhere
        self.popped_into: set[str] = set()  # the names `v = vals.pop()` assigns
        self.zero_slots: set[tuple[str, int]] = set()  # (L, i): L[i] starts as the symbolic zero (_zero_slots)
        # (infer's sweeps: how often each name's type changed, and per statement (sid) the
        # names it reads with those counts when it was last evaluated; see _stmt)
        self.version: dict[str, int] = {}
        self.evaluated: dict[int, tuple[tuple[str, ...], tuple[int, ...]]] = {}

    def of(self, e: Expr) -> T.T:
        if isinstance(e, Name):
            if e.id in self.env:
                return self.env[e.id]
            if e.id in self.consts:
                return T.of_value(self.consts[e.id])
            return T.UNKNOWN
        if isinstance(e, Const):
            return T.of_value(e.value)
        return self.call(e)

    def call(self, e: Call) -> T.T:
        if e.calls_user:
            if self.calls is None:
                return T.UNKNOWN
            name = self.calls.callee(e, self.of(e.args[0]) if e.args else T.UNKNOWN)
            if name is None:
                raise TypeProblem(f"cannot resolve the method .{e.op.split(':')[1]}() of a value of type "
                                  f"{self.of(e.args[0])}", "methods can be called on dataclass or object arguments")
            full = self.calls.full_args(name, e.args, e.kwargs)
            return self.calls.result_type(name, [self.of(a) for a in full])
        if e.kind == "attr":
            base = self.of(e.args[0])
            attr = e.member
            if base.position(attr) is not None:   # a namedtuple's field (read as base[i] by the passes)
                return base.elts[base.position(attr)]
            if base.kind == "struct":
                t = base.field(attr)
                if t is T.UNKNOWN and not any(k == attr for k, _ in base.fields):
                    raise TypeProblem(f"the argument has no field .{attr}", "")
                return t
            if rules.lookup(e.op) is None:
                if base.kind in ("unknown", "object"):
                    return T.UNKNOWN
                raise TypeProblem(f"a value of type {base} has no attribute .{attr} adjointc knows",
                                  "supported array attributes: " + ", ".join(
                                      sorted(Call(k).member for k in rules.REGISTRY if call_kind(k) == "attr")))
        rule = rules.lookup(e.op)
        if rule is None:
            return T.UNKNOWN
        of = self.of
        if e.op in ("add", "mul") and len(e.args) == 2:
            ts = [self.of(a) for a in e.args]
            seq = _sequence_op(e, ts)
            if seq is not None:
                return seq
            # (the operands' types again below: typing them twice doubled the cost per level
            # of nested arithmetic; `e` holds the operands, so their ids stay theirs)
            known = {id(a): t for a, t in zip(e.args, ts)}

            def of(x: Expr) -> T.T:
                t = known.get(id(x))
                return self.of(x) if t is None else t
        bound = rule.bind(e.args, e.kwargs)
        types = {k: (tuple(of(x) for x in v) if isinstance(v, tuple) else of(v))
                 for k, v in bound.items()}
        return result_type(rule, types, bound, e)


def _sequence_op(e: Call, ts: list[T.T]) -> T.T | None:
    """`[0.0] * n` (repetition) and `a + b` (concatenation) of lists/tuples: a sequence
    of the same kind (the elementwise result types would call it a number)."""
    a, b = ts
    if e.op == "mul":
        seq, n, count = (a, b, e.args[1]) if a.kind in ("list", "tuple") else (b, a, e.args[0])
        if seq.kind not in ("list", "tuple") or n.kind not in ("int", "bool"):
            return None
        if isinstance(count, Const) and isinstance(count.value, int) and len(seq.elts) * count.value <= 64:
            return T.T(seq.kind, elts=seq.elts * max(count.value, 0))
        return T.T(seq.kind)  # (known `elts` mean a known length: here it is not)
    if a.kind == b.kind and a.kind in ("list", "tuple"):
        return T.T(a.kind, elts=a.elts + b.elts) if a.elts and b.elts else T.T(a.kind)
    return None


def _join_all(ts: tuple[T.T, ...]) -> T.T:
    out: T.T | None = None
    for t in ts:
        out = join(out, t)
    return out if out is not None else T.UNKNOWN


class TypeProblem(Exception):
    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.message, self.hint = message, hint


def result_type(rule: rules.Rule, types: dict[str, Any], bound: dict[str, Any], e: Call) -> T.T:
    """The rule's result type; complex where an argument is complex, unless the op's value
    is real (rules/complex.py: the result functions need not track complex dtypes)."""
    t = _rule_result(rule, types, bound, e)
    if not rule.nondiff and rule.op not in REAL_VALUED and any(
            T.is_complex(x) for v in types.values() for x in (v if isinstance(v, tuple) else (v,))):
        return T.complexified(t)
    return t


def _rule_result(rule: rules.Rule, types: dict[str, Any], bound: dict[str, Any], e: Call) -> T.T:
    kind = rule.result
    if callable(kind):
        try:
            return kind(types, bound)
        except TypeProblem:  # (a rule refusing its arguments' types: located by _block)
            raise
        except Exception:
            return T.array(None)
    first = types[rule.params[0]] if rule.params else (types[rule.varargs][0] if rule.varargs and types[rule.varargs] else T.UNKNOWN)
    if kind == "same":
        return first if not isinstance(first, tuple) else T.UNKNOWN
    if kind in ("elementwise", "elementwise_int", "elementwise_bool"):
        names = [p for p in rule.params if p not in ELEMENTWISE_EXCLUDE]
        if rule.templates:
            names = [p for p in names if p in rule.templates] or names
        ts = [types[p] for p in names if not isinstance(types[p], tuple) and types[p].kind != "none"]
        if not ts:
            return T.UNKNOWN
        r = T.broadcast(*ts)
        if kind != "elementwise" and r.kind == "array":
            return T.array(r.rank, r.shape, "i" if kind == "elementwise_int" else "b")
        if kind == "elementwise_bool" and r.kind != "array":
            return T.BOOL
        if kind == "elementwise_int" and r.kind != "array":
            return T.INT
        return r
    if kind == "reduce":
        if isinstance(first, tuple) or first.kind != "array":
            return T.FLOAT if not isinstance(first, tuple) and first.kind in ("float", "int", "bool") else T.UNKNOWN
        axis, keep = bound.get("axis", Const(None)), bound.get("keepdims", Const(False))
        if not isinstance(axis, Const) or not isinstance(keep, Const) or first.rank is None:
            return T.array(None, dtype=first.dtype)
        axes = tuple(range(first.rank)) if axis.value is None else (
            axis.value if isinstance(axis.value, tuple) else (axis.value,))
        if not all(isinstance(a, int) and -first.rank <= a < first.rank for a in axes):
            return T.array(None, dtype=first.dtype)
        axes = tuple(a % first.rank for a in axes)
        dims = first.shape if isinstance(first.shape, tuple) else None
        if keep.value:
            shape = tuple(T.ONE if i in axes else d for i, d in enumerate(dims)) if dims else None
            return T.array(first.rank, shape, dtype=first.dtype)
        if len(axes) >= first.rank:
            return T.FLOAT
        shape = tuple(d for i, d in enumerate(dims) if i not in axes) if dims else None
        return T.array(first.rank - len(axes), shape, dtype=first.dtype)
    if kind == "getitem":
        x = types["x"]
        if x.kind == "struct":
            idx = bound["index"]
            if x.cls == "dict" and types["index"].kind == "int" and not x.elts and not any(
                    isinstance(k, int) for k, _ in x.fields):   # (a dict of int keys: an int reads one)
                raise TypeProblem("a dict indexed by an integer (is this `for k in d:`? it loops over "
                                  "positions here, not keys)", "loop over its keys or items: "
                                  "`for k in d.keys():` or `for k, v in d.items():`")
            if x.cls == "dict":
                return T.dict_value(x, idx.value if isinstance(idx, Const) else None, join,
                                    known=isinstance(idx, Const))
            return x.field(idx.value) if isinstance(idx, Const) else T.UNKNOWN
        if x.kind in ("tuple", "list"):
            idx = bound["index"]
            if isinstance(idx, Call) and idx.op == "slice":  # a slice of a list is a list (never an element)
                parts = [p.value if isinstance(p, Const) and (p.value is None or isinstance(p.value, int))
                         else NotImplemented for p in idx.args]
                known = x.elts and NotImplemented not in parts and parts[2] != 0
                return T.T(x.kind, elts=x.elts[slice(*parts)] if known else ())
            if isinstance(idx, Const) and isinstance(idx.value, int) and x.elts and -len(x.elts) <= idx.value < len(x.elts):
                return x.elts[idx.value]
            if x.elts and all(el == x.elts[0] for el in x.elts):
                return x.elts[0]
            if any(T.is_complex(el) for el in x.elts):   # some element is complex: may be this one
                return T.T("complex")
            if not x.elts and x.item is not None and x.item != T.EMPTY and types["index"].kind == "int":
                return x.item  # (an element of a list built by appends)
            return T.UNKNOWN
        if x.kind == "object" and x.cls == "range":  # (generated code reads its recorded ranges)
            return T.INT if types["index"].kind == "int" else x
        if x.kind != "array" or x.rank is None:
            return T.array(None) if x.kind == "array" else T.UNKNOWN
        rank, shape = _index_shape(x, bound["index"], types["index"])
        if rank is None:
            return T.array(None, dtype=x.dtype)
        if rank == 0:
            return T.FLOAT if x.dtype in ("f", None) else (T.INT if x.dtype == "i" else (T.BOOL if x.dtype == "b" else T.T("complex")))
        return T.array(rank, shape, dtype=x.dtype)
    if kind == "transpose":
        if first.kind != "array":
            return first
        shape = tuple(reversed(first.shape)) if isinstance(first.shape, tuple) else None
        return T.array(first.rank, shape, dtype=first.dtype)
    if kind == "tuple":
        return T.T("tuple", elts=tuple(types[rule.varargs]))
    if kind == "list":  # (`[]`: a list of no elements, whose item type the appends give)
        return T.T("list", elts=tuple(types[rule.varargs]), item=None if types[rule.varargs] else T.EMPTY)
    if kind == "sum_list":
        x = first
        return T.broadcast(*x.elts) if x.kind in ("list", "tuple") and x.elts else T.UNKNOWN
    if kind == "unknown":
        return T.array(None)
    return {"float": T.FLOAT, "int": T.INT, "bool": T.BOOL, "object": T.T("object"),
            "none": T.NONE, "array": T.array(None)}.get(kind, T.UNKNOWN)


def _slice_dim(dim: Any, sl: Call) -> Any:
    """The symbolic length of `dim` sliced by a:b (None: unknown)."""
    lo, hi, step = sl.args
    if not (isinstance(step, Const) and step.value in (None, 1)):
        return None
    a = 0 if isinstance(lo, Const) and lo.value is None else (lo.value if isinstance(lo, Const) else None)
    b = 0 if isinstance(hi, Const) and hi.value is None else (hi.value if isinstance(hi, Const) else None)
    if not (isinstance(a, int) and isinstance(b, int) and a >= 0 and b <= 0) or dim is None:
        return None  # x[:3], x[-2:], x[i:j]: length depends on values we do not track
    sym, off = dim
    if sym is None:
        return (None, max(0, off + b - a))
    return (sym, off + b - a)


def _index_shape(x: T.T, index: Expr, itype: T.T) -> tuple[int | None, Any]:
    """Rank and symbolic shape of x[index] (basic indexing only)."""
    parts = index.args if isinstance(index, Call) and index.op == "tuple" else (index,)
    ptypes = itype.elts if isinstance(index, Call) and index.op == "tuple" else (itype,)
    if len(ptypes) != len(parts):
        return None, None
    dims = list(x.shape) if isinstance(x.shape, tuple) else [None] * x.rank
    if sum(1 for p in parts if not (isinstance(p, Const) and p.value is None)) > x.rank:
        return None, None
    if any(isinstance(p, Const) and p.value is Ellipsis for p in parts):
        return None, None
    out: list[Any] = []
    i = 0
    for p, pt in zip(parts, ptypes):
        if isinstance(p, Const) and p.value is None:
            out.append(T.ONE)
            continue
        if isinstance(p, Call) and p.op == "slice":
            out.append(_slice_dim(dims[i], p))
        elif pt.kind == "int" and not isinstance(p.value if isinstance(p, Const) else None, bool):
            pass  # an integer index drops the axis
        else:
            return None, None
        i += 1
    out += dims[i:]
    shape = tuple(out) if all(d is not None for d in out) else None
    return len(out), shape


def infer(fn: Function, arg_types: dict[str, T.T], consts: dict[str, Any], calls: Any = None) -> dict[str, T.T]:
    env: dict[str, T.T] = {k: (T.T("array", t.rank, tuple((("param", k, i), 0) for i in range(t.rank)),
                                   dtype=t.dtype)
                              if t.kind == "array" and t.rank else t) for k, t in arg_types.items()}
    te = TypeEnv(env, consts, calls)
    # (keyed by sid: fn is a Program's, numbered; one statement at two places, as the
    # frontend shares them, has one sid and is named after its last place, as before)
    te.order, te.in_loop, te.appended_to, te.popped_into = {}, set(), set(), set()
    for k, s in enumerate(walk(fn.body)):  # (one walk for the four)
        if s.sid:
            te.order[s.sid] = k
        t, v = type(s), getattr(s, "value", None)
        if t is For or t is While:
            te.in_loop.update(x.sid for x in walk(s.body))
        elif t is ExprStmt and type(v) is Call and v.op == "method:append" and type(v.args[0]) is Name:
            te.appended_to.add(v.args[0].id)
        elif t is Assign and type(v) is Call and v.op == "method:pop":
            te.popped_into.add(s.target)
    te.zero_slots = _zero_slots(fn, set(arg_types))
    for _ in range(20):  # fixpoint over loops; types only move up the lattice
        before = dict(env)
        _block(fn.body, te)
        if env == before:
            break
    return env


def _set(te: TypeEnv, name: str, t: T.T, stmt: Any = None, joins: Any = join) -> None:
    if t.kind == "array" and t.shape is None:
        # A new shape, named after the statement that makes it: two assignments of one
        # variable get two symbols (they join to UNSTABLE). A statement in a loop may
        # make a different shape on each trip (`w = x[:k]`): no symbol at all.
        sid = getattr(stmt, "sid", 0)
        key = te.order.get(sid) if sid else None
        if t.rank is None or key is None or sid in te.in_loop:
            shape = T.UNSTABLE
        else:
            shape = tuple((("stmt", key, i), 0) for i in range(t.rank))
        t = T.T("array", t.rank, shape, dtype=t.dtype)
    old = te.env.get(name)
    new = te.env[name] = joins(old, t)
    if old is None or new != old:
        te.version[name] = te.version.get(name, 0) + 1


def _block(b: Block, te: TypeEnv) -> None:
    for s in b:
        try:
            _stmt(s, te)
        except TypeProblem as e:
            from ..errors import UnsupportedSyntax
            raise UnsupportedSyntax(e.message, s.loc, e.hint) from None


def _stmt(s, te: TypeEnv) -> None:
    pop = isinstance(s, Assign) and isinstance(s.value, Call) and s.value.op == "method:pop" \
        and isinstance(s.value.args[0], Name)
    sid = getattr(s, "sid", 0)
    if sid and not pop and isinstance(s, (Assign, SetItem, ExprStmt)):
        # A statement whose operands' types have not changed since it was last evaluated
        # would give its target the type it gave it then, and joining a type in again
        # changes nothing: later sweeps of the fixpoint evaluate only the statements that
        # read a name whose type changed. (By sid: one statement at two places is one
        # statement, with the same operands; one not numbered is always evaluated. A pop's
        # type comes from the appends, not from its operand: it is always evaluated.)
        seen = te.evaluated.get(sid)
        if seen is None:
            reads = _operands(s)
        else:
            reads = seen[0]
            if seen[1] == tuple([te.version.get(n, 0) for n in reads]):
                return
        te.evaluated[sid] = (reads, tuple([te.version.get(n, 0) for n in reads]))
    if pop:
        # `v = vals.pop()` (a tape of generated code): any value appended, or any element it was built with
        lst = s.value.args[0].id
        t = te.appended.get(lst)
        built = te.env.get(lst)
        if built is not None and built.kind == "list" and built.elts:
            t = join(t, _join_all(built.elts))
        if t is not None or lst not in te.appended_to:  # (else: known once an append's value is)
            _set(te, s.target, t if t is not None else T.UNKNOWN, s)
        _set(te, lst, T.T("list"))  # (its length is no longer known)
    elif isinstance(s, Assign) and type(s.value) is Const and s.value == Const(None) \
            and s.target in te.popped_into:
        # a tape's placeholder (generated code: `a = None` pushed before a's first value and
        # popped back at the end): arithmetic never reads it, the values a holds give its type
        pass
    elif isinstance(s, Assign) and (s.target, -1) in te.zero_slots and s.target in te.env:
        _set(te, s.target, te.of(s.value), s, _zero_join)  # (`_t4 = L[i]`, L[i] a zero slot)
    elif isinstance(s, Assign):
        _set(te, s.target, te.of(s.value), s, _slot_joiner(te, s.target))
    elif isinstance(s, SetItem):
        vt = te.of(s.value)  # (an int array stays int: numpy casts the value; activity sees the dtype)
        lst = te.env.get(s.target)
        if lst is not None and lst.kind == "list" and lst.elts:
            # a list holds what was stored in it: `L = [0, 0]; L[1] = x * 2.0` makes L[1] a float
            i = s.index.value if isinstance(s.index, Const) and isinstance(s.index.value, int) else None
            if i is not None and -len(lst.elts) <= i < len(lst.elts):
                elts = tuple((_zero_join(t, vt) if (s.target, k) in te.zero_slots else join(t, vt))
                             if k == i % len(lst.elts) else t for k, t in enumerate(lst.elts))
            else:  # an unknown position (or a slice): any element may now be the value
                v = _join_all(vt.elts) if isinstance(s.index, Call) and s.index.op == "slice" else vt
                elts = tuple(join(t, v) for t in lst.elts)
            _set(te, s.target, T.T("list", elts=elts), joins=_slot_joiner(te, s.target))
        elif lst is not None and lst.kind == "list" and lst.item is not None:  # (of unknown length)
            slice_ = isinstance(s.index, Call) and s.index.op == "slice"
            _set(te, s.target, T.T("list", item=None if slice_ else T.join_items(lst, T.T("list", item=vt), join)))
        elif lst is not None and T.is_dict(lst):  # an entry written (or inserted)
            known = isinstance(s.index, Const)
            _set(te, s.target, T.dict_with(lst, s.index.value if known else None, vt, join, known))
    elif isinstance(s, ExprStmt) and isinstance(s.value, Call) and s.value.op == "method:append":
        lst, v = s.value.args[0].id, s.value.args[1]
        if not (isinstance(v, Name) and v.id not in te.env and v.id not in te.consts):
            # (a name not assigned yet on this sweep, in a loop: its type comes on the next)
            te.appended[lst] = join(te.appended.get(lst), te.of(v))
        # the list grows: its length is no longer known (known `elts` mean a known length);
        # its elements are what was appended (once the value's type is known)
        # (EMPTY until a value's type is known: a later sweep joins it in)
        item = te.appended.get(lst, T.EMPTY)
        _set(te, lst, T.T("list", item=None if item.kind == "unknown" else item))
    elif isinstance(s, ExprStmt) and isinstance(s.value, Call) and s.value.kind == "method" and s.value.args \
            and isinstance(s.value.args[0], Name) and te.env.get(s.value.args[0].id, T.UNKNOWN).kind == "list":
        _set(te, s.value.args[0].id, T.T("list"))  # (`L.extend(M)`, `L.insert(i, v)`: elements unknown)
    elif isinstance(s, For):
        _set(te, s.target, T.INT)
        _block(s.body, te)
    elif isinstance(s, While):
        _block(s.body, te)
    elif isinstance(s, If):
        _block(s.body, te)
        _block(s.orelse, te)


def _zero_slots(fn: Function, params: set[str]) -> set[tuple[str, int]]:
    """The elements (L, i) that hold the symbolic zero adjoint until an adjoint is added
    into them: the reverse pass's zero adjoint of a tuple, `L = [0.0, 0.0]` (simplify.zeros),
    and its scatter `L[i] = add_adjoint(L[i], g)` (adjoints.scatter). The pattern must be
    the whole story of L[i]: every assignment of L a list literal with the constant 0.0 at
    i, every store into L at a constant position, the one at i only that `add_adjoint`, and
    L never copied to another name nor a parameter. Then a float in L[i] is only ever the
    0.0 add_adjoint reads as the symbolic zero (it fails on any other float beside a list),
    so L[i]'s type is that of the adjoints added into it (`_zero_join`)."""
    assigns: dict[str, list[Assign]] = {}
    stores: dict[str, list[SetItem]] = {}
    aliased: set[str] = set()
    for s in walk(fn.body):
        if isinstance(s, Assign):
            assigns.setdefault(s.target, []).append(s)
            if isinstance(s.value, Name):
                aliased.add(s.value.id)
        elif isinstance(s, SetItem):
            stores.setdefault(s.target, []).append(s)
        elif isinstance(s, For):
            aliased.add(s.target)
    if not any(name in assigns and all(isinstance(a.value, Call) and a.value.op == "list" for a in assigns[name])
               for name in stores):
        return set()  # (no list literal stored into: no slot, and no reads to count)
    uses: dict[str, int] = {}
    for s in walk(fn.body):
        for f in dataclasses.fields(s):
            v = getattr(s, f.name)
            if isinstance(v, (Name, Call)):
                for n in names_in(v):
                    uses[n] = uses.get(n, 0) + 1

    def once(e: Expr) -> Expr:
        """A temporary read once and assigned once (three-address IR): its value."""
        if isinstance(e, Name) and uses.get(e.id) == 1 and len(assigns.get(e.id, ())) == 1:
            return assigns[e.id][0].value
        return e

    out: set[tuple[str, int]] = set()
    for name, sets in stores.items():
        lits = assigns.get(name, [])
        if name in params or name in aliased or not lits or not all(
                isinstance(a.value, Call) and a.value.op == "list" for a in lits):
            continue
        n = len(lits[0].value.args)
        if any(len(a.value.args) != n for a in lits) or not all(
                isinstance(st.index, Const) and type(st.index.value) is int and -n <= st.index.value < n
                for st in sets):
            continue
        for i in range(n):
            zero = all(isinstance(a.value.args[i], Const) and type(a.value.args[i].value) is float
                       and a.value.args[i].value == 0.0 for a in lits)
            mine = [st for st in sets if st.index.value % n == i]
            added = [once(st.value) for st in mine]
            if zero and mine and all(isinstance(v, Call) and v.op == "add_adjoint" and once(v.args[0]) in (
                    Call("getitem", (Name(name), Const(i))), Call("getitem", (Name(name), Const(i - n))))
                    for v in added):
                out.add((name, i))
                # (the temporary `_t4 = L[i]` add_adjoint reads: a zero slot's value too)
                out.update((v.args[0].id, -1) for v in added if isinstance(v.args[0], Name))
    return out


def _zero_join(a: T.T | None, b: T.T) -> T.T:
    """join for a zero slot: the symbolic zero (a float) is a zero of any container adjoint."""
    if a is None:
        return b
    if a.kind == "float" and b.kind in ("list", "tuple"):
        return b
    if b.kind == "float" and a.kind in ("list", "tuple"):
        return a
    return join(a, b)


def _slot_joiner(te: TypeEnv, name: str) -> Any:
    """join for list L with zero slots: element by element, a slot's zero joining into the
    adjoints added there (`L = [0.0, 0.0]` re-evaluated, `L[1] = ...` joined with the literal)."""
    slots = {k for n, k in te.zero_slots if n == name}
    if not slots:
        return join

    def joins(old: T.T | None, t: T.T) -> T.T:
        if old is None or t.kind != "list" or old.kind != "list" or len(old.elts) != len(t.elts) or not t.elts:
            return join(old, t)
        return T.T("list", elts=tuple((_zero_join if k in slots else join)(o, e)
                                      for k, (o, e) in enumerate(zip(old.elts, t.elts))))
    return joins


def _operands(s: Assign | SetItem | ExprStmt) -> tuple[str, ...]:
    """The names whose types the type `_stmt` gives `s`'s target depends on."""
    if isinstance(s, Assign):
        return tuple(names_in(s.value))
    if isinstance(s, SetItem):
        return tuple(names_in(s.value)) + (s.target,)
    if isinstance(s.value, Call) and s.value.op == "method:append":
        return tuple(names_in(s.value.args[1]))
    return ()
