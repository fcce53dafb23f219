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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError

__all__ = ["export_diagnostic", "diagnostic_tables", "FORMATS", "HEADERS"]

log = logging.getLogger(__name__)

#: Output formats by file suffix.
FORMATS = {".xlsx": "xlsx", ".csv": "csv", ".gpkg": "gpkg"}

#: Fixed timestamp of the files' metadata, so that the bytes depend on the data only.
FIXED_TIME = _dt.datetime(2000, 1, 1, 0, 0, 0)

#: French column headers (with units) of the exported tables.
HEADERS: dict[str, str] = {
    # units
    "code_insee": "Code INSEE",
    "nom": "Nom",
    "population": "Population (habitants)",
    "epci": "EPCI (SIREN)",
    "epci_nom": "Nom de l'EPCI",
    "departement": "Département",
    "n_zones": "Nombre de ZVS couvrant l'unité",
    "couvert": "Couverte par au moins une ZVS",
    "structures_zvs": "Structures dont la ZVS couvre l'unité (identifiants)",
    "distance_m": "Distance à la structure la plus proche (m)",
    "distance_cs_m": "Distance au centre social le plus proche (m)",
    "distance_evs_m": "Distance à l'espace de vie sociale le plus proche (m)",
    "distance_km": "Distance à la structure la plus proche (km)",
    "distance_cs_km": "Distance au centre social le plus proche (km)",
    "distance_evs_km": "Distance à l'espace de vie sociale le plus proche (km)",
    "acces_2sfca": "Accessibilité 2SFCA (structures pour 10 000 habitants)",
    # structures
    "structure_id": "Identifiant",
    "type": "Type (CS ou EVS)",
    "commune": "Commune",
    "localisation": "Localisation (coordonnees : position du fichier ; commune : mairie)",
    "capacite": "Capacité",
    "date_agrement": "Date d'agrément",
    "population_zvs": "Population de la ZVS (habitants)",
    "n_unites_zvs": "Nombre d'unités dans la ZVS",
    "unites_zvs": "Codes INSEE des unités de la ZVS",
    "distance_voisine_m": "Distance à la structure voisine la plus proche (m)",
    "x": "X (m)",
    "y": "Y (m)",
    "longitude": "Longitude (degrés, WGS84)",
    "latitude": "Latitude (degrés, WGS84)",
    # zones
    "structure_nom": "Nom de la structure",
    "structure_type": "Type de la structure (CS ou EVS)",
    "n_unites": "Nombre d'unités",
    # zones blanches
    "rang": "Rang (1 = la plus peuplée)",
    "surface_km2": "Surface (km²)",
    "n_communes": "Nombre d'unités",
    "codes_insee": "Codes INSEE des unités",
    "noms": "Unités",
    "distance_structure_m": "Distance à la structure la plus proche (m)",
    "structure_proche": "Structure la plus proche (identifiant)",
    # levels
    "niveau": "Niveau",
    "population_couverte": "Population dans une ZVS (habitants)",
    "population_non_couverte": "Population hors ZVS (habitants)",
    "population_hors_zvs": "Population hors ZVS (habitants)",
    "taux_couverture_pct": "Taux de couverture par les ZVS (% de la population)",
    "population_sans_structure_accessible": "Population sans structure à portée (2SFCA nul) (habitants)",
    "population_au_dela_rayon": "Population au-delà du rayon (habitants)",
    "distance_moyenne_m": "Distance moyenne à la structure la plus proche, pondérée par la population (m)",
    "distance_mediane_m": "Distance médiane à la structure la plus proche, pondérée par la population (m)",
    "n_structures": "Nombre de structures",
    "n_structures_cs": "Nombre de centres sociaux",
    "n_structures_evs": "Nombre d'espaces de vie sociale",
    "n_cs": "Nombre de centres sociaux",
    "n_evs": "Nombre d'espaces de vie sociale",
    "structures_pour_10000_hab": "Structures pour 10 000 habitants",
    "acces_2sfca_moyenne_ponderee": "Accessibilité 2SFCA moyenne, pondérée par la population (structures pour 10 000 habitants)",
    # equity, key figures, report
    "indicateur": "Indicateur",
    "indice": "Indice",
    "unite": "Unité",
    "valeur": "Valeur",
    "gravite": "Gravité",
    "fichier": "Fichier",
    "ligne": "Ligne",
    "colonne": "Colonne",
    "raison": "Problème",
}

_PATTERNS = [
    (re.compile(r"^population_sans_structure_(\d+(?:[.,]\d+)?)km$"), "Population à plus de {0} km d'une structure (habitants)"),
    (re.compile(r"^part_sans_structure_(\d+(?:[.,]\d+)?)km_pct$"), "Part de la population à plus de {0} km d'une structure (%)"),
]

#: Columns always written as text (codes keep their leading zeros).
TEXT_COLUMNS = {
    "code_insee", "epci", "departement", "structure_id", "structures_zvs", "unites_zvs", "codes_insee",
    "structure_proche", "type", "structure_type", "niveau",
}

#: Level names as shown to users.
LEVEL_LABELS = {
    "epci": "EPCI",
    "departement": "Département",
    "arrondissement": "Arrondissement",
    "commune": "Commune",
    "commune_plm": "Commune PLM",  # Paris, Lyon, Marseille: arrondissements summed
}

_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


@dataclass
class _Table:
    """One exported table: its French sheet name, file stem, description and frame."""

    feuille: str
    fichier: str
    description: str
    frame: pd.DataFrame  # python column names, no geometry
    geo: Any = None  # GeoDataFrame for the GeoPackage (python names), or None


def _header(column: str, rayon_km: float | None = None) -> str:
    km = "du rayon" if rayon_km is None else f"de {rayon_km:g} km".replace(".", ",")
    if column == "dans_rayon":
        return f"À moins {km} d'une structure"
    if column == "population_rayon":
        return f"Population à moins {km} de la structure (habitants)"
    if column in HEADERS:
        return HEADERS[column]
    for pattern, text in _PATTERNS:
        m = pattern.match(column)
        if m:
            return text.format(m.group(1).replace(".", ","))
    return str(column)


def _km(p) -> float | None:
    try:
        return float(p.rayon_m) / 1000.0
    except (AttributeError, TypeError, ValueError):
        return None


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
    import geopandas as gpd

    d = diagnostic
    tables: list[_Table] = []

    key = _flat(d.chiffres_cles)
    tables.append(_Table("Chiffres clés", "chiffres-cles", "Les chiffres clés du territoire.", key))

    # ---- units
    units = d.unites
    drop = [c for c in units.columns if c.endswith("_km") and f"{c[:-3]}_m" in units.columns]
    geo_units = units.drop(columns=drop)
    extra_geo = [c for c in geo_units.columns if c != geo_units.geometry.name and isinstance(geo_units[c].dtype, gpd.array.GeometryDtype)]
    geo_units = geo_units.drop(columns=extra_geo)
    tables.append(
        _Table(
            "Unités",
            "unites",
            "Une ligne par unité d'analyse (commune ou arrondissement) : population, couverture par les ZVS, "
            "distances aux structures, accessibilité.",
            _drop_geometry(geo_units),
            geo_units,
        )
    )

    # ---- structures
    s = d.structures
    geo_s = s.copy()
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
    flat_s = _drop_geometry(s)
    # the file's own columns may clash with ours once translated ("Commune" vs commune)
    known = {_header(c, _km(d.parametres)).lower() for c in flat_s.columns if c in HEADERS or c in {"dans_rayon", "population_rayon"}}
    rename = {c: f"{c} (fichier)" for c in flat_s.columns if c not in HEADERS and str(c).lower() in known | {"commune"}}
    flat_s = flat_s.rename(columns=rename)
    geo_s = geo_s.rename(columns=rename)
    flat_s = pd.concat([flat_s, xy], axis=1)
    crs_txt = pts.crs.to_string() if pts.crs is not None else "?"
    tables.append(
        _Table(
            "Structures",
            "structures",
            f"Une ligne par centre social (CS) ou espace de vie sociale (EVS) : population de sa ZVS et de son rayon, "
            f"distance à la structure voisine, position (X, Y en mètres, {crs_txt} ; longitude, latitude en WGS84).",
            flat_s,
            geo_s,
        )
    )

    # ---- zones
    z = d.zones
    geo_z = z.copy()
    if len(z) and "structure_id" in z.columns:
        names = s.drop_duplicates("structure_id").set_index("structure_id")
        pos = list(geo_z.columns).index("structure_id") + 1
        geo_z.insert(pos, "structure_nom", geo_z["structure_id"].map(names["nom"]) if "nom" in names else None)
        geo_z.insert(pos + 1, "structure_type", geo_z["structure_id"].map(names["type"]) if "type" in names else None)
    tables.append(
        _Table(
            "Zones (ZVS)",
            "zones",
            "Une ligne par zone de vie sociale : structure, nombre d'unités et population couverts.",
            _drop_geometry(geo_z),
            geo_z if len(geo_z) else None,
        )
    )

    # ---- zones blanches
    zb = d.zones_blanches
    geo_zb = zb.copy()
    if geo_zb.index.name is None:
        geo_zb.index.name = "rang"
    geo_zb = geo_zb.reset_index()
    tables.append(
        _Table(
            "Zones blanches",
            "zones-blanches",
            "Groupes d'unités voisines hors de toute ZVS, de la plus peuplée à la moins peuplée.",
            _drop_geometry(geo_zb),
            geo_zb if len(geo_zb) else None,
        )
    )

    # ---- levels
    epci_names = None
    if "epci" in units.columns and "epci_nom" in units.columns:
        epci_names = units.drop_duplicates("epci").set_index("epci")["epci_nom"]
    for level, frame in d.niveaux.items():
        flat = _flat(frame)
        first = flat.columns[0]
        if level == "epci" and epci_names is not None and "epci_nom" not in flat.columns and first == "epci":
            flat.insert(1, "epci_nom", flat["epci"].map(epci_names))
        label = LEVEL_LABELS.get(level, str(level))
        slug = re.sub(r"[^a-z0-9]+", "-", str(level).lower()).strip("-") or "niveau"
        tables.append(
            _Table(
                f"Niveau {label}",
                f"niveau-{slug}",
                f"Les indicateurs agrégés par {label} (populations additionnées, distances moyennes pondérées par la population).",
                flat,
            )
        )

    # ---- equity
    eq = _flat(d.equite) if d.equite is not None and len(d.equite) else pd.DataFrame(columns=["indicateur", "indice", "unite"])
    tables.append(
        _Table(
            "Équité",
            "equite",
            "Indices d'inégalité (Gini, Theil, Atkinson...) des distances et de l'accessibilité, pondérés par la population, "
            "pour l'ensemble et par groupe.",
            eq,
        )
    )

    # ---- year by year, and siting scenario (when computed)
    evolution = getattr(d, "evolution", None)
    if evolution is not None and len(evolution):
        from .analysis.timeline import COLONNES_TIMELINE

        labels = {c: f"{label} ({unit})" if unit and unit != "année" else label for c, (label, unit) in COLONNES_TIMELINE.items()}
        tables.append(
            _Table(
                "Évolution",
                "evolution",
                "Les indicateurs année par année (situation au 31 décembre), d'après les dates d'agrément des structures "
                "et l'entrée des communes dans la convention.",
                evolution.rename(columns=labels),
            )
        )
    scenarios = getattr(d, "scenarios", None)
    if scenarios is not None and len(scenarios):
        geo_sc = scenarios.copy()
        if geo_sc.index.name is None:
            geo_sc.index.name = "rang"
        geo_sc = geo_sc.reset_index()
        tables.append(
            _Table(
                "Scénario",
                "scenario",
                "Les sites proposés pour de nouvelles structures, dans l'ordre du choix, avec la population que chacun "
                "ajoute (population nouvellement à portée).",
                _drop_geometry(geo_sc),
                geo_sc,
            )
        )
        comparison = getattr(d, "scenario_comparaison", None)
        if comparison is not None:
            tables.append(
                _Table(
                    "Scénario avant-après",
                    "scenario-avant-apres",
                    "Chaque indicateur avant et après l'ajout des structures proposées.",
                    comparison.rename(columns={"avant": "Avant", "apres": "Après", "ecart": "Écart", "unite": "Unité", "indicateur": "Indicateur"}),
                )
            )

    # ---- loading report
    rapport = getattr(d, "rapport", None)
    rep = rapport.to_frame() if rapport is not None else pd.DataFrame(columns=["gravite", "fichier", "ligne", "colonne", "raison"])
    tables.append(
        _Table(
            "Rapport de chargement",
            "rapport",
            "Les lignes des fichiers rejetées (erreur) ou acceptées avec une hypothèse (avertissement), avec le fichier, "
            "la ligne et la colonne.",
            rep,
        )
    )
    return tables


# --------------------------------------------------------------------------- Lisez-moi


def _param_rows(p) -> list[tuple[str, Any]]:
    if p is None:
        return []
    decay = getattr(p, "decay", None)
    rows = [
        ("Rayon de proximité (m)", getattr(p, "rayon_m", None)),
        ("Distance maximale de l'accessibilité 2SFCA (m)", getattr(p, "distance_max_m", None)),
        ("Décroissance avec la distance (2SFCA)", decay if decay else "aucune (2SFCA classique)"),
        ("Seuil de couverture (part de la surface d'une unité dans la ZVS)", getattr(p, "seuil_couverture", None)),
        ("Niveaux d'agrégation", ", ".join(getattr(p, "niveaux", []) or []) + " ; département"),
    ]
    if getattr(p, "scenario_k", 0):
        rows += [
            ("Scénario : nouvelles structures", p.scenario_k),
            ("Scénario : rayon (m)", p.scenario_rayon_m or p.rayon_m),
            ("Scénario : objectif", p.scenario_objectif),
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
    p = d.parametres
    tables = diagnostic_tables(d) if tables is None else tables
    rows: list[tuple[str, Any]] = [
        (getattr(p, "titre", None) or "Diagnostic de l'animation de la vie sociale", None),
    ]
    if getattr(p, "sous_titre", None):
        rows.append((p.sous_titre, None))
    rows.append(("Territoire", t.name))
    sources = dict(getattr(d, "sources", None) or t.sources or {})
    notice = sources.pop("avertissement", None) or (DEMO_NOTICE if t.demo else None)
    if notice:
        rows.append(("AVERTISSEMENT", notice))
    rows.append(("", None))
    rows.append(("Sources et millésimes", None))
    labels = {"communes": "Communes (contours, populations)", "structures": "Structures (CS, EVS)", "zones": "Zones de vie sociale"}
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
            rows.append((f"{ind.titre} ({ind.unite})", ind.description_methode))
            rows.append(("   limites", ind.limites))
    rapport = getattr(d, "rapport", None)
    if rapport is not None:
        rows.append(("", None))
        rows.append(("Chargement des données", None))
        rows.append(("Lignes rejetées (erreurs)", rapport.n_erreurs))
        rows.append(("Lignes acceptées avec une hypothèse (avertissements)", rapport.n_avertissements))
    rows.append(("", None))
    rows.append(("Notes", None))
    crs = t.crs.to_string() if getattr(t, "crs", None) is not None else "?"
    rows.append(("Distances", f"À vol d'oiseau, en mètres, dans la projection métrique du département ({crs})."))
    acces = getattr(d, "acces", None) or {}  # issue 15: road minutes
    if acces.get("mode") == "route":
        rows.append(("Temps de trajet", f"Colonnes temps_* : {acces['unite']}. {acces.get('methodologie', '')}"))
    rows.append(("Codes", "Les codes INSEE, SIREN et les identifiants sont enregistrés comme du texte : les zéros initiaux sont conservés."))
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


def _number_format(column: str, header: str, series: pd.Series) -> str | None:
    if column in TEXT_COLUMNS:
        return "@"
    if pd.api.types.is_bool_dtype(series):
        return None
    if pd.api.types.is_datetime64_any_dtype(series):
        return "DD/MM/YYYY"
    if pd.api.types.is_integer_dtype(series):
        return "#,##0"
    if pd.api.types.is_float_dtype(series):
        if header.endswith("(m)") or "(habitants)" in header:
            return "#,##0"
        if "(%" in header:
            return "0.0"
        if column in {"longitude", "latitude"}:
            return "0.000000"
        return "#,##0.000"
    return "@"


def _write_sheet(ws, frame: pd.DataFrame, rayon_km: float | None) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    columns = list(frame.columns)
    headers = [_header(str(c), rayon_km) for c in columns]
    bold = Font(bold=True)
    for j, h in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=j, value=h)
        cell.data_type = "s"
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for j, c in enumerate(columns, start=1):
        series = frame[c]
        fmt = _number_format(str(c), headers[j - 1], series)
        force_text = str(c) in TEXT_COLUMNS
        values = series.to_numpy(dtype=object)
        width = len(headers[j - 1])
        for i, raw in enumerate(values, start=2):
            v = _cell_value(raw)
            if v is None:
                continue
            if force_text or not isinstance(v, (bool, int, float, _dt.datetime, _dt.date)):
                v = str(v)
            cell = ws.cell(row=i, column=j, value=v)
            if isinstance(v, str):
                cell.data_type = "s"  # never a formula, even when the text starts with "="
                cell.number_format = "@"
                width = max(width, min(len(v), 60))
            elif fmt is not None:
                cell.number_format = fmt
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

    rayon_km = _km(diagnostic.parametres)
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
        _write_sheet(sheet, tab.frame, rayon_km)

    props = wb.properties
    props.creator = "couverture"
    props.title = getattr(diagnostic.parametres, "titre", None) or "Diagnostic"
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


def _csv_frame(frame: pd.DataFrame, rayon_km: float | None) -> pd.DataFrame:
    out = frame.copy()
    for c in out.columns:
        s = out[c]
        if pd.api.types.is_bool_dtype(s):
            out[c] = np.where(s.to_numpy(), "oui", "non")
        elif pd.api.types.is_datetime64_any_dtype(s):
            out[c] = s.dt.strftime("%d/%m/%Y")
        elif pd.api.types.is_float_dtype(s):
            v = s.to_numpy(dtype=float)
            out[c] = np.where(np.isfinite(v), v, np.nan)
    out.columns = [_header(str(c), rayon_km) for c in out.columns]
    return out


def _write_csv_folder(diagnostic, tables: list[_Table], folder: Path) -> None:
    rayon_km = _km(diagnostic.parametres)
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
            _csv_frame(tab.frame, rayon_km).to_csv(
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
        if pd.api.types.is_string_dtype(s) or s.dtype == object:
            if not hasattr(s, "geom_type"):
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
        readme = pd.DataFrame({"rubrique": [a for a, _ in lm], "valeur": [None if b is None else str(b) for _, b in lm]})
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
        raise InputError(f"{path} est un dossier : indiquez un nom de fichier (par exemple {path / ('diagnostic.' + kind)})")
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "xlsx":
        _atomic_bytes(path, _xlsx_bytes(diagnostic, tables))
    else:
        _write_gpkg(diagnostic, tables, path)
    log.info("diagnostic exporté : %s", path)
    return path
