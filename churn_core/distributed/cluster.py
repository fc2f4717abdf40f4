"""The Dask client: a running scheduler (``--scheduler ADDRESS``) or a local cluster.

Dask is imported here, lazily: :func:`require_dask` turns a missing install into a
:class:`~churn_core.problems.ChurnDataError` that says what to install.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
from collections.abc import Iterator
from typing import Any

from churn_core.problems import ChurnDataError, Problem

log = logging.getLogger(__name__)

LOCAL_WORKERS = 2
LOCAL_PROCESSES = True  # local workers as processes (tests use threads: lighter)
CONNECT_TIMEOUT_S = 10
INSTALL_HINT = "install the Dask extra: pip install -r requirements-dask.txt"


def require_dask() -> None:
    """Import dask, distributed and xgboost.dask, or explain what to install.

    Raises
    ------
    ChurnDataError
        ``DASK_NOT_INSTALLED`` when one of them cannot be imported.
    """
    for name in ("dask.dataframe", "distributed", "xgboost.dask"):
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ChurnDataError([Problem(
                "DASK_NOT_INSTALLED", "error",
                f"--engine dask needs Dask, which is not installed ({exc}).",
                action=INSTALL_HINT)]) from None


def _unreachable(address: str, exc: BaseException) -> ChurnDataError:
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return ChurnDataError([Problem(
        "DASK_SCHEDULER_UNREACHABLE", "error",
        f"Could not reach a Dask scheduler at {address!r}: {detail}.",
        values=(address,),
        action="check the address (for example tcp://host:8786) and that the scheduler "
        "runs, or leave --scheduler out to start a local cluster")])


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, *, workers: int = LOCAL_WORKERS,
                processes: bool | None = None, memory_limit: str | None = None,
                timeout_s: float | None = None) -> Iterator[Any]:
    """A ``distributed.Client`` for the duration of the block.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``). None starts a
        ``LocalCluster`` of ``workers`` workers with one thread each, closed on exit.
    workers : int
        Workers of the local cluster.
    processes : bool, optional
        Local workers as processes (default :data:`LOCAL_PROCESSES`); ``False`` runs them
        as threads of this process.
    memory_limit : str, optional
        Memory per local worker (Dask's default: the machine's memory shared out).
    timeout_s : float, optional
        How long to try to reach ``scheduler`` (default :data:`CONNECT_TIMEOUT_S`).

    Raises
    ------
    ChurnDataError
        ``DASK_NOT_INSTALLED``; ``DASK_SCHEDULER_UNREACHABLE`` when the address is
        malformed or nothing answers there in time.
    """
    require_dask()
    from distributed import Client, LocalCluster

    if scheduler is None:
        kwargs: dict[str, Any] = {"n_workers": workers, "threads_per_worker": 1,
                                  "processes": LOCAL_PROCESSES if processes is None else processes,
                                  "dashboard_address": None}
        if memory_limit is not None:
            kwargs["memory_limit"] = memory_limit
        with LocalCluster(**kwargs) as cluster, Client(cluster) as client:
            log.info("local Dask cluster: %d workers", workers)
            yield client
        return
    try:
        client = Client(scheduler, timeout=f"{timeout_s or CONNECT_TIMEOUT_S}s")
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise _unreachable(scheduler, exc) from None
    try:
        log.info("Dask scheduler %s: %d workers", scheduler,
                 len(client.scheduler_info().get("workers", {})))
        yield client
    finally:
        client.close()
