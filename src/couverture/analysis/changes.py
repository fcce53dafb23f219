"""Changes to a territory (add, move, close structures, edit a ZVS) and the before/after table.

The computational half of :func:`couverture.analysis.whatif.what_if`, kept
apart so that the diagnostic's siting scenario can use it without a cycle
(``diagnostic`` -> ``changes``; ``whatif`` -> ``diagnostic``, ``changes``):

- :func:`apply_changes` returns the changed copy of a territory and the log
  of the changes;
- :func:`compare` puts two diagnostics side by side, one row per indicator;
- :func:`scenario_territory` adds the ``params.scenario.k`` sites chosen by
  :func:`~couverture.analysis.scenarios.best_sites`.

Examples
--------
>>> from couverture.io.demo import load_demo
>>> t1, log = apply_changes(load_demo(), close=["DEMO-CS-001"])
>>> len(t1.structures), log["action"].tolist()
(135, ['fermeture'])
"""

from __future__ import annotations

import logging
from typing import Any, Iterable, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..codes import normalize_insee
from ..errors import InputError, Probleme
from ..params import Parameters
from ..territory import Territory
from ._points import analysis_points

logger = logging.getLogger(__name__)

__all__ = ["apply_changes", "compare", "scenario_territory", "attachments_to_changes", "INDICES_EQUITE"]

#: Equity indices of the diagnostic carried into the comparison.
INDICES_EQUITE = ("Moyenne", "Gini", "Theil", "Atkinson (ε = 0,5)")


# --------------------------------------------------------------------------- inputs
def as_territory(territory: Any) -> Territory:
    """A :class:`Territory` from a Territory, a mapping or a (communes, structures[, zones]) tuple."""
    if isinstance(territory, Territory):
        return territory
    if isinstance(territory, Mapping):
        return Territory(territory["communes"], territory["structures"], territory.get("zones"))
    if isinstance(territory, (tuple, list)) and len(territory) in (2, 3):
        return Territory(*territory)
    raise InputError(
        Probleme(
            f"un Territory ou (communes, structures, zones) est attendu, reçu {type(territory).__name__}",
            fichier="territory",
        )
    )


def _codes(values: Any) -> list[str]:
    """Commune codes from a list or a ``"13001, 13002"`` cell."""
    if values is None or (isinstance(values, float) and np.isnan(values)):
        return []
    if isinstance(values, str):
        values = [v for v in values.replace(";", ",").split(",") if v.strip()]
    codes = normalize_insee(pd.Series([str(v).strip() for v in values], dtype=object))
    return codes.astype(str).tolist()


def _check_codes(codes: Iterable[str], known: pd.Index, what: str) -> None:
    unknown = sorted({c for c in codes if c not in known})
    if unknown:
        raise InputError(Probleme(f"code(s) de commune inconnu(s) : {', '.join(unknown[:10])}", fichier=what))


def _check_ids(ids: Iterable[str], known: pd.Index, what: str) -> None:
    unknown = sorted({str(i) for i in ids if str(i) not in known})
    if unknown:
        raise InputError(Probleme(f"structure(s) inconnue(s) : {', '.join(unknown[:10])}", fichier=what))


def _containing_unit(units: gpd.GeoDataFrame, pts: np.ndarray) -> np.ndarray:
    """Code of the unit containing each point (else the nearest unit)."""
    geoms = np.asarray(units.geometry.values, dtype=object)
    tree = shapely.STRtree(geoms)
    pi, ui = tree.query(pts, predicate="intersects")
    first = np.full(len(pts), -1, dtype=np.intp)
    order = np.lexsort((ui, pi))
    pi, ui = pi[order], ui[order]
    keep = np.r_[True, pi[1:] != pi[:-1]] if len(pi) else np.empty(0, bool)
    first[pi[keep]] = ui[keep]
    missing = first < 0
    if missing.any():
        _, near = tree.query_nearest(pts[missing], all_matches=False)
        first[missing] = near
    return units["code_insee"].astype(str).to_numpy(dtype=object)[first]


def _unit_points(units: gpd.GeoDataFrame, codes: list[str]) -> np.ndarray:
    keys = pd.Index(units["code_insee"].astype(str))
    pos = keys.get_indexer(codes)
    return shapely.points(analysis_points(units, "communes")[pos])


def _new_structures(
    add: Any, units: gpd.GeoDataFrame, existing_ids: pd.Index, new_type: str, new_zone: str | None
) -> tuple[gpd.GeoDataFrame, dict[str, list[str]]]:
    """Normalised rows of the added structures and their zones (unit codes)."""
    if isinstance(add, gpd.GeoDataFrame):
        if add.crs is None:
            raise InputError(Probleme("la couche n'a pas de système de coordonnées (CRS)", fichier="add"))
        frame = add.to_crs(units.crs) if not add.crs.equals(units.crs) else add
        has_geom = ~(frame.geometry.is_empty | frame.geometry.isna()).to_numpy()
        if has_geom.all():
            pts = shapely.points(analysis_points(frame, "add"))
            codes = _codes(frame["code_insee"]) if "code_insee" in frame.columns else list(_containing_unit(units, pts))
            loc = "coordonnees"
        else:
            raise InputError(Probleme("structure(s) sans géométrie", fichier="add", colonne="geometry"))
    elif isinstance(add, pd.DataFrame):
        frame = add
        if "code_insee" not in frame.columns:
            raise InputError(
                Probleme("colonne absente (ou donnez une GeoDataFrame de points)", fichier="add", colonne="code_insee")
            )
        codes = _codes(frame["code_insee"])
        _check_codes(codes, pd.Index(units["code_insee"].astype(str)), "add")
        pts = _unit_points(units, codes)
        loc = "commune"
    else:
        raise InputError(
            Probleme(f"une table des structures à ajouter est attendue, reçu {type(add).__name__}", fichier="add")
        )
    _check_codes(codes, pd.Index(units["code_insee"].astype(str)), "add")
    n = len(frame)
    names = units.set_index(units["code_insee"].astype(str))["nom"] if "nom" in units.columns else None
    if "structure_id" in frame.columns:
        ids = frame["structure_id"].astype(str).tolist()
        noms = frame["nom"].astype(str).tolist() if "nom" in frame.columns else ids
    else:
        ids = [f"NOUVEAU-{i + 1:02d}" for i in range(n)]
        where = names.reindex(codes).fillna("").tolist() if names is not None else codes
        noms = [f"Nouvelle structure (scénario) – {w}" for w in where]
    dup = sorted(set(ids) & set(existing_ids)) + sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise InputError(
            Probleme(f"identifiant(s) déjà utilisé(s) : {', '.join(dup[:10])}", fichier="add", colonne="structure_id")
        )
    types = frame["type"].astype(str).str.upper().tolist() if "type" in frame.columns else [new_type] * n
    bad = sorted({t for t in types if t not in ("CS", "EVS")})
    if bad:
        raise InputError(
            Probleme(f"type inconnu : {', '.join(bad)} (attendu : CS ou EVS)", fichier="add", colonne="type")
        )
    rows = gpd.GeoDataFrame(
        {"structure_id": ids, "nom": noms, "type": types, "code_insee": codes, "localisation": loc},
        geometry=list(pts),
        crs=units.crs,
    )
    for col in ("capacite", "date_agrement"):
        if col in frame.columns:
            rows[col] = frame[col].to_numpy()
    zones: dict[str, list[str]] = {}
    if "communes" in frame.columns:
        lists = [_codes(v) for v in frame["communes"]]
        for sid, lst in zip(ids, lists):
            zones[sid] = lst
    elif new_zone == "commune":
        zones = {sid: [c] for sid, c in zip(ids, codes)}
    elif new_zone is not None:
        raise InputError(Probleme(f"valeur inconnue : « {new_zone} » (attendu : commune ou None)", fichier="new_zone"))
    for lst in zones.values():
        _check_codes(lst, pd.Index(units["code_insee"].astype(str)), "add")
    return rows, zones


def _moves(move: Any, units: gpd.GeoDataFrame) -> pd.DataFrame:
    """structure_id, geometry (point) and code_insee of each move."""
    if isinstance(move, pd.DataFrame):  # GeoDataFrame included
        if "structure_id" not in move.columns:
            raise InputError(Probleme("colonne absente", fichier="move", colonne="structure_id"))
        if isinstance(move, gpd.GeoDataFrame):
            frame = move.to_crs(units.crs) if move.crs is not None and not move.crs.equals(units.crs) else move
            targets = list(frame.geometry.values)
        elif "code_insee" in move.columns:
            targets = move["code_insee"].tolist()
        else:
            raise InputError(
                Probleme("colonne absente (ou donnez une GeoDataFrame de points)", fichier="move", colonne="code_insee")
            )
        items = list(zip(move["structure_id"].astype(str), targets))
    elif isinstance(move, Mapping):
        items = [(str(k), v) for k, v in move.items()]
    else:
        raise InputError(
            Probleme(
                f"un dictionnaire {{structure_id: point ou code commune}} est attendu, reçu {type(move).__name__}",
                fichier="move",
            )
        )
    ids = [i for i, _ in items]
    is_code = np.array([isinstance(v, (str, int, np.integer)) for _, v in items], dtype=bool)
    geoms = np.empty(len(items), dtype=object)
    codes = np.empty(len(items), dtype=object)
    if is_code.any():
        c = _codes([v for (_, v), f in zip(items, is_code) if f])
        _check_codes(c, pd.Index(units["code_insee"].astype(str)), "move")
        geoms[is_code] = _unit_points(units, c)
        codes[is_code] = c
    if (~is_code).any():
        raw = [v for (_, v), f in zip(items, is_code) if not f]
        try:
            pts = np.array([v if isinstance(v, shapely.Geometry) else shapely.Point(*v) for v in raw], dtype=object)
        except (TypeError, ValueError):
            raise InputError(
                Probleme(
                    "destination illisible : un point, un couple (x, y) en mètres ou un code commune est attendu",
                    fichier="move",
                )
            ) from None
        geoms[~is_code] = pts
        codes[~is_code] = _containing_unit(units, pts)
    return pd.DataFrame(
        {
            "structure_id": ids,
            "geometry": geoms,
            "code_insee": codes,
            "localisation": np.where(is_code, "commune", "coordonnees"),
        }
    )


def _zone_changes(zones_changes: Any) -> dict[str, dict[str, Any]]:
    """{structure_id: {"remplacer": list|None, "ajouter": list, "retirer": list}}."""
    if isinstance(zones_changes, pd.DataFrame):
        zones_changes = attachments_to_changes(zones_changes)
    if not isinstance(zones_changes, Mapping):
        raise InputError(
            Probleme(
                "un dictionnaire {structure_id: liste de communes ou {'ajouter': [...], "
                f"'retirer': [...]}} est attendu, reçu {type(zones_changes).__name__}",
                fichier="zones_changes",
            )
        )
    out = {}
    for sid, change in zones_changes.items():
        if isinstance(change, Mapping):
            unknown = set(change) - {"ajouter", "retirer", "remplacer"}
            if unknown:
                raise InputError(
                    Probleme(
                        f"clé(s) inconnue(s) pour {sid} : {', '.join(sorted(map(str, unknown)))} "
                        "(attendu : ajouter, retirer, remplacer)",
                        fichier="zones_changes",
                    )
                )
            out[str(sid)] = {
                "remplacer": _codes(change["remplacer"]) if "remplacer" in change else None,
                "ajouter": _codes(change.get("ajouter")),
                "retirer": _codes(change.get("retirer")),
            }
        else:
            out[str(sid)] = {"remplacer": _codes(change), "ajouter": [], "retirer": []}
    return out


def attachments_to_changes(propositions: pd.DataFrame) -> dict[str, dict[str, list[str]]]:
    """The ZVS changes of :func:`~couverture.analysis.scenarios.propose_attachments`.

    Parameters
    ----------
    propositions : DataFrame
        Columns ``code_insee``, ``proposition`` and ``structure_id``.

    Returns
    -------
    dict
        ``{structure_id: {"ajouter": [codes]}}`` for the ``"rattachement"`` rows,
        ready for ``what_if(..., zones_changes=...)``.

    Examples
    --------
    >>> p = pd.DataFrame({"code_insee": ["13009", "13011", "13048"],
    ...                   "proposition": ["rattachement", "rattachement", "nouvelle structure"],
    ...                   "structure_id": ["CS-1", "CS-1", None]})
    >>> attachments_to_changes(p)
    {'CS-1': {'ajouter': ['13009', '13011']}}
    """
    missing = [c for c in ("code_insee", "proposition", "structure_id") if c not in propositions.columns]
    if missing:
        raise InputError([Probleme("colonne absente", fichier="propositions", colonne=c) for c in missing])
    att = propositions[propositions["proposition"] == "rattachement"]
    grouped = att.groupby(att["structure_id"].astype(str), sort=True)["code_insee"]
    return {sid: {"ajouter": [str(c) for c in codes]} for sid, codes in grouped}


def _rebuild_zones(zones: gpd.GeoDataFrame, units: gpd.GeoDataFrame, lists: dict[str, list[str]]) -> gpd.GeoSeries:
    """Dissolved polygon of each zone given by its list of unit codes."""
    pairs = pd.DataFrame(
        [(sid, c) for sid, codes in lists.items() for c in codes], columns=["structure_id", "code_insee"]
    )
    geoms = units.set_index(units["code_insee"].astype(str)).geometry
    pairs["geometry"] = geoms.reindex(pairs["code_insee"]).to_numpy()
    dissolved = gpd.GeoDataFrame(pairs, geometry="geometry", crs=units.crs).dissolve(by="structure_id")
    return dissolved.geometry


# --------------------------------------------------------------------------- apply
def apply_changes(
    territory: Territory | tuple | Mapping,
    *,
    add: pd.DataFrame | None = None,
    move: Mapping | pd.DataFrame | None = None,
    close: str | Iterable[str] | None = None,
    zones_changes: Mapping | pd.DataFrame | None = None,
    new_type: str = "CS",
    new_zone: str | None = "commune",
    name: str | None = None,
) -> tuple[Territory, pd.DataFrame]:
    """The territory after the changes (a copy) and the log of the changes.

    The arguments are those of :func:`couverture.analysis.whatif.what_if`.

    Returns
    -------
    (Territory, DataFrame)
        The changed territory, and ``action``, ``structure_id``, ``detail``
        of each change.
    """
    t0 = as_territory(territory)
    units = t0.communes
    structures = t0.structures.copy()
    zones = (
        t0.zones.copy()
        if t0.zones is not None
        else gpd.GeoDataFrame({"structure_id": pd.Series([], dtype=object)}, geometry=[], crs=units.crs)
    )
    log_rows: list[tuple[str, str, str]] = []

    # ---- close
    if close is not None:
        ids = [close] if isinstance(close, str) else [str(c) for c in close]
        _check_ids(ids, pd.Index(structures["structure_id"].astype(str)), "close")
        structures = structures[~structures["structure_id"].astype(str).isin(ids)]
        zones = zones[~zones["structure_id"].astype(str).isin(ids)]
        log_rows += [("fermeture", i, "structure fermée, sa ZVS disparaît") for i in ids]

    # ---- move
    if move is not None:
        mv = _moves(move, units)
        _check_ids(mv["structure_id"], pd.Index(structures["structure_id"].astype(str)), "move")
        pos = pd.Index(structures["structure_id"].astype(str)).get_indexer(mv["structure_id"])
        structures = structures.copy()
        geom_col = structures.geometry.name
        structures.iloc[pos, structures.columns.get_loc(geom_col)] = mv["geometry"].to_numpy()
        structures.iloc[pos, structures.columns.get_loc("code_insee")] = mv["code_insee"].to_numpy()
        if "localisation" in structures.columns:
            structures.iloc[pos, structures.columns.get_loc("localisation")] = mv["localisation"].to_numpy()
        log_rows += [("déplacement", i, f"vers la commune {c}") for i, c in zip(mv["structure_id"], mv["code_insee"])]

    # ---- add
    new_lists: dict[str, list[str]] = {}
    if add is not None and len(add):
        rows, new_lists = _new_structures(
            add, units, pd.Index(structures["structure_id"].astype(str)), new_type, new_zone
        )
        structures = pd.concat([structures, rows], ignore_index=True)
        structures = gpd.GeoDataFrame(structures, geometry=structures.geometry.name, crs=units.crs)
        log_rows += [
            ("ajout", i, f"{ty} dans la commune {c}")
            for i, ty, c in zip(rows["structure_id"], rows["type"], rows["code_insee"])
        ]

    # ---- zones
    zones = _edit_zones(zones, units, structures, zones_changes, new_lists, log_rows)

    t1 = Territory(
        units,
        structures.reset_index(drop=True),
        zones.reset_index(drop=True),
        name=name or f"{t0.name} — scénario",
        sources=dict(t0.sources),
        demo=t0.demo,
    )
    changements = pd.DataFrame(log_rows, columns=["action", "structure_id", "detail"])
    return t1, changements


def _edit_zones(
    zones: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    structures: gpd.GeoDataFrame,
    zones_changes: Any,
    new_lists: dict[str, list[str]],
    log_rows: list[tuple[str, str, str]],
) -> gpd.GeoDataFrame:
    """Zones after the ZVS changes and the zones of the added structures (log rows appended)."""
    unit_codes = pd.Index(units["code_insee"].astype(str))
    has_lists = "communes" in zones.columns
    changes = _zone_changes(zones_changes) if zones_changes is not None else {}
    _check_ids(changes, pd.Index(structures["structure_id"].astype(str)), "zones_changes")
    for ch in changes.values():
        for key in ("remplacer", "ajouter", "retirer"):
            _check_codes(ch[key] or [], unit_codes, "zones_changes")
    zone_ids = pd.Index(zones["structure_id"].astype(str))
    current = {}
    if has_lists:
        current = {
            sid: _codes(v) if not isinstance(v, list) else [str(c) for c in v]
            for sid, v in zip(zone_ids, zones["communes"])
        }
    lists: dict[str, list[str]] = {}
    polygon_edits: dict[str, dict[str, Any]] = {}
    for sid, ch in changes.items():
        if ch["remplacer"] is not None:
            base = list(ch["remplacer"])
        elif sid in current and current[sid]:
            base = list(current[sid])
        elif sid in zone_ids:
            polygon_edits[sid] = ch
            continue
        else:
            base = []
        base = [c for c in base if c not in set(ch["retirer"])]
        base += [c for c in ch["ajouter"] if c not in base]
        lists[sid] = base
        detail = []
        if ch["remplacer"] is not None:
            detail.append(f"remplacée par {len(ch['remplacer'])} commune(s)")
        if ch["ajouter"]:
            detail.append("ajout de " + ", ".join(ch["ajouter"]))
        if ch["retirer"]:
            detail.append("retrait de " + ", ".join(ch["retirer"]))
        log_rows.append(("zone", sid, " ; ".join(detail) or "inchangée"))
    for sid, lst in new_lists.items():
        lists.setdefault(sid, lst)
    if lists:
        rebuilt = _rebuild_zones(zones, units, lists)
        empty = [sid for sid, lst in lists.items() if not lst]
        keep = ~zone_ids.isin(list(lists))
        new = gpd.GeoDataFrame(
            {"structure_id": list(rebuilt.index)},
            geometry=rebuilt.to_numpy(),
            crs=units.crs,
        )
        if has_lists or new_lists:
            new["communes"] = [lists[s] for s in new["structure_id"]]
        if "n_communes" in zones.columns:
            new["n_communes"] = [len(lists[s]) for s in new["structure_id"]]
        zones = pd.concat([zones[keep], new], ignore_index=True)
        zones = gpd.GeoDataFrame(zones, geometry="geometry", crs=units.crs)
        if empty:
            zones = zones[~zones["structure_id"].astype(str).isin(empty)]
    if polygon_edits:
        zones = _edit_polygons(zones, units, polygon_edits, log_rows)
    return zones


def _edit_polygons(
    zones: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    polygon_edits: dict[str, dict[str, Any]],
    log_rows: list[tuple[str, str, str]],
) -> gpd.GeoDataFrame:
    """Zones given as polygons: the units added are united with them, those removed cut out."""
    zones = zones.copy()
    pos = pd.Index(zones["structure_id"].astype(str)).get_indexer(list(polygon_edits))
    add_lists = {s: c["ajouter"] for s, c in polygon_edits.items() if c["ajouter"]}
    rem_lists = {s: c["retirer"] for s, c in polygon_edits.items() if c["retirer"]}
    geoms = np.asarray(zones.geometry.values, dtype=object)[pos].copy()
    sids = list(polygon_edits)
    if add_lists:
        plus = _rebuild_zones(zones, units, add_lists).reindex(sids)
        has = plus.notna().to_numpy()
        geoms[has] = shapely.union(geoms[has], np.asarray(plus.values, dtype=object)[has])
    if rem_lists:
        minus = _rebuild_zones(zones, units, rem_lists).reindex(sids)
        has = minus.notna().to_numpy()
        geoms[has] = shapely.difference(geoms[has], np.asarray(minus.values, dtype=object)[has])
    zones.iloc[pos, zones.columns.get_loc(zones.geometry.name)] = geoms
    log_rows += [
        (
            "zone",
            s,
            "zone (polygone) modifiée : "
            + " ; ".join(
                filter(
                    None,
                    [
                        "ajout de " + ", ".join(c["ajouter"]) if c["ajouter"] else "",
                        "retrait de " + ", ".join(c["retirer"]) if c["retirer"] else "",
                    ],
                )
            ),
        )
        for s, c in polygon_edits.items()
    ]
    return zones


def scenario_territory(territory: Territory, params: Parameters) -> tuple[gpd.GeoDataFrame, Territory]:
    """The ``params.scenario.k`` sites of :func:`best_sites` and the territory with them added.

    The scenario's radius is ``params.scenario_radius`` (its own, else the
    diagnostic's); each new structure's ZVS is its commune.
    """
    from .demand import with_demand
    from .scenarios import best_sites

    sites = best_sites(
        with_demand(territory.communes, [params.demand]),
        demand_col=params.demand,
        k=params.scenario.k,
        radius=params.scenario_radius,
        objective=params.scenario.objective,  # type: ignore[arg-type]  # checked by Scenario
        existing=territory.structures,
    )
    after, _ = apply_changes(territory, add=sites)
    return sites, after


def compare(avant: Any, apres: Any, equity_indicators: Mapping[str, str]) -> pd.DataFrame:
    """One row per indicator of two diagnostics: ``indicateur``, ``avant``, ``apres``, ``ecart``, ``unite``.

    ``equity_indicators`` maps the equity blocks of the diagnostics (column ->
    label, :data:`couverture.analysis.diagnostic.EQUITY_INDICATORS`).
    """
    rows: list[tuple[str, float, float, str]] = []
    ka, kb = avant.chiffres_cles, apres.chiffres_cles
    for label in ka.index:
        a = pd.to_numeric(pd.Series([ka.loc[label, "valeur"]]), errors="coerce").iloc[0]
        if pd.isna(a):  # a figure that is text (« non calculé : aucune ZVS fournie ») has no before/after
            continue
        b = kb.loc[label, "valeur"] if label in kb.index else np.nan
        b = pd.to_numeric(pd.Series([b]), errors="coerce").iloc[0]
        rows.append((label, float(a), float(b), str(ka.loc[label, "unite"])))

    # mean 2SFCA accessibility, weighted by population
    def mean_access(d):
        u = d.unites
        w = u["population"].to_numpy(dtype=float)
        return float(np.average(u["acces_2sfca"].to_numpy(dtype=float), weights=w)) if w.sum() > 0 else np.nan

    rows.append(
        (
            "Accessibilité 2SFCA moyenne",
            mean_access(avant),
            mean_access(apres),
            "structures pour 10 000 hab. (pondérée par la population)",
        )
    )
    skip = {(equity_indicators.get("distance_m"), "Moyenne"), (equity_indicators.get("distance_m"), "Gini")}
    ea, eb = avant.equite, apres.equite
    for label in equity_indicators.values():
        for idx in INDICES_EQUITE:
            if (label, idx) in skip:
                continue
            if label == equity_indicators.get("acces_2sfca") and idx == "Moyenne":
                continue  # already above
            key = (label, idx)
            va = float(ea.loc[key, "Ensemble"]) if key in ea.index else np.nan
            vb = float(eb.loc[key, "Ensemble"]) if key in eb.index else np.nan
            unit = (
                str(ea.loc[key, "unite"]) if key in ea.index else (str(eb.loc[key, "unite"]) if key in eb.index else "")
            )
            rows.append((f"{idx} — {label}", va, vb, unit))
    out = pd.DataFrame(rows, columns=["indicateur", "avant", "apres", "unite"])
    out.insert(3, "ecart", out["apres"] - out["avant"])
    return out
