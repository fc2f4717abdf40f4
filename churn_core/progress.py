"""The progress callback every long step of the library accepts.

A step calls ``progress(share, message)`` with ``share`` from 0 to 1 and a short
sentence; the dashboard draws a progress bar, the command line logs the message.
The library never imports a UI to do so.
"""

from __future__ import annotations

from collections.abc import Callable

#: ``progress(share_done, message)``; steps take ``progress: Progress | None = None``.
Progress = Callable[[float, str], None]
