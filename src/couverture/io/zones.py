"""Zones de vie sociale (ZVS): polygons, or the communes each structure serves.

:func:`read_zones` accepts either

- **polygons** (GeoJSON, GeoPackage, GeoDataFrame) with a structure
  identifier column; several polygons of one structure are dissolved into one;
- **a table** (CSV, XLSX, DataFrame) structure -> communes, one row per pair
  or the list of codes in one cell (separated by ``;`` ``,`` ``|``, spaces or
  line breaks). Codes are normalised (``1001`` -> ``01001``, ``13001.0`` ->
  ``13001``) and the zone is the union of the units' polygons. A cell without
  any digit is read as commune names (``Aix-en-Provence ; Éguilles``, one per
  line...; separators ``;`` ``,`` ``|`` or line breaks), matched to the units'
  names regardless of case, accents, leading article and ``St``/``Saint``.

Rules (documented choices)
--------------------------
- A PLM commune code (Marseille ``13055``, Paris ``75056``, Lyon ``69123``)
  when the units are arrondissements stands for **all its arrondissements**
  (Marseille: the 16, 13201 to 13216): expanded, with a warning. Conversely an
  arrondissement code when the units are communes is replaced by its commune.
- An unknown code is reported (file, line, column) and left out of the zone;
  the rest of the row is kept. A row with no usable code, no identifier, or
  (when ``structures`` is given) an identifier that is not a structure's, is
  rejected. When the identifier is not a structure's but is exactly one
  structure's name, that structure is used (reported).
- Structures without a zone are counted in the summary warning.
- For polygon input the ``communes`` column is an empty list and
  ``n_communes`` is missing (``<NA>``): which units a polygon covers is an
  analysis (:func:`couverture.zone_coverage`), not a loading step.

Examples
--------
>>> import pandas as pd
>>> from couverture._resources import data_path
>>> from couverture.io.communes import read_communes
>>> communes = read_communes(data_path("communes", "communes-13.geojson"))
>>> z = read_zones(pd.DataFrame({"structure_id": ["CS1"], "communes": ["13001; 13032"]}), communes=communes)
>>> z[["structure_id", "communes", "n_communes"]].values.tolist()
[['CS1', ['13001', '13032'], 2]]
"""

from __future__ import annotations

import logging
import os
import re
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .. import codes
from .._validate import repair_geometries
from ..errors import CouvertureWarning, InputError, Probleme
from ._report import Reporter as _Reporter
from ._report import finish as _finish
from ._report import plural as _plural
from .structures import _ARM_PARENT, _commune_key, _communes_frame, _load
from .tables import add_table_problems, find_column, normalize_name

__all__ = ["read_zones", "split_codes"]

log = logging.getLogger(__name__)

_SPLIT = re.compile(r"[;,|\s]+")
_SPLIT_NAMES = re.compile(r"[;,|\n]+")

_NAME_ALIASES = ("structure", "nom de la structure", "nom structure", "nom_structure", "nom")


def _names_to_codes(ccode, cnom) -> dict[str, str]:
    """Commune name key -> code, for names that designate one unit (plus Paris, Lyon, Marseille)."""
    if cnom is None:
        return {}
    keys: dict[str, list] = {}
    for c, nm in zip(ccode, cnom):
        keys.setdefault(_commune_key(nm), []).append(c)
    out = {k: v[0] for k, v in keys.items() if len(v) == 1}
    present = set(ccode)
    for key, com in (("paris", "75056"), ("lyon", "69123"), ("marseille", "13055")):
        if key not in out and any(a in present for a in codes.PLM_ARRONDISSEMENTS[com]):
            out[key] = com
    return out


def split_codes(cell: str | None) -> list[str]:
    """Split a cell listing commune codes (``;`` ``,`` ``|`` space or line break).

    Examples
    --------
    >>> split_codes("13001, 13032;13103 | 13201\\n1001")
    ['13001', '13032', '13103', '13201', '1001']
    >>> split_codes(None)
    []
    """
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return []
    return [t for t in _SPLIT.split(str(cell)) if t]


def _clean_id(v):
    if v is None:
        return None
    v = str(v).strip()
    if v.endswith(".0") and v[:-2].isdigit():
        v = v[:-2]
    return v or None


def read_zones(  # noqa: C901 (one branch per zone format: polygons, pairs, lists; to split next)
    source: str | os.PathLike | pd.DataFrame,
    structures: gpd.GeoDataFrame | None = None,
    communes: gpd.GeoDataFrame | None = None,
    *,
    id_col: str | None = None,
    communes_col: str | None = None,
    sheet: str | int | None = None,
    layer: str | None = None,
    strict: bool = False,
    feuille: str | int | None = None,
    crs=None,
) -> gpd.GeoDataFrame:
    """Read the zones de vie sociale (ZVS), one dissolved polygon per structure.

    Parameters
    ----------
    source : path or DataFrame
        Polygons (GeoJSON, GeoPackage, GeoDataFrame) with a structure
        identifier, or a table structure -> communes (CSV, XLSX, DataFrame).
    structures : GeoDataFrame, optional
        The structures (:func:`couverture.read_structures`): zones of unknown
        structures are rejected and structures without a zone are counted.
    communes : GeoDataFrame, optional
        The units (:func:`couverture.read_communes`); required for a table of
        communes (their polygons make the zone).
    id_col, communes_col : str, optional
        Column names when they are not among the usual spellings
        (``structure_id``, ``N° agrément``...; ``communes``, ``code_insee``...).
    sheet, layer : optional
        Sheet of a workbook, layer of a GeoPackage.
    strict : bool, default False
        Raise :class:`~couverture.errors.InputError` on any rejected row or code.
    feuille : str or int, optional
        Same as ``sheet``.
    crs : optional
        System of a geographic file that declares none (``crs=2154``).

    Returns
    -------
    geopandas.GeoDataFrame
        ``structure_id``, ``communes`` (list of unit codes, sorted; empty for
        polygon input), ``n_communes`` (Int64; <NA> for polygon input) and
        ``geometry`` (one polygon or multipolygon per structure, in the
        communes' metric CRS, else the structures', else EPSG:2154), in the
        order of ``structures`` when given, else of the file.
        ``attrs["rapport"]`` holds every rejected or assumed row.

    Raises
    ------
    InputError
        Empty file, missing column, table without ``communes``, layer without
        CRS, no valid row; with ``strict=True``, any rejected row or code.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely import box
    >>> poly = gpd.GeoDataFrame({"identifiant": ["A", "A", "B"]},
    ...     geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(5, 5, 6, 6)], crs=2154)
    >>> z = read_zones(poly)
    >>> z["structure_id"].tolist(), z.area.round(1).tolist()
    (['A', 'B'], [2.0, 1.0])
    """
    table, geom, lines, name = _load(source, sheet if feuille is None else feuille, layer, "zones", crs)
    if len(table) == 0:
        raise InputError(f"{name} : le fichier est vide (aucune zone)")
    cdf = _communes_frame(communes)
    if structures is not None and "structure_id" not in structures.columns:
        raise InputError("structures : colonne « structure_id » manquante (lisez-les avec cv.read_structures)")
    columns = list(table.columns)
    present = ", ".join(map(str, columns)) or "aucune"
    try:
        idc = find_column(columns, "structure_id", id_col)
        if idc is None:
            idc = find_column(columns, _NAME_ALIASES)
    except InputError as exc:
        raise InputError(f"{name} : {exc}") from None
    if idc is None:
        raise InputError(
            f"{name} : colonne de l'identifiant de la structure introuvable (par exemple « structure_id » ou "
            f"« N° agrément » ; indiquez-la avec id_col=...) ; colonnes présentes : {present}"
        )
    has_geom = geom is not None and not (geom.isna() | geom.is_empty).all()

    rep = _Reporter(name, lines)
    add_table_problems(rep, table)  # sheet read, unclosed quote, control characters

    # ---- identifiers
    ids = np.array([_clean_id(v) for v in table[idc].to_numpy(dtype=object)], dtype=object)
    for i in np.flatnonzero(pd.isna(ids)):
        rep.erreur(i, "identifiant de structure manquant : zone ignorée", idc)
    known_ids = None
    if structures is not None:
        known_ids = list(structures["structure_id"].astype(object))
        # compare as text: a structure_id built as a number matches "12345" in the file
        known_map = {_clean_id(s): s for s in known_ids}
        by_name: dict[str, list] = {}
        if "nom" in structures.columns:
            for sid, nom in zip(known_ids, structures["nom"].astype(object)):
                by_name.setdefault(normalize_name(nom), []).append(sid)
        for i in np.flatnonzero(pd.notna(ids)):
            if ids[i] in known_map:
                ids[i] = known_map[ids[i]]
                continue
            match = by_name.get(normalize_name(ids[i]), [])
            if len(match) == 1:
                rep.avertissement(
                    i,
                    f"« {ids[i]} » n'est pas un identifiant mais le nom de la structure « {match[0]} » : zone attribuée à celle-ci",
                    idc,
                )
                ids[i] = match[0]
            else:
                rep.erreur(
                    i,
                    f"structure inconnue : « {ids[i]} » (absente des {len(known_ids)} structures) : zone ignorée",
                    idc,
                )

    ok = pd.notna(ids) & ~rep.rejected
    extra: list[str] = []
    if has_geom:
        result, n_fixed = _from_polygons(table, geom, ids, ok, rep, cdf, structures, name)
        if n_fixed:
            extra.append(_plural(n_fixed, "géométrie invalide réparée", "géométries invalides réparées"))
    else:
        if cdf is None:
            raise InputError(
                f"{name} : une table de communes par structure demande les communes du territoire "
                "(read_zones(..., communes=communes)) pour construire les polygones des zones"
            )
        try:
            cc = find_column([c for c in columns if c != idc], "communes", communes_col)
        except InputError as exc:
            raise InputError(f"{name} : {exc}") from None
        if cc is None:
            raise InputError(
                f"{name} : colonne des communes introuvable (par exemple « communes » ou « code_insee » ; "
                f"indiquez-la avec communes_col=...) ; colonnes présentes : {present}"
            )
        result, n_ignored = _from_table(table, cc, ids, ok, rep, cdf, name)
        if n_ignored:
            extra.append(_plural(n_ignored, "code commune ignoré", "codes communes ignorés"))

    if known_ids is not None:
        have = set(result["structure_id"])
        without = [s for s in known_ids if s not in have]
        if without:
            listed = ", ".join(map(str, without[:10])) + ("…" if len(without) > 10 else "")
            rep._add(
                None,
                f"{_plural(len(without), 'structure sans zone de vie sociale', 'structures sans zone de vie sociale')} : {listed}",
                None,
                "avertissement",
            )
            extra.append(_plural(len(without), "structure sans zone", "structures sans zone"))
        order = {s: k for k, s in enumerate(known_ids)}
        result = result.iloc[np.argsort([order.get(s, len(order)) for s in result["structure_id"]], kind="stable")]
    if len(result) == 0:
        raise InputError(rep.rapport().erreurs or [Probleme("aucune zone valide", fichier=name)])
    rapport = _finish(rep, strict, "zones", extra)
    result = result.reset_index(drop=True)
    result.attrs["rapport"] = rapport
    result.attrs["source"] = name
    log.info("%s : %d zone(s) lue(s)", name, len(result))
    return result


def _target_crs(cdf, structures, geom_crs=None):
    if cdf is not None:
        return cdf.crs
    if structures is not None and structures.crs is not None and structures.crs.is_projected:
        return structures.crs
    if geom_crs is not None and pyproj.CRS(geom_crs).is_projected:
        return geom_crs
    return pyproj.CRS("EPSG:2154")


_INVALID_FR = {
    "Ring Self-intersection": "un anneau du contour se recoupe",
    "Self-intersection": "le contour se recoupe",
    "Too few points": "trop peu de points",
    "Hole lies outside shell": "un trou est hors du contour",
    "Nested shells": "contours emboîtés",
    "Interior is disconnected": "intérieur coupé en morceaux",
    "Duplicate Rings": "anneaux en double",
}


def _invalid_fr(geom) -> str:
    """Why a polygon is invalid, in French (shapely's reason without its coordinates)."""
    reason = shapely.is_valid_reason(geom).split("[")[0].strip()
    return _INVALID_FR.get(reason, "géométrie invalide")


def _from_polygons(table, geom, ids, ok, rep, cdf, structures, name) -> tuple[gpd.GeoDataFrame, int]:
    target = _target_crs(cdf, structures, geom.crs)
    g = gpd.GeoSeries(geom.to_numpy(), crs=geom.crs).to_crs(target)
    arr = g.to_numpy()
    missing = shapely.is_missing(arr) | shapely.is_empty(arr)
    poly = np.isin(shapely.get_type_id(arr), [3, 6])
    for i in np.flatnonzero(ok & missing):
        rep.erreur(i, "géométrie absente ou vide : zone ignorée", "geometry")
    for i in np.flatnonzero(ok & ~missing & ~poly):
        rep.erreur(i, f"géométrie de type {arr[i].geom_type} : un polygone est attendu pour une zone", "geometry")
    use = ok & ~missing & poly
    frame = gpd.GeoDataFrame({"structure_id": ids[use]}, geometry=arr[use], crs=target)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CouvertureWarning)
        frame, n_fixed = repair_geometries(frame, name)
    for i in np.flatnonzero(use)[~shapely.is_valid(arr[use])]:  # each repaired polygon, by its line
        rep.avertissement(i, f"polygone invalide réparé (shapely.make_valid) : {_invalid_fr(arr[i])}", "geometry")
    sids, inverse = np.unique(frame["structure_id"].to_numpy(dtype=object).astype(str), return_inverse=True)
    first = pd.Series(np.arange(len(frame))).groupby(inverse).min().to_numpy()
    geoms = [shapely.union_all(frame.geometry.to_numpy()[inverse == k]) for k in range(len(sids))]
    out = gpd.GeoDataFrame(
        {
            "structure_id": pd.Series(frame["structure_id"].to_numpy(dtype=object)[first], dtype=object),
            "communes": pd.Series([[] for _ in range(len(sids))], dtype=object),
            "n_communes": pd.array([pd.NA] * len(sids), dtype="Int64"),
        },
        geometry=geoms,
        crs=target,
    )
    return out.iloc[np.argsort(first, kind="stable")].reset_index(drop=True), n_fixed


def _from_table(table, cc, ids, ok, rep, cdf, name) -> tuple[gpd.GeoDataFrame, int]:
    ccode = cdf["code_insee"].astype(object).to_numpy()
    index_of = {c: k for k, c in enumerate(ccode)}
    plm_here = {
        com: tuple(a for a in arms if a in index_of)
        for com, arms in codes.PLM_ARRONDISSEMENTS.items()
        if com not in index_of and any(a in index_of for a in arms)
    }
    cells = table[cc].to_numpy(dtype=object)
    rows = np.flatnonzero(ok)
    by_name = _names_to_codes(ccode, cdf["nom"].astype(object).to_numpy() if "nom" in cdf.columns else None)
    tokens, named = [], {}
    for i in rows:
        cell = cells[i]
        if cell is not None and by_name and not re.search(r"\d", str(cell)):
            # a list of commune names: "Aix-en-Provence ; Éguilles" or one per line
            names = [t.strip() for t in _SPLIT_NAMES.split(str(cell)) if t.strip()]
            found = [by_name.get(_commune_key(t)) for t in names]
            tokens.append([c if c is not None else t for c, t in zip(found, names)])
            named.update({t: True for c, t in zip(found, names) if c is None})
        else:
            tokens.append(split_codes(cell))
    for i, t in zip(rows, tokens):
        if not t:
            rep.erreur(i, "aucune commune indiquée : zone ignorée", cc)
    # every (row, token) pair at once
    tok_row = np.repeat(rows, [len(t) for t in tokens]).astype(int)
    tok = pd.Series([c for t in tokens for c in t], dtype=object)
    norm = codes.normalize_insee(tok).to_numpy(dtype=object)
    valid = codes.is_valid_insee(pd.Series(norm, dtype=object)).to_numpy()
    known = np.array([c in index_of for c in norm], dtype=bool) & valid
    pair_row: list = list(tok_row[known])
    pair_code: list = list(norm[known])
    n_ignored = 0
    for k in np.flatnonzero(~known):
        i, c, raw = tok_row[k], norm[k], tok.iloc[k]
        if valid[k] and c in plm_here:
            arms = plm_here[c]
            pair_row.extend([i] * len(arms))
            pair_code.extend(arms)
            rep.avertissement(
                i,
                f"{c} désigne toute la commune, découpée en arrondissements : remplacé par ses {len(arms)} "
                f"arrondissements ({arms[0]} à {arms[-1]})",
                cc,
            )
        elif valid[k] and _ARM_PARENT.get(c) in index_of:
            pair_row.append(i)
            pair_code.append(_ARM_PARENT[c])
            rep.avertissement(
                i, f"arrondissement {c} : les unités du territoire sont des communes, remplacé par {_ARM_PARENT[c]}", cc
            )
        else:
            n_ignored += 1
            what = "commune inconnue" if raw in named else "code commune inconnu" if valid[k] else "code INSEE invalide"
            rep._add(
                i,
                f"{what} : « {raw} » (absent des {len(ccode)} unités du territoire) : ignoré dans la zone",
                cc,
                "erreur",
            )
    used = set(pair_row)
    for i, t in zip(rows, tokens):
        if t and i not in used:
            rep.erreur(i, "aucun code commune valide : zone ignorée", cc)
    order = np.argsort(np.asarray(pair_row, dtype=int), kind="stable")
    pair_id = list(ids[np.asarray(pair_row, dtype=int)[order]]) if len(pair_row) else []
    pair_code = list(np.asarray(pair_code, dtype=object)[order]) if len(pair_code) else []
    pairs = pd.DataFrame(
        {"structure_id": pd.Series(pair_id, dtype=object), "code_insee": pd.Series(pair_code, dtype=object)}
    )
    pairs = pairs.drop_duplicates()
    first = {}
    for k, s in enumerate(pairs["structure_id"]):
        first.setdefault(s, k)
    sids = sorted(first, key=first.get)
    geoms_all = cdf.geometry.to_numpy()
    groups = pairs.groupby("structure_id", sort=False)["code_insee"].agg(lambda s: sorted(set(s)))
    lists = [groups[s] for s in sids]
    geoms = [shapely.union_all(geoms_all[[index_of[c] for c in lst]]) for lst in lists]
    out = gpd.GeoDataFrame(
        {
            "structure_id": pd.Series(sids, dtype=object),
            "communes": pd.Series(lists, dtype=object),
            "n_communes": pd.array([len(lst) for lst in lists], dtype="Int64"),
        },
        geometry=geoms,
        crs=cdf.crs,
    )
    return out, n_ignored
