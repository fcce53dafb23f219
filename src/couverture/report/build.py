"""The PDF diagnostic: :func:`build_report` renders a Diagnostic with WeasyPrint.

The document (A4) is an HTML page made from the templates of
``report/templates`` (which import the atlas's macros read-only), laid out by
WeasyPrint: cover, table of contents with page numbers (CSS
``target-counter``), key figures, one section per indicator (SVG map, legend,
method, table of units whose header repeats on every page), zones blanches,
évolution, scénarios when configured, one portrait per territory
(:mod:`couverture.report.portrait`), méthodologie and sources; running
headers and footers, PDF bookmarks from the headings, the DejaVu fonts
(Debian ``fonts-dejavu-core``) embedded.

Reproducible: the same diagnostic gives the same bytes (no date unless one
is given or ``SOURCE_DATE_EPOCH`` is set, a PDF identifier derived from the
content, maps without dates). The file is written beside the target and
renamed into place.

Examples
--------
>>> import tempfile, pathlib
>>> from couverture.io.demo import load_demo
>>> from couverture.analysis.diagnostic import diagnose
>>> d = diagnose(load_demo(), evolution=False)
>>> out = build_report(d, pathlib.Path(tempfile.mkdtemp()) / "marseille.pdf", territoire="13055")  # doctest: +SKIP
>>> out.read_bytes()[:5]  # doctest: +SKIP
b'%PDF-'
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from .. import __version__
from ..errors import InputError
from ..maps._format import MISSING_TEXT, NNBSP, format_number
from . import _maps
from .portrait import portrait, reference_nationale, territoires

__all__ = ["FONT_DIRS", "build_report", "report_html"]

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
ATLAS_TEMPLATES = HERE.parent / "atlas" / "templates"

#: Where the DejaVu fonts of the Debian package fonts-dejavu-core are looked for.
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts/dejavu"),
)
FONT_FILES = {
    "normal-normal": "DejaVuSans.ttf",
    "bold-normal": "DejaVuSans-Bold.ttf",
    "normal-italic": "DejaVuSans-Oblique.ttf",
}

TYPE_NAMES = {"CS": "Centre social", "EVS": "Espace de vie sociale"}


# --------------------------------------------------------------------------- formatting


def _num(value: Any, decimals: int = 0) -> str:
    try:
        return format_number(value, decimals)
    except (TypeError, ValueError):
        return MISSING_TEXT


def _exact_decimals(value: float, max_decimals: int = 3) -> int:
    """Fewest decimals (up to ``max_decimals``) that show ``value`` exactly.

    Examples
    --------
    >>> [_exact_decimals(v) for v in (96.0, 96.1, 0.67, 0.547, 1.23456)]
    [0, 1, 2, 3, 3]
    """
    for d in range(max_decimals + 1):
        if abs(value - round(value, d)) < 1e-9:
            return d
    return max_decimals


def _auto(value: Any) -> str:
    """A key figure as the atlas shows it: the fewest decimals (up to 3) that show it exactly."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    return format_number(v, _exact_decimals(v)) if np.isfinite(v) else MISSING_TEXT


def _unit_decimals(unit: str, values) -> int:
    u = unit.lower()
    if "%" in u:
        return 1
    if u.startswith("km") or "10 000" in u:
        return 2
    if "de 0" in u or "indice" in u:
        return 3
    return max(
        (_exact_decimals(float(v), 2) for v in values if isinstance(v, (int, float, np.number))),
        default=0,
    )


def _font_faces() -> list[dict[str, str]]:
    for folder in FONT_DIRS:
        if all((folder / f).is_file() for f in FONT_FILES.values()):
            return [
                {
                    "weight": key.split("-")[0],
                    "style": key.split("-")[1],
                    "url": (folder / f).as_uri(),
                }
                for key, f in FONT_FILES.items()
            ]
    raise InputError(
        "police DejaVu Sans introuvable (fichiers DejaVuSans.ttf, DejaVuSans-Bold.ttf, DejaVuSans-Oblique.ttf) : "
        "installez le paquet Debian fonts-dejavu-core (apt-get install fonts-dejavu-core)"
    )


def _env():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(TEMPLATES), str(ATLAS_TEMPLATES)]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    from markupsafe import Markup

    from ..maps.web import dumps_for_script

    env.filters["nombre"] = _num
    # filters the atlas's macros use (imported read-only from atlas/templates/_macros.html)
    env.filters["json_script"] = lambda obj: Markup(dumps_for_script(obj))
    env.globals["type_names"] = TYPE_NAMES
    return env


# --------------------------------------------------------------------------- sections


def _edition_date(date: dt.date | str | None) -> dt.date | None:
    if date is None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
        if not epoch:
            return None
        try:
            return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).date()
        except (ValueError, OverflowError) as exc:
            raise InputError(f"SOURCE_DATE_EPOCH : « {epoch} » n'est pas un nombre de secondes depuis 1970") from exc
    if isinstance(date, str):
        try:
            return dt.date.fromisoformat(date)
        except ValueError as exc:
            raise InputError(f"date d'édition : « {date} » n'est pas une date AAAA-MM-JJ") from exc
    return date


_MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]


def _french_date(d: dt.date) -> str:
    return f"{d.day}{'er' if d.day == 1 else ''} {_MONTHS[d.month - 1]} {d.year}"


def _key_figures(d) -> list[dict[str, str]]:
    return [
        {
            "libelle": str(name),
            "valeur": _auto(row["valeur"]),
            "unite": str(row.get("unite", "") or ""),
        }
        for name, row in d.chiffres_cles.iterrows()
    ]


def _legend(cls, labels: list[str]) -> list[dict[str, str]]:
    from ..maps.classify import MISSING_COLOR

    items = [{"couleur": c, "libelle": lab, "effectif": _num(n)} for c, lab, n in zip(cls.colors, labels, cls.counts)]
    if cls.n_missing:
        items.append(
            {
                "couleur": MISSING_COLOR,
                "libelle": "Donnée manquante",
                "effectif": _num(cls.n_missing),
            }
        )
    return items


def _category_labels(ind, rayon_km: str, k: int) -> list[str] | None:
    if ind.colonne == "dans_rayon":
        return [f"Au-delà de {rayon_km}{NNBSP}km", f"À {rayon_km}{NNBSP}km ou moins"][:k]
    if ind.colonne == "n_zones":
        return ["0 (zone blanche)", "1 zone", "2 zones", "3 zones ou plus"][:k]
    return None


def _value_texts(values: pd.Series, unit: str) -> list[str]:
    if pd.api.types.is_bool_dtype(values):
        return ["oui" if v else "non" for v in values.to_numpy()]
    if pd.api.types.is_integer_dtype(values):
        return [_num(v) for v in values.to_numpy()]
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    finite = v[np.isfinite(v)]
    dec = 1 if finite.size and np.median(np.abs(finite)) >= 1 else 2
    return [_num(x, dec) + (f"{NNBSP}{unit}" if unit and np.isfinite(x) and len(unit) <= 4 else "") for x in v]


def _indicator_sections(d, frame, sources: str, subtitle: str, rayon_km: str) -> list[dict[str, Any]]:
    u = d.unites.reset_index(drop=True)
    out = []
    for n, ind in enumerate(i for i in d.indicateurs if i.colonne in u.columns):
        values = u[ind.colonne]
        raw = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        if not np.isfinite(raw).any():
            continue
        frame["_v"], kw, unit = _maps.classified(ind, values)
        svg, cls = _maps.choropleth_svg(
            frame,
            "_v",
            figsize="A4",
            palette=ind.palette,
            unit=unit,
            title=ind.titre,
            subtitle=subtitle,
            structures=d.structures,
            labels=8,
            sources=sources,
            **kw,
        )
        labels = _category_labels(ind, rayon_km, cls.k) or list(cls.labels(unit))
        short = _category_labels(ind, rayon_km, cls.k) or list(cls.labels(None))  # the table's caption gives the unit
        texts = _value_texts(values, ind.unite)
        order = np.argsort(np.where(np.isfinite(raw), -raw, np.inf), kind="stable")  # highest first, as the atlas
        rows = [
            {
                "nom": str(u.at[i, "nom"]),
                "code": str(u.at[i, "code_insee"]),
                "epci": str(u.at[i, "epci_nom"]) if "epci_nom" in u.columns else "",
                "population": _num(u.at[i, "population"]),
                "valeur": texts[i],
                "classe": short[int(cls.yb[i])] if int(cls.yb[i]) >= 0 else "Donnée manquante",
            }
            for i in order
        ]
        out.append(
            {
                "id": f"indicateur-{n + 1}",
                "ind": ind,
                "carte": _maps.data_uri(svg),
                "legende": _legend(cls, labels),
                "lignes": rows,
                "epci": "epci_nom" in u.columns,
            }
        )
    return out


def _gaps(d) -> list[dict[str, Any]]:
    zb = d.zones_blanches
    if zb is None or not len(zb):
        return []
    names = d.structures.set_index("structure_id")["nom"].astype(str) if len(d.structures) else pd.Series(dtype=str)
    return [
        {
            "rang": int(rang),
            "population": _num(r.get("population")),
            "surface": _num(r.get("surface_km2"), 1),
            "noms": str(r.get("noms", "")).replace("; ", ", "),
            "n": _num(r.get("n_communes")),
            "distance": _num((r.get("distance_structure_m") or np.nan) / 1000, 1),
            "proche": names.get(r.get("structure_proche"), str(r.get("structure_proche") or "")),
        }
        for rang, r in zb.drop(columns="geometry", errors="ignore").iterrows()
    ]


_EVOLUTION = [
    ("annee", "Année", 0, 1.0),
    ("n_cs", "CS", 0, 1.0),
    ("n_evs", "EVS", 0, 1.0),
    ("structures_pour_10000_hab", "Structures pour 10 000 hab.", 2, 1.0),
    ("taux_couverture_pct", "Couverture ZVS (%)", 1, 1.0),
    ("taux_dans_rayon_pct", "Population à portée (%)", 1, 1.0),
    ("distance_moyenne_m", "Distance moyenne (km)", 2, 1e-3),
    ("gini_distance", "Gini des distances", 3, 1.0),
    ("n_communes_signataires", "Communes signataires", 0, 1.0),
]


def _evolution(d) -> dict[str, Any] | None:
    ev = d.evolution
    if ev is None or not len(ev):
        return None
    cols = [c for c in _EVOLUTION if c[0] in ev.columns]
    rows = []
    for _, r in ev.iterrows():
        rows.append([str(int(r["annee"])) if c[0] == "annee" else _num(_scaled(r[c[0]], c[3]), c[2]) for c in cols])
    return {"entetes": [c[1] for c in cols], "lignes": rows}


def _scaled(v: Any, scale: float) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f * scale if np.isfinite(f) else None


def _scenarios(d) -> dict[str, Any] | None:
    s = d.scenarios
    if s is None or not len(s):
        return None
    sites = [
        {
            "rang": int(rang),
            "nom": str(r.get("nom", "")),
            "code": str(r.get("code_insee", "")),
            "gain": _num(r.get("population_ajoutee", r.get("gain"))),
            "taux": _num(r.get("taux_couverture_pct"), 1),
        }
        for rang, r in s.drop(columns="geometry", errors="ignore").iterrows()
    ]
    comp = []
    c = d.scenario_comparaison
    if c is not None and len(c):
        for _, r in c.iterrows():
            unit = str(r.get("unite", "") or "")
            dec = _unit_decimals(unit, [r.get("avant"), r.get("apres")])
            comp.append(
                {
                    "indicateur": str(r["indicateur"]),
                    "avant": _num(r.get("avant"), dec),
                    "apres": _num(r.get("apres"), dec),
                    "ecart": _num(r.get("ecart"), dec),
                    "unite": unit,
                }
            )
    p = d.params
    return {
        "sites": sites,
        "comparaison": comp,
        "k": len(sites),
        "rayon_km": _num(float(p.scenario_radius) / 1000, 1),
        "objectif": p.scenario.objective_fr,
    }


def _portrait_section(d, t: dict[str, Any], national: dict[str, Any], whole, frame, sources: str) -> dict[str, Any]:
    p = portrait(d, t["code"], national=national)
    mask = frame["code_insee"].astype(str).isin(p["membres"]).to_numpy()
    part = shapely.union_all(frame.geometry.to_numpy()[mask])
    sub = frame[mask].copy()
    s = d.structures
    inside = s[s["code_insee"].astype(str).isin(p["membres"])]
    sub["_v"] = (
        d.unites.loc[d.unites["code_insee"].astype(str).isin(p["membres"]), "n_zones"].astype(int).to_numpy()
        if "n_zones" in d.unites.columns
        else 0
    )
    svg, cls = _maps.choropleth_svg(
        sub,
        "_v",
        figsize="A4",
        scheme="manuel",
        bins=[0.0, 1.0, 2.0],
        palette="PuBu",
        title=f"Couverture par les ZVS : {p['nom']}",
        structures=inside if len(inside) else None,
        labels=6,
        sources=sources,
        inset=None,
        legend_title="Zones de vie sociale couvrant l'unité",
    )
    labels = ["0 (zone blanche)", "1 zone", "2 zones", "3 zones ou plus"][: cls.k]
    return {
        **p,
        "id": f"portrait-{p['niveau_cle']}-{p['code']}",
        "situation": _maps.data_uri(_maps.locator_svg(whole, part)),
        "carte": _maps.data_uri(svg),
        "legende": _legend(cls, labels),
    }


def _method(d) -> dict[str, Any]:
    p = d.params
    rapport = getattr(d, "rapport", None)
    return {
        "parametres": [
            ("Rayon de proximité", f"{_num(p.radius / 1000, 1)}{NNBSP}km"),
            (
                "Portée de l'accessibilité 2SFCA",
                f"{_num(p.max_distance / 1000, 1)}{NNBSP}km",
            ),
            (
                "Décroissance 2SFCA",
                str(p.decay) if getattr(p, "decay", None) else "aucune (2SFCA classique)",
            ),
            (
                "Seuil de couverture d'une unité par une ZVS",
                f"{_num(100 * p.min_share)}{NNBSP}% de sa surface",
            ),
        ],
        "indicateurs": [
            {"titre": i.titre, "methode": i.description_methode, "limites": i.limites} for i in d.indicateurs
        ],
        "erreurs": len(rapport.erreurs) if rapport is not None else 0,
        "avertissements": len(rapport.avertissements) if rapport is not None else 0,
    }


def _sources(d) -> list[tuple[str, str]]:
    labels = {
        "communes": "Communes et populations",
        "structures": "Structures",
        "zones": "Zones de vie sociale",
    }
    return [(labels.get(k, str(k).capitalize()), str(v)) for k, v in d.sources.items() if k != "avertissement"]


# --------------------------------------------------------------------------- document


def report_html(
    diagnostic,
    *,
    territoire: str | None = None,
    date: dt.date | str | None = None,
    titre: str | None = None,
) -> str:
    """The HTML of the report (what WeasyPrint lays out), for inspection and tests.

    Parameters are those of :func:`build_report`.
    """
    d = diagnostic
    t = d.territory
    p = d.params
    edition = _edition_date(date)
    demo = bool(getattr(t, "demo", False))
    notice = None
    if demo:
        from ..territory import DEMO_NOTICE

        notice = d.sources.get("avertissement") or DEMO_NOTICE
    sources = _sources(d)
    sources_line = "Sources : " + " ; ".join(f"{k.lower()} : {v}" for k, v in sources)
    subtitle = t.name + (" — structures et ZVS FICTIVES (démonstration)" if demo else "")
    rayon_km = f"{float(p.radius) / 1000:g}".replace(".", ",")
    frame = _maps.print_frame(d.unites.reset_index(drop=True))
    whole = shapely.union_all(frame.geometry.to_numpy())
    national = reference_nationale()
    wanted = territoires(d)
    if territoire is not None:
        code = str(territoire).strip()
        portrait(d, code, national=national)  # raises InputError naming the known codes
        wanted = [x for x in wanted if x["code"] == code][:1]
    portraits = [_portrait_section(d, x, national, whole, frame, sources_line) for x in wanted]
    context: dict[str, Any] = {
        "titre": titre or getattr(p, "title", None) or "Diagnostic de l'animation de la vie sociale",
        "sous_titre": getattr(p, "subtitle", None),
        "territoire": t.name,
        "edition": _french_date(edition) if edition else None,
        "edition_iso": edition.isoformat() if edition else None,
        "notice": notice,
        "sources": sources,
        "national": national,
        "version": __version__,
        "fonts": _font_faces(),
        "seul": territoire is not None,
        "portraits": portraits,
        "methode": _method(d),
    }
    if territoire is None:
        context.update(
            chiffres=_key_figures(d),
            indicateurs=_indicator_sections(d, frame, sources_line, subtitle, rayon_km),
            blanches=_gaps(d),
            has_zones=d.zones is not None and len(d.zones) > 0,
            evolution=_evolution(d),
            scenarios=_scenarios(d),
        )
    return _env().get_template("rapport.html").render(**context)


def build_report(
    diagnostic,
    path: str | os.PathLike,
    *,
    territoire: str | None = None,
    date: dt.date | str | None = None,
    titre: str | None = None,
) -> Path:
    """Write the PDF diagnostic of ``diagnostic`` to ``path`` (A4, WeasyPrint).

    Parameters
    ----------
    diagnostic : Diagnostic
        What :func:`couverture.analysis.diagnostic.diagnose` returned.
    path : path
        The PDF file to write (its folder is created).
    territoire : str, optional
        Code of one territory (EPCI SIREN, ``13055`` for Marseille...): write
        its portrait alone.
    date : date or "AAAA-MM-JJ", optional
        Edition date shown on the cover and written in the PDF metadata.
        Default: none (the file does not depend on the day it is built),
        unless the environment sets ``SOURCE_DATE_EPOCH``.
    titre : str, optional
        Title (default: the parameters' ``titre``).

    Returns
    -------
    pathlib.Path
        The PDF written.

    Raises
    ------
    InputError
        Unknown ``territoire``, bad date, DejaVu fonts missing.
    """
    import weasyprint

    path = Path(path)
    if path.suffix.lower() != ".pdf":
        raise InputError(
            f"--out {path.name} : le rapport est un fichier PDF ; indiquez un nom en .pdf (par exemple diagnostic.pdf)"
        )
    if path.exists() and path.is_dir():
        raise InputError(f"--out {path} : c'est un dossier ; indiquez un fichier .pdf")
    html = report_html(diagnostic, territoire=territoire, date=date, titre=titre)
    identifier = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode("ascii")
    document = weasyprint.HTML(string=html, base_url=str(TEMPLATES)).render()
    pdf = document.write_pdf(pdf_identifier=identifier, pdf_version="1.7")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(pdf)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    log.info("rapport écrit : %s (%d pages, %d octets)", path, len(document.pages), len(pdf))
    return path
