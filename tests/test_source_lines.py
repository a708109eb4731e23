"""reach.sourcelines reads a def's lines off the file's syntax tree (ast) instead of
tokenizing it (inspect.getblock); the lines must be inspect.getsourcelines' exactly,
whatever the layout: they are the text adjointc differentiates and keys its cache by."""
from __future__ import annotations

import importlib.util
import inspect
import types

import numpy as np
import pytest

from adjointc import grad, reach

LAYOUTS = '''
import functools
import numpy as np


def plain(x):
    return x * 2.0


def trailing_comments(x):
    y = x * 3.0
    return y
    # a comment at the body's indentation belongs to the def
        # (deeper too)

    # after a blank line as well


def lower_comment_between(x):
    return x + 1.0
# a comment at column 0 does not
    # but one indented as the body after it does


def one_liner(x): return x * x  # no body line: no comment after it belongs to it
    # (not even an indented one)


def split_signature(a,
                    b): return a * b


def split_signature_body(a,
                         b):
    return (a
            + b)


@functools.lru_cache(maxsize=None)
def decorated(n):
    return n


@functools.wraps(plain)
# a comment between decorator and def
def decorated_comment(x):
    return x


def outer(x):
    def inner(y):
        return y * x
        # inner's comment
    z = [v * 2 for v in range(3)]
    return inner(x) + sum(z)


class K:
    def method(self, x):
        return x
        # method's comment

    @staticmethod
    def static(x):
        return x * 4.0


async def coro(x):
    return x


def form_feed(x):
    y = x * 5.0
\x0c
    return y


def last_in_file(x):
    return np.sin(x)
    # the file's last line'''


def _codes(c: types.CodeType):
    yield c
    for k in c.co_consts:
        if isinstance(k, types.CodeType):
            yield from _codes(k)


@pytest.fixture(scope="module")
def layouts(tmp_path_factory):
    path = tmp_path_factory.mktemp("layouts") / "layouts_mod.py"
    path.write_text(LAYOUTS)
    spec = importlib.util.spec_from_file_location("layouts_mod", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_def_reads_as_inspect_reads_it(layouts):
    fns = [v for v in vars(layouts).values() if inspect.isfunction(v)]
    fns += [vars(layouts.K)["method"], vars(layouts.K)["static"].__func__, layouts.decorated.__wrapped__]
    codes = [c for f in fns for c in _codes(f.__code__)]
    assert len(codes) >= 16
    for c in codes:
        assert reach._getsourcelines(c) == inspect.getsourcelines(c), c.co_name
    trailing = reach._getsourcelines(layouts.trailing_comments.__code__)[0]
    assert trailing[-1].strip() == "# after a blank line as well"  # (a case the tree alone would miss)


def test_a_function_with_trailing_comments_differentiates(layouts):
    g = grad(layouts.trailing_comments)(1.5)
    np.testing.assert_allclose(g, 3.0, rtol=1e-12)
    np.testing.assert_allclose(grad(layouts.last_in_file)(0.3), np.cos(0.3), rtol=1e-12)
    np.testing.assert_allclose(grad(layouts.form_feed)(0.3), 5.0, rtol=1e-12)
