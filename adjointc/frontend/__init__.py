"""The frontend: Python source -> IR, `lower(fn)`; the only package that imports libcst.

No module outside adjointc/frontend/ knows libcst's node types
(tests/test_frontend.py holds that): source.py reads the def (and finds a lambda's;
positions.py says where each node starts),
expressions.py lowers the structure of expressions, resolve.py says what names mean,
statements.py lowers statements (sugar.py the everyday forms, comprehensions.py
comprehensions and dict displays, nested.py nested defs and lambdas). Its allow-list
is the fence: every construct not handled raises `UnsupportedSyntax` naming file,
line and column. While lowering it

* resolves every name (resolve.py): parameter, local, temporary, `math`/`numpy`
  attribute or builtin (-> a rule's canonical op), module global or closure
  cell (-> an inactive constant, read at call time), user function (`call:f`);
* normalises to three-address form: one primitive per `Assign`, operands are
  names or constants (conditions and index expressions stay nested: they are
  never differentiated); `a += b` -> `a = a + b`; tuple assignment through
  temporaries; a statement never reads its own target (`z = z * z` becomes
  `_t = z * z; z = _t`), which the reverse transform relies on;
* makes control flow explicit for the reverse transform: an `if` test is
  stored in a `_cond` variable, a loop's range in a `_range` variable, loops
  over arrays/enumerate/zip become index loops, `a if c else b` becomes an
  `if` statement; code after a jump is not lowered (it never runs);
* inlines calls of nested defs and of lambdas bound to a name or called where written
  (they may read the enclosing function's variables: nested.py, which splices them
  with passes/inline.splice); a function passed as an argument specialises the callee
  on it (resolve.py, funcvals.py).

`lower_raw` stops there: that is the pipeline's `lower` pass. Then
passes/normalize.py (the `normalize` pass; `lower` = both) structures the control
flow on the IR (statements after a `break`/`continue` move into the `else` of the
`if` that holds it, returns in loops become flags, fall-through is detected), and
renames user variables named `*_bar` so they never meet generated adjoints.
"""
from .statements import Lowered, Lowerer, lower, lower_raw  # noqa: F401
from .source import _LIBRARY_ROOTS, def_loc, has_source, refuse_def_form  # noqa: F401

__all__ = ["Lowered", "Lowerer", "lower", "lower_raw", "def_loc", "has_source", "refuse_def_form"]
