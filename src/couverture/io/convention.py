"""The communes' entry into the *convention cadre des centres sociaux*, read and checked.

:func:`read_convention` reads the table of entries (``code_insee``,
``annee_entree``, optional ``annee_sortie``); the bundled
``data/demo/convention-communes.csv`` holds the nine real signatories of the
Bouches-du-Rhône convention of 2015 and fictitious later entries, marked in
its ``source`` column. :func:`couverture.analysis.timeline.timeline` uses it
for the « Évolution » page (``couverture.analysis.timeline.read_convention``
remains an alias of this function).

Examples
--------
>>> c = read_convention()
>>> list(c.columns[:3])
['code_insee', 'annee_entree', 'annee_sortie']
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from ..codes import normalize_insee
from ..errors import InputError, Probleme

__all__ = ["read_convention"]


def _years_column(values: pd.Series, name: str, column: str, required: bool) -> pd.Series:
    """Whole years (Int64) from a column; bad values refused with their lines."""
    raw = values.astype(object).where(values.notna(), None)
    text = raw.map(lambda v: None if v is None else str(v).strip())
    num = pd.to_numeric(text.replace("", None), errors="coerce")
    bad = text.notna() & (text != "") & (num.isna() | (num % 1 != 0) | (num < 1800) | (num > 2200))
    if required:
        bad |= num.isna()
    if bad.any():
        lines = (np.flatnonzero(bad.to_numpy()) + 2).tolist()
        raise InputError(
            Probleme(
                f"année illisible pour {int(bad.sum())} ligne(s) (lignes "
                f"{', '.join(map(str, lines[:5]))}{'…' if len(lines) > 5 else ''}) : "
                "une année sur quatre chiffres est attendue",
                fichier=name,
                colonne=column,
            )
        )
    return num.astype("Int64")


def read_convention(source: str | os.PathLike | pd.DataFrame | None = None) -> pd.DataFrame:
    """Table of the communes' entry into the convention, checked.

    Parameters
    ----------
    source : path, DataFrame or None
        A CSV file (comma or semicolon separated, UTF-8) or a DataFrame with
        columns ``code_insee`` and ``annee_entree``, optional ``annee_sortie``
        (the commune left the convention that year), ``nom`` and ``source``.
        ``None``: the bundled demonstration table
        (``data/demo/convention-communes.csv``: real 2015 signatories of the
        Bouches-du-Rhône, fictitious later entries).

    Returns
    -------
    pandas.DataFrame
        ``code_insee`` (5-character str), ``annee_entree`` (Int64),
        ``annee_sortie`` (Int64, missing when still in), then the other
        columns as given. A commune code stands for all its units: Marseille
        (13055) covers its arrondissements 13201 to 13216.

    Raises
    ------
    InputError
        Missing column, unreadable year, duplicated commune.

    Examples
    --------
    >>> c = read_convention()
    >>> int(c.loc[c["code_insee"] == "13055", "annee_entree"].iloc[0])
    2015
    >>> int(c["source"].str.startswith("réel").sum())
    9
    """
    name = "convention"
    if source is None:
        from .._resources import data_path

        source = data_path("demo", "convention-communes.csv")
    if isinstance(source, pd.DataFrame):
        table = source.copy()
    else:
        name = os.path.basename(str(source))
        try:
            table = pd.read_csv(source, sep=None, engine="python", dtype=str, encoding="utf-8-sig")
        except FileNotFoundError:
            raise InputError(Probleme("fichier introuvable", fichier=str(source))) from None
    missing = [c for c in ("code_insee", "annee_entree") if c not in table.columns]
    if missing:
        raise InputError([Probleme("colonne absente", fichier=name, colonne=c) for c in missing])
    table["code_insee"] = normalize_insee(table["code_insee"].astype(str).str.strip()).astype(str)
    table["annee_entree"] = _years_column(table["annee_entree"], name, "annee_entree", True)
    if "annee_sortie" in table.columns:
        table["annee_sortie"] = _years_column(table["annee_sortie"], name, "annee_sortie", False)
    else:
        table["annee_sortie"] = pd.array([pd.NA] * len(table), dtype="Int64")
    dup = table["code_insee"].duplicated(keep=False)
    if dup.any():
        raise InputError(
            Probleme(
                "commune présente plusieurs fois : " + ", ".join(sorted(set(table.loc[dup, "code_insee"])))[:200],
                fichier=name,
                colonne="code_insee",
            )
        )
    first = ["code_insee", "annee_entree", "annee_sortie"]
    return table[first + [c for c in table.columns if c not in first]].reset_index(drop=True)
