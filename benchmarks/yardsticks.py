"""The yardsticks subbill's benchmarks are measured against, found outside the repository.

They are never copied into the project: ``plain_calendar.py`` and ``silver_bench.py`` are
read from ``$SUBBILL_YARDSTICKS`` when set, else from ``<repository>/../shared/bench``.
django-silver runs in its own virtual environment, ``$SILVERBENCH_DIR/venv`` (default
``~/.cache/subbill/silverbench``), built by ``make silver-env``; without it (or without the
yardstick files) a row says what was not measured and why, never a made-up ratio.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

REPOSITORY = Path(__file__).resolve().parent.parent
SILVER_TIMEOUT = 1800  # seconds: ~100 invoices/s, so 1,000 subscriptions take ~20 s


def yardsticks_dir() -> Path:
    """Where the yardstick files are: ``$SUBBILL_YARDSTICKS``, else ``../shared/bench``."""
    configured = os.environ.get("SUBBILL_YARDSTICKS")
    if configured:
        return Path(configured).expanduser()
    return REPOSITORY.parent / "shared" / "bench"


def load_plain_calendar() -> ModuleType | None:
    """Import ``plain_calendar.py`` from the yardsticks folder; ``None`` when it is absent."""
    path = yardsticks_dir() / "plain_calendar.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location("subbill_yardstick_plain_calendar", path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def silverbench_dir() -> Path:
    """``$SILVERBENCH_DIR``, default ``~/.cache/subbill/silverbench`` (outside the repository)."""
    configured = os.environ.get("SILVERBENCH_DIR")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "subbill" / "silverbench"


def silver_python() -> Path | None:
    """The django-silver environment's interpreter, when ``make silver-env`` has built it."""
    python = silverbench_dir() / "venv" / "bin" / "python"
    return python if python.is_file() and os.access(python, os.X_OK) else None


class SilverRun(NamedTuple):
    """One run of ``silver_bench.py one --variant mid --mode atomic``: seconds per phase."""

    n: int
    initial_seconds: float
    initial_documents: int
    renewal_seconds: float
    renewal_documents: int
    peak_rss_mib: float

    @property
    def initial_rate(self) -> float:
        """Invoices per second of the first, prorated run (15 Jan 2025)."""
        return self.initial_documents / self.initial_seconds

    @property
    def renewal_rate(self) -> float:
        """Invoices per second of the renewal run (1 Feb 2025)."""
        return self.renewal_documents / self.renewal_seconds

    @property
    def both_rate(self) -> float:
        """Invoices per second of both runs together."""
        documents = self.initial_documents + self.renewal_documents
        return documents / (self.initial_seconds + self.renewal_seconds)


class SilverUnavailable(NamedTuple):
    """Why django-silver was not measured: the row prints this instead of a ratio."""

    reason: str


def silver_unavailable() -> SilverUnavailable | None:
    """Why django-silver cannot run here, or ``None`` when it can."""
    if not (yardsticks_dir() / "silver_bench.py").is_file():
        return SilverUnavailable(
            f"not measured (no silver_bench.py in {yardsticks_dir()}: set SUBBILL_YARDSTICKS)"
        )
    if silver_python() is None:
        return SilverUnavailable("not measured (no django-silver environment: make silver-env)")
    return None


def _silver_bench(*arguments: str) -> dict[str, Any] | SilverUnavailable:
    """Run ``silver_bench.py ARGUMENTS`` in django-silver's environment; its JSON result."""
    unavailable = silver_unavailable()
    if unavailable is not None:
        return unavailable
    python = silver_python()
    assert python is not None  # noqa: S101  (silver_unavailable checked it)
    command = [str(python), str(yardsticks_dir() / "silver_bench.py"), *arguments]
    environment = dict(os.environ, SILVERBENCH_DIR=str(silverbench_dir()))
    try:
        done = subprocess.run(  # noqa: S603  (our own command line, no shell)
            command,
            capture_output=True,
            text=True,
            timeout=SILVER_TIMEOUT,
            env=environment,
            cwd=tempfile.gettempdir(),
            check=False,
        )
    except subprocess.TimeoutExpired:
        return SilverUnavailable(f"not measured (django-silver took over {SILVER_TIMEOUT} s)")
    if done.returncode != 0 or not done.stdout.strip():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return SilverUnavailable(f"not measured (django-silver failed: {last[:120]})")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_silver(n: int) -> SilverRun | SilverUnavailable:
    """Run django-silver's ``generate_docs`` on ``n`` subscriptions in its own environment.

    ``silver_bench.py one --n N --variant mid --mode atomic``, as a subprocess of the
    environment's interpreter: N monthly subscriptions at 50.00 EUR started on 15 Jan 2025,
    billed that day then on 1 Feb 2025, each run in one transaction.
    """
    result = _silver_bench("one", "--n", str(n), "--variant", "mid", "--mode", "atomic")
    if isinstance(result, SilverUnavailable):
        return result
    return SilverRun(
        n=int(result["n"]),
        initial_seconds=float(result["initial"]["seconds"]),
        initial_documents=int(result["initial"]["documents"]),
        renewal_seconds=float(result["renewal"]["seconds"]),
        renewal_documents=int(result["renewal"]["documents"]),
        peak_rss_mib=float(result["maxrss_mib"]["peak"]),
    )


class SilverPdfRun(NamedTuple):
    """One run of ``silver_bench.py pdf``: django-silver's ``generate_pdfs`` (xhtml2pdf)."""

    n: int
    pdfs: int
    seconds: float
    peak_rss_mib: float

    @property
    def rate(self) -> float:
        """PDFs per second."""
        return self.pdfs / self.seconds


def run_silver_pdf(n: int) -> SilverPdfRun | SilverUnavailable:
    """Run django-silver's PDF rendering of ``n`` invoices in its own environment.

    ``silver_bench.py pdf --n N``: N subscriptions billed (untimed), then the
    ``generate_pdfs`` management command timed on their invoices.
    """
    result = _silver_bench("pdf", "--n", str(n))
    if isinstance(result, SilverUnavailable):
        return result
    if not result.get("pdfs") or not result.get("seconds"):
        return SilverUnavailable("not measured (django-silver rendered no PDF)")
    return SilverPdfRun(
        n=int(result["n"]),
        pdfs=int(result["pdfs"]),
        seconds=float(result["seconds"]),
        peak_rss_mib=float(result["peak_rss_mib"]),
    )
