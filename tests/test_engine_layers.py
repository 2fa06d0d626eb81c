"""Import layering of ``engine``: shared helpers below, operations beside each other, no Qt.

``geometry`` and ``padding`` hold what convolution and pooling share, so the
operation modules never import each other (not even for type checking).
Imports are read from the source, so a ``TYPE_CHECKING`` import counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parent.parent / "engine"
OPERATIONS = ("conv", "pool")
SHARED = ("geometry", "padding")


def _imports(module: str) -> set[str]:
    """Every module ``engine/<module>.py`` imports: engine siblings by bare name, others in full."""
    tree = ast.parse((ENGINE / f"{module}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                found.add(node.module or "")
            elif node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)  # from . import conv
    return found


@pytest.mark.parametrize("module", OPERATIONS)
def test_operation_modules_do_not_import_each_other(module: str) -> None:
    others = set(OPERATIONS) - {module}
    assert not _imports(module) & others


@pytest.mark.parametrize("module", SHARED)
def test_shared_modules_import_no_operation(module: str) -> None:
    assert not _imports(module) & {*OPERATIONS, "trace", "backprop", "network", "describe"}


@pytest.mark.parametrize("path", sorted(ENGINE.glob("*.py")), ids=lambda p: p.stem)
def test_engine_never_imports_qt(path: Path) -> None:
    qt = {name for name in _imports(path.stem) if name.split(".")[0] in ("PySide6", "pyqtgraph")}
    assert not qt
