"""Human formatting of dates in the agency's zone, in Indonesian or English."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

BULAN = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
         "Oktober", "November", "Desember"]
MONTH = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
         "October", "November", "December"]
ZONE_ABBR = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA",
             "Asia/Jayapura": "WIT"}


@lru_cache(maxsize=8192)
def format_datetime(at: datetime, tz: str, lang: str = "id") -> str:
    """'20 Januari 2027 16.00 WIB' / '20 January 2027 16:00 WIB'. Cached: a stage's tasks share
    their due time, and a sweep or a launch formats it once per message."""
    local = at.astimezone(ZoneInfo(tz))
    zone = ZONE_ABBR.get(tz, local.tzname() or tz)
    if lang == "en":
        return f"{local.day} {MONTH[local.month - 1]} {local.year} {local:%H:%M} {zone}"
    return f"{local.day} {BULAN[local.month - 1]} {local.year} {local:%H.%M} {zone}"


def format_date(at: datetime | date, tz: str, lang: str = "id") -> str:
    """'20 Januari 2027'; a calendar date (no time) is shown as it is."""
    local = at.astimezone(ZoneInfo(tz)) if isinstance(at, datetime) else at
    months = MONTH if lang == "en" else BULAN
    return f"{local.day} {months[local.month - 1]} {local.year}"
