"""The folder tree is the architecture: the domain never depends on the HTTP layer."""

from __future__ import annotations

import ast

from copilot.settings import PROJECT_ROOT


def imported_packages(package: str) -> set[str]:
    found = set()
    for path in (PROJECT_ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


def test_copilot_and_knowledge_base_never_import_the_api() -> None:
    assert "api" not in imported_packages("copilot")
    assert "api" not in imported_packages("knowledge_base")


def test_knowledge_base_depends_only_on_the_domain_and_settings() -> None:
    assert "evals" not in imported_packages("knowledge_base")
