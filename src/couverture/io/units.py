"""Fine units (200 m cells, IRIS) shaped as the analysis units of a Territory.

A :class:`~couverture.territory.Territory` takes any polygon layer with a
unique ``code_insee`` and a ``population`` as its units. :func:`as_units`
gives each cell or IRIS its own identifier in ``code_insee`` (the cell id, the
IRIS code), keeps its commune in ``commune`` and adds the commune's ``nom``,
``epci`` (and ``epci_nom``, ``departement``), so that the diagnostic's levels
``commune`` and ``epci`` aggregate the fine units exactly.

Examples
--------
>>> import geopandas as gpd, pandas as pd
>>> from shapely.geometry import box
>>> fine = gpd.GeoDataFrame({"code_insee": ["13001", "13001"], "population": [3, 4]},
...     geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=2154,
...     index=pd.Index(["c1", "c2"], name="id_unite"))
>>> communes = pd.DataFrame({"code_insee": ["13001"], "nom": ["Aix"], "epci": ["200054807"]})
>>> as_units(fine, communes)[["code_insee", "commune", "nom", "epci"]].values.tolist()
[['c1', '13001', 'Aix (c1)', '200054807'], ['c2', '13001', 'Aix (c2)', '200054807']]
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = ["as_units"]


def as_units(fine: gpd.GeoDataFrame, communes: pd.DataFrame | None = None) -> gpd.GeoDataFrame:
    """Fine units with a unique ``code_insee`` (their id) and their commune's levels.

    Parameters
    ----------
    fine : GeoDataFrame
        Result of :func:`couverture.read_grid` or :func:`couverture.read_iris`
        (``code_insee`` = commune, unique index = unit id).
    communes : DataFrame, optional
        Communes with ``code_insee``, ``nom``, ``epci``, ``epci_nom``,
        ``departement`` (the columns present are copied).

    Returns
    -------
    geopandas.GeoDataFrame
        Same rows and index; ``code_insee`` = unit id, ``commune`` = commune
        code, ``nom`` = commune name and unit id, the commune's levels.
    """
    out = fine.copy()
    out["commune"] = out["code_insee"].astype(object)
    ids = out.index.astype(str).to_numpy(dtype=object)
    out["code_insee"] = ids
    if communes is not None:
        table = pd.DataFrame(communes).drop_duplicates("code_insee").set_index("code_insee")
        for col in ("epci", "epci_nom", "departement"):
            if col in table.columns and col not in out.columns:
                out[col] = table[col].reindex(out["commune"].to_numpy()).to_numpy()
        if "nom" in table.columns:
            names = table["nom"].reindex(out["commune"].to_numpy()).fillna("").astype(str)
            out["nom"] = names.to_numpy(dtype=object) + " (" + ids + ")"
    if "nom" not in out.columns:
        out["nom"] = ids
    out["nom"] = np.asarray(out["nom"], dtype=object)
    return out
