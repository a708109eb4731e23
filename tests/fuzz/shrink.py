"""A line-based shrinker for failing programs (used by the long profile; pytest
runs use hypothesis' own shrinking).

Candidates, tried until none is accepted: delete one statement (a compound one
with its whole block), replace a compound statement by its body (dedented), and
delete an `elif`/`else` arm. A candidate is kept when, at the same input points,
the oracle reports the same failure signature (`Outcome.signature`). Invalid
candidates (an unbound name, an empty block) fail to load or are skipped by the
oracle, so they are never kept.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Callable

import numpy as np

from .generator import Program
from .oracle import Outcome, copy_value, draw_point, judge, load, unload


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _block_end(lines: list[str], k: int) -> int:
    """Index after the statement starting at line k (with its indented block)."""
    ind = _indent(lines[k])
    j = k + 1
    while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) > ind):
        j += 1
    return j


_COUNTER = re.compile(r"\s*(k\d+) = \1 \+ 1")   # a while loop's trip counter: keeps it finite


def _candidates(source: str):
    lines = source.split("\n")
    for k, line in enumerate(lines):
        text = line.strip()
        if _COUNTER.fullmatch(line):
            continue
        if not text or text.startswith(("import ", "def prog(")) or _indent(line) == 0 and not text.startswith("def "):
            continue
        end = _block_end(lines, k)
        if text.startswith("return ") and " + " in text:   # drop one term of a sum
            terms = text[len("return "):].split(" + ")
            for j in range(len(terms)):
                rest = " + ".join(terms[:j] + terms[j + 1:])
                yield "\n".join(lines[:k] + [" " * _indent(line) + "return " + rest] + lines[k + 1:])
        tail = end       # an `if` statement ends after its elif/else arms
        if text.startswith("if "):
            while tail < len(lines) and lines[tail].strip().startswith(("elif ", "else")) \
                    and _indent(lines[tail]) == _indent(line):
                tail = _block_end(lines, tail)
        yield "\n".join(lines[:k] + lines[tail:])           # delete the statement (an elif/else: the arm)
        if text.endswith(":") and not text.startswith(("def ", "elif ", "else")):
            # replace a compound statement by its (first) body, dedented
            body = [ln[4:] if ln.startswith(" " * (_indent(line) + 4)) else ln for ln in lines[k + 1:end]]
            yield "\n".join(lines[:k] + body + lines[tail:])


def _runs_everywhere(program: Program, points: list[tuple]) -> bool:
    """The candidate binds every name it reads at these points (deleting a line may
    leave a name unbound on a path the failing point does not take)."""
    try:
        fn = load(program.source)
    except Exception:  # noqa: BLE001
        return False
    try:
        for p in points:
            try:
                with np.errstate(all="ignore"):
                    fn(*copy_value(p))
            except (NameError, UnboundLocalError):
                return False
            except Exception:  # noqa: BLE001  other failures are the oracle's business
                pass
        return True
    finally:
        unload(fn)


def shrink(program: Program, outcome: Outcome, max_tries: int = 1000,
           judge_fn: Callable = judge) -> tuple[Program, Outcome]:
    """The smallest program found that fails like `outcome` at `outcome.point`."""
    want = outcome.signature()
    rng = np.random.default_rng(0)
    probes = [draw_point(program, rng) for _ in range(8)]
    best, best_out = program, outcome
    tries, start, changed = 0, 0, False
    while tries < max_tries:
        cands = list(_candidates(best.source))
        for j in range(start, len(cands)):
            tries += 1
            p = dataclasses.replace(best, source=cands[j])
            o = judge_fn(p, at=[outcome.point], points=1)
            if o.signature() == want and _runs_everywhere(p, probes):
                # continue from about the same place in the new program (greedy, one pass)
                best, best_out, start, changed = p, o, j, True
                break
            if tries >= max_tries:
                break
        else:
            if not changed:
                break            # a whole pass without progress: minimal
            start, changed = 0, False
    return best, best_out
