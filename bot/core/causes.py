"""Why a department says an item is at risk: the causes it picks, as stored in a report.

Below every feature: reporting asks for a cause, risk and the exports name it.
"""

from __future__ import annotations

from enum import StrEnum


class Cause(StrEnum):
    FINANCING = "financing"
    CONTRACTOR = "contractor"
    LAND_PERMITS = "land"
    PROCUREMENT = "procurement"
    DESIGN_DOCUMENTS = "design"
    OTHER = "other"
