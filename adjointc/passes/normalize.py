"""Structured control flow: the normalisations of the lowered IR that need no source.

The reverse transform replays a function's control flow backwards, so it needs
loops and branches that are *structured*: no statement after a jump on the same
path, no `return` inside a loop. `normalize(fn, namer)` establishes that on the
IR the frontend lowered (three-address statements, as written):

1. **Jumps end their block.** Statements after a `return`/`break`/`continue`
   are dropped (they never run). Statements after an `if` that jumps on some
   path move into the branches that fall through (`if c: break` / `x = 1`
   becomes `if c: break` / `else: x = 1`), so a `break` ends its trip's
   statements and the backward sweep never replays what it skipped.
2. **One result.** A function without any `return` (a helper run for its effect
   on its arguments) gets `result = None; return result`, reported as
   `no_return`. The returned variable is the one name every `return` returns
   (a local, not a module constant), else `result` (which the frontend already
   assigns returned expressions to).
3. **No return inside a loop.** `return v` in a loop becomes
   `result = v; returned = True; break`; after the loop the rest of the block
   runs only if not `returned`, and enclosing loops stop too (see
   `lower_loop_returns`).
4. **Fall-through is detected, not repaired**: `falls_through` is set when some
   path reaches the end of the body without a return (Python returns None there,
   which the adjoint would not see; api.Gradient refuses to differentiate it).

Invariants after the pass: every block ends at its first jump; an `If` that
jumps is its block's last statement; `Return`s are only outside loops, and
every path through a function with a return ends at one (unless
`falls_through`); leaf statements are the input's own objects (so they keep
their sids: the pipeline's `normalize` pass runs on numbered IR). Applying it
twice changes nothing. Names: `result` via `namer.exact`, the flag via `namer.fresh("returned")`,
in that order, so generated names are deterministic.

`finish(raw)` is the pipeline's `normalize` pass on the frontend's product
(frontend.lower_raw): `normalize`, then user variables named `*_bar` renamed
(`x_bar` -> `x_bar_`), which maps the signature's names too (`renamed`).
frontend.lower is lower_raw then finish (the IR callers inline and analyse).

The frontend also uses `structure`, `lower_loop_returns` and `returns_to_assign`
on the body of a nested def it inlines (its returns become assignments).

Not here (yet): loops over arrays / enumerate / zip become index loops while
lowering, because the IR has no loop over a sequence with a tuple target and the
temporaries they need are named in source order (see frontend/statements.py, for_stmt).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, replace
from typing import Any

from ..ir import (Assign, Block, Break, Const, Continue, For, Function, If, Loc, Name, Param, Return, Stmt,
                  While, rename, walk, with_bodies)
from ..names import Namer

_JUMPS = (Break, Continue, Return)


@dataclass(frozen=True)
class Normalized:
    function: Function
    result: str                   # the variable holding the returned value
    no_return: Loc | None = None  # the function has no return statement (it returns None)
    falls_through: Loc | None = None  # some path reaches the end of the body (returning None)


def normalize(fn: Function, namer: Namer, *, result: str | None = None,
              constants: frozenset[str] | set[str] = frozenset(), where: Loc | None = None) -> Normalized:
    """`fn` with structured control flow (the module docstring's steps 1-4).

    `namer`: the function's namer (new names must not clash). `result`: the variable
    the frontend already assigns returned expressions to, if it made one. `constants`:
    module-level names the body reads (never the returned variable). `where`: the
    location reported for `falls_through` (the def)."""
    def result_name() -> str:
        nonlocal result
        if result is None:
            result = namer.exact("result")
        return result

    body = structure(fn.body)
    no_return = None
    if not any(isinstance(s, Return) for s in walk(body)):
        # a helper run for its effect on its arguments (`set_ends(u, a, b)`) returns None;
        # differentiating such a function itself is refused by the caller (api.Gradient)
        no_return = Loc(fn.file, fn.line)
        res = result_name()
        body = body + (Assign(res, Const(None), no_return), Return(Name(res), no_return))
    falls_through = None
    if no_return is None and may_fall_through(body):
        falls_through = where or Loc(fn.file, fn.line)
    rets = [r for r in walk(body) if isinstance(r, Return)]
    names = {r.value.id for r in rets if isinstance(r.value, Name)}
    if len(names) == 1 and all(isinstance(r.value, Name) for r in rets) and not names <= set(constants):
        returned = names.pop()
    else:
        returned = result_name()
    body = lower_loop_returns(body, returned, namer)
    return Normalized(replace(fn, body=body), returned, no_return, falls_through)


def finish(raw: Any) -> Any:
    """The frontend's `Lowered` (frontend.lower_raw: the IR as written) normalised:
    `normalize` on its function (with a copy of its namer: `raw` stays as it was), then
    user variables named `*_bar` renamed (`x_bar` -> `x_bar_`: in generated code
    `x_bar` is the adjoint of `x`, and the two must never collide). The result has
    `result`, `no_return`, `falls_through` and `renamed` set, and `raw` is `raw`."""
    namer = raw.namer.copy()
    norm = normalize(raw.function, namer, result=raw.result, constants=set(raw.globals_read), where=raw.where)
    fn, result = norm.function, norm.result
    locals_ = set(raw.user_names)
    taken = locals_ | set(raw.globals_read)
    renamed: dict[str, str] = {}
    for n in sorted(locals_):
        if n.endswith("_bar"):
            new = n + "_"
            while new in taken:
                new += "_"
            taken.add(new)
            renamed[n] = new
    if renamed:
        fn = replace(fn, params=tuple(Param(renamed.get(q.name, q.name), q.default) for q in fn.params),
                     body=rename(fn.body, renamed))
        result = renamed.get(result, result)
        locals_ = {renamed.get(n, n) for n in locals_}
    return dataclasses.replace(raw, function=fn, param_names=tuple(q.name for q in fn.params), result=result,
                               user_names=locals_, temporaries=set(namer.temporaries), fresh=dict(namer.made),
                               renamed=renamed, no_return=norm.no_return, falls_through=norm.falls_through,
                               namer=namer, raw=raw)


# ------------------------------------------------------------- 1. jumps end blocks
def structure(b: Block) -> Block:
    """Step 1 on a block: drop what follows a jump, move what follows an `if` that
    jumps into its falling-through paths. Nested blocks first."""
    out: list[Stmt] = []
    for i, s in enumerate(b):
        s = with_bodies(s, structure)
        if isinstance(s, _JUMPS):
            out.append(s)
            break
        if isinstance(s, If) and jumps(s) and i + 1 < len(b):
            out.append(_append_fallthrough(s, structure(b[i + 1:])))
            break
        out.append(s)
    return b if len(out) == len(b) and all(x is y for x, y in zip(out, b)) else tuple(out)


def jumps(s: Stmt) -> bool:
    """Does this statement (an If) contain a break/continue/return on some path
    (not counting those of loops inside it)?"""
    if isinstance(s, _JUMPS):
        return True
    if isinstance(s, If):
        return any(jumps(x) for x in s.body) or any(jumps(x) for x in s.orelse)
    return False


def _append_fallthrough(s: If, rest: Block) -> If:
    """Append `rest` to every path through `s` that does not jump."""
    def extend(b: Block) -> Block:
        if b and isinstance(b[-1], _JUMPS):
            return b
        if b and isinstance(b[-1], If) and jumps(b[-1]):
            return b[:-1] + (_append_fallthrough(b[-1], rest),)
        return b + rest
    return replace(s, body=extend(s.body), orelse=extend(s.orelse))


# ------------------------------------------------------------ 4. fall-through
def may_fall_through(b: Block) -> bool:
    """Can running `b` (structured) reach its end without a `return`? A loop may run
    zero times, except `while True` without a `break` of its own."""
    if not b:
        return True
    last = b[-1]
    if isinstance(last, Return):
        return False
    if isinstance(last, If):
        return may_fall_through(last.body) or may_fall_through(last.orelse)
    if isinstance(last, While) and last.test == Const(True):
        return _breaks(last.body)
    return True


def _breaks(b: Block) -> bool:
    """Does `b` (a loop body) break out of its own loop?"""
    for s in b:
        if isinstance(s, Break):
            return True
        if isinstance(s, If) and (_breaks(s.body) or _breaks(s.orelse)):
            return True
    return False


# ------------------------------------------------------- 3. returns inside loops
def returns_in_loop(b: Block, in_loop: bool = False) -> bool:
    for s in b:
        if isinstance(s, Return) and in_loop:
            return True
        if isinstance(s, (For, While)) and returns_in_loop(s.body, True):
            return True
        if isinstance(s, If) and (returns_in_loop(s.body, in_loop) or returns_in_loop(s.orelse, in_loop)):
            return True
    return False


def lower_loop_returns(b: Block, result: str, namer: Namer) -> Block:
    """Step 3 on a (structured) function body returning `result`: nothing changes
    unless a loop returns; then a fresh `returned` flag is set False first."""
    if not returns_in_loop(b):
        return b
    flag = namer.fresh("returned")
    return (Assign(flag, Const(False)),) + _loop_returns(b, result, flag, False)


def _loop_returns(b: Block, result: str, flag: str, in_loop: bool, direct: bool = True) -> Block:
    """`return v` inside a loop -> `result = v; flag = True; break`; after the loop,
    the rest of the block runs only if not flag, and the enclosing loop stops too.

    `direct`: `b` is a loop body itself, not a branch inside one. Only there does a
    returned flag become a `break` (`if flag: break` else the rest): a break must end
    its trip's statements so the backward sweep never replays what it skipped (the
    structure step 1 gives a user's `break`). Deeper, the rest of the branch is skipped
    (`if not flag: ...`) and the enclosing loop body's own check breaks."""
    out: list[Stmt] = []

    def stop(rest: Block, loc: Loc) -> list[Stmt]:
        if not in_loop:
            return [If(Name(flag), (Return(Name(result), loc),), rest, loc)]
        if direct:
            return [If(Name(flag), (Break(loc),), rest, loc)]
        return [If(Name(flag), (), rest, loc)] if rest else []

    for i, s in enumerate(b):
        if isinstance(s, Return) and in_loop:
            if s.value != Name(result):
                out.append(Assign(result, s.value, s.loc))
            out += [Assign(flag, Const(True), s.loc), Break(s.loc)]
            return tuple(out)
        if isinstance(s, If):
            out.append(with_bodies(s, lambda blk: _loop_returns(blk, result, flag, in_loop, False)))
            if returns_in_loop(s.body) or returns_in_loop(s.orelse):
                # a loop inside this `if` can return: as after a loop, the rest of the
                # block runs only if it did not
                rest = _loop_returns(b[i + 1:], result, flag, in_loop, direct)
                if rest or (in_loop and direct):
                    out += stop(rest, s.loc)
                return tuple(out)
            continue
        if isinstance(s, (For, While)) and returns_in_loop(s.body, True):
            out.append(replace(s, body=_loop_returns(s.body, result, flag, True, True)))
            rest = _loop_returns(b[i + 1:], result, flag, in_loop, direct)
            out += stop(rest, s.loc)
            return tuple(out)
        out.append(s)
    return tuple(out)


def returns_to_assign(b: Block, result: str) -> Block:
    """An inlined body's `return v` (at the end of a branch) becomes `result = v`."""
    out: list[Stmt] = []
    for s in b:
        if isinstance(s, Return):
            if s.value != Name(result):
                out.append(Assign(result, s.value, s.loc))
            break
        out.append(with_bodies(s, lambda blk: returns_to_assign(blk, result)))
    return tuple(out)
