"""The pure rules behind the state layouts (issue 24): deadlines, executors, legends, .ods."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from xml.sax.saxutils import escape

import pytest

from bot.spreadsheets.deadlines import Precision, read_deadline
from bot.spreadsheets.executors import (
    legend_entry,
    read_executors,
    roman_number,
    split_names,
)
from bot.spreadsheets.headers import Kind, classify_header
from bot.spreadsheets.parse import read_spreadsheet


@pytest.mark.parametrize(
    ("text", "day", "precision"),
    [
        ("1-полугодие 2025 г.", date(2025, 6, 30), Precision.HALF),
        ("2-жартыжылдық", date(2025, 12, 31), Precision.HALF),
        ("2025 жылдың бірінші жартыжылдығы", date(2025, 6, 30), Precision.HALF),
        (
            "ежеквартально, до 10 числа месяца, следующего за отчетным",
            date(2025, 12, 31),
            Precision.PERIODIC,
        ),
        ("1 раз в полугодие", date(2025, 12, 31), Precision.PERIODIC),
        ("в течение 2025 года", date(2025, 12, 31), Precision.YEAR),
        ("2025 жыл бойы", date(2025, 12, 31), Precision.YEARLY),
        ("ноябрь-декабрь 2025 г.", date(2025, 12, 31), Precision.MONTH),
        ("қараша–желтоқсан", date(2025, 12, 31), Precision.MONTH),
        ("до 25 декабря", date(2025, 12, 25), Precision.DAY),
        ("декабрь 2025 года", date(2025, 12, 31), Precision.MONTH),
        ("2025 жылғы желтоқсан", date(2025, 12, 31), Precision.MONTH),
    ],
)
def test_deadlines_as_plans_write_them_mean_the_end_of_the_period(
    text: str, day: date, precision: Precision
) -> None:
    reading = read_deadline(text, 2025)
    assert reading is not None
    assert (reading.day, reading.precision) == (day, precision)


@pytest.mark.parametrize(
    ("cell", "lead", "others"),
    [
        ("УО", "УО", ()),
        ("УЗ (С), УО (ОИ)", "УО", ("УЗ",)),
        ("ОИ: УО; С: УЗ, УСиЖКХ", "УО", ("УЗ", "УСиЖКХ")),
        (
            "Управление архитектуры, градостроительства и земельных отношений, УО",
            "Управление архитектуры, градостроительства и земельных отношений",
            ("УО",),
        ),
        (
            "Сәулет, қала құрылысы және жер қатынастары басқармасы, ББ",
            "Сәулет, қала құрылысы және жер қатынастары басқармасы",
            ("ББ",),
        ),
        ("edu, Управление культуры", "edu", ("Управление культуры",)),
        ("УО, акиматы районов", "УО", ("акиматы районов",)),
    ],
)
def test_executors_lead_first_or_marked_and_names_with_commas_whole(
    cell: str, lead: str, others: tuple[str, ...]
) -> None:
    found = read_executors(cell)
    assert found is not None
    assert (found.lead, found.co_executors) == (lead, others)


def test_a_co_executor_column_adds_to_the_cell() -> None:
    found = read_executors("УО", "УЗ, Управление культуры")
    assert found is not None and found.co_executors == ("УЗ", "Управление культуры")
    assert split_names("") == []


def test_legend_lines_and_roman_sections() -> None:
    assert legend_entry("УО – управление образования") == ("УО", "управление образования")
    assert legend_entry("ББ - Білім басқармасы") == ("ББ", "Білім басқармасы")
    assert legend_entry("ІІ - Инфрақұрылым") is None  # a section, not an abbreviation
    assert legend_entry("1. Экономика") is None
    assert [roman_number(text) for text in ("І", "ІІ", "IV", "ІV", "XII", "УО")] == [
        1,
        2,
        4,
        4,
        12,
        None,
    ]


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        ("Форма завершения", Kind.COMPLETION_FORM),
        ("Аяқтау нысаны", Kind.COMPLETION_FORM),
        ("Предполагаемые расходы (млн тенге)", Kind.COSTS),
        ("Болжамды шығыстар (млн теңге)", Kind.COSTS),
        ("Источники финансирования", Kind.FUNDING),
        ("Қаржыландыру көздері", Kind.FUNDING),
        ("Соисполнители", Kind.CO_EXECUTORS),
        ("Бірлесіп орындаушылар", Kind.CO_EXECUTORS),
        ("Ответственный исполнитель (ОИ) / Соисполнитель (С)", Kind.DEPARTMENT),
        ("Орындауға жауаптылар", Kind.DEPARTMENT),
        ("Р/с №", Kind.CODE),
    ],
)
def test_the_action_plan_headers(header: str, kind: Kind) -> None:
    found = classify_header(header)
    assert found is not None and found[0] == kind


@pytest.mark.parametrize("header", ["Статус мероприятия", "Код бюджетной программы"])
def test_columns_the_road_map_does_not_keep_are_not_read_as_others(header: str) -> None:
    assert classify_header(header) is None


def _ods(rows: list[list[str]]) -> bytes:
    """A minimal OpenDocument spreadsheet, as LibreOffice saves one."""
    cells = "".join(
        "<table:table-row>"
        + "".join(
            f'<table:table-cell office:value-type="string"><text:p>{escape(v)}</text:p>'
            "</table:table-cell>"
            for v in row
        )
        + "</table:table-row>"
        for row in rows
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="План">{cells}'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("META-INF/manifest.xml", manifest)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def test_an_ods_file_is_read_directly() -> None:
    data = _ods(
        [
            ["№ п/п", "Наименование мероприятия", "Ответственные за исполнение", "Срок"],
            ["1.1", "Ремонт школ", "edu", "1-полугодие 2025 г."],
            ["1.2", "Ремонт дорог", "roads", "31.12.2025"],
        ]
    )
    parsed = read_spreadsheet(data, "plan.ods")
    assert [(r.code, r.department, r.deadline) for r in parsed.rows] == [
        ("1.1", "edu", date(2025, 6, 30)),
        ("1.2", "roads", date(2025, 12, 31)),
    ]
    assert parsed.sheet == "План"
