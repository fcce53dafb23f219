"""Levels of fine units (200 m cells, IRIS): commune, EPCI, ZVS and QPV, each a partition.

:func:`unit_levels` gives every unit exactly one value per level, so that
:func:`couverture.aggregate` (``by=levels["epci"]``...) counts each inhabitant
once at every level:

- ``code_insee``: the unit's commune (its own column);
- ``epci``: the commune's EPCI (from ``communes``), ``(non renseigné)`` when
  unknown;
- ``zvs``: the ZVS containing the unit's analysis point, as the ``"; "``-joined
  structure ids of every zone containing it — an overlap of two ZVS is its
  own group (``"CS1; EVS2"``), never counted twice — or ``(hors ZVS)``;
- ``code_qp``: the QPV containing the point (first in the layer's order on a
  shared boundary) or ``(hors QPV)``.

Examples
--------
>>> import geopandas as gpd, pandas as pd
>>> from shapely.geometry import Point, box
>>> u = gpd.GeoDataFrame({"code_insee": ["13001", "13001", "13002"], "population": [5, 7, 9]},
...     geometry=[Point(1, 1), Point(5, 1), Point(9, 1)], crs=2154)
>>> c = pd.DataFrame({"code_insee": ["13001", "13002"], "epci": ["200054807", "200054807"]})
>>> z = gpd.GeoDataFrame({"structure_id": ["CS1", "EVS2"]},
...     geometry=[box(0, 0, 6, 2), box(4, 0, 10, 2)], crs=2154)
>>> unit_levels(u, communes=c, zones=z)["zvs"].tolist()
['CS1', 'CS1; EVS2', 'EVS2']
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._points import NON_RENSEIGNE, align_crs, analysis_points, ids_of, join_ids
from .qpv import HORS_QPV, qpv_of_points

__all__ = ["HORS_ZVS", "unit_levels"]

#: Label of the units outside every ZVS.
HORS_ZVS = "(hors ZVS)"


def unit_levels(
    units: gpd.GeoDataFrame,
    *,
    communes: pd.DataFrame | None = None,
    zones: gpd.GeoDataFrame | None = None,
    qpv: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """One value per unit and level (commune, EPCI, ZVS, QPV): a partition at each level.

    Parameters
    ----------
    units : GeoDataFrame
        Fine units with ``code_insee`` (their commune).
    communes : DataFrame, optional
        Communes with ``code_insee`` and ``epci`` (SIREN).
    zones, qpv : GeoDataFrame, optional
        ZVS (``structure_id``) and QPV layers.

    Returns
    -------
    pandas.DataFrame
        On units' index, columns among ``code_insee``, ``epci``, ``zvs``,
        ``code_qp`` (strings, never missing).
    """
    out = pd.DataFrame(index=units.index.copy())
    if "code_insee" in units.columns:
        out["code_insee"] = units["code_insee"].astype(object).where(
            units["code_insee"].notna(), NON_RENSEIGNE).astype(str).to_numpy()
    if communes is not None and "epci" in communes.columns and "code_insee" in out.columns:
        table = pd.Series(communes["epci"].to_numpy(), index=communes["code_insee"].astype(str))
        table = table[~table.index.duplicated()]
        epci = table.reindex(out["code_insee"].to_numpy()).to_numpy(dtype=object)
        out["epci"] = np.where(pd.isna(epci), NON_RENSEIGNE, epci).astype(str)
    xy = analysis_points(units, "units") if zones is not None or qpv is not None else None
    if zones is not None:
        zones = align_crs(zones, units.crs, "zones")
        tree = shapely.STRtree(np.asarray(zones.geometry.values))
        pi, zi = tree.query(shapely.points(xy), predicate="intersects")
        joined = join_ids(pi, ids_of(zones)[zi], len(units))
        out["zvs"] = np.where(joined == "", HORS_ZVS, joined).astype(str)
    if qpv is not None:
        qpv = align_crs(qpv, units.crs, "qpv")
        rows = qpv_of_points(qpv, xy)
        codes = (qpv["code_qp"] if "code_qp" in qpv.columns else qpv.index.to_series())
        codes = codes.astype(str).to_numpy(dtype=object)
        out["code_qp"] = np.where(rows >= 0, codes[np.maximum(rows, 0)], HORS_QPV).astype(str)
    return out
