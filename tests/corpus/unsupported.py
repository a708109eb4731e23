"""Constructs adjointc does not differentiate. Each must raise UnsupportedSyntax or
NoAdjointRule naming this file and the line marked `# <- unsupported`, with a hint."""
import math
import statistics
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.special

from adjointc import NoAdjointRule, UnsupportedSyntax

COUNTER = 0


@dataclass
class Unsupported:
    fn: Any
    args: tuple
    error: type
    wrt: Any = 0


def _square(t):
    return t * t


def _cube(t):
    return t * t * t


def chooses_a_function_by_a_branch(x):
    f = _square if x > 0.0 else _cube  # <- unsupported
    return f(x)


def calls_a_function_from_a_list(x):
    fs = [_square, _cube]  # <- unsupported
    return fs[1](x)


def passes_a_closure_lambda_to_a_helper(x, k):
    return _apply(lambda t: k * t, x)  # <- unsupported


def _apply(g, v):
    return g(v) * v


def calls_a_function_argument_chosen_at_run_time(fs, x):
    return fs[0](x)  # <- unsupported


def function_values_in_a_dict(x):
    ops = {"sq": _square}  # <- unsupported
    return ops["sq"](x)


def comprehension_in_a_condition(x):
    if x[0] > 0.0 and sum(v for v in x) > 0.0:  # <- unsupported
        return np.sum(x * x)
    return np.sum(x)


def uses_try_except(x):
    y = x + 1.0
    try:  # <- unsupported
        y = math.log(y)
    except ValueError:
        y = 0.0
    return y


def uses_with(x):
    y = x * 3.0
    with np.errstate(all="ignore"):  # <- unsupported
        y = np.log(y)
    return y


def defines_class(x):
    y = x

    class Point:  # <- unsupported
        pass
    return y * y


def uses_global(x):
    global COUNTER  # <- unsupported
    COUNTER = COUNTER + 1
    return x * x


def uses_nested_def(x):
    y = x + 1.0

    @staticmethod
    def helper(t):  # <- unsupported
        return t * t
    return y * 2.0


def uses_del(x):
    y = x * x
    z = y + 1.0
    del y  # <- unsupported
    return z


def calls_scipy_without_rule(x):
    y = x * 0.5
    z = scipy.special.struve(0.0, y)  # <- unsupported
    return z * x


def calls_stdlib_without_rule(x, y):
    m = statistics.fmean([x, y])  # <- unsupported
    return m * m


def uses_walrus(x):
    y = x * 2.0
    z = (w := y + 1.0) * y  # <- unsupported
    return z + w


def uses_dict_unpacking(x):
    base = {"a": x}
    params = {**base, "b": x}  # <- unsupported
    return params["b"] * 2.0


def uses_fstring(x):
    label = f"{x}"  # <- unsupported
    return x * x


def assigns_attribute(x):
    y = np.zeros(2)
    y.flags.writeable = False  # <- unsupported
    return x * x


def imports_inside(x):
    import cmath  # <- unsupported
    return x * x


def uses_raise(x):
    if x < 0.0:
        raise ValueError("negative")  # <- unsupported
    return math.sqrt(x)


def calls_unknown_method(x):
    y = np.sin(x)
    z = y.tobytes()  # <- unsupported
    return np.sum(y)


def loops_over_dict_keys(d, x):
    s = 0.0
    for k in d:  # <- unsupported
        s = s + d[k] * x
    return s


def modifies_dict_argument(p, x):
    p["w"] = p["w"] * 2.0  # <- unsupported
    return p["w"] * x


def computes_but_returns_nothing(x):  # <- unsupported
    y = x * 2.0
    y = y + 1.0


def library_call_as_statement(x):
    v = np.array([x, 2.0 * x, 3.0])
    np.random.shuffle(v)  # <- unsupported
    return np.sum(v * v)


async def is_async(x):  # <- unsupported
    return x * x


def is_generator(x):  # <- unsupported
    yield x * x


def falls_off_the_end(x):  # <- unsupported
    y = x * 2.0
    if x > 0.0:
        return y


CASES = [
    Unsupported(loops_over_dict_keys, ({"a": 1.0, "b": 2.0}, 0.5), UnsupportedSyntax, wrt=1),
    Unsupported(modifies_dict_argument, ({"w": 1.0}, 0.5), UnsupportedSyntax, wrt=1),
    Unsupported(computes_but_returns_nothing, (1.5,), UnsupportedSyntax),
    Unsupported(library_call_as_statement, (1.5,), UnsupportedSyntax),
    Unsupported(chooses_a_function_by_a_branch, (1.5,), UnsupportedSyntax),
    Unsupported(calls_a_function_from_a_list, (1.5,), UnsupportedSyntax),
    Unsupported(passes_a_closure_lambda_to_a_helper, (1.5, 0.5), UnsupportedSyntax),
    Unsupported(calls_a_function_argument_chosen_at_run_time, ((_square, _cube), 1.5), UnsupportedSyntax, 1),
    Unsupported(function_values_in_a_dict, (1.5,), UnsupportedSyntax),
    Unsupported(comprehension_in_a_condition, (np.array([1.0, 2.0]),), UnsupportedSyntax),
    Unsupported(uses_try_except, (1.5,), UnsupportedSyntax),
    Unsupported(uses_with, (1.5,), UnsupportedSyntax),
    Unsupported(defines_class, (1.5,), UnsupportedSyntax),
    Unsupported(uses_global, (1.5,), UnsupportedSyntax),
    Unsupported(uses_nested_def, (1.5,), UnsupportedSyntax),
    Unsupported(uses_del, (1.5,), UnsupportedSyntax),
    Unsupported(calls_scipy_without_rule, (1.5,), NoAdjointRule),
    Unsupported(calls_stdlib_without_rule, (1.5, 0.5), NoAdjointRule, (0, 1)),
    Unsupported(uses_walrus, (1.5,), UnsupportedSyntax),
    Unsupported(uses_dict_unpacking, (1.5,), UnsupportedSyntax),
    Unsupported(uses_fstring, (1.5,), UnsupportedSyntax),
    Unsupported(assigns_attribute, (1.5,), UnsupportedSyntax),
    Unsupported(imports_inside, (1.5,), UnsupportedSyntax),
    Unsupported(uses_raise, (1.5,), UnsupportedSyntax),
    Unsupported(calls_unknown_method, (np.array([0.5, 1.0]),), UnsupportedSyntax),
    Unsupported(is_async, (1.5,), UnsupportedSyntax),
    Unsupported(is_generator, (1.5,), UnsupportedSyntax),
    Unsupported(falls_off_the_end, (1.5,), UnsupportedSyntax),
    Unsupported(falls_off_the_end, (-1.5,), UnsupportedSyntax),
]
