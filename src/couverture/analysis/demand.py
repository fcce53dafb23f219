"""Demand by need: any population-like column as the demand, several side by side.

The demand of 2SFCA, ``population_within``, the siting scenarios and the
equity indices is a column name (``demand_col``): ``population`` (all
inhabitants), or one of INSEE's counts on the grid (``men_fmp`` single-parent
households, ``men_pauv`` poor households, ``ind_0_3`` … ``ind_80p`` age
bands) or by IRIS (``P21_POP0014``...). :func:`with_demand` adds the derived
``ind_0_17`` (0–17 year-olds: ``ind_0_3 + ind_4_5 + ind_6_10 + ind_11_17``)
when asked, and :func:`demand_table` shows several demands side by side.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import Point
>>> u = gpd.GeoDataFrame({"population": [100, 50], "men_fmp": [3.0, 9.0]},
...                      geometry=[Point(0, 0), Point(10_000, 0)], crs=2154)
>>> s = gpd.GeoDataFrame({"structure_id": ["A"], "type": ["CS"]}, geometry=[Point(0, 0)], crs=2154)
>>> t = demand_table(u, s, ["population", "men_fmp"], radius=5000, max_distance=5000)
>>> t[["total", "a_portee", "part_a_portee_pct"]].round(1).values.tolist()
[[150.0, 100.0, 66.7], [12.0, 3.0, 25.0]]
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import InputError, Probleme
from .fca import two_step_fca
from .proximity import nearest_distance

__all__ = ["DEMAND_LABELS", "demand_label", "demand_table", "with_demand"]

#: French labels of the usual demands (INSEE names), with their unit.
DEMAND_LABELS = {
    "population": "habitants",
    "ind": "individus (Filosofi)",
    "men": "ménages",
    "men_pauv": "ménages pauvres",
    "men_fmp": "ménages monoparentaux",
    "men_1ind": "ménages d'une personne",
    "men_5ind": "ménages de 5 personnes ou plus",
    "ind_0_3": "enfants de 0 à 3 ans",
    "ind_4_5": "enfants de 4 à 5 ans",
    "ind_6_10": "enfants de 6 à 10 ans",
    "ind_11_17": "jeunes de 11 à 17 ans",
    "ind_0_17": "jeunes de 0 à 17 ans",
    "ind_18_24": "jeunes de 18 à 24 ans",
    "ind_65_79": "personnes de 65 à 79 ans",
    "ind_80p": "personnes de 80 ans ou plus",
}
_DERIVED = {"ind_0_17": ("ind_0_3", "ind_4_5", "ind_6_10", "ind_11_17")}


def demand_label(name: str) -> str:
    """French label of a demand column (the column name itself when unknown).

    Examples
    --------
    >>> demand_label("men_fmp"), demand_label("P21_POP0014")
    ('ménages monoparentaux', 'P21_POP0014')
    """
    return DEMAND_LABELS.get(name, name)


def with_demand(units: pd.DataFrame, names) -> pd.DataFrame:
    """``units`` with each demand of ``names`` present (derived ones summed), else an error.

    Examples
    --------
    >>> u = pd.DataFrame({"ind_0_3": [1.0], "ind_4_5": [2.0], "ind_6_10": [3.0], "ind_11_17": [4.0]})
    >>> with_demand(u, ["ind_0_17"])["ind_0_17"].tolist()
    [10.0]
    """
    names = [names] if isinstance(names, str) else list(names)
    out = units
    for name in names:
        if name in out.columns:
            continue
        parts = _DERIVED.get(name)
        if parts and all(p in out.columns for p in parts):
            out = out.copy() if out is units else out
            out[name] = out[list(parts)].sum(axis=1)
            continue
        raise InputError(
            Probleme(
                f"demande « {name} » absente des unités d'analyse (colonnes numériques disponibles : "
                f"{', '.join(c for c in units.columns if pd.api.types.is_numeric_dtype(units[c]))})",
                fichier="demande",
            )
        )
    return out


def demand_table(
    units: gpd.GeoDataFrame,
    structures: gpd.GeoDataFrame,
    demands,
    *,
    radius: float,
    max_distance: float,
    decay=None,
    covered: np.ndarray | pd.Series | None = None,
    distance: pd.Series | None = None,
) -> pd.DataFrame:
    """Several demands side by side: total, in a ZVS, within ``radius``, 2SFCA.

    Parameters
    ----------
    units, structures : GeoDataFrame
    demands : list of str
        Demand columns (``"population"``, ``"men_fmp"``, ``"ind_0_17"``...).
    radius : float
        Metres, for ``a_portee``.
    max_distance, decay
        Of the 2SFCA (see :func:`two_step_fca`), computed for each demand.
    covered : array of bool, optional
        Units in a ZVS (``zone_coverage(...)["couvert"]``); without it the ZVS
        columns are NaN (n.d.).
    distance : Series, optional
        Distance to the nearest structure (default computed).

    Returns
    -------
    pandas.DataFrame
        Index ``demande``; ``libelle``, ``total``, ``dans_zvs``,
        ``part_zvs_pct``, ``a_portee``, ``part_a_portee_pct``,
        ``acces_2sfca_moyen`` (structures per 10 000 of that demand, mean
        weighted by it).
    """
    units = with_demand(units, demands)
    d = (distance if distance is not None else nearest_distance(units, structures)).to_numpy(float)
    cov = None if covered is None else np.asarray(covered, dtype=bool)
    rows = []
    for name in demands:
        w = units[name].to_numpy(dtype=float)
        total = w.sum()
        near = w[d <= radius].sum()
        inside = w[cov].sum() if cov is not None else np.nan
        acc = two_step_fca(units, structures, max_distance, demand_col=name, decay=decay).to_numpy()
        mean_acc = float(np.average(acc, weights=w) * 10_000) if total > 0 else np.nan
        rows.append((name, demand_label(name), total, inside, near, mean_acc))
    out = pd.DataFrame(
        rows, columns=["demande", "libelle", "total", "dans_zvs", "a_portee", "acces_2sfca_moyen"]
    ).set_index("demande")
    tot = out["total"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["part_zvs_pct"] = np.where(tot > 0, 100 * out["dans_zvs"] / tot, np.nan)
        out["part_a_portee_pct"] = np.where(tot > 0, 100 * out["a_portee"] / tot, np.nan)
    out = out[["libelle", "total", "dans_zvs", "part_zvs_pct", "a_portee", "part_a_portee_pct", "acces_2sfca_moyen"]]
    out.attrs["unites"] = {
        "total": "unité de chaque demande",
        "acces_2sfca_moyen": "structures pour 10 000 unités de la demande",
    }
    return out
