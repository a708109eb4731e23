"""Deterministic naming for generated code: `x` -> `x_bar`, temporaries `_t1`,
tapes `_tape_x`; in forward mode `x` -> `x_dot`. Never random: the same function always prints the same text
(the disk cache and golden tests rely on it)."""
from __future__ import annotations


# `fresh` hints whose names hold a value of one statement (three-address temporaries,
# branch conditions): codegen may fold them into their single use
TEMPORARY_HINTS = frozenset({"t", "cond"})


class Namer:
    def __init__(self, taken: set[str]):
        self.taken = set(taken)
        self.counters: dict[str, int] = {}
        self.temporaries: set[str] = set()  # the names fresh() made with a TEMPORARY_HINTS hint
        self.made: dict[str, str] = {}  # every name fresh() made -> its hint (`_idx2` -> "idx")
        self._exact_k: dict[str, int] = {}  # name -> the k of the name_k exact() last returned (1: name)

    def fresh(self, hint: str = "t") -> str:
        """`_t1`, `_t2`, `_cond1`, ... never clashing with a taken name."""
        while True:
            n = self.counters.get(hint, 0) + 1
            self.counters[hint] = n
            name = f"_{hint}{n}"
            if name not in self.taken:
                self.taken.add(name)
                self.made[name] = hint
                if hint in TEMPORARY_HINTS:
                    self.temporaries.add(name)
                return name

    def copy(self) -> "Namer":
        """A namer that has made what this one made, and goes on independently."""
        new = Namer(self.taken)
        new.counters, new.temporaries, new.made = dict(self.counters), set(self.temporaries), dict(self.made)
        return new

    def exact(self, name: str) -> str:
        """`name` itself if free, else name_2, name_3, ..."""
        # (the search for the first free name_k resumes after the last k it returned for
        # `name`: every name below was taken then, and `taken` only grows. From 2 each time,
        # n saves of one variable cost n^2/2 tests: `_saved_u_2` ... `_saved_u_300`.)
        cand, k = name, self._exact_k.get(name, 1)
        if k > 1:
            cand = f"{name}_{k}"
        while cand in self.taken:
            k += 1
            cand = f"{name}_{k}"
        self.taken.add(cand)
        self._exact_k[name] = k
        return cand


def bar(name: str) -> str:
    """The adjoint's name of a primal variable: x -> x_bar, _t3 -> _t3_bar."""
    return f"{name}_bar"


def dot(name: str) -> str:
    """The tangent's name of a primal variable (forward mode): x -> x_dot, _t3 -> _t3_dot."""
    return f"{name}_dot"
