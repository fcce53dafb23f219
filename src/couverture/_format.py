"""French text of numbers, distances, durations, shares and dates: the one formatter.

Every module that shows a number to a user (maps, atlas, exports, CLI) formats
it here (base layer: imports nothing from the package).

One rule everywhere: the NARROW NO-BREAK SPACE (U+202F) separates thousands
(``12 345``), a number from its unit (``3,5 %``, ``2 km``) and a comparison
sign from its number (``≤ 2 km``); the decimal separator is a comma.

Examples
--------
>>> format_number(12345.678, 1) == "12\u202f345,7"
True
>>> format_value(3.5, "%", decimals=1) == "3,5\u202f%"
True
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = [
    "MISSING_TEXT",
    "NNBSP",
    "auto_decimals",
    "format_date",
    "format_decimal",
    "format_km",
    "format_minutes",
    "format_number",
    "format_percent",
    "format_value",
    "nice_number",
    "sources_line",
]

#: Narrow no-break space: thousands separator and space before units.
NNBSP = "\u202f"
#: Text shown for a missing value.
MISSING_TEXT = "n.d."


def format_number(x: float | None, decimals: int = 0) -> str:
    """Format a number the French way: ``12 345,6`` (narrow no-break spaces).

    Parameters
    ----------
    x : float
        The number; ``None`` or NaN gives ``"n.d."``.
    decimals : int, default 0
        Digits after the decimal comma.

    Examples
    --------
    >>> format_number(1234567).replace(NNBSP, " ")
    '1 234 567'
    >>> format_number(-0.04, 1), format_number(float("nan"))
    ('0,0', 'n.d.')
    """
    if x is None:
        return MISSING_TEXT
    x = float(x)
    if not math.isfinite(x):
        return MISSING_TEXT
    text = f"{x:,.{max(int(decimals), 0)}f}"
    if text.startswith("-") and float(text[1:].replace(",", "")) == 0:
        text = text[1:]  # no "-0,0"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", NNBSP)


def format_value(x: float | None, unit: str | None = None, *, decimals: int = 0) -> str:
    """A number followed by its unit: ``3,5 %``, ``12 345 hab.``, ``2 km``.

    Examples
    --------
    >>> format_value(2, "km").replace(NNBSP, " ")
    '2 km'
    >>> format_value(None, "km")
    'n.d.'
    """
    text = format_number(x, decimals)
    if unit and text != MISSING_TEXT:
        return f"{text}{NNBSP}{unit}"
    return text


def format_decimal(x: float | None, max_decimals: int = 3) -> str:
    """A number with at most ``max_decimals`` digits, trailing zeros dropped: ``2,5``, ``10``.

    For parameters typed by a user (a radius of 2.5 km), where ``2,500`` would mislead.

    Examples
    --------
    >>> format_decimal(2.5), format_decimal(10.0), format_decimal(12000).replace(NNBSP, " ")
    ('2,5', '10', '12 000')
    """
    text = format_number(x, max_decimals)
    if "," in text:
        text = text.rstrip("0").rstrip(",")
    return text


def format_km(metres: float | None, decimals: int | None = None) -> str:
    """A distance given in metres, written in kilometres: ``5 km``, ``1,07 km``.

    Parameters
    ----------
    metres : float
        The distance in metres (``None``/NaN gives ``"n.d."``).
    decimals : int, optional
        Fixed digits after the comma; default: up to 2, trailing zeros dropped.

    Examples
    --------
    >>> format_km(5000).replace(NNBSP, " "), format_km(1066).replace(NNBSP, " ")
    ('5 km', '1,07 km')
    >>> format_km(1066, 1).replace(NNBSP, " "), format_km(None)
    ('1,1 km', 'n.d.')
    """
    if metres is None or not math.isfinite(float(metres)):
        return MISSING_TEXT
    km = float(metres) / 1000.0
    text = format_decimal(km, 2) if decimals is None else format_number(km, decimals)
    return f"{text}{NNBSP}km"


def format_minutes(minutes: float | None, decimals: int = 0) -> str:
    """A duration in minutes: ``12 min``.

    Examples
    --------
    >>> format_minutes(12.4).replace(NNBSP, " "), format_minutes(float("nan"))
    ('12 min', 'n.d.')
    """
    return format_value(minutes, "min", decimals=decimals)


def format_percent(x: float | None, decimals: int = 1, *, share: bool = False) -> str:
    """A percentage: ``96,1 %`` (``share=True``: ``x`` is a share between 0 and 1).

    Examples
    --------
    >>> format_percent(96.081).replace(NNBSP, " "), format_percent(0.5, 0, share=True).replace(NNBSP, " ")
    ('96,1 %', '50 %')
    """
    if share and x is not None:
        x = 100.0 * float(x)
    return format_value(x, "%", decimals=decimals)


def format_date(value: Any) -> str:
    """A date the French way, ``07/07/2006`` (``None``/NaT gives ``"n.d."``).

    Examples
    --------
    >>> import datetime
    >>> format_date(datetime.date(2006, 7, 7)), format_date(None)
    ('07/07/2006', 'n.d.')
    """
    if value is None:
        return MISSING_TEXT
    try:
        if value != value:
            return MISSING_TEXT
    except (TypeError, ValueError):
        pass
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.strftime("%d/%m/%Y")
    return str(value)


def auto_decimals(values: Iterable[float], *, max_decimals: int = 3) -> int:
    """Fewest decimals (0 to ``max_decimals``) whose step is finer than the gaps between values.

    Examples
    --------
    >>> auto_decimals([0, 1200, 5000]), auto_decimals([0.12, 0.5]), auto_decimals([1.25, 1.3])
    (0, 1, 2)
    """
    v = np.asarray([float(x) for x in values], dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return 0
    distinct = np.unique(np.round(v, 9))
    if distinct.size < 2:
        return 0
    gap = float(np.diff(distinct).min())
    for d in range(max_decimals + 1):
        if 10.0**-d <= gap * (1 + 1e-9) and np.unique(np.round(distinct, d)).size == distinct.size:
            return d
    return max_decimals


def nice_number(x: float) -> float:
    """Largest 1, 2, 2.5 or 5 times a power of ten not above ``x`` (scale bars, reference circles).

    Examples
    --------
    >>> nice_number(37), nice_number(0.8), nice_number(260_000)
    (25.0, 0.5, 250000.0)
    """
    if not x > 0:
        return 0.0
    exp = math.floor(math.log10(x))
    for m in (5.0, 2.5, 2.0, 1.0):
        if m * 10.0**exp <= x * (1 + 1e-12):
            return m * 10.0**exp
    return 10.0**exp


def sources_line(sources: str | None, *layers) -> str:
    """The « Sources : ... » line of a map: given text, else the layers' ``attrs["source"]``.

    Examples
    --------
    >>> sources_line("INSEE")
    'Sources : INSEE'
    >>> sources_line(None)
    'Sources : non précisées'
    """
    if sources is None:
        found = []
        for layer in layers:
            src = getattr(layer, "attrs", {}).get("source") if layer is not None else None
            if src and src not in found:
                found.append(str(src))
        sources = " ; ".join(found) if found else "non précisées"
    text = str(sources)
    return text if text.lower().startswith("source") else f"Sources : {text}"
