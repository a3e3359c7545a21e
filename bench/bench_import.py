"""How long the import takes to read a workbook, against openpyxl's own read in the same run.

The parser loads workbooks in openpyxl's full mode (merged cells, notes and number formats
need it) and reads formulas a second time only when a sheet has any. The baseline is what the
parser did before: a read-only load that only iterates the values of the first sheet.

Run by hand: `.venv/bin/python bench/bench_import.py [--rows 10000] [--repeat 3]`.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `tests` is not installed

from openpyxl import load_workbook

from bot.spreadsheets.parse import parse_spreadsheet
from tests.helpers.office_workbooks import KK_LAYOUT, office_workbook, simple_workbook


def _baseline(data: bytes) -> int:
    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        return sum(1 for sheet in workbook.worksheets for _row in sheet.iter_rows(values_only=True))
    finally:
        workbook.close()


def _timed(action: Callable[[], object], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    office = office_workbook(KK_LAYOUT).data
    rows = [
        [f"{n // 100 + 1}.{n % 100 + 1}", f"Атауы {n}", f"Название {n}", "edu", "IV тоқсан 2025"]
        for n in range(args.rows)
    ]
    large = simple_workbook(
        ["Код", "Атауы (қаз)", "Наименование (рус)", "Басқарма", "Мерзімі"], rows
    )
    print(f"{'workbook':<28}{'size':>10}{'baseline s':>12}{'import s':>10}{'ratio':>8}")
    for name, data in (("office, 93 items", office), (f"plain, {args.rows} rows", large)):
        baseline = _timed(lambda data=data: _baseline(data), args.repeat)
        parsed = _timed(lambda data=data: parse_spreadsheet(data, "bench.xlsx"), args.repeat)
        print(f"{name:<28}{len(data):>10}{baseline:>12.3f}{parsed:>10.3f}{parsed / baseline:>8.2f}")


if __name__ == "__main__":
    main()
