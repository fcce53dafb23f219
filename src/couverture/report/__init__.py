"""couverture.report: the PDF diagnostic (WeasyPrint) and the territory portraits.

- :func:`build_report`: the A4 PDF of a diagnostic (or one territory's portrait);
- :func:`portrait`: a territory's key figures beside the département's and
  France métropolitaine's (also shown on the atlas's territory pages).
"""

from __future__ import annotations

from .build import build_report, report_html
from .portrait import portrait, reference_nationale, territoires

__all__ = [
    "build_report",
    "portrait",
    "reference_nationale",
    "report_html",
    "territoires",
]
