"""Checkpointing schedules run by generated adjoints: memory bounded on long loops.

A checkpointed loop (passes/checkpoint.py) does not record each trip for the backward
sweep. The forward sweep runs the trips plainly and keeps *snapshots* of the
loop-carried state at a few trips; the backward sweep, for each trip i from the last
down, restores the latest snapshot at or before i, runs the plain trips from there up
to i (keeping new snapshots where the schedule says), runs trip i recording its tape,
and backpropagates through it at once. At most K snapshots are alive, plus the
working state.

Generated code drives one `Checkpoints` object per loop with three calls:

    ck = Checkpoints(steps, K, copies)    steps: the trip count (None: known at the end)
    if i == ck.next: ck.save(i, (u, t))   before trip i, forward sweep and recomputation
    u, t = ck.restore(i)                  backward sweep: the state at ck.restored <= i;
                                          the trips ck.restored .. i-1 are then recomputed

`copies` says which state entries are arrays the loop modifies in place: a snapshot
keeps such an array and a copy of its data, and restoring writes the data back into
that same array (names other than the state's may see it, as in store-all, where the
backward sweep undoes each in-place write on the object it was made on).

The schedule (offline: the trip count known when the loop starts) is binomial
checkpointing, Griewank and Walther's revolve ("Algorithm 799", ACM TOMS 26(1), 2000):
optimal in the number of recomputed trips for K snapshots, `repeats(steps, K)` plain
trips per trip at most. It is the walk of checkpoint_schedules'
`MultistageCheckpointSchedule` (all snapshots in memory, the "maximum" trajectory),
step for step: tests/test_checkpointing.py checks the two agree action for action. It
is re-implemented here, not driven through that library, because the library's
schedule is a generator of action objects that costs ~5 us per trip (0.5 s for 1e5
trips, measured), as much as a scalar simulation step, and caching its actions costs
memory growing with the trip count, which is what checkpointing is for. This walk
keeps only the stack of snapshot positions and costs O(1) per trip.

Online (a `while` loop: the trip count is known only when it ends): the forward sweep
keeps snapshots evenly spaced, at most K // 2 of them (when they would be more, every
other one goes and the spacing doubles), so that at least half of the snapshots are
free for the backward sweep's binomial recomputation between them.

`snapshots` may also be "auto" (K from the trip count: about two recomputed trips per
trip) or a memory budget in bytes (`memory=`): K is then chosen when the first snapshot
is taken, from the size of the state.
"""
from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

ONLINE_AUTO = 64  # "auto" for a loop whose trip count is not known in advance


def n_advance(n: int, snapshots: int) -> int:
    """The number of trips to advance before the next snapshot, to reverse `n` trips with
    `snapshots` free snapshots (the first trip's state is stored): Griewank and Walther's
    optimal step, the largest one of their optimal region (Fig. 4 of the paper), as
    checkpoint_schedules' `n_advance(..., trajectory="maximum")` computes it."""
    snapshots = max(min(snapshots, n - 1), 1)
    if snapshots == 1:
        return n - 1
    if snapshots == n - 1:
        return 1
    t, b_tm2, b_tm1, b_t = 2, 1, snapshots + 1, ((snapshots + 1) * (snapshots + 2)) // 2
    while b_tm1 >= n or n > b_t:
        t += 1
        b_tm2, b_tm1, b_t = b_tm1, b_t, (b_t * (snapshots + t)) // t
    bm1_tm2 = (b_tm2 * snapshots) // (snapshots + t - 2)
    if n <= b_tm1 + bm1_tm2:
        return n - b_tm1 + b_tm2
    bm1_tm1 = (b_tm1 * snapshots) // (snapshots + t - 1)
    bm2_tm1 = (bm1_tm1 * (snapshots - 1)) // (snapshots + t - 2)
    if n <= b_tm1 + bm2_tm1 + bm1_tm2:
        return b_tm2 + bm1_tm2
    if n <= b_tm1 + bm1_tm1 + bm2_tm1:
        return n - bm1_tm1 - bm2_tm1
    return b_tm1


def repeats(steps: int, snapshots: int) -> int:
    """The binomial repetition number: the least r with C(K + r, r) >= steps; no trip is
    run plainly more than r times (plus once recorded)."""
    r = 0
    while math.comb(snapshots + r, r) < steps:
        r += 1
    return r


def auto_snapshots(steps: int) -> int:
    """K for checkpoints="auto": the fewest snapshots with at most two plain recomputations
    of a trip (C(K + 2, 2) >= steps)."""
    k = 1
    while math.comb(k + 2, 2) < steps:
        k += 1
    return k


def state_bytes(state: tuple, data: bool = False) -> int:
    """Bytes one snapshot of `state` holds (runtime.held_bytes: objects and data; `data`:
    runtime.nbytes, data alone); of an array kept with a copy of its data, the copy (the
    array itself is the working state's)."""
    from .runtime import held_bytes, nbytes
    seen: set[int] = set()
    entries = sum((nbytes if data else lambda x: held_bytes(x, seen))(v.data if isinstance(v, _Held) else v)
                  for v in state)
    # (and the snapshot itself: its tuple, its slot in the store, the holder of a copied array)
    return entries if data else entries + sys.getsizeof(state) + 100 + 64 * sum(isinstance(v, _Held) for v in state)


def _kept(state: tuple, copies: tuple[bool, ...]) -> tuple:
    """A snapshot: each entry as it is, except an array the loop modifies in place, which is
    kept as (the array, a copy of its data) — the object too, because other names may see
    it (a view, an alias made before the loop) as the store-all backward sweep does."""
    if not any(copies):
        return state
    return tuple(_Held(v) if c and isinstance(v, np.ndarray) else v for v, c in zip(state, copies))


class _Held:
    __slots__ = ("array", "data")

    def __init__(self, array: np.ndarray):
        self.array, self.data = array, array.copy()

    def back(self, keep: bool) -> np.ndarray:
        """The array with its data as it was; `keep`: the snapshot stays for later restores."""
        if self.array.flags.writeable:
            self.array[...] = self.data
            return self.array
        return self.data.copy() if keep else self.data


def _restored(snapshot: tuple, keep: bool) -> tuple:
    if not any(isinstance(v, _Held) for v in snapshot):
        return snapshot
    return tuple(v.back(keep) if isinstance(v, _Held) else v for v in snapshot)


class Checkpoints:
    """The snapshots of one checkpointed loop and the schedule that places them (see the
    module docstring). `next` is the trip before which the next snapshot is taken (-1:
    none), `restored` the trip of the state `restore` returned."""

    __slots__ = ("steps", "snapshots", "copies", "budget", "next", "restored", "_stack", "_store",
                 "_saves", "_every", "_one", "_data", "_reversing", "bytes", "peak_bytes", "recomputed", "trip_bytes")

    def __init__(self, steps: int | None, snapshots: int | str = "auto",
                 copies: tuple[bool, ...] = (), memory: int | None = None):
        self.steps, self.copies, self.budget = steps, tuple(copies), memory
        self._stack: list[int] = []     # the schedule's snapshots (trip positions), increasing
        self._store: dict[int, tuple] = {}
        self._saves: list[int] = []     # the positions the current run of trips saves, reversed
        self._every = 1                 # online: the spacing of the forward sweep's snapshots
        self._one = self._data = 0      # bytes of one snapshot (the first one's): memory, data
        self.bytes = self.recomputed = self.restored = 0
        self.peak_bytes = self.trip_bytes = (0, 0)  # (memory held, data alone): runtime.TapeReport
        self._reversing = False         # the backward sweep has begun (the first restore)
        self.snapshots: int | None = None  # (memory=: chosen at the first save, from the state)
        if memory is None:
            self.snapshots = (snapshots if snapshots != "auto" else
                              ONLINE_AUTO if steps is None else auto_snapshots(steps))
        self.next = -1 if steps is not None and steps <= 0 else 0
        if steps is not None and steps > 0 and self.snapshots is not None:
            self._plan_forward()

    # ------------------------------------------------------------ the schedule
    def _plan_forward(self) -> None:
        """The forward sweep's snapshots (the library's initial forward), and the last
        trip's state as the working copy the first backward step starts from."""
        n = self.steps
        self.snapshots = k = max(1, min(self.snapshots, n - 1))  # (the library's limit too)
        saves, pos = [], 0
        while pos < n - 1:
            saves.append(pos)
            pos += n_advance(n - pos, k - len(saves) + 1)
        saves.append(n - 1)  # (the working state before the last trip: moved, not a snapshot)
        self._saves = saves[::-1]
        self.next = self._saves.pop()

    def _budget(self, state: tuple) -> None:
        """memory=: as many snapshots as the budget holds, one working state aside."""
        k = int(self.budget // max(state_bytes(_kept(state, self.copies)), 1)) - 1
        if k < 1:
            from .errors import InvalidArgument
            raise InvalidArgument(
                f"memory={self.budget} bytes does not hold two copies of this loop's state "
                f"({state_bytes(state)} bytes each)", hint="give a larger memory= budget, or checkpoints=K")
        self.snapshots = k
        if self.steps is not None:
            self._plan_forward()

    def save(self, i: int, state: tuple) -> None:
        """Keep the state before trip i; `next` moves to the following snapshot's trip."""
        if self.snapshots is None:
            self._budget(state)
        self._store[i] = kept = _kept(state, self.copies)
        if not self._one:
            self._one, self._data = state_bytes(kept), state_bytes(kept, data=True)
        self.bytes += self._one
        if self.bytes > self.peak_bytes[0]:
            self.peak_bytes = (self.bytes, self.bytes * self._data // max(self._one, 1))
        if self.steps is None and not self._reversing:  # online forward: every `_every` trips, <= K // 2 kept
            self._stack.append(i)
            if len(self._stack) > max(self.snapshots // 2, 1):
                self._every *= 2
                for p in self._stack:
                    if p % self._every:
                        del self._store[p]
                        self.bytes -= self._one
                self._stack = [p for p in self._stack if p % self._every == 0]
            self.next = i + self._every - i % self._every
            return
        if self._reversing or i != self.steps - 1:  # (the last trip's state: the working copy)
            self._stack.append(i)
        self.next = self._saves.pop() if self._saves else -1

    def restore(self, i: int) -> tuple:
        """The state to reach trip i from: the latest snapshot at or before i (moved out if
        the schedule is done with it); the trips from `restored` up to i are recomputed
        by the caller, saving before each trip `next` names."""
        stack, store = self._stack, self._store
        self._reversing = True
        if (stack and stack[-1] == i) or (not stack or stack[-1] < i) and i in store:
            if stack and stack[-1] == i:
                stack.pop()
            self.bytes -= self._one
            self.restored, self.next = i, -1
            return _restored(store.pop(i), False)  # a move: the schedule is done with it
        top = stack[-1]
        free = self.snapshots - len(stack) + 1
        saves, pos = [], top + n_advance(i + 1 - top, free)
        while pos < i:
            saves.append(pos)
            pos += n_advance(i + 1 - pos, free - len(saves))
        self._saves = saves[::-1]
        self.next = self._saves.pop() if self._saves else -1
        self.restored = top
        self.recomputed += i - top
        return _restored(store[top], True)

    def measure(self, *tapes: Any) -> None:
        """Statistics builds: the tapes one recorded trip filled (the largest is reported)."""
        from .runtime import held_bytes, nbytes
        seen: set[int] = set()
        trip = (sum(held_bytes(t, seen) for t in tapes), sum(nbytes(t) for t in tapes))
        self.trip_bytes = max(self.trip_bytes, trip)
