"""Event-log uploads: a private file per upload, replaced files removed, a guarded proposal."""

from __future__ import annotations

import shutil
from pathlib import Path

from churn_core.pipeline import is_upload_file, propose_mapping_guarded, upload_file
from ui.cache import UPLOAD_MEMORY_MB

PROPOSE_TIMEOUT_S = 180


def save_events_upload(data: bytes, name: str, *, replaces: str | None = None) -> str:
    """Write an uploaded event log to a private file (DuckDB reads files, not bytes).

    The upload it ``replaces`` (this session's previous one) is deleted; every upload
    is removed when the server process ends (or, if it was killed, when the next one
    starts).
    """
    if replaces and is_upload_file(Path(replaces)):
        shutil.rmtree(Path(replaces).parent, ignore_errors=True)
    path = upload_file(name)
    path.write_bytes(data)
    return str(path)


def propose_events(path: str) -> tuple[object, list[str]]:
    """The proposed mapping and the column names, worked out in a child process with time
    and memory limits (a hostile file ends with READ_TIMEOUT / READ_OUT_OF_MEMORY)."""
    return propose_mapping_guarded(path, timeout_s=PROPOSE_TIMEOUT_S, memory_mb=UPLOAD_MEMORY_MB)
