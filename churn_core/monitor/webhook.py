"""An optional JSON POST after a run: bounded in time, retried, never fatal.

A scheduler's run must not hang or fail because a chat or incident endpoint is
slow or down: every attempt has a timeout, server errors and network failures
are retried a few times with a short back-off, and whatever happens the result
is returned (and logged as a warning), never raised.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebhookResult:
    """What happened to the POST.

    Attributes
    ----------
    ok : bool
        A 2xx answer arrived.
    attempts : int
    status : int or None
        HTTP status of the last answer (None without one).
    error : str
        Why it failed ("" when ok).
    seconds : float
        Time spent in all.
    """

    ok: bool
    attempts: int
    status: int | None
    error: str
    seconds: float


def post_json(url: str, payload: dict[str, Any], *, timeout: float = 5.0, retries: int = 2,
              backoff: float = 0.5) -> WebhookResult:
    """POST ``payload`` as JSON to ``url``; never raises.

    Parameters
    ----------
    url : str
        ``http://`` or ``https://`` address (anything else is refused unsent).
    payload : dict
        JSON-serialisable body.
    timeout : float
        Seconds per attempt (connect and read).
    retries : int
        Further attempts after a timeout, a network error or a 5xx answer
        (a 4xx answer is not retried: the request itself is wrong).
    backoff : float
        Seconds before the first retry, doubled each time.

    Returns
    -------
    WebhookResult
        At most ``(retries + 1) * timeout + backoff * (2 ** retries - 1)`` seconds later.
    """
    start = time.monotonic()
    if urlsplit(url).scheme not in ("http", "https"):
        log.warning("webhook not sent: %r is not an http(s) address", url)
        return WebhookResult(False, 0, None, "not an http(s) address", 0.0)
    body = json.dumps(payload, allow_nan=False, default=str).encode("utf-8")
    status: int | None = None
    error = ""
    attempts = 0
    for attempt in range(retries + 1):
        attempts = attempt + 1
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json", "User-Agent": "churn-radar-monitor"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
                status = answer.status
            return WebhookResult(True, attempts, status, "", time.monotonic() - start)
        except urllib.error.HTTPError as exc:
            status, error = exc.code, f"HTTP {exc.code}"
            if exc.code < 500:
                break
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            status, error = None, str(getattr(exc, "reason", exc)) or type(exc).__name__
        if attempt < retries:
            time.sleep(backoff * 2**attempt)
    seconds = time.monotonic() - start
    log.warning("webhook to %s failed after %d attempt(s) in %.1f s: %s", url, attempts,
                seconds, error)
    return WebhookResult(False, attempts, status, error, seconds)
