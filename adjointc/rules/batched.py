"""Batched forward mode: a rule's tangent over a matrix of tangent columns.

`jacfwd` computes its columns J e_1 ... J e_B in one sweep of a *batched* tangent
(passes/tangent.py with `batched=True`): every tangent variable carries one extra
LEADING axis of length B, one entry per column. For a primal `x` of shape S its
batched tangent has shape (B,) + S (a float's: (B,)); a list's or tuple's holds
batched tangents. The tangent pass builds each tangent expression as for one column
(rules/tangents.py) and `Batcher.top` rewrites it for the batch: a vmap of the
expression over the leading axis of the tangents it reads.

How each expression is rewritten (its *batch form*): a node is *batched* when it
reads a tangent, else it is a primal value, the same for every column, and kept.

* Elementwise ops (the operators, NumPy's ufuncs, np.where, the rules' elementwise
  helpers) broadcast: a primal operand aligns with a batched one from the right, as
  it did with one tangent; a batched operand of a lower rank than the result gets
  axes of length 1 after its batch axis (`s_dot[:, None] * x`), so broadcasting never
  pairs the batch axis with a primal axis.
* Ops that index the primal's axes shift them by one: indexing prepends a full slice
  (`x_dot[i]` -> `x_dot[:, i]`; refused where NumPy would move advanced indices to the
  front), reductions and shape ops shift non-negative axes (axis=None: every
  non-batch axis), reshapes keep the batch axis.
* Products (`@`, np.dot, np.einsum, np.tensordot, np.outer) get the form that keeps
  the batch axis first, where the operand ranks allow it.
* Ops whose operands are all tangents (lists, tuples, np.stack, np.concatenate, a
  conditional expression) have every operand batched: a primal operand there is a
  zero tangent (an expression reading no tangent is zero: tangents are linear in the
  seeds), made as `batch_zeros`.

Invariant: an expression is either rewritten exactly (the same value, column by
column, as the unbatched tangent of each column) or refused with `Unbatchable` (an
op without a batch form, an operand whose rank the form needs and the type facts do
not give). The batched build then refuses as a whole and `jacfwd` falls back to one
sweep per column; so does a batched sweep that raises when it runs (a helper meeting
a value it has no batch form for). A batched Jacobian is never wrong, only sometimes
not batched.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import printer
from .. import types as T
from ..errors import AdjointcError
from ..ir import Call, Const, Expr, Name
from . import lookup
from .tangents import _broadcasts

ALL = Call("slice", (Const(None), Const(None), Const(None)))   # `:` (the batch axis, in an index)


class Unbatchable(AdjointcError):
    """A tangent with no batch form: the batched build refuses (jacfwd falls back)."""


Kid = tuple[Expr, bool]  # (rewritten expression, batched?)
Form = Callable[["Batcher", Call, list[Kid], dict[str, Kid]], Expr]
FORMS: dict[str, Form] = {}


def form(*ops: str) -> Callable[[Form], Form]:
    def register(f: Form) -> Form:
        for op in ops:
            FORMS[op] = f
        return f
    return register


class Batcher:
    """Rewrites tangent expressions for a batch of tangents (see the module docstring).
    `types(e)` is the primal type of an expression as written for one tangent (a
    tangent name has its primal's type); `dots` the tangent names; `nb` the name
    holding the batch size (read only by the zeros it makes: `used`)."""

    def __init__(self, types: Callable[[Expr], T.T], dots: set[str], nb: str):
        self.types, self.dots, self.nb, self.used = types, dots, Name(nb), False

    # ----------------------------------------------------------------- entry
    def top(self, e: Expr, like: Expr) -> Expr:
        """The batched form of the whole tangent `e` of the value `like`."""
        x, b = self.node(e)
        return x if b else self.zeros(like)

    def value(self, e: Expr, like: Expr) -> Expr:
        """`e` batched: an operand every column must carry (a list entry, a stacked array)."""
        x, b = self.node(e)
        return x if b else self.zeros(_zero_of(e, like))

    def zeros(self, like: Expr) -> Expr:
        t = self.types(like)
        if t.kind not in ("float", "int", "bool", "array", "list", "tuple", "none", "str") or (
                t.kind in ("list", "tuple") and not _plain(t)):
            raise Unbatchable(f"no batched zero for a value of type {t}")
        if t.kind in ("none", "str"):
            return like   # (carries no tangent: kept, as zero_tangent keeps it)
        self.used = True
        if t.kind in ("float", "int", "bool"):
            return Call("np.zeros", (self.nb,))
        return Call("batch_zeros", (like, self.nb))

    # ------------------------------------------------------------ expressions
    def node(self, e: Expr) -> Kid:
        if isinstance(e, Name):
            return e, e.id in self.dots
        if not isinstance(e, Call):
            return e, False
        kids = [self.node(a) for a in e.args]
        kw = {k: self.node(v) for k, v in e.kwargs}
        if not any(b for _, b in kids) and not any(b for _, b in kw.values()):
            return e, False
        f = FORMS.get(e.op)
        if f is None and _elementwise(e.op):
            f = elementwise
        if f is None:
            raise Unbatchable(f"no batch form for {e.op}")
        return f(self, e, kids, kw), True

    def rank(self, e: Expr) -> int:
        """The rank of e's primal value (0 for a number); refused when not known."""
        r = self.rank_or_none(e)
        if r is None:
            raise Unbatchable(f"the rank of {printer.expr(e)} ({self.types(e)}) is not known")
        return r

    def rank_or_none(self, e: Expr) -> int | None:
        t = self.types(e)
        if t.kind in ("float", "int", "bool"):
            return 0
        if t.kind == "array" and t.rank is not None:
            return t.rank
        if not isinstance(e, Call):
            return None
        # (where the type facts stop: helpers without a result type, broadcasts of those)
        if e.op in _RANK_OF_ARG and len(e.args) > _RANK_OF_ARG[e.op]:
            return self.rank_or_none(e.args[_RANK_OF_ARG[e.op]])
        if _elementwise(e.op) and e.args and not e.kwargs:
            ranks = [self.rank_or_none(a) for a in e.args]
            return None if None in ranks else max(ranks)
        if e.op in ("np.broadcast_to", "np.reshape") and len(e.args) == 2:
            shape = self.types(e.args[1])
            return len(shape.elts) if shape.kind == "tuple" and shape.elts else 1 if shape.kind == "int" else None
        if e.op == "sum" and len(e.args) == 1:
            elts = self.types(e.args[0]).elts
            ranks = {(x.rank if x.kind == "array" else 0 if x.kind in ("float", "int") else None) for x in elts}
            return ranks.pop() if len(ranks) == 1 else None
        return None

    def array(self, x: Expr, orig: Expr) -> Expr:
        """A batched operand as an array: a list's or tuple's tangents stacked (`np.asarray`)."""
        if self.types(orig).kind in ("list", "tuple"):
            return Call("batch_array", (x,))
        return x

    def expand(self, x: Expr, rank: int, to: int) -> Expr:
        """A batched operand of primal rank `rank` aligned with a result of rank `to`."""
        if rank >= to:
            return x
        return Call("getitem", (x, Call("tuple", (ALL,) + (Const(None),) * (to - rank))))

    def index(self, base: Expr, idx: Expr) -> Expr:
        """The index of a batched `base[idx]`, base an array: a full slice prepended."""
        comps = idx.args if isinstance(idx, Call) and idx.op == "tuple" else (
            tuple(Const(v) for v in idx.value) if isinstance(idx, Const) and isinstance(idx.value, tuple)
            else (idx,))
        kinds = [self._index_kind(c) for c in comps]
        if "array" in kinds:   # NumPy moves separated advanced indices to the front
            adv = [i for i, k in enumerate(kinds) if k != "basic"]
            if adv != list(range(adv[0], adv[-1] + 1)):
                raise Unbatchable("advanced indices separated by a slice")
        return Call("tuple", (ALL,) + tuple(comps))

    def _index_kind(self, c: Expr) -> str:
        if isinstance(c, Call) and c.op == "slice":
            return "basic"
        if isinstance(c, Const):
            if c.value is None or c.value is Ellipsis:
                return "basic"
            if isinstance(c.value, int) and not isinstance(c.value, bool):
                return "int"
            raise Unbatchable(f"an index {c.value!r}")
        t = self.types(c)
        if t.kind == "int":
            return "int"
        # (an integer or boolean array; a float one fails as in the primal; a bool, an axis
        # of length 1 or 0 at its place, is an advanced index as well)
        if t.kind in ("array", "list", "bool"):
            return "array"
        raise Unbatchable(f"an index {printer.expr(c)} of type {t}")

    def setitem(self, target: str, idx: Expr, value: Expr) -> tuple[Expr, Expr]:
        """(index, value) of `target_dot[idx] = value` for a batch."""
        t = self.types(Name(target))
        if t.kind == "list":
            return idx, self.value(value, value)
        if t.kind != "array":
            raise Unbatchable(f"an item assignment into a {t}")
        x, b = self.node(value)
        if b:   # (a primal value, a zero, broadcasts into every column as it is)
            x = self.expand(x, self.rank(value), self.rank(Call("getitem", (Name(target), idx))))
        return self.index(Name(target), idx), x


# helpers whose value has the shape of one of their arguments (they have no result type)
_RANK_OF_ARG = {"prod_of_others": 0, "interp_slope": 0, "dsinc": 0, "pow_dx": 0}


def _elementwise(op: str) -> bool:
    """Does `op` broadcast its operands element by element (no core dimensions, as a
    generalised ufunc has; not a `math` function, which takes numbers only)?"""
    if op.startswith("math.") or not _broadcasts(op):
        return False
    f = getattr(np, op[3:], None) if op.startswith("np.") else None
    return getattr(f, "signature", None) is None


def _plain(t: T.T) -> bool:
    """A list or tuple of numbers, arrays and such lists: what batch_zeros can zero."""
    return all(e.kind in ("float", "int", "bool", "array", "none", "str") or (
        e.kind in ("list", "tuple") and _plain(e)) for e in t.elts)


def _zero_of(e: Expr, like: Expr) -> Expr:
    """The value whose zero tangent the primal expression `e` is (np.zeros_like(c): c)."""
    if isinstance(e, Call) and e.op in ("np.zeros_like", "zero_tangent", "zeros_like") and len(e.args) == 1:
        return e.args[0]
    return like


# ------------------------------------------------------------------ helpers
_YES, _NO = Const("<batched>"), Const("<primal>")


def _bound(call: Call, kids: list[Kid], kw: dict[str, Kid]) -> tuple[dict[str, Any], dict[str, bool]]:
    """The call's rewritten arguments bound to its rule's parameters (and `__orig__`, the
    arguments as written), and which parameters read a tangent."""
    rule = lookup(call.op)
    if rule is None:
        raise Unbatchable(f"no rule for {call.op}")
    try:
        args = rule.bind(tuple(x for x, _ in kids), tuple((k, x) for k, (x, _) in kw.items()))
        orig = rule.bind(call.args, call.kwargs)
        marks = rule.bind(tuple(_YES if f else _NO for _, f in kids),
                          tuple((k, _YES if f else _NO) for k, (_, f) in kw.items()))
    except Exception as e:  # (a TypeError: the tangent pass checked the call already)
        raise Unbatchable(str(e)) from None
    flags = {p: (any(m is _YES for m in v) if isinstance(v, tuple) else v is _YES) for p, v in marks.items()}
    args["__orig__"] = orig
    return args, flags


def _const(e: Expr, what: str) -> Any:
    """The value of a constant option (a tuple of constants too: `(2, 0, 1)`)."""
    if isinstance(e, Call) and e.op in ("tuple", "list"):
        return tuple(_const(a, what) for a in e.args)
    if not isinstance(e, Const):
        raise Unbatchable(f"{what} is not a constant")
    return e.value


def _shift(axis: Any, rank: int | None) -> Any:
    """A constant axis (or tuple of axes) of a value of rank `rank`, for its batch: a
    non-negative axis moves up by one, a negative one counts from the end as before (the
    rank, where known, only checks the axis)."""
    if isinstance(axis, (tuple, list)):
        return tuple(_shift(a, rank) for a in axis)
    if isinstance(axis, bool) or not isinstance(axis, int) or (rank is not None and not -rank <= axis < rank):
        raise Unbatchable(f"axis {axis!r} of a rank-{rank} value")
    return axis + 1 if axis >= 0 else axis


def _axis(b: Batcher, e: Expr, rank: int | None) -> Expr:
    """A non-None axis option (an int or a tuple of them) for the batch: a constant
    shifted here, an int variable by `batch_axis` when the code runs."""
    try:
        return Const(_shift(_const(e, "the axis"), rank))
    except Unbatchable:
        t = b.types(e)
        if t.kind == "int" or (t.kind == "tuple" and t.elts and all(x.kind == "int" for x in t.elts)):
            return Call("batch_axis", (e,))
        raise


def _call(op: str, args: tuple[Expr, ...], **kwargs: Any) -> Call:
    """`op(*args, **kwargs)`, the options at their default (None, False) left out."""
    kw = tuple((k, v if isinstance(v, (Name, Call, Const)) else Const(v)) for k, v in kwargs.items())
    return Call(op, args, tuple((k, v) for k, v in kw
                                if not (isinstance(v, Const) and (v.value is None or v.value is False))))


def _only(flags: dict[str, bool], *params: str) -> None:
    """Refuse a call where a parameter outside `params` reads a tangent."""
    if any(b for p, b in flags.items() if p not in params):
        raise Unbatchable("a tangent in an option")


# ------------------------------------------------------------- the forms
def elementwise(b: Batcher, call: Call, kids: list[Kid], kw: dict[str, Kid]) -> Expr:
    if any(f for _, f in kw.values()):
        raise Unbatchable(f"a tangent in an option of {call.op}")
    ranks = [b.rank_or_none(a) for a in call.args]
    to = b.rank_or_none(call)
    if to is None and None not in ranks:
        to = max(ranks, default=0)
    args = []
    for i, ((x, f), a, r) in enumerate(zip(kids, call.args, ranks)):
        if f and b.types(a).kind in ("list", "tuple"):
            raise Unbatchable(f"{call.op} of a list")
        if f and r is None and all(q == 0 for j, q in enumerate(ranks) if j != i):
            pass   # (against numbers only: the result has its rank, whatever it is)
        elif f and (r is None or to is None or r != to):   # (a lower rank than the result's, or not known)
            x = b.expand(x, b.rank(a), b.rank(call) if to is None else to)
        args.append(x)
    return Call(call.op, tuple(args), tuple((k, x) for k, (x, _) in kw.items()))


@form("rebroadcast")
def _rebroadcast(b: Batcher, call: Call, kids: list[Kid], kw: dict[str, Kid]) -> Expr:
    (t, ft), (ans, fa) = kids
    if fa or not ft:
        raise Unbatchable("rebroadcast of a primal")
    return Call("batch_rebroadcast", (b.expand(t, b.rank(call.args[0]), b.rank(call.args[1])), ans))


@form("neg", "pos", "np.negative", "np.positive", "np.conj", "np.conjugate", "np.real", "attr:real",
      "np.copy", "method:copy", "copy_adjoint", "method:pop")
def _unary(b: Batcher, call: Call, kids: list[Kid], kw: dict[str, Kid]) -> Expr:
    if len(kids) != 1 or kw:
        raise Unbatchable(f"{call.op} with options")
    return Call(call.op, (kids[0][0],))


@form("list", "tuple")
def _sequence(b: Batcher, call: Call, kids: list[Kid], kw: dict[str, Kid]) -> Expr:
    return Call(call.op, tuple(x if f else b.zeros(_zero_of(x, x)) for x, f in kids))


@form("ifexp")
def _ifexp(b: Batcher, call: Call, kids: list[Kid], kw: dict[str, Kid]) -> Expr:
    (test, ft), body, orelse = kids
    if ft:
        raise Unbatchable("a tangent as a condition")
    return Call("ifexp", (test,) + tuple(x if f else b.zeros(_zero_of(x, x)) for x, f in (body, orelse)))


@form("getitem")
def _getitem(b: Batcher, call: Call, kids: list[Kid], kw: dict[str, Kid]) -> Expr:
    (base, fb), (idx, fi) = kids
    if fi or not fb:
        raise Unbatchable("a tangent as an index")
    t = b.types(call.args[0])
    if t.kind in ("list", "tuple"):
        return Call("getitem", (base, idx))   # (its entries are the batched tangents)
    if t.kind != "array":
        raise Unbatchable(f"indexing {printer.expr(call.args[0])}, a {t}")
    out: Expr = Call("getitem", (base, b.index(call.args[0], idx)))
    # an element of the primal is a number, a copy; its batched tangent `x_dot[:, i]` is a view of
    # x_dot, which a later item write into x_dot would change: copied, as the element is
    parts = call.args[1].args if isinstance(call.args[1], Call) and call.args[1].op == "tuple" else (call.args[1],)
    if not all(isinstance(p, Const) and type(p.value) is int or
               not isinstance(p, Const) and b.types(p).kind == "int" for p in parts):
        return out  # (a slice keeps a view in both; an array index copies in both)
    rank = b.rank_or_none(call.args[0])
    if rank is None:
        raise Unbatchable(f"the rank of {printer.expr(call.args[0])} is not known")
    return Call("method:copy", (out,)) if len(parts) >= rank else out


# the batch forms of reductions, shape operations and products (registered on import)
from . import batched_forms  # noqa: E402,F401
