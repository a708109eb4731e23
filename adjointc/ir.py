"""The adjointc intermediate representation.

Grammar (every node is a frozen dataclass with `__slots__`; statements carry a `Loc` and a `sid`)::

    Function := name params:(Param...) body:Block file line
    Param    := name default:(Expr | NO_DEFAULT)
    Block    := tuple[Stmt, ...]
    Stmt     := Assign(target:str, value:Expr, aug:bool)  x = e   (aug: lowered from x += e)
              | SetItem(target:str, index:Expr, value:Expr)   x[i] = e
              | AugAssign(target:str, op:str, value:Expr)     x += e   (backward sweep only)
              | AugSetItem(target:str, index:Expr, op:str, value:Expr)  x[i] += e  (backward only)
              | ExprStmt(value:Expr)                    f(...)   (e.g. tape.append(x))
              | For(target:str, iter:Expr, body:Block)
              | While(test:Expr, body:Block)
              | If(test:Expr, body:Block, orelse:Block)
              | Break | Continue
              | Return(value:Expr)
              | Comment(text:str)
    Expr     := Name(id:str) | Const(value) | Call(op:str, args:(Expr...), kwargs:((str, Expr)...))

`Call.op` is the canonical name of a primitive: an operator (`add`, `mul`,
`neg`, `lt`, ...), a piece of syntax (`getitem`, `slice`, `tuple`, `list`,
`ifexp`, `attr:NAME`, `method:NAME`) or a dotted function name (`np.sin`,
`math.exp`, `range`). The rule registry (`adjointc.rules`) is keyed by it.

Every call has one of a closed set of kinds, `Call.kind` (derived from the op in
one place, `call_kind`; passes dispatch on it, never on op-string prefixes):

    "user"         call:NAME        a user function (its own adjoint, or inlined)
    "user_method"  callmethod:NAME  a method of a user object (receiver first)
    "attr"         attr:NAME        an attribute read (x.T, x.shape, a parameter field)
    "method"       method:NAME      a library method (x.copy(), L.append(v))
    "python"       py:NAME          a Python builtin called as written (rule templates only)
    "primitive"    everything else  an operator, syntax, or a dotted library function
`Call.member` is the NAME of the first five kinds (the op itself for primitives).

Statement ids: `sid` is a statement's stable identity, not part of its meaning
(compare=False). `program.Program` numbers every statement of the primal IR
(1, 2, ...; unique) and rewrites that keep a statement keep its sid
(`dataclasses.replace`, `map_stmts`); a statement a pass makes has sid 0 until
the Program numbers it. Facts about statements are keyed by sid, never by
`id()` of the object. In the adjoint IR a statement with the sid of a primal
statement is that statement; sid 0 marks what the transform made.

After the frontend, the forward program is in *three-address form*: the
value of an `Assign` is one `Call` whose arguments are `Name`s or `Const`s
(index expressions and other integer arithmetic may stay nested: they are
never differentiated). Later passes may nest expressions again (the
backward sweep's templates; codegen folds single-use temporaries).
"""
from __future__ import annotations

import collections.abc as _abc
import dataclasses as _dc
import itertools as _itertools
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterator, Sequence, Union


@dataclass(frozen=True, slots=True)
class Loc:
    file: str
    line: int
    col: int = 0
    text: str = ""  # the source line, stripped

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


NOLOC = Loc("<adjointc>", 0)


# ---------------------------------------------------------------- memo slots
# Every node has `__slots__`: a 1,000-statement transform holds ~100,000 nodes, and a
# slot is read ~4x faster than an entry of the instance dict a frozen dataclass fills (a
# microbenchmark of 200,000 statements), in less than half the memory; the loop:1000
# transform took 11-25% less CPU time than with dicts. What is memoised on a node (its
# names, hash, nested statements) lives in the slots of these bases: not fields, so
# equality, hashing, repr and `replace` never see it (a rebuilt node starts without it);
# set through the slot's descriptor, since the node is frozen.
class _CallMemo:
    __slots__ = ("_names", "_hash")


class _BodyMemo:
    __slots__ = ("_walk",)


class _FunctionMemo:
    __slots__ = ("_numbered",)


_set_names = _CallMemo._names.__set__  # type: ignore[attr-defined]
_set_hash = _CallMemo._hash.__set__  # type: ignore[attr-defined]
_set_walk = _BodyMemo._walk.__set__  # type: ignore[attr-defined]
set_numbered = _FunctionMemo._numbered.__set__  # type: ignore[attr-defined]


# ---------------------------------------------------------------- expressions
@dataclass(frozen=True, slots=True)
class Name:
    id: str


@dataclass(frozen=True, slots=True)
class Const:
    value: Any

    def __eq__(self, other: object) -> bool:  # 1 == 1.0 == True must not merge
        return (
            isinstance(other, Const)
            and type(self.value) is type(other.value)
            and repr(self.value) == repr(other.value)
        )

    def __hash__(self) -> int:
        return hash((type(self.value).__name__, repr(self.value)))


@dataclass(frozen=True, slots=True)
class Call(_CallMemo):
    op: str
    args: tuple["Expr", ...] = ()
    kwargs: tuple[tuple[str, "Expr"], ...] = ()

    def __hash__(self) -> int:
        # (the dataclass's own hash, (op, args, kwargs), computed once: a call is immutable,
        # and the memos keyed by calls hashed every nested call again at each lookup)
        try:
            return self._hash
        except AttributeError:
            h = hash((self.op, self.args, self.kwargs))
            _set_hash(self, h)
            return h

    @property
    def kind(self) -> str:
        return call_kind(self.op)

    @property
    def member(self) -> str:
        """The attribute, method or function name of a non-primitive call (`attr:T` -> `T`)."""
        return self.op.split(":", 1)[1] if call_kind(self.op) != "primitive" else self.op

    @property
    def calls_user(self) -> bool:
        """A call of a user function or of a user object's method."""
        return call_kind(self.op) in USER_KINDS


CALL_KINDS = ("user", "user_method", "attr", "method", "python", "primitive")
USER_KINDS = frozenset({"user", "user_method"})
_PREFIX_KINDS = {"call": "user", "callmethod": "user_method", "attr": "attr", "method": "method", "py": "python"}


def call_kind(op: str) -> str:
    """The kind of a call's op (see the module docstring): the one place that reads prefixes."""
    kind = _KIND_OF.get(op)
    if kind is None:
        head, sep, _ = op.partition(":")
        kind = _KIND_OF[op] = _PREFIX_KINDS.get(head, "primitive") if sep else "primitive"
    return kind


_KIND_OF: dict[str, str] = {}  # op -> its kind (the ops of the programs seen: a few hundred)


Expr = Union[Name, Const, Call]


# ----------------------------------------------------------------- statements
@dataclass(frozen=True, slots=True)
class Assign:
    target: str
    value: Expr
    loc: Loc = field(default=NOLOC, compare=False)
    # lowered from `x += e`: NumPy updates an array in place (`x = x + e` rebinds). Part of
    # equality: the two statements mean different things when x is an array.
    aug: bool = field(default=False, kw_only=True)
    sid: int = field(default=0, compare=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class SetItem:
    target: str
    index: Expr
    value: Expr
    loc: Loc = field(default=NOLOC, compare=False)
    # lowered from `x[i] += e` (`_t = x[i]; _t2 = _t + e; x[i] = _t2`): when x is a list or a
    # dict holding an array, Python updates that array in place (the aliasing check looks)
    aug: bool = field(default=False, compare=False, kw_only=True)
    sid: int = field(default=0, compare=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class AugAssign:
    target: str
    op: str  # "add" or "sub"
    value: Expr
    loc: Loc = field(default=NOLOC, compare=False)
    sid: int = field(default=0, compare=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class AugSetItem:
    target: str
    index: Expr
    op: str
    value: Expr
    loc: Loc = field(default=NOLOC, compare=False)
    sid: int = field(default=0, compare=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class ExprStmt:
    value: Expr
    loc: Loc = field(default=NOLOC, compare=False)
    sid: int = field(default=0, compare=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class For(_BodyMemo):
    target: str
    iter: Expr
    body: tuple["Stmt", ...]
    loc: Loc = field(default=NOLOC, compare=False)
    sid: int = field(default=0, compare=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class While(_BodyMemo):
    test: Expr
    body: tuple["Stmt", ...]
    loc: Loc = field(default=NOLOC, compare=False)
    sid: int = field(default=0, compare=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class If(_BodyMemo):
    test: Expr
    body: tuple["Stmt", ...]
    orelse: tuple["Stmt", ...] = ()
    loc: Loc = field(default=NOLOC, compare=False)
    sid: int = field(default=0, compare=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Break:
    loc: Loc = field(default=NOLOC, compare=False)
    sid: int = field(default=0, compare=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Continue:
    loc: Loc = field(default=NOLOC, compare=False)
    sid: int = field(default=0, compare=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Return:
    value: Expr
    loc: Loc = field(default=NOLOC, compare=False)
    sid: int = field(default=0, compare=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Comment:
    text: str
    loc: Loc = field(default=NOLOC, compare=False)
    sid: int = field(default=0, compare=False, kw_only=True)


Stmt = Union[Assign, SetItem, AugAssign, AugSetItem, ExprStmt, For, While, If,
             Break, Continue, Return, Comment]
Block = tuple[Stmt, ...]

# The two sweep markers of an adjoint's body: the reverse pass puts these very
# objects before the forward and the backward sweep; passes keep them (they are
# never rebuilt) and the printer and the cleanups find the sweeps by identity
# (`sweep_of`), never by the comment's text.
FORWARD_SWEEP = Comment("---- forward sweep ----")
BACKWARD_SWEEP = Comment("---- backward sweep ----")


def sweep_of(s: "Stmt") -> str | None:
    """"forward" / "backward" for the sweep markers, None for every other statement."""
    return "forward" if s is FORWARD_SWEEP else "backward" if s is BACKWARD_SWEEP else None


def backward_start(body: "Block") -> int:
    """Index of the backward-sweep marker in an adjoint's body (the backward sweep follows it)."""
    return next(k for k, s in enumerate(body) if s is BACKWARD_SWEEP)


NO_DEFAULT = object()


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    default: Any = NO_DEFAULT  # an Expr (Const/Name) or NO_DEFAULT


@dataclass(frozen=True, slots=True)
class Function(_FunctionMemo):
    name: str
    params: tuple[Param, ...]
    body: Block
    file: str = "<unknown>"
    line: int = 0


# -------------------------------------------------------------------- helpers
def names_in(e: Expr) -> tuple[str, ...]:
    """Every variable name an expression reads (in order, with repeats). (A tuple, not an
    iterator: every caller iterates it once or builds a set, and this is the compiler's
    most frequent call; the tuple must not be changed, it is the memo.)"""
    if type(e) is Call:
        # (memoised on the call, in a memo slot: a call is immutable, and each is asked
        # ~6 times by the passes after reverse)
        try:
            return e._names
        except AttributeError:
            out: list[str] = []
            _collect_names(e, out)
            names = tuple(out)
            _set_names(e, names)
            return names
    return (e.id,) if type(e) is Name else ()


def _collect_names(e: Expr, out: list[str]) -> None:
    # (a list filled by plain recursion: nested generators cost a frame per level per name,
    # and names_in is the compiler's most frequent call; `type(x) is` because no class
    # derives from Name or Call, and a name argument is appended without a call)
    t = type(e)
    if t is Name:
        out.append(e.id)
    elif t is Call:
        for a in e.args:
            ta = type(a)
            if ta is Name:
                out.append(a.id)
            elif ta is Call:
                _collect_names(a, out)
        for _, v in e.kwargs:
            _collect_names(v, out)


def calls_in(e: Expr) -> Iterator["Call"]:
    """Every call in e (arguments and keyword values), outermost first."""
    if isinstance(e, Call):
        yield e
        for a in e.args:
            yield from calls_in(a)
        for _, v in e.kwargs:
            yield from calls_in(v)


def map_expr(e: Expr, fn: Callable[[Expr], Expr | None]) -> Expr:
    """Rebuild `e` bottom-up; `fn` may return a replacement for a node or None.
    A call whose arguments all come back as themselves is not rebuilt (it would be
    equal: Call compares by value), so `fn` sees it, and the result may be, `e` itself."""
    if type(e) is Call:
        args = e.args
        # (a name or constant argument handled here: one frame less per leaf)
        new = tuple([map_expr(a, fn) if type(a) is Call else (a if (r := fn(a)) is None else r) for a in args])
        changed = type(args) is not tuple or any([x is not y for x, y in zip(new, args)])
        kwargs = e.kwargs
        if kwargs:
            new_kw = tuple([(k, map_expr(v, fn)) for k, v in kwargs])
            if changed or type(kwargs) is not tuple or any([x[1] is not y[1] for x, y in zip(new_kw, kwargs)]):
                e = Call(e.op, new, new_kw)
        elif changed:
            e = Call(e.op, new, ())
    r = fn(e)
    return e if r is None else r


def substitute(e: Expr, env: dict[str, Expr]) -> Expr:
    return map_expr(e, lambda n: env.get(n.id) if isinstance(n, Name) else None)


def stmt_reads(s: Stmt) -> set[str]:
    """Names read by one statement, not counting nested blocks' statements."""
    # (dispatch on the exact class, `type(s) is`: no class derives from a statement class,
    # and this is asked for every statement by most passes)
    t = type(s)
    if t is Assign or t is ExprStmt or t is Return:
        return set(names_in(s.value))
    if t is SetItem or t is AugSetItem:
        return set(names_in(s.index)) | set(names_in(s.value)) | {s.target}
    if t is AugAssign:
        return set(names_in(s.value)) | {s.target}
    if t is For:
        return set(names_in(s.iter))
    if t is While or t is If:
        return set(names_in(s.test))
    return set()


def stmt_writes(s: Stmt) -> set[str]:
    """Names (re)bound or mutated by one statement itself."""
    t = type(s)
    if t is Assign or t is SetItem or t is AugAssign or t is AugSetItem or t is For:
        return {s.target}
    if t is ExprStmt:
        v = s.value
        if type(v) is Call and v.args and type(v.args[0]) is Name:
            return {v.args[0].id}  # list.append(x), np.add.at(a, ...) mutate their first argument
    return set()


def walk(block: Block) -> Iterator[Stmt]:
    """Every statement of a block, nested ones included, in source order."""
    # (collected by plain recursion, then iterated: a generator resumed per statement and
    # per level of nesting cost more than the list; the IR is immutable, so the list is
    # what a lazy walk would have yielded)
    out: list[Stmt] = []
    _walk_into(block, out)
    return iter(out)


def _walk_into(block: Block, out: list[Stmt]) -> None:
    for s in block:
        out.append(s)
        t = type(s)
        if t is For or t is While or t is If:
            # (the statements nested in a compound statement, memoised in its memo slot:
            # statements are immutable, so its walk is too, and the passes walk the same loop
            # body dozens of times)
            try:
                inner = s._walk
            except AttributeError:
                found: list[Stmt] = []
                _walk_into(s.body, found)
                if t is If:
                    _walk_into(s.orelse, found)
                inner = tuple(found)
                _set_walk(s, inner)
            out.extend(inner)


def all_reads(block: Block) -> set[str]:
    out: set[str] = set()
    for s in walk(block):
        out |= stmt_reads(s)
    return out


def all_writes(block: Block) -> set[str]:
    out: set[str] = set()
    for s in walk(block):
        out |= stmt_writes(s)
    return out


def map_stmts(block: Block, f: Callable[[Stmt, Block], "Stmt | Sequence[Stmt] | None"]) -> Block:
    """Rebuild `block` in source order. A compound statement's bodies are mapped
    first (the statement rebuilt with `replace`, keeping its loc and sid); then
    `f(s, rest)` (`rest`: the statements after s in its block, unmapped) gives its
    replacement: None keeps s, a statement or a sequence of statements replaces it
    (an empty one drops it). Unchanged blocks are returned as the same object."""
    out: list[Stmt] = []
    changed = False
    def inner(b: Block) -> Block:
        return map_stmts(b, f)
    for i, s in enumerate(block):
        t = type(s)
        s2 = with_bodies(s, inner) if t is For or t is While or t is If else s
        r = f(s2, _Rest(block, i + 1))
        if r is None:
            r = (s2,)
        elif type(r) is not list and type(r) is not tuple:
            r = (r,)
        if len(r) != 1 or r[0] is not s:
            changed = True
        out.extend(r)
    return tuple(out) if changed else block


class _Rest(_abc.Sequence):
    """`block[start:]` as a view: map_stmts hands one to `f` for every statement, and
    slicing the block each time would copy it quadratically often."""
    __slots__ = ("block", "start")

    def __init__(self, block: Block, start: int):
        self.block, self.start = block, start

    def __len__(self) -> int:
        return max(0, len(self.block) - self.start)

    def __getitem__(self, k: Any) -> Any:
        if isinstance(k, slice):
            return self.block[self.start:][k]
        if k < 0:
            k += len(self)
        if not 0 <= k < len(self):
            raise IndexError(k)
        return self.block[self.start + k]

    def __iter__(self) -> Iterator[Stmt]:
        return _itertools.islice(self.block, self.start, None)


def with_bodies(s: Stmt, g: Callable[[Block], Block]) -> Stmt:
    """`s` with `g` applied to each of its nested blocks (s itself if none changes)."""
    t = type(s)  # (no class derives from a statement class; asked for every statement a pass maps)
    if t is For or t is While:
        body = g(s.body)
        return s if body is s.body else replace(s, body=body)
    if t is If:
        body, orelse = g(s.body), g(s.orelse)
        return s if body is s.body and orelse is s.orelse else replace(s, body=body, orelse=orelse)
    return s


def rename(block: Block, mapping: dict[str, str]) -> Block:
    """Rename variables (reads and writes) throughout a block (loc, aug, sid kept)."""
    def e(x: Expr) -> Expr:
        return map_expr(x, lambda n: Name(mapping[n.id]) if isinstance(n, Name) and n.id in mapping else None)

    def t(name: str) -> str:
        return mapping.get(name, name)

    def one(s: Stmt, _rest: Block) -> Stmt | None:
        if isinstance(s, Assign):
            return replace(s, target=t(s.target), value=e(s.value))
        if isinstance(s, SetItem):
            return replace(s, target=t(s.target), index=e(s.index), value=e(s.value))
        if isinstance(s, (ExprStmt, Return)):
            return replace(s, value=e(s.value))
        if isinstance(s, For):
            return replace(s, target=t(s.target), iter=e(s.iter))
        if isinstance(s, (While, If)):
            return replace(s, test=e(s.test))
        return None
    return map_stmts(block, one)


def _direct_init(cls: type) -> type:
    """`cls`, a frozen dataclass with slots, with an `__init__` that stores each field
    through its slot's descriptor: the signature, defaults and resulting state of the one
    dataclass generates, which calls `object.__setattr__` once per field (to get past the
    frozen `__setattr__`, looking the attribute up each time) and costs more. A
    1,000-statement transform builds ~100,000 IR nodes. Only for classes without
    `__post_init__` or default factories."""
    fs = [f for f in _dc.fields(cls) if f.init]
    assert not hasattr(cls, "__post_init__") and not any(f.name.startswith("_") for f in fs)
    assert all(f.default_factory is _dc.MISSING for f in fs)
    positional: list[str] = []
    keyword: list[str] = []
    env: dict[str, Any] = {}
    for f in fs:
        p = f.name
        if f.default is not _dc.MISSING:
            env[f"_default_{f.name}"] = f.default
            p += f"=_default_{f.name}"
        (keyword if f.kw_only else positional).append(p)
        env[f"_set_{f.name}"] = getattr(cls, f.name).__set__
    sig = ", ".join(["self", *positional, *(["*", *keyword] if keyword else [])])
    src = f"def __init__({sig}):\n" + "".join(f"    _set_{f.name}(self, {f.name})\n" for f in fs)
    exec(src, env)
    init = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init
    return cls


for _cls in (Loc, Name, Const, Call, Assign, SetItem, AugAssign, AugSetItem, ExprStmt, For, While, If, Break,
             Continue, Return, Comment, Param, Function):
    _direct_init(_cls)


__all__ = [n for n in dir() if not n.startswith("_")] + ["replace"]
