"""Two-step floating catchment area (2SFCA) accessibility, classical and enhanced.

For each structure *j*, step 1 divides its supply ``S_j`` (1 per structure, or
its capacity) by the demand within reach::

    R_j = S_j / sum_k( P_k * w(d_kj) )        over units k with d_kj <= max_distance

and step 2 sums, for each unit *i*, the ratios of the structures within reach::

    A_i = sum_j( R_j * w(d_ij) )              over structures j with d_ij <= max_distance

With ``decay=None`` the weight ``w`` is 1 (classical 2SFCA, Luo & Wang 2003):
``A_i`` is then the same number as PySAL ``access`` ``two_stage_fca`` without
normalisation. A decay gives the enhanced 2SFCA (Luo & Qi 2009), the weight
applying in both steps as in ``access``'s ``weight_fn``.

Units are structures (or capacity) per inhabitant: multiply by 10,000 for
"per 10,000 inhabitants". A unit with nothing in reach gets 0; a structure
with no demand in reach (only empty units) has a ratio of 0 (PySAL ``access``
would give an infinite ratio there).

The computation is one sparse matrix product in coordinate form: the pairs
(unit, structure) within ``max_distance`` come from a k-d tree (or the cost
table) and both sums are weighted bincounts over them — no loop over rows.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import Point
>>> d = gpd.GeoDataFrame({"population": [100, 300]},
...                      geometry=[Point(0, 0), Point(10, 0)], crs=2154)
>>> s = gpd.GeoDataFrame({"structure_id": ["A"]}, geometry=[Point(5, 0)], crs=2154)
>>> two_step_fca(d, s, 5).tolist()
[0.0025, 0.0025]
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from .._validate import warn_short_distance
from ..errors import InputError, Probleme
from ._costs import Types, pairs_within, prepare_inputs
from ._points import numeric_column

logger = logging.getLogger(__name__)

__all__ = ["two_step_fca", "decay_weights"]

Decay = None | str | tuple | Sequence[tuple[float, float]] | Callable[[np.ndarray], np.ndarray]

_GAUSS = {"gaussian", "gaussienne", "gauss"}
_POWER = {"power", "puissance"}


def _decay_error(decay: Any, why: str) -> InputError:
    return InputError(
        Probleme(
            f"{why} (reçu {decay!r}). Attendu : None, une liste de paliers "
            "[(borne_supérieure, poids), ...], une fonction des distances, "
            "« gaussian » ou (« gaussian », d0), « power » ou (« power », beta[, d_min])",
            fichier="decay",
        )
    )


def decay_weights(d: np.ndarray, decay: Decay, max_distance: float) -> np.ndarray:  # noqa: C901  (one branch per accepted form of decay: None, steps, callable, name, (name, params))
    """Weight of each distance for the enhanced 2SFCA.

    Parameters
    ----------
    d : ndarray
        Distances (or costs), all ``<= max_distance``.
    decay : None, sequence of (upper bound, weight), callable, str or tuple
        - ``None``: weight 1 (classical 2SFCA);
        - steps ``[(b1, w1), (b2, w2), ...]`` with increasing bounds: a distance
          ``d`` gets the weight of the first step with ``d <= b``; beyond the
          last bound the weight is 0;
        - a callable receiving the array of distances and returning the array
          of weights (vectorised, non-negative);
        - ``"gaussian"`` or ``("gaussian", d0)``: Gaussian weight of Dai (2010),
          ``(exp(-(d/d0)²/2) - exp(-1/2)) / (1 - exp(-1/2))``, 1 at 0 and 0 at
          ``d0`` (default ``d0 = max_distance``; 0 beyond ``d0``);
        - ``"power"`` or ``("power", beta)`` or ``("power", beta, d_min)``:
          ``min(1, (d / d_min) ** -beta)``, full weight up to ``d_min`` then a
          power decay (defaults ``beta = 1``, ``d_min = max_distance / 10``).
    max_distance : float
        Catchment size.

    Returns
    -------
    ndarray of float64, same length as ``d``.

    Examples
    --------
    >>> d = np.array([0.0, 5.0, 7.0, 10.0])
    >>> decay_weights(d, [(5, 1.0), (10, 0.5)], 10).tolist()
    [1.0, 1.0, 0.5, 0.5]
    >>> decay_weights(d, "gaussian", 10).round(3).tolist()
    [1.0, 0.701, 0.448, 0.0]
    >>> decay_weights(d, ("power", 2, 5), 10).tolist()
    [1.0, 1.0, 0.5102040816326531, 0.25]
    """
    d = np.asarray(d, dtype=np.float64)
    if decay is None:
        return np.ones_like(d)
    name: str | None = None
    params: tuple[Any, ...] = ()
    if isinstance(decay, str):
        name = decay
    elif isinstance(decay, tuple) and decay and isinstance(decay[0], str):
        name, params = decay[0], tuple(decay[1:])
    if name is not None:
        key = name.strip().lower()
        try:
            params = tuple(float(p) for p in params)
        except (TypeError, ValueError):
            raise _decay_error(decay, "paramètre de décroissance non numérique") from None
        if key in _GAUSS:
            if len(params) > 1:
                raise _decay_error(decay, "la gaussienne prend un seul paramètre, d0")
            d0 = params[0] if params else max_distance
            if not (np.isfinite(d0) and d0 > 0):
                raise _decay_error(decay, "d0 doit être un nombre strictement positif")
            e = np.exp(-0.5)
            w = (np.exp(-0.5 * (d / d0) ** 2) - e) / (1.0 - e)
            return np.where(d <= d0, np.clip(w, 0.0, 1.0), 0.0)
        if key in _POWER:
            if len(params) > 2:
                raise _decay_error(decay, "la loi puissance prend au plus beta et d_min")
            beta = params[0] if params else 1.0
            d_min = params[1] if len(params) > 1 else max_distance / 10.0
            if not (np.isfinite(beta) and beta > 0 and np.isfinite(d_min) and d_min > 0):
                raise _decay_error(decay, "beta et d_min doivent être strictement positifs")
            with np.errstate(divide="ignore"):
                return np.minimum(1.0, (np.maximum(d, d_min) / d_min) ** -beta)
        raise _decay_error(decay, f"fonction de décroissance inconnue : « {name} »")
    if callable(decay):
        try:
            w = np.asarray(decay(d.copy()), dtype=np.float64)
        except Exception as exc:  # the user's function failed
            raise _decay_error(decay, f"la fonction de décroissance a échoué : {exc}") from exc
        if w.ndim == 0:  # a constant
            w = np.full(d.shape, float(w))
        if w.shape != d.shape:
            raise _decay_error(decay, f"la fonction doit rendre un poids par distance ({w.shape} au lieu de {d.shape})")
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise _decay_error(decay, "la fonction a rendu des poids négatifs ou non finis")
        return w
    try:
        steps = np.asarray([(float(b), float(w)) for b, w in decay], dtype=np.float64)  # type: ignore[str-unpack]
    except (TypeError, ValueError):
        raise _decay_error(decay, "décroissance illisible") from None
    if steps.ndim != 2 or len(steps) == 0:
        raise _decay_error(decay, "liste de paliers vide")
    bounds, weights = steps[:, 0], steps[:, 1]
    if np.any(np.diff(bounds) <= 0) or np.any(~np.isfinite(steps)):
        raise _decay_error(decay, "les bornes des paliers doivent être finies et croissantes")
    if np.any(weights < 0):
        raise _decay_error(decay, "les poids des paliers doivent être positifs ou nuls")
    k = np.searchsorted(bounds, d, side="left")
    return np.where(k < len(bounds), weights[np.minimum(k, len(bounds) - 1)], 0.0)


def two_step_fca(
    demand: gpd.GeoDataFrame,
    supply: gpd.GeoDataFrame,
    max_distance: float,
    *,
    demand_col: str = "population",
    supply_col: str | None = None,
    decay: Decay = None,
    cost: pd.DataFrame | None = None,
    types: Types = None,
) -> pd.Series:
    """Two-step floating catchment area accessibility of each unit.

    Parameters
    ----------
    demand : GeoDataFrame
        Units with a population column; distances from their analysis point
        (``point`` column, else representative point).
    supply : GeoDataFrame
        Structures (points).
    max_distance : float
        Catchment size, in metres (or in the cost table's unit). Pairs at
        exactly ``max_distance`` are in reach.
    demand_col : str
        Demand column (inhabitants).
    supply_col : str, optional
        Capacity column of supply; ``None``: each structure counts 1.
    decay : optional
        Distance decay for the enhanced 2SFCA, see :func:`decay_weights`
        (steps ``[(upper bound, weight), ...]``, callable, ``"gaussian"``,
        ``"power"``). ``None``: classical 2SFCA.
    cost : DataFrame, optional
        Origin–destination table (``origin``, ``destination``, ``cost``)
        replacing straight-line distances; absent pairs are out of reach.
    types : str or list of str, optional
        Keep only these structure types (``"CS"``, ``"EVS"``).

    Returns
    -------
    pandas.Series
        On demand's index, named ``accessibilite_2sfca``: structures (or
        capacity) per inhabitant, 0 where nothing is in reach.

    Examples
    --------
    Two units share structure A; the second also reaches B alone:

    >>> from shapely.geometry import Point
    >>> d = gpd.GeoDataFrame({"population": [100, 300]},
    ...                      geometry=[Point(0, 0), Point(10, 0)], crs=2154)
    >>> s = gpd.GeoDataFrame({"structure_id": ["A", "B"], "capacite": [2, 1]},
    ...                      geometry=[Point(5, 0), Point(14, 0)], crs=2154)
    >>> two_step_fca(d, s, 5).tolist()              # 1/400 ; 1/400 + 1/300
    [0.0025, 0.005833333333333334]
    >>> two_step_fca(d, s, 5, supply_col="capacite").tolist()
    [0.005, 0.008333333333333333]
    """
    try:
        max_distance = float(max_distance)
    except (TypeError, ValueError):
        raise InputError(Probleme(f"un nombre est attendu, reçu {max_distance!r}", fichier="max_distance")) from None
    if not np.isfinite(max_distance) or max_distance < 0:
        raise InputError(
            Probleme(
                f"une distance finie positive ou nulle est attendue, reçu {max_distance!r}",
                fichier="max_distance",
            )
        )
    dem_xy, supply, sup_xy, table, pop = prepare_inputs(demand, supply, cost=cost, types=types, demand_col=demand_col)
    if table is None:
        warn_short_distance(max_distance, "max_distance", dem_xy)
    if supply_col is None:
        capacity = np.ones(len(supply))
    else:
        capacity = numeric_column(supply, supply_col, "supply")
    n, m = len(dem_xy), len(sup_xy)
    i, j, dist = pairs_within(dem_xy, sup_xy, max_distance, table)
    w = decay_weights(dist, decay, max_distance)
    # step 1: demand reaching each structure, supply-to-demand ratio
    reached = np.bincount(j, weights=w * pop[i], minlength=m)
    ratio = np.divide(capacity, reached, out=np.zeros(m), where=reached > 0)
    # step 2: sum of the ratios in reach of each unit
    access = np.bincount(i, weights=w * ratio[j], minlength=n).astype(np.float64)
    out = pd.Series(access, index=demand.index.copy(), name="accessibilite_2sfca")
    out.attrs["unite"] = "structures par habitant" if supply_col is None else f"{supply_col} par habitant"
    out.attrs["max_distance"] = max_distance
    return out
