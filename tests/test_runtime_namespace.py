"""The namespace generated code imports from: adjointc.runtime plus the rule helpers.

Generated adjoints import every helper they call with one line,
`from adjointc.runtime import ...` (codegen.RUNTIME_NAMES). The helpers rule
templates call live in adjointc/rules/helpers/ and join runtime's namespace when
the rules load; runtime itself never imports them (no import cycle)."""
from __future__ import annotations

import ast
import inspect
import subprocess
import sys

from adjointc import codegen, runtime
from adjointc.rules import REGISTRY, helpers, parse_template
from adjointc.ir import Call


def test_every_helper_is_importable_from_runtime_and_known_to_codegen():
    assert len(helpers.__all__) > 60
    for name in helpers.__all__:
        assert getattr(runtime, name) is getattr(helpers, name), name
        assert name in codegen.RUNTIME_NAMES, name


def test_runtime_imports_nothing_from_the_rules():
    tree = ast.parse(inspect.getsource(runtime))
    modules = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    modules += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in modules if "rules" in m or "helpers" in m], modules


def test_a_fresh_process_finds_the_helpers_through_runtime():
    """What a cached adjoint does when loaded in a new process: import adjointc.runtime only."""
    code = "from adjointc.runtime import matmul_lhs, einsum_vjp, unbroadcast; print(matmul_lhs.__module__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "adjointc.rules.helpers.linalg"


def _called_names(e) -> set[str]:
    """Plain names a parsed template calls (`matmul_lhs(...)`; not `np.sum`, operators, methods)."""
    if not isinstance(e, Call):
        return set()
    out = {e.op} if e.op.isidentifier() else set()
    for a in list(e.args) + [v for _, v in e.kwargs]:
        out |= _called_names(a)
    return out


def test_every_name_a_builtin_template_calls_is_in_the_generated_namespace():
    syntax = set(REGISTRY) | {"getitem", "slice", "tuple", "list", "ifexp", "and", "or"}  # operators, not calls
    namespace = set(codegen.RUNTIME_NAMES) | syntax | {"len", "abs", "float", "int", "sum", "min", "max"}
    missing = set()
    for rule in REGISTRY.values():
        for t in (rule.templates or {}).values():
            for item in (t if isinstance(t, list) else [t]):
                if isinstance(item, str):
                    missing |= _called_names(parse_template(item)) - namespace
    assert not missing, sorted(missing)
