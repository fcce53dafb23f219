"""The row reporter of the loaders: every rejected or assumed row, sorted by line.

:class:`Reporter` collects the problems of one input file with their row
position; :func:`finish` raises them (``strict``) or emits the one summary
:class:`~couverture.errors.CouvertureWarning` and returns the
:class:`~couverture.errors.Rapport`. Used by :mod:`couverture.io.structures`
and :mod:`couverture.io.zones`.

Examples
--------
>>> import numpy as np
>>> rep = Reporter("s.csv", np.array([2, 3]))
>>> rep.erreur(1, "code commune inconnu", "code_insee")
>>> [str(p) for p in rep.rapport().problemes]
['s.csv, ligne 3, colonne « code_insee » : code commune inconnu']
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import CouvertureWarning, InputError, Probleme, Rapport

__all__ = ["Reporter", "finish", "plural"]


def plural(n: int, one: str, many: str) -> str:
    """``"1 ligne rejetée"``, ``"2 lignes rejetées"``.

    Examples
    --------
    >>> plural(2, "ligne rejetée", "lignes rejetées")
    '2 lignes rejetées'
    """
    return f"{n} {one if n == 1 else many}"


class Reporter:
    """Collects problems with their row position, to sort them by line at the end."""

    def __init__(self, name: str, lines: np.ndarray):
        self.name = name
        self.lines = lines
        self.items: list[tuple[int, int, Probleme]] = []
        self.rejected = np.zeros(len(lines), dtype=bool)
        self.assumed = np.zeros(len(lines), dtype=bool)
        self._k = 0

    def _add(self, pos, raison, colonne, gravite):
        ligne = None if pos is None else int(self.lines[pos])
        self._k += 1
        p = Probleme(
            raison, fichier=self.name, ligne=ligne, colonne=None if colonne is None else str(colonne), gravite=gravite
        )
        self.items.append((-1 if pos is None else int(pos), self._k, p))

    def erreur(self, pos, raison, colonne=None):
        self._add(pos, raison, colonne, "erreur")
        if pos is not None:
            self.rejected[pos] = True

    def avertissement(self, pos, raison, colonne=None):
        self._add(pos, raison, colonne, "avertissement")
        if pos is not None:
            self.assumed[pos] = True

    def rapport(self) -> Rapport:
        r = Rapport()
        r.problemes = [p for _, _, p in sorted(self.items, key=lambda t: (t[0], t[1]))]
        return r


def finish(rep: Reporter, strict: bool, what: str, extra: list[str] | None = None) -> Rapport:
    """Raise on strict errors, emit the summary warning, return the report."""
    rapport = rep.rapport()
    if strict and rapport.n_erreurs:
        raise InputError(rapport.erreurs)
    n_rej = int(rep.rejected.sum())
    n_ass = int((rep.assumed & ~rep.rejected).sum())
    parts = []
    if n_rej:
        parts.append(plural(n_rej, "ligne rejetée", "lignes rejetées"))
    if n_ass:
        parts.append(f"{n_ass} {'acceptée' if n_ass == 1 else 'acceptées'} avec hypothèse")
    parts += extra or []
    rapport.comptes.update({f"{what}_rejetees": n_rej, f"{what}_hypothese": n_ass})
    if parts:
        detail = "; ".join(str(p) for p in rapport.problemes[:5])
        more = f" ; … et {len(rapport.problemes) - 5} autre(s)" if len(rapport.problemes) > 5 else ""
        warnings.warn(
            f"{rep.name} : {', '.join(parts)} : voir .attrs['rapport'] ({detail}{more})",
            CouvertureWarning,
            stacklevel=3,
        )
    return rapport
