"""What a hostile file costs the bot: time to the answer and memory, per file (issue 24).

Each file is read in a fresh process that stands for the bot: it measures its idle resident
memory, then sends the file through `parse_spreadsheet` (which reads it in the guarded child)
from a worker thread, as the chat does, while the event loop ticks every 10 ms; it reports
the time to the answer, its own peak memory above idle, the child's peak resident memory
(VmHWM, sampled every 5 ms) and the longest the loop waited. The baseline, from the same
run, is the office workbook of 93 items. The target: every answer within 5 s and under
150 MiB above the bot's idle memory.

Run by hand: `.venv/bin/python bench/bench_hostile_files.py`.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `tests` is not installed

MIB = 1024 * 1024


def _rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _children_peak() -> int:
    """The highest peak resident memory (VmHWM) of this process's live children."""
    peak = 0
    for task in Path("/proc/self/task").iterdir():
        try:
            pids = (task / "children").read_text().split()
        except OSError:
            continue
        for pid in pids:
            try:
                status = Path(f"/proc/{pid}/status").read_text().splitlines()
            except OSError:
                continue
            for line in status:
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) * 1024)
    return peak


class _PeakRss:
    """This process's resident memory and its children's peaks, sampled every 5 ms."""

    def __init__(self) -> None:
        self.peak = _rss()
        self.child_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss())
            self.child_peak = max(self.child_peak, _children_peak())

    def __enter__(self) -> _PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def _measure(data: bytes, name: str) -> dict[str, object]:
    from bot.spreadsheets.parse import SpreadsheetFileError, parse_spreadsheet

    lag = 0.0
    done = asyncio.Event()

    async def tick() -> None:
        nonlocal lag
        while not done.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            lag = max(lag, time.perf_counter() - before - 0.01)

    ticker = asyncio.create_task(tick())
    idle = _rss()
    started = time.perf_counter()
    with _PeakRss() as peak:
        try:
            parsed = await asyncio.to_thread(parse_spreadsheet, data, name)
            answer = f"{len(parsed.rows)} items"
        except SpreadsheetFileError as error:
            answer = error.problem.value
    elapsed = time.perf_counter() - started
    done.set()
    await ticker
    return {
        "seconds": elapsed,
        "above_idle": max(peak.peak - idle, 0),
        "child_peak": peak.child_peak,
        "loop_lag": lag,
        "answer": answer,
    }


def _one(name: str) -> None:
    """In the measuring process: build the file first, then measure its reading alone."""
    from tests.helpers.hostile_files import HOSTILE_FILES
    from tests.helpers.office_workbooks import KK_LAYOUT, office_workbook

    if name == "office-93-items.xlsx":
        data = office_workbook(KK_LAYOUT).data
    else:
        (hostile,) = [h for h in HOSTILE_FILES if h.name == name]
        data = hostile.build()
    import gc

    gc.collect()
    result = asyncio.run(_measure(data, name))
    result["size"] = len(data)
    print(json.dumps(result))


def main() -> None:
    from tests.helpers.hostile_files import HOSTILE_FILES

    names = ["office-93-items.xlsx", *(hostile.name for hostile in HOSTILE_FILES)]
    print(
        f"{'file':<28}{'size':>10}{'answer s':>10}{'bot +MiB':>10}{'child MiB':>11}"
        f"{'loop lag ms':>13}  answer"
    )
    for name in names:
        finished = subprocess.run(
            [sys.executable, __file__, "--one", name],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        row = json.loads(finished.stdout.strip().splitlines()[-1])
        print(
            f"{name:<28}{row['size']:>10}{row['seconds']:>10.2f}"
            f"{row['above_idle'] / MIB:>10.1f}{row['child_peak'] / MIB:>11.1f}"
            f"{row['loop_lag'] * 1000:>13.1f}  {row['answer']}"
        )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        _one(sys.argv[2])
    else:
        main()
