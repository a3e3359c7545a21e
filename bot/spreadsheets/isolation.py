"""Reading an uploaded file in a child process that may die without hurting the bot.

The child (`python -m bot.spreadsheets.isolation`) gets the bytes on its standard input,
limits its own address space (RLIMIT_AS) and processor time (RLIMIT_CPU), reads the file and
writes the outcome back. The parent waits at most `time_limit` seconds of wall time: a child
that runs over is killed, one that runs out of memory dies or says so, and either way the
person is told what happened in a sentence of their own, while the bot goes on answering
others (the parent waits in a worker thread: callers run this with `asyncio.to_thread`).
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.spreadsheets.grid import FileProblem, SpreadsheetFileError

logger = logging.getLogger(__name__)

MEMORY_LIMIT = 768 * 1024 * 1024  # address space, not resident memory: libraries map ahead
TIME_LIMIT = 30.0  # seconds of wall time; a real 10,000-row workbook reads in about one
_PROJECT_ROOT = str(Path(__file__).resolve().parents[2])


def parse_in_child(
    data: bytes,
    filename: str,
    *,
    extra_aliases: Mapping[str, Any] | None = None,
    sheet: str | None = None,
    memory_limit: int = MEMORY_LIMIT,
    time_limit: float = TIME_LIMIT,
) -> Any:
    """`read_spreadsheet`'s outcome (a ParsedFile), read in a guarded child; its errors raised."""
    from bot.spreadsheets.parse import SheetChoiceNeeded

    request = pickle.dumps((data, filename, dict(extra_aliases or {}), sheet, memory_limit))
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        path for path in (_PROJECT_ROOT, environment.get("PYTHONPATH", "")) if path
    )
    try:
        finished = subprocess.run(
            [sys.executable, "-m", "bot.spreadsheets.isolation"],
            input=request,
            capture_output=True,
            timeout=time_limit,
            env=environment,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        logger.warning("reading %r took longer than %.0f s: stopped", filename, time_limit)
        raise SpreadsheetFileError(FileProblem.TOO_SLOW) from error
    outcome = _outcome(finished)
    if outcome is None:
        died = -finished.returncode if finished.returncode < 0 else 0
        logger.warning(
            "reading %r: the child died (signal %s, code %s): %s",
            filename,
            signal.Signals(died).name if died else "-",
            finished.returncode,
            finished.stderr[-2000:].decode(errors="replace"),
        )
        raise SpreadsheetFileError(FileProblem.TOO_MUCH_MEMORY)
    kind, payload = outcome
    if kind == "parsed":
        return payload
    if kind == "file_error":
        problem, missing, line, detail = payload
        raise SpreadsheetFileError(FileProblem(problem), missing, line, detail)
    if kind == "sheet_choice":
        raise SheetChoiceNeeded(payload)
    if kind == "memory":
        raise SpreadsheetFileError(FileProblem.TOO_MUCH_MEMORY)
    logger.error("reading %r failed in the child:\n%s", filename, payload)
    raise SpreadsheetFileError(FileProblem.CORRUPT)


def _outcome(finished: subprocess.CompletedProcess[bytes]) -> tuple[str, Any] | None:
    if finished.returncode != 0 or not finished.stdout:
        return None
    try:
        kind, payload = pickle.loads(finished.stdout)
    except Exception:
        return None
    return str(kind), payload


def _limit(memory_limit: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    cpu = int(TIME_LIMIT) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))


def _child() -> None:
    """Read the request, parse under the limits, write one outcome; never a traceback out."""
    data, filename, aliases, sheet, memory_limit = pickle.loads(sys.stdin.buffer.read())
    _limit(memory_limit)
    from bot.spreadsheets.parse import SheetChoiceNeeded, read_spreadsheet

    outcome: tuple[str, Any]
    try:
        outcome = ("parsed", read_spreadsheet(data, filename, extra_aliases=aliases, sheet=sheet))
    except SpreadsheetFileError as error:
        outcome = (
            "file_error",
            (error.problem.value, error.missing, error.line, error.detail),
        )
    except SheetChoiceNeeded as choice:
        outcome = ("sheet_choice", choice.sheets)
    except MemoryError:
        outcome = ("memory", None)
    except Exception:
        import traceback

        outcome = ("crash", traceback.format_exc()[-4000:])
    del data
    sys.stdout.buffer.write(pickle.dumps(outcome))
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    _child()
