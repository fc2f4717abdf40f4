"""docs/DESIGN.md is the library's contract: every module and name it lists exists."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DESIGN = ROOT / "docs" / "DESIGN.md"
HEADING = re.compile(r"^### (.+)$", re.M)
MODULE = re.compile(r"\b([a-z_]+(?:/[a-z_]+)*(?:\.py|/))")
# names defined in the section's code blocks, and ``name(`` calls in its prose
DEFINED = re.compile(r"^\s*(?:def|class)\s+([A-Za-z_]\w*)", re.M)
CALLED = re.compile(r"`([A-Za-z_]\w*)\(")


def _module_of(token: str) -> str:
    return "churn_core." + token.removesuffix(".py").removesuffix("/").replace("/", ".")


def sections(text: str) -> list[tuple[str, list[str], set[str]]]:
    """``(heading, modules, names)`` of every ``###`` section of the design document."""
    found = []
    marks = list(HEADING.finditer(text))
    for i, mark in enumerate(marks):
        body = text[mark.end(): marks[i + 1].start() if i + 1 < len(marks) else len(text)]
        title = mark.group(1).split("(")[0]
        modules = [_module_of(t) for t in MODULE.findall(title)]
        names = set(DEFINED.findall(body)) | set(CALLED.findall(body))
        found.append((mark.group(1), modules, names))
    return found


def test_the_parser_finds_modules_and_names():
    text = "### a.py, b/ (x)\n```python\ndef f(x)\nclass C:\n```\nsee `g(1)`\n### c.py\n"
    assert sections(text) == [("a.py, b/ (x)", ["churn_core.a", "churn_core.b"], {"f", "C", "g"}),
                              ("c.py", ["churn_core.c"], set())]


@pytest.mark.parametrize("heading,modules,names", sections(DESIGN.read_text(encoding="utf-8")),
                         ids=lambda v: v if isinstance(v, str) else None)
def test_every_module_and_name_in_the_design_document_exists(heading, modules, names):
    assert modules, f"section {heading!r} names no module"
    loaded = [importlib.import_module(m) for m in modules]
    # a name is a module's function, class or constant, or a method or field of its classes
    owners = loaded + [v for m in loaded for v in vars(m).values() if isinstance(v, type)]
    missing = sorted(n for n in names if not any(hasattr(o, n) or n in getattr(
        o, "__dataclass_fields__", {}) for o in owners))
    assert not missing, f"{heading}: {missing} not found in {modules}"
