"""Which construct families each profile draws.

The CI profile (tests/test_fuzz.py) draws every family except those that hit a
known, not yet fixed compiler bug: each such flag names its bug (issue 9 class or
corpus case in tests/corpus/fuzz_found.py). When a fix lands, delete its line
here (one-line change) and the CI fuzzer guards the construct from then on.
"""
from .generator import ALL

CI = ALL.replace(
    self_assign=False,        # s = s / x = x / u[:] = u drops the adjoint (issue 9 class 2; fuzz_found.self_assign_*)
    return_in_loops=False,    # return inside a loop inside an if (issue 9 class 3; fuzz_found.return_in_loop_in_if)
    lists_const_index=False,  # literal list assigned by index in a loop, read twice: crash (fuzz_found.const_list_*)
    list_repeat=False,        # L = [0.0] * 3; L[i] = active: zero gradient (issue 9 class 7; fuzz_found.repeat_list_*)
    lists_in_loops=False,     # L = [] inside a loop body: IndexError in generated code (fuzz_found.list_built_in_loop)
    tuple_index=False,        # t[0] read only inside an untaken branch: TypeError in generated code (fuzz_found.tuple_read_in_untaken_branch)
    inplace_rebound=False,    # u = np.tanh(u); u[0] += a: stale value in the backward sweep (issue 9 class 4; fuzz_found.rebound_then_*)
    rebind_inputs_in_loops=False,  # s = a * a; for ...: a = b: the adjoint of s reads the new a (fuzz_found.input_rebound_in_loop*)
    cumsum_concat=False,      # np.cumsum/np.concatenate result unused on the path taken: crash in the vjp (fuzz_found.*concatenate*, cumsum_*)
    return_name=False,        # return s after an untaken early return: zero gradient (fuzz_found.return_name_after_early_return)
)
