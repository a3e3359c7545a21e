"""Every handler module stays thin: few internal imports, none of services, the database or
the settings, no handler with more than four parameters besides the event, and the members'
dialog module small enough to read in one sitting."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
THIN = sorted(
    str(path.relative_to(ROOT))
    for path in (ROOT / "handlers").glob("*.py")
    if path.name != "__init__.py"
)
INTERNAL = ("bot", "handlers", "db")
MAX_INTERNAL_MODULES = 6
MAX_PARAMETERS = 4  # besides the event


def internal_modules(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] not in INTERNAL:
                continue
            # `from bot.risk import views` imports the module bot.risk.views
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                module_file = ROOT / (candidate.replace(".", "/") + ".py")
                found.add(candidate if module_file.exists() else node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] in INTERNAL}
    return found


@pytest.mark.parametrize("path", THIN)
def test_a_handler_module_imports_use_cases_and_views_only(path: str) -> None:
    modules = internal_modules(ast.parse((ROOT / path).read_text(encoding="utf-8")))
    assert len(modules) <= MAX_INTERNAL_MODULES, sorted(modules)
    forbidden = [
        module
        for module in modules
        if module.split(".")[0] == "db" or module.endswith(".service") or module == "bot.app.config"
    ]
    assert forbidden == []


@pytest.mark.parametrize("path", THIN)
def test_no_handler_takes_more_than_four_parameters_besides_the_event(path: str) -> None:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    wide = [
        node.name
        for node in tree.body
        if isinstance(node, ast.AsyncFunctionDef)
        and len(node.args.args) + len(node.args.kwonlyargs) - 1 > MAX_PARAMETERS
    ]
    assert wide == []


def test_the_members_dialog_handlers_fit_in_400_lines() -> None:
    lines = (ROOT / "handlers/reporting.py").read_text(encoding="utf-8").count("\n")
    assert lines < 400
