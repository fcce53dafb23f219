"""Export a diagnostic for spreadsheets (XLSX, CSV) and for QGIS (GeoPackage).

:func:`export_diagnostic` writes every table of a
:class:`~couverture.analysis.diagnostic.Diagnostic`: key figures, units,
structures, zones de vie sociale, zones blanches, one table per level,
equity, the loading report, and a "Lisez-moi" with the sources, the
parameters and their vintage (and the notice of the fictitious demonstration).

- ``.xlsx``: one sheet per table, French headers with units ("Distance à la
  structure la plus proche (m)"), codes (INSEE, SIREN, identifiers) stored as
  text (number format ``@``, leading zeros kept), no formula ever (a cell that
  starts with ``=`` stays text).
- ``.csv``: a folder named after the file (``diagnostic.csv`` ->
  ``diagnostic/``) with one CSV per table, as a French spreadsheet opens them
  (``;`` separator, decimal comma, UTF-8 with BOM).
- ``.gpkg``: one layer per table (units, structures, zones and zones blanches
  with their geometry in the territory's metric CRS; the other tables
  without geometry), column names as in Python.

Nothing here recomputes an indicator: the tables are the diagnostic's, only
renamed and formatted. Files are written atomically (temporary file, then
rename) and are byte-for-byte identical for the same inputs.

Examples
--------
>>> import tempfile, pathlib, openpyxl
>>> from couverture.io.demo import load_demo
>>> from couverture.analysis.diagnostic import diagnose
>>> out = export_diagnostic(diagnose(load_demo()), pathlib.Path(tempfile.mkdtemp()) / "d.xlsx")
>>> wb = openpyxl.load_workbook(out)
>>> wb.sheetnames[:3]
['Lisez-moi', 'Chiffres clés', 'Unités']
>>> wb["Unités"]["A1"].value, wb["Unités"]["A2"].value, wb["Unités"]["A2"].number_format
('Code INSEE', '13001', '@')
"""

from __future__ import annotations

import datetime as _dt
import io
import logging
import math
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ._safe import neutralize, strip_controls
from .analysis.population_absent import ND_POPULATION, needs_population
from .columns import (
    ACCESS_UNIT,
    ACCESS_UNIT_CAPACITY,
    COLUMNS,
    ZVS_MISSING_TEXT,
    Column,
    lookup,
)
from .errors import InputError

__all__ = ["FORMATS", "HEADERS", "diagnostic_tables", "export_diagnostic"]

log = logging.getLogger(__name__)

#: Output formats by file suffix.
FORMATS = {".xlsx": "xlsx", ".csv": "csv", ".gpkg": "gpkg"}

#: Fixed timestamp of the files' metadata, so that the bytes depend on the data only.
FIXED_TIME = _dt.datetime(2000, 1, 1, 0, 0, 0)

#: French column headers (with units) of the exported tables, from the one registry
#: (:mod:`couverture.columns`); headers naming the radius are filled at export time.
HEADERS: dict[str, str] = {name: col.header() for name, col in COLUMNS.items()}

#: Level names as shown to users.
LEVEL_LABELS = {
    "epci": "EPCI",
    "departement": "Département",
    "arrondissement": "Arrondissement",
    "commune": "Commune",
    "commune_plm": "Commune PLM",  # Paris, Lyon, Marseille: arrondissements summed
    "secteur": "Secteur PLM",  # their secteurs municipaux (Marseille: 8 pairs of arrondissements)
}

#: Position of a structure, as written in the « Position » column.
LOCALISATION_LABELS = {"coordonnees": "coordonnées du fichier", "commune": "mairie de la commune"}

_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


@dataclass
class _Table:
    """One exported table: its French sheet name, file stem, description and frame."""

    feuille: str
    fichier: str
    description: str
    frame: pd.DataFrame  # python column names, no geometry
    geo: Any = None  # GeoDataFrame for the GeoPackage (python names), or None


@dataclass(frozen=True)
class _Context:
    """What every table step needs to know about the diagnostic."""

    radius_m: float | None
    has_zvs: bool
    capacity: bool = False  # the 2SFCA used the structures' capacity
    no_population: bool = False  # the source has no population at all: population columns read « n.d. (…) »

    def column(self, name: str) -> Column | None:
        col = lookup(str(name), radius_m=self.radius_m)
        if col is not None and self.capacity and col.unit == ACCESS_UNIT:
            col = replace(col, unit=ACCESS_UNIT_CAPACITY)
        return col

    def header(self, name: str) -> str:
        col = self.column(name)
        return col.header() if col is not None else str(name)

    def missing(self, name: str) -> bool:
        """True when the column cannot be computed from the inputs given (shown « n.d. »)."""
        col = self.column(name)
        return col is not None and col.requires == "zvs" and not self.has_zvs


#: What the Lisez-moi says about text that a spreadsheet would run as a formula (OWASP CSV injection).
SAFE_NOTE = (
    "Un texte des données qui commence par =, +, -, @, une tabulation ou un retour chariot est précédé d'une "
    "apostrophe (') dans les fichiers CSV, pour qu'un tableur ne l'exécute jamais comme une formule "
    "(recommandation OWASP contre l'injection de formules) ; dans le classeur .xlsx ces textes sont enregistrés "
    "comme du texte, jamais comme une formule. Les nombres, négatifs compris, restent des nombres."
)


def _context(diagnostic) -> _Context:
    p = diagnostic.params
    try:
        radius = float(p.radius)
    except (AttributeError, TypeError, ValueError):
        radius = None
    zones = getattr(diagnostic.territory, "zones", None)
    return _Context(
        radius,
        zones is not None and len(zones) > 0,
        bool(getattr(p, "use_capacity", False)),
        bool(getattr(diagnostic, "population_absente", False)),
    )


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    """Index levels as columns (a default RangeIndex is dropped)."""
    out = frame.copy()
    if isinstance(out.index, pd.RangeIndex) and out.index.name is None:
        return out.reset_index(drop=True)
    names = [n if n is not None else f"index_{k}" for k, n in enumerate(out.index.names)]
    out.index = out.index.set_names(names)
    return out.reset_index()


def _drop_geometry(frame) -> pd.DataFrame:
    import geopandas as gpd

    geo_cols = [c for c in frame.columns if isinstance(frame[c].dtype, gpd.array.GeometryDtype)]
    return pd.DataFrame(frame.drop(columns=geo_cols))


_QPV_HEADERS = {
    "code_qp": "Code du quartier",
    "nom_qp": "Quartier",
    "population": "Population (habitants)",
    "n_unites": "Unités d'analyse",
    "population_zvs": "Population dans une ZVS (habitants)",
    "part_zvs_pct": "Part dans une ZVS (%)",
    "population_a_portee": "Population à portée (habitants)",
    "part_a_portee_pct": "Part à portée (%)",
    "n_structures": "Structures dans le quartier",
    "n_structures_a_portee": "Structures dedans ou à portée",
    "sans_structure": "Sans structure (Cnaf)",
    "sans_structure_a_portee": "Sans structure ni dedans ni à portée",
}
_DEMAND_HEADERS = {
    "demande": "Demande (colonne)",
    "libelle": "Demande",
    "total": "Total",
    "dans_zvs": "Dans une ZVS",
    "part_zvs_pct": "Part dans une ZVS (%)",
    "a_portee": "À portée",
    "part_a_portee_pct": "Part à portée (%)",
    "acces_2sfca_moyen": "Accessibilité 2SFCA moyenne (structures pour 10 000)",
}


def _need_tables(d, ctx: _Context) -> list[_Table]:
    """The QPV sheet and the side-by-side demands sheet, when the diagnostic has them."""
    out: list[_Table] = []
    qpv = getattr(d, "qpv", None)
    if qpv is not None:
        frame = _flat(qpv).rename(columns=_QPV_HEADERS)
        for col in ("Sans structure (Cnaf)", "Sans structure ni dedans ni à portée"):
            frame[col] = np.where(frame[col].astype(bool), "oui", "non")
        frame["Population dans une ZVS (habitants)"] = (
            frame["Population dans une ZVS (habitants)"]
            .astype(object)
            .where(frame["Population dans une ZVS (habitants)"].notna(), "n.d. (aucune ZVS fournie)")
        )
        out.append(
            _Table(
                "QPV",
                "qpv",
                "Une ligne par quartier prioritaire (ANCT 2024) : population (unités dont "
                "le centre est dans le quartier), dans une ZVS, à portée d'une structure (rayon des "
                "paramètres) ; structures situées dans le quartier.",
                frame,
            )
        )
    share = getattr(d, "qpv_structures", None)
    if share is not None:
        out.append(
            _Table(
                "Structures en QPV",
                "structures-qpv",
                "Structures situées dans un quartier prioritaire, par type (comme SENACS).",
                _flat(share).rename(
                    columns={
                        "type": "Type",
                        "n_structures": "Structures",
                        "n_en_qpv": "Dont en QPV",
                        "part_en_qpv_pct": "Part en QPV (%)",
                    }
                ),
            )
        )
    demandes = getattr(d, "demandes", None)
    if demandes is not None:
        out.append(
            _Table(
                "Demandes",
                "demandes",
                "Plusieurs demandes côte à côte (habitants, jeunes, ménages...) : "
                "total, dans une ZVS, à portée, accessibilité 2SFCA.",
                _flat(demandes).rename(columns=_DEMAND_HEADERS),
            )
        )
    return out


def _zvs_note(ctx: _Context) -> str:
    return "" if ctx.has_zvs else f" Colonnes de couverture par les ZVS : « {ZVS_MISSING_TEXT} » (n.d.)."


# --------------------------------------------------------------------------- table steps


def _key_table(d, ctx: _Context) -> list[_Table]:
    return [_Table("Chiffres clés", "chiffres-cles", "Les chiffres clés du territoire.", _flat(d.chiffres_cles))]


def _units_table(d, ctx: _Context) -> list[_Table]:
    import geopandas as gpd

    units = d.unites
    drop = [c for c in units.columns if c.endswith("_km") and f"{c[:-3]}_m" in units.columns]
    geo_units = units.drop(columns=drop)
    extra_geo = [
        c
        for c in geo_units.columns
        if c != geo_units.geometry.name and isinstance(geo_units[c].dtype, gpd.array.GeometryDtype)
    ]
    geo_units = geo_units.drop(columns=extra_geo)
    description = (
        "Une ligne par unité d'analyse (commune ou arrondissement) : population, couverture par les ZVS, "
        "distances aux structures, accessibilité." + _zvs_note(ctx)
    )
    return [_Table("Unités", "unites", description, _drop_geometry(geo_units), geo_units)]


def _structures_table(d, ctx: _Context) -> list[_Table]:
    s = d.structures
    geo_s = s.copy()
    if "localisation" in geo_s.columns:
        geo_s["localisation"] = geo_s["localisation"].map(lambda v: LOCALISATION_LABELS.get(v, v))
    pts = geo_s.geometry
    wgs = pts.to_crs("EPSG:4326") if pts.crs is not None else None
    # coordinates of the placed point (a display of the position, not an indicator)
    xy = pd.DataFrame(
        {
            "x": np.round(pts.x.to_numpy(), 1),
            "y": np.round(pts.y.to_numpy(), 1),
            "longitude": np.round(wgs.x.to_numpy(), 6) if wgs is not None else np.nan,
            "latitude": np.round(wgs.y.to_numpy(), 6) if wgs is not None else np.nan,
        },
        index=s.index,
    )
    flat_s = _drop_geometry(geo_s)
    # the file's own columns may clash with ours once translated ("Commune" vs commune)
    known = {ctx.header(c).lower() for c in flat_s.columns if ctx.column(c) is not None} | {"commune"}
    rename = {c: f"{c} (fichier)" for c in flat_s.columns if ctx.column(c) is None and str(c).lower() in known}
    flat_s = pd.concat([flat_s.rename(columns=rename), xy], axis=1)
    geo_s = geo_s.rename(columns=rename)
    crs_txt = pts.crs.to_string() if pts.crs is not None else "?"
    description = (
        "Une ligne par centre social (CS) ou espace de vie sociale (EVS) : population de sa ZVS et de son rayon, "
        f"distance à la structure voisine, position : X, Y en mètres, {crs_txt} ; longitude, latitude en WGS84."
        + _zvs_note(ctx)
    )
    return [_Table("Structures", "structures", description, flat_s, geo_s)]


def _zones_table(d, ctx: _Context) -> list[_Table]:
    z, s = d.zones, d.structures
    geo_z = z.copy()
    if len(z) and "structure_id" in z.columns:
        names = s.drop_duplicates("structure_id").set_index("structure_id")
        pos = list(geo_z.columns).index("structure_id") + 1
        geo_z.insert(pos, "structure_nom", geo_z["structure_id"].map(names["nom"]) if "nom" in names else None)
        geo_z.insert(pos + 1, "structure_type", geo_z["structure_id"].map(names["type"]) if "type" in names else None)
    description = "Une ligne par zone de vie sociale : structure, nombre d'unités et population couverts."
    if not ctx.has_zvs:
        description = f"Zones de vie sociale : {ZVS_MISSING_TEXT}."
    return [_Table("Zones (ZVS)", "zones", description, _drop_geometry(geo_z), geo_z if len(geo_z) else None)]


def _white_zones_table(d, ctx: _Context) -> list[_Table]:
    geo_zb = d.zones_blanches.copy()
    if geo_zb.index.name is None:
        geo_zb.index.name = "rang"
    geo_zb = geo_zb.reset_index()
    description = "Groupes d'unités voisines hors de toute ZVS, de la plus peuplée à la moins peuplée."
    if not ctx.has_zvs:
        description = f"Zones blanches, hors de toute ZVS : {ZVS_MISSING_TEXT}."
    return [
        _Table("Zones blanches", "zones-blanches", description, _drop_geometry(geo_zb), geo_zb if len(geo_zb) else None)
    ]


#: Coverage columns of the level and évolution tables: without ZVS the diagnostic leaves them out,
#: the export shows them « n.d. » (never 0, never silently absent).
_ZVS_LEVEL_COLUMNS = ("population_couverte", "population_non_couverte", "taux_couverture_pct")


def _with_zvs_columns(flat: pd.DataFrame, ctx: _Context, names: Sequence[str], after: str) -> pd.DataFrame:
    """``flat`` with the coverage columns ``names`` it lacks, placed after ``after`` (NaN: written « n.d. »).

    Examples
    --------
    >>> ctx = _Context(5000.0, False)
    >>> list(_with_zvs_columns(pd.DataFrame({"population": [1], "x": [2]}), ctx, ["taux_couverture_pct"], "population"))
    ['population', 'taux_couverture_pct', 'x']
    """
    if ctx.has_zvs:
        return flat
    missing = [c for c in names if c not in flat.columns]
    if not missing:
        return flat
    out = flat.copy()
    at = list(out.columns).index(after) + 1 if after in out.columns else len(out.columns)
    for offset, name in enumerate(missing):
        out.insert(at + offset, name, np.nan)
    return out


def _level_tables(d, ctx: _Context) -> list[_Table]:
    units = d.unites
    epci_names = None
    if "epci" in units.columns and "epci_nom" in units.columns:
        epci_names = units.drop_duplicates("epci").set_index("epci")["epci_nom"]
    tables = []
    for level, frame in d.niveaux.items():
        flat = _with_zvs_columns(_flat(frame), ctx, _ZVS_LEVEL_COLUMNS, "n_unites")
        if level == "epci" and epci_names is not None and "epci_nom" not in flat.columns and flat.columns[0] == "epci":
            flat.insert(1, "epci_nom", flat["epci"].map(epci_names))
        label = LEVEL_LABELS.get(level, str(level))
        slug = re.sub(r"[^a-z0-9]+", "-", str(level).lower()).strip("-") or "niveau"
        description = (
            f"Les indicateurs agrégés par niveau « {label} » : populations additionnées, distances moyennes "
            "pondérées par la population." + _zvs_note(ctx)
        )
        tables.append(_Table(f"Niveau {label}", f"niveau-{slug}", description, flat))
    return tables


def _equity_table(d, ctx: _Context) -> list[_Table]:
    eq = (
        _flat(d.equite)
        if d.equite is not None and len(d.equite)
        else pd.DataFrame(columns=["indicateur", "indice", "unite"])
    )
    description = (
        "Indices d'inégalité (Gini, Theil, Atkinson...) des distances et de l'accessibilité, pondérés par la population, "
        "pour l'ensemble et par groupe."
    )
    return [_Table("Équité", "equite", description, eq)]


def _evolution_table(d, ctx: _Context) -> list[_Table]:
    evolution = getattr(d, "evolution", None)
    if evolution is None or not len(evolution):
        return []
    description = (
        "Les indicateurs année par année, situation au 31 décembre, d'après les dates d'agrément des structures "
        "et l'entrée des communes dans la convention." + _zvs_note(ctx)
    )
    flat = _with_zvs_columns(
        _flat(evolution), ctx, ("population_couverte", "taux_couverture_pct"), "structures_pour_10000_hab"
    )
    return [_Table("Évolution", "evolution", description, flat)]


#: best_sites columns -> registry names in the scenario sheet (``candidat`` becomes ``site``).
_SCENARIO_RENAME = {
    "population_couverte": "population_a_portee",
    "taux_couverture_pct": "taux_a_portee_pct",
    "distance_moyenne_m": "distance_moyenne_apres_m",
}
#: Columns of a candidate that name it, best first.
_SITE_LABELS = ("nom", "libelle", "label", "commune", "adresse")


def _site_names(sc: pd.DataFrame) -> pd.Series:
    """The name of each chosen site: the candidate's own label, else its commune, else its code."""
    names = pd.Series([None] * len(sc), index=sc.index, dtype=object)
    for col in (*_SITE_LABELS, "code_insee", "candidat"):
        if col in sc.columns:
            names = names.where(names.notna(), sc[col].astype(object).where(sc[col].notna(), None))
    return names.map(lambda v: None if v is None else str(v))


def _scenario_frame(scenarios) -> Any:
    geo_sc = scenarios.copy()
    geo_sc.index.name = "ordre"
    geo_sc = geo_sc.reset_index()
    geo_sc.insert(1, "site", _site_names(geo_sc))
    objective = scenarios.attrs.get("objectif", "coverage")
    drop = ["candidat"]
    if objective == "coverage":
        drop.append("gain")  # the marginal gain is the population added
    geo_sc = geo_sc.drop(columns=[c for c in drop if c in geo_sc.columns])
    return geo_sc.rename(columns={**_SCENARIO_RENAME, "gain": "gain_distance"})


def _scenario_tables(d, ctx: _Context) -> list[_Table]:
    scenarios = getattr(d, "scenarios", None)
    if scenarios is None or not len(scenarios):
        return []
    geo_sc = _scenario_frame(scenarios)
    description = (
        "Les sites proposés pour de nouvelles structures, dans l'ordre du choix, avec la population que chacun "
        "ajoute : population nouvellement à portée."
    )
    tables = [_Table("Scénario", "scenario", description, _drop_geometry(geo_sc), geo_sc)]
    comparison = getattr(d, "scenario_comparaison", None)
    if comparison is not None:
        description = "Chaque indicateur avant et après l'ajout des structures proposées."
        tables.append(_Table("Scénario avant-après", "scenario-avant-apres", description, _flat(comparison)))
    return tables


def _report_table(d, ctx: _Context) -> list[_Table]:
    rapport = getattr(d, "rapport", None)
    rep = (
        rapport.to_frame()
        if rapport is not None
        else pd.DataFrame(columns=["gravite", "fichier", "ligne", "colonne", "raison"])
    )
    description = (
        "Les lignes des fichiers rejetées (erreur) ou acceptées avec une hypothèse (avertissement), avec le fichier, "
        "la ligne et la colonne."
    )
    return [_Table("Rapport de chargement", "rapport", description, rep)]


#: The table steps, in the order of the sheets.
_STEPS = (
    _key_table,
    _units_table,
    _structures_table,
    _zones_table,
    _white_zones_table,
    _level_tables,
    _equity_table,
    _evolution_table,
    _scenario_tables,
    _need_tables,
    _report_table,
)


def diagnostic_tables(diagnostic) -> list[_Table]:
    """The tables of a diagnostic as exported (Python column names, no geometry).

    Returns
    -------
    list
        Objects with ``feuille`` (sheet name), ``fichier`` (file stem),
        ``description``, ``frame`` (DataFrame) and ``geo`` (GeoDataFrame
        for the GeoPackage, or None).

    Examples
    --------
    >>> from couverture.io.demo import load_demo
    >>> from couverture.analysis.diagnostic import diagnose
    >>> [t.fichier for t in diagnostic_tables(diagnose(load_demo()))][:4]
    ['chiffres-cles', 'unites', 'structures', 'zones']
    """
    ctx = _context(diagnostic)
    return [table for step in _STEPS for table in step(diagnostic, ctx)]


# --------------------------------------------------------------------------- Lisez-moi


def _param_rows(p) -> list[tuple[str, Any]]:
    if p is None:
        return []
    decay = getattr(p, "decay", None)
    capacity = bool(getattr(p, "use_capacity", False))
    rows = [
        ("Rayon de proximité (m)", getattr(p, "radius", None)),
        ("Distance maximale de l'accessibilité 2SFCA (m)", getattr(p, "max_distance", None)),
        ("Décroissance avec la distance (2SFCA)", decay if decay else "aucune (2SFCA classique)"),
        (
            "Offre de chaque structure (2SFCA)",
            "sa capacité, colonne « capacite » du fichier des structures (paramètre capacite = true)"
            if capacity
            else "1 par structure, capacité non utilisée (paramètre capacite = false, valeur par défaut)",
        ),
        ("Unité de l'accessibilité 2SFCA", ACCESS_UNIT_CAPACITY if capacity else ACCESS_UNIT),
        ("Seuil de couverture (part de la surface d'une unité dans la ZVS)", getattr(p, "min_share", None)),
        ("Niveaux d'agrégation", ", ".join(getattr(p, "levels", ()) or ()) + " ; département"),
    ]
    if getattr(p, "end_year", None) is not None:
        rows.append(("Dernière année de l'évolution", p.end_year))
    scenario = getattr(p, "scenario", None)
    if scenario is not None and scenario.k:
        rows += [
            ("Scénario : nouvelles structures", scenario.k),
            ("Scénario : rayon (m)", p.scenario_radius),
            ("Scénario : objectif", scenario.objective_fr),
        ]
    return rows


def lisez_moi(diagnostic, tables: list[_Table] | None = None) -> list[tuple[str, Any]]:
    """The "Lisez-moi" rows (label, value); a label alone is a section title.

    Examples
    --------
    >>> from couverture.io.demo import load_demo
    >>> from couverture.analysis.diagnostic import diagnose
    >>> rows = lisez_moi(diagnose(load_demo()))
    >>> any("FICTIVES" in str(v) for _, v in rows)
    True
    """
    from . import __version__
    from .territory import DEMO_NOTICE

    d = diagnostic
    t = d.territory
    p = d.params
    tables = diagnostic_tables(d) if tables is None else tables
    rows: list[tuple[str, Any]] = [
        (getattr(p, "title", None) or "Diagnostic de l'animation de la vie sociale", None),
    ]
    if getattr(p, "subtitle", None):
        rows.append((p.subtitle, None))
    rows.append(("Territoire", t.name))
    sources = dict(getattr(d, "sources", None) or t.sources or {})
    notice = sources.pop("avertissement", None) or (DEMO_NOTICE if t.demo else None)
    if notice:
        rows.append(("AVERTISSEMENT", notice))
    rows.append(("", None))
    rows.append(("Sources et millésimes", None))
    labels = {
        "communes": "Communes (contours, populations)",
        "structures": "Structures (CS, EVS)",
        "zones": "Zones de vie sociale",
    }
    for key in ("communes", "structures", "zones"):
        if key in sources:
            rows.append((labels[key], sources.pop(key)))
    for key, value in sorted(sources.items()):
        rows.append((str(key), value))
    rows.append(("", None))
    rows.append(("Paramètres de l'analyse", None))
    rows += _param_rows(p)
    rows.append(("", None))
    rows.append(("Contenu", None))
    rows += [(tab.feuille, tab.description) for tab in tables]
    indicateurs = getattr(d, "indicateurs", None) or []
    if indicateurs:
        rows.append(("", None))
        rows.append(("Méthode des indicateurs", None))
        for ind in indicateurs:
            rows.append((f"{ind.titre} — unité : {ind.unite}", ind.description_methode))
            rows.append(("   limites", ind.limites))
    rapport = getattr(d, "rapport", None)
    if rapport is not None:
        rows.append(("", None))
        rows.append(("Chargement des données", None))
        rows.append(("Lignes rejetées (erreurs)", rapport.n_erreurs))
        rows.append(("Lignes acceptées avec une hypothèse (avertissements)", rapport.n_avertissements))
    rows.append(("", None))
    rows.append(("Notes", None))
    if not _context(d).has_zvs:
        rows.append(("Couverture par les ZVS", f"{ZVS_MISSING_TEXT} ; les colonnes de couverture indiquent « n.d. »."))
    if getattr(diagnostic, "population_absente", False):
        rows.append(
            (
                "Population",
                f"AUCUNE population dans la source : les chiffres qui en dépendent sont « {ND_POPULATION} ».",
            )
        )
    rows.append(
        (
            "Accessibilité 2SFCA",
            (
                "two_step_fca (bibliothèque) donne une offre par habitant ; les tableaux la multiplient par 10 000 : "
                f"{ACCESS_UNIT_CAPACITY if _context(d).capacity else ACCESS_UNIT}."
            ),
        )
    )
    rows.append(
        (
            "Position des structures",
            "coordonnées du fichier, ou mairie de la commune quand le fichier n'en donnait pas.",
        )
    )
    crs = t.crs.to_string() if getattr(t, "crs", None) is not None else "?"
    rows.append(("Distances", f"À vol d'oiseau, en mètres, dans la projection métrique du département ({crs})."))
    acces = getattr(d, "acces", None) or {}  # issue 15: road minutes
    if acces.get("mode") == "route":
        rows.append(("Temps de trajet", f"Colonnes temps_* : {acces['unite']}. {acces.get('methodologie', '')}"))
    rows.append(
        (
            "Codes",
            "Les codes INSEE, SIREN et les identifiants sont enregistrés comme du texte : les zéros initiaux sont conservés.",
        )
    )
    rows.append(("Formules", SAFE_NOTE))
    rows.append(("Produit par", f"couverture {__version__}"))
    return rows


# --------------------------------------------------------------------------- writers


def _cell_value(value):
    """Python value for a cell (None for missing / non-finite)."""
    if value is None:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.to_pydatetime().replace(tzinfo=None)
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).to_pydatetime()
    if value is pd.NaT:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


#: Units (of a long table's ``unite`` column) whose figures are counts: written as integers.
_COUNT_UNITS = ("habitants", "structures", "zones", "unités", "communes")


def _unit_decimals(unit: Any) -> int:
    """Decimals of a figure in a long table (key figures, equity, before/after) from its unit text.

    Examples
    --------
    >>> _unit_decimals("habitants"), _unit_decimals("% de la population"), _unit_decimals("km"), _unit_decimals("m")
    (0, 1, 2, 0)
    """
    u = str(unit or "").strip().lower()
    if "pour 10 000" in u:
        return 3
    if u.startswith(_COUNT_UNITS) or u in {"m", "mètres"} or u.startswith(("m ", "mètres ")):
        return 0
    if u.startswith("%") or " %" in u or "(%" in u:
        return 1
    if u.startswith("km"):
        return 2
    return 3


@dataclass(frozen=True)
class _Plan:
    """How one column is written: its header, kind, decimals, and whether it is « n.d. » (not computable)."""

    header: str
    kind: str  # int, float, text, code, bool, date, row (decimals from each row's unit)
    decimals: int = 0
    missing: bool = False


def _plan(ctx: _Context, frame: pd.DataFrame, name: Any) -> _Plan:
    series = frame[name]
    col = ctx.column(str(name))
    head = ctx.header(str(name))
    if ctx.missing(str(name)):
        return _Plan(head, "text", missing=True)
    if col is not None and col.kind in {"int", "float"} and series.dtype != object:
        return _Plan(head, col.kind, col.decimals)
    if col is not None and col.kind not in {"int", "float"}:
        return _Plan(head, col.kind)
    if (
        "unite" in frame.columns
        and name != "unite"
        and (series.dtype == object or pd.api.types.is_numeric_dtype(series))
    ):
        return _Plan(head, "row")  # valeur, avant, apres, ecart, one column per group
    if pd.api.types.is_bool_dtype(series):
        return _Plan(head, "bool")
    if pd.api.types.is_datetime64_any_dtype(series):
        return _Plan(head, "date")
    if pd.api.types.is_integer_dtype(series):
        return _Plan(head, "int")
    if pd.api.types.is_float_dtype(series):
        v = series.to_numpy(dtype=float)
        whole = bool(np.all(np.mod(v[np.isfinite(v)], 1) == 0))
        return _Plan(head, "int" if whole else "float", 0 if whole else 3)
    return _Plan(head, "text")


def _typed(value: Any, kind: str, decimals: int) -> Any:
    """The cell value as its kind says (None for missing): int, float, bool, datetime or str."""
    v = _cell_value(value)
    if v is None:
        return None
    if kind in {"code", "text"}:
        return str(v)
    if kind == "int" and isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer():
        return int(v)
    if kind == "row" and decimals == 0 and isinstance(v, float) and v.is_integer():
        return int(v)  # a count or a distance in metres of a long table
    if kind == "date" and isinstance(v, str):
        return v
    if not isinstance(v, (bool, int, float, _dt.datetime, _dt.date)):
        return str(v)
    return v


def _excel_format(decimals: int) -> str:
    return "#,##0" if decimals <= 0 else "#,##0." + "0" * decimals


def _cells(ctx: _Context, frame: pd.DataFrame, name: Any) -> tuple[_Plan, list[tuple[Any, int]]]:
    """The plan of a column and its (value, decimals) cells; « n.d. » for what the inputs do not support."""
    plan = _plan(ctx, frame, name)
    values = frame[name].to_numpy(dtype=object)
    if ctx.no_population and (plan.kind == "row" or needs_population(str(name))):
        # issue 11: no population in the source; a NaN there is « n.d. (…) », never an empty cell or 0
        nd = [_cell_value(v) is None for v in values]
        if all(nd) and plan.kind != "row":
            return replace(plan, kind="text", missing=True), [(ND_POPULATION, 0)] * len(values)
        if plan.kind == "row":
            units = frame["unite"].to_numpy(dtype=object)
            return plan, [
                (ND_POPULATION, 0) if m else (_typed(v, "row", _unit_decimals(u)), _unit_decimals(u))
                for v, u, m in zip(values, units, nd, strict=True)
            ]
    if plan.missing:
        return plan, [("n.d.", 0)] * len(values)
    if plan.kind == "row":
        units = frame["unite"].to_numpy(dtype=object)
        decs = [_unit_decimals(u) for u in units]
        return plan, [(_typed(v, "row", d), d) for v, d in zip(values, decs)]
    return plan, [(_typed(v, plan.kind, plan.decimals), plan.decimals) for v in values]


def _write_sheet(ws, frame: pd.DataFrame, ctx: _Context) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    columns = list(frame.columns)
    bold = Font(bold=True)
    for j, c in enumerate(columns, start=1):
        plan, cells = _cells(ctx, frame, c)
        head = ws.cell(row=1, column=j, value=strip_controls(plan.header))
        head.data_type = "s"
        head.font = bold
        head.alignment = Alignment(wrap_text=True, vertical="top")
        width = len(plan.header)
        for i, (v, decimals) in enumerate(cells, start=2):
            if v is None:
                continue
            if isinstance(v, str):
                v = strip_controls(v)  # XLSX cannot hold NUL and other C0 characters
            cell = ws.cell(row=i, column=j, value=v)
            if isinstance(v, str):
                cell.data_type = "s"  # never a formula, even when the text starts with "="
                cell.number_format = "@"
                width = max(width, min(len(v), 60))
            elif isinstance(v, bool):
                continue
            elif isinstance(v, (_dt.datetime, _dt.date)):
                cell.number_format = "DD/MM/YYYY"
                width = max(width, 10)
            else:
                cell.number_format = "#,##0" if isinstance(v, int) else _excel_format(decimals)
                width = max(width, 10)
        ws.column_dimensions[get_column_letter(j)].width = max(8, min(width + 2, 62))
    ws.freeze_panes = "A2"
    if len(frame) and columns:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(frame) + 1}"


def _sheet_title(name: str, used: set[str]) -> str:
    title = _SHEET_BAD.sub("-", name)[:31] or "Feuille"
    base, k = title, 2
    while title.lower() in used:
        suffix = f" ({k})"
        title = base[: 31 - len(suffix)] + suffix
        k += 1
    used.add(title.lower())
    return title


def _xlsx_bytes(diagnostic, tables: list[_Table]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.writer.excel import ExcelWriter

    ctx = _context(diagnostic)
    wb = Workbook()
    ws = wb.active
    ws.title = "Lisez-moi"
    used = {"lisez-moi"}
    title_font = Font(bold=True, size=14)
    section_font = Font(bold=True, size=12)
    warn_font = Font(bold=True, color="C00000")
    wrap = Alignment(wrap_text=True, vertical="top")
    for i, (label, value) in enumerate(lisez_moi(diagnostic, tables), start=1):
        a = ws.cell(row=i, column=1, value=label if label else None)
        if label:
            a.data_type = "s"
            a.alignment = wrap
        if value is None:
            if label:
                a.font = title_font if i == 1 else section_font
            continue
        b = ws.cell(row=i, column=2, value=_cell_value(value))
        if isinstance(b.value, str):
            b.data_type = "s"
            b.number_format = "@"
        b.alignment = wrap
        if label == "AVERTISSEMENT":
            a.font = warn_font
            b.font = warn_font
    ws.column_dimensions["A"].width = 48
    ws.column_dimensions["B"].width = 110
    for tab in tables:
        sheet = wb.create_sheet(_sheet_title(tab.feuille, used))
        _write_sheet(sheet, tab.frame, ctx)

    props = wb.properties
    props.creator = "couverture"
    props.title = getattr(diagnostic.params, "title", None) or "Diagnostic"
    props.created = FIXED_TIME
    props.modified = FIXED_TIME
    props.lastModifiedBy = "couverture"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(wb, archive).write_data()
    return _normalize_zip(buffer.getvalue())


def _normalize_zip(data: bytes) -> bytes:
    """The same zip with fixed entry timestamps and permissions (reproducible bytes)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, src.read(info.filename))
    return out.getvalue()


def _atomic_bytes(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _csv_text(v: Any, decimals: int) -> str | None:
    """A CSV cell: numbers rounded to their decimals with a decimal comma, booleans as oui/non, dates dd/mm/yyyy."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "oui" if v else "non"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return f"{v:.{max(decimals, 0)}f}".replace(".", ",") if decimals >= 0 else repr(v)
    if isinstance(v, (_dt.datetime, _dt.date)):
        return v.strftime("%d/%m/%Y")
    return str(v)


def _safe_csv_text(v: Any, decimals: int) -> str | None:
    """A CSV cell, with text that a spreadsheet would run as a formula neutralised (OWASP)."""
    text = _csv_text(v, decimals)
    if text is None or isinstance(v, (bool, int, float)):
        return text
    return neutralize(strip_controls(text))


def _csv_frame(frame: pd.DataFrame, ctx: _Context) -> pd.DataFrame:
    """The frame as CSV text: registry headers, distances to the metre, km to 0.01, integers as integers."""
    data: dict[str, list] = {}
    headers = []
    for c in frame.columns:
        plan, cells = _cells(ctx, frame, c)
        headers.append(neutralize(strip_controls(plan.header)))
        data[str(len(headers))] = [_safe_csv_text(v, d) for v, d in cells]
    out = pd.DataFrame(data, index=frame.index, dtype=object)
    out.columns = headers
    return out


def _write_csv_folder(diagnostic, tables: list[_Table], folder: Path) -> None:
    ctx = _context(diagnostic)
    folder.parent.mkdir(parents=True, exist_ok=True)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder} existe et n'est pas un dossier : choisissez un autre nom pour l'export CSV")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / "lisez-moi.txt").exists():
        raise InputError(
            f"le dossier {folder} existe et ne contient pas un export de couverture : il n'est pas remplacé ; "
            "choisissez un autre nom (--out autre.csv)"
        )
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        lines = []
        for label, value in lisez_moi(diagnostic, tables):
            if value is None:
                lines.append(label.upper() if label else "")
            else:
                lines.append(f"{label} : {value}")
        lines += [
            "",
            "FICHIERS CSV",
            "Séparateur « ; », virgule décimale, encodage UTF-8 (avec BOM) : ils s'ouvrent directement dans un tableur français.",
            "Attention : un tableur peut lire les codes INSEE comme des nombres et perdre le zéro initial (01001 -> 1001) ;",
            "importez ces colonnes en texte, ou utilisez l'export .xlsx où les codes sont enregistrés comme du texte.",
        ]
        lines += [f"{tab.fichier}.csv : {tab.description}" for tab in tables]
        (tmp / "lisez-moi.txt").write_text("\n".join(lines) + "\n", encoding="utf-8-sig", newline="\n")
        for tab in tables:
            _csv_frame(tab.frame, ctx).to_csv(
                tmp / f"{tab.fichier}.csv", sep=";", decimal=",", index=False, encoding="utf-8-sig", lineterminator="\n"
            )
        os.chmod(tmp, 0o755)
        old = None
        if folder.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old.", dir=folder.parent))
            os.replace(folder, old / folder.name)
        os.replace(tmp, folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _gpkg_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Column types GDAL writes without surprise: text as object, NaN for missing."""
    out = frame.copy()
    out.columns = [str(c) for c in out.columns]
    for c in out.columns:
        s = out[c]
        if (pd.api.types.is_string_dtype(s) or s.dtype == object) and not hasattr(s, "geom_type"):
            v = s.to_numpy(dtype=object)
            out[c] = pd.Series([None if _cell_value(x) is None else str(x) for x in v], index=s.index, dtype=object)
    return out


def _write_gpkg(diagnostic, tables: list[_Table], path: Path) -> None:
    import pyogrio

    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".gpkg", dir=path.parent)
    os.close(fd)
    os.unlink(tmp)
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2000-01-01T00:00:00.000Z"})
    try:
        lm = lisez_moi(diagnostic, tables)
        readme = pd.DataFrame(
            {"rubrique": [a for a, _ in lm], "valeur": [None if b is None else str(b) for _, b in lm]}
        )
        layers: list[tuple[str, pd.DataFrame]] = [("lisez_moi", readme)]
        for tab in tables:
            name = tab.fichier.replace("-", "_")
            layers.append((name, tab.geo if tab.geo is not None else tab.frame))
        for name, frame in layers:
            data = _gpkg_frame(frame)
            if hasattr(frame, "geometry") and getattr(frame, "_geometry_column_name", None) in frame.columns:
                import geopandas as gpd

                data = gpd.GeoDataFrame(data, geometry=frame.geometry.name, crs=frame.crs)
            pyogrio.write_dataframe(data, tmp, layer=name, driver="GPKG")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})


def export_diagnostic(diagnostic, path: str | os.PathLike, *, format: str | None = None) -> Path:
    """Write every table of a diagnostic to a workbook, a folder of CSV files or a GeoPackage.

    Parameters
    ----------
    diagnostic : Diagnostic
        The result of :func:`couverture.analysis.diagnostic.diagnose`.
    path : path
        ``.xlsx`` (one sheet per table), ``.csv`` (a folder named after the
        file, one CSV per table) or ``.gpkg`` (one layer per table).
    format : {"xlsx", "csv", "gpkg"}, optional
        Overrides the suffix.

    Returns
    -------
    Path
        The file written (the folder for ``.csv``).

    Raises
    ------
    InputError
        Unknown format, or a CSV folder that would replace a folder that is
        not a couverture export.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from couverture.io.demo import load_demo
    >>> from couverture.analysis.diagnostic import diagnose
    >>> d = diagnose(load_demo())
    >>> folder = export_diagnostic(d, pathlib.Path(tempfile.mkdtemp()) / "diagnostic.csv")
    >>> folder.name, (folder / "unites.csv").exists()
    ('diagnostic', True)
    """
    path = Path(path)
    kind = (format or FORMATS.get(path.suffix.lower(), "")).lower().lstrip(".")
    if kind not in FORMATS.values():
        raise InputError(
            f"format d'export non reconnu : « {path.name} » ; attendu un fichier .xlsx (classeur), .csv (dossier de "
            "fichiers CSV) ou .gpkg (GeoPackage pour QGIS)"
        )
    tables = diagnostic_tables(diagnostic)
    if kind == "csv":
        folder = path.with_suffix("") if path.suffix.lower() == ".csv" else path
        _write_csv_folder(diagnostic, tables, folder)
        log.info("diagnostic exporté en CSV : %s", folder)
        return folder
    if path.exists() and path.is_dir():
        raise InputError(
            f"{path} est un dossier : indiquez un nom de fichier (par exemple {path / ('diagnostic.' + kind)})"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "xlsx":
        _atomic_bytes(path, _xlsx_bytes(diagnostic, tables))
    else:
        _write_gpkg(diagnostic, tables, path)
    log.info("diagnostic exporté : %s", path)
    return path
