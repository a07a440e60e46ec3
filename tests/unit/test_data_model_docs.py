"""docs/data-model.md lists every timeline event kind the code writes, and every index of the table.

Kinds are collected from chalicelib's source with `ast`: the `kind` argument of each `TimelineEvent(...)`,
and of each call to an *event helper*, a function that passes its own `kind` parameter on as the kind of
a `TimelineEvent` or of another helper (`TaskTimeline.note`, `InboundEmailService._file`, ...). A kind
given as a literal, a conditional of literals, or a name bound to them (in the function, the module, or
imported from another chalicelib module) is resolved; anything else fails the test, naming the call, so
that a new way of naming kinds is taught to this test rather than slipping past it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from chalicelib.adapters.dynamodb import schema

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "chalicelib"
DOCS = (ROOT / "docs" / "data-model.md").read_text()
#: The kind's position among TimelineEvent's arguments: TimelineEvent(at, kind, text, actor, data).
EVENT_KIND_POSITION = 1
#: A position no call reaches: the kind of a helper whose `kind` is keyword-only is found by name only.
KEYWORD_ONLY = 1_000


def documented_kinds() -> set[str]:
    section = DOCS.split("## Timeline event kinds", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, re.MULTILINE))


def _modules() -> dict[str, ast.Module]:
    return {
        ".".join(path.relative_to(ROOT).with_suffix("").parts): ast.parse(path.read_text(), str(path))
        for path in sorted(SOURCE.rglob("*.py"))
    }


def _called(call: ast.Call) -> str:
    return call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")


def _argument(call: ast.Call, position: int, name: str = "kind") -> ast.expr | None:
    keyword = next((k.value for k in call.keywords if k.arg == name), None)
    return keyword if keyword is not None else (call.args[position] if position < len(call.args) else None)


def _functions(tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def _kind_position(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int | None:
    """Where a caller puts `kind` among the positional arguments (`self` and `cls` not counted);
    KEYWORD_ONLY if it can only be named, None if the function has no `kind` parameter."""
    names = [a.arg for a in function.args.posonlyargs + function.args.args]
    if "kind" not in names:
        return KEYWORD_ONLY if "kind" in (a.arg for a in function.args.kwonlyargs) else None
    return names.index("kind") - (1 if names and names[0] in ("self", "cls") else 0)


def _helpers(modules: dict[str, ast.Module]) -> dict[str, int]:
    """Event helpers by name -> the position of their `kind` argument, to a fixpoint (helpers of helpers)."""
    helpers = {"TimelineEvent": EVENT_KIND_POSITION}
    while True:
        found = dict(helpers)
        for tree in modules.values():
            for function in _functions(tree):
                position = _kind_position(function)
                if position is None or function.name in found:
                    continue
                for call in (n for n in ast.walk(function) if isinstance(n, ast.Call)):
                    passed = _argument(call, helpers[_called(call)]) if _called(call) in helpers else None
                    if isinstance(passed, ast.Name) and passed.id == "kind":
                        found[function.name] = position
        if found == helpers:
            return helpers
        helpers = found


def _constants(tree: ast.Module | ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, ast.expr]:
    """Names bound by plain assignments directly in the body (module constants, a function's locals)."""
    nodes = ast.walk(tree) if not isinstance(tree, ast.Module) else iter(tree.body)
    bound: dict[str, ast.expr] = {}
    for node in nodes:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            bound.setdefault(node.targets[0].id, node.value)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            bound.setdefault(node.target.id, node.value)
    return bound


def _imports(tree: ast.Module) -> dict[str, tuple[str, str | None]]:
    """Local name -> (module, name in it), or (module, None) for an imported module."""
    found: dict[str, tuple[str, str | None]] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                found[alias.asname or alias.name] = (node.module, alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                found[alias.asname or alias.name] = (alias.name, None)
    return found


def _literals(value: ast.expr, scopes: list[dict[str, ast.expr]], module: str, modules: dict) -> set[str] | None:
    """The strings `value` can be, or None if it is not made of literals this test can follow."""
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return {value.value}
    if isinstance(value, ast.IfExp):
        branches = [_literals(v, scopes, module, modules) for v in (value.body, value.orelse)]
        return None if None in branches else set().union(*branches)
    if isinstance(value, ast.Name):
        for scope in scopes:
            if value.id in scope:
                return _literals(scope[value.id], scopes[1:], module, modules)
        source, name = _imports(modules[module]).get(value.id, ("", None))
        if source in modules and name is not None:
            return _literals(ast.Name(name), [_constants(modules[source])], source, modules)
    if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name):
        source, name = _imports(modules[module]).get(value.value.id, ("", None))
        source = source if name is None else f"{source}.{name}"
        if source in modules:
            return _literals(ast.Name(value.attr), [_constants(modules[source])], source, modules)
    return None


def _calls(node: ast.AST, function: ast.FunctionDef | ast.AsyncFunctionDef | None = None):
    """Every call under `node`, with the innermost function it is in (None at module level)."""
    for child in ast.iter_child_nodes(node):
        inner = child if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
        if isinstance(child, ast.Call):
            yield child, function
        yield from _calls(child, inner)


def _parameters(function: ast.FunctionDef | ast.AsyncFunctionDef | None) -> set[str]:
    if function is None:
        return set()
    arguments = function.args
    return {a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs}


def used_kinds() -> tuple[dict[str, list[str]], list[str]]:
    """Kind -> where it is written, and the calls whose kind could not be resolved."""
    modules = _modules()
    helpers = _helpers(modules)
    kinds: dict[str, list[str]] = {}
    unresolved: list[str] = []
    for module, tree in modules.items():
        module_scope = _constants(tree)
        for call, function in _calls(tree):
            if _called(call) not in helpers:
                continue
            passed = _argument(call, helpers[_called(call)])
            if passed is None:
                continue
            if isinstance(passed, ast.Name) and passed.id == "kind" and "kind" in _parameters(function):
                continue  # a helper handing its own `kind` on: its callers are checked
            if isinstance(passed, ast.Attribute) and passed.attr == "kind":
                continue  # an event rebuilt from a stored one (`item.kind`): no new kind
            scopes = [_constants(function), module_scope] if function else [module_scope]
            found = _literals(passed, scopes, module, modules)
            where = f"{module}:{call.lineno}"
            if found is None:
                unresolved.append(f"{where}: {ast.unparse(call)[:100]}")
            for kind in found or ():
                kinds.setdefault(kind, []).append(where)
    return kinds, unresolved


def test_every_timeline_kind_the_code_writes_is_documented():
    kinds, unresolved = used_kinds()
    assert not unresolved, f"timeline kinds this test cannot read (use a literal, or teach the test): {unresolved}"
    missing = {kind: where for kind, where in sorted(kinds.items()) if kind not in documented_kinds()}
    assert not missing, f"add these timeline event kinds to docs/data-model.md: {missing}"


def test_the_collector_sees_kinds_written_in_each_way():
    """Through TimelineEvent, the services' `_event` helpers, a conditional, and an inbound-mail helper."""
    kinds, _ = used_kinds()
    assert {"issue_opened", "sla_swept", "type_confirmed", "auto_closed", "moved_on", "delivery_failed"} <= set(kinds)


def test_every_index_is_documented():
    indexes = DOCS.split("## Indexes", 1)[1].split("\n## ", 1)[0]
    for name, keys in schema.GLOBAL_SECONDARY_INDEXES.items():
        row = next((line for line in indexes.splitlines() if line.startswith(f"| {name} ")), "")
        assert row and all(key in row for key in keys), f"document index {name} ({', '.join(keys)})"
