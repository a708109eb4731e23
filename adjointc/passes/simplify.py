"""Cleanup of the adjoint: what makes it read like a hand-written one.

* `fold`: expression simplification with types (drops `unbroadcast` where
  shapes provably agree, turns it into `np.sum` for a Python-scalar operand,
  folds constants and `x ** 1`, `1.0 * g`, `(a, b)[0]`).
* `zeros`: forward dataflow of adjoints known to be zero. The first
  accumulation into a zero adjoint becomes `=` (not `+=` onto a zero array);
  a contribution read from a zero adjoint is dropped. Array adjoints that are
  updated in place (`x_bar[i] += g`) always own their buffer: an aliasing
  first assignment is copied. It also tracks the adjoints that *may* still be
  the symbolic zero 0.0 (not reached on some path or trip): a value computed
  from one is neither owned nor of the right shape, and the reverse pass's
  `t_bar = shape_adjoint(t_bar, t)` (before a template that needs t_bar's
  shape) becomes `as_adjoint` exactly there, and vanishes elsewhere.
* `dce`: liveness over both sweeps (loops to a fixpoint). Generated statements
  whose target is dead are deleted, repeatedly. What is recorded is decided by
  passes/tape.py; a recording dies here only with its last restore (read by
  statements `zeros` deleted). The user's own statements are never deleted.
  It lives in passes/liveness.py (`dce`, `DCE` and `MEM` are re-exported here).
* `propagate_copies`: after `a_bar = b_bar`, b_bar is read where a_bar was.
Invariants: never changes a value the program returns; deterministic.
"""
from __future__ import annotations

import operator
from dataclasses import replace
from typing import Iterable

from .. import types as T
from ..ir import (Assign, AugAssign, AugSetItem, Block, Break, Call, Comment, Const, Continue, Expr, ExprStmt, For,
                  If, Name, Return, SetItem, Stmt, While, all_writes, map_expr, names_in, stmt_reads, stmt_writes,
                  walk, with_bodies)
from . import forms
from .liveness import DCE, MEM, dce, partial_target as _partial_target  # noqa: F401 (re-exported)
from .types import TypeEnv

FRESH = {"add", "sub", "mul", "truediv", "pow", "neg", "matmul", "np.copy", "copy_adjoint", "np.zeros_like",
         "zeros_like", "list", "np.sum", "np.exp", "np.sin", "np.cos", "np.sqrt", "np.log"}


class TypeOracle(TypeEnv):
    """Types of expressions in the adjoint: `x_bar` has the type of `x`."""

    def __init__(self, types: dict[str, T.T], consts: dict | None = None):
        super().__init__(types, consts or {})
        self.types, self._memo = types, {}  # (call -> its type: the types it reads are final)

    def of(self, e: Expr) -> T.T:
        if isinstance(e, Name) and e.id not in self.types and e.id.endswith("_bar"):
            return self.types.get(e.id[:-4], T.UNKNOWN)
        key = e if isinstance(e, Call) else None
        try:
            hit = self._memo.get(key)  # (None, a name or a constant, is never stored)
            if hit is not None:
                return hit
        except TypeError:  # (a constant that cannot be hashed, an array literal: not memoised)
            key = None
        try:
            t = super().of(e)
        except TypeError:
            return T.UNKNOWN
        if key is not None:
            self._memo[key] = t
        return t


_ARITH = {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
          "truediv": operator.truediv, "pow": operator.pow}


def _num(e: Expr) -> bool:
    return isinstance(e, Const) and isinstance(e.value, (int, float)) and not isinstance(e.value, bool)


def _is(e: Expr, *values: float) -> bool:
    return _num(e) and any(e.value == v for v in values)


def fold(e: Expr, types: TypeOracle) -> Expr:
    """`e` simplified bottom-up (`fold_step` at every node, its arguments folded first)."""
    return map_expr(e, lambda n: fold_step(n, types))


def fold_step(n: Expr, types: TypeOracle) -> Expr | None:
    """The simplification of one node whose arguments are folded already (None: none)."""
    if not isinstance(n, Call):
        return None
    a = n.args
    if n.op == "unbroadcast" and len(a) == 2:
        te, tx = types.of(a[0]), types.of(a[1])
        if T.same_shape(te, tx):
            return a[0]
        if tx.kind in ("float", "int") and te.kind in ("float", "int"):
            return a[0]
        if tx.kind == "float" and te.kind == "array":
            return Call("np.sum", (a[0],))
        return forms.form(n, types)
    if n.op in _ARITH and len(a) == 2:
        x, y = a
        if _num(x) and _num(y):
            try:
                return Const(_ARITH[n.op](x.value, y.value))
            except (ZeroDivisionError, OverflowError):
                return None
        if n.op == "pow" and _is(y, 1):
            return x
        if n.op == "mul" and _is(x, 1):
            return y
        if n.op in ("mul", "truediv") and _is(y, 1):
            return x
        if n.op == "add" and _is(x, 0):
            return y
        if n.op in ("add", "sub") and _is(y, 0):
            return x
        if n.op == "mul" and _is(x, -1):
            return Call("neg", (y,))
        if n.op == "mul" and _is(y, -1):
            return Call("neg", (x,))
        if n.op == "sub" and _is(x, 0):
            return Call("neg", (y,))
        if n.op == "mul" and isinstance(x, Call) and x.op == "neg":  # -g * y -> -(g * y)
            product = Call("mul", (x.args[0], y))
            return Call("neg", (fold_step(product, types) or product,))
    if n.op == "neg" and _num(a[0]):
        return Const(-a[0].value)
    if n.op == "neg" and isinstance(a[0], Call) and a[0].op == "neg":
        return a[0].args[0]
    if n.op in ("getitem", "piece") and isinstance(a[0], Call) and a[0].op in ("tuple", "list") \
            and isinstance(a[1], Const) and isinstance(a[1].value, int):
        try:
            return a[0].args[a[1].value]
        except IndexError:
            return None
    return forms.form(n, types)


# ----------------------------------------------------------- zero adjoints
class Zeros:
    def __init__(self, adjoints: set[str], types: dict[str, T.T], inplace: set[str],
                 params: Iterable[str] = ()):
        self.adjoints = adjoints
        # names certainly bound where the pass is: the parameters, and the targets of the
        # top-level statements taken so far (a name the forward sweep binds only in a loop or
        # a branch may be unbound: a loop that ran no trip, a branch never taken)
        self.bound: set[str] = set(params)
        self.depth = 0
        self.types = TypeOracle(types)
        self.inplace = inplace  # adjoints updated in place somewhere
        # Adjoints that may hold the symbolic zero 0.0 here (on some path): a value computed
        # from one may be 0.0 too, not an array that is owned, nor of the right shape.
        # Path-dependent like Z and O, but kept here: `If` and loops save and join it.
        self.M: set[str] = set()

    def maybe_zero(self, e: Expr) -> bool:
        return not self.M.isdisjoint(names_in(e))

    def is_array(self, a: str) -> bool:
        t = self.types.of(Name(a))
        return not (t.is_scalar and t.kind != "array")

    def same_vectors(self, a: str, b: str) -> bool:
        """Are adjoints a and b typed as real arrays of one known shape (rank >= 1)? Then
        `np.copy(b)`, b owned (an array of its own, of b's shape), is an array of a's shape:
        what `as_adjoint(a, x)` would return unchanged."""
        ta, tb = self.types.of(Name(a)), self.types.of(Name(b))
        return ta.kind == tb.kind == "array" and bool(ta.rank) and ta.dtype == tb.dtype == "f" \
            and isinstance(ta.shape, tuple) and T.same_shape(ta, tb)

    def zeros(self, x: Expr) -> Expr:
        """A fresh zero adjoint for x: an array for arrays, a list for tuples/lists."""
        t = self.types.of(x)
        if t.kind in ("tuple", "list") and t.elts:
            # one symbolic zero per element (`+=` rebinds it): x itself is not needed, nor taped
            return Call("list", tuple(Const(0.0) for _ in t.elts))
        if t.kind == "array":
            return Call("np.zeros_like", (x,))
        return Call("zeros_like", (x,))  # lists, tuples, structs: runtime.zeros_like

    def reads_zero(self, e: Expr, Z: set[str]) -> bool:
        return not Z.isdisjoint(names_in(e))

    def fresh(self, e: Expr) -> bool:
        """Is e certainly a new array no other name refers to? Arithmetic is; a rule's
        helper might return a view, so it is not assumed to be."""
        return isinstance(e, Const) or isinstance(e, Call) and e.op in FRESH

    def makes_array(self, e: Expr) -> bool:
        """Is e a fresh array the adjoint can own? Arithmetic on adjoints and constants
        alone is not: an adjoint may be the symbolic zero 0.0 on some loop trip, and
        `c_bar * 2.0` is then a scalar that cannot be updated in place."""
        return self.fresh(e) and not (isinstance(e, Call) and all(n in self.adjoints for n in names_in(e)))

    def own(self, target: str, e: Expr) -> Expr:
        if self.fresh(e) or not self.is_array(target):
            return e
        if target in self.inplace or any(n in self.inplace for n in names_in(e)):
            t = self.types.of(Name(target))
            # adjoints of dicts/lists/parameter objects (and of unknown type) are copied level by level
            return Call("np.copy" if t.kind == "array" else "copy_adjoint", (e,))
        return e

    def block(self, b: Block, Z: set[str], O: set[str]) -> tuple[list[Stmt], set[str], set[str]]:
        # (the block's own copies, updated in place statement by statement: linear time)
        out: list[Stmt] = []
        Z, O = set(Z), set(O)
        A = self.adjoints
        for i, s in enumerate(b):
            t = type(s)
            if self.depth == 0 and t is Assign:
                self.bound.add(s.target)  # (bound once s ran: a loop after it may read it)
            if t is Comment or (t is Assign or t in _WRITES_TARGET) and s.target not in A:
                out.append(s)  # (what `stmt` does with them: the primal's own statements, comments)
                continue
            if t is If:
                self.owned_next = self.materialized_next(b, i)
            r, Z, O = self.stmt(s, Z, O)
            out += r
        return out, Z, O

    owned_next: list[tuple[str, Expr]] = []  # (the If `stmt` is about to take: see materialized_next)

    def materialized_next(self, b: Block, i: int) -> list[tuple[str, Expr]]:
        """The `a = as_adjoint(a, x)` that follow the If b[i], before anything reads or writes
        a or writes x (simple statements only, a few): (a, x). An adjoint owned at the end
        of one branch and not the other is materialized at the end of that other branch
        instead (`stmt`), where it runs only on that path: the one after the If is then
        dropped, as a is owned on both (`u_bar` rebound by a rarely taken branch, then
        updated in place on every trip of a loop). The same call on the same values: no
        value changes."""
        found: list[tuple[str, Expr]] = []
        seen: set[str] = set()  # (names read or written since the If)
        for u in b[i + 1:i + 9]:
            if type(u) is Comment:
                continue
            if type(u) in _COMPOUND or type(u) in (Break, Continue, Return):
                break
            v = getattr(u, "value", None)
            if type(u) is Assign and type(v) is Call and v.op == "as_adjoint" and v.args[0] == Name(u.target) \
                    and type(v.args[1]) is Name and not {u.target, v.args[1].id} & seen:
                found.append((u.target, v.args[1]))
            seen |= stmt_writes(u) | stmt_reads(u)
        return found

    def _maybe(self, a: str, maybe: bool) -> None:
        if maybe:
            self.M.add(a)
        else:
            self.M.discard(a)

    def loop_entry(self, s: For | While, Z: set[str], O: set[str]
                   ) -> tuple[set[str], set[str], set[str], tuple | None]:
        """Adjoints certainly zero / owned / maybe zero at the start of every trip (a fixpoint),
        and what the pass over the body from those sets made (its statements, the sets
        after it, and M after it): the fixpoint's last pass, when it stopped there."""
        Zh, Oh, M0 = Z, O, set(self.M)
        Mh = M0
        last = None
        for _ in range(10):
            self.M = set(Mh)
            body, Ze, Oe = self.block(s.body, Zh, Oh)
            nZ, nO, nM = Z & Ze, O & Oe, M0 | self.M
            if nZ == Zh and nO == Oh and nM == Mh:
                last = (body, Ze, Oe, self.M)  # (this pass started from the sets returned)
                break
            Zh, Oh, Mh = nZ, nO, nM
        self.M = M0
        return Zh, Oh, Mh, last

    def stmt(self, s: Stmt, Z: set[str], O: set[str]) -> tuple[list[Stmt], set[str], set[str]]:
        """Updates Z and O (the calling block's) in place; returns the sets that hold after s."""
        A = self.adjoints
        if isinstance(s, Assign) and s.target in A:
            a, v = s.target, s.value
            if isinstance(v, Const) and v.value == 0.0:
                Z.add(a)
                O.discard(a)
                self.M.add(a)
                return [s], Z, O
            if isinstance(v, Call) and v.op == "shape_adjoint":
                # (reverse.py: a template that needs a_bar's shape reads it next) only where
                # it may still be the symbolic zero 0.0 does it become an array of zeros
                x = v.args[1]
                if a in Z or a in self.M:
                    self.M.discard(a)
                    O.add(a)
                    return [Assign(a, self.zeros(x) if a in Z else Call("as_adjoint", (Name(a), x)), s.loc)], Z, O
                return [], Z, O
            if isinstance(v, Call) and v.op == "as_adjoint":
                x = v.args[1]
                self.M.discard(a)
                if a in Z:
                    O.add(a)
                    return [Assign(a, self.zeros(x), s.loc)], Z, O
                if a in O:
                    return [], Z, O
                O.add(a)
                return [s], Z, O
            Z.discard(a)
            O.discard(a)
            maybe = self.maybe_zero(v)
            if self.makes_array(v) and not maybe:
                O.add(a)
            self._maybe(a, maybe)
            return [s], Z, O
        if isinstance(s, AugAssign) and s.target in A:
            a = s.target
            if self.reads_zero(s.value, Z):
                return [], Z, O
            maybe = self.maybe_zero(s.value)
            if a in Z:
                v = self.own(a, s.value)
                Z.discard(a)
                O.discard(a)
                # (a copy of another adjoint, or of a rule's helper result, may be the symbolic
                # zero 0.0 on some trip of a loop: not an array that can be updated in place,
                # so keep the materialization; only a value fresh before `own` is an array)
                if (self.makes_array(s.value) and not (isinstance(s.value, Name) and s.value.id in A)
                        and not maybe):
                    O.add(a)
                elif isinstance(v, Call) and v.op == "np.copy" and isinstance(s.value, Name) and not maybe \
                        and s.value.id in O and self.same_vectors(a, s.value.id):
                    O.add(a)  # (a copy of an owned array of a's shape, never the symbolic zero: owned)
                self._maybe(a, maybe)
                return [Assign(a, v, s.loc)], Z, O
            t = self.types.of(Name(a))
            maybe = maybe and a in self.M  # (0.0 + an array is an array)
            self._maybe(a, maybe)
            if t.kind == "array":
                if not maybe:
                    O.add(a)
                return [Assign(a, Call("add", (Name(a), s.value)), s.loc)], Z, O
            if t.kind in ("float", "complex"):
                return [s], Z, O
            # lists, tuples, structs, unknown: add element by element, not `+` (concatenation)
            O.discard(a)
            return [Assign(a, Call("add_adjoint", (Name(a), s.value)), s.loc)], Z, O
        if isinstance(s, AugSetItem) and s.target in A:
            if self.reads_zero(s.value, Z):
                return [], Z, O
            Z.discard(s.target)
            return [s], Z, O
        if isinstance(s, SetItem) and s.target in A:
            if s.target in Z and isinstance(s.value, Const) and s.value.value == 0.0:
                return [], Z, O
            Z.discard(s.target)
            return [s], Z, O
        if isinstance(s, ExprStmt) and isinstance(s.value, Call) and s.value.op == "np.add.at":
            if self.reads_zero(s.value.args[2], Z):
                return [], Z, O
            Z.discard(s.value.args[0].id)
            return [s], Z, O
        if isinstance(s, If):
            after, self.owned_next = self.owned_next, []
            M0 = set(self.M)
            self.depth += 1
            b1, Z1, O1 = self.block(s.body, Z, O)
            M1, self.M = self.M, M0
            b2, Z2, O2 = self.block(s.orelse, Z, O)
            self.depth -= 1
            jumps = (Break, Continue, Return)  # (a branch that ends in a jump never reaches what follows)
            for a, x in after if not (b1 and type(b1[-1]) in jumps or b2 and type(b2[-1]) in jumps) else ():
                # (materialized in the branch that does not own a: materialized_next)
                if a in O1 and a not in O2:
                    r, Z2, O2 = self.stmt(Assign(a, Call("as_adjoint", (Name(a), x)), s.loc), Z2, O2)
                    b2 += r
                elif a in O2 and a not in O1:
                    M2, self.M = self.M, M1
                    r, Z1, O1 = self.stmt(Assign(a, Call("as_adjoint", (Name(a), x)), s.loc), Z1, O1)
                    b1, M1, self.M = b1 + r, self.M, M2
            self.M = M1 | self.M
            return [replace(s, body=tuple(b1), orelse=tuple(b2))], Z1 & Z2, O1 & O2
        if isinstance(s, (For, While)):
            pre: list[Stmt] = []
            # hoist `a = as_adjoint(a, x)` out of the loop (x bound here, and not in the loop)
            hoist = [x for x in walk(s.body) if type(x) is Assign and type(x.value) is Call
                     and x.value.op == "as_adjoint" and x.target in Z and type(x.value.args[1]) is Name
                     and x.value.args[1].id in self.bound]
            if hoist:  # (what the loop writes, found only then: a forward loop has none to hoist)
                written = all_writes(s.body) | ({s.target} if isinstance(s, For) else set())
                for x in hoist:
                    if x.target not in O and x.value.args[1].id not in written:
                        pre.append(Assign(x.target, self.zeros(x.value.args[1]), s.loc))
                        O.add(x.target)
                        self.M.discard(x.target)
            self.depth += 1
            Zh, Oh, Mh, last = self.loop_entry(s, Z, O)
            if last is None:  # (the fixpoint gave up: one more pass from where it stopped)
                self.M = set(Mh)
                body, Ze, Oe = self.block(s.body, Zh, Oh)
            else:  # (the block is a function of the sets it starts from: that pass is this one)
                body, Ze, Oe, self.M = last
            self.depth -= 1
            self.M |= Mh  # (after zero trips, or after the last)
            return pre + [replace(s, body=tuple(body))], Zh & Ze, Oh & Oe
        if isinstance(s, Return):
            def fix(e: Expr) -> Expr | None:
                if isinstance(e, Call) and e.op == "as_adjoint" and isinstance(e.args[0], Name):
                    a = e.args[0].id
                    if a in Z:
                        return self.zeros(e.args[1])
                    if a in O:
                        return e.args[0]
                if isinstance(e, Name) and e.id in Z and e.id in A:
                    return Const(0.0)
                return None
            return [Return(map_expr(s.value, fix), s.loc)], Z, O
        return [s], Z, O


def inplace_targets(b: Block, adjoints: set[str]) -> set[str]:
    out = set()
    for s in walk(b):
        if isinstance(s, (AugSetItem, SetItem)) and s.target in adjoints:
            out.add(s.target)
        if isinstance(s, ExprStmt) and isinstance(s.value, Call) and s.value.op == "np.add.at":
            out.add(s.value.args[0].id)
    return out


# ------------------------------------------------------- copy propagation
def _writes(s: Stmt) -> set[str]:
    out: set[str] = set()
    # (a simple statement: its own target, partial or whole; a compound one: its statements')
    for x in walk((s,)) if type(s) in _COMPOUND else (s,):
        t = getattr(x, "target", None)
        if isinstance(t, str):
            out.add(t)
        pt = _partial_target(x)
        if pt:
            out.add(pt)
    return out


def propagate_copies(b: Block, adjoints: set[str], copies: dict[str, str] | None = None) -> Block:
    """After `a_bar = b_bar`, read b_bar where a_bar is read (until either changes);
    `dce` then deletes the copy. Keeps the backward sweep free of adjoint relays.
    Statements that do not change keep their identity (dce never deletes the user's),
    and so does the block when none changes."""
    copies = dict(copies or {})
    out: list[Stmt] = []
    changed = False

    def sub(e: Expr) -> Expr:
        if not copies:
            return e
        return map_expr(e, lambda n: Name(copies[n.id]) if isinstance(n, Name) and n.id in copies else None)

    def rebuilt(s: Stmt) -> Stmt:
        if not copies or copies.keys().isdisjoint(stmt_reads(s)):
            return s  # (nothing to substitute: the rebuilt statement would equal s)
        if isinstance(s, (SetItem, AugSetItem)):
            new = replace(s, index=sub(s.index), value=sub(s.value))
        elif isinstance(s, (Assign, AugAssign, ExprStmt, Return)):
            new = replace(s, value=sub(s.value))
        else:
            return s
        return s if new == s else new

    for s in b:
        if type(s) is Comment:  # (reads and writes nothing)
            out.append(s)
            continue
        if isinstance(s, (For, While, If)):
            if copies:  # (nothing to invalidate otherwise)
                written = _writes(s)
                copies = {k: v for k, v in copies.items() if k not in written and v not in written}
            new = with_bodies(s, lambda b: propagate_copies(b, adjoints, copies))
            if isinstance(s, For):
                it = sub(s.iter)
                new = new if it is s.iter else replace(new, iter=it)
            else:
                test = sub(s.test)
                new = new if test is s.test else replace(new, test=test)
            changed = changed or new is not s
            out.append(new)
            continue
        new = rebuilt(s)
        changed = changed or new is not s
        s = new
        if isinstance(s, Assign) and isinstance(s.value, Name) and s.value.id == s.target:
            changed = True
            continue  # a_bar = a_bar
        if copies:  # (nothing to invalidate otherwise)
            written = _writes(s)
            if not (written.isdisjoint(copies) and written.isdisjoint(copies.values())):
                copies = {k: v for k, v in copies.items() if k not in written and v not in written}
        if isinstance(s, Assign) and isinstance(s.value, Name) and s.target in adjoints \
                and s.value.id in adjoints:
            copies[s.target] = s.value.id
        out.append(s)
    return tuple(out) if changed else b


_WRITES_TARGET = (SetItem, AugAssign, AugSetItem)  # (statements with a target, besides Assign)
_COMPOUND = (For, While, If)
