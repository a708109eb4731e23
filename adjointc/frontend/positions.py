"""Where each libcst node of a function's source starts: (line, column), one-indexed
lines, zero-indexed columns in characters, exactly as libcst's PositionProvider gives
them (positions ignoring the whitespace and parentheses a node owns but that are not
syntactically its own).

Two ways, one answer:

* `full(module)`: libcst's own code generation, replayed with a state that records
  where every node starts (`_StartsState`): every node, at the cost of generating the
  module's text again (~7% of a large transform).
* `Starts(module, text)`, what the frontend reads: the statements and the
  expressions the lowering asks about (calls, operators, subscripts, attributes,
  comparisons, displays, and every statement it lowers) take their start from
  CPython's own parse tree of the same text (`ast`: its nodes start where libcst's do,
  for the node kinds paired here), found by walking the two trees side by side; a
  node outside the pairing (an error about a keyword argument, a lambda, a node
  sugar made) makes the full table once, and is looked up there. Where the two trees
  disagree (a construct paired wrongly, a source CPython's parser rejects, a lone
  carriage return), that subtree is left to the full table, never guessed.

tests/test_frontend.py checks both against PositionProvider over the package's own
source and the corpus.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

import libcst as cst
from libcst._add_slots import add_slots
from libcst._nodes.internal import CodegenState

_NEWLINE = re.compile(r"\r\n?|\n")


# ------------------------------------------------------------- every node
@add_slots
@dataclass(frozen=False)
class _StartsState(CodegenState):
    """libcst's code generation, recording where each node starts. The same starts
    as libcst's PositionProvider, at a fraction of its cost: no batched visit of the
    tree first (MetadataWrapper.resolve makes one even for this provider), no
    `CodeRange` per node, no token list, no regular expression for most tokens."""
    line: int = 1     # one-indexed
    column: int = 0   # zero-indexed
    starts: dict = field(default_factory=dict)
    stack: list = field(default_factory=list)

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.column += len(token)  # (indentation holds no newline)

    def add_token(self, value: str) -> None:
        if "\n" in value or "\r" in value:
            segments = _NEWLINE.split(value)
            self.line += len(segments) - 1
            self.column = len(segments[-1])
        else:
            self.column += len(value)

    def pop_trailing_newline(self) -> None:
        pass  # (no tokens are kept)

    def before_codegen(self, node: cst.CSTNode) -> None:
        self.stack.append((self.line, self.column))

    def after_codegen(self, node: cst.CSTNode) -> None:
        # (a syntactic position recorded already wins. Keyed by id(node): a node's hash is its
        # id, but computed by a Python-level __hash__, a call per lookup; the tree is kept
        # alive by its reader, so the ids are its nodes')
        self.starts.setdefault(id(node), self.stack.pop())

    def record_syntactic_position(self, node: cst.CSTNode, *, start_node: cst.CSTNode | None = None,
                                  end_node: cst.CSTNode | None = None) -> "_Syntactic":
        return _Syntactic(self, node, start_node)


class _Syntactic:
    """`with state.record_syntactic_position(node, start_node=...)`: the node starts
    here, or where `start_node` starts (a plain context manager: contextlib's costs
    more than the rest of the bookkeeping)."""
    __slots__ = ("state", "node", "start_node", "start")

    def __init__(self, state: _StartsState, node: cst.CSTNode, start_node: cst.CSTNode | None) -> None:
        self.state, self.node, self.start_node = state, node, start_node

    def __enter__(self) -> None:
        self.start = (self.state.line, self.state.column)

    def __exit__(self, *exc: object) -> None:
        st = self.state
        st.starts[id(self.node)] = st.starts[id(self.start_node)] if self.start_node is not None else self.start


def full(module: cst.Module) -> "ByNode":
    """Every node of `module` -> its start, by libcst's code generation."""
    state = _StartsState(default_indent=module.default_indent, default_newline=module.default_newline)
    module._codegen(state)
    return ByNode(module, state.starts)


class ByNode(Mapping):
    """Starts of a tree's nodes, looked up by node (held by id: see
    `_StartsState.after_codegen`). Iterating walks the tree (tests do; the frontend only
    looks nodes up)."""

    def __init__(self, module: cst.Module, by_id: dict[int, tuple[int, int]]) -> None:
        self.module, self.by_id = module, by_id

    def get(self, node: Any, default: Any = None) -> Any:
        return self.by_id.get(id(node), default)

    def __getitem__(self, node: cst.CSTNode) -> tuple[int, int]:
        return self.by_id[id(node)]

    def __contains__(self, node: object) -> bool:
        return id(node) in self.by_id

    def __iter__(self) -> Iterator[cst.CSTNode]:
        todo: list[cst.CSTNode] = [self.module]
        while todo:
            n = todo.pop()
            if id(n) in self.by_id:
                yield n
            todo.extend(reversed(n.children))

    def __len__(self) -> int:
        return len(self.by_id)


# ------------------------------------------------- the nodes the frontend asks
class Starts(Mapping):
    """The frontend's positions (see the module docstring): the paired nodes' starts
    from `ast`, any other node's from the full table, made the first time one is asked."""

    def __init__(self, module: cst.Module, text: str) -> None:
        self.module = module
        self.paired = _paired(module, text)
        self._full: ByNode | None = None

    def everything(self) -> ByNode:
        if self._full is None:
            self._full = full(self.module)
        return self._full

    def get(self, node: Any, default: Any = None) -> Any:
        p = self.paired.get(id(node))
        return p if p is not None else self.everything().get(node, default)

    def __getitem__(self, node: cst.CSTNode) -> tuple[int, int]:
        p = self.paired.get(id(node))
        return p if p is not None else self.everything()[node]

    def __contains__(self, node: object) -> bool:
        return id(node) in self.paired or node in self.everything()

    def __iter__(self) -> Iterator[cst.CSTNode]:
        return iter(self.everything())

    def __len__(self) -> int:
        return len(self.everything())


def _paired(module: cst.Module, text: str) -> dict[int, tuple[int, int]]:
    """id(node) -> start, for the nodes of `module` paired with `ast`'s (see `_Pairing`);
    none when CPython's parser reads the text otherwise than libcst may."""
    if "\r" in text.replace("\r\n", ""):
        return {}  # (a lone carriage return ends a line for libcst, not for CPython's tokenizer)
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return {}  # (a construct of another Python version: the full table answers)
    p = _Pairing(text)
    p.block(module.body, tree.body)
    return p.found


# libcst's expression class -> ast's: nodes that start at the same place in both (an
# ast.Tuple or GeneratorExp counts its own parentheses, libcst's does not: not paired)
_EXPR = {cst.Attribute: ast.Attribute, cst.Call: ast.Call, cst.Subscript: ast.Subscript,
         cst.BinaryOperation: ast.BinOp, cst.UnaryOperation: ast.UnaryOp, cst.BooleanOperation: ast.BoolOp,
         cst.Comparison: ast.Compare, cst.IfExp: ast.IfExp, cst.List: ast.List, cst.Set: ast.Set,
         cst.Dict: ast.Dict}
_SMALL = {cst.Assign: ast.Assign, cst.AugAssign: ast.AugAssign, cst.AnnAssign: ast.AnnAssign, cst.Expr: ast.Expr,
          cst.Return: ast.Return, cst.Pass: ast.Pass, cst.Break: ast.Break, cst.Continue: ast.Continue,
          cst.Assert: ast.Assert}


class _Pairing:
    """Walks a libcst tree and CPython's tree of the same text side by side, recording
    each paired node's start. A pair whose kinds do not match ends the walk of that
    subtree (its nodes are the full table's)."""

    def __init__(self, text: str) -> None:
        self.lines = _NEWLINE.split(text)  # (ast's lines: not str.splitlines, which also ends one at \f)
        self.found: dict[int, tuple[int, int]] = {}

    def at(self, c: cst.CSTNode, a: Any) -> None:
        col = a.col_offset  # (UTF-8 bytes into the line: libcst counts characters)
        line = self.lines[a.lineno - 1] if a.lineno <= len(self.lines) else ""
        if col and not line.isascii():
            col = len(line.encode("utf-8")[:col].decode("utf-8", "replace"))
        self.found[id(c)] = (a.lineno, col)

    # ---- statements
    def block(self, stmts: Any, nodes: list) -> None:
        i = 0
        for c in stmts:
            smalls = c.body if isinstance(c, cst.SimpleStatementLine) else (c,)
            for s in smalls:
                if i >= len(nodes):
                    return
                if not self.stmt(s, nodes[i]):
                    return  # (out of step: the rest of the block is the full table's)
                i += 1

    def suite(self, body: Any, nodes: list) -> None:
        # (an indented block, or statements after the colon: `if x: y = 1; z = 2`)
        self.block(body.body, nodes)

    def stmt(self, c: cst.CSTNode, a: Any) -> bool:
        t = type(c)
        if t in _SMALL:
            if type(a) is not _SMALL[t]:
                return False
            self.at(c, a)
            if t is cst.Assign:
                if len(c.targets) == len(a.targets):
                    for ct, at in zip(c.targets, a.targets):
                        self.expr(ct.target, at)
                self.expr(c.value, a.value)
            elif t is cst.AugAssign:
                self.expr(c.target, a.target)
                self.expr(c.value, a.value)
            elif t is cst.AnnAssign:
                self.expr(c.target, a.target)
                if c.value is not None and a.value is not None:
                    self.expr(c.value, a.value)
            elif t is cst.Expr:
                self.expr(c.value, a.value)
            elif t is cst.Return:
                if c.value is not None and a.value is not None:
                    self.expr(c.value, a.value)
            elif t is cst.Assert:
                self.expr(c.test, a.test)
            return True
        if t is cst.FunctionDef:
            if not isinstance(a, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return False
            self.at(c, a)
            self.suite(c.body, a.body)
            return True
        if t is cst.For or t is cst.While:
            if not isinstance(a, (ast.For, ast.AsyncFor) if t is cst.For else ast.While):
                return False
            self.at(c, a)
            if t is cst.For:
                self.expr(c.target, a.target)
                self.expr(c.iter, a.iter)
            else:
                self.expr(c.test, a.test)
            self.suite(c.body, a.body)
            if c.orelse is not None:
                self.suite(c.orelse.body, a.orelse)
            return True
        if t is cst.If:
            if type(a) is not ast.If:
                return False
            self.at(c, a)
            self.expr(c.test, a.test)
            self.suite(c.body, a.body)
            if isinstance(c.orelse, cst.If):  # (`elif`: ast's orelse is that one If)
                if len(a.orelse) == 1:
                    self.stmt(c.orelse, a.orelse[0])
            elif c.orelse is not None:
                self.suite(c.orelse.body, a.orelse)
            return True
        # (with, try, class, match, del, ...: the statement is counted, its nodes are not paired)
        return not isinstance(a, (ast.FunctionDef, ast.AsyncFunctionDef, ast.For, ast.While, ast.If))

    # ---- expressions
    def expr(self, c: cst.CSTNode, a: Any) -> None:
        t = type(c)
        if t is cst.Tuple:  # (its own parentheses start ast's Tuple, not libcst's: its elements pair)
            if type(a) is ast.Tuple and not c.lpar:
                self.at(c, a)
            if type(a) is ast.Tuple:
                self.elements(c.elements, a.elts)
            return
        if _EXPR.get(t) is not type(a):
            return  # (a name or a number too: the lowering never asks where one starts)
        self.at(c, a)
        if t is cst.BinaryOperation:
            self.expr(c.left, a.left)
            self.expr(c.right, a.right)
        elif t is cst.Call:
            self.expr(c.func, a.func)
            positional = [x for x in c.args if x.keyword is None and x.star != "**"]
            keywords = [x for x in c.args if x.keyword is not None or x.star == "**"]
            if len(positional) == len(a.args) and len(keywords) == len(a.keywords):
                for x, y in zip(positional, a.args):
                    if x.star == "*":
                        if type(y) is ast.Starred:
                            self.expr(x.value, y.value)
                    else:
                        self.expr(x.value, y)
                for x, k in zip(keywords, a.keywords):
                    self.expr(x.value, k.value)
        elif t is cst.Attribute:
            self.expr(c.value, a.value)
        elif t is cst.Subscript:
            self.expr(c.value, a.value)
            parts = c.slice
            if len(parts) == 1 and isinstance(parts[0].comma, cst.MaybeSentinel):
                self.index(parts[0].slice, a.slice)
            elif type(a.slice) is ast.Tuple and len(parts) == len(a.slice.elts):
                for x, y in zip(parts, a.slice.elts):
                    self.index(x.slice, y)
        elif t is cst.UnaryOperation:
            self.expr(c.expression, a.operand)
        elif t is cst.Comparison:
            self.expr(c.left, a.left)
            if len(c.comparisons) == len(a.comparators):
                for x, y in zip(c.comparisons, a.comparators):
                    self.expr(x.comparator, y)
        elif t is cst.IfExp:
            self.expr(c.test, a.test)
            self.expr(c.body, a.body)
            self.expr(c.orelse, a.orelse)
        elif t is cst.List or t is cst.Set:
            self.elements(c.elements, a.elts)
        elif t is cst.Dict:
            if len(c.elements) == len(a.keys) and all(type(e) is cst.DictElement for e in c.elements):
                for e, k, v in zip(c.elements, a.keys, a.values):
                    self.expr(e.key, k)
                    self.expr(e.value, v)
        # (BooleanOperation: ast flattens `a and b and c` into one node, libcst nests; only
        # the outermost is paired)

    def elements(self, elements: Any, elts: list) -> None:
        if len(elements) != len(elts):
            return
        for e, y in zip(elements, elts):
            if type(e) is cst.Element:
                self.expr(e.value, y)
            elif type(e) is cst.StarredElement and type(y) is ast.Starred:
                self.expr(e.value, y.value)

    def index(self, c: Any, a: Any) -> None:
        """A subscript's element: an index (`u[i]`) or a slice (`u[1:-1]`, its bounds)."""
        if type(c) is cst.Index:
            if c.star is None:
                self.expr(c.value, a)
        elif type(c) is cst.Slice and type(a) is ast.Slice:
            for x, y in ((c.lower, a.lower), (c.upper, a.upper), (c.step, a.step)):
                if x is not None and y is not None:
                    self.expr(x, y)
