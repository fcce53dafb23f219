"""Proximity: distance to the nearest structure, population within a radius, catchments.

Distances are measured from each unit's *analysis point* (the ``point``
column — mairie, chef-lieu — when the layer has one, otherwise the polygon's
representative point) to the structures' points:

- by default in a straight line, in metres, in the layers' metric CRS
  (:class:`scipy.spatial.cKDTree`);
- with ``cost=``, from a user's origin–destination table (long DataFrame with
  columns ``origin`` = unit ``code_insee`` or demand index, ``destination`` =
  ``structure_id`` or supply index, ``cost`` in minutes or metres). A pair
  absent from the table is unreachable.

"Within a radius" always means distance (or cost) ``<=`` radius: a structure
exactly at the radius counts.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import Point
>>> communes = gpd.GeoDataFrame(
...     {"code_insee": ["01001", "01002"], "population": [100, 50]},
...     geometry=[Point(0, 0), Point(3000, 4000)], crs=2154)
>>> structures = gpd.GeoDataFrame({"structure_id": ["CS1"], "type": ["CS"]},
...                               geometry=[Point(0, 0)], crs=2154)
>>> nearest_distance(communes, structures).tolist()
[0.0, 5000.0]
>>> population_within(communes, structures, 5000)
150
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .._validate import warn_short_distance
from ..errors import InputError, Probleme
from ._costs import Types, nearest_cost, nearest_euclidean, pairs_within, prepare_inputs
from ._points import integer_if_whole

logger = logging.getLogger(__name__)

__all__ = ["nearest_distance", "population_within", "catchments"]


def _check_radius(radius: Any, name: str = "radius") -> float:
    try:
        value = float(radius)
    except (TypeError, ValueError):
        raise InputError(Probleme(f"{name} : un nombre est attendu, reçu {radius!r}", fichier=name)) from None
    if np.isnan(value) or value < 0:
        raise InputError(Probleme(f"{name} : une valeur positive ou nulle est attendue, reçu {radius!r}", fichier=name))
    return value


def nearest_distance(
    demand: gpd.GeoDataFrame,
    supply: gpd.GeoDataFrame,
    *,
    cost: pd.DataFrame | None = None,
    types: Types = None,
) -> pd.Series:
    """Distance (or cost) from each unit's analysis point to the nearest structure.

    Parameters
    ----------
    demand : GeoDataFrame
        Units (communes, IRIS...) in a metric CRS; the ``point`` column is used
        when present, else the representative point of each polygon.
    supply : GeoDataFrame
        Structures (points). Reprojected to demand's CRS if needed.
    cost : DataFrame, optional
        Origin–destination table (``origin``, ``destination``, ``cost``);
        replaces the straight-line distance. Absent pairs are unreachable.
    types : str or list of str, optional
        Keep only these structure types (``"CS"``, ``"EVS"``, or both).

    Returns
    -------
    pandas.Series
        On demand's index, float: metres (``name="distance_m"``) or the table's
        unit (``name="cout"``). ``NaN`` where no structure is reachable (no
        structure at all, or no pair in the cost table).

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> d = gpd.GeoDataFrame({"population": [10, 20]},
    ...                      geometry=[box(0, 0, 2, 2), box(10, 0, 12, 2)], crs=2154)
    >>> s = gpd.GeoDataFrame({"structure_id": ["A"], "type": ["EVS"]},
    ...                      geometry=[Point(4, 1)], crs=2154)
    >>> nearest_distance(d, s).tolist()
    [3.0, 7.0]
    >>> nearest_distance(d, s, cost=pd.DataFrame(
    ...     {"origin": [0], "destination": ["A"], "cost": [12.0]})).tolist()
    [12.0, nan]
    """
    dem_xy, supply, sup_xy, table, _ = prepare_inputs(demand, supply, cost=cost, types=types)
    if table is not None:
        d, _ = nearest_cost(table)
        name = "cout"
    else:
        d, _ = nearest_euclidean(dem_xy, sup_xy)
        name = "cout" if cost is not None else "distance_m"
    return pd.Series(d, index=demand.index.copy(), name=name, dtype="float64")


def population_within(
    demand: gpd.GeoDataFrame,
    supply: gpd.GeoDataFrame,
    radius: float,
    *,
    cost: pd.DataFrame | None = None,
    demand_col: str = "population",
    types: Types = None,
) -> int | float:
    """Total population whose analysis point is within ``radius`` of any structure.

    A unit counts when its distance (or cost) to the nearest structure is
    ``<= radius``: a structure exactly at the radius counts as within.

    Parameters
    ----------
    demand, supply, cost, types
        As in :func:`nearest_distance`.
    radius : float
        Metres (Euclidean) or the cost table's unit.
    demand_col : str
        Population column of demand.

    Returns
    -------
    int or float
        An int when the populations are whole numbers (exact sum).

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> d = gpd.GeoDataFrame({"population": [10, 20, 5]},
    ...                      geometry=[Point(0, 0), Point(3, 4), Point(9, 9)], crs=2154)
    >>> s = gpd.GeoDataFrame({"structure_id": ["A"]}, geometry=[Point(0, 0)], crs=2154)
    >>> population_within(d, s, 5)
    30
    """
    radius = _check_radius(radius)
    dem_xy, supply, sup_xy, table, pop = prepare_inputs(demand, supply, cost=cost, types=types, demand_col=demand_col)
    if table is None:
        warn_short_distance(radius, "radius", dem_xy)
    if table is not None:
        d, _ = nearest_cost(table)
    else:
        d, _ = nearest_euclidean(dem_xy, sup_xy)
    inside = d <= radius  # NaN (unreachable) compares False
    pop = integer_if_whole(pop)
    total = pop[inside].sum()
    return total.item() if hasattr(total, "item") else total


def catchments(
    demand: gpd.GeoDataFrame,
    supply: gpd.GeoDataFrame,
    radius: float,
    *,
    cost: pd.DataFrame | None = None,
    demand_col: str = "population",
    types: Types = None,
) -> pd.DataFrame:
    """Per structure: population and number of units within ``radius`` (``<=``).

    Parameters
    ----------
    demand, supply, cost, types, demand_col
        As in :func:`population_within`.
    radius : float
        Metres (Euclidean) or the cost table's unit.

    Returns
    -------
    pandas.DataFrame
        On supply's index (after the ``types`` filter), with columns

        - ``structure_id`` when supply has it;
        - ``population``: inhabitants whose analysis point is within radius;
        - ``n_unites``: number of units within radius;
        - ``population_exclusive``: inhabitants within radius of this
          structure and of no other one.

        A unit within reach of several structures counts in each of them, so
        ``population`` summed over structures can exceed the population served.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> d = gpd.GeoDataFrame({"population": [10, 20, 5]},
    ...                      geometry=[Point(0, 0), Point(4, 0), Point(8, 0)], crs=2154)
    >>> s = gpd.GeoDataFrame({"structure_id": ["A", "B"]},
    ...                      geometry=[Point(0, 0), Point(8, 0)], crs=2154)
    >>> catchments(d, s, 4)[["population", "n_unites", "population_exclusive"]].values.tolist()
    [[30, 2, 10], [25, 2, 5]]
    """
    radius = _check_radius(radius)
    dem_xy, supply, sup_xy, table, pop = prepare_inputs(demand, supply, cost=cost, types=types, demand_col=demand_col)
    if table is None:
        warn_short_distance(radius, "radius", dem_xy)
    pop = integer_if_whole(pop)
    i, j, _ = pairs_within(dem_xy, sup_xy, radius, table)
    m = len(supply)
    n_reach = np.bincount(i, minlength=len(dem_xy))
    exclusive = n_reach[i] == 1
    out = pd.DataFrame(index=supply.index.copy())
    if "structure_id" in supply.columns:
        out["structure_id"] = supply["structure_id"].to_numpy()
    if np.issubdtype(pop.dtype, np.integer):
        out["population"] = np.bincount(j, weights=pop[i], minlength=m).round().astype(np.int64)
        out["population_exclusive"] = (
            np.bincount(j[exclusive], weights=pop[i[exclusive]], minlength=m).round().astype(np.int64)
        )
    else:
        out["population"] = np.bincount(j, weights=pop[i], minlength=m)
        out["population_exclusive"] = np.bincount(j[exclusive], weights=pop[i[exclusive]], minlength=m)
    out["n_unites"] = np.bincount(j, minlength=m).astype(np.int64)
    out = out[[c for c in ("structure_id", "population", "n_unites", "population_exclusive") if c in out.columns]]
    out.attrs["unites"] = {
        "population": "habitants",
        "population_exclusive": "habitants",
        "n_unites": "nombre d'unités",
    }
    out.attrs["rayon"] = radius
    return out
