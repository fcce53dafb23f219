"""Parameters of an analysis: one frozen, typed object, validated once.

:class:`Parameters` holds every setting of a diagnostic (radius, 2SFCA
distance and decay, coverage threshold, grouping levels, capacity, demand columns, last year,
titles, siting :class:`Scenario`). Each parameter has one rule, in
:data:`RULES`, and one French message naming the parameter as the user wrote
it: the Python name here (``radius``), the TOML key in
:mod:`couverture.config` (``rayon_m``), which reuses the same rules through
:func:`check`.

Examples
--------
>>> p = Parameters(radius=3000, scenario=Scenario(k=2))
>>> p.radius, p.levels, p.scenario_radius
(3000.0, ('epci',), 3000.0)
>>> Parameters(radius=-1)
Traceback (most recent call last):
...
couverture.errors.InputError: « radius » doit être une distance en mètres finie et strictement positive ; reçu -1
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable

from .errors import InputError, Probleme

__all__ = ["Parameters", "Scenario", "DECAYS", "OBJECTIVES", "check", "decay_spec", "from_french"]

#: Distance decays of the 2SFCA that a diagnostic may ask for (None: no decay).
DECAYS: tuple[str, ...] = ("gaussien", "paliers")

#: Objectives of a siting scenario: French name (TOML, atlas) -> :func:`couverture.best_sites` objective.
OBJECTIVES: dict[str, str] = {"couverture": "coverage", "p-mediane": "p-median"}

DEFAULT_TITLE = "Diagnostic de l'animation de la vie sociale"


# --------------------------------------------------------------------------- rules
def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _distance(value: Any) -> str | None:
    if not _is_number(value):
        return f"doit être une distance en mètres (un nombre) ; reçu {value!r}"
    if not (math.isfinite(value) and value > 0):
        return f"doit être une distance en mètres finie et strictement positive ; reçu {value}"
    return None


def _optional_distance(value: Any) -> str | None:
    return None if value is None else _distance(value)


def _share(value: Any) -> str | None:
    if not _is_number(value) or not (0 < value <= 1):
        return f"est une part de la surface, entre 0 (exclu) et 1 ; reçu {value} (pour 50 %, écrivez 0.5)"
    return None


def _decay(value: Any) -> str | None:
    if value is None or value in DECAYS:
        return None
    return (
        f"inconnu : « {value} » ; valeurs possibles : {', '.join(DECAYS)} "
        "(ou retirez la ligne pour le 2SFCA classique, sans décroissance)"
    )


def _levels(value: Any) -> str | None:
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        return f'doit être une liste de noms de colonnes, par exemple ["epci"] ; reçu {value!r}'
    if any(not v.strip() for v in value):
        return "contient un nom de colonne vide"
    return None


def _optional_text(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and value.strip()):
        return None
    return f"doit être un texte non vide ou None ; reçu {value!r}"


def _text(value: Any) -> str | None:
    return None if isinstance(value, str) else f"doit être un texte ; reçu {value!r}"


def _k(value: Any) -> str | None:
    if not _is_number(value) or not (float(value).is_integer() and 0 <= value <= 100):
        return f"est le nombre de nouvelles structures à implanter, un entier de 0 à 100 ; reçu {value}"
    return None


def _flag(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"doit être true ou false ; reçu {value!r}"


def _end_year(value: Any) -> str | None:
    if value is None:
        return None
    if not _is_number(value) or not (math.isfinite(value) and float(value).is_integer() and 1900 <= value <= 2200):
        return f"doit être une année entière (par exemple 2030) ; reçu {value!r}"
    return None


def _column(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return None
    return f'doit être un nom de colonne non vide, par exemple "population" ; reçu {value!r}'


def _columns(value: Any) -> str | None:
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        return f'doit être une liste de noms de colonnes, par exemple ["ind_0_17"] ; reçu {value!r}'
    if any(not v.strip() for v in value):
        return "contient un nom de colonne vide"
    return None


def _objective(value: Any) -> str | None:
    if value in OBJECTIVES.values() or value in OBJECTIVES:
        return None
    return (
        f"inconnu : « {value} » ; valeurs possibles : {', '.join(OBJECTIVES.values())} "
        f"(dans le fichier de configuration : {', '.join(OBJECTIVES)})"
    )


#: One rule per parameter: ``rule(value)`` returns None or the French reason (after « name »).
RULES: dict[str, Callable[[Any], str | None]] = {
    "radius": _distance,
    "max_distance": _distance,
    "decay": _decay,
    "min_share": _share,
    "levels": _levels,
    "use_capacity": _flag,
    "end_year": _end_year,
    "demand": _column,
    "demands": _columns,
    "title": _text,
    "subtitle": _optional_text,
    "scenario.k": _k,
    "scenario.radius": _optional_distance,
    "scenario.objective": _objective,
}


def check(name: str, value: Any) -> str | None:
    """The reason why ``value`` is refused for the parameter ``name`` (None when accepted).

    ``name`` is a field of :class:`Parameters` (``"radius"``) or of its
    :class:`Scenario` (``"scenario.k"``).

    Examples
    --------
    >>> check("min_share", 0.5) is None, check("scenario.k", 2.5)
    (True, 'est le nombre de nouvelles structures à implanter, un entier de 0 à 100 ; reçu 2.5')
    """
    return RULES[name](value)


def _raise_problems(values: dict[str, Any], shown: Callable[[str], str]) -> None:
    problems = []
    for name, value in values.items():
        reason = check(name, value)
        if reason is not None:
            problems.append(Probleme(f"« {shown(name)} » {reason}", parametre=name))
    if problems:
        raise InputError(problems)


# --------------------------------------------------------------------------- objects
@dataclass(frozen=True)
class Scenario:
    """A siting scenario: ``k`` new structures chosen by :func:`couverture.best_sites`.

    Attributes
    ----------
    k : int
        Number of new structures to site; 0: no scenario.
    radius : float or None
        Radius (metres) of the scenario; None: the diagnostic's ``radius``.
    objective : {"coverage", "p-median"}
        Maximise the population newly within the radius, or minimise the
        population-weighted distance (French names accepted).

    Examples
    --------
    >>> Scenario(k=3, objective="p-mediane")
    Scenario(k=3, radius=None, objective='p-median')
    """

    k: int = 0
    radius: float | None = None
    objective: str = "coverage"

    def __post_init__(self) -> None:
        _raise_problems(
            {"scenario.k": self.k, "scenario.radius": self.radius, "scenario.objective": self.objective},
            lambda name: name,
        )
        object.__setattr__(self, "k", int(self.k))
        if self.radius is not None:
            object.__setattr__(self, "radius", float(self.radius))
        object.__setattr__(self, "objective", OBJECTIVES.get(self.objective, self.objective))

    @property
    def objective_fr(self) -> str:
        """French name of the objective (``"couverture"``, ``"p-mediane"``), as in the TOML."""
        return {v: k for k, v in OBJECTIVES.items()}[self.objective]


#: Old French attribute names of ``Parametres`` -> new names (``scenario_*`` go to ``scenario``).
FRENCH_NAMES: dict[str, str] = {
    "rayon_m": "radius",
    "distance_max_m": "max_distance",
    "seuil_couverture": "min_share",
    "niveaux": "levels",
    "titre": "title",
    "sous_titre": "subtitle",
    "scenario_k": "scenario.k",
    "scenario_rayon_m": "scenario.radius",
    "scenario_objectif": "scenario.objective",
    "capacite": "use_capacity",
    "annee_fin": "end_year",
    "demande": "demand",
    "demandes": "demands",
}


def _deprecated_attribute(french: str) -> property:
    english = FRENCH_NAMES[french]

    def get(self: Parameters) -> Any:
        warnings.warn(
            f"Parameters.{french} est obsolète : utilisez Parameters.{english}",
            DeprecationWarning,
            stacklevel=2,
        )
        if french == "scenario_objectif":
            return self.scenario.objective_fr
        if french == "niveaux":
            return list(self.levels)
        if french == "demandes":
            return list(self.demands)
        head, _, tail = english.partition(".")
        value = getattr(self, head)
        return getattr(value, tail) if tail else value

    return property(get, doc=f"Deprecated alias of ``{english}``.")


@dataclass(frozen=True)
class Parameters:
    """Parameters of a diagnostic, validated once when created.

    Attributes
    ----------
    radius : float, default 5000
        Radius (metres) of "population within X km" and of the catchments.
    max_distance : float, default 10 000
        Maximum distance (metres) of the 2SFCA accessibility.
    decay : {None, "gaussien", "paliers"}
        Distance decay of the 2SFCA (None: classical 2SFCA).
    min_share : float, default 0.5
        Share of a unit's area that must lie in a zone for the zone to cover it.
    levels : tuple of str, default ("epci",)
        Grouping columns of the units (the département total is always added).
    use_capacity : bool, default False
        Supply of each structure in the 2SFCA: its ``capacite`` column
        (``capacity_col``), else 1 per structure.
    end_year : int or None
        Last year of the évolution table (None: the current year).
    demand : str, default "population"
        Demand column of the units for the 2SFCA, the scenarios and equity.
    demands : tuple of str
        Further demand columns shown side by side (``ind_0_17``, ``men_pauv``...).
    title, subtitle : str
        Title and subtitle of the atlas and exports.
    logo : Path or None
        Logo image shown in the atlas.
    scenario : Scenario
        Siting scenario (``Scenario(k=0)``: none).

    Raises
    ------
    InputError
        Every parameter out of its range, each named as written here.

    Examples
    --------
    >>> p = Parameters(max_distance=9000, decay="paliers", levels=["epci", "canton"])
    >>> p.levels, p.decay_spec
    (('epci', 'canton'), [(3000.0, 1.0), (6000.0, 0.68), (9000.0, 0.22)])
    >>> p.with_scenario(k=0).scenario.k
    0
    """

    radius: float = 5000.0
    max_distance: float = 10000.0
    decay: str | None = None
    min_share: float = 0.5
    levels: tuple[str, ...] = ("epci",)
    use_capacity: bool = False
    end_year: int | None = None
    demand: str = "population"
    demands: tuple[str, ...] = ()
    title: str = DEFAULT_TITLE
    subtitle: str | None = None
    logo: Path | None = None
    scenario: Scenario = field(default_factory=Scenario)

    def __post_init__(self) -> None:
        if not isinstance(self.scenario, Scenario):
            raise InputError(
                Probleme(
                    f"« scenario » doit être un Scenario(k=..., radius=..., objective=...) ; reçu {self.scenario!r}",
                    parametre="scenario",
                )
            )
        _raise_problems({name: getattr(self, name) for name in RULES if "." not in name}, lambda name: name)
        object.__setattr__(self, "radius", float(self.radius))
        object.__setattr__(self, "max_distance", float(self.max_distance))
        object.__setattr__(self, "min_share", float(self.min_share))
        object.__setattr__(self, "levels", tuple(v.strip() for v in self.levels))
        object.__setattr__(self, "demand", self.demand.strip())
        object.__setattr__(self, "demands", tuple(v.strip() for v in self.demands))
        if self.end_year is not None:
            object.__setattr__(self, "end_year", int(self.end_year))
        if self.logo is not None:
            object.__setattr__(self, "logo", Path(self.logo))

    @property
    def capacity_col(self) -> str | None:
        """Column of the structures used as the 2SFCA supply: ``"capacite"`` when ``use_capacity``, else None."""
        return "capacite" if self.use_capacity else None

    @property
    def scenario_radius(self) -> float:
        """Radius of the siting scenario: the scenario's own, else ``radius``."""
        return self.scenario.radius if self.scenario.radius is not None else self.radius

    @property
    def decay_spec(self) -> Any:
        """The decay in the form :func:`couverture.two_step_fca` takes (see :func:`decay_spec`)."""
        return decay_spec(self.decay, self.max_distance)

    def with_scenario(self, **changes: Any) -> Parameters:
        """A copy with the scenario changed (``p.with_scenario(k=0)``)."""
        return replace(self, scenario=replace(self.scenario, **changes))

    # deprecated French names (one release)
    rayon_m = _deprecated_attribute("rayon_m")
    distance_max_m = _deprecated_attribute("distance_max_m")
    seuil_couverture = _deprecated_attribute("seuil_couverture")
    niveaux = _deprecated_attribute("niveaux")
    titre = _deprecated_attribute("titre")
    sous_titre = _deprecated_attribute("sous_titre")
    scenario_k = _deprecated_attribute("scenario_k")
    scenario_rayon_m = _deprecated_attribute("scenario_rayon_m")
    scenario_objectif = _deprecated_attribute("scenario_objectif")
    capacite = _deprecated_attribute("capacite")
    annee_fin = _deprecated_attribute("annee_fin")
    demande = _deprecated_attribute("demande")
    demandes = _deprecated_attribute("demandes")


def decay_spec(name: str | None, max_distance: float) -> Any:
    """Translate the French decay names for :func:`couverture.two_step_fca`.

    ``"paliers"`` are the three steps of the enhanced 2SFCA of Luo & Qi (2009):
    weights 1, 0.68 and 0.22 on each third of the maximum distance.

    Examples
    --------
    >>> decay_spec("paliers", 9000)
    [(3000.0, 1.0), (6000.0, 0.68), (9000.0, 0.22)]
    >>> decay_spec("gaussien", 9000), decay_spec(None, 9000)
    ('gaussian', None)
    """
    if name is None:
        return None
    if name == "paliers":
        third = max_distance / 3
        return [(third, 1.0), (2 * third, 0.68), (float(max_distance), 0.22)]
    return {"gaussien": "gaussian", "puissance": "power"}.get(name, name)


def from_french(**kwargs: Any) -> Parameters:
    """:class:`Parameters` from the old French keyword names (``rayon_m=...``, ``scenario_k=...``).

    Examples
    --------
    >>> from_french(rayon_m=3000, scenario_k=2, scenario_objectif="p-mediane").scenario
    Scenario(k=2, radius=None, objective='p-median')
    """
    top: dict[str, Any] = {}
    scenario: dict[str, Any] = {}
    names = {f.name for f in fields(Parameters)}
    for key, value in kwargs.items():
        new = FRENCH_NAMES.get(key, key)
        if new.startswith("scenario."):
            scenario[new.split(".", 1)[1]] = value
        elif new in names:
            top[new] = value
        else:
            raise TypeError(f"paramètre inconnu : {key!r}")
    if scenario:
        top["scenario"] = Scenario(**scenario)
    return Parameters(**top)
