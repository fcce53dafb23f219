"""Regenerate the README screenshots from the demonstration.

    python docs/img/make_images.py

- carte-statique-demo.png: a static map (matplotlib) of the demonstration;
- carte-interactive-demo.png: the interactive map (folium) in headless Chromium
  (Debian packages chromium and chromium-driver), Leaflet taken from the
  atlas' vendored copy so nothing is fetched from the network.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "benchmarks"))


def main() -> int:
    import couverture as cv
    from couverture.analysis.proximity import nearest_distance
    from couverture.maps import choropleth, interactive, save_figure, save_map
    from web_size import offline_copy, open_in_chromium

    t = cv.load_demo()
    c = t.communes.copy()
    c["distance_m"] = nearest_distance(c, t.structures).to_numpy()
    c["densite"] = c["population"] / (c.area / 1e6)
    sources = f"{t.sources['communes']}. Structures et ZVS FICTIVES (démonstration)."

    fig = choropleth(
        c, "distance_m", "quantiles", 5, scale=1e-3, unit="km", palette="YlOrRd",
        title="Distance à la structure la plus proche", subtitle="Bouches-du-Rhône — démonstration (réseau fictif)",
        legend_title="Distance à vol d'oiseau (km)", structures=t.structures, zones=t.zones, labels=14, sources=sources,
    )
    static = save_figure(fig, HERE / "carte-statique-demo.png", dpi=110)
    print(static, static.stat().st_size)

    m = interactive(
        c, ["distance_m", "densite"], labels=["Distance à la structure la plus proche", "Densité de population"],
        unit={"distance_m": "km", "densite": "hab./km²"}, scale={"distance_m": 1e-3}, palette={"distance_m": "YlOrRd"},
        structures=t.structures, zones=t.zones, tooltip_cols=["population"], units={"population": "hab."},
        aliases={"population": "Population"}, title="Bouches-du-Rhône — démonstration (réseau fictif)", sources=sources,
    )
    with tempfile.TemporaryDirectory() as d:
        page = save_map(m, Path(d) / "carte.html")
        local = offline_copy(page, Path(d) / "carte-offline.html")
        shot = HERE / "carte-interactive-demo.png"
        print(open_in_chromium(local, screenshot=shot, size=(1200, 760)))
    # keep the README light: quantise the screenshot to a palette
    from PIL import Image

    with Image.open(shot) as im:
        im.convert("RGB").quantize(colors=128, dither=Image.Dither.NONE).save(shot, optimize=True)
    print(shot, shot.stat().st_size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
