"""The QPV page family: the quartiers prioritaires, their population in a ZVS and within reach.

:func:`context` turns a :class:`~couverture.analysis.diagnostic.Diagnostic`
holding a QPV table (``diagnostic.qpv``, from :func:`couverture.qpv_coverage`)
into the plain dict the ``qpv.html`` template shows: every number already in
French text, « n.d. » with its reason where the input does not support it
(no ZVS given), never 0. :func:`quartier_context` does the same for the page
of one quartier.

Examples
--------
>>> import pandas as pd
>>> from types import SimpleNamespace
>>> q = pd.DataFrame({"nom_qp": ["Les Tilleuls"], "population": [1200], "n_unites": [30],
...     "population_zvs": [float("nan")], "part_zvs_pct": [float("nan")],
...     "population_a_portee": [800], "part_a_portee_pct": [66.7], "n_structures": [0],
...     "n_structures_a_portee": [2], "sans_structure": [True], "sans_structure_a_portee": [False]},
...     index=pd.Index(["QN01301M"], name="code_qp"))
>>> d = SimpleNamespace(qpv=q, qpv_structures=None, params=SimpleNamespace(radius=1000),
...                     demande="population", sources={})
>>> c = context(d)
>>> c["lignes"][0]["zvs"], c["resume"]["sans_structure"]
('n.d. (aucune zone de vie sociale fournie)', '1')
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from ...maps._format import format_number

__all__ = ["context", "quartier_context", "slug"]

ND_ZVS = "n.d. (aucune zone de vie sociale fournie)"
SOURCE = "ANCT, quartiers prioritaires de la politique de la ville 2024"


def slug(code: str) -> str:
    """File name of a quartier's page.

    Examples
    --------
    >>> slug("QN01301M")
    'qn01301m'
    """
    return re.sub(r"[^a-z0-9-]+", "-", str(code).lower()).strip("-") or "qpv"


def _n(value: Any, decimals: int = 0) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n.d."
    return format_number(float(value), decimals)


def _row(code: str, r: pd.Series, has_zones: bool) -> dict[str, Any]:
    return {
        "code": str(code),
        "nom": str(r.get("nom_qp", "") or code),
        "href": f"qpv/{slug(code)}.html",
        "population": _n(r["population"]),
        "zvs": (f"{_n(r['population_zvs'])} ({_n(r['part_zvs_pct'], 1)} %)" if has_zones else ND_ZVS),
        "a_portee": f"{_n(r['population_a_portee'])} ({_n(r['part_a_portee_pct'], 1)} %)",
        "n_structures": _n(r["n_structures"]),
        "n_structures_a_portee": _n(r["n_structures_a_portee"]),
        "sans_structure": "oui" if bool(r["sans_structure"]) else "non",
        "sans_structure_a_portee": "oui" if bool(r["sans_structure_a_portee"]) else "non",
    }


def context(diagnostic) -> dict[str, Any]:
    """Context of the QPV index page (``qpv/index.html``).

    Returns
    -------
    dict
        ``lignes`` (one dict per QPV, texts), ``resume`` (counts as text),
        ``structures`` (share of structures in a QPV by type, or None),
        ``rayon_km``, ``demande``, ``source``, ``zvs_fournies``.
    """
    q = diagnostic.qpv
    has_zones = bool(q["population_zvs"].notna().any()) if len(q) else False
    rayon_km = format_number(float(diagnostic.params.radius) / 1000, 1).replace(",0", "")
    share = getattr(diagnostic, "qpv_structures", None)
    structures = None
    if share is not None:
        structures = [
            {
                "type": str(t),
                "n": _n(r["n_structures"]),
                "en_qpv": _n(r["n_en_qpv"]),
                "part": _n(r["part_en_qpv_pct"], 1),
            }
            for t, r in share.iterrows()
        ]
    return {
        "lignes": [_row(code, r, has_zones) for code, r in q.iterrows()],
        "resume": {
            "n": _n(len(q)),
            "population": _n(q["population"].sum()),
            "sans_structure": _n(int(q["sans_structure"].sum())),
            "sans_structure_a_portee": _n(int(q["sans_structure_a_portee"].sum())),
        },
        "structures": structures,
        "rayon_km": rayon_km,
        "demande": "habitants",
        "source": diagnostic.sources.get("qpv", SOURCE),
        "zvs_fournies": has_zones,
        "nd_zvs": ND_ZVS,
    }


def quartier_context(diagnostic, code: str) -> dict[str, Any]:
    """Context of one quartier's page: its row and the figures as (label, value) pairs.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> q = pd.DataFrame({"population": [10], "population_zvs": [4.0], "part_zvs_pct": [40.0],
    ...     "population_a_portee": [10], "part_a_portee_pct": [100.0], "n_structures": [1],
    ...     "n_structures_a_portee": [1], "sans_structure": [False],
    ...     "sans_structure_a_portee": [False]}, index=["QN01301M"])
    >>> d = SimpleNamespace(qpv=q, params=SimpleNamespace(radius=1000), sources={})
    >>> quartier_context(d, "QN01301M")["quartier"]["zvs"]
    '4 (40,0 %)'
    """
    q = diagnostic.qpv
    has_zones = bool(q["population_zvs"].notna().any())
    row = _row(code, q.loc[code], has_zones)
    return {
        "quartier": row,
        "source": diagnostic.sources.get("qpv", SOURCE),
        "rayon_km": format_number(float(diagnostic.params.radius) / 1000, 1).replace(",0", ""),
    }
