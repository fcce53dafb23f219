"""The « Zones blanches » page (or « Zones blanches de proximité » without ZVS): its context.

Examples
--------
>>> import pandas as pd
>>> from couverture.atlas.model import AtlasModel
>>> gaps = pd.DataFrame({"population": [120], "surface_km2": [3.5], "n_communes": [1], "codes_insee": ["13004"],
...                      "distance_structure_m": [1500.0], "structure_proche": ["S1"]}, index=pd.Index([1], name="rang"))
>>> m = AtlasModel(False, False, False, False, False, 5000.0, {"13004": "13004"}, {"S1": "s1"},
...                {"13004": "Plaine"}, {"S1": "Centre"}, gaps, None)
>>> c = context(m)
>>> c["titre"], c["lignes"][0]["unites"], c["membres"]
('Zones blanches de proximité', [{'href': 'communes/13004.html', 'texte': 'Plaine'}], ['13004'])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..model import AtlasModel

__all__ = ["PATH", "TEMPLATE", "context"]

TEMPLATE = "zones_blanches.html"
PATH = "zones-blanches.html"


def _codes(text: Any) -> list[str]:
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return []
    return [c for c in str(text).split("; ") if c]


def _number(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def context(model: AtlasModel) -> dict[str, Any]:
    """Title, ranked rows (raw numbers), total population and highlighted units of the page.

    Rows: ``rang``, ``population`` (inhabitants), ``surface`` (km²), ``n`` (units),
    ``unites`` (links), ``distance_m`` (metres to the nearest structure),
    ``proche`` (link to it or None). ``total`` is the key figure of the
    population in these zones (None when the diagnostic has none).
    """
    title = "Zones blanches" if model.has_zones else "Zones blanches de proximité"
    rows, members = [], []
    gaps = model.gaps
    if gaps is not None and len(gaps):
        for rang, row in gaps.iterrows():  # a few dozen zones at most: a page row each
            codes = [c for c in _codes(row.get("codes_insee")) if c in model.unit_slugs]
            members += codes
            proche = str(row.get("structure_proche", "") or "")
            rows.append(
                {
                    "rang": int(rang),
                    "population": _number(row.get("population")),
                    "surface": _number(row.get("surface_km2")),
                    "n": _number(row.get("n_communes")),
                    "unites": [model.unit_link(c) for c in codes],
                    "distance_m": _number(row.get("distance_structure_m")),
                    "proche": model.structure_link(proche) if proche else None,
                }
            )
    key = (
        "Population en zone blanche (hors ZVS)"
        if model.has_zones
        else f"Population à plus de {model.radius_km} km d'une structure"
    )
    return {
        "titre": title,
        "lignes": rows,
        "total": model.key_figure(key),
        "membres": members,
        "fil": [("Accueil", "index.html"), (title, None)],
        "carte_libelle": f"Carte interactive des {title.lower()}",
        "effectifs_de": f"des {title.lower()}",
    }
