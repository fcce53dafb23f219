"""Output column registry: the French label, unit, decimals and kind of every column users read.

One table for the exports (XLSX / CSV headers and number formats) and, later,
the atlas tables and map legends. A column is looked up by its Python name;
columns whose name carries the analysis radius (``population_sans_structure_5km``)
are matched by pattern, and labels that depend on the radius are filled with it:
no output ever shows an unfilled placeholder.

Rules kept by every entry (tested): a label has no unit and at most one pair
of parentheses; the header is ``label (unit)``, so no header nests
parentheses.

Examples
--------
>>> lookup("population").header()
'Population (habitants)'
>>> lookup("population_sans_structure_5km").header()
"Population à plus de 5 km d'une structure (habitants)"
>>> header("dans_rayon", radius_m=2500)
"À moins de 2,5 km d'une structure"
>>> header("Gestionnaire")
'Gestionnaire'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

from ._format import NNBSP, format_km

__all__ = [
    "ACCESS_UNIT",
    "ACCESS_UNIT_CAPACITY",
    "COLUMNS",
    "ZVS_MISSING_TEXT",
    "Column",
    "Kind",
    "Requires",
    "header",
    "lookup",
]

#: How a column is stored and formatted.
Kind = Literal["int", "float", "text", "code", "bool", "date"]
#: The input a column needs to be computed (``None``: always computable).
Requires = Literal["zvs", "dates", "convention", "capacite"] | None

#: Text shown (Lisez-moi, atlas) for a coverage figure when no ZVS file was given.
ZVS_MISSING_TEXT = "non calculé : aucune ZVS fournie"


@dataclass(frozen=True)
class Column:
    """One output column.

    Parameters
    ----------
    name : str
        Python column name (as in the Diagnostic's frames).
    label : str
        French label, without the unit; may contain ``{rayon}`` (the analysis
        radius, filled by :func:`lookup`).
    unit : str, optional
        Unit written after the label, in parentheses.
    decimals : int
        Digits shown after the decimal comma (XLSX number format, CSV rounding).
    kind : {"int", "float", "text", "code", "bool", "date"}
        ``code``: text that looks like a number (INSEE, SIREN, identifiers),
        always stored as text.
    requires : {"zvs", "dates", "convention", "capacite"}, optional
        The input without which the column cannot be computed (shown « n.d. »).

    Examples
    --------
    >>> Column("x", "Abscisse", "m").header()
    'Abscisse (m)'
    """

    name: str
    label: str
    unit: str | None = None
    decimals: int = 0
    kind: Kind = "float"
    requires: Requires = None

    def header(self) -> str:
        """``label (unit)``, or the label alone."""
        return f"{self.label} ({self.unit})" if self.unit else self.label


_HAB = "habitants"
#: Unit of the 2SFCA accessibility in the tables (the library's per-inhabitant figure × 10 000).
ACCESS_UNIT = "structures pour 10 000 habitants"
#: ... when the structures' capacity is the supply (``capacite = true``).
ACCESS_UNIT_CAPACITY = "unités de capacité pour 10 000 habitants"
_ACCESS = ACCESS_UNIT


def _c(
    name: str, label: str, unit: str | None = None, decimals: int = 0, kind: Kind = "float", requires: Requires = None
) -> Column:
    return Column(name, label, unit, decimals, kind, requires)


_ENTRIES: list[Column] = [
    # ---- units of analysis
    _c("code_insee", "Code INSEE", kind="code"),
    _c("nom", "Nom", kind="text"),
    _c("population", "Population", _HAB, kind="int"),
    _c("epci", "EPCI, SIREN", kind="code"),
    _c("epci_nom", "Nom de l'EPCI", kind="text"),
    _c("departement", "Département", kind="code"),
    _c("commune_plm", "Commune PLM, code INSEE de Paris, Lyon ou Marseille", kind="code"),
    _c("secteur", "Secteur municipal de Paris, Lyon ou Marseille (loi PLM), code 13055-S1...", kind="code"),
    _c("n_zones", "Nombre de ZVS couvrant l'unité", kind="int", requires="zvs"),
    _c("couvert", "Couverte par au moins une ZVS", kind="bool", requires="zvs"),
    _c("structures_zvs", "Structures dont la ZVS couvre l'unité, identifiants", kind="code", requires="zvs"),
    _c("distance_m", "Distance à la structure la plus proche", "m", kind="float"),
    _c("distance_cs_m", "Distance au centre social le plus proche", "m"),
    _c("distance_evs_m", "Distance à l'espace de vie sociale le plus proche", "m"),
    _c("distance_km", "Distance à la structure la plus proche", "km", 2),
    _c("distance_cs_km", "Distance au centre social le plus proche", "km", 2),
    _c("distance_evs_km", "Distance à l'espace de vie sociale le plus proche", "km", 2),
    _c("dans_rayon", "À moins de {rayon} d'une structure", kind="bool"),
    _c("acces_2sfca", "Accessibilité 2SFCA", _ACCESS, 3),
    # ---- structures
    _c("structure_id", "Identifiant", kind="code"),
    _c("type", "Type, CS ou EVS", kind="code"),
    _c("commune", "Commune", kind="text"),
    _c("localisation", "Position", kind="text"),
    _c("capacite", "Capacité", kind="float", decimals=0, requires="capacite"),
    _c("date_agrement", "Date d'agrément", kind="date", requires="dates"),
    _c("date_fermeture", "Date de fin d'agrément ou de fermeture", kind="date"),
    _c("population_zvs", "Population de la ZVS", _HAB, kind="int", requires="zvs"),
    _c("n_unites_zvs", "Nombre d'unités dans la ZVS", kind="int", requires="zvs"),
    _c("population_declaree", "Population déclarée de la zone de compétence, fichier des structures", _HAB, kind="int"),
    _c(
        "ecart_population_declaree",
        "Écart population déclarée − population de la ZVS",
        _HAB,
        kind="int",
        requires="zvs",
    ),
    _c("score_geocodage", "Score du géocodage", None, 2),
    _c("type_geocodage", "Précision du géocodage", kind="text"),
    _c("libelle_geocodage", "Adresse trouvée par le géocodeur", kind="text"),
    _c("motif_localisation", "Motif de la position", kind="text"),
    _c("unites_zvs", "Codes INSEE des unités de la ZVS", kind="code", requires="zvs"),
    _c("population_rayon", "Population à moins de {rayon} de la structure", _HAB, kind="int"),
    _c("distance_voisine_m", "Distance à la structure voisine la plus proche", "m"),
    _c("x", "X", "m", 1),
    _c("y", "Y", "m", 1),
    _c("longitude", "Longitude WGS84", "degrés", 6),
    _c("latitude", "Latitude WGS84", "degrés", 6),
    # ---- zones
    _c("structure_nom", "Nom de la structure", kind="text"),
    _c("structure_type", "Type de la structure, CS ou EVS", kind="code"),
    _c("n_unites", "Nombre d'unités", kind="int"),
    # ---- zones blanches
    _c("rang", "Rang, 1 = la plus peuplée", kind="int"),
    _c("surface_km2", "Surface", "km²", 2),
    _c("n_communes", "Nombre d'unités", kind="int"),
    _c("codes_insee", "Codes INSEE des unités", kind="code"),
    _c("noms", "Unités", kind="text"),
    _c("distance_structure_m", "Distance à la structure la plus proche", "m"),
    _c("structure_proche", "Structure la plus proche, identifiant", kind="code"),
    # ---- levels
    _c("niveau", "Niveau", kind="code"),
    _c("population_couverte", "Population dans une ZVS", _HAB, kind="int", requires="zvs"),
    _c("population_non_couverte", "Population hors ZVS", _HAB, kind="int", requires="zvs"),
    _c("population_hors_zvs", "Population hors ZVS", _HAB, kind="int", requires="zvs"),
    _c("taux_couverture_pct", "Taux de couverture par les ZVS", "% de la population", 1, requires="zvs"),
    _c(
        "population_sans_structure_accessible",
        "Population sans structure à portée, accessibilité 2SFCA nulle",
        _HAB,
        kind="int",
    ),
    _c("population_au_dela_rayon", "Population au-delà de {rayon}", _HAB, kind="int"),
    _c("distance_moyenne_m", "Distance moyenne à la structure la plus proche, pondérée par la population", "m"),
    _c("distance_mediane_m", "Distance médiane à la structure la plus proche, pondérée par la population", "m"),
    _c("n_structures", "Nombre de structures", kind="int"),
    _c("n_structures_cs", "Nombre de centres sociaux", kind="int"),
    _c("n_structures_evs", "Nombre d'espaces de vie sociale", kind="int"),
    _c("n_cs", "Nombre de centres sociaux", kind="int"),
    _c("n_evs", "Nombre d'espaces de vie sociale", kind="int"),
    _c("structures_pour_10000_hab", "Structures pour 10 000 habitants", None, 2),
    _c("acces_2sfca_moyenne_ponderee", "Accessibilité 2SFCA moyenne, pondérée par la population", _ACCESS, 3),
    # ---- year by year (analysis.timeline)
    _c("annee", "Année, situation au 31 décembre", kind="int"),
    _c("population_dans_rayon", "Population à moins de {rayon} d'une structure", _HAB, kind="int"),
    _c("taux_dans_rayon_pct", "Part de la population à moins de {rayon} d'une structure", "% de la population", 1),
    _c("gini_distance", "Indice de Gini des distances, de 0 = égalité à 1", None, 3),
    _c("acces_2sfca_moyen", "Accessibilité 2SFCA moyenne, pondérée par la population", _ACCESS, 3),
    _c("gini_acces_2sfca", "Indice de Gini de l'accessibilité 2SFCA, de 0 = égalité à 1", None, 3),
    _c("n_communes_signataires", "Communes signataires de la convention", kind="int", requires="convention"),
    _c("population_signataires", "Population des communes signataires", _HAB, kind="int", requires="convention"),
    _c(
        "part_population_signataires_pct",
        "Part de la population dans une commune signataire",
        "% de la population",
        1,
        requires="convention",
    ),
    _c("n_communes_avec_structure", "Communes accueillant au moins une structure", kind="int"),
    _c(
        "n_communes_avec_structure_non_signataires",
        "Communes accueillant une structure sans avoir signé la convention",
        kind="int",
        requires="convention",
    ),
    _c(
        "part_structures_signataires_pct",
        "Part des structures situées dans une commune signataire",
        "% des structures",
        1,
        requires="convention",
    ),
    # ---- siting scenario (analysis.scenarios.best_sites)
    _c("ordre", "Ordre du choix, 1 = premier site retenu", kind="int"),
    _c("site", "Site proposé", kind="text"),
    _c("population_ajoutee", "Population nouvellement à moins de {rayon} d'une structure", _HAB, kind="int"),
    _c("population_a_portee", "Population à moins de {rayon} d'une structure, cumulée", _HAB, kind="int"),
    _c(
        "taux_a_portee_pct",
        "Part de la population à moins de {rayon} d'une structure, cumulée",
        "% de la population",
        1,
    ),
    _c(
        "distance_moyenne_apres_m",
        "Distance moyenne à la structure la plus proche après ce site, pondérée par la population",
        "m",
    ),
    _c("gain_distance", "Baisse de la somme des distances pondérées par la population", "habitants × m"),
    # ---- long tables (key figures, equity, before/after, loading report)
    _c("indicateur", "Indicateur", kind="text"),
    _c("indice", "Indice", kind="text"),
    _c("unite", "Unité", kind="text"),
    _c("valeur", "Valeur"),
    _c("avant", "Avant"),
    _c("apres", "Après"),
    _c("ecart", "Écart"),
    _c("gravite", "Gravité", kind="text"),
    _c("fichier", "Fichier", kind="text"),
    _c("ligne", "Ligne", kind="int"),
    _c("colonne", "Colonne", kind="text"),
    _c("raison", "Problème", kind="text"),
]

#: Every registered column by Python name.
COLUMNS: dict[str, Column] = {c.name: c for c in _ENTRIES}

_NUMBER = r"(\d+(?:[.,]\d+)?)"
_PATTERNS: list[tuple[re.Pattern[str], Column]] = [
    (
        re.compile(rf"^population_sans_structure_{_NUMBER}km$"),
        _c("", "Population à plus de {0} d'une structure", _HAB, kind="int"),
    ),
    (
        re.compile(rf"^part_sans_structure_{_NUMBER}km_pct$"),
        _c("", "Part de la population à plus de {0} d'une structure", "% de la population", 1),
    ),
]


def _km_text(metres: float) -> str:
    # headers keep plain spaces: scripts that read the exports type them (df["À moins de 5 km ..."])
    return format_km(metres).replace(NNBSP, " ")


def lookup(name: str, *, radius_m: float | None = None) -> Column | None:
    """The registered column ``name`` with its radius filled in, or None when unknown.

    Parameters
    ----------
    name : str
        Python column name.
    radius_m : float, optional
        The analysis radius in metres, written into labels that name it;
        without it those labels say « du rayon d'analyse ».

    Examples
    --------
    >>> lookup("population_rayon", radius_m=5000).label
    'Population à moins de 5 km de la structure'
    >>> lookup("population_rayon").label
    "Population à moins du rayon d'analyse de la structure"
    >>> lookup("inconnue") is None
    True
    """
    col = COLUMNS.get(str(name))
    if col is None:
        for pattern, template in _PATTERNS:
            m = pattern.match(str(name))
            if m:
                km = float(m.group(1).replace(",", "."))
                return replace(template, name=str(name), label=template.label.format(_km_text(km * 1000.0)))
        return None
    if "{rayon}" in col.label:
        text = _km_text(radius_m) if radius_m is not None else "du rayon d'analyse"
        label = col.label.replace("de {rayon}", text if radius_m is None else f"de {text}")
        label = label.replace("{rayon}", text)
        return replace(col, label=label)
    return col


def header(name: str, *, radius_m: float | None = None) -> str:
    """French header of a column: the registry's ``label (unit)``, else the name as given.

    Columns not in the registry (a structures file's own columns such as
    « Gestionnaire ») keep the name the user gave them.

    Examples
    --------
    >>> header("taux_couverture_pct")
    'Taux de couverture par les ZVS (% de la population)'
    """
    col = lookup(name, radius_m=radius_m)
    return col.header() if col is not None else str(name)
