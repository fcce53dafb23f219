"""Errors and warnings raised by couverture, with French messages for users.

Every problem found in user input is described by a :class:`Probleme` (file,
line, column, reason). Fatal problems are gathered and raised together as one
:class:`InputError`; recoverable ones are reported with
:class:`CouvertureWarning` and kept in the loader's report.

Examples
--------
>>> p = Probleme("Structure hors du territoire", fichier="s.csv", ligne=4, colonne="latitude")
>>> str(p)
's.csv, ligne 4, colonne « latitude » : Structure hors du territoire'
>>> err = InputError([p])
>>> "ligne 4" in str(err)
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

__all__ = ["Probleme", "InputError", "CouvertureWarning", "Rapport"]


@dataclass(frozen=True)
class Probleme:
    """One problem found in the input, located as precisely as possible.

    Parameters
    ----------
    raison : str
        What is wrong, in French, with what was expected and what was found.
    fichier : str, optional
        File name (or parameter name when the input is a DataFrame).
    ligne : int, optional
        Line number as the user sees it in a spreadsheet or text editor
        (header is line 1, first data row is line 2).
    colonne : str, optional
        Column name as written in the file.
    gravite : {"erreur", "avertissement"}
        ``erreur``: the row is rejected; ``avertissement``: kept with an assumption.
    parametre : str, optional
        The parameter of :class:`couverture.params.Parameters` (or of a
        function) the problem is about (``"radius"``, ``"scenario.k"``); the
        message itself names it as the user wrote it.
    """

    raison: str
    fichier: str | None = None
    ligne: int | None = None
    colonne: str | None = None
    gravite: str = "erreur"
    parametre: str | None = None

    def __str__(self) -> str:
        where = []
        if self.fichier:
            where.append(str(self.fichier))
        if self.ligne is not None:
            where.append(f"ligne {self.ligne}")
        if self.colonne:
            where.append(f"colonne « {self.colonne} »")
        prefix = ", ".join(where)
        return f"{prefix} : {self.raison}" if prefix else self.raison


class InputError(ValueError):
    """Bad user input: the message is in French and names file, line and column.

    Parameters
    ----------
    problemes : str or iterable of Probleme
        One message, or every fatal problem found (they are all listed).

    Examples
    --------
    >>> try:
    ...     raise InputError("fichier vide : structures.csv")
    ... except InputError as exc:
    ...     print(exc)
    fichier vide : structures.csv
    """

    def __init__(self, problemes: str | Probleme | Iterable[Probleme]):
        if isinstance(problemes, str):
            problemes = [Probleme(problemes)]
        elif isinstance(problemes, Probleme):
            problemes = [problemes]
        self.problemes: list[Probleme] = list(problemes)
        super().__init__(self._message())

    def _message(self) -> str:
        if len(self.problemes) == 1:
            return str(self.problemes[0])
        lines = [f"{len(self.problemes)} problèmes dans les données :"]
        lines += [f"  - {p}" for p in self.problemes[:50]]
        if len(self.problemes) > 50:
            lines.append(f"  ... et {len(self.problemes) - 50} autres")
        return "\n".join(lines)


class CouvertureWarning(UserWarning):
    """A recoverable problem in the input (row kept with an assumption, or rejected row).

    Each warning counts the rows concerned; the detail is in the loader's report.
    """


@dataclass
class Rapport:
    """Validation report gathered while loading: every rejected or assumed row.

    Examples
    --------
    >>> r = Rapport()
    >>> r.erreur("code commune inconnu : 99999", fichier="s.csv", ligne=3, colonne="code_insee")
    >>> r.n_erreurs, r.n_avertissements
    (1, 0)
    """

    problemes: list[Probleme] = field(default_factory=list)
    comptes: dict[str, int] = field(default_factory=dict)

    def __deepcopy__(self, memo: Any) -> Rapport:
        # pandas deep-copies ``attrs`` on every operation: a report is shared, not copied
        return self

    def erreur(self, raison: str, **where: Any) -> None:
        """Record a rejected row (or a fatal problem)."""
        self.problemes.append(Probleme(raison, gravite="erreur", **where))

    def avertissement(self, raison: str, **where: Any) -> None:
        """Record a row kept with an assumption."""
        self.problemes.append(Probleme(raison, gravite="avertissement", **where))

    def extend(self, other: Rapport) -> None:
        """Append another report's problems and counts."""
        self.problemes.extend(other.problemes)
        for k, v in other.comptes.items():
            self.comptes[k] = self.comptes.get(k, 0) + v

    @property
    def erreurs(self) -> list[Probleme]:
        return [p for p in self.problemes if p.gravite == "erreur"]

    @property
    def avertissements(self) -> list[Probleme]:
        return [p for p in self.problemes if p.gravite == "avertissement"]

    @property
    def n_erreurs(self) -> int:
        return len(self.erreurs)

    @property
    def n_avertissements(self) -> int:
        return len(self.avertissements)

    def to_frame(self) -> Any:
        """The problems as a DataFrame (gravite, fichier, ligne, colonne, raison)."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "gravite": p.gravite,
                    "fichier": p.fichier,
                    "ligne": p.ligne,
                    "colonne": p.colonne,
                    "raison": p.raison,
                }
                for p in self.problemes
            ],
            columns=["gravite", "fichier", "ligne", "colonne", "raison"],
        )

    def texte(self) -> str:
        """The report as French text, one line per problem."""
        lines = []
        for p in self.problemes:
            tag = "ERREUR" if p.gravite == "erreur" else "avertissement"
            lines.append(f"[{tag}] {p}")
        return "\n".join(lines)
