"""Benchmark of road travel times on a synthetic département-size network.

A grid of ``--side`` × ``--side`` nodes 150 m apart (default 400 × 400: a
60 km square, 160,000 nodes, 319,200 road lines, 638,400 directed edges once
one-way streets are removed from one direction), random speeds 20–90 km/h,
10 % one-way. In one run, side by side:

1. **Build**: ``road_network`` from the GeoDataFrame; from a GeoPackage file
   (first run, which writes the cache, and second run, which reads it); from
   an ``.osm.pbf`` of the same grid (pyosmium, what ``couverture`` uses)
   against pyrosm's ``get_network("driving")`` on the same file.
2. **Table** 150 structures × 300 units (``travel_times``) against bare
   ``scipy.sparse.csgraph.dijkstra`` from the 150 structure nodes,
   networkx (``single_source_dijkstra_path_length`` per structure, as a user
   would write it; measured on ``--nx-sample`` structures and extrapolated),
   igraph ``distances`` if installed, pandana ``shortest_path_lengths`` with
   ``--pandana`` (its contraction-hierarchy preparation takes minutes).
3. **Nearest structure** for 20,000 grid points (``nearest_time``) against
   bare csgraph ``min_only=True``, networkx
   ``multi_source_dijkstra_path_length`` (one run), igraph (virtual
   super-source).

Checks that every method gives the same minutes (1e-9 relative). Prints a
Markdown table (French labels).

Usage::

    python benchmarks/bench_travel.py            # a few minutes on 2 cores
    python benchmarks/bench_travel.py --side 200 # quicker
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy
import shapely
from scipy.sparse.csgraph import dijkstra

from couverture.analysis.travel import nearest_time, snap, travel_times
from couverture.io.network import road_network

STEP = 150.0


def timed(fn, repeat: int = 1):
    """Best wall time of ``repeat`` runs and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def grid_lines(side: int, seed: int = 0) -> gpd.GeoDataFrame:
    """Lines of a ``side`` × ``side`` grid, random speeds and one-ways (vectorised)."""
    rng = np.random.default_rng(seed)
    i, j = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    i, j = i.ravel(), j.ravel()
    h = i < side - 1
    v = j < side - 1
    a = np.r_[np.c_[i[h], j[h]], np.c_[i[v], j[v]]]
    b = np.r_[np.c_[i[h] + 1, j[h]], np.c_[i[v], j[v] + 1]]
    x0, y0 = 800_000.0, 6_250_000.0
    coords = np.stack([a * STEP + [x0, y0], b * STEP + [x0, y0]], axis=1)
    n = len(coords)
    sens = np.where(rng.random(n) < 0.1, "Sens direct", "Double sens")
    speed = rng.choice([20.0, 30.0, 50.0, 70.0, 90.0], size=n)
    return gpd.GeoDataFrame(
        {"vitesse_moyenne_vl": speed, "sens_de_circulation": sens},
        geometry=shapely.linestrings(coords),
        crs=2154,
    )


def write_pbf(lines: gpd.GeoDataFrame, path: Path) -> None:
    """The grid as an OSM file: one way per line, nodes shared at crossings."""
    import osmium
    from osmium.osm.mutable import Node, Way

    wgs = lines.to_crs(4326)
    ends = shapely.get_coordinates(lines.geometry.to_numpy()).reshape(-1, 2, 2)
    lonlat = shapely.get_coordinates(wgs.geometry.to_numpy()).reshape(-1, 2, 2)
    _, first, inv = np.unique(np.round(ends.reshape(-1, 2), 1), axis=0, return_index=True, return_inverse=True)
    ll = lonlat.reshape(-1, 2)[first]
    inv = inv.ravel().reshape(-1, 2) + 1
    speed = lines["vitesse_moyenne_vl"].to_numpy()
    oneway = lines["sens_de_circulation"].to_numpy() == "Sens direct"
    with osmium.SimpleWriter(str(path)) as w:
        for k, (lon, lat) in enumerate(ll):
            w.add_node(Node(id=k + 1, location=(float(lon), float(lat)), version=1))
        for k, (a, b) in enumerate(inv):
            tags = {"highway": "secondary", "maxspeed": str(int(speed[k]))}
            if oneway[k]:
                tags["oneway"] = "yes"
            w.add_way(Way(id=k + 1, nodes=[int(a), int(b)], tags=tags, version=1))


def points(n: int, side: int, seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, (side - 1) * STEP, (n, 2)) + [800_000.0, 6_250_000.0]
    return gpd.GeoDataFrame(geometry=shapely.points(xy), crs=2154)


def to_nx(net):
    import networkx as nx

    g = nx.DiGraph()
    g.add_weighted_edges_from(zip(net.src.tolist(), net.dst.tolist(), net.minutes.tolist()))
    return g


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--side", type=int, default=400)
    ap.add_argument("--nx-sample", type=int, default=10)
    ap.add_argument(
        "--pandana",
        action="store_true",
        help="also pandana (its preparation takes minutes)",
    )
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    rows: list[tuple[str, str, str]] = []

    def add(step, method, seconds, note=""):
        rows.append((step, method, f"{seconds:.2f} s" + (f" ({note})" if note else "")))
        print(f"{step:38s} {method:48s} {seconds:8.2f} s {note}", flush=True)

    lines = grid_lines(args.side)
    t, net = timed(lambda: road_network(lines, cache_dir=None))
    add(
        "Construction",
        f"couverture, GeoDataFrame ({len(lines):,} lignes)",
        t,
        f"{net.n_nodes:,} nœuds, {net.n_edges:,} arcs",
    )
    with tempfile.TemporaryDirectory() as tmp:
        gpkg = Path(tmp) / "troncon_de_route.gpkg"
        lines.to_file(gpkg, layer="troncon_de_route")
        cache = Path(tmp) / "cache"
        t, _ = timed(lambda: road_network(gpkg, cache_dir=cache))
        add("Construction", "couverture, GPKG 1er passage (lecture + cache)", t)
        t, again = timed(lambda: road_network(gpkg, cache_dir=cache))
        assert again.from_cache
        add("Construction", "couverture, GPKG 2e passage (cache)", t)
        pbf = Path(tmp) / "grille.osm.pbf"
        write_pbf(lines, pbf)
        t, osm = timed(lambda: road_network(pbf, crs="EPSG:2154", cache_dir=None))
        add(
            "Construction",
            "couverture, .osm.pbf (pyosmium)",
            t,
            f"{osm.n_edges:,} arcs",
        )
        try:
            import pyrosm

            def _pyrosm():
                return pyrosm.OSM(str(pbf)).get_network(network_type="driving", nodes=True)

            t, (_, edges) = timed(_pyrosm)
            add(
                "Construction",
                "pyrosm get_network(driving), même .osm.pbf",
                t,
                f"{len(edges):,} arcs",
            )
        except Exception as exc:  # pragma: no cover - optional
            print("pyrosm indisponible :", exc)

    rev = net.reverse()
    structures = points(150, args.side, 1)
    structures["structure_id"] = [f"S{k}" for k in range(150)]
    units = points(300, args.side, 2)
    units["code_insee"] = [f"{k:05d}" for k in range(300)]
    t_cv, table = timed(lambda: travel_times(net, units, structures), repeat=2)
    add("Table 150 × 300", "couverture travel_times", t_cv, f"{len(table):,} couples")
    s_nodes = snap(net, shapely.get_coordinates(structures.geometry)).node
    u_nodes = snap(net, shapely.get_coordinates(units.geometry)).node
    t_bare, bare = timed(lambda: dijkstra(rev, indices=s_nodes)[:, u_nodes], repeat=2)
    add("Table 150 × 300", "scipy csgraph.dijkstra nu (150 sources)", t_bare)
    legs = (
        snap(net, shapely.get_coordinates(units.geometry)).minutes[:, None]
        + snap(net, shapely.get_coordinates(structures.geometry)).minutes[None, :]
    )
    ref = bare.T + legs
    got = table.pivot(index="origin", columns="destination", values="cost")
    got = got.loc[units["code_insee"], structures["structure_id"]].to_numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-9)

    import networkx as nx

    g_nx = to_nx(net).reverse(copy=True)
    k = args.nx_sample

    def _nx_table():
        out = []
        for s in s_nodes[:k]:  # what a user writes: one Dijkstra per structure
            d = nx.single_source_dijkstra_path_length(g_nx, int(s), weight="weight")
            out.append([d.get(int(u), np.inf) for u in u_nodes])
        return np.array(out)

    t_nx, nx_tab = timed(_nx_table)
    np.testing.assert_allclose(nx_tab, bare[:k], rtol=1e-9)
    add(
        "Table 150 × 300",
        f"networkx (mesuré sur {k} structures, extrapolé)",
        t_nx * 150 / k,
    )
    try:
        import igraph as ig

        gi = ig.Graph(n=net.n_nodes, edges=np.c_[net.dst, net.src].tolist(), directed=True)
        gi.es["w"] = net.minutes.tolist()
        uu, uinv = np.unique(u_nodes, return_inverse=True)  # igraph refuses duplicate targets
        t, ig_tab = timed(
            lambda: np.array(gi.distances(source=s_nodes.tolist(), target=uu.tolist(), weights="w", mode="out"))[
                :, uinv
            ]
        )
        np.testing.assert_allclose(ig_tab, bare, rtol=1e-9)
        add("Table 150 × 300", "igraph distances", t)
    except ImportError:
        print("igraph non installé")
    try:
        if not args.pandana:
            raise ImportError
        import pandana

        def _pandana():
            nw = pandana.Network(
                pd.Series(net.x),
                pd.Series(net.y),
                pd.Series(net.dst),
                pd.Series(net.src),
                pd.DataFrame({"w": net.minutes}),
                twoway=False,
            )
            return nw

        t_pre, nw = timed(_pandana)
        o = np.repeat(s_nodes, len(u_nodes))
        d = np.tile(u_nodes, len(s_nodes))
        t, pd_tab = timed(lambda: np.asarray(nw.shortest_path_lengths(o, d)).reshape(len(s_nodes), -1))
        np.testing.assert_allclose(pd_tab, bare, rtol=2e-2)  # pandana rounds weights
        add(
            "Table 150 × 300",
            "pandana shortest_path_lengths",
            t,
            f"+ {t_pre:.1f} s de préparation (CH) ; temps arrondis, écart ≤ 1 %",
        )
    except ImportError:
        print("pandana non demandé (--pandana) ou non installé")

    grid = points(20_000, args.side, 3)
    t_cv, near = timed(lambda: nearest_time(net, grid, structures), repeat=2)
    add(
        "Plus proche, 20 000 points",
        "couverture nearest_time (rattachement des points compris)",
        t_cv,
    )
    t_bare, dmin = timed(lambda: dijkstra(rev, indices=s_nodes, min_only=True), repeat=2)
    add(
        "Plus proche, 20 000 points",
        "scipy csgraph.dijkstra min_only nu (temps seuls)",
        t_bare,
    )
    t_bare2, _ = timed(
        lambda: dijkstra(rev, indices=s_nodes, min_only=True, return_predecessors=True),
        repeat=2,
    )
    add(
        "Plus proche, 20 000 points",
        "scipy csgraph.dijkstra min_only nu (+ quelle structure)",
        t_bare2,
    )
    near_ref = dmin[snap(net, shapely.get_coordinates(grid.geometry)).node]
    legs = snap(net, shapely.get_coordinates(grid.geometry)).minutes
    assert np.all(near["minutes"].to_numpy() >= near_ref + legs - 1e-9)  # + each structure's own leg
    g_nodes = snap(net, shapely.get_coordinates(grid.geometry)).node
    t_nx, dn = timed(lambda: nx.multi_source_dijkstra_path_length(g_nx, set(s_nodes.tolist()), weight="weight"))
    np.testing.assert_allclose([dn[int(n)] for n in g_nodes], dmin[g_nodes], rtol=1e-9)
    add("Plus proche, 20 000 points", "networkx multi_source_dijkstra", t_nx)
    print(
        f"\nMachine : {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
        f"scipy {scipy.__version__}, networkx {nx.__version__}"
    )
    print("\n| Étape | Méthode | Temps |\n|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} |")


if __name__ == "__main__":
    main()
