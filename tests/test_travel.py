"""Tests of couverture.analysis.travel against networkx shortest paths."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point

from couverture.analysis.fca import two_step_fca
from couverture.analysis.proximity import nearest_distance, population_within
from couverture.analysis.travel import (
    BAND_PRESETS,
    SNAP_SPEED_KMH,
    drive_time_areas,
    nearest_time,
    travel_times,
)
from couverture.errors import CouvertureWarning
from couverture.io.network import road_network


def _roads(seed: int = 3, n: int = 12, step: float = 500.0) -> gpd.GeoDataFrame:
    """A grid of streets (random speeds, some one-way), a ferry and an unreachable island.

    Columns as a BD TOPO troncon_de_route: ``vitesse_moyenne_vl``,
    ``sens_de_circulation``, ``nature``.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        for j in range(n):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < n and j + dj < n:
                    a, b = (i * step, j * step), ((i + di) * step, (j + dj) * step)
                    if rng.random() < 0.5:  # some lines digitised backwards
                        a, b = b, a
                    rows.append((a, b))
    speed = rng.choice([20.0, 30.0, 50.0, 70.0], size=len(rows))
    sens = rng.choice(
        ["Double sens", "Sens direct", "Sens inverse"],
        p=[0.7, 0.15, 0.15],
        size=len(rows),
    )
    nature = ["Route à 1 chaussée"] * len(rows)
    geoms = [LineString([a, b]) for a, b in rows]
    # a bent road (3 vertices) to check lengths of polylines
    far = (n - 1) * step
    geoms.append(LineString([(far, far), (far + 300, far + 400), (far + 600, far)]))
    speed = np.r_[speed, 50.0]
    sens = [*sens, "Double sens"]
    nature.append("Route à 1 chaussée")
    # the ferry: from the grid corner across the river to a small bank network
    geoms += [LineString([(0, 0), (-3000, 0)]), LineString([(-3000, 0), (-3000, 800)])]
    speed = np.r_[speed, 0.0, 40.0]
    sens = [*sens, "Double sens", "Sens direct"]
    nature += ["Bac ou liaison maritime", "Route à 1 chaussée"]
    # the island: a road reachable from nothing
    geoms += [LineString([(20000, 20000), (21000, 20000)])]
    speed = np.r_[speed, 50.0]
    sens = [*sens, "Double sens"]
    nature.append("Route à 1 chaussée")
    return gpd.GeoDataFrame(
        {"vitesse_moyenne_vl": speed, "sens_de_circulation": sens, "nature": nature},
        geometry=geoms,
        crs=2154,
    )


def _nx_graph(roads: gpd.GeoDataFrame) -> nx.DiGraph:
    """The same network built independently with networkx (nodes = rounded endpoints)."""
    g = nx.DiGraph()
    for geom, v, sens, nature in zip(
        roads.geometry,
        roads["vitesse_moyenne_vl"],
        roads["sens_de_circulation"],
        roads["nature"],
    ):
        c = list(geom.coords)
        a, b = tuple(np.round(c[0], 1)), tuple(np.round(c[-1], 1))
        speed = 10.0 if nature.startswith("Bac") and not v > 0 else v
        minutes = geom.length / 1000 / speed * 60
        for s, t, ok in ((a, b, sens != "Sens inverse"), (b, a, sens != "Sens direct")):
            if ok and (not g.has_edge(s, t) or g[s][t]["w"] > minutes):
                g.add_edge(s, t, w=minutes)
    return g


@pytest.fixture(scope="module")
def roads():
    return _roads()


@pytest.fixture(scope="module")
def net(roads):
    return road_network(roads, cache_dir=None)


def _nodes_points(g: nx.DiGraph, k: int, seed: int) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    nodes = sorted(g.nodes)
    return [nodes[i] for i in rng.choice(len(nodes), size=k, replace=False)]


def test_times_equal_networkx_with_oneways_ferry_and_island(roads, net):
    g = _nx_graph(roads)
    origins = _nodes_points(g, 25, 1) + [(-3000.0, 800.0), (20000.0, 20000.0)]
    dests = _nodes_points(g, 6, 2) + [(-3000.0, 0.0), (21000.0, 20000.0)]
    o = gpd.GeoDataFrame(
        {"code_insee": [f"13{i:03d}" for i in range(len(origins))]},
        geometry=[Point(p) for p in origins],
        crs=2154,
    )
    d = gpd.GeoDataFrame(
        {"structure_id": [f"S{j}" for j in range(len(dests))]},
        geometry=[Point(p) for p in dests],
        crs=2154,
    )
    got = travel_times(net, o, d).set_index(["origin", "destination"])["cost"]
    expected = {}
    for i, p in enumerate(origins):
        lengths = nx.single_source_dijkstra_path_length(g, p, weight="w")
        for j, q in enumerate(dests):
            if q in lengths:
                expected[(f"13{i:03d}", f"S{j}")] = lengths[q]
    exp = pd.Series(expected).sort_index()
    got = got.sort_index()
    assert list(got.index) == list(exp.index)  # same reachable pairs (island, one-ways)
    np.testing.assert_allclose(got.to_numpy(), exp.to_numpy(), rtol=1e-9, atol=0)
    # the ferry (3 km at 10 km/h = 18 min) is the only way to the far bank (S6)
    to_bank = got.xs("S6", level="destination")
    assert len(to_bank) >= 20 and (to_bank >= 18.0).all()
    # the far bank's one-way road leads away from the ferry: its end reaches nothing
    assert not [k for k in got.index if k[0] == "13025"]
    # the island reaches only itself
    assert [k for k in got.index if k[0] == "13026"] == [("13026", "S7")]
    # Dijkstra from the origins (fewer than the destinations here) gives the same numbers
    few = travel_times(net, o.iloc[:3], d).set_index(["origin", "destination"])["cost"].sort_index()
    part = got[got.index.get_level_values("origin").isin(o["code_insee"].iloc[:3])]
    pd.testing.assert_series_equal(few, part, rtol=1e-12)


def test_max_minutes_and_snap_leg(roads, net):
    g = _nx_graph(roads)
    o = gpd.GeoDataFrame(geometry=[Point(130.0, 40.0), Point(2600.0, 2410.0)], crs=2154)
    d = gpd.GeoDataFrame(
        {"structure_id": ["A", "B", "C"]},
        geometry=[Point(5000, 5000), Point(0, 500), Point(5500, 0)],
        crs=2154,
    )
    full = travel_times(net, o, d)
    nodes = np.array(sorted(g.nodes))
    for _, row in full.iterrows():
        p = np.array(o.geometry.iloc[row["origin"]].coords[0])
        k = int(np.argmin(np.hypot(*(nodes - p).T)))
        q = tuple(d.loc[d["structure_id"] == row["destination"]].geometry.iloc[0].coords[0])
        leg = np.hypot(*(nodes[k] - p)) / 1000 / SNAP_SPEED_KMH * 60
        expected = nx.shortest_path_length(g, tuple(nodes[k]), q, weight="w") + leg
        assert row["cost"] == pytest.approx(expected, rel=1e-9)
        assert row["rabattement_origine_m"] == pytest.approx(np.hypot(*(nodes[k] - p)))
    limit = float(np.median(full["cost"]))
    cut = travel_times(net, o, d, max_minutes=limit)
    assert len(cut) == int((full["cost"] <= limit).sum()) and (cut["cost"] <= limit).all()
    assert full.attrs["unite"].startswith("minutes en voiture (réseau : IGN BD TOPO")


def test_far_points_flagged(net):
    o = gpd.GeoDataFrame(geometry=[Point(0, 0), Point(0, -5000)], crs=2154)
    d = gpd.GeoDataFrame({"structure_id": ["A"]}, geometry=[Point(500, 500)], crs=2154)
    with pytest.warns(CouvertureWarning, match="1 point\\(s\\) à plus de 1000 m du réseau"):
        out = travel_times(net, o, d)
    assert out["eloigne"].tolist() == [False, True]


def test_nearest_time_is_min_of_table(roads, net):
    rng = np.random.default_rng(7)
    pts = gpd.GeoDataFrame(geometry=[Point(xy) for xy in rng.uniform(-200, 5700, (200, 2))], crs=2154)
    pts.index = pd.RangeIndex(100, 300)
    s = gpd.GeoDataFrame(
        {"structure_id": ["A", "B", "C", "ISLE"]},
        geometry=[
            Point(5000, 5000),
            Point(0, 500),
            Point(2500, 0),
            Point(20500, 20000),
        ],
        crs=2154,
    )
    near = nearest_time(net, pts, s)
    table = travel_times(net, pts, s)
    best = table.loc[table.groupby("origin")["cost"].idxmin()].set_index("origin")
    assert list(near.index) == list(pts.index)
    np.testing.assert_allclose(near.loc[best.index, "minutes"], best["cost"], rtol=1e-12)
    assert (near.loc[best.index, "structure"] == best["destination"]).all()
    lim = nearest_time(net, pts, s, max_minutes=5)
    assert lim["minutes"].isna().sum() == int((near["minutes"] > 5).sum())
    # structures weighted by their own rabattement: a structure 900 m off the network
    s2 = gpd.GeoDataFrame({"structure_id": ["OFF"]}, geometry=[Point(2500, -900)], crs=2154)
    n2 = nearest_time(net, pts.iloc[:3], s2)
    t2 = travel_times(net, pts.iloc[:3], s2).set_index("origin")["cost"]
    np.testing.assert_allclose(n2["minutes"], t2.loc[pts.index[:3]], rtol=1e-12)


def test_cost_table_feeds_the_analyses(net):
    units = gpd.GeoDataFrame(
        {"code_insee": ["13001", "13002", "13003"], "population": [100, 200, 300]},
        geometry=[Point(0, 0), Point(2500, 2500), Point(20000, 20000)],
        crs=2154,
    )
    s = gpd.GeoDataFrame(
        {"structure_id": ["A", "B"], "type": ["CS", "EVS"]},
        geometry=[Point(500, 0), Point(3000, 2500)],
        crs=2154,
    )
    cost = travel_times(net, units, s)
    near = nearest_distance(units, s, cost=cost)
    best = cost.groupby("origin")["cost"].min()
    assert near.iloc[0] == pytest.approx(best["13001"]) and np.isnan(near.iloc[2])
    within = population_within(units, s, 15, cost=cost)
    assert within == int(units.loc[units["code_insee"].isin(best[best <= 15].index), "population"].sum())
    acc = two_step_fca(units, s, 30, cost=cost, decay=BAND_PRESETS["luo_qi_2009"])
    assert acc.iloc[2] == 0 and acc.iloc[0] > 0


def test_drive_time_areas(net):
    s = gpd.GeoDataFrame(
        {"structure_id": ["A", "B"]},
        geometry=[Point(0, 0), Point(5500, 5500)],
        crs=2154,
    )
    areas = drive_time_areas(net, s, [5, 10], buffer_m=100)
    assert set(zip(areas["structure_id"], areas["minutes"])) == {
        ("A", 5),
        ("A", 10),
        ("B", 5),
        ("B", 10),
    }
    assert areas["minutes"].iloc[0] == 10  # widest band first
    for sid in ("A", "B"):
        small = areas.query("structure_id == @sid and minutes == 5").geometry.iloc[0]
        big = areas.query("structure_id == @sid and minutes == 10").geometry.iloc[0]
        assert big.buffer(1e-6).contains(small)
    # every node reached within 5 minutes lies in the 5-minute area, and nodes far beyond do not
    pts = gpd.GeoDataFrame(geometry=shapely.points(net.xy), crs=2154)
    t = nearest_time(net, pts, s.iloc[[0]])
    a5 = areas.query("structure_id == 'A' and minutes == 5").geometry.iloc[0]
    inside = shapely.contains_xy(a5.buffer(1e-6), net.x, net.y)
    assert inside[t["minutes"].to_numpy() <= 5].all()
    assert not inside[t["minutes"].to_numpy() > 8].any()
    union = drive_time_areas(net, s, [5, 10], buffer_m=100, by="band")
    assert list(union["minutes"]) == [10, 5] and "structure_id" not in union
    assert union.geometry.iloc[1].buffer(1).contains(a5)


# ----------------------------------------------------------------------------- TOML / CLI / atlas


def _demo_grid(demo, tmp_path, step: float = 1200.0):
    """A BD TOPO-like grid of roads over the demo's extent (fictitious, for wiring tests)."""
    x0, y0, x1, y1 = demo.communes.total_bounds
    xs = np.arange(x0 - step, x1 + 2 * step, step)
    ys = np.arange(y0 - step, y1 + 2 * step, step)
    lines = [LineString([(x, y), (x + step, y)]) for x in xs[:-1] for y in ys]
    lines += [LineString([(x, y), (x, y + step)]) for x in xs for y in ys[:-1]]
    n = len(lines)
    g = gpd.GeoDataFrame(
        {
            "vitesse_moyenne_vl": [50.0] * n,
            "sens_de_circulation": ["Double sens"] * n,
            "acces_vehicule_leger": ["Libre"] * n,
        },
        geometry=lines,
        crs=demo.communes.crs,
    )
    path = tmp_path / "troncon_de_route.gpkg"
    g.to_file(path, layer="troncon_de_route")
    return path


def test_toml_route_mode_and_diagnostic(demo, tmp_path, monkeypatch):
    from couverture.analysis.diagnostic import diagnose
    from couverture.config import load_config

    monkeypatch.setenv("COUVERTURE_CACHE", str(tmp_path / "cache"))
    grid = _demo_grid(demo, tmp_path)
    toml = tmp_path / "c.toml"
    toml.write_text(
        f'[acces]\nmode = "route"\nreseau = "{grid.name}"\nbandes = [10, 20, 30]\nponderation = "luo_qi_2009"\n',
        encoding="utf-8",
    )
    config = load_config(toml)
    acces = config.route_access(demo)
    assert acces.bands == (10.0, 20.0, 30.0) and acces.network.source == "troncon_de_route.gpkg"
    d = diagnose(demo, acces=acces, evolution=False)
    assert d.acces["mode"] == "route" and d.acces["unite"].startswith("minutes en voiture (réseau : IGN BD TOPO")
    assert [i.colonne for i in d.indicateurs][:2] == ["temps_min", "temps_cs_min"]
    expected = nearest_time(acces.network, demo.communes, demo.structures)["minutes"]
    np.testing.assert_allclose(d.unites["temps_min"], expected.to_numpy(), rtol=1e-12)
    pop = d.unites["population"].to_numpy()
    far10 = int(pop[~(d.unites["temps_min"].to_numpy() <= 10)].sum())
    assert d.chiffres_cles.loc["Population à plus de 10 minutes en voiture d'une structure", "valeur"] == far10
    assert diagnose(demo, evolution=False).acces["mode"] == "vol_d_oiseau"
    from couverture.exports import export_diagnostic, lisez_moi

    notes = dict((k, v) for k, v in lisez_moi(d) if k)
    assert notes["Temps de trajet"].startswith("Colonnes temps_* : minutes en voiture")
    assert "congestion" in notes["Temps de trajet"]
    out = export_diagnostic(d, tmp_path / "diag.xlsx")
    assert out.exists()
    # a second configuration read reuses the cache
    assert load_config(toml).route_access(demo).network.from_cache
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[acces]\nmode = "route"\nbandes = [30, 10]\nponderation = "drees"\n',
        encoding="utf-8",
    )
    with pytest.raises(Exception, match="bandes.*ligne 3|ligne 3.*bandes") as exc:
        load_config(bad)
    assert "ponderation" in str(exc.value) and "reseau" in str(exc.value)


def test_cli_atlas_speaks_minutes(demo, tmp_path, monkeypatch, capsys):
    pytest.importorskip("couverture.atlas.build")
    from couverture.cli import main

    monkeypatch.setenv("COUVERTURE_CACHE", str(tmp_path / "cache"))
    grid = _demo_grid(demo, tmp_path)
    code = main(
        [
            "atlas",
            "--reseau",
            str(grid),
            "--bandes",
            "10,20,30",
            "--out",
            str(tmp_path / "atlas"),
        ]
    )
    _, err = capsys.readouterr()
    assert code == 0, err
    page = (tmp_path / "atlas" / "indicateurs" / "temps.html").read_text(encoding="utf-8")
    assert "minutes en voiture (réseau : IGN BD TOPO « troncon_de_route.gpkg »" in page
    assert "écoulement libre" in page and str(tmp_path) not in page


def test_cli_rapport_takes_the_road_network(demo, tmp_path, monkeypatch):
    """``couverture rapport --reseau`` runs the diagnostic on minutes (the PDF writer is stubbed)."""
    import couverture.report as report
    from couverture.cli import main

    monkeypatch.setenv("COUVERTURE_CACHE", str(tmp_path / "cache"))
    grid = _demo_grid(demo, tmp_path)
    seen = {}

    def fake_report(diagnostic, out, **kwargs):
        seen["d"] = diagnostic
        out.write_bytes(b"%PDF")
        return out

    monkeypatch.setattr(report, "build_report", fake_report)
    code = main(["rapport", "--reseau", str(grid), "--bandes", "10,20", "--out", str(tmp_path / "r.pdf")])
    assert code == 0
    d = seen["d"]
    assert d.acces["mode"] == "route" and d.acces["unite"].startswith("minutes en voiture")
    assert "temps_min" in d.unites.columns and "dans_bande_20" in d.unites.columns


def test_scenario_with_road_access_says_straight_line(demo, tmp_path, monkeypatch):
    from couverture.analysis.diagnostic import diagnose
    from couverture.analysis.travel import RouteAccess
    from couverture.io.network import road_network
    from couverture.params import Parameters, Scenario

    monkeypatch.setenv("COUVERTURE_CACHE", str(tmp_path / "cache"))
    net = road_network(_demo_grid(demo, tmp_path), territory=demo)
    d = diagnose(demo, Parameters(scenario=Scenario(k=1)), acces=RouteAccess(net, (10.0, 20.0)), evolution=False)
    assert len(d.scenarios) == 1 and d.scenarios.attrs["mesure"] == "vol_d_oiseau"
    assert "vol d'oiseau" in d.scenarios.attrs["note_acces"]
    assert "mesure" not in diagnose(demo, Parameters(scenario=Scenario(k=1)), evolution=False).scenarios.attrs
