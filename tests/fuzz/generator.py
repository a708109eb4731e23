"""Hypothesis strategies for random Python/NumPy programs that compose what users write.

`programs(features)` draws a :class:`Program`: the source text of a module with
`import math`, `import numpy as np`, zero to three helper functions and the
differentiated function ``prog``, plus what is needed to call it (the names and
kinds of its float inputs, the array length).

Contract of every generated program (so that a failure is the compiler's, not the
generator's):

* it runs without error for any finite inputs in the sampled range: every name is
  bound before it is read on every path (a name made inside a block dies with the
  block), indices are in bounds, list lengths are known where they matter;
* it is numerically tame: log/sqrt of (v*v + 1), division by (v*v + 1), powers of
  positive bases, exp of a tanh, and code that may run many times (a loop body, a
  helper) rebinds and writes values only through a bounded op (tanh, sin, cos,
  v/(v*v+1)), so no value grows without bound;
* it returns a Python float (or a NumPy float64) on every path;
* it is deterministic (no randomness, no global state).

Each construct family has a flag in :class:`Features`; a family switched off is
never drawn. ``Program.tags`` records which families a program really uses (the
long profile counts them; the oracle uses them to decide on the SymPy check).
"""
from __future__ import annotations

import dataclasses
import itertools
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from hypothesis import strategies as st

# ------------------------------------------------------------------ features


@dataclass(frozen=True)
class Features:
    """One flag per construct family (True: the generator may draw it)."""
    arrays: bool = True            # 1-D float array inputs and values
    two_d: bool = True             # a 2-D input W (W @ u, W[j], np.sum(W, axis=0))
    for_loops: bool = True         # for i in range(3) / range(len(x)) / range(x.shape[0])
    while_loops: bool = True       # while s < C and k < 4: (data-dependent trip count)
    branches: bool = True          # if / elif / else on comparisons of active values
    break_continue: bool = True    # break / continue at any depth inside loops
    early_return: bool = True      # return inside ifs (any depth), in helpers too
    return_name: bool = True       # `return s`: a bare local name returned (also after an early return)
    return_in_loops: bool = True   # return inside a loop (any depth; issue 9 class 3)
    self_assign: bool = True       # s = s, x = x, u = u, u[:] = u
    copies: bool = True            # t = s: a new name bound to an existing scalar name
    rebind: bool = True            # an existing name (input or local) rebound to an op result
    rebind_inputs_in_loops: bool = True  # a scalar parameter rebound inside a loop (also a while's condition)
    tuples: bool = True            # t = (a, u); p, q = t; swaps
    tuple_index: bool = True       # t[0] read (in expressions, also inside branches)
    inplace_fresh: bool = True     # element/slice writes on np.zeros(n), x.copy(), x * 2.0
    inplace_args: bool = True      # element/slice writes on the function's array arguments
    inplace_rebound: bool = True   # writes on a name rebound to an op result (issue 9, class 4)
    mask_writes: bool = True       # u[u > c] = ..., u[x > 0.0] = u[x > 0.0] * c
    views: bool = True             # v = u[::-1], v = u[1:] (aliases, written through too)
    array_swaps: bool = True       # a, b = b, a on arrays: double buffering around in-place writes
    helpers: bool = True           # module-level helper functions called by prog
    helper_loops: bool = True      # loops inside helpers
    helper_inplace: bool = True    # helpers that modify an array argument in place
    function_args: bool = True     # a helper taking a function (a helper, or a lambda) as its argument
    lists_append: bool = True      # L = []; for ...: L.append(...); sum(L), np.array(L), L[j]
    lists_const_index: bool = True  # L = [0.5, 2.0, 0.0]; L[j] = active (issue 9, class 7)
    list_repeat: bool = True       # the same, built as L = [0.0] * 3
    lists_in_loops: bool = True    # a list built (L = []; L.append) inside a loop body
    lists_of_arrays: bool = True   # L.append(array); np.stack(L), sum(L)
    cumsum_concat: bool = True     # np.cumsum, np.concatenate
    where_maximum: bool = True     # np.where, np.maximum (elementwise kinks)
    math_scalars: bool = True      # math.* / np.* on scalars
    comprehensions: bool = True    # sum/max/min/np.array of list/set comprehensions and generators (nested,
    #                                with conditions, over range/arrays/zip/enumerate, reusing an outer name)
    dicts: bool = True             # dict displays, item writes (overwrite, insert, in a branch), d.get, len,
    #                                iteration over .items()/.values(), dict comprehensions, computed keys
    dict_updates: bool = True      # a dict of arrays updated entry by entry (an optimizer step: `for k in p:
    #                                p[k] = p[k] - lr * g[k]`, momentum too), maybe an element of a held array
    everyday_syntax: bool = True   # for/while-else, starred unpacking, min/max of several, list pop/extend/insert/+
    complex_fft: bool = True       # np.fft filters and complex arithmetic ending in a real value
    history: bool = True           # hist = np.zeros((k + 1, n)); y = hist[i]; hist[i + 1] = f(y); read y after

    def replace(self, **changes: bool) -> "Features":
        return dataclasses.replace(self, **changes)

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]


ALL = Features()
SCALAR_STRAIGHT = Features(**{n: False for n in Features.names()}).replace(math_scalars=True, rebind=True,
                                                                           self_assign=True, tuples=True)


# ------------------------------------------------------------------ programs

@dataclass
class Program:
    source: str
    params: list[tuple[str, Any]]   # (name, kind): kind "f" scalar, ("a", n) 1-D, ("m", n, n) 2-D
    n: int                          # the array length
    tags: frozenset = frozenset()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p for p, _ in self.params)

    def __repr__(self) -> str:      # hypothesis prints the program readably
        return f"Program(tags={sorted(self.tags)}, params={self.params})\n{self.source}"


F = "f"                 # a Python float


def A(n: int) -> tuple:  # a 1-D array of length n
    return ("a", n)


M_KIND = "m"
SCALAR_BASES = ["0.5", "2.0", "-1.5", "0.25", "3.0", "-0.75"]
BOUND_S = ["math.tanh({e})", "math.sin({e})", "math.cos({e})", "({e}) / (({e}) * ({e}) + 1.0)"]
BOUND_A = ["np.tanh({e})", "np.sin({e})", "np.cos({e})"]
# SymPy's shims know math.<name> / np.<name> for these
S_UNARY = ["math.sin({a})", "math.cos({a})", "math.exp(math.tanh({a}))", "math.log({a} * {a} + 1.0)",
           "math.tanh({a})", "math.sqrt({a} * {a} + 1.0)", "np.sin({a})", "np.tanh({a})", "-{a}",
           "{c} * {a}", "{a} ** 2", "{a} ** 3"]
S_BINARY = ["{a} + {b}", "{a} - {b}", "{a} * {b}", "{a} / ({b} * {b} + 1.0)",
            "({a} * {a} + 1.0) ** {k}", "{a} ** 2 - {b}"]
A_UNARY = ["np.sin({a})", "np.cos({a})", "np.tanh({a})", "np.exp(np.tanh({a}))", "np.log({a} * {a} + 1.0)",
           "np.sqrt({a} * {a} + 1.0)", "-{a}", "{c} * {a}", "{a} ** 2", "({a} * {a} + 1.0) ** {k}"]
A_BINARY = ["{a} + {b}", "{a} - {b}", "{a} * {b}", "{a} / ({b} * {b} + 1.0)"]
EXPONENTS = ["2", "0.5", "1.5", "-0.5"]


_ATOM = re.compile(r"-?[\w.]+|[\w.]+\[[^\[\]]*\]")


def par(e: str) -> str:
    """`e` parenthesized unless it is a name, a number, a subscript of a name or one call."""
    if _ATOM.fullmatch(e):
        return e
    m = re.match(r"[\w.]+\(", e)
    if m:
        depth = 0
        for k, ch in enumerate(e):
            depth += ch in "([" 
            depth -= ch in ")]"
            if depth == 0 and k >= m.end() - 1:
                return e if k == len(e) - 1 else f"({e})"
    return f"({e})"


class _Gen:
    """Builds one module. `scopes` is a stack of {name: kind}; a name bound inside a
    block is popped with the block, so it is never read where it may be unbound."""

    def __init__(self, draw: Callable, feat: Features, n: int):
        self.draw, self.f, self.n = draw, feat, n
        self.ids = itertools.count()
        self.tags: set[str] = set()
        self.helpers: list[tuple[str, list, Any, bool]] = []   # name, param kinds, return kind, mutates
        self.fn_args: dict[str, str] = {}  # a helper taking a function -> the function its calls pass
        self.reset()

    def reset(self) -> None:
        self.scopes: list[dict[str, Any]] = [{}]
        self.origin: dict[str, str] = {}   # array name -> "fresh" | "arg" | "rebound" | "view"
        self.viewed: set[str] = set()      # arrays some view aliases
        self.loops: list[dict] = []        # enclosing loops of the current block: {"var", "bound"}
        self.in_helper = False
        self.ret_kind: Any = F
        self.lists: dict[str, tuple] = {}
        self.recent: list[str] = []        # names in the order they were (re)assigned or written
        self.params: set[str] = set()      # the current function's parameters  # list name -> (element kind, length or None, built with)

    # -- small helpers
    def d(self, strategy):
        return self.draw(strategy)

    def pick(self, seq):
        return self.d(st.sampled_from(list(seq)))

    def chance(self, p_true_in_8: int = 4) -> bool:
        return self.d(st.integers(0, 7)) < p_true_in_8

    def new(self, prefix: str) -> str:
        return f"{prefix}{next(self.ids)}"

    def vars(self, kind) -> list[str]:
        out = []
        for scope in self.scopes:
            out += [v for v, k in scope.items() if k == kind]
        return out

    def kind_of(self, name: str):
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return None

    def bind(self, name: str, kind) -> None:
        if self.kind_of(name) is None:
            self.scopes[-1][name] = kind

    def const(self) -> str:
        return self.pick(SCALAR_BASES)

    # -- expressions
    def s_atom(self) -> str:
        vs = self.vars(F)
        if vs and self.chance(7):
            # favour recent values: programs build chains, not only shallow sums
            return self.pick(vs[-3:]) if self.chance() else self.pick(vs)
        return self.const()

    def s_expr(self, depth: int = 0) -> str:
        """A scalar expression; nested ones (depth > 0) come parenthesized where needed."""
        e = self._s_expr(depth)
        return par(e) if depth else e

    def _s_expr(self, depth: int) -> str:
        choices = ["atom", "binary"]
        if self.f.math_scalars:
            choices.append("unary")
        if self.f.arrays and self.vars(A(self.n)):
            choices += ["reduce", "reduce"]
        if self.f.arrays and self.vars(A(self.n - 1)):
            choices.append("reduce_short")
        if self.f.two_d and self.vars((M_KIND, self.n, self.n)):
            choices.append("reduce2d")
        lists = [l for l, (ek, ln, _) in self.lists.items() if self.kind_of(l) and ek == F]
        if lists:
            choices.append("list")
        tuples = [t for scope in self.scopes for t, k in scope.items() if isinstance(k, tuple) and k[0] == "t"]
        if tuples and self.f.tuple_index:
            choices.append("tuple")
        if self.loops:
            choices.append("loopvar")
        if self.f.comprehensions and depth < 2:
            choices.append("genexp")
        if self.f.complex_fft:
            choices.append("complex")
        c = self.pick(choices) if depth < 2 else "atom"
        if c == "atom":
            return self.s_atom()
        if c == "genexp":
            return self.s_genexp(depth)
        if c == "complex":
            return self.s_complex(depth)
        if c == "binary":
            t = self.pick(S_BINARY)
            return t.format(a=self.s_expr(depth + 1), b=self.s_expr(depth + 1), k=self.pick(EXPONENTS))
        if c == "unary":
            return self.pick(S_UNARY).format(a=self.s_expr(depth + 1), c=self.const())
        if c == "reduce":
            a = self.a_expr(self.n, depth + 1)
            r = self.pick(["np.sum({a})", "np.mean({a})", "np.dot({a}, {b})", "{a}[{j}]", "np.sum({a} * {a})"])
            if r == "{a}[{j}]":
                a = self.pick(self.vars(A(self.n)))  # index a name, not an expression
            return r.format(a=a, b=self.a_expr(self.n, depth + 1), j=self.index(self.n))
        if c == "reduce_short":
            a = self.pick(self.vars(A(self.n - 1)))
            return self.pick(["np.sum({a})", "{a}[{j}]"]).format(a=a, j=self.index(self.n - 1))
        if c == "reduce2d":
            self.tags.add("two_d")
            w = self.pick(self.vars((M_KIND, self.n, self.n)))
            return self.pick(["np.sum({w} * {w})", "np.sum({w} @ {u})", "{w}[{j}, {k}]"]).format(
                w=w, u=self.a_atom(self.n), j=self.index(self.n), k=self.index(self.n))
        if c == "list":
            name = self.pick(lists)
            _, length, _ = self.lists[name]
            self.tags.add("list_read")
            forms = ["sum({l})", "np.sum(np.array({l}))"]
            if length:
                forms += ["{l}[{j}]", "{l}[-1]"]
            return self.pick(forms).format(l=name, j=self.index(length or 1))
        if c == "tuple":
            t = self.pick(tuples)
            kinds = self.kind_of(t)[1]
            j = self.pick([j for j, k in enumerate(kinds) if k == F] or [None])
            if j is None:
                return self.s_atom()
            self.tags.add("tuples")
            return f"{t}[{j}]"
        # loopvar: an inactive float of the loop index mixed into an active value
        i = self.pick(self.loops)["var"]
        return f"{self.s_atom()} * (0.5 + 0.25 * {i})"

    # -- complex intermediates (complex_fft): each form ends in a real value
    def s_complex(self, depth: int) -> str:
        """A real scalar computed through complex values: complex arithmetic on scalars,
        or a spectrum of an array."""
        self.tags.add("complex_fft")
        s, t = self.s_expr(depth + 1), self.s_expr(depth + 1)
        forms = ["abs(complex({s}, 0.5) ** 2 + 1j * {t})", "(({s} + 1j * {t}) * (0.5 - 2j)).imag",
                 "np.angle({s} + 1j * (1.5 + 0.1 * {t}))", "(({s} - 0.5j) ** 3).real + abs({t} * 1j - 1.0)",
                 "(np.exp(1j * {s}) * np.conj({t} + 2j)).real"]
        if self.f.arrays and self.vars(A(self.n)):
            forms += ["np.sum(np.abs(np.fft.rfft({a})) ** 2) / {n}",
                      "np.real(np.sum(np.fft.fft({a}) * np.conj(np.fft.fft({b})))) / {n}",
                      "np.sum(np.imag(np.fft.fft({a}, n={m2})) * np.arange({m2}.0))",
                      "np.abs(np.sum({a} * np.exp(0.5j * np.arange({n}.0))))"]
        n = self.n
        return self.pick(forms).format(s=s, t=t, n=n, m2=2 * n, a=self.a_expr(n, depth + 1) if self.vars(A(n)) else "",
                                       b=self.a_expr(n, depth + 1) if self.vars(A(n)) else "")

    def a_spectral(self, length: int, depth: int) -> str:
        """A real array of the given length computed through FFTs or complex arithmetic."""
        self.tags.add("complex_fft")
        a = self.a_expr(length, depth + 1)
        b = self.a_expr(length, depth + 1)
        m = length // 2 + 1
        forms = ["np.fft.irfft(np.fft.rfft({a}) * np.exp(-0.3 * np.arange({m}.0)), {n})",
                 "np.real(np.fft.ifft(np.fft.fft({a}) * np.fft.fft({b}))) / {n}",
                 "np.abs(np.fft.fft({a})) / {n}", "np.imag(np.fft.ifft({a}) * (1.0 + 0.5j))",
                 "np.real({a} * np.exp(1j * {b}))", "np.fft.fftshift({a})",
                 "np.fft.irfft(1j * np.fft.rfft({a}, norm='ortho'), {n}, norm='ortho')"]
        return self.pick(forms).format(a=a, b=b, m=m, n=length)

    def index(self, length: int) -> str:
        return str(self.d(st.integers(-length, length - 1)))

    def a_atom(self, length: int) -> str:
        vs = self.vars(A(length))
        return self.pick(vs[-3:]) if vs and self.chance(5) else self.pick(vs)

    def a_expr(self, length: int, depth: int = 0) -> str:
        """An array expression of the given length (only called when one exists)."""
        e = self._a_expr(length, depth)
        return par(e) if depth else e

    def _a_expr(self, length: int, depth: int) -> str:
        choices = ["atom", "atom", "binary", "unary", "scalar"]
        if length == self.n:
            if self.f.cumsum_concat:
                choices += ["cumsum", "concat"]
            if self.f.where_maximum:
                choices += ["maximum", "where"]
            if self.f.two_d and self.vars((M_KIND, self.n, self.n)):
                choices.append("matvec")
            lists = [l for l, (ek, ln, _) in self.lists.items()
                     if self.kind_of(l) and ((ek == F and ln == self.n) or ek == A(self.n))]
            if lists:
                choices.append("list")
            if self.f.views:
                choices.append("reverse")
        if length == self.n - 1 and self.vars(A(self.n)):
            choices += ["slice", "slice"]
        if self.f.complex_fft:
            choices.append("spectral")
        c = self.pick(choices) if depth < 2 else "atom"
        if c == "spectral":
            return self.a_spectral(length, depth)
        if c == "atom" or (c == "slice" and not self.vars(A(self.n))):
            if not self.vars(A(length)):
                return self.pick(self.vars(A(self.n))) + "[1:]"
            return self.a_atom(length)
        if c == "binary":
            return self.pick(A_BINARY).format(a=self.a_expr(length, depth + 1), b=self.a_expr(length, depth + 1))
        if c == "unary":
            return self.pick(A_UNARY).format(a=self.a_expr(length, depth + 1), c=self.const(), k=self.pick(EXPONENTS))
        if c == "scalar":
            t = self.pick(["{a} * {s}", "{s} - {a}", "{a} + {s}", "{a} / ({s} * {s} + 1.0)"])
            return t.format(a=self.a_expr(length, depth + 1), s=self.s_expr(depth + 1))
        if c == "cumsum":
            self.tags.add("cumsum_concat")
            return f"0.25 * np.cumsum({self.a_expr(length, depth + 1)})"
        if c == "concat":
            self.tags.add("cumsum_concat")
            k = self.d(st.integers(1, length - 1))
            return f"np.concatenate([{self.a_atom(length)}[:{k}], {self.a_expr(length, depth + 1)}[{k}:]])" \
                if self.chance() else f"np.concatenate([{self.a_atom(length)}[:{k}], {self.a_atom(length)}[{k}:]])"
        if c == "maximum":
            self.tags.add("where_maximum")
            return f"np.maximum({self.a_expr(length, depth + 1)}, {self.a_expr(length, depth + 1)})"
        if c == "where":
            self.tags.add("where_maximum")
            a, b = self.a_atom(length), self.a_expr(length, depth + 1)
            return f"np.where({a} > {self.pick(['0.0', '0.5', '-0.25'])}, {b}, {self.const()} * {a})"
        if c == "matvec":
            self.tags.add("two_d")
            w = self.pick(self.vars((M_KIND, self.n, self.n)))
            return self.pick(["{w} @ {u}", "np.dot({w}, {u})", "{w}.T @ {u}", "np.sum({w}, axis=0) * {u}",
                              "{w}[{j}] * {u}"]).format(w=w, u=self.a_expr(length, depth + 1), j=self.index(self.n))
        if c == "list":
            name = self.pick(lists)
            ek, ln, _ = self.lists[name]
            if ek == F:
                self.tags.add("list_read")
                return f"np.array({name})"
            self.tags.add("lists_of_arrays")
            if ln:
                return self.pick(["np.sum(np.stack({l}), axis=0)", "sum({l})", "np.stack({l})[{j}]",
                                  "{l}[{j}]"]).format(l=name, j=self.index(ln))
            return f"sum({name})" if self.chance() else f"np.sum(np.stack({name}), axis=0)"
        if c == "reverse":
            self.tags.add("views")
            return f"{self.a_atom(length)}[::-1]"
        # slice of a longer array
        u = self.a_atom(self.n)
        return f"{u}[1:]" if self.chance() else f"{u}[:-1]"

    def expr_of(self, kind, depth: int = 0) -> str:
        return self.s_expr(depth) if kind == F else self.a_expr(kind[1], depth)

    def repeated(self) -> bool:
        """Code that may run many times (in a loop, or in a helper that may be called
        in one): a value it rebinds or writes goes through a bounded op."""
        return bool(self.loops) or self.in_helper

    def bounded(self, kind, e: str) -> str:
        return self.pick(BOUND_S if kind == F else BOUND_A).format(e=e)

    def cond(self) -> str:
        saved = self.f
        self.f = self.f.replace(comprehensions=False)  # (a loop's test may be `a and b`: refused there)
        try:
            return self._cond()
        finally:
            self.f = saved

    def _cond(self) -> str:
        forms = ["{s} > {c}", "{s} < {c}", "{s} > {t}"]
        if self.f.arrays and self.vars(A(self.n)):
            forms += ["np.sum({u}) > {c}", "{u}[{j}] < {s}", "np.mean({u}) < {c}"]
        f = self.pick(forms)
        return f.format(s=self.s_expr(1), t=self.s_expr(1), c=self.pick(["0.0", "0.5", "-0.3", "1.0"]),
                        u=self.a_atom(self.n) if self.vars(A(self.n)) else "", j=self.index(self.n))

    def returned(self, e: str) -> str:
        """`e` as a return value: a bare name only when the return_name family is on."""
        if _ATOM.fullmatch(e) and self.kind_of(e) is not None:
            if not self.f.return_name:
                return f"{self.pick(['0.5', '-0.75', '2.0'])} * {e}"
            self.tags.add("return_name")
        return e

    def result(self) -> str:
        """A scalar combining live values, the most recently assigned first (so that
        what the program computed reaches the output)."""
        if self.in_helper:
            return self.returned(self.expr_of(self.ret_kind))
        kinds = (F, A(self.n), A(self.n - 1))
        recent = [v for v in dict.fromkeys(reversed(self.recent)) if self.kind_of(v) in kinds]
        live = [v for k in kinds for v in self.vars(k)]
        names = recent[:self.d(st.integers(1, 3))]
        names += [self.pick(live) for _ in range(self.d(st.integers(0 if names else 1, 2)))]
        terms = []
        for v in dict.fromkeys(names):
            if self.kind_of(v) == F:
                terms.append(v)
            else:
                terms.append(self.pick(["np.sum({u} * {u})", "np.sum(np.sin({u}))", "np.sum({u})",
                                        "np.dot({u}, {u})"]).format(u=v))
        coefs = ["", "0.5 * ", "0.25 * ", "-0.75 * "]
        return self.returned(" + ".join((self.pick(coefs) if k else "") + t for k, t in enumerate(terms)))

    # -- statements
    def block(self, lines: list[str], indent: int, size: int, final: Callable | None = None) -> bool:
        """Append `size` statements in a new scope (then `final()`'s line, inside the
        scope, when given); return True if the block ended with a jump
        (return/break/continue) so nothing may follow it."""
        self.scopes.append({})
        ended = False
        try:
            for k in range(size):
                if self.stmt(lines, indent, last=(k == size - 1)):
                    ended = True
                    break
            if final is not None and not ended:
                lines.append(final())
        finally:
            self.scopes.pop()
        return ended

    def stmt(self, lines: list[str], indent: int, last: bool) -> bool:
        pad = "    " * indent
        nest = len(self.loops) + indent
        choices = ["new", "new", "new"]
        if self.f.rebind:
            choices += ["rebind", "rebind"]
        if self.f.self_assign:
            choices.append("self")
        if self.f.arrays and self.writable():
            choices += ["write", "write", "write"]
        if self.f.arrays and self.f.views and self.vars(A(self.n)) and not self.in_helper:
            choices.append("view")
        if self.f.tuples:
            choices.append("tuple")
        if indent < 3:
            if self.f.for_loops:
                choices += ["for", "for"]
            if self.f.while_loops and self.vars(F):
                choices.append("while")
            if self.f.branches:
                choices += ["if", "if"]
            if self.f.lists_append and not self.in_helper:
                choices.append("list_append")
            if (self.f.lists_const_index or self.f.list_repeat) and not self.in_helper:
                choices.append("list_const")
            if self.f.dicts and not self.in_helper:
                choices.append("dict")
            if self.f.history and self.f.arrays and self.vars(A(self.n)) and not self.in_helper:
                choices.append("history")
        if self.f.everyday_syntax and not self.in_helper and indent < 3:
            choices += ["everyday"]
        if self.helpers and not self.in_helper:
            choices += ["call"] * 4
        if self.loops and self.f.break_continue and indent > 0:
            choices.append("jump")
        if self.f.early_return and indent > 1 and (self.f.return_in_loops or not self.loops):
            choices.append("return")
        c = self.pick(choices)
        if nest > 4 and c in ("for", "while", "if"):
            c = "new"
        return bool(getattr(self, "st_" + c)(lines, pad, indent))

    def st_history(self, lines, pad, indent):
        """A preallocated history: row i read as a view, row i + 1 written, the view read
        after the write (passes/aliasing._Rows: the rows are apart)."""
        self.tags.add("history")
        u = self.pick(self.vars(A(self.n)))
        h, y, i, s, out = self.new("hist"), self.new("y"), self.new("i"), self.new("s"), self.new("u")
        k = self.d(st.integers(1, 3))
        lines.append(f"{pad}{h} = np.zeros(({k + 1}, {self.n_expr()}))")
        lines.append(f"{pad}{h}[0] = {u}")
        lines.append(f"{pad}{s} = 0.0")
        lines.append(f"{pad}for {i} in range({k}):")
        lines.append(f"{pad}    {y} = {h}[{i}]")
        lines.append(f"{pad}    {h}[{i} + 1] = np.tanh({y} * {self.s_expr(1)}) + 0.5 * {y}")
        lines.append(f"{pad}    {s} = {s} + 0.1 * np.sum({y} * {y})")
        lines.append(f"{pad}{out} = {h}[{k}] + {h}[{self.d(st.integers(0, k - 1))}]")
        self.bind(s, F)
        self.bind(out, A(self.n))
        self.origin[out] = "fresh"
        self.recent += [s, out]

    def st_new(self, lines, pad, indent):
        kinds = [F]
        if self.f.arrays and self.vars(A(self.n)):
            kinds += [A(self.n), A(self.n), "fresh", "fresh"]
        if self.f.arrays and self.vars(A(self.n)) and self.f.views:
            kinds.append(A(self.n - 1))
        k = self.pick(kinds)
        if k == "fresh":
            u = self.pick(self.vars(A(self.n)))
            e = self.pick(["np.zeros({n})", "{u}.copy()", "{u} * 2.0", "np.ones(len({u}))", "np.zeros_like({u})"])
            name = self.new("u")
            lines.append(f"{pad}{name} = {e.format(n=self.n_expr(), u=u)}")
            self.bind(name, A(self.n))
            self.origin[name] = "fresh"
            self.recent.append(name)
            return
        name = self.new("s" if k == F else "u")
        e = self.expr_of(k)
        if k == F and _ATOM.fullmatch(e) and self.kind_of(e) == F:
            if self.f.copies:
                self.tags.add("copies")
            else:
                e = f"{e} * {self.const()}"
        if k != F and (_ATOM.fullmatch(e) or e.endswith(("[1:]", "[:-1]", "[::-1]")) and e.count("[") == 1) \
                and self.chance(6):
            e = f"{par(e)}.copy()"   # mostly a copy: an alias written later is refused (AliasingError)
        lines.append(f"{pad}{name} = {e}")
        self.bind(name, k)
        self.recent.append(name)
        if k != F:
            alias = _ATOM.fullmatch(e) and "[" not in e            # u = x: the same array
            view = e.endswith(("[1:]", "[:-1]", "[::-1]")) and e.count("[") == 1
            self.origin[name] = "view" if alias or view else "fresh" if e.endswith(".copy()") else "rebound"
            if self.origin[name] == "view":
                self.tags.add("views")
                self.viewed.add(e.split("[")[0])

    def n_expr(self) -> str:
        arrays = [v for v in self.vars(A(self.n)) if self.origin.get(v) == "arg"]
        if arrays and self.chance():
            return self.pick([f"len({arrays[0]})", f"{arrays[0]}.shape[0]"])
        return str(self.n)

    def rebindable(self) -> list[str]:
        out = []
        for scope in self.scopes:
            out += [v for v, k in scope.items() if k == F or (isinstance(k, tuple) and k[0] == "a")]
        if self.loops and not self.f.rebind_inputs_in_loops:
            out = [v for v in out if not (v in self.params and self.kind_of(v) == F)]
        return out

    def st_rebind(self, lines, pad, indent):
        vs = self.rebindable()
        if not vs:
            return self.st_new(lines, pad, indent)
        v = self.pick(vs)
        k = self.kind_of(v)
        e = self.expr_of(k)
        if self.repeated():
            e = self.bounded(k, e)
        if self.chance(2 if k == F else 4):  # rebind to an op of itself (whose adjoint may read it)
            forms = ["{v} * {c}", "{v} + {e}", "np.tanh({v})", "{v} / ({e} * {e} + 1.0)"]
            if k != F:
                forms += ["np.sqrt({v} * {v} + 1.0)", "{v} / ({v} * {v} + 1.0)", "np.tanh({v}) * {e}"]
            e = (self.bounded(k, v) if self.repeated() else
                 self.pick(forms).format(v=v, c=self.const(), e=self.s_expr(1)))
        if e == v and not self.f.self_assign:
            e = f"{v} * {self.const()}"
        lines.append(f"{pad}{v} = {e}")
        self.recent.append(v)
        self.tags.add("self_assign" if e == v else "rebind")
        if k != F:
            self.origin[v] = "rebound"

    def st_self(self, lines, pad, indent):
        vs = self.rebindable()
        if not vs:
            return self.st_new(lines, pad, indent)
        v = self.pick(vs)
        lines.append(f"{pad}{v} = {v}")
        self.tags.add("self_assign")

    def writable(self) -> list[str]:
        out = []
        for length in (self.n, self.n - 1):
            for v in self.vars(A(length)):
                o = self.origin.get(v, "rebound")
                ok = {"fresh": self.f.inplace_fresh, "arg": self.f.inplace_args,
                      "rebound": self.f.inplace_rebound, "view": self.f.views}[o]
                if v in self.viewed and not self.f.views:
                    ok = False
                if self.in_helper and o == "arg" and not self.f.helper_inplace:
                    ok = False
                if ok:
                    out.append(v)
        return out

    def st_write(self, lines, pad, indent):
        u = self.pick(self.writable())
        self.recent.append(u)
        length = self.kind_of(u)[1]
        o = self.origin.get(u, "rebound")
        self.tags.add({"fresh": "inplace_fresh", "arg": "inplace_args", "rebound": "inplace_rebound",
                       "view": "views"}[o])
        if self.in_helper and o == "arg":
            self.tags.add("helper_inplace")
            self.helper_mutates = True
        forms = ["elem", "elem", "aug", "aug", "stencil", "slice", "full"]
        if self.f.mask_writes:
            forms += ["mask"]
        f = self.pick(forms)
        loop_idx = [lp["var"] for lp in self.loops if lp["bound"] <= length]
        idx = self.pick(loop_idx) if loop_idx and self.chance() else self.index(length)
        e = self.s_expr(1)
        if self.repeated():
            e = self.bounded(F, e)
        if f == "elem":
            lines.append(f"{pad}{u}[{idx}] = {e}")
        elif f == "aug":
            lines.append(f"{pad}{u}[{idx}] {self.pick(['+=', '-=', '*='])} {e}")
        elif f == "stencil":
            c = self.pick(["0.1", "0.25", "-0.2"])
            lines.append(self.pick([
                "{p}{u}[1:-1] = {u}[1:-1] + {c} * ({u}[2:] - 2.0 * {u}[1:-1] + {u}[:-2])",
                "{p}{u}[1:] = {u}[1:] + {c} * {u}[:-1]",
                "{p}{u}[:-1] = {u}[:-1] - {c} * np.tanh({u}[1:])"]).format(p=pad, u=u, c=c))
        elif f == "slice":
            k = self.d(st.integers(1, length - 1))
            src = self.a_atom(length) if self.vars(A(length)) else u
            lines.append(f"{pad}{u}[:{k}] = {src}[:{k}] * {e}" if self.chance() else
                         f"{pad}{u}[{k}:] = np.tanh({src}[{k}:]) + {e}")
        elif f == "full":
            rhs = self.a_expr(length, 1)
            if rhs == u and not self.f.self_assign:
                rhs = f"{u} * {self.const()}"
            elif rhs == u:
                self.tags.add("self_assign")
            lines.append(f"{pad}{u}[:] = {self.bounded(A(length), rhs) if self.repeated() else rhs}")
        else:
            self.tags.add("mask_writes")
            m = self.a_atom(length)
            t = self.pick(["0.0", "0.5", "-0.25"])
            lines.append(self.pick(["{p}{u}[{m} > {t}] = {e}", "{p}{u}[{m} > {t}] = {u}[{m} > {t}] * 0.5",
                                    "{p}{u}[{u} < {t}] = {c}"]).format(p=pad, u=u, m=m, t=t, e=e,
                                                                         c=self.const()))

    def st_view(self, lines, pad, indent):
        u = self.pick(self.vars(A(self.n)))
        v = self.new("v")
        if self.chance():
            lines.append(f"{pad}{v} = {u}[::-1]")
            self.bind(v, A(self.n))
        else:
            lines.append(f"{pad}{v} = {u}[{self.pick(['1:', ':-1'])}]")
            self.bind(v, A(self.n - 1))
        self.origin[v] = "view"
        self.viewed.add(u)
        self.tags.add("views")

    def st_tuple(self, lines, pad, indent):
        self.tags.add("tuples")
        scalars = [v for v in self.vars(F) if v in self.rebindable()]
        form = self.pick(["pack", "swap", "unpack_expr"])
        if form == "swap" and self.f.array_swaps and self.f.arrays:
            arrays = [v for v in self.rebindable() if self.kind_of(v) == A(self.n)]
            if len(arrays) >= 2 and self.chance():
                # double buffering: each name now holds the other's array (its origin, its views)
                a, b = self.d(st.lists(st.sampled_from(arrays), min_size=2, max_size=2, unique=True))
                lines.append(f"{pad}{a}, {b} = {b}, {a}")
                self.origin[a], self.origin[b] = self.origin.get(b, "rebound"), self.origin.get(a, "rebound")
                if a in self.viewed or b in self.viewed:
                    self.viewed |= {a, b}
                self.recent += [a, b]
                self.tags.add("array_swaps")
                return
        if form == "swap" and len(scalars) >= 2:
            a, b = self.d(st.lists(st.sampled_from(scalars), min_size=2, max_size=2, unique=True))
            lines.append(f"{pad}{a}, {b} = {b}, {a}")
            self.recent += [a, b]
            return
        if form == "pack" or not scalars:
            items = [self.s_expr(1)]
            kinds = [F]
            if self.f.arrays and self.vars(A(self.n)) and self.chance():
                items.append(self.a_atom(self.n))
                kinds.append(A(self.n))
            else:
                items.append(self.s_expr(1))
                kinds.append(F)
            t = self.new("t")
            lines.append(f"{pad}{t} = ({', '.join(items)})")
            self.bind(t, ("t", tuple(kinds)))
            if self.chance():
                names = [self.new("s" if k == F else "u") for k in kinds]
                lines.append(f"{pad}{', '.join(names)} = {t}")
                for nm, k in zip(names, kinds):
                    self.bind(nm, k)
                    self.recent.append(nm)
                    if k != F:
                        self.origin[nm] = "rebound"
            return
        p, q = self.new("s"), self.new("s")
        lines.append(f"{pad}{p}, {q} = {self.s_expr(1)}, {self.s_expr(1)}")
        self.bind(p, F)
        self.bind(q, F)
        self.recent += [p, q]

    def loop_header(self) -> tuple[str, int]:
        args = [v for v in self.vars(A(self.n)) if self.origin.get(v) == "arg"]
        forms = [("range(2)", 2), ("range(3)", 3)]
        if args:
            forms += [(f"range(len({args[0]}))", self.n), (f"range({args[0]}.shape[0])", self.n)]
        forms.append((f"range({self.n})", self.n))
        return self.pick(forms)

    def st_for(self, lines, pad, indent):
        rng, bound = self.loop_header()
        i = self.new("i")
        lines.append(f"{pad}for {i} in {rng}:")
        self.tags.add("for_loops")
        self.loops.append({"var": i, "bound": bound})
        try:
            self.block(lines, indent + 1, self.d(st.integers(1, 4)))
        finally:
            self.loops.pop()

    def st_while(self, lines, pad, indent):
        s = self.pick(self.vars(F))
        if s in self.params and not self.f.rebind_inputs_in_loops:
            s = self.new("s")           # the loop rebinds its condition variable: make it a local
            lines.append(f"{pad}{s} = {self.s_expr()}")
            self.bind(s, F)
            self.recent.append(s)
        k = self.new("k")
        lines.append(f"{pad}{k} = 0")
        cond = f"{s} < {self.pick(['1.0', '2.0', '3.0'])}" if self.chance() else self.cond()
        lines.append(f"{pad}while {cond} and {k} < {self.pick(['3', '4', '5'])}:")
        lines.append(f"{pad}    {k} = {k} + 1")
        self.tags.add("while_loops")
        # the condition's value moves (a data-dependent trip count), by a bounded amount
        lines.append(f"{pad}    {s} = {s} + {self.pick(['0.5', '0.75', '1.0'])} + 0.25 * "
                     f"{self.bounded(F, self.s_expr(1))}")
        self.loops.append({"var": k, "bound": 99})
        try:
            self.block(lines, indent + 1, self.d(st.integers(1, 3)))
        finally:
            self.loops.pop()

    def st_if(self, lines, pad, indent):
        self.tags.add("branches")
        lines.append(f"{pad}if {self.cond()}:")
        self.block(lines, indent + 1, self.d(st.integers(1, 3)))
        for _ in range(self.d(st.integers(0, 1))):
            lines.append(f"{pad}elif {self.cond()}:")
            self.block(lines, indent + 1, self.d(st.integers(1, 3)))
        if self.chance():
            lines.append(f"{pad}else:")
            self.block(lines, indent + 1, self.d(st.integers(1, 3)))

    def st_jump(self, lines, pad, indent):
        self.tags.add("break_continue")
        word = self.pick(["break", "continue"])
        if self.chance(3):   # a guarded jump (the usual form)
            lines.append(f"{pad}if {self.cond()}:")
            lines.append(f"{pad}    {word}")
            return False
        lines.append(f"{pad}{word}")
        return True

    def st_return(self, lines, pad, indent):
        self.tags.add("return_in_loops" if self.loops else "early_return")
        lines.append(f"{pad}return {self.result()}")
        return True

    def st_list_append(self, lines, pad, indent):
        if self.loops and not self.f.lists_in_loops:
            return self.st_new(lines, pad, indent)
        if self.loops:
            self.tags.add("lists_in_loops")
        arrays = self.f.lists_of_arrays and self.f.arrays and self.vars(A(self.n))
        ek = A(self.n) if arrays and self.chance(3) else F
        name = self.new("L")
        rng, bound = self.loop_header()
        i = self.new("i")
        lines.append(f"{pad}{name} = []")
        lines.append(f"{pad}for {i} in {rng}:")
        self.tags.add("lists_of_arrays" if ek != F else "lists_append")
        self.loops.append({"var": i, "bound": bound})
        self.scopes.append({})
        try:
            # statements before the append may not jump: the list length stays known
            saved = self.f
            self.f = self.f.replace(break_continue=False, early_return=False, while_loops=False,
                                    lists_append=False, lists_const_index=False)
            inner: list[str] = []
            self.block(inner, indent + 1, self.d(st.integers(0, 2))) if self.chance() else None
            self.f = saved
            lines += inner
            e = self.bounded(ek, self.expr_of(ek, 1))
            arr = self.vars(A(self.n)) if ek == F and self.f.arrays else []
            if arr and self.chance(4):
                # the list read as an array while it grows: its adjoint comes back from
                # the concatenation as an array and meets the list's own adjoint
                self.tags.add("list_concat")
                e = f"{e} + 0.1 * np.tanh(np.sum(np.concatenate(({self.pick(arr)}, {name}))))"
            lines.append(f"{pad}    {name}.append({e})")
        finally:
            self.scopes.pop()
            self.loops.pop()
        self.bind(name, ("l", ek))
        self.lists[name] = (ek, bound, "append")
        if ek == F:   # reduce the list right away sometimes (it then reaches the output)
            s = self.new("s")
            lines.append(f"{pad}{s} = {self.pick(['sum({l})', 'np.sum(np.array({l}))', '{l}[-1]'])}".format(l=name))
            self.bind(s, F)
            self.recent.append(s)

    def st_list_const(self, lines, pad, indent):
        name = self.new("L")
        length = self.d(st.integers(2, 4))
        repeat = self.f.list_repeat and self.chance(3)
        lines.append(f"{pad}{name} = " + (f"[0.0] * {length}" if repeat else
                                          "[" + ", ".join(self.const() for _ in range(length)) + "]"))
        self.tags.add("list_repeat" if repeat else "lists_const_index")
        if self.chance():
            for _ in range(self.d(st.integers(1, 2))):
                lines.append(f"{pad}{name}[{self.index(length)}] = {self.s_expr(1)}")
        else:
            i = self.new("i")
            lines.append(f"{pad}for {i} in range({length}):")
            self.loops.append({"var": i, "bound": length})
            lines.append(f"{pad}    {name}[{i}] = {self.bounded(F, self.s_expr(1))}")
            self.loops.pop()
        self.bind(name, ("l", F))
        self.lists[name] = (F, length, "const")
        s = self.new("s")
        lines.append(f"{pad}{s} = {self.pick(['sum({l})', '{l}[{j}] * {l}[-1]', 'np.sum(np.array({l}))'])}".format(
            l=name, j=self.index(length)))
        self.bind(s, F)
        self.recent.append(s)

    # -- comprehensions and dicts (adjointc/comprehensions.py)
    def comp_var(self) -> str:
        """A comprehension's variable: often the name of an enclosing scalar (the
        comprehension's own scope must leave it alone), else a new name."""
        outer = [v for v in self.vars(F) if v not in self.params]
        return self.pick(outer) if outer and self.chance(3) else self.new("c")

    def comp_clause(self, depth: int) -> tuple[str, list[str], str]:
        """`for ... in ...` (and maybe an `if`) of a comprehension: (clause, the float
        names it binds, a factor of its index (or "1.0")."""
        forms = ["range"]
        if self.f.arrays and self.vars(A(self.n)):
            forms += ["array", "array", "zip", "enumerate"]
        lists = [l for l, (ek, _, _) in self.lists.items() if self.kind_of(l) and ek == F]
        if lists:
            forms.append("list")
        form = self.pick(forms)
        if form == "range":
            j = self.new("j")
            return f"for {j} in range({self.d(st.integers(1, 4))})", [], f"(0.5 + 0.25 * {j})"
        if form in ("array", "list"):
            v = self.comp_var()
            seq = self.pick(self.vars(A(self.n))) if form == "array" else self.pick(lists)
            clause = f"for {v} in {seq}"
            if self.chance(3):
                clause += f" if {v} > {self.pick(['0.0', '-0.5', '0.3'])}"
            return clause, [v], "1.0"
        if form == "zip":
            v, w = self.comp_var(), self.new("c")
            if v == w:
                w = self.new("c")
            a, b = self.pick(self.vars(A(self.n))), self.pick(self.vars(A(self.n)))
            return f"for {v}, {w} in zip({a}, {b})", [v, w], "1.0"
        j, v = self.new("j"), self.comp_var()
        return f"for {j}, {v} in enumerate({self.pick(self.vars(A(self.n)))})", [v], f"(0.5 + 0.25 * {j})"

    def s_genexp(self, depth: int) -> str:
        """A scalar reduction of a generator or list comprehension (maybe nested)."""
        self.tags.add("comprehensions")
        clauses, names, factors = [], [], []
        for _ in range(2 if depth == 0 and self.chance(2) else 1):
            self.scopes.append({v: F for v in names})  # (a later clause sees the earlier names)
            try:
                clause, bound, factor = self.comp_clause(depth + 1)
            finally:
                self.scopes.pop()
            clauses.append(clause)
            names += bound
            factors.append(factor)
        self.scopes.append({v: F for v in names})
        try:
            body = self.s_expr(depth + 1)
            if names and self.chance(6):
                body = f"{self.pick(names)} * {par(body)}"
        finally:
            self.scopes.pop()
        elt = " * ".join([par(body)] + [f for f in factors if f != "1.0"])
        gen = f"{elt} {' '.join(clauses)}"
        form = self.pick(["sum({g})", "sum({g})", "sum([{g}])", "np.sum(np.array([{g}]))",
                          "max({g})", "min([{g}])", "sum(({g}), 0.5)", "sum({{{g}}})"])
        if "max" in form or "min" in form:
            if " if " in gen:   # (a filter may leave nothing: max() of nothing raises)
                form = "sum({g})"
            else:
                self.tags.add("comprehension_minmax")
        return form.format(g=gen)

    def st_dict(self, lines, pad, indent):
        self.tags.add("dicts")
        arrays = self.f.arrays and self.vars(A(self.n)) and self.chance(3)
        ek = A(self.n) if arrays else F
        d = self.new("d")
        keys = ["a", "b", "c"][:self.d(st.integers(1, 3))]
        def value() -> str:
            return self.bounded(ek, self.expr_of(ek, 1))
        if self.chance():
            lines.append(f"{pad}{d} = {{" + ", ".join(f"'{k}': {value()}" for k in keys) + "}")
        else:
            lines.append(f"{pad}{d} = {{}}")
            for k in keys:
                lines.append(f"{pad}{d}['{k}'] = {value()}")
        if self.chance():  # an overwrite reading the dict
            lines.append(f"{pad}{d}['{self.pick(keys)}'] = {d}['{self.pick(keys)}'] * {par(self.bounded(F, self.s_expr(1)))}")
        if self.chance(3) and self.vars(F):  # an insertion on one path only
            lines.append(f"{pad}if {self.cond()}:")
            lines.append(f"{pad}    {d}['z'] = {value()}")
        if ek == F and self.chance(3):  # entries at computed keys
            j = self.new("j")
            lines.append(f"{pad}for {j} in range({self.d(st.integers(1, 3))}):")
            lines.append(f"{pad}    {d}[{j}] = {self.bounded(F, self.s_expr(1))} * (0.5 + 0.25 * {j})")
            self.tags.add("dict_computed_keys")
        if self.f.comprehensions and self.chance(3):  # a dict comprehension (an optimizer step)
            d2 = self.new("d")
            lines.append(f"{pad}{d2} = {{k: v - {self.pick(['0.1', '0.3'])} * {par(self.bounded(F, self.s_expr(1)))} * v "
                         f"for k, v in {d}.items()}}")
            d = d2
            self.tags.add("dict_comprehension")
        if ek != F and self.f.dict_updates and self.chance(2):
            self.dict_update(lines, pad, d, keys)
        s = self.new("s")
        if ek == F:
            form = self.pick(["sum({d}.values())", "{d}['a'] * {d}.get('z', 0.5)", "{d}.get('b', 1.0) + len({d})",
                              "loop", "keys"])
            if form == "loop":
                lines.append(f"{pad}{s} = 0.0")
                lines.append(f"{pad}for k, v in {d}.items():")
                lines.append(f"{pad}    {s} = {s} + v * (2.0 if k == 'a' else 1.0)")
            elif form == "keys":
                lines.append(f"{pad}{s} = 0.0")
                lines.append(f"{pad}for k in {d}:")
                lines.append(f"{pad}    {s} = {s} + {d}[k] * {d}[k]")
            else:
                lines.append(f"{pad}{s} = {form.format(d=d)}")
        else:
            forms = ["np.sum({d}['a'] * {d}['a'])", "np.sum({d}.get('z', {d}['a']))", "np.sum({d}['a']) + len({d})"]
            if self.f.comprehensions:
                forms.append("sum(np.sum(v) for v in {d}.values())")
            lines.append(f"{pad}{s} = {self.pick(forms).format(d=d)}")
        self.bind(s, F)
        self.recent.append(s)

    def dict_update(self, lines, pad, d, keys):
        """A few steps of an optimizer over the dict of arrays d: entries replaced by new
        arrays (`d[k] = d[k] - lr * g[k]`, with momentum `m[k]` maybe), which writes the
        dict, not the arrays it holds; maybe an element of a held array written too."""
        self.tags.add("dict_updates")
        g, m, t = self.new("g"), self.new("m"), self.new("t")
        lines.append(f"{pad}{g} = {{" + ", ".join(f"'{k}': {self.bounded(A(self.n), self.expr_of(A(self.n), 1))}"
                                                  for k in list(keys) + ["z"] * ("z" not in keys)) + "}")
        # (g covers 'z' too: st_dict may insert it on one path)
        momentum = self.chance()
        if momentum:
            lines.append(f"{pad}{m} = {{k: np.zeros_like(v) for k, v in {d}.items()}}")
        lr = self.pick(["0.1", "0.3"])
        lines.append(f"{pad}for {t} in range({self.d(st.integers(1, 3))}):")
        lines.append(f"{pad}    for k in {d}:")
        if momentum:
            lines.append(f"{pad}        {m}[k] = 0.9 * {m}[k] + {g}[k] * np.tanh({d}[k])")
            lines.append(f"{pad}        {d}[k] = {d}[k] - {lr} * {m}[k]")
        else:
            lines.append(f"{pad}        {d}[k] = {d}[k] - {lr} * {g}[k] * np.tanh({d}[k])")
        if self.f.dict_updates and self.chance(3):  # an element of a held array, in place
            lines.append(f"{pad}{d}['a'][0] = {d}['a'][0] * {par(self.bounded(F, self.s_expr(1)))}")
            self.tags.add("dict_element_write")

    # -- everyday syntax (issue 13): one family, drawn by st_everyday
    def st_everyday(self, lines, pad, indent):
        form = self.pick(["for_else", "while_else", "starred", "minmax", "list_ops"])
        self.tags.add("everyday_syntax")
        return getattr(self, "ev_" + form)(lines, pad, indent)

    def ev_for_else(self, lines, pad, indent):
        """`for ...: ... if c: break ... else: ...` (the else runs when no break ran)."""
        rng, bound = self.loop_header()
        i = self.new("i")
        lines.append(f"{pad}for {i} in {rng}:")
        self.loops.append({"var": i, "bound": bound})
        try:
            self.block(lines, indent + 1, self.d(st.integers(0, 2)))
            lines.append(f"{pad}    if {self.cond()}:")
            lines.append(f"{pad}        break")
            self.block(lines, indent + 1, self.d(st.integers(0, 2)))
        finally:
            self.loops.pop()
        lines.append(f"{pad}else:")
        self.block(lines, indent + 1, self.d(st.integers(1, 2)))

    def ev_while_else(self, lines, pad, indent):
        k = self.new("k")
        lines.append(f"{pad}{k} = 0")
        lines.append(f"{pad}while {k} < {self.pick(['2', '3'])}:")
        lines.append(f"{pad}    {k} = {k} + 1")
        self.loops.append({"var": k, "bound": 99})
        try:
            if self.chance():
                lines.append(f"{pad}    if {self.cond()}:")
                lines.append(f"{pad}        break")
            self.block(lines, indent + 1, self.d(st.integers(1, 2)))
        finally:
            self.loops.pop()
        lines.append(f"{pad}else:")
        self.block(lines, indent + 1, self.d(st.integers(1, 2)))

    def _scalar(self, lines, pad, e):
        s = self.new("s")
        lines.append(f"{pad}{s} = {e}")
        self.bind(s, F)
        self.recent.append(s)

    def ev_starred(self, lines, pad, indent):
        arrays = [v for v in self.vars(A(self.n))] if self.f.arrays else []
        h, r = self.new("h"), self.new("r")
        if arrays and self.chance(3):
            lines.append(f"{pad}{h}, *{r} = {self.pick(arrays)}")     # rest: a list of the elements
            n = self.n - 1
        elif self.chance():
            n = self.d(st.integers(1, 3))
            lines.append(f"{pad}*{r}, {h} = [{', '.join(self.s_expr(1) for _ in range(n + 1))}]")
        else:
            n = self.d(st.integers(1, 3))
            t = self.new("t")
            lines.append(f"{pad}{t} = ({', '.join(self.s_expr(1) for _ in range(n + 1))})")
            lines.append(f"{pad}{h}, *{r} = {t}")
        self.bind(h, F)
        self.recent.append(h)
        j = self.d(st.integers(-n, n - 1))
        self._scalar(lines, pad, self.pick([f"{h} * {r}[{j}]", f"sum({r}) + {h}", f"{r}[{j}] - len({r})"]))

    def ev_minmax(self, lines, pad, indent):
        fn = self.pick(["min", "max"])
        items = ", ".join(self.s_expr(1) for _ in range(self.d(st.integers(2, 4))))
        self._scalar(lines, pad, self.pick([f"{fn}({items})", f"{fn}([{items}])"]))

    def ev_list_ops(self, lines, pad, indent):
        """A list grown and shrunk by its methods, then reduced."""
        name = self.new("L")
        length = self.d(st.integers(2, 3))
        lines.append(f"{pad}{name} = [{', '.join(self.s_expr(1) for _ in range(length))}]")
        for _ in range(self.d(st.integers(1, 3))):
            op = self.pick(["extend", "insert", "pop", "concat"] if length > 1 else ["extend", "insert", "concat"])
            if op == "extend":
                lines.append(f"{pad}{name}.extend([{self.s_expr(1)}, {self.const()}])")
                length += 2
            elif op == "insert":
                lines.append(f"{pad}{name}.insert({self.d(st.integers(-length, length))}, {self.s_expr(1)})")
                length += 1
            elif op == "pop":
                v = self.new("v")
                lines.append(f"{pad}{v} = {name}.pop({self.pick(['', '0', '-1', str(length - 1)])})")
                self.bind(v, F)
                self.recent.append(v)
                length -= 1
            else:
                lines.append(f"{pad}{name} = {name} + [{self.s_expr(1)}]")
                length += 1
        j = self.d(st.integers(-length, length - 1))
        self._scalar(lines, pad, self.pick([f"sum({name})", f"{name}[{j}] * {name}[-1]",
                                           f"{name}[len({name}) - 1] + {name}[0]"]))

    def st_call(self, lines, pad, indent):
        h, kinds, ret, mutates = self.pick(self.helpers)
        args = []
        for k in kinds:
            if k == F:
                args.append(self.s_expr(1))
            else:
                vs = self.vars(k)
                if mutates:  # pass a name (the helper writes into it) that may be written
                    vs = [v for v in vs if v in self.writable()] or []
                if not vs:
                    return self.st_new(lines, pad, indent)
                args.append(self.pick(vs))
        self.tags.add("helpers")
        if h in self.fn_args:
            args.insert(0, self.fn_args[h])
        call = f"{h}({', '.join(args)})"
        if ret is None:
            lines.append(f"{pad}{call}")
            return
        vs = [v for v in self.rebindable() if self.kind_of(v) == ret]
        if vs and self.chance(3):
            v = self.pick(vs)
            lines.append(f"{pad}{v} = {self.bounded(ret, call) if self.repeated() else call}")
            self.recent.append(v)
            if ret != F:
                self.origin[v] = "rebound"
            return
        v = self.new("s" if ret == F else "u")
        lines.append(f"{pad}{v} = {call}")
        self.recent.append(v)
        self.bind(v, ret)
        if ret != F:
            self.origin[v] = "rebound"

    # -- functions
    def helper(self) -> str:
        self.reset()
        self.in_helper = True
        name = self.new("h")
        kinds = [self.pick([F, A(self.n)] if self.f.arrays else [F]) for _ in range(self.d(st.integers(1, 3)))]
        params = [self.new("p") for _ in kinds]
        for p, k in zip(params, kinds):
            self.bind(p, k)
            self.params.add(p)
            if k != F:
                self.origin[p] = "arg"
        has_array = any(k != F for k in kinds)
        ret = self.pick([F, A(self.n)]) if has_array else F
        self.helper_mutates = False
        lines = [f"def {name}({', '.join(params)}):"]
        saved = self.f
        if not self.f.helper_loops:
            self.f = self.f.replace(for_loops=False, while_loops=False)
        self.f = self.f.replace(helpers=False)
        self.ret_kind = ret
        try:
            if self.f.helper_inplace and has_array and self.chance(3):
                p = self.pick([p for p, k in zip(params, kinds) if k != F])
                lines.append(f"    {p}[{self.index(self.n)}] = {self.s_expr(1)}")
                self.helper_mutates = True
                self.tags.add("helper_inplace")
            effect_only = ret == F and self.chance()

            def final() -> str:
                nonlocal ret
                if self.helper_mutates and effect_only and not any("return " in line for line in lines):
                    ret = None   # called for its effect only
                    return "    return None"
                return f"    return {self.returned(self.expr_of(ret))}"
            self.block(lines, 1, self.d(st.integers(1, 4)), final)
            mutates = self.helper_mutates
        finally:
            self.f = saved
        if any("for " in line or "while " in line for line in lines[1:]):
            self.tags.add("helper_loops")
        self.helpers.append((name, kinds, ret, mutates))
        return "\n".join(lines)

    def higher_order(self) -> str | None:
        """`def hof(fn, q0, ...): return 0.5 * fn(q0, ...) + 0.25 * fn(q0, ...)`, called with
        an earlier helper (or, for a scalar one, a lambda calling it) as `fn`."""
        cands = [h for h in self.helpers if h[2] is not None and not h[3] and h[0] not in self.fn_args]
        if not cands:
            return None
        h, kinds, ret, _ = self.pick(cands)
        name = self.new("hof")
        qs = ", ".join(f"q{i}" for i in range(len(kinds)))
        self.helpers.append((name, kinds, ret, False))
        self.fn_args[name] = f"lambda t: {h}(t) * 0.5" if kinds == [F] and self.chance(3) else h
        self.tags.add("function_args")
        return f"def {name}(fn, {qs}):\n    return 0.5 * fn({qs}) + 0.25 * fn({qs})"

    def main(self, params: list[tuple[str, Any]]) -> str:
        self.reset()
        for p, k in params:
            self.bind(p, k)
            self.params.add(p)
            if k != F:
                self.origin[p] = "arg"
        lines = [f"def prog({', '.join(p for p, _ in params)}):"]
        # the last statement: return a scalar combination of live values
        self.block(lines, 1, self.d(st.integers(2, 8)), lambda: f"    return {self.result()}")
        return "\n".join(lines)


@st.composite
def programs(draw, features: Features = ALL) -> Program:
    n = draw(st.integers(4, 6))
    g = _Gen(draw, features, n)
    params: list[tuple[str, Any]] = [("a", F)]
    if draw(st.booleans()):
        params.append(("b", F))
    if features.arrays:
        params.append(("x", A(n)))
        if draw(st.booleans()):
            params.append(("y", A(n)))
        if features.two_d and draw(st.integers(0, 5)) == 0:
            params.append(("W", (M_KIND, n, n)))
    else:
        params.append(("c", F))
    helpers = []
    if features.helpers:
        for _ in range(draw(st.integers(0, 2))):
            helpers.append(g.helper())
        if features.function_args and g.helpers and draw(st.booleans()):
            hof = g.higher_order()
            if hof is not None:
                helpers.append(hof)
    body = g.main(params)
    source = "import math\n\nimport numpy as np\n\n\n" + "".join(h + "\n\n\n" for h in helpers) + body + "\n"
    tags = set(g.tags)
    if not features.arrays and not tags & NOT_STRAIGHT:
        tags.add("sympy")        # scalar and straight-line: the oracle also asks SymPy
    return Program(source=source, params=params, n=n, tags=frozenset(tags))


NOT_STRAIGHT = {"for_loops", "while_loops", "branches", "break_continue", "early_return", "return_in_loops",
                "helpers",
                "lists_append", "lists_const_index", "list_read", "helper_loops", "helper_inplace",
                "function_args"}
