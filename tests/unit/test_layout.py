"""The layout rules a newcomer relies on: imports point one way, pages use the facade."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "churn_core"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top_level_imports(path: Path) -> set[str]:
    """Modules a module depends on: its top-level imports, ``if TYPE_CHECKING:`` ones
    included (a circle of types is still a circle), imports inside functions not."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    body = list(tree.body)
    body += [n for node in tree.body if isinstance(node, ast.If)
             and "TYPE_CHECKING" in ast.unparse(node.test) for n in node.body]
    for node in body:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    """Module -> library modules it needs. Importing ``a.b.c`` also runs the ``a.b``
    package's ``__init__`` (counted, unless the importer is inside that package)."""
    modules = {_module_name(p): p for p in LIBRARY.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        needed = {m for m in _top_level_imports(path) if m in modules}
        parents = {".".join(m.split(".")[:i]) for m in needed for i in range(2, m.count(".") + 1)}
        needed |= {pkg for pkg in parents if pkg in modules and not name.startswith(pkg + ".")}
        graph[name] = needed - {name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt.startswith(node + "."):  # a package importing its own submodules
                continue
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_library_modules_import_each_other_without_a_circle():
    graph = _graph()
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_a_circle_is_found_when_there_is_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_the_library_never_imports_streamlit():
    for path in LIBRARY.rglob("*.py"):
        imported = {m.split(".")[0] for m in _top_level_imports(path)}
        text = path.read_text(encoding="utf-8")
        assert "streamlit" not in imported and "import streamlit" not in text, path


def test_a_refused_setting_is_one_error_type_the_command_line_reports(tmp_path, capsys):
    import pytest

    from churn_core.__main__ import main
    from churn_core.model import TrainConfig
    from churn_core.problems import InvalidSetting
    from churn_core.reading.table import ReadOptions
    from churn_core.schema import SchemaOverrides
    from churn_core.threshold import Economics

    for make in (lambda: TrainConfig(cv_folds=1), lambda: Economics(success_rate=2.0),
                 lambda: ReadOptions(delimiter=";;"),
                 lambda: SchemaOverrides(column_types={"a": "bogus"})):
        with pytest.raises(InvalidSetting):
            make()
    data = tmp_path / "t.csv"
    data.write_text("id,x,churn\n1,2,0\n2,3,1\n")
    assert main(["check", str(data), "--delimiter", ";;"]) == 2
    assert "BAD_SETTING" in capsys.readouterr().err


def test_the_console_script_runs_the_command_line():
    import importlib
    import shutil
    import subprocess
    import sys
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["build-system"]["build-backend"] == "setuptools.build_meta"
    module, _, func = project["project"]["scripts"]["churn-radar"].partition(":")
    assert callable(getattr(importlib.import_module(module), func))
    script = shutil.which("churn-radar", path=str(Path(sys.executable).parent))
    if script:  # installed by ./dev.sh setup (pip install -e .)
        run = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=120)
        assert run.returncode == 0 and "train" in run.stdout


def _library_imports(path: Path) -> set[str]:
    """Every ``churn_core`` module or name ``path`` imports, wherever the import is."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("churn_core"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("churn_core"):
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def _allowed(name: str) -> bool:
    """The facade and the chart builders (``from churn_core import pipeline, charts``)."""
    parts = name.split(".")
    if parts[:2] == ["churn_core", "pipeline"]:
        return True
    return any(p == "charts" or p.startswith("charts_") for p in parts[1:3])


def test_pages_and_ui_import_only_the_facade_and_the_charts():
    offenders = {str(p.relative_to(ROOT)): sorted(n for n in _library_imports(p)
                                                   if not _allowed(n))
                 for p in [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")),
                           *sorted((ROOT / "ui").rglob("*.py"))]}
    assert not {k: v for k, v in offenders.items() if v}, offenders


def test_the_import_rule_rejects_a_library_module():
    assert _allowed("churn_core.pipeline") and _allowed("churn_core.pipeline.fit_all")
    assert _allowed("churn_core.charts") and _allowed("churn_core.money.charts")
    assert _allowed("churn_core.charts_campaigns")
    assert not _allowed("churn_core.events.spill") and not _allowed("churn_core.export")


def test_every_facade_name_resolves():
    from churn_core import pipeline

    assert not [n for n in pipeline.__all__ if not hasattr(pipeline, n)]
