"""Timeline: coverage and equity year by year, and the communes' entry into the convention.

:func:`timeline` rebuilds the network as it stood on 31 December of each
year from the structures' ``date_agrement`` (and optional
``date_fermeture``), and computes for each year the coverage by the zones de
vie sociale, the distances, the 2SFCA accessibility and their Gini index,
and — from a table of the communes' entry into the *convention cadre des
centres sociaux* — the communes that had signed it. The atlas page
« Évolution » and the diagnostic export read this table; its columns are
described in :data:`COLONNES_TIMELINE`.

:func:`read_convention` reads the table of entries (``code_insee``,
``annee_entree``, optional ``annee_sortie``); the bundled
``data/demo/convention-communes.csv`` holds the nine real signatories of the
Bouches-du-Rhône convention of 2015 and fictitious later entries, marked in
its ``source`` column.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import Point, box
>>> units = gpd.GeoDataFrame(
...     {"code_insee": ["01001", "01002"], "population": [300, 100]},
...     geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)], crs=2154)
>>> structures = gpd.GeoDataFrame(
...     {"structure_id": ["A", "B"], "type": ["CS", "EVS"],
...      "date_agrement": pd.to_datetime(["2010-05-01", "2012-01-15"])},
...     geometry=[Point(500, 500), Point(1500, 500)], crs=2154)
>>> zones = gpd.GeoDataFrame({"structure_id": ["A", "B"]},
...                          geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)], crs=2154)
>>> tl = timeline(units, structures, zones, years=[2009, 2011, 2012])
>>> tl[["annee", "n_cs", "n_evs", "population_couverte"]].values.tolist()
[[2009, 0, 0, 0], [2011, 1, 0, 300], [2012, 1, 1, 400]]
>>> tl["taux_couverture_pct"].tolist()
[0.0, 75.0, 100.0]
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import replace
from typing import Any, Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse

from ..codes import normalize_insee, plm_parent
from ..errors import CouvertureWarning, InputError, Probleme
from ..io.convention import read_convention
from ..params import Parameters
from ._points import align_crs, check_layer, integer_if_whole, numeric_column

logger = logging.getLogger(__name__)

__all__ = ["timeline", "read_convention", "COLONNES_TIMELINE"]

PER = 10_000

#: Columns of :func:`timeline`: French label and unit (for the atlas and the exports).
COLONNES_TIMELINE: dict[str, tuple[str, str]] = {
    "annee": ("Année (situation au 31 décembre)", "année"),
    "n_cs": ("Centres sociaux agréés", "structures"),
    "n_evs": ("Espaces de vie sociale agréés", "structures"),
    "n_structures": ("Structures agréées (CS et EVS)", "structures"),
    "structures_pour_10000_hab": ("Structures pour 10 000 habitants", "structures pour 10 000 hab."),
    "population_couverte": ("Population dans une zone de vie sociale", "habitants"),
    "taux_couverture_pct": ("Taux de couverture par les ZVS", "% de la population"),
    "population_dans_rayon": ("Population à portée d'une structure (rayon)", "habitants"),
    "taux_dans_rayon_pct": ("Part de la population à portée d'une structure", "% de la population"),
    "distance_moyenne_m": ("Distance moyenne à la structure la plus proche", "mètres (pondérée par la population)"),
    "gini_distance": ("Indice de Gini des distances", "de 0 (égalité) à 1"),
    "acces_2sfca_moyen": ("Accessibilité 2SFCA moyenne", "structures pour 10 000 hab. (pondérée par la population)"),
    "gini_acces_2sfca": ("Indice de Gini de l'accessibilité 2SFCA", "de 0 (égalité) à 1"),
    "n_communes_signataires": ("Communes signataires de la convention", "communes"),
    "population_signataires": ("Population des communes signataires", "habitants"),
    "part_population_signataires_pct": ("Part de la population dans une commune signataire", "% de la population"),
    "n_communes_avec_structure": ("Communes accueillant au moins une structure", "communes"),
    "n_communes_avec_structure_non_signataires": (
        "Communes accueillant une structure sans avoir signé la convention",
        "communes",
    ),
    "part_structures_signataires_pct": ("Part des structures situées dans une commune signataire", "% des structures"),
}


# --------------------------------------------------------------------------- dates
def _year_of(values: pd.Series, name: str, column: str) -> np.ndarray:
    """Year of each date (float, NaN when missing); unreadable values refused."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.year.to_numpy(dtype=float, na_value=np.nan)
    if pd.api.types.is_numeric_dtype(values):
        years = values.to_numpy(dtype=float)
        bad = np.isfinite(years) & ((years % 1 != 0) | (years < 1800) | (years > 2200))
    else:
        text = values.astype(object).where(values.notna(), None)
        text = text.map(lambda v: None if v is None or not str(v).strip() else str(v).strip())
        dates = pd.to_datetime(text, errors="coerce", dayfirst=True, format="mixed")
        years = dates.dt.year.to_numpy(dtype=float, na_value=np.nan)
        bad = text.notna().to_numpy() & np.isnan(years)
    if bad.any():
        raise InputError(Probleme(f"date illisible pour {int(bad.sum())} structure(s)", fichier=name, colonne=column))
    return years


def _default_years(open_y: Any, close_y: Any, entries: Any, end_year: int | None = None) -> list[int]:
    known = [open_y[np.isfinite(open_y)], close_y[np.isfinite(close_y)]]
    if entries is not None:
        known.append(entries["annee_entree"].dropna().to_numpy(dtype=float))
        known.append(entries["annee_sortie"].dropna().to_numpy(dtype=float))
    allv = np.concatenate(known) if known else np.empty(0)
    if len(allv) == 0:
        raise InputError(
            Probleme("aucune date d'agrément ni d'entrée : indiquez les années (years=[...])", fichier="years")
        )
    first = int(allv.min())
    last = int(allv.max()) if end_year is None else max(int(end_year), first)
    return list(range(first, last + 1))


def _gini_or_nan(values: np.ndarray, weights: np.ndarray) -> float:
    from .equity import gini

    if not np.isfinite(values).all() or values.sum() <= 0 or weights.sum() <= 0:
        return np.nan
    try:
        return float(gini(values, weights=weights))
    except InputError:  # pragma: no cover - degenerate values
        return np.nan


# --------------------------------------------------------------------------- timeline
def timeline(
    units: gpd.GeoDataFrame,
    structures: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame | None = None,
    *,
    years: Iterable[int] | None = None,
    entries: pd.DataFrame | str | os.PathLike | None = None,
    params: Parameters | None = None,
    radius: float | None = None,
    max_distance: float | None = None,
    min_share: float | None = None,
    demand_col: str = "population",
    date_col: str = "date_agrement",
    closing_col: str = "date_fermeture",
    end_year: int | None = None,
) -> pd.DataFrame:
    """Coverage and equity indicators year by year (situation on 31 December).

    A structure is counted in year ``Y`` when it was approved in ``Y`` or
    before (``date_agrement``) and not closed in ``Y`` or before
    (``date_fermeture``, optional column). A structure without an approval
    date is assumed present every year (a warning counts them). Its zone de
    vie sociale follows it.

    Parameters
    ----------
    units : GeoDataFrame
        Units (polygons) with ``code_insee`` and the population, metric CRS.
    structures : GeoDataFrame
        Structures (points) with ``structure_id``, ``type`` and ``date_col``.
    zones : GeoDataFrame, optional
        ZVS with ``structure_id``; without them the coverage columns are 0.
    years : iterable of int, optional
        Years to report; default: from the first to the last year found in
        the dates and in ``entries``.
    entries : DataFrame or path, optional
        Communes' entry into the convention (see :func:`read_convention`).
        A unit is signatory in ``Y`` when its code, or its commune's code for
        an arrondissement municipal, entered in ``Y`` or before and did not
        leave in ``Y`` or before. Without it the convention columns are
        missing values.
    params : Parameters, optional
        Radius (for ``population_dans_rayon``), 2SFCA distance, decay and
        capacity column, coverage threshold (``min_share``): the same as the
        diagnostic's, so that the last year matches it. Default
        ``Parameters()``.
    radius, max_distance, min_share : float, optional
        Override the corresponding field of ``params`` (kept for the
        callers of the previous release).
    demand_col, date_col, closing_col : str
        Column names.
    end_year : int, optional
        Last year of the default ``years`` (the diagnostic passes the current
        year, or the TOML's ``annee_fin``); default: the last year found.

    Returns
    -------
    pandas.DataFrame
        One row per year, the columns of :data:`COLONNES_TIMELINE` in that
        order (``attrs["colonnes"]`` gives each column's French label and
        unit): ``annee``, ``n_cs``, ``n_evs``, ``n_structures``,
        ``structures_pour_10000_hab``, ``population_couverte``,
        ``taux_couverture_pct``, ``population_dans_rayon``,
        ``taux_dans_rayon_pct``, ``distance_moyenne_m``, ``gini_distance``,
        ``acces_2sfca_moyen``, ``gini_acces_2sfca`` (NaN when no structure is
        open), ``n_communes_signataires`` (Marseille counts once),
        ``population_signataires``, ``part_population_signataires_pct``,
        ``n_communes_avec_structure``,
        ``n_communes_avec_structure_non_signataires`` (the communes the
        convention aims to bring in), ``part_structures_signataires_pct``.
        Distances and indices are population-weighted.

    Raises
    ------
    InputError
        Missing columns or CRS, unreadable dates, bad entries table.

    Examples
    --------
    >>> from couverture.io.demo import load_demo
    >>> t = load_demo()
    >>> tl = timeline(t.communes, t.structures, t.zones, years=[2014, 2015, 2024],
    ...               entries=read_convention())
    >>> tl[["annee", "n_communes_signataires"]].values.tolist()
    [[2014, 0], [2015, 9], [2024, 27]]
    """
    if structures is None and hasattr(units, "communes"):  # a Territory
        units, structures, zones = units.communes, units.structures, units.zones
    p = _timeline_params(params, radius, max_distance, min_share)
    check_layer(units, "units", columns=["code_insee", demand_col])
    check_layer(structures, "structures", columns=["structure_id", "type", date_col])
    structures = align_crs(structures, units.crs, "structures")
    pop = numeric_column(units, demand_col, "units")
    if entries is not None:
        entries = read_convention(entries)
    last = end_year if end_year is not None else p.end_year
    yrs, active, undated = _active(structures, date_col, closing_col, years, entries, last)
    total = float(pop.sum())

    out = pd.DataFrame({"annee": yrs.astype(np.int64)})
    types = structures["type"].astype(str).str.upper().to_numpy()
    out["n_cs"] = (active & (types == "CS")[:, None]).sum(0).astype(np.int64)
    out["n_evs"] = (active & (types == "EVS")[:, None]).sum(0).astype(np.int64)
    out["n_structures"] = active.sum(0).astype(np.int64)
    out["structures_pour_10000_hab"] = out["n_structures"] / total * PER if total > 0 else np.nan
    pop_int = integer_if_whole(pop)
    cov_pop = pop_int @ _covered(units, structures, zones, active, p.min_share)
    out["population_couverte"] = cov_pop
    out["taux_couverture_pct"] = 100.0 * cov_pop / total if total > 0 else np.nan
    _access_columns(out, units, structures, active, pop, p, demand_col)
    if pop_int.dtype.kind == "i":
        out["population_dans_rayon"] = out["population_dans_rayon"].round().astype(np.int64)
    _convention_columns(out, units, structures, entries, active, yrs, pop_int, total)

    out = out[list(COLONNES_TIMELINE)]
    out.attrs["colonnes"] = dict(COLONNES_TIMELINE)
    out.attrs["unites"] = {c: u for c, (_, u) in COLONNES_TIMELINE.items()}
    out.attrs["rayon_m"] = p.radius
    out.attrs["distance_max_2sfca_m"] = p.max_distance
    out.attrs["decay"] = p.decay
    out.attrs["reference"] = "situation au 31 décembre de chaque année"
    out.attrs["structures_sans_date"] = int(undated.sum())
    return out


def _timeline_params(
    params: Parameters | None, radius: float | None, max_distance: float | None, min_share: float | None
) -> Parameters:
    """``params`` (default ``Parameters()``) with the keyword overrides of the previous release."""
    p = params if params is not None else Parameters()
    return replace(
        p,
        radius=p.radius if radius is None else radius,
        max_distance=p.max_distance if max_distance is None else max_distance,
        min_share=p.min_share if min_share is None else min_share,
    )


def _active(
    structures: gpd.GeoDataFrame, date_col: str, closing_col: str, years: Any, entries: Any, end_year: int | None = None
) -> Any:
    """Years, the (structure x year) matrix of open structures, and the undated structures."""
    n_s = len(structures)
    open_y = _year_of(structures[date_col], "structures", date_col)
    close_y = (
        _year_of(structures[closing_col], "structures", closing_col)
        if closing_col in structures.columns
        else np.full(n_s, np.nan)
    )
    undated = np.isnan(open_y)
    if undated.any():
        warnings.warn(
            f"timeline : {int(undated.sum())} structure(s) sans {date_col} comptée(s) présente(s) toutes les années",
            CouvertureWarning,
            stacklevel=3,
        )
    if years is None:
        years = _default_years(open_y, close_y, entries, end_year)
    try:
        years = [int(y) for y in years]
    except (TypeError, ValueError):
        raise InputError(Probleme(f"années entières attendues, reçu {years!r}", fichier="years")) from None
    if not years:
        raise InputError(Probleme("aucune année demandée", fichier="years"))
    yrs = np.asarray(years)
    # active[s, y]: approved on or before 31/12/y and not closed on or before
    opened = np.where(undated, -np.inf, open_y)[:, None] <= yrs[None, :]
    not_closed = ~(close_y[:, None] <= yrs[None, :])  # NaN compares False
    return yrs, opened & not_closed, undated


def _covered(units: Any, structures: Any, zones: Any, active: np.ndarray, min_share: float) -> np.ndarray:
    """(unit x year) coverage: coverage computed once, then through a unit x structure matrix."""
    n_u, n_s = len(units), len(structures)
    if zones is None or not len(zones):
        return np.zeros((n_u, active.shape[1]), dtype=bool)
    from .coverage import zone_coverage

    cov = zone_coverage(units, zones, min_share=min_share, details=False)
    pairs = cov["structures"].fillna("").astype(str).str.split("; ").explode()
    pairs = pairs[pairs.astype(bool).to_numpy()]
    ui = units.index.get_indexer(pairs.index)
    si = pd.Index(structures["structure_id"].astype(str)).get_indexer(pairs.to_numpy(dtype=object))
    ok = si >= 0
    if (~ok).any():
        logger.info("timeline : %d zone(s) sans structure correspondante ignorée(s)", int((~ok).sum()))
    m = sparse.csr_matrix((np.ones(int(ok.sum())), (ui[ok], si[ok])), shape=(n_u, n_s))
    return (m @ active.astype(np.float64)) > 0


def _access_columns(
    out: pd.DataFrame, units: Any, structures: Any, active: np.ndarray, pop: np.ndarray, p: Parameters, demand_col: str
) -> None:
    """Distances, population within the radius and 2SFCA (with the diagnostic's decay): one pass per year."""
    from .fca import two_step_fca
    from .proximity import nearest_distance

    n_y = active.shape[1]
    total = float(pop.sum())
    dist_mean, gini_d = np.full(n_y, np.nan), np.full(n_y, np.nan)
    acc_mean, gini_a = np.full(n_y, np.nan), np.full(n_y, np.nan)
    within = np.zeros(n_y)
    for y in range(n_y):  # years, not rows
        sup = structures[active[:, y]]
        if len(sup) == 0:
            continue
        d = nearest_distance(units, sup).to_numpy()
        within[y] = pop[d <= p.radius].sum()
        if total > 0:
            dist_mean[y] = float(np.dot(pop, d) / total)
            acc = (
                two_step_fca(
                    units, sup, p.max_distance, demand_col=demand_col, supply_col=p.capacity_col, decay=p.decay_spec
                ).to_numpy()
                * PER
            )
            acc_mean[y] = float(np.dot(pop, acc) / total)
            gini_a[y] = _gini_or_nan(acc, pop)
        gini_d[y] = _gini_or_nan(d, pop)
    out["population_dans_rayon"] = within
    out["taux_dans_rayon_pct"] = 100.0 * within / total if total > 0 else np.nan
    out["distance_moyenne_m"] = dist_mean
    out["gini_distance"] = gini_d
    out["acces_2sfca_moyen"] = acc_mean
    out["gini_acces_2sfca"] = gini_a


def _convention_columns(
    out: pd.DataFrame,
    units: Any,
    structures: Any,
    entries: Any,
    active: np.ndarray,
    yrs: np.ndarray,
    pop_int: np.ndarray,
    total: float,
) -> None:
    """Communes hosting a structure and, with ``entries``, the convention's signatories (arrondissements in their commune)."""
    n_u, n_s = len(units), len(structures)
    unit_codes = normalize_insee(units["code_insee"].astype(str).reset_index(drop=True)).astype(str)
    commune = plm_parent(unit_codes).astype(str).to_numpy(dtype=object)
    s_codes = (
        normalize_insee(structures["code_insee"].astype(str).reset_index(drop=True)).astype(str)
        if "code_insee" in structures.columns
        else pd.Series([""] * n_s)
    )
    s_commune = plm_parent(s_codes).astype(str).to_numpy(dtype=object)
    communes_idx, s_com = np.unique(s_commune, return_inverse=True)
    hosting = np.zeros((len(communes_idx), len(yrs)), dtype=bool)
    np.logical_or.at(hosting, s_com, active)
    out["n_communes_avec_structure"] = hosting.sum(0).astype(np.int64)
    if entries is None:
        for col in ("n_communes_signataires", "population_signataires", "n_communes_avec_structure_non_signataires"):
            out[col] = pd.array([pd.NA] * len(yrs), dtype="Int64")
        out["part_population_signataires_pct"] = np.nan
        out["part_structures_signataires_pct"] = np.nan
        return
    known = set(unit_codes) | set(commune)
    outside = ~entries["code_insee"].isin(known)
    if outside.any():
        warnings.warn(
            f"timeline : {int(outside.sum())} commune(s) de la convention absente(s) des unités "
            f"(ignorée(s)) : {', '.join(entries.loc[outside, 'code_insee'][:5])}",
            CouvertureWarning,
            stacklevel=3,
        )
    ent = entries[~outside]
    e_in = ent["annee_entree"].to_numpy(dtype=float, na_value=np.nan)
    e_out = ent["annee_sortie"].to_numpy(dtype=float, na_value=np.nan)
    e_active = (e_in[:, None] <= yrs[None, :]) & ~(e_out[:, None] <= yrs[None, :])
    e_codes = pd.Index(ent["code_insee"].astype(str))
    # a unit is signatory through its own code or its commune's
    own = e_codes.get_indexer(unit_codes.to_numpy(dtype=object))
    parent = e_codes.get_indexer(commune)
    sig_unit = np.zeros((n_u, len(yrs)), dtype=bool)
    for pos in (own, parent):
        has = pos >= 0
        sig_unit[has] |= e_active[pos[has]]
    com_pos = e_codes.get_indexer(communes_idx)
    sig_host = np.zeros_like(hosting)
    has = com_pos >= 0
    sig_host[has] = e_active[com_pos[has]]
    s_sig = sig_host[s_com]  # structure in a signatory commune, by year
    out["n_communes_signataires"] = pd.array(e_active.sum(0), dtype="Int64")
    sig_pop = pop_int @ sig_unit
    out["population_signataires"] = pd.array(sig_pop, dtype="Int64" if pop_int.dtype.kind == "i" else "Float64")
    out["part_population_signataires_pct"] = 100.0 * sig_pop / total if total > 0 else np.nan
    out["n_communes_avec_structure_non_signataires"] = pd.array((hosting & ~sig_host).sum(0), dtype="Int64")
    n_act = active.sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["part_structures_signataires_pct"] = np.where(
            n_act > 0, 100.0 * (active & s_sig).sum(0) / np.maximum(n_act, 1), np.nan
        )
