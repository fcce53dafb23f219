"""The HTML atlas: a static site built from a diagnostic, that works offline.

:func:`build_atlas` writes, from a :class:`~couverture.analysis.diagnostic.Diagnostic`
(computed here when not given), a folder of HTML pages that open by
double-click (``file://``, no server, no network):

- ``index.html``: key figures of the territory, coverage map, equity indices;
- ``indicateurs/``: one page per mapped indicator (interactive map, static
  map for printing made by :func:`couverture.maps.static.choropleth`, table,
  method, limits, sources);
- ``territoires/``: one page per group of each level (EPCI...) and per
  commune split into arrondissements (Paris, Lyon, Marseille: found in the
  data), compared with the département;
- ``communes/``: one page per unit (commune or arrondissement);
- ``structures/``: one fiche per structure (its ZVS, population served,
  distances);
- ``zones-blanches.html``, ``methodologie.html``, ``telechargements.html``
  (every table in XLSX, CSV and GeoPackage, every layer in GeoJSON);
- ``evolution.html`` when the diagnostic has its year-by-year table
  (``evolution``: tables, three charts drawn by :mod:`couverture.atlas._charts`,
  the communes' entry into the convention), and ``scenarios.html`` when it
  has a siting scenario (``scenarios``, ``scenario_comparaison``: the sites
  in order, a map, the before/after table, the method and its limits). Both
  pages join the menu only then.

The coverage classes use explicit colours (:data:`CLASS_COLOURS`: zones
blanches in red, covered units in blues) on the printable and the
interactive maps alike.

Choices
-------
- Maps are drawn by a small script of ours on the vendored Leaflet
  (``static/vendor/leaflet``, fetched from npm by ``scripts/vendor_assets.sh``)
  rather than by folium, whose pages pull jQuery, Bootstrap and Font Awesome
  from CDNs. The units' light geometries (:mod:`couverture.maps.web`:
  coverage-preserving simplification, TopoJSON) are written once in
  ``data/communes.js`` and shared by every page; class colours are computed
  in Python by :mod:`couverture.maps.classify` (the same classes as the
  static maps).
- Nothing here computes an indicator: every number comes from the
  diagnostic (the figures of a city split into arrondissements are its
  level ``commune_plm``; the year-by-year charts draw its ``evolution``
  table; the siting scenario is its ``scenarios`` and
  ``scenario_comparaison``).
- Pages come from jinja2 templates with autoescaping; JSON embedded in a
  page goes through :func:`couverture.maps.web.dumps_for_script`; the map
  script inserts data values with ``textContent`` only. A Content Security
  Policy forbids inline scripts and any request leaving the machine.
- The folder is built beside the target and renamed into place
  (:func:`couverture.atlas._site.atomic_folder`); file names from data are
  slugs (:func:`couverture.atlas._site.slugify`).

Examples
--------
>>> import tempfile, pathlib
>>> import geopandas as gpd
>>> from shapely import Point, box
>>> from couverture.territory import Territory
>>> communes = gpd.GeoDataFrame(
...     {"code_insee": ["13001", "13002"], "nom": ["Aval", "Amont"], "population": [1000, 500],
...      "epci": ["200000001", "200000001"], "epci_nom": ["CC Essai", "CC Essai"]},
...     geometry=[box(800000, 6200000, 805000, 6205000), box(805000, 6200000, 810000, 6205000)], crs=2154)
>>> structures = gpd.GeoDataFrame(
...     {"structure_id": ["S1"], "nom": ["<b>Centre</b>"], "type": ["CS"], "code_insee": ["13001"]},
...     geometry=[Point(802000, 6202000)], crs=2154)
>>> index = build_atlas(Territory(communes, structures, name="Essai"), pathlib.Path(tempfile.mkdtemp()) / "atlas")
>>> index.name, (index.parent / "structures" / "s1.html").exists()
('index.html', True)
>>> "&lt;b&gt;Centre&lt;/b&gt;" in (index.parent / "structures" / "s1.html").read_text(encoding="utf-8")
True
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import pandas as pd
import shapely

from .. import __version__, codes
from ..errors import InputError
from ..maps._format import MISSING_TEXT, NNBSP, format_number, format_value
from ._site import atomic_folder, confined, slugify, unique_slugs
from .model import NON_CALCULE_SANS_ZVS, atlas_model, level_column, radius_m, scenario_radius_m

__all__ = ["build_atlas", "PAGES_MENU", "TYPE_NAMES"]

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

#: Full French names of the structure types.
TYPE_NAMES = {"CS": "Centre social", "EVS": "Espace de vie sociale"}

#: Top menu of every page: (key, label, path from the root).
PAGES_MENU: list[tuple[str, str, str]] = [
    ("accueil", "Accueil", "index.html"),
    ("indicateurs", "Indicateurs", "indicateurs/index.html"),
    ("territoires", "Territoires", "territoires/index.html"),
    ("communes", "Communes", "communes/index.html"),
    ("structures", "Structures", "structures/index.html"),
    ("zones-blanches", "Zones blanches", "zones-blanches.html"),
    ("methodologie", "Méthodologie", "methodologie.html"),
    ("telechargements", "Téléchargements", "telechargements.html"),
]

#: Pages shown in the menu only when the diagnostic has their table, inserted before « Méthodologie ».
OPTIONAL_PAGES: dict[str, tuple[str, str, str]] = {
    "evolution": ("evolution", "Évolution", "evolution.html"),
    "scenarios": ("scenarios", "Scénarios", "scenarios.html"),
    "qpv": ("qpv", "QPV", "qpv/index.html"),
}

#: Class colours of the indicators shown in categories (class 0 first), by column. Units in a
#: zone blanche (no ZVS) or out of reach of every structure are a warm red that stands out from the
#: page; covered units are blues darkening with the number of ZVS. All from ColorBrewer RdBu
#: (colour-blind safe); the red is 3.7:1 against white (WCAG 2.1 graphics: 3:1).
CLASS_COLOURS: dict[str, list[str]] = {
    "n_zones": ["#d6604d", "#92c5de", "#4393c3", "#2166ac"],
    "dans_rayon": ["#d6604d", "#4393c3"],
}

#: How the pages describe these colours.
CLASS_COLOURS_TEXT: dict[str, str] = {
    "n_zones": "rouge pour les zones blanches (aucune ZVS), bleus de plus en plus foncés avec le nombre de ZVS",
    "dans_rayon": "rouge au-delà du rayon, bleu à portée d'une structure",
}

#: Style of the outline of the zones blanches on the interactive maps.
ZONES_BLANCHES_STYLE = {"couleur": "#67001f", "epaisseur": 2.5}

#: Symbol of the sites proposed by the siting scenario (interactive map, legend).
SITE_STYLE = {"couleur": "#1f2933", "texte": "#ffffff"}

#: Logo formats copied into the site.
LOGO_SUFFIXES = (".png", ".jpg", ".jpeg", ".svg", ".gif", ".webp")

#: Resolution of the printable static maps (A4 at 150 dpi: 1754 x 1240 pixels).
STATIC_DPI = 150

#: Resolution of the charts of the « Évolution » page.
CHART_DPI = 150

#: Units whose names are labelled on the static maps.
STATIC_LABELS = 10

#: Names of the levels (columns of the units) in the pages.
LEVEL_NAMES = {"epci": "EPCI", "departement": "Département", "arrondissement": "Arrondissement", "canton": "Canton"}

_ARM_NAME = re.compile(r"^(.*?)\s+\d+\s*(?:er|e|ème|eme)?\s+arrondissement\b.*$", re.IGNORECASE)


# --------------------------------------------------------------------------- formatting helpers


def _num(value: Any, decimals: int = 0) -> str:
    """French number, ``n.d.`` when missing."""
    try:
        return format_number(value, decimals)
    except (TypeError, ValueError):
        return MISSING_TEXT


def _val(value: Any, unit: str | None, decimals: int = 0) -> str:
    try:
        return format_value(value, unit, decimals=decimals)
    except (TypeError, ValueError):
        return MISSING_TEXT


def _km(metres: Any, decimals: int = 1) -> str:
    try:
        v = float(metres)
    except (TypeError, ValueError):
        return MISSING_TEXT
    return format_value(v / 1000.0 if np.isfinite(v) else None, "km", decimals=decimals)


def _auto_decimals(value: Any, max_decimals: int = 3) -> int:
    """Fewest decimals that show ``value`` exactly (up to ``max_decimals``)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return 0
    if not np.isfinite(v):
        return 0
    for d in range(max_decimals + 1):
        if abs(v - round(v, d)) < 1e-9:
            return d
    return max_decimals


_PER_10000 = re.compile(r"pour 10[ \u202f\u00a0]000 (hab\.|habitants)")


def _unbreakable(value: Any) -> Any:
    """Jinja ``finalize``: « pour 10 000 hab. » never breaks across lines (no-break spaces).

    Markup (JSON for the scripts) is left as it is.

    Examples
    --------
    >>> _unbreakable("0,5 structure pour 10 000 hab.") == "0,5 structure pour\u00a010\u202f000\u00a0hab."
    True
    """
    from markupsafe import Markup

    if isinstance(value, str) and not isinstance(value, Markup) and "10" in value:
        return _PER_10000.sub(lambda m: f"pour\u00a010{NNBSP}000\u00a0{m.group(1)}", value)
    return value


def _oui_non(value: Any) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return MISSING_TEXT
    return "oui" if bool(value) else "non"


def _text(value: Any) -> str:
    """Display text of a cell of the user's data (dates as dd/mm/yyyy)."""
    if value is None:
        return ""
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        ts = pd.Timestamp(value)
        return "" if pd.isna(ts) else ts.strftime("%d/%m/%Y")
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    if isinstance(value, (float, np.floating)):
        return _num(value, _auto_decimals(value))
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return _num(value)
    return str(value)


def _split(text: Any) -> list[str]:
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return []
    return [s for s in str(text).split("; ") if s]


def _size(n: int) -> str:
    if n < 1024:
        return f"{n}{NNBSP}o"
    if n < 1024**2:
        return f"{_num(n / 1024, 1)}{NNBSP}ko"
    return f"{_num(n / 1024**2, 1)}{NNBSP}Mo"


def _signed(value: Any, decimals: int = 0) -> str:
    """French number with its sign: ``+1 200``, ``−0,5`` (minus sign U+2212), ``0``.

    Examples
    --------
    >>> [_signed(v, 1) for v in (2.5, -0.04, 0.0)] == ["+2,5", "0,0", "0,0"]
    True
    >>> _signed(-9969) == "\u22129\u202f969"
    True
    """
    text = _num(value, decimals)
    if text == MISSING_TEXT:
        return text
    if text.startswith("-"):
        return "\u2212" + text[1:]
    return text if float(value) == 0 or set(text) <= set("0,") else "+" + text


def _comparison_decimals(unit: str, values: Sequence[Any]) -> int:
    """Decimals of a row of the before/after table, after its unit.

    Examples
    --------
    >>> [_comparison_decimals(u, [1.0]) for u in ("% de la population", "km (pondérée)", "de 0 (égalité) à 1", "habitants")]
    [1, 2, 3, 0]
    """
    u = unit.lower()
    if "%" in u:
        return 1
    if u.startswith("km") or "10 000" in u:
        return 2
    if "indice" in u or "de 0" in u:
        return 3
    return max((_auto_decimals(v, 2) for v in values), default=0)


# --------------------------------------------------------------------------- level columns


def _level_columns(rayon_km: float) -> list[tuple[str, str, str | None, int, float]]:
    """(column, French label, unit, decimals, scale) of the level tables, in display order."""
    km = f"{rayon_km:g}".replace(".", ",")
    return [
        ("population", "Population", "hab.", 0, 1.0),
        ("n_unites", "Communes ou arrondissements", None, 0, 1.0),
        ("n_structures", "Structures (CS et EVS)", None, 0, 1.0),
        ("n_structures_cs", "Centres sociaux", None, 0, 1.0),
        ("n_structures_evs", "Espaces de vie sociale", None, 0, 1.0),
        ("structures_pour_10000_hab", "Structures pour 10 000 habitants", None, 2, 1.0),
        ("population_couverte", "Population dans une ZVS", "hab.", 0, 1.0),
        ("taux_couverture_pct", "Taux de couverture par les ZVS", "%", 1, 1.0),
        ("population_non_couverte", "Population hors ZVS (zones blanches)", "hab.", 0, 1.0),
        ("@sans_structure", f"Population à plus de {km} km d'une structure", "hab.", 0, 1.0),
        ("@part_sans_structure", f"Part de la population à plus de {km} km d'une structure", "%", 1, 1.0),
        ("population_sans_structure_accessible", "Population sans structure accessible (2SFCA nul)", "hab.", 0, 1.0),
        (
            "distance_moyenne_m",
            "Distance moyenne à la structure la plus proche (pondérée par la population)",
            "km",
            2,
            1e-3,
        ),
        (
            "distance_mediane_m",
            "Distance médiane à la structure la plus proche (pondérée par la population)",
            "km",
            2,
            1e-3,
        ),
        (
            "acces_2sfca_moyenne_ponderee",
            "Accessibilité 2SFCA moyenne (structures pour 10 000 hab., pondérée)",
            None,
            2,
            1.0,
        ),
    ]


def _resolve_level_column(columns: Sequence[str], key: str) -> str | None:
    return level_column(columns, key)


#: Level columns that only ZVS give; without zones one row says so instead.
_ZVS_LEVEL_COLUMNS = ("population_couverte", "taux_couverture_pct", "population_non_couverte")


def _level_rows(
    frame: pd.DataFrame, rows: Sequence[Any], rayon_km: float, *, has_zones: bool = True
) -> list[dict[str, Any]]:
    """Display rows (label, one formatted value per requested row of ``frame``)."""
    out = []
    used = set()
    for key, label, unit, dec, scale in _level_columns(rayon_km):
        if not has_zones and key in _ZVS_LEVEL_COLUMNS:
            if key == "population_couverte":
                out.append({"libelle": "Couverture par les ZVS", "valeurs": [NON_CALCULE_SANS_ZVS] * len(rows)})
            used.add(key)
            continue
        col = _resolve_level_column(list(frame.columns), key)
        if col is None:
            continue
        used.add(col)
        values = [_val(_scaled(frame.at[r, col], scale), unit, dec) if r in frame.index else MISSING_TEXT for r in rows]
        out.append({"libelle": label, "valeurs": values})
    for col in frame.columns:
        if col in used:
            continue
        vals = [frame.at[r, col] if r in frame.index else None for r in rows]
        out.append({"libelle": str(col), "valeurs": [_text(v) for v in vals]})
    return out


def _scaled(value: Any, scale: float) -> Any:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v * scale if np.isfinite(v) else None


# --------------------------------------------------------------------------- indicators


@dataclass
class _IndicatorView:
    """An indicator as the atlas shows it: classes, colours, labels, formatted values."""

    ind: Any
    slug: str
    yb: np.ndarray
    colors: list[str]
    labels: list[str]
    counts: list[int]
    n_missing: int
    texts: list[str]
    png: str
    alt: str
    order: np.ndarray = field(default_factory=lambda: np.array([], dtype=int))
    palette_text: str = ""
    #: Without the unit, for the tables whose header states it once (None: the values carry no unit).
    table_unit: str | None = None
    table_texts: list[str] = field(default_factory=list)
    table_labels: list[str] = field(default_factory=list)


def _categorical(ind, values: pd.Series, rayon_km: float) -> tuple[pd.Series, list[float], list[str]] | None:
    """Bins and labels of the indicators shown as categories (booleans, small counts)."""
    km = f"{rayon_km:g}".replace(".", ",")
    if pd.api.types.is_bool_dtype(values):
        v = values.astype(int)
        if ind.colonne == "dans_rayon":
            labels = [f"Au-delà de {km}{NNBSP}km", f"À {km}{NNBSP}km ou moins"]
        else:
            labels = ["Non", "Oui"]
        return v, [0.0], labels
    if str(ind.schema).lower() in ("manuel", "manual") and pd.api.types.is_integer_dtype(values):
        v = values.astype(int)
        if ind.colonne == "n_zones":
            labels = ["0 (zone blanche)", "1 zone", "2 zones", "3 zones ou plus"]
        else:
            labels = ["0", "1", "2", "3 ou plus"]
        return v, [0.0, 1.0, 2.0], labels
    return None


@contextlib.contextmanager
def _colormap(palette: str | list[str]) -> Iterator[str]:
    """Name of a matplotlib colormap giving exactly ``palette``'s colours to ``len(palette)`` classes.

    :mod:`couverture.maps.classify` samples a named colormap; a list of
    colours is registered for the duration of the ``with`` block as a
    :class:`~matplotlib.colors.ListedColormap` of that many entries (its
    sampling points fall one in each entry for up to 8 classes).

    Examples
    --------
    >>> from couverture.maps.classify import palette
    >>> with _colormap(["#d6604d", "#92c5de", "#2166ac"]) as name:
    ...     palette(name, 3)
    ['#d6604d', '#92c5de', '#2166ac']
    >>> with _colormap("PuBu") as name:
    ...     name
    'PuBu'
    """
    if isinstance(palette, str):
        yield palette
        return
    import matplotlib
    from matplotlib.colors import ListedColormap

    if not 1 <= len(palette) <= 8:
        raise ValueError("de 1 à 8 couleurs de classes")
    name = "couverture-atlas-" + "-".join(c.lstrip("#").lower() for c in palette)
    added = name not in matplotlib.colormaps
    if added:
        matplotlib.colormaps.register(ListedColormap(list(palette), name=name), name=name)
    try:
        yield name
    finally:
        if added:
            matplotlib.colormaps.unregister(name)


def _value_texts(values: pd.Series, unit: str | None) -> tuple[list[str], int]:
    if pd.api.types.is_bool_dtype(values):
        return [_oui_non(v) for v in values.to_numpy()], 0
    if pd.api.types.is_integer_dtype(values):
        return [_num(v) for v in values.to_numpy()], 0
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    finite = v[np.isfinite(v)]
    dec = 1 if finite.size and np.median(np.abs(finite)) >= 1 else 2
    return [_val(x if np.isfinite(x) else None, unit, dec) for x in v], dec


# --------------------------------------------------------------------------- the builder


class _Atlas:
    def __init__(self, d, site: Path, *, offline: bool, title: str | None, logo: str | os.PathLike | None) -> None:
        self.d = d
        self.site = site
        self.offline = offline
        p = d.params
        self.p = p
        self.model = atlas_model(d)
        self.has_zones = self.model.has_zones
        self.rayon_km = radius_m(p) / 1000.0
        self.title = title or getattr(p, "title", None) or "Diagnostic de l'animation de la vie sociale"
        self.subtitle = getattr(p, "subtitle", None)
        self.logo_src = Path(logo) if logo else None
        self.logo: str | None = None
        self.territory = d.territory
        self.demo = bool(getattr(d.territory, "demo", False))
        self.units = d.unites.reset_index(drop=True)
        self.structures = d.structures.reset_index(drop=True)
        self.pages: list[str] = []
        self.downloads: list[dict[str, Any]] = []
        evolution = getattr(d, "evolution", None)
        scenarios = getattr(d, "scenarios", None)
        self.evolution = evolution.reset_index(drop=True) if evolution is not None and len(evolution) else None
        self.scenarios = scenarios if scenarios is not None and len(scenarios) else None
        self.comparaison = getattr(d, "scenario_comparaison", None) if self.scenarios is not None else None
        self.menu = list(PAGES_MENU)
        if not self.has_zones:
            self.menu = [
                (k, "Zones blanches de proximité" if k == "zones-blanches" else lab, href) for k, lab, href in self.menu
            ]
        at = next(i for i, m in enumerate(self.menu) if m[0] == "methodologie")
        for key, present in (
            ("evolution", self.evolution is not None),
            ("scenarios", self.scenarios is not None),
            ("qpv", getattr(d, "qpv", None) is not None),
        ):
            if present:
                self.menu.insert(at, OPTIONAL_PAGES[key])
                at += 1

    # ------------------------------------------------------------------ setup
    def _env(self):
        import jinja2

        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(
                [str(TEMPLATES), str(HERE.parent / "report" / "templates")]
            ),  # + _portrait.html
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            finalize=_unbreakable,
        )
        from markupsafe import Markup

        from ..maps.web import dumps_for_script

        env.filters["nombre"] = _num
        env.filters["valeur"] = _val
        env.filters["km"] = _km
        env.filters["ouinon"] = _oui_non
        env.filters["texte"] = _text
        env.filters["json_script"] = lambda obj: Markup(dumps_for_script(obj))
        return env

    def write(self, relative: str, content: str | bytes) -> Path:
        path = confined(self.site, relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            with open(path, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(content)
        return path

    # ------------------------------------------------------------------ model
    def prepare(self) -> None:
        u = self.units
        s = self.structures
        self.unit_codes = u["code_insee"].astype(str).tolist()
        self.unit_slugs = dict(zip(self.unit_codes, unique_slugs(self.unit_codes)))
        parents = codes.plm_parent(pd.Series(self.unit_codes)).astype(str).tolist()
        self.unit_parent = dict(zip(self.unit_codes, parents))
        self.unit_row = {c: i for i, c in enumerate(self.unit_codes)}
        self.unit_names = dict(zip(self.unit_codes, u["nom"].astype(str) if "nom" in u.columns else self.unit_codes))
        self.struct_ids = s["structure_id"].astype(str).tolist()
        self.struct_slugs = dict(zip(self.struct_ids, unique_slugs(self.struct_ids)))
        self.struct_names = dict(zip(self.struct_ids, s["nom"].astype(str) if "nom" in s.columns else self.struct_ids))
        self.struct_row = {sid: i for i, sid in enumerate(self.struct_ids)}
        self.struct_unit = self._place_structures()

        # territories: one page per group of each level, then the communes split into arrondissements
        self.territories: list[dict[str, Any]] = []
        for level, frame in self.d.niveaux.items():
            if level == "departement" or level not in u.columns:
                continue
            names_col = f"{level}_nom"
            names = (
                u.dropna(subset=[level]).drop_duplicates(level).set_index(level)[names_col].astype(str)
                if names_col in u.columns
                else pd.Series(dtype=object)
            )
            for key in frame.index:
                members = u.index[u[level].astype(str) == str(key)].tolist()
                name = names.get(key, str(key)) if len(names) else str(key)
                self.territories.append(
                    {
                        "kind": "niveau",
                        "niveau": level,
                        "niveau_nom": LEVEL_NAMES.get(level, level),
                        "cle": key,
                        "nom": str(name),
                        "membres": members,
                        "frame": frame,
                        "slug_src": f"{level}-{key}",
                    }
                )
        plm = {}
        for code in self.unit_codes:
            parent = self.unit_parent[code]
            if parent != code:
                plm.setdefault(parent, []).append(self.unit_row[code])
        # figures of the whole city: the diagnostic's level "commune_plm" (index = code of the commune)
        plm_frame = self.d.niveaux.get("commune_plm")
        self.plm_frame = plm_frame if plm_frame is not None else pd.DataFrame()
        if plm and plm_frame is None:
            log.warning(
                "niveau « commune_plm » absent du diagnostic : pages de Paris, Lyon, Marseille sans chiffres agrégés"
            )
        for parent, members in sorted(plm.items()):
            first = self.unit_names[self.unit_codes[members[0]]]
            m = _ARM_NAME.match(first)
            name = m.group(1) if m else f"Commune {parent}"
            self.territories.append(
                {
                    "kind": "plm",
                    "niveau": "commune",
                    "niveau_nom": "Commune (par arrondissement)",
                    "cle": parent,
                    "nom": name,
                    "membres": members,
                    "frame": self.plm_frame,
                    "slug_src": name,
                }
            )
        for t, slug in zip(self.territories, unique_slugs(t["slug_src"] for t in self.territories)):
            t["slug"] = slug
            t["url"] = f"territoires/{slug}.html"
        self.unit_territories: dict[int, list[dict[str, Any]]] = {}
        for t in self.territories:
            for i in t["membres"]:
                self.unit_territories.setdefault(i, []).append(t)

        # indicators (the views are completed by the static maps)
        # without ZVS the number of ZVS is 0 everywhere: no page pretends to map it
        inds = [
            ind
            for ind in self.d.indicateurs
            if ind.colonne in u.columns and (self.has_zones or ind.colonne != "n_zones")
        ]
        slugs = unique_slugs(getattr(ind, "slug", "") or ind.colonne for ind in inds)
        self.indicator_specs = list(zip(inds, slugs))
        self.views: list[_IndicatorView] = []

    def _place_structures(self) -> list[int]:
        """Row of the unit holding each structure: its commune code, else the unit containing its point."""
        s = self.structures
        code = s["code_insee"].astype(str).tolist() if "code_insee" in s.columns else [""] * len(s)
        pos = np.array([self.unit_row.get(c, -1) for c in code], dtype=int)
        todo = np.flatnonzero(pos < 0)
        if len(todo):
            tree = shapely.STRtree(self.units.geometry.to_numpy())
            pts = s.geometry.to_numpy()[todo]
            si, ui = tree.query(pts, predicate="intersects")
            if len(si):
                first = np.r_[True, si[1:] != si[:-1]]
                pos[todo[si[first]]] = ui[first]
        return pos.tolist()

    # ------------------------------------------------------------------ assets and data files
    def copy_static(self) -> None:
        from ..maps.web import TOPOJSON_DECODER_JS

        dest = self.site / "static"
        shutil.copytree(STATIC, dest, ignore=shutil.ignore_patterns("__pycache__", "*.py", "*.pyc"))
        script = (STATIC / "atlas.js").read_text(encoding="utf-8")
        self.write(
            "static/atlas.js", "/* Décodeur TopoJSON (couverture.maps.web) */\n" + TOPOJSON_DECODER_JS + "\n\n" + script
        )
        if self.logo_src is not None:
            src = self.logo_src
            if not src.is_file():
                raise InputError(f"logo introuvable : {src}")
            suffix = src.suffix.lower()
            if suffix not in LOGO_SUFFIXES:
                raise InputError(
                    f"logo : format non pris en charge « {src.suffix} » ; formats possibles : {', '.join(LOGO_SUFFIXES)}"
                )
            self.write(f"static/logo{suffix}", src.read_bytes())
            self.logo = f"static/logo{suffix}"

    def static_maps(self) -> None:
        """Printable map of each indicator (PNG) and its classes, reused by the interactive maps."""
        import geopandas as gpd

        from ..maps.static import choropleth, save_figure

        u = self.units
        sources = self._sources_line()
        subtitle = self.territory.name + (" — structures et ZVS FICTIVES (démonstration)" if self.demo else "")
        for ind, slug in self.indicator_specs:
            values = u[ind.colonne]
            if not np.isfinite(pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)).any():
                log.info("indicateur %s : aucune valeur, pas de page", ind.colonne)
                continue
            cat = _categorical(ind, values, self.rayon_km)
            frame = u[[c for c in ("code_insee", "nom", "population", "departement", "point") if c in u.columns]].copy()
            frame = gpd.GeoDataFrame(frame, geometry=u.geometry.to_numpy(), crs=u.crs)
            palette = ind.palette
            if cat is not None:
                frame["_v"] = cat[0].to_numpy()
                kw = {"scheme": "manuel", "bins": cat[1]}
                unit = None
                explicit = CLASS_COLOURS.get(ind.colonne)
                if explicit is not None:
                    from ..maps.classify import Classification

                    k = Classification(frame["_v"], "manuel", bins=cat[1]).k
                    palette = list(explicit[:k]) if k <= len(explicit) else ind.palette
            else:
                frame["_v"] = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
                scheme = "quantiles" if str(ind.schema).lower() in ("manuel", "manual") else ind.schema
                kw = {"scheme": scheme, "k": int(ind.k)}
                unit = ind.unite
            with _colormap(palette) as palette_name:
                fig = choropleth(
                    frame,
                    "_v",
                    palette=palette_name,
                    unit=unit,
                    title=ind.titre,
                    subtitle=subtitle,
                    legend_title=textwrap.fill(ind.titre if unit is None else f"{ind.titre} ({unit})", 34),
                    structures=self.structures,
                    labels=STATIC_LABELS,
                    sources=sources,
                    **kw,
                )
            cls = fig.couverture_classification
            if isinstance(palette, list) and list(cls.colors) == palette:
                palette_text = (
                    f"Couleurs tirées de la palette ColorBrewer RdBu, lisible par les personnes daltoniennes : "
                    f"{CLASS_COLOURS_TEXT.get(ind.colonne, '')}."
                )
            else:
                palette_text = f"Les couleurs sont celles de la palette ColorBrewer {ind.palette}, lisible par les personnes daltoniennes."
            if cat is not None:
                labels = cat[2][: cls.k]
                if cls.k > len(cat[2]):
                    labels = cat[2] + [f"> {b:g}" for b in cls.bins[len(cat[2]) :]]
                counts_lab = [f"{lab} ({_num(n)})" for lab, n in zip(labels, cls.counts)]
                legend = next((a.get_legend() for a in fig.axes if a.get_legend() is not None), None)
                if legend is not None:
                    for text, lab in zip(legend.get_texts(), counts_lab):
                        text.set_text(lab)
                table_labels = list(labels)
            else:
                labels = cls.labels(unit)
                table_labels = cls.labels(None)
            png = f"indicateurs/{slug}.png"
            path = confined(self.site, png)
            path.parent.mkdir(parents=True, exist_ok=True)
            save_figure(fig, path, dpi=STATIC_DPI)
            os.chmod(path, 0o644)
            texts, _ = _value_texts(values, ind.unite)
            table_unit = unit if cat is None else None
            table_texts = _value_texts(values, None)[0] if table_unit else texts
            alt = (
                f"Carte imprimable « {ind.titre} » par commune ou arrondissement ({self.territory.name}), en "
                f"{cls.k} classe{'s' if cls.k > 1 else ''} : "
                + " ; ".join(f"{lab} ({_num(n)} unités)" for lab, n in zip(labels, cls.counts))
                + ". Les centres sociaux sont des triangles, les espaces de vie sociale des ronds."
            )
            raw = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            order = np.argsort(
                np.where(np.isfinite(raw), -raw if not getattr(ind, "inverse", False) else raw, np.inf), kind="stable"
            )
            if getattr(ind, "inverse", False):
                order = order[::-1]
            self.views.append(
                _IndicatorView(
                    ind=ind,
                    slug=slug,
                    yb=cls.yb.copy(),
                    colors=list(cls.colors),
                    labels=list(labels),
                    counts=[int(n) for n in cls.counts],
                    n_missing=int(cls.n_missing),
                    texts=texts,
                    png=png,
                    alt=alt,
                    order=order,
                    palette_text=palette_text,
                    table_unit=table_unit,
                    table_texts=table_texts,
                    table_labels=list(table_labels),
                )
            )

    def data_files(self) -> None:
        import geopandas as gpd

        from ..maps.web import auto_tolerance, dumps_for_script, to_geojson, to_topojson, web_geometries

        u = self.units
        web = web_geometries(u, columns=["code_insee"])
        props = pd.DataFrame(index=web.index)
        props["code"] = u["code_insee"].astype(str).to_numpy()
        props["nom"] = [self.unit_names[c] for c in self.unit_codes]
        props["s"] = [self.unit_slugs[c] for c in self.unit_codes]
        for v in self.views:
            props[f"c_{v.slug}"] = v.yb.astype(int)
            props[f"v_{v.slug}"] = v.texts
        web = gpd.GeoDataFrame(props, geometry=web.geometry.to_numpy(), crs=web.crs)
        topo = to_topojson(web, name="unites", properties=list(props.columns))
        self.write("data/communes.js", "window.COUVERTURE_COMMUNES=" + dumps_for_script(topo) + ";\n")

        s = self.structures
        wgs = s.geometry.to_crs(4326)
        lon = np.round(wgs.x.to_numpy(), 5)
        lat = np.round(wgs.y.to_numpy(), 5)
        types = s["type"].astype(str).tolist() if "type" in s.columns else ["autre"] * len(s)
        records = []
        for i, sid in enumerate(self.struct_ids):
            if not (np.isfinite(lon[i]) and np.isfinite(lat[i])):
                continue
            unit = self.struct_unit[i]
            records.append(
                {
                    "id": sid,
                    "nom": self.struct_names[sid],
                    "type": types[i],
                    "s": self.struct_slugs[sid],
                    "x": float(lon[i]),
                    "y": float(lat[i]),
                    "c": self.unit_names[self.unit_codes[unit]] if unit >= 0 else "",
                }
            )
        self.write("data/structures.js", "window.COUVERTURE_STRUCTURES=" + dumps_for_script(records) + ";\n")

        # zones de vie sociale: simplified one by one (they overlap: no shared-border topology)
        self.tolerance = auto_tolerance(u)
        self.zone_features: dict[str, dict[str, Any]] = {}
        z = self.d.zones
        if z is not None and len(z):
            geoms = shapely.simplify(z.geometry.to_numpy(), self.tolerance, preserve_topology=True)
            zg = gpd.GeoDataFrame(
                {
                    "id": z["structure_id"].astype(str).to_numpy(),
                    "nom": [self.struct_names.get(str(i), str(i)) for i in z["structure_id"]],
                    "s": [self.struct_slugs.get(str(i), "") for i in z["structure_id"]],
                },
                geometry=geoms,
                crs=z.crs,
            )
            fc = to_geojson(zg.to_crs(4326), properties=["id", "nom", "s"])
            for feat in fc["features"]:
                self.zone_features.setdefault(feat["properties"]["id"], feat)
            self.write("data/zones.js", "window.COUVERTURE_ZONES=" + dumps_for_script(fc) + ";\n")
        else:
            self.write(
                "data/zones.js",
                "window.COUVERTURE_ZONES=" + dumps_for_script({"type": "FeatureCollection", "features": []}) + ";\n",
            )

        # search index: communes, structures, territories
        entries = []
        for code in self.unit_codes:
            kind = "Arrondissement" if self.unit_parent[code] != code else "Commune"
            entries.append([self.unit_names[code], f"{kind} ({code})", f"communes/{self.unit_slugs[code]}.html"])
        for i, sid in enumerate(self.struct_ids):
            unit = self.struct_unit[i]
            where = self.unit_names[self.unit_codes[unit]] if unit >= 0 else ""
            label = TYPE_NAMES.get(types[i], "Structure")
            # 4th item: words searched but not shown (the type's abbreviation: « evs » lists the EVS)
            entries.append(
                [
                    self.struct_names[sid],
                    f"{label}{' – ' + where if where else ''}",
                    f"structures/{self.struct_slugs[sid]}.html",
                    types[i] if types[i] in TYPE_NAMES else "",
                ]
            )
        for t in self.territories:
            entries.append([t["nom"], t["niveau_nom"], t["url"], t["niveau"]])
        self.write("data/recherche.js", "window.COUVERTURE_RECHERCHE=" + dumps_for_script(entries) + ";\n")

    def _gaps(self):
        """The zones blanches the pages show: the ZVS's, or without ZVS the zones blanches de proximité."""
        if self.has_zones:
            return self.d.zones_blanches
        return getattr(self.d, "zones_blanches_proximite", None)

    def _gaps_label(self) -> str:
        """Legend of the outline of a zone blanche, with its rule."""
        if self.has_zones:
            return "Contour d'une zone blanche (communes voisines hors de toute ZVS)"
        return f"Contour d'une zone blanche de proximité (communes voisines à plus de {self.model.radius_km}{NNBSP}km de toute structure)"

    def _zones_blanches_geojson(self) -> dict[str, Any]:
        from ..maps.web import to_geojson

        zb = self._gaps()
        if zb is None or not len(zb):
            return {"type": "FeatureCollection", "features": []}
        import geopandas as gpd

        geoms = shapely.simplify(zb.geometry.to_numpy(), self.tolerance, preserve_topology=True)
        g = gpd.GeoDataFrame(
            {"rang": [int(r) for r in zb.index], "population": [_val(v, "hab.") for v in zb["population"]]},
            geometry=geoms,
            crs=zb.crs,
        )
        return to_geojson(g.to_crs(4326), properties=["rang", "population"])

    # ------------------------------------------------------------------ downloads
    def downloads_files(self) -> None:
        from ..exports import diagnostic_tables, export_diagnostic

        folder = confined(self.site, "telechargements")
        folder.mkdir(parents=True, exist_ok=True)
        tables = diagnostic_tables(self.d)
        export_diagnostic(self.d, folder / "diagnostic.xlsx")
        export_diagnostic(self.d, folder / "diagnostic.csv")
        export_diagnostic(self.d, folder / "diagnostic.gpkg")

        def entry(rel: str, label: str, fmt: str, description: str) -> dict[str, Any]:
            path = confined(self.site, rel)
            return {
                "href": rel,
                "libelle": label,
                "format": fmt,
                "description": description,
                "taille": _size(path.stat().st_size),
            }

        sheets = ", ".join(f"« {tab.feuille} »" for tab in tables)
        self.downloads.append(
            entry(
                "telechargements/diagnostic.xlsx",
                "Classeur de tous les tableaux",
                "XLSX",
                f"Une feuille par tableau ({sheets}), codes enregistrés comme du texte, une feuille "
                "« Lisez-moi » avec les sources et les paramètres.",
            )
        )
        self.downloads.append(
            entry(
                "telechargements/diagnostic.gpkg",
                "GeoPackage de toutes les couches",
                "GPKG",
                "Pour QGIS : unités, structures, zones de vie sociale et zones blanches avec leur géométrie "
                "(projection métrique du département), et les autres tableaux.",
            )
        )
        csv_dir = folder / "diagnostic"
        self.csv_downloads = []
        for tab in tables:
            rel = f"telechargements/diagnostic/{tab.fichier}.csv"
            if (csv_dir / f"{tab.fichier}.csv").exists():
                self.csv_downloads.append(entry(rel, tab.feuille, "CSV", tab.description))
        if (csv_dir / "lisez-moi.txt").exists():
            self.csv_downloads.append(
                entry(
                    "telechargements/diagnostic/lisez-moi.txt",
                    "Lisez-moi",
                    "TXT",
                    "Sources, paramètres et description des fichiers CSV.",
                )
            )
        self.geojson_downloads = []
        for tab in tables:
            if tab.geo is None or not len(tab.geo):
                continue
            rel = f"telechargements/geojson/{slugify(tab.fichier)}.geojson"
            self._write_geojson(tab.geo, rel)
            self.geojson_downloads.append(entry(rel, tab.feuille, "GeoJSON", tab.description + " Coordonnées WGS84."))
        self.png_downloads = [
            entry(v.png, v.ind.titre, "PNG", f"Carte imprimable A4 ({STATIC_DPI} dpi).") for v in self.views
        ] + [
            entry(g["png"], g["titre"], "PNG", f"Graphique de la page « Évolution » ({CHART_DPI} dpi).")
            for g in self.charts
        ]

    def _write_geojson(self, gdf, relative: str) -> None:
        import geopandas as gpd
        import pyogrio

        frame = gdf.to_crs(4326)
        geom = frame.geometry.name
        data = {}
        for c in frame.columns:
            if c == geom:
                continue
            s = frame[c]
            if isinstance(s.dtype, gpd.array.GeometryDtype):
                continue
            if pd.api.types.is_bool_dtype(s):
                data[str(c)] = s.astype(bool).to_numpy()
            elif pd.api.types.is_datetime64_any_dtype(s):
                data[str(c)] = [None if pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d") for v in s]
            elif pd.api.types.is_numeric_dtype(s):
                data[str(c)] = s.to_numpy()
            else:
                data[str(c)] = [None if _is_missing(v) else str(v) for v in s]
        out = gpd.GeoDataFrame(pd.DataFrame(data, index=frame.index), geometry=frame.geometry.to_numpy(), crs=4326)
        path = confined(self.site, relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        pyogrio.write_dataframe(
            out, path, driver="GeoJSON", layer_options={"RFC7946": "YES", "COORDINATE_PRECISION": 6, "WRITE_NAME": "NO"}
        )

    # ------------------------------------------------------------------ pages
    def _sources(self) -> list[tuple[str, str]]:
        labels = {"communes": "Communes", "structures": "Structures", "zones": "Zones de vie sociale"}
        out = []
        for key, text in self.d.sources.items():
            if key == "avertissement":
                continue
            out.append((labels.get(key, str(key).capitalize()), str(text)))
        return out

    def _sources_line(self) -> str:
        return "Sources : " + " ; ".join(f"{k.lower()} : {v}" for k, v in self._sources())

    def _notice(self) -> str | None:
        if not self.demo:
            return None
        from ..territory import DEMO_NOTICE

        return self.d.sources.get("avertissement") or DEMO_NOTICE

    def render(
        self,
        template: str,
        relative: str,
        *,
        titre: str,
        menu: str,
        fil: Sequence[tuple[str, str | None]] = (),
        **context: Any,
    ) -> None:
        depth = relative.count("/")
        root = "../" * depth
        page = self.env.get_template(template).render(
            root=root,
            page=relative,
            titre=titre,
            site_titre=self.title,
            sous_titre=self.subtitle,
            territoire=self.territory.name,
            notice=self._notice(),
            menu=self.menu,
            menu_actif=menu,
            fil=list(fil),
            sources=self._sources(),
            version=__version__,
            logo=self.logo,
            offline=self.offline,
            parametres=self._parametres_text(),
            exemple_recherche=self._search_example(),
            **context,
        )
        self.write(relative, page)
        self.pages.append(relative)

    def _search_example(self) -> str:
        """The territory's own most populous commune (not an arrondissement), for the search box's placeholder."""
        if not hasattr(self, "_exemple"):
            u = self.units
            whole = [i for i, c in enumerate(self.unit_codes) if self.unit_parent[c] == c]
            rows = whole or list(range(len(u)))
            pop = pd.to_numeric(u["population"], errors="coerce").to_numpy(dtype=float)[rows] if rows else []
            pop = np.nan_to_num(np.asarray(pop, dtype=float), nan=-1.0)  # issue 11: no population at all
            self._exemple = self.unit_names[self.unit_codes[rows[int(np.argmax(pop))]]] if len(rows) else "une commune"
        return self._exemple

    def _parametres_text(self) -> str:
        p = self.p
        parts = [f"rayon {self.rayon_km:g}{NNBSP}km".replace(".", ",")]
        if hasattr(p, "max_distance"):
            parts.append(f"distance maximale 2SFCA {float(p.max_distance) / 1000:g}{NNBSP}km".replace(".", ","))
        if getattr(p, "decay", None):
            parts.append(f"décroissance {p.decay}")
        if hasattr(p, "min_share"):
            parts.append(f"seuil de couverture {float(p.min_share):.0%}".replace("%", f"{NNBSP}%"))
        return ", ".join(parts)

    def _legend(self, view: _IndicatorView, codes: Sequence[str] | None = None) -> list[dict[str, str]]:
        """Legend items; the counts are those of the units ``codes`` (the page's own territory), else of all units."""
        counts, missing = list(view.counts), int(view.n_missing)
        if codes is not None:
            rows = np.array([self.unit_row[c] for c in codes if c in self.unit_row], dtype=int)
            yb = view.yb[rows].astype(int)
            counts = np.bincount(yb[yb >= 0], minlength=len(view.colors)).tolist()[: len(view.colors)]
            missing = int((yb < 0).sum())
        items = [
            {"couleur": c, "libelle": lab, "effectif": _num(n)} for c, lab, n in zip(view.colors, view.labels, counts)
        ]
        if missing:
            from ..maps.classify import MISSING_COLOR

            items.append({"couleur": MISSING_COLOR, "libelle": "Donnée manquante", "effectif": _num(missing)})
        return items

    def _map(
        self,
        view: _IndicatorView | None,
        *,
        label: str,
        surligner: Sequence[str] | None = None,
        cadrer: Sequence[str] | None = None,
        structure: str | None = None,
        zone: dict | None = None,
        zones: bool = False,
        blanches: dict | None = None,
        sites: list[dict[str, Any]] | None = None,
        rayon_sites: float | None = None,
        effectifs_de: str | None = None,
    ) -> dict[str, Any]:
        """Configuration and legend of an interactive map.

        When ``surligner`` is given the legend counts those units only, and
        ``effectifs_de`` names them (« de Marseille »); otherwise it counts
        every unit of the territory.
        """
        from ..maps.classify import MISSING_COLOR
        from ..maps.static import STRUCTURE_STYLES

        view = view or (self.views[0] if self.views else None)
        cfg: dict[str, Any] = {
            "indicateur": view.slug if view else None,
            "titre": view.ind.titre if view else "",
            "couleurs": view.colors if view else [],
            "manquant": MISSING_COLOR,
            "surligner": list(surligner) if surligner is not None else None,
            "cadrer": list(cadrer) if cadrer is not None else None,
            "structure": structure,
            "zone": zone,
            "zones": bool(zones) and self.has_zones,
            "blanches": blanches,
            "style_blanches": ZONES_BLANCHES_STYLE,
            "sites": sites,
            "rayon_sites": rayon_sites,
            "style_sites": SITE_STYLE,
            "styles": {k: {"couleur": v["color"], "libelle": v["label"]} for k, v in STRUCTURE_STYLES.items()},
            "tuiles": None
            if self.offline
            else {
                "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                "attribution": "© contributeurs OpenStreetMap",
            },
        }
        local = surligner is not None and view is not None
        where = (
            effectifs_de
            if local and effectifs_de
            else ("de la partie surlignée" if local else f"de {self.territory.name}")
        )
        return {
            "config": cfg,
            "legende": self._legend(view, list(surligner) if local else None) if view else [],
            "titre": view.ind.titre if view else "",
            "effectifs": f"Entre parenthèses : nombre de communes ou arrondissements {where} dans chaque classe.",
            "label": label,
            "zones": (bool(zones) or zone is not None) and self.has_zones,
            "blanches": blanches is not None,
            "blanches_libelle": self._gaps_label(),
            "styles": cfg["styles"],
            "style_blanches": ZONES_BLANCHES_STYLE,
            "sites": bool(sites),
            "style_sites": SITE_STYLE,
            "rayon_sites_km": self._km_text(rayon_sites) if rayon_sites else None,
        }

    # unit display helpers
    def unit_link(self, code: str) -> dict[str, str]:
        return {"href": f"communes/{self.unit_slugs[code]}.html", "texte": self.unit_names.get(code, code)}

    def struct_link(self, sid: str) -> dict[str, str] | None:
        if sid not in self.struct_slugs:
            return None
        return {"href": f"structures/{self.struct_slugs[sid]}.html", "texte": self.struct_names[sid]}

    def _unit_table_rows(self, rows: Sequence[int]) -> list[dict[str, Any]]:
        u = self.units
        out = []
        by_slug = {v.slug: v for v in self.views}
        dist = by_slug.get("distance")
        acc = by_slug.get("accessibilite")
        for i in rows:
            code = self.unit_codes[i]
            out.append(
                {
                    "lien": self.unit_link(code),
                    "code": code,
                    "population": _num(u.at[i, "population"]),
                    "n_zones": _num(u.at[i, "n_zones"]) if "n_zones" in u.columns else MISSING_TEXT,
                    "distance": dist.texts[i]
                    if dist
                    else _km(u.at[i, "distance_m"])
                    if "distance_m" in u.columns
                    else MISSING_TEXT,
                    "acces": acc.texts[i] if acc else MISSING_TEXT,
                }
            )
        return out

    def _struct_table_rows(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        s = self.structures
        out = []
        for sid in ids:
            i = self.struct_row[sid]
            unit = self.struct_unit[i]
            out.append(
                {
                    "lien": self.struct_link(sid),
                    "type": str(s.at[i, "type"]) if "type" in s.columns else "",
                    "commune": self.unit_link(self.unit_codes[unit]) if unit >= 0 else None,
                    "population_zvs": _num(s.at[i, "population_zvs"])
                    if "population_zvs" in s.columns
                    else MISSING_TEXT,
                    "n_unites_zvs": _num(s.at[i, "n_unites_zvs"]) if "n_unites_zvs" in s.columns else MISSING_TEXT,
                    "population_rayon": _num(s.at[i, "population_rayon"])
                    if "population_rayon" in s.columns
                    else MISSING_TEXT,
                }
            )
        return out

    def _equity_blocks(self, column: str = "Ensemble") -> list[dict[str, Any]]:
        eq = self.d.equite
        if eq is None or not len(eq) or column not in eq.columns or not isinstance(eq.index, pd.MultiIndex):
            return []
        blocks = []
        for name in eq.index.get_level_values(0).unique():
            sub = eq.loc[name]
            rows = []
            for indice, row in sub.iterrows():
                value = row[column]
                unite = str(row.get("unite", "") or "")
                if value is None or (isinstance(value, float) and not np.isfinite(value)):
                    continue
                v = float(value)
                if unite in ("unités", "habitants") or abs(v) >= 100:
                    dec = 0
                elif "%" in unite:
                    dec = 1
                else:
                    dec = 3
                rows.append({"indice": str(indice), "valeur": _num(v, dec), "unite": unite})
            if rows:
                blocks.append({"titre": str(name), "lignes": rows})
        return blocks

    def pages_all(self) -> None:
        self.env = self._env()
        self.env.globals.update(
            type_names=TYPE_NAMES, a_zvs=self.has_zones, non_calcule=NON_CALCULE_SANS_ZVS, rayon_km=self.model.radius_km
        )
        self.page_index()
        self.page_indicators()
        self.page_territories()
        self.page_units()
        self.page_structures()
        self.page_zones_blanches()
        if self.evolution is not None:
            self.page_evolution()
        if self.scenarios is not None:
            self.page_scenarios()
        if getattr(self.d, "qpv", None) is not None:
            from .pages import qpv as qpv_pages

            fil = [("Accueil", "index.html"), ("QPV", None)]
            self.render(
                "qpv.html",
                "qpv/index.html",
                titre="Quartiers prioritaires",
                menu="qpv",
                fil=fil,
                quartier=None,
                **qpv_pages.context(self.d),
            )
            for code in self.d.qpv.index:
                ctx = qpv_pages.quartier_context(self.d, code)
                fil = [("Accueil", "index.html"), ("QPV", "qpv/index.html"), (ctx["quartier"]["nom"], None)]
                self.render(
                    "qpv.html",
                    f"qpv/{qpv_pages.slug(code)}.html",
                    titre=ctx["quartier"]["nom"],
                    menu="qpv",
                    fil=fil,
                    **ctx,
                )
        self.page_methodologie()
        self.page_telechargements()

    def page_index(self) -> None:
        cc = self.d.chiffres_cles
        figures = []
        for name, row in cc.iterrows():
            v = row["valeur"]
            unit = str(row.get("unite", "") or "")
            text = v if isinstance(v, str) else _num(v, _auto_decimals(v, 3))  # a figure that is text says why
            figures.append({"libelle": str(name), "valeur": text, "unite": unit})
        view = self.views[0] if self.views else None
        if not self.has_zones:  # the headline is proximity: the map of the units within the radius
            view = next((v for v in self.views if v.ind.colonne == "dans_rayon"), view)
        zb = self._gaps()
        top = []
        if zb is not None and len(zb):
            for rang, row in zb.head(3).iterrows():
                top.append(
                    {
                        "rang": int(rang),
                        "population": _num(row["population"]),
                        "unites": [self.unit_link(c) for c in _split(row.get("codes_insee")) if c in self.unit_slugs],
                    }
                )
        self.render(
            "index.html",
            "index.html",
            titre="Accueil",
            menu="accueil",
            chiffres=figures,
            carte=self._map(
                view,
                label="Carte interactive de la couverture par les zones de vie sociale"
                if self.has_zones
                else "Carte interactive de la proximité des structures",
                zones=True,
                blanches=self._zones_blanches_geojson(),
            ),
            indicateurs=[{"href": f"indicateurs/{v.slug}.html", "texte": v.ind.titre} for v in self.views],
            equite=self._equity_blocks(),
            top_blanches=top,
            n_blanches=0 if zb is None else len(zb),
            territoires=[{"href": t["url"], "texte": t["nom"], "niveau": t["niveau_nom"]} for t in self.territories],
            evolution=self._evolution_summary(),
            scenario=self._scenario_info() if self.scenarios is not None else None,
        )

    def page_indicators(self) -> None:
        fil = [("Accueil", "index.html"), ("Indicateurs", None)]
        self.render(
            "indicateurs.html",
            "indicateurs/index.html",
            titre="Indicateurs",
            menu="indicateurs",
            fil=fil,
            indicateurs=[
                {
                    "href": f"indicateurs/{v.slug}.html",
                    "texte": v.ind.titre,
                    "unite": v.ind.unite,
                    "methode": v.ind.description_methode,
                }
                for v in self.views
            ],
        )
        u = self.units
        for v in self.views:
            rows = []
            for i in v.order:
                code = self.unit_codes[i]
                k = int(v.yb[i])
                rows.append(
                    {
                        "lien": self.unit_link(code),
                        "code": code,
                        "population": _num(u.at[i, "population"]),
                        "epci": str(u.at[i, "epci_nom"]) if "epci_nom" in u.columns else "",
                        "valeur": v.table_texts[i],
                        "couleur": v.colors[k] if k >= 0 else None,
                        "classe": v.table_labels[k] if k >= 0 else "Donnée manquante",
                    }
                )
            self.render(
                "indicateur.html",
                f"indicateurs/{v.slug}.html",
                titre=v.ind.titre,
                menu="indicateurs",
                fil=[("Accueil", "index.html"), ("Indicateurs", "indicateurs/index.html"), (v.ind.titre, None)],
                vue=v,
                ind=v.ind,
                lignes=rows,
                legende=self._legend(v),
                carte=self._map(
                    v,
                    label=f"Carte interactive : {v.ind.titre}",
                    blanches=self._zones_blanches_geojson() if v.ind.colonne == "n_zones" else None,
                ),
            )

    def page_territories(self) -> None:
        dept = self.d.niveaux.get("departement")
        dept_key = dept.index[0] if dept is not None and len(dept) else None
        groups = []
        for t in self.territories:
            groups.append(
                {
                    "href": t["url"],
                    "texte": t["nom"],
                    "niveau": t["niveau_nom"],
                    "population": _num(self.units.loc[t["membres"], "population"].sum()) if t["membres"] else "0",
                    "n": len(t["membres"]),
                }
            )
        self.render(
            "territoires.html",
            "territoires/index.html",
            titre="Territoires",
            menu="territoires",
            fil=[("Accueil", "index.html"), ("Territoires", None)],
            territoires=groups,
        )
        for t in self.territories:
            frame = t["frame"]
            key = t["cle"]
            parts = []
            if key in frame.index:
                parts.append(frame.loc[[key]])
                if dept is not None:
                    parts.append(dept.loc[[dept_key]].reindex(columns=frame.columns))
            both = pd.concat(parts) if parts else frame.iloc[:0]
            rows = (
                _level_rows(both.reset_index(drop=True), [0, 1], self.rayon_km, has_zones=self.has_zones)
                if len(both)
                else []
            )
            members = [self.unit_codes[i] for i in t["membres"]]
            structs = [self.struct_ids[j] for j, unit in enumerate(self.struct_unit) if unit in set(t["membres"])]
            self.render(
                "territoire.html",
                t["url"],
                titre=t["nom"],
                menu="territoires",
                fil=[("Accueil", "index.html"), ("Territoires", "territoires/index.html"), (t["nom"], None)],
                t=t,
                lignes=rows,
                unites=self._unit_table_rows(t["membres"]),
                structures=self._struct_table_rows(structs),
                equite=self._equity_blocks(t["nom"]) if t["kind"] == "niveau" else [],
                portrait=_portrait(self.d, t["cle"]),
                carte=self._map(
                    None,
                    label=f"Carte interactive : {t['nom']}",
                    surligner=members,
                    cadrer=members,
                    effectifs_de=("de " if t["kind"] == "plm" else "du territoire ") + t["nom"],
                ),
            )

    def page_units(self) -> None:
        u = self.units
        rows = self._unit_table_rows(range(len(u)))
        for r, code in zip(rows, self.unit_codes):
            i = self.unit_row[code]
            r["epci"] = str(u.at[i, "epci_nom"]) if "epci_nom" in u.columns else ""
            r["type"] = "Arrondissement" if self.unit_parent[code] != code else "Commune"
        self.render(
            "communes.html",
            "communes/index.html",
            titre="Communes et arrondissements",
            menu="communes",
            fil=[("Accueil", "index.html"), ("Communes", None)],
            lignes=rows,
        )
        dept = self.d.niveaux.get("departement")
        dept_row = dept.iloc[0] if dept is not None and len(dept) else pd.Series(dtype=object)
        epci_frame = self.d.niveaux.get("epci")
        located: dict[int, list[str]] = {}
        for j, unit in enumerate(self.struct_unit):
            located.setdefault(unit, []).append(self.struct_ids[j])
        part_col = _resolve_level_column(list(dept.columns) if dept is not None else [], "@part_sans_structure")
        proposed: dict[str, int] = {}
        if self.scenarios is not None and "code_insee" in self.scenarios.columns:
            for rang, code in zip(self.scenarios.index, self.scenarios["code_insee"].astype(str)):
                proposed.setdefault(code, int(rang))
        for i, code in enumerate(self.unit_codes):
            name = self.unit_names[code]
            terr = self.unit_territories.get(i, [])
            epci_t = next((t for t in terr if t["kind"] == "niveau" and t["niveau"] == "epci"), None)
            plm_t = next((t for t in terr if t["kind"] == "plm"), None)
            epci_row = epci_frame.loc[epci_t["cle"]] if epci_t is not None and epci_frame is not None else None

            def lv(row, col, unit=None, dec=0, scale=1.0, prefix=""):
                if row is None or col is None or col not in row.index:
                    return "–"
                return prefix + _val(_scaled(row[col], scale), unit, dec)

            if not self.has_zones:
                unit_cov = NON_CALCULE_SANS_ZVS
            elif "n_zones" in u.columns:
                n = int(u.at[i, "n_zones"])
                unit_cov = "non (zone blanche)" if n == 0 else f"oui ({n} ZVS)"
            else:
                unit_cov = MISSING_TEXT
            comparaison = [
                {
                    "libelle": "Population",
                    "unite": _val(u.at[i, "population"], "hab."),
                    "epci": lv(epci_row, "population", "hab."),
                    "dept": lv(dept_row, "population", "hab."),
                },
                {
                    "libelle": "Couverture par les zones de vie sociale",
                    "unite": unit_cov,
                    "epci": lv(epci_row, "taux_couverture_pct", "%", 1, prefix="taux "),
                    "dept": lv(dept_row, "taux_couverture_pct", "%", 1, prefix="taux "),
                },
            ]
            if "distance_m" in u.columns:
                comparaison.append(
                    {
                        "libelle": "Distance à la structure la plus proche",
                        "unite": _km(u.at[i, "distance_m"], 2),
                        "epci": lv(epci_row, "distance_moyenne_m", "km", 2, 1e-3, "moyenne "),
                        "dept": lv(dept_row, "distance_moyenne_m", "km", 2, 1e-3, "moyenne "),
                    }
                )
            if "dans_rayon" in u.columns:
                km = f"{self.rayon_km:g}".replace(".", ",")
                comparaison.append(
                    {
                        "libelle": f"Au-delà de {km} km de toute structure",
                        "unite": _oui_non(not bool(u.at[i, "dans_rayon"])),
                        "epci": lv(epci_row, part_col, "%", 1, prefix="")
                        + (" de la population" if epci_row is not None and part_col in epci_row.index else ""),
                        "dept": lv(dept_row, part_col, "%", 1)
                        + (" de la population" if part_col in dept_row.index else ""),
                    }
                )
            if "acces_2sfca" in u.columns:
                comparaison.append(
                    {
                        "libelle": "Accessibilité 2SFCA (structures pour 10 000 hab.)",
                        "unite": _num(u.at[i, "acces_2sfca"], 2),
                        "epci": lv(epci_row, "acces_2sfca_moyenne_ponderee", None, 2, prefix="moyenne "),
                        "dept": lv(dept_row, "acces_2sfca_moyenne_ponderee", None, 2, prefix="moyenne "),
                    }
                )
            details = []
            for col, label in (
                ("distance_cs_m", "Distance au centre social le plus proche"),
                ("distance_evs_m", "Distance à l'espace de vie sociale le plus proche"),
            ):
                if col in u.columns:
                    details.append((label, _km(u.at[i, col], 2)))
            covering = (
                [sid for sid in _split(u.at[i, "structures_zvs"]) if sid in self.struct_row]
                if "structures_zvs" in u.columns
                else []
            )
            fil = [("Accueil", "index.html")]
            if plm_t is not None:
                fil += [("Territoires", "territoires/index.html"), (plm_t["nom"], plm_t["url"])]
            elif epci_t is not None:
                fil += [("Territoires", "territoires/index.html"), (epci_t["nom"], epci_t["url"])]
            else:
                fil += [("Communes", "communes/index.html")]
            fil.append((name, None))
            self.render(
                "unite.html",
                f"communes/{self.unit_slugs[code]}.html",
                titre=name,
                menu="communes",
                fil=fil,
                code=code,
                nom=name,
                genre="Arrondissement" if self.unit_parent[code] != code else "Commune",
                territoires=[{"href": t["url"], "texte": t["nom"], "niveau": t["niveau_nom"]} for t in terr],
                comparaison=comparaison,
                details=details,
                epci_nom=epci_t["nom"] if epci_t else None,
                site_propose=proposed.get(code),
                couvrantes=self._struct_table_rows(covering),
                situees=self._struct_table_rows(located.get(i, [])),
                valeurs=[
                    {"titre": v.ind.titre, "valeur": v.texts[i], "href": f"indicateurs/{v.slug}.html"}
                    for v in self.views
                ],
                carte=self._map(
                    None,
                    label=f"Carte interactive : {name}",
                    surligner=[code],
                    cadrer=[code],
                    effectifs_de=f"de {name}",
                ),
            )

    def page_structures(self) -> None:
        s = self.structures
        self.render(
            "structures.html",
            "structures/index.html",
            titre="Structures",
            menu="structures",
            fil=[("Accueil", "index.html"), ("Structures", None)],
            lignes=self._struct_table_rows(self.struct_ids),
        )
        known = {
            "structure_id",
            "nom",
            "type",
            "code_insee",
            "commune",
            "localisation",
            "capacite",
            "date_agrement",
            "population_zvs",
            "n_unites_zvs",
            "unites_zvs",
            "population_rayon",
            "distance_voisine_m",
            "population_declaree",
            "ecart_population_declaree",
        }
        import geopandas as gpd

        extra_cols = [
            c
            for c in s.columns
            if c not in known and c != s.geometry.name and not isinstance(s[c].dtype, gpd.array.GeometryDtype)
        ]
        km = f"{self.rayon_km:g}".replace(".", ",")
        for i, sid in enumerate(self.struct_ids):
            name = self.struct_names[sid]
            unit = self.struct_unit[i]
            typ = str(s.at[i, "type"]) if "type" in s.columns else ""
            ident = [("Type", TYPE_NAMES.get(typ, typ)), ("Identifiant", sid)]
            if "localisation" in s.columns:
                loc = str(s.at[i, "localisation"])
                ident.append(
                    (
                        "Localisation",
                        {
                            "coordonnees": "coordonnées du fichier",
                            "commune": "placée à la mairie (commune seule connue)",
                        }.get(loc, loc),
                    )
                )
            if "capacite" in s.columns and _text(s.at[i, "capacite"]):
                ident.append(("Capacité", _text(s.at[i, "capacite"])))
            if "date_agrement" in s.columns and _text(s.at[i, "date_agrement"]):
                ident.append(("Date d'agrément", _text(s.at[i, "date_agrement"])))
            for c in extra_cols:
                t = _text(s.at[i, c])
                if t:
                    ident.append((str(c), t))
            zvs_codes = (
                [c for c in _split(s.at[i, "unites_zvs"]) if c in self.unit_slugs] if "unites_zvs" in s.columns else []
            )
            chiffres = []
            if not self.has_zones:
                chiffres.append(("Population de sa zone de vie sociale", NON_CALCULE_SANS_ZVS))
            elif "population_zvs" in s.columns:
                chiffres.append(("Population de sa zone de vie sociale", _val(s.at[i, "population_zvs"], "hab.")))
            if "population_declaree" in s.columns:  # SENACS: declared « zone de compétence »
                chiffres.append(
                    (
                        "Population déclarée de sa zone de compétence (fichier), écart avec la ZVS",
                        f"{_val(s.at[i, 'population_declaree'], 'hab.')} ; écart "
                        f"{_val(s.at[i, 'ecart_population_declaree'], 'hab.')}",
                    )
                )
            if "n_unites_zvs" in s.columns and self.has_zones:
                chiffres.append(("Communes ou arrondissements de sa ZVS", _num(s.at[i, "n_unites_zvs"])))
            if "population_rayon" in s.columns:
                chiffres.append((f"Population à moins de {km} km", _val(s.at[i, "population_rayon"], "hab.")))
            if "distance_voisine_m" in s.columns:
                chiffres.append(
                    ("Distance à la structure voisine la plus proche", _km(s.at[i, "distance_voisine_m"], 2))
                )
            zone = self.zone_features.get(sid)
            voisines = [
                x
                for x in (self.struct_ids[j] for j, uu in enumerate(self.struct_unit) if uu == unit and unit >= 0)
                if x != sid
            ]
            terr = self.unit_territories.get(unit, []) if unit >= 0 else []
            fil = [("Accueil", "index.html"), ("Structures", "structures/index.html"), (name, None)]
            self.render(
                "structure.html",
                f"structures/{self.struct_slugs[sid]}.html",
                titre=name,
                menu="structures",
                fil=fil,
                nom=name,
                sid=sid,
                type_code=typ,
                identite=ident,
                chiffres=chiffres,
                commune=self.unit_link(self.unit_codes[unit]) if unit >= 0 else None,
                territoires=[{"href": t["url"], "texte": t["nom"], "niveau": t["niveau_nom"]} for t in terr],
                zvs=[self.unit_link(c) for c in zvs_codes],
                voisines=self._struct_table_rows(voisines),
                zone_absente=zone is None,
                carte=self._map(
                    None,
                    label=f"Carte interactive : {name}" + (" et sa zone de vie sociale" if self.has_zones else ""),
                    surligner=zvs_codes or None,
                    effectifs_de="de sa zone de vie sociale",
                    cadrer=zvs_codes or ([self.unit_codes[unit]] if unit >= 0 else None),
                    structure=sid,
                    zone=zone,
                ),
            )

    def page_zones_blanches(self) -> None:
        from .pages import zones_blanches as page

        c = page.context(self.model)
        carte = self._map(
            None,
            label=c["carte_libelle"],
            surligner=c["membres"] or None,
            effectifs_de=c["effectifs_de"],
            blanches=self._zones_blanches_geojson(),
        )
        self.render(
            page.TEMPLATE,
            page.PATH,
            titre=c["titre"],
            menu="zones-blanches",
            fil=c["fil"],
            lignes=c["lignes"],
            total=c["total"],
            carte=carte,
        )

    def page_methodologie(self) -> None:
        p = self.p
        rapport = self.d.rapport
        self.render(
            "methodologie.html",
            "methodologie.html",
            titre="Méthodologie",
            menu="methodologie",
            fil=[("Accueil", "index.html"), ("Méthodologie", None)],
            indicateurs=[v.ind for v in self.views],
            rayon_km=f"{self.rayon_km:g}".replace(".", ","),
            distance_max_km=f"{float(getattr(p, 'max_distance', 10000)) / 1000:g}".replace(".", ","),
            seuil=f"{float(getattr(p, 'min_share', 0.5)):.0%}".replace("%", f"{NNBSP}%"),
            decay=getattr(p, "decay", None),
            niveaux=[LEVEL_NAMES.get(n, n) for n in getattr(p, "levels", ())],
            n_erreurs=getattr(rapport, "n_erreurs", 0) if rapport is not None else 0,
            n_avertissements=getattr(rapport, "n_avertissements", 0) if rapport is not None else 0,
            tolerance=_num(getattr(self, "tolerance", 0), 0),
            crs=str(self.units.crs.to_string()) if self.units.crs else "",
            evolution=self._evolution_summary(),
            scenario=self._scenario_info() if self.scenarios is not None else None,
        )

    def page_telechargements(self) -> None:
        self.render(
            "telechargements.html",
            "telechargements.html",
            titre="Téléchargements",
            menu="telechargements",
            fil=[("Accueil", "index.html"), ("Téléchargements", None)],
            classeurs=self.downloads,
            csv=self.csv_downloads,
            geojson=self.geojson_downloads,
            cartes=self.png_downloads,
        )

    # ------------------------------------------------------------------ evolution
    def _km_text(self, metres: float | None = None) -> str:
        m = radius_m(self.p) if metres is None else float(metres)
        return f"{m / 1000:g}".replace(".", ",")

    def _evolution_series(self, column: str) -> np.ndarray | None:
        ev = self.evolution
        if ev is None or column not in ev.columns:
            return None
        if not self.model.has_convention and column in _CONVENTION_COLUMNS:
            return None  # without a convention table its columns are zeros, not facts
        if not self.has_zones and column in ("population_couverte", "taux_couverture_pct"):
            return None
        v = pd.to_numeric(ev[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        return v if np.isfinite(v).any() else None

    def _convention_year(self) -> int | None:
        """First year with a signatory commune (read from the evolution table)."""
        sig = self._evolution_series("n_communes_signataires")
        if sig is None or not (sig > 0).any():
            return None
        return int(self.evolution["annee"].to_numpy()[np.flatnonzero(sig > 0)[0]])

    def evolution_charts(self) -> None:
        """Charts of the « Évolution » page (PNG): structures, coverage and equity by year."""
        self.charts: list[dict[str, Any]] = []
        ev = self.evolution
        if ev is None or "annee" not in ev.columns:
            return
        from ..maps.static import STRUCTURE_STYLES, save_figure
        from ._charts import Serie, year_chart

        years = ev["annee"].astype(int).tolist()
        y0, y1 = years[0], years[-1]
        first = self._convention_year()
        repere = (first, f"Convention : premières communes signataires ({first})") if first is not None else None
        sources = self._sources_line()
        km = self._km_text()

        def at(v: np.ndarray, i: int, dec: int, unit: str | None = None) -> str:
            return _val(v[i] if np.isfinite(v[i]) else None, unit, dec)

        specs = []
        cs, evs = self._evolution_series("n_cs"), self._evolution_series("n_evs")
        if cs is not None or evs is not None:
            series, parts0, parts1 = [], [], []
            for v, key, label in ((cs, "CS", "centres sociaux"), (evs, "EVS", "espaces de vie sociale")):
                if v is None:
                    continue
                st = STRUCTURE_STYLES[key]
                series.append(Serie(st["label"], v, couleur=st["color"], kind="barre"))
                parts0.append(f"{at(v, 0, 0)} {label}")
                parts1.append(f"{at(v, -1, 0)} {label}")
            specs.append(
                (
                    "structures",
                    "Structures agréées au 31 décembre",
                    series,
                    {},
                    f"Histogramme empilé du nombre de structures agréées au 31 décembre de chaque année, de {y0} à {y1} : "
                    f"{' et '.join(parts0)} en {y0} ; {' et '.join(parts1)} en {y1}.",
                )
            )
        lines = [
            ("taux_couverture_pct", "Population dans une zone de vie sociale", "#2166ac", "-", "o"),
            ("taux_dans_rayon_pct", f"Population à {km}{NNBSP}km ou moins d'une structure", "#1f2933", "--", "s"),
            (
                "part_population_signataires_pct",
                "Population des communes signataires de la convention",
                "#b35806",
                ":",
                "^",
            ),
        ]
        series, parts = [], []
        for col, label, colour, style, marker in lines:
            v = self._evolution_series(col)
            if v is None:
                continue
            series.append(Serie(label, v, couleur=colour, trait=style, marqueur=marker))
            parts.append(f"{label[0].lower()}{label[1:]} : {at(v, 0, 1, '%')} en {y0}, {at(v, -1, 1, '%')} en {y1}")
        if series:
            specs.append(
                (
                    "couverture",
                    "Part de la population (%)",
                    series,
                    {"unit": "%", "ymax": 100.0},
                    f"Courbes de {y0} à {y1}, en pourcentage de la population : " + " ; ".join(parts) + ".",
                )
            )
        series, parts = [], []
        for col, label, colour, style, marker in (
            ("gini_distance", "Indice de Gini des distances", "#b2182b", "-", "o"),
            ("gini_acces_2sfca", "Indice de Gini de l'accessibilité 2SFCA", "#2166ac", "--", "s"),
        ):
            v = self._evolution_series(col)
            if v is None:
                continue
            series.append(Serie(label, v, couleur=colour, trait=style, marqueur=marker))
            finite = np.where(np.isfinite(v), v, -np.inf)
            top = int(np.argmax(finite))
            parts.append(
                f"{label[0].lower()}{label[1:]} : {at(v, 0, 3)} en {y0}, {at(v, -1, 3)} en {y1} "
                f"(maximum {at(v, top, 3)} en {years[top]})"
            )
        if series:
            specs.append(
                (
                    "equite",
                    "Inégalités entre habitants : indices de Gini (0 = égalité, 1 = inégalité maximale)",
                    series,
                    {"decimals": 1, "ymax": 1.0},
                    f"Courbes de {y0} à {y1} des indices de Gini, pondérés par la population : "
                    + " ; ".join(parts)
                    + ".",
                )
            )
        for slug, title, series, kw, alt in specs:
            fig = year_chart(years, series, title=title, repere=repere, sources=sources, **kw)
            png = f"evolution/{slug}.png"
            path = confined(self.site, png)
            save_figure(fig, path, dpi=CHART_DPI)
            os.chmod(path, 0o644)
            w, h = (int(round(x * CHART_DPI)) for x in fig.get_size_inches())
            self.charts.append({"slug": slug, "titre": title, "png": png, "alt": alt, "largeur": w, "hauteur": h})

    def _evolution_tables(self) -> list[dict[str, Any]]:
        """The year-by-year tables: network and coverage, then the convention (when known)."""
        from ..analysis.timeline import COLONNES_TIMELINE

        ev = self.evolution
        km = self._km_text()
        labels = {c: label for c, (label, _unit) in COLONNES_TIMELINE.items()}
        labels["population_dans_rayon"] = f"Population à {km} km ou moins d'une structure"
        labels["taux_dans_rayon_pct"] = f"Part de la population à {km} km ou moins d'une structure"
        groups = [
            (
                "Réseau, couverture et équité",
                [
                    ("n_cs", None, 0, 1.0),
                    ("n_evs", None, 0, 1.0),
                    ("n_structures", None, 0, 1.0),
                    ("structures_pour_10000_hab", None, 2, 1.0),
                    ("population_couverte", "hab.", 0, 1.0),
                    ("taux_couverture_pct", "%", 1, 1.0),
                    ("population_dans_rayon", "hab.", 0, 1.0),
                    ("taux_dans_rayon_pct", "%", 1, 1.0),
                    ("distance_moyenne_m", "km", 2, 1e-3),
                    ("gini_distance", None, 3, 1.0),
                    ("acces_2sfca_moyen", None, 2, 1.0),
                    ("gini_acces_2sfca", None, 3, 1.0),
                ],
            ),
            (
                "Convention cadre : communes signataires",
                [
                    ("n_communes_signataires", None, 0, 1.0),
                    ("population_signataires", "hab.", 0, 1.0),
                    ("part_population_signataires_pct", "%", 1, 1.0),
                    ("n_communes_avec_structure", None, 0, 1.0),
                    ("n_communes_avec_structure_non_signataires", None, 0, 1.0),
                    ("part_structures_signataires_pct", "%", 1, 1.0),
                ],
            ),
        ]
        known = {"annee"} | {c for _t, cols in groups for c, *_ in cols}
        extra = [c for c in ev.columns if c not in known]
        years = ev["annee"].astype(int).tolist()
        tables = []
        for n, (title, cols) in enumerate(groups):
            cols = [c for c in cols if self._evolution_series(c[0]) is not None]
            heads = [f"{labels.get(c, c)} ({unit})" if unit else labels.get(c, c) for c, unit, _d, _s in cols]
            cells = [[_num(_scaled(v, scale), dec) for v in ev[c].to_numpy()] for c, _u, dec, scale in cols]
            if n == 0:
                heads += [str(c) for c in extra]
                cells += [[_text(v) for v in ev[c].to_numpy()] for c in extra]
            if not cells:
                continue
            rows = [{"annee": y, "valeurs": [col[i] for col in cells]} for i, y in enumerate(years)]
            tables.append({"titre": title, "colonnes": heads, "lignes": rows})
        return tables

    def _convention_rows(self) -> list[dict[str, Any]]:
        """Communes' entry into the convention, grouped by year and source (the territory's table)."""
        conv = getattr(self.territory, "convention", None)
        if conv is None or not len(conv) or "annee_entree" not in conv.columns:
            return []
        plm_pages = {t["cle"]: t for t in self.territories if t["kind"] == "plm"}
        frame = (
            pd.DataFrame(
                {
                    "annee": pd.to_numeric(conv["annee_entree"], errors="coerce"),
                    "code": conv["code_insee"].astype(str) if "code_insee" in conv.columns else "",
                    "nom": conv["nom"].astype(str) if "nom" in conv.columns else conv["code_insee"].astype(str),
                    "source": conv["source"].fillna("").astype(str) if "source" in conv.columns else "",
                    "sortie": pd.to_numeric(conv["annee_sortie"], errors="coerce")
                    if "annee_sortie" in conv.columns
                    else np.nan,
                }
            )
            .dropna(subset=["annee"])
            .sort_values(["annee", "nom"], kind="stable")
        )
        rows = []
        for (year, source), group in frame.groupby(["annee", "source"], sort=False):
            communes = []
            for code, nom, sortie in zip(group["code"], group["nom"], group["sortie"]):
                name = self.unit_names.get(code, nom)
                if code in self.unit_slugs:
                    link = self.unit_link(code)
                elif code in plm_pages:
                    link = {"href": plm_pages[code]["url"], "texte": plm_pages[code]["nom"]}
                else:
                    link = None
                communes.append({"lien": link, "texte": name, "sortie": None if _is_missing(sortie) else int(sortie)})
            rows.append({"annee": int(year), "communes": communes, "source": source})
        return rows

    def _evolution_summary(self) -> dict[str, Any] | None:
        """First and last years of the evolution table, for the index and the methodology."""
        ev = self.evolution
        if ev is None or "annee" not in ev.columns:
            return None
        years = ev["annee"].astype(int).to_numpy()
        out: dict[str, Any] = {"debut": int(years[0]), "fin": int(years[-1])}
        n = self._evolution_series("n_structures")
        if n is not None:
            out["structures"] = (_num(n[0]), _num(n[-1]))
        t = self._evolution_series("taux_couverture_pct") if self.has_zones else None
        out["couverture"] = (_val(t[0], "%", 1), _val(t[-1], "%", 1)) if t is not None else None
        r = self._evolution_series("taux_dans_rayon_pct")
        out["proximite"] = (_val(r[0], "%", 1), _val(r[-1], "%", 1)) if r is not None else None
        out["convention"] = self._convention_year()
        return out

    def page_evolution(self) -> None:
        ev = self.evolution
        attrs = getattr(self.d.evolution, "attrs", {}) or {}
        self.render(
            "evolution.html",
            "evolution.html",
            titre="Évolution",
            menu="evolution",
            fil=[("Accueil", "index.html"), ("Évolution", None)],
            resume=self._evolution_summary(),
            graphiques=self.charts,
            tableaux=self._evolution_tables(),
            convention=self._convention_rows(),
            rayon_km=self._km_text(attrs.get("rayon_m")),
            sans_date=int(attrs.get("structures_sans_date", 0) or 0),
            a_fermeture="date_fermeture" in self.structures.columns,
            n_annees=len(ev),
        )

    # ------------------------------------------------------------------ siting scenario
    def _scenario_info(self) -> dict[str, Any]:
        sc = self.scenarios
        attrs = getattr(sc, "attrs", {}) or {}
        p = self.p
        radius = scenario_radius_m(p, attrs)
        scenario = getattr(p, "scenario", None)
        objectif = scenario.objective_fr if scenario is not None else "couverture"
        if attrs.get("objectif") == "p-median":
            objectif = "p-mediane"
        elif attrs.get("objectif") == "coverage":
            objectif = "couverture"
        k = int((scenario.k if scenario is not None else 0) or len(sc))
        gap = attrs.get("ecart_max_pct")
        codes_ = sc["code_insee"].astype(str).tolist() if "code_insee" in sc.columns else []
        names = [self.unit_names.get(c, str(n)) for c, n in zip(codes_, sc["nom"] if "nom" in sc.columns else codes_)]
        info = {
            "k": k,
            "n": len(sc),
            "rayon_km": self._km_text(radius),
            "rayon_m": float(radius),
            "objectif": objectif,
            "methode": attrs.get("methode", "greedy"),
            "ecart_max": _val(gap, "%", 1) if gap is not None and np.isfinite(float(gap)) else None,
            "deja": _num(attrs["population_deja_couverte"]) if "population_deja_couverte" in attrs else None,
            "total": _num(attrs["population_totale"]) if "population_totale" in attrs else None,
            "n_candidats": len(self.units),
            "communes": names,
            "sites": [
                self.unit_link(c) if c in self.unit_slugs else {"href": None, "texte": nm}
                for c, nm in zip(codes_, names)
            ],
        }
        if objectif == "couverture" and attrs.get("valeur_objectif") is not None:
            info["gain"] = _num(attrs["valeur_objectif"])
        else:
            info["gain"] = _num(sc["population_ajoutee"].sum()) if "population_ajoutee" in sc.columns else None
        if "distance_moyenne_m" in sc.columns and "distance_moyenne_initiale_m" in attrs:
            info["distance_avant"] = _km(attrs["distance_moyenne_initiale_m"], 2)
            info["distance_apres"] = _km(sc["distance_moyenne_m"].iloc[-1], 2)
        return info

    def _scenario_rows(self) -> tuple[list[dict[str, Any]], str | None]:
        sc = self.scenarios
        attrs = getattr(sc, "attrs", {}) or {}
        show_gain = attrs.get("objectif") == "p-median" and "gain" in sc.columns
        gain_unit = (attrs.get("unites") or {}).get("gain") if show_gain else None
        rows = []
        for rang, row in sc.iterrows():
            code = str(row.get("code_insee", ""))
            name = self.unit_names.get(code, str(row.get("nom", code)))
            rows.append(
                {
                    "rang": int(rang),
                    "lien": self.unit_link(code) if code in self.unit_slugs else None,
                    "nom": name,
                    "code": code,
                    "ajoutee": _num(row.get("population_ajoutee")),
                    "couverte": _num(row.get("population_couverte")),
                    "taux": _val(row.get("taux_couverture_pct"), "%", 1),
                    "distance": _km(row.get("distance_moyenne_m"), 2),
                    "gain": _num(row.get("gain")) if show_gain else None,
                }
            )
        return rows, (f"Gain de l'objectif ({gain_unit})" if show_gain else None)

    def _comparison_rows(self) -> list[dict[str, str]]:
        comp = self.comparaison
        if comp is None or not len(comp):
            return []
        rows = []
        for _, row in comp.iterrows():
            unit = str(row.get("unite", "") or "")
            values = [row.get("avant"), row.get("apres"), row.get("ecart")]
            dec = _comparison_decimals(unit, values)
            rows.append(
                {
                    "indicateur": str(row.get("indicateur", "")),
                    "unite": unit,
                    "avant": _num(values[0], dec),
                    "apres": _num(values[1], dec),
                    "ecart": _signed(values[2], dec),
                }
            )
        return rows

    def _sites_config(self) -> list[dict[str, Any]]:
        sc = self.scenarios
        wgs = sc.geometry.to_crs(4326)
        lon, lat = np.round(wgs.x.to_numpy(), 5), np.round(wgs.y.to_numpy(), 5)
        out = []
        for i, (rang, row) in enumerate(sc.iterrows()):
            if not (np.isfinite(lon[i]) and np.isfinite(lat[i])):
                continue
            code = str(row.get("code_insee", ""))
            out.append(
                {
                    "rang": int(rang),
                    "nom": self.unit_names.get(code, str(row.get("nom", code))),
                    "s": self.unit_slugs.get(code),
                    "x": float(lon[i]),
                    "y": float(lat[i]),
                    "ajout": _val(row.get("population_ajoutee"), "hab."),
                }
            )
        return out

    def page_scenarios(self) -> None:
        info = self._scenario_info()
        rows, gain_label = self._scenario_rows()
        # the map the objective speaks of: units within the scenario's radius (or the first indicator)
        view = next((v for v in self.views if v.ind.colonne == "dans_rayon"), None)
        if view is None or abs(info["rayon_m"] - radius_m(self.p)) > 1e-6:
            view = None
        carte = self._map(
            view,
            label="Carte interactive des sites proposés et des structures existantes",
            sites=self._sites_config(),
            rayon_sites=info["rayon_m"],
        )
        self.render(
            "scenarios.html",
            "scenarios.html",
            titre="Scénarios d'implantation",
            menu="scenarios",
            fil=[("Accueil", "index.html"), ("Scénarios", None)],
            s=info,
            lignes=rows,
            gain_libelle=gain_label,
            comparaison=self._comparison_rows(),
            carte=carte,
        )

    # ------------------------------------------------------------------ run
    def run(self) -> None:
        from .._progress import progress

        steps = [
            ("préparation", self.prepare),
            ("fichiers statiques", self.copy_static),
            ("cartes imprimables", self.static_maps),
            ("graphiques", self.evolution_charts),
            ("données des cartes", self.data_files),
            ("téléchargements", self.downloads_files),
            ("pages", self.pages_all),
        ]
        # a bar in a terminal or a notebook, silent in CI and logs unless asked (COUVERTURE_PROGRESS=1)
        bar = progress(steps, desc="Atlas", unit="étape")
        for label, step in bar:
            bar.set_postfix_str(label)
            step()


def _portrait(d, key: Any) -> dict[str, Any] | None:
    """The report's portrait of a territory (figures beside the département and France), or None."""
    from ..report.portrait import portrait

    try:
        return portrait(d, str(key))
    except InputError:
        return None


#: Columns of the evolution table that only a convention table gives.
_CONVENTION_COLUMNS = (
    "n_communes_signataires",
    "population_signataires",
    "part_population_signataires_pct",
    "n_communes_avec_structure",
    "n_communes_avec_structure_non_signataires",
    "part_structures_signataires_pct",
)


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def build_atlas(
    territory,
    out_dir: str | os.PathLike = Path("maps") / "atlas",
    offline: bool = True,
    *,
    parametres=None,
    diagnostic=None,
    title: str | None = None,
    logo: str | os.PathLike | None = None,
) -> Path:
    """Build the HTML atlas of a territory into ``out_dir`` and return the path of ``index.html``.

    Parameters
    ----------
    territory : Territory
        Communes, structures and zones (:func:`couverture.load_demo` for the demonstration).
    out_dir : path, default "maps/atlas"
        Output folder. It is replaced atomically; an existing folder is
        replaced only when it is empty or holds an atlas built by couverture.
    offline : bool, default True
        True: no request leaves the machine (no background tiles). False:
        OpenStreetMap tiles are shown under the interactive maps.
    parametres : couverture.params.Parameters, optional
        Analysis parameters (radius, 2SFCA distance, levels, title), used when
        ``diagnostic`` is not given.
    diagnostic : Diagnostic, optional
        A diagnostic already computed by :func:`couverture.diagnose` on ``territory``.
    title : str, optional
        Title of the atlas (default: ``parametres.title``).
    logo : path, optional
        Image (PNG, JPEG, SVG, GIF, WebP) shown in the header of every page.

    Returns
    -------
    pathlib.Path
        Path of the atlas's ``index.html``.

    Raises
    ------
    InputError
        ``out_dir`` is a file or a non-empty folder that is not an atlas;
        missing or unsupported logo.

    Examples
    --------
    See the module's example.
    """
    if diagnostic is None:
        from ..analysis.diagnostic import diagnose

        diagnostic = diagnose(territory, parametres)
    if getattr(diagnostic, "affichage", None) is not None:  # many fine units: one map feature per commune
        import dataclasses

        note = diagnostic.affichage.attrs.get("regroupement", "unités regroupées par commune")
        diagnostic = dataclasses.replace(
            diagnostic, unites=diagnostic.affichage, sources={**diagnostic.sources, "affichage": f"Atlas : {note}"}
        )
    if title is None and parametres is not None:
        title = getattr(parametres, "title", None)
    if logo is None:
        logo = getattr(diagnostic.params, "logo", None)
    out = Path(out_dir)
    with atomic_folder(out) as tmp:
        _Atlas(diagnostic, tmp, offline=offline, title=title, logo=logo).run()
    log.info("atlas écrit dans %s", out)
    return out / "index.html"
