"""A differential fuzzer for adjointc: random Python/NumPy programs, checked against
central finite differences (two step sizes) and, when scalar and straight-line,
against SymPy.

* :mod:`fuzz.generator`: hypothesis strategies for whole programs (scalars, 1-D and
  2-D arrays, for/while loops, if/elif/else, break/continue/early return at any depth,
  rebinding and self-assignment, in-place element/slice/mask writes, views, helper
  functions (with loops, modifying their arguments), lists, tuples). One flag per
  construct family in :class:`fuzz.generator.Features`.
* :mod:`fuzz.oracle`: judges one program: ok / refused (an AdjointcError) / wrong /
  value (value_and_grad's value differs) / mutated (inputs changed) / crash (any
  other exception) / skipped (no usable input point; not a failure).
* :mod:`fuzz.shrink`: a line-based shrinker (delete a statement, unwrap a block,
  drop a term of the returned sum) keeping the same failure at the same point.
* :mod:`fuzz.profiles`: ``CI``, the families the CI profile draws: all but those
  hitting a known, unfixed bug (one line each, naming the corpus case in
  tests/corpus/fuzz_found.py). Re-enable a family by deleting its line.
* :mod:`fuzz.run`: the long profile, outside pytest.
* tests/test_fuzz.py: the fast CI profile (fixed seed, a few hundred programs).

Long profile (from the repository root)::

    PYTHONPATH=. python -m tests.fuzz --programs 20000 --seed 1

options: ``--workers 2`` (processes), ``--findings DIR`` (default ``fuzz-findings``:
one shrunk program per failure, as ``<kind>-<n>.py`` with the input point and the
message in its docstring), ``--profile ci`` (only the families the CI profile
enables), ``--enable NAME`` / ``--disable NAME`` (a Features flag, repeatable),
``--points 3`` (input points per program), ``--no-shrink``. It prints a table of
counts (generated, ok, refused by error class, skipped, wrong, value, mutated,
crash; and the construct families drawn) and exits with status 1 when any
program was wrong, mutated its inputs, returned a wrong value or crashed.

The adjointc disk cache goes to a fresh temporary directory per run (removed at
the end) unless ADJOINTC_CACHE_DIR is set.
"""
import os
import sys

# the oracle reuses the corpus' reference helpers (tests/corpus), importable as `corpus`
_TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)
