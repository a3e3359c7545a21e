"""The compiled gettext catalogs, reachable without aiogram (the CLI and the doctor start fast)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from babel.support import NullTranslations

SUPPORTED_LOCALES: tuple[str, ...] = ("kk", "ru")
LOCALES_DIR = Path(__file__).resolve().parents[2] / "locales"
DOMAIN = "messages"


def compile_catalogs(path: Path = LOCALES_DIR) -> list[Path]:
    """Compile every `.po` into its `.mo` when the binary is missing or older than the source."""
    stale = stale_catalogs(path)
    if not stale:
        return []
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written: list[Path] = []
    for po_path in stale:
        mo_path = po_path.with_suffix(".mo")
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        written.append(mo_path)
    return written


def stale_catalogs(path: Path = LOCALES_DIR) -> list[Path]:
    """The `.po` files whose `.mo` is missing or older than the source."""
    stale = []
    for po_path in sorted(path.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo_path = po_path.with_suffix(".mo")
        if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
            stale.append(po_path)
    return stale


def load_translations(locale: str, path: Path = LOCALES_DIR) -> NullTranslations:
    """One locale's compiled catalog (English ids if it is not compiled), without aiogram."""
    from babel.support import Translations

    return Translations.load(str(path), [locale], DOMAIN)
