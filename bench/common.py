"""Shared benchmark helpers: step timing, peak memory, child processes, result files.

Peak memory is the peak resident set size (RSS) of the process, sampled by a
background thread reading ``VmRSS`` from ``/proc/self/status`` every few
milliseconds, so each step gets its own peak (``ru_maxrss`` only knows the
peak of the whole process lifetime). Each contender runs in its own child
process (:func:`run_child`) so that one contender's memory never counts
against another; the child also reports the kernel's lifetime peak
(``VmHWM``), which catches spikes shorter than the sampling interval.
``tracemalloc`` (Python allocations only, and slow) is optional.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
RESULT_PREFIX = "RESULT "
GB = 1024**3


def _status_kib(key: str) -> int:
    """Return a ``/proc/self/status`` field in KiB (0 where /proc is absent)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_bytes() -> int:
    """Current resident set size of this process, in bytes."""
    return _status_kib("VmRSS:") * 1024


def lifetime_peak_bytes() -> int:
    """Kernel-recorded peak RSS of this process since it started (``VmHWM``), in bytes."""
    return _status_kib("VmHWM:") * 1024


class RSSSampler:
    """Track the peak RSS in a background thread; :meth:`reset` starts a new window.

    Parameters
    ----------
    interval : float, default 0.005
        Seconds between samples.
    """

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self._peak = rss_bytes()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            now = rss_bytes()
            with self._lock:
                if now > self._peak:
                    self._peak = now

    def __enter__(self) -> RSSSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self) -> int:
        """Peak RSS (bytes) since the last :meth:`reset`."""
        with self._lock:
            return max(self._peak, rss_bytes())

    def reset(self) -> int:
        """Return the peak of the window that ends now and start a new one."""
        with self._lock:
            peak, self._peak = max(self._peak, rss_bytes()), rss_bytes()
        return peak


@dataclass
class Step:
    """One measured step."""

    name: str
    seconds: float
    cpu_seconds: float | None     # user + system time of all this process' threads
    peak_rss_gb: float
    rss_after_gb: float
    tracemalloc_peak_gb: float | None = None
    counted: bool = True          # part of the contender's total
    note: str = ""


@dataclass
class Recorder:
    """Time steps and their peak memory inside one process.

    Use as ``with Recorder() as rec: with rec.step("train"): ...``; then
    :meth:`summary` gives the total of the counted steps and the process peak.
    """

    use_tracemalloc: bool = False
    steps: list[Step] = field(default_factory=list)
    _sampler: RSSSampler | None = None

    def __enter__(self) -> Recorder:
        self._sampler = RSSSampler().__enter__()
        if self.use_tracemalloc:
            tracemalloc.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.use_tracemalloc:
            tracemalloc.stop()
        assert self._sampler is not None
        self._sampler.__exit__(*exc)

    @contextmanager
    def step(self, name: str, *, counted: bool = True, note: str = "") -> Iterator[None]:
        """Time the enclosed block; its peak RSS is the highest sample inside it."""
        assert self._sampler is not None, "use the Recorder as a context manager"
        self._sampler.reset()
        if self.use_tracemalloc:
            tracemalloc.reset_peak()
        start, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            peak = self._sampler.reset()
            tm = tracemalloc.get_traced_memory()[1] / GB if self.use_tracemalloc else None
            self.steps.append(Step(name, seconds, cpu, peak / GB, rss_bytes() / GB, tm,
                                   counted, note))

    def add(self, name: str, seconds: float, peak_bytes: int, *,
            cpu_seconds: float | None = None, counted: bool = True, note: str = "") -> None:
        """Record a step measured elsewhere (e.g. split from a progress callback)."""
        self.steps.append(Step(name, seconds, cpu_seconds, peak_bytes / GB, rss_bytes() / GB,
                               None, counted, note))

    @property
    def sampler(self) -> RSSSampler:
        assert self._sampler is not None
        return self._sampler

    def summary(self) -> dict[str, Any]:
        """Steps, the total of counted steps, the sampled and the kernel's peak RSS."""
        counted = [s for s in self.steps if s.counted]
        return {
            "steps": [asdict(s) for s in self.steps],
            "total_seconds": sum(s.seconds for s in counted),
            "total_cpu_seconds": sum(s.cpu_seconds or 0.0 for s in counted),
            "peak_rss_gb": max((s.peak_rss_gb for s in self.steps), default=0.0),
            "vmhwm_gb": lifetime_peak_bytes() / GB,
        }


def emit(result: dict[str, Any]) -> None:
    """Print a child's result as one machine-readable line (read by :func:`run_child`)."""
    print(RESULT_PREFIX + json.dumps(result, default=_json_default), flush=True)


def run_child(args: Sequence[str], *, timeout: float | None = None, echo: bool = True,
              threads: int = 0) -> dict[str, Any]:
    """Run ``python <args>`` in a fresh process and return the dict it :func:`emit`-ted.

    The child's stderr (logs) passes through; its other stdout lines are echoed
    when ``echo``. ``threads`` > 0 sets ``OMP_NUM_THREADS`` (XGBoost, scikit-learn
    and BLAS read it). On failure returns ``{"error": ..., "wall_seconds": ...}``.
    """
    first, *rest = map(str, args)
    # a benchmark script runs as a module of the ``bench`` package (``python -m bench.x``),
    # so that it imports ``bench.common`` without editing ``sys.path``
    script = Path(first)
    head = ["-m", f"bench.{script.stem}"] if script.suffix == ".py" else [first]
    cmd = [sys.executable, *head, *rest]
    env = dict(os.environ)
    if threads > 0:
        env |= {"OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads)}
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, timeout=timeout,
                              cwd=ROOT, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s", "wall_seconds": timeout}
    wall = time.perf_counter() - start
    result = None
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            result = json.loads(line[len(RESULT_PREFIX):])
        elif echo:
            print(line, flush=True)
    if proc.returncode != 0 or result is None:
        return {"error": f"exit status {proc.returncode}", "wall_seconds": wall}
    return {**result, "wall_seconds": wall}


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import numpy as np  # noqa: F401  (imported for the version only)

    versions = {}
    for mod in ("numpy", "pandas", "xgboost", "shap", "sklearn", "plotly"):
        try:
            versions[mod] = __import__(mod).__version__
        except ImportError:
            versions[mod] = None
    cpu = ""
    with suppress(OSError, StopIteration), open("/proc/cpuinfo", encoding="utf-8") as fh:
        cpu = next(ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name"))
    mem_gb = _meminfo_total_kib() * 1024 / GB
    return {"date": datetime.now(UTC).isoformat(timespec="seconds"),
            "load_average": os.getloadavg(), "calibration": calibrate(),
            "python": platform.python_version(), "platform": platform.platform(),
            "cpu": cpu, "cpus": os.cpu_count(), "memory_gb": round(mem_gb, 1),
            "gpu": _gpu_name(), "versions": versions}


def calibrate() -> dict[str, float]:
    """Seconds for a fixed pure-Python loop and a fixed matrix product.

    The machine is shared; these two figures say how loaded it was when a run
    started. Compare them before comparing timings of two runs.
    """
    import numpy as np

    start = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    loop = time.perf_counter() - start
    a = np.random.default_rng(0).random((2000, 2000))
    start = time.perf_counter()
    for _ in range(5):
        a @ a
    return {"python_loop_s": round(loop, 2), "matmul_s": round(time.perf_counter() - start, 2)}


def _meminfo_total_kib() -> int:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            return int(fh.readline().split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def _gpu_name() -> str | None:
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _json_default(o: Any) -> Any:
    if hasattr(o, "item"):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def write_results(name: str, payload: dict[str, Any], rows: list[dict[str, Any]]) -> Path:
    """Write ``bench/results/<name>.json`` (everything) and ``<name>.csv`` (flat rows)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, default=_json_default) + "\n", encoding="utf-8")
    if rows:
        columns = list(dict.fromkeys(k for r in rows for k in r))
        with open(RESULTS / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
    return path


def parse_sizes(text: str) -> list[int]:
    """``"1e5,1e6"`` -> ``[100000, 1000000]``."""
    return [int(float(s)) for s in text.split(",") if s.strip()]


def fmt_seconds(s: float | None) -> str:
    if s is None:
        return "-"
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.1f} s"


def print_table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str, str]]) -> None:
    """Print rows as an aligned table; ``columns`` = (key, header, format spec)."""
    cells = [[h for _, h, _ in columns]]
    for r in rows:
        line = []
        for key, _, spec in columns:
            v = r.get(key)
            if v is None or v == "":
                line.append("-")
            elif spec == "time":
                line.append(fmt_seconds(v))
            else:
                line.append(format(v, spec))
        cells.append(line)
    widths = [max(len(c[i]) for c in cells) for i in range(len(columns))]
    for i, line in enumerate(cells):
        print("  ".join(c.rjust(w) if j else c.ljust(w)
                        for j, (c, w) in enumerate(zip(line, widths, strict=True))))
        if i == 0:
            print("  ".join("-" * w for w in widths))
