"""IRIS as units of analysis: IGN CONTOURS-IRIS joined with INSEE's population by IRIS.

- **Boundaries**: IGN CONTOURS-IRIS (geoservices.ign.fr, GeoPackage in
  Lambert-93 for metropolitan France). Columns of the 2024+ releases:
  ``code_insee``, ``nom_commune``, ``iris``, ``code_iris``, ``nom_iris``,
  ``type_iris``; of the releases up to 2023 (shapefile « 2.1 »):
  ``INSEE_COM``, ``NOM_COM``, ``IRIS``, ``CODE_IRIS``, ``NOM_IRIS``,
  ``TYP_IRIS``. Both are read.
- **Populations**: INSEE « Population en 2021 » by IRIS
  (``base-ic-evol-struct-pop-2021``, CSV with ``;`` or XLSX with title rows):
  ``IRIS``, ``COM``, ``TYP_IRIS``, ``LAB_IRIS``, ``P21_POP``,
  ``P21_POP0002``, ``P21_POP0305``, ``P21_POP0610``, ``P21_POP1117``... The
  most recent ``Pyy_POP`` column gives ``population``; every ``Pyy_``/``Cyy_``
  count is kept as a number (possible demands).

Examples
--------
>>> import geopandas as gpd, pandas as pd
>>> from shapely.geometry import box
>>> c = gpd.GeoDataFrame({"code_iris": ["130010101", "130010102"], "nom_iris": ["A", "B"],
...     "code_insee": ["13001", "13001"], "type_iris": ["H", "H"]},
...     geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=2154)
>>> p = pd.DataFrame({"IRIS": ["130010101", "130010102"], "COM": ["13001"] * 2,
...                   "P21_POP": ["2104.5", "1800"]})
>>> read_iris(c, p)["population"].tolist()
[2104.5, 1800.0]
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import CouvertureWarning, InputError, Probleme
from .tables import read_table

logger = logging.getLogger(__name__)

__all__ = ["read_iris"]

_CONTOUR_ALIASES = {
    "code_iris": ("code_iris", "dcomiris", "iris_code"),
    "nom_iris": ("nom_iris", "lib_iris", "lab_iris"),
    "code_insee": ("code_insee", "insee_com", "depcom", "com"),
    "nom_commune": ("nom_commune", "nom_com", "libcom"),
    "type_iris": ("type_iris", "typ_iris"),
}
_POP_PATTERN = re.compile(r"^P(\d\d)_POP$", re.IGNORECASE)


def _find(columns, aliases) -> str | None:
    lower = {str(c).strip().lower(): c for c in columns}
    return next((lower[a] for a in aliases if a in lower), None)


def _contours(contours, crs) -> tuple[gpd.GeoDataFrame, str]:
    if isinstance(contours, gpd.GeoDataFrame):
        frame, name = contours.copy(), str(contours.attrs.get("fichier", "contours IRIS"))
    else:
        p = Path(os.fspath(contours))
        name = p.name
        if not p.exists():
            raise InputError(f"fichier introuvable : {name}")
        try:
            frame = gpd.read_file(p)
        except Exception as exc:  # pyogrio raises several types
            raise InputError(f"{name} : lecture impossible ({exc})") from exc
    if frame.crs is None:
        raise InputError(Probleme("la couche n'a pas de système de coordonnées (CRS)", fichier=name))
    cols = {role: _find(frame.columns, al) for role, al in _CONTOUR_ALIASES.items()}
    if cols["code_iris"] is None:
        raise InputError(
            Probleme(
                "colonne du code IRIS absente (attendu : code_iris ou CODE_IRIS)", fichier=name, colonne="code_iris"
            )
        )
    out = pd.DataFrame(
        {
            role: frame[col].astype("string").str.strip().astype(object).to_numpy()
            for role, col in cols.items()
            if col is not None
        }
    )
    out["code_iris"] = out["code_iris"].str.zfill(9)
    if "code_insee" not in out.columns:
        out["code_insee"] = out["code_iris"].str[:5]
    dup = out["code_iris"].duplicated(keep=False).to_numpy()
    if dup.any():
        lines = ", ".join(str(i + 2) for i in np.flatnonzero(dup)[:5])
        raise InputError(
            Probleme(f"code IRIS en double (lignes {lines})", fichier=name, colonne=str(cols["code_iris"]))
        )
    target = crs or "EPSG:2154"
    geoms = frame.geometry.to_crs(target) if frame.crs != target else frame.geometry
    return gpd.GeoDataFrame(out, geometry=np.asarray(geoms.values), crs=target), name


def _populations(populations) -> tuple[pd.DataFrame, np.ndarray, str]:
    if isinstance(populations, pd.DataFrame):
        table = populations.astype(object).where(populations.notna(), None)
        return table, np.arange(len(table)) + 2, str(populations.attrs.get("fichier", "populations"))
    name = Path(os.fspath(populations)).name
    table, lines = read_table(populations, known={"IRIS", "COM", "P21_POP", "P20_POP", "P19_POP"})
    return table, lines, name


def read_iris(contours, populations, *, crs=None, population_col: str | None = None) -> gpd.GeoDataFrame:
    """IRIS polygons with their population, joined on the IRIS code, with a report.

    Parameters
    ----------
    contours : path or GeoDataFrame
        IGN CONTOURS-IRIS layer.
    populations : path or DataFrame
        INSEE population table by IRIS (CSV or XLSX).
    crs : optional
        Metric CRS of the result (default EPSG:2154).
    population_col : str, optional
        Population column (default: the most recent ``Pyy_POP``).

    Returns
    -------
    geopandas.GeoDataFrame
        Index ``code_iris``; ``code_iris``, ``nom_iris``, ``code_insee``,
        ``nom_commune``, ``type_iris`` (when present), ``population`` and the
        table's numeric ``Pyy_``/``Cyy_`` columns. IRIS without a population
        row get ``population`` 0 and ``population_connue`` False.
        ``attrs["non_apparies"]`` lists every unmatched code with its side
        (``contours`` or ``populations``) and its file line; a
        :class:`CouvertureWarning` counts them.
    """
    geo, gname = _contours(contours, crs)
    table, lines, pname = _populations(populations)
    lines = np.asarray(lines)
    icol = _find(table.columns, ("iris", "code_iris", "dcomiris"))
    if icol is None:
        raise InputError(Probleme("colonne IRIS absente (attendu : IRIS)", fichier=pname, colonne="IRIS"))
    pops = [c for c in table.columns if _POP_PATTERN.match(str(c))]
    pcol = population_col or (max(pops, key=lambda c: int(_POP_PATTERN.match(c).group(1))) if pops else None)
    if pcol is None or pcol not in table.columns:
        raise InputError(
            Probleme(
                "colonne de population absente (attendu : P21_POP ou Pyy_POP)",
                fichier=pname,
                colonne=population_col or "P21_POP",
            )
        )
    counts = [c for c in table.columns if re.match(r"^[PC]\d\d_", str(c))]
    codes = pd.Series(table[icol], dtype="string").str.strip().str.zfill(9)
    num = (
        table[counts]
        .apply(
            lambda s: pd.to_numeric(pd.Series(s, dtype="string").str.replace(",", ".", regex=False), errors="coerce")
        )
        .astype("float64")
    )
    bad = num[pcol].isna().to_numpy() | (num[pcol] < 0).to_numpy()
    if bad.any():
        raise InputError(
            Probleme(
                f"population illisible ou négative (lignes {', '.join(map(str, lines[bad][:5]))})",
                fichier=pname,
                colonne=pcol,
            )
        )
    num.index = pd.Index(codes.to_numpy(), name="code_iris")
    num = num[~num.index.duplicated()]
    have = geo["code_iris"].isin(num.index).to_numpy()
    orphan = ~num.index.isin(geo["code_iris"])
    report = pd.concat(
        [
            pd.DataFrame(
                {
                    "code_iris": geo["code_iris"][~have].to_numpy(),
                    "cote": "contours",
                    "fichier": gname,
                    "ligne": np.flatnonzero(~have) + 2,
                }
            ),
            pd.DataFrame(
                {
                    "code_iris": num.index[orphan].to_numpy(),
                    "cote": "populations",
                    "fichier": pname,
                    "ligne": lines[: len(num)][orphan],
                    "population": num[pcol].to_numpy()[orphan],
                }
            ),
        ],
        ignore_index=True,
    )
    joined = num.reindex(geo["code_iris"].to_numpy())
    out = geo.copy()
    for c in counts:
        out[c] = joined[c].to_numpy()
    out["population"] = joined[pcol].fillna(0).to_numpy(np.float64)
    out["population_connue"] = have
    if len(report):
        warnings.warn(
            f"IRIS non appariés : {int((~have).sum())} contour(s) sans population ({gname}), "
            f"{int(orphan.sum())} ligne(s) de population sans contour ({pname}, "
            f"{num[pcol].to_numpy()[orphan].sum():.0f} habitants) ; détail dans attrs['non_apparies']",
            CouvertureWarning,
            stacklevel=2,
        )
    out.index = pd.Index(out["code_iris"].to_numpy(), name="code_iris")
    out.attrs["non_apparies"] = report
    out.attrs["source"] = f"IGN CONTOURS-IRIS ; Insee, population par IRIS ({pcol})"
    return out
