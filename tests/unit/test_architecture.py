"""Boundaries from style.md, checked on the source: pure rules import only the standard
library; the API and the flows do not import each other."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(folder: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for path in (ROOT / folder).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
        out[str(path.relative_to(ROOT))] = names
    return out


def test_rules_use_only_the_standard_library() -> None:
    allowed = set(sys.stdlib_module_names) | {"models", "__future__"}
    bad = {f: n - allowed for f, n in _imports("models/rules").items() if n - allowed}
    assert bad == {}


def test_api_and_flows_do_not_import_each_other() -> None:
    assert {f for f, n in _imports("api").items() if "flows" in n} == set()
    assert {f for f, n in _imports("flows").items() if "api" in n} == set()
