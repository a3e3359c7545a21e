"""Kazakhstan's public holidays from the `holidays` package, without its 300 other countries.

`holidays.country_holidays("KZ")` imports the package's `countries` subpackage, whose
`__init__` imports every country's module: about 10 MiB of memory kept for the life of the bot
and 0.2 s of CPU, for one country. The Kazakhstan module imports only the package's shared base
classes and calendars, so it is loaded on its own from the package's folder; if a future
release moves it, the package's own loader is used instead.
`tests/e2e/test_kazakhstan_holidays.py` checks that both give the same days and names.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from holidays import HolidayBase

MODULE = "holidays.countries.kazakhstan"


def kazakhstan_holidays(
    years: int | Iterable[int] | None = None, *, language: str | None = None
) -> HolidayBase:
    """The same holidays as `holidays.country_holidays("KZ", years=..., language=...)`."""
    module = _kazakhstan_module()
    if module is None:
        import holidays

        return holidays.country_holidays("KZ", years=years, language=language)
    holidays_class: type[HolidayBase] = module.Kazakhstan
    return holidays_class(years=years, language=language)


@cache
def _kazakhstan_module() -> ModuleType | None:
    countries = importlib.util.find_spec("holidays.countries")  # imports `holidays` only
    folders = countries.submodule_search_locations if countries else None
    if not folders:
        return None
    path = Path(next(iter(folders))) / "kazakhstan.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(MODULE, path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
