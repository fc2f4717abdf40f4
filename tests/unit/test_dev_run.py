"""`./dev.sh run`: the port and the listening address it passes to streamlit (--dry-run)."""

from __future__ import annotations

import ast
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("PORT", "HOST")}
    return subprocess.run(["bash", str(ROOT / "dev.sh"), "run", *args], capture_output=True,
                          text=True, env={**clean, **env}, timeout=30, check=False)


def _option(cmd: str, name: str) -> str:
    words = cmd.split()
    return words[words.index(name) + 1]


def test_localhost_by_default() -> None:
    out = _run("--dry-run")
    assert out.returncode == 0, out.stderr
    assert _option(out.stdout, "--server.address") == "127.0.0.1"
    assert _option(out.stdout, "--server.port") == "8501"
    assert out.stdout.split()[-1] == "--sample"


def test_port_option_and_environment() -> None:
    assert _option(_run("--port", "9123", "--dry-run").stdout, "--server.port") == "9123"
    assert _option(_run("--port=9124", "--dry-run").stdout, "--server.port") == "9124"
    assert _option(_run("--dry-run", PORT="9125").stdout, "--server.port") == "9125"


def test_public_listens_on_every_interface() -> None:
    assert _option(_run("--public", "--dry-run").stdout, "--server.address") == "0.0.0.0"
    assert _option(_run("--dry-run", HOST="10.0.0.5").stdout, "--server.address") == "10.0.0.5"


@pytest.mark.parametrize("args", [("--port", "abc"), ("--port", "70000"), ("--nope",)])
def test_bad_options_are_refused_in_words(args: tuple[str, ...]) -> None:
    out = _run(*args, "--dry-run")
    assert out.returncode == 2
    assert out.stderr.strip() and "Traceback" not in out.stderr


def test_page_icon_is_a_bundled_file() -> None:
    """app.py's icon is the PNG in ui/assets (no emoji font or URL needed offline)."""
    icon = ROOT / "ui" / "assets" / "icon.png"
    assert icon.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    tree = ast.parse((ROOT / "app.py").read_text())
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
             and getattr(n.func, "attr", "") == "set_page_config"]
    assert calls
    icon_arg = next(k.value for k in calls[0].keywords if k.arg == "page_icon")
    assert not (isinstance(icon_arg, ast.Constant) and isinstance(icon_arg.value, str))
    assert "icon.png" in (ROOT / "app.py").read_text()
    assert "http" not in ast.unparse(icon_arg)
