"""Text made safe for spreadsheets: no formula from data (OWASP CSV injection).

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is read as a formula by Excel and LibreOffice when a CSV file is
opened (``=HYPERLINK(...)``, ``@SUM(...)``, ``-2+3``). OWASP recommends to
prefix such a cell with an apostrophe, which the spreadsheet shows as text.
Numbers, negative ones included, are left as they are. Control characters
(NUL and other C0), which XLSX files cannot hold, are removed.

Examples
--------
>>> neutralize("=HYPERLINK(\\"http://x\\")"), neutralize("-12,5"), neutralize("Centre social")
('\\'=HYPERLINK("http://x")', '-12,5', 'Centre social')
>>> neutralize(-3.5), strip_controls("Centre\\x00 social")
(-3.5, 'Centre social')
"""

from __future__ import annotations

import re

__all__ = ["FORMULA_START", "neutralize", "strip_controls"]

#: First characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+([.,]\d+)?|[.,]\d+)([eE][+-]?\d+)?")


def strip_controls(value):
    """``value`` without control characters when it is text (tab, line feed and CR kept).

    Examples
    --------
    >>> strip_controls("a\\x07b\\tc"), strip_controls(3)
    ('ab\\tc', 3)
    """
    return _CONTROL.sub("", value) if isinstance(value, str) else value


def neutralize(value):
    """``value`` with a leading apostrophe when it is text a spreadsheet would run as a formula.

    Non-text values are returned unchanged; text that is only a number
    (``-12,5``, ``+33``) is left as it is: a spreadsheet reads it as a number,
    not a formula.

    Examples
    --------
    >>> [neutralize(v) for v in ["@SUM(A1)", "+33 6 12", "\\tx", "-5", None]]
    ["'@SUM(A1)", "'+33 6 12", "'\\tx", '-5', None]
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_START):
        return value
    if _PLAIN_NUMBER.fullmatch(value) and not value.startswith(("\t", "\r", "=", "@")):
        return value
    return "'" + value
