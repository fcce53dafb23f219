"""French number formatting for maps: re-exported from :mod:`couverture._format`.

The one formatter lives at package level (base layer); this module keeps the
names the map modules (and users' scripts) import from here.

Examples
--------
>>> format_number(12345.678, 1) == "12\u202f345,7"
True
"""

from __future__ import annotations

from .._format import (
    MISSING_TEXT,
    NNBSP,
    auto_decimals,
    format_number,
    format_value,
    nice_number,
    sources_line,
)

__all__ = ["MISSING_TEXT", "NNBSP", "auto_decimals", "format_number", "format_value", "nice_number", "sources_line"]
