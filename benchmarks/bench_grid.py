"""National 200 m grid benchmark: couverture against a bare reference and geopandas.

Builds a synthetic Filosofi-like grid of about 2.3 million inhabited 200 m
cells over metropolitan France (cells given by their INSEE identifier
``CRS3035RES200mN…E…`` and read with :func:`couverture.read_grid`: squares
built in EPSG:3035 and reprojected to Lambert-93), 4,000 seeded structures at
random cells and synthetic ZVS (5 km discs), then times side by side in one
run:

- couverture's functions on the cells (nearest distance, population within
  10 km, 2SFCA at 20 km, ZVS coverage by point and by area share, zones
  blanches, exact aggregation to communes);
- the bare reference (cKDTree, scipy.sparse) from the same frames;
- the geopandas paths (buffer + union + sjoin, sjoin + groupby, dissolve +
  sjoin, overlay + area on a département-sized subset).

Prints a Markdown table (French, for the README), the peak memory of the
process, and whether each of the four target computations ran in under a
minute.

Usage::

    python benchmarks/bench_grid.py [--cells 2300000] [--structures 4000] [--out F.md]
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, os.path.dirname(__file__))
from bench_national import (
    fmt_n,
    fmt_s,
    fmt_x,
    gpd_buffer_union_sjoin,
    gpd_dissolve_sjoin,
    gpd_overlay_share,
    gpd_sjoin_count,
    ref_2sfca,
    ref_nearest,
    ref_within,
    rss_mb,
)

from couverture.analysis.coverage import zone_coverage, zones_blanches
from couverture.analysis.fca import two_step_fca
from couverture.analysis.levels import aggregate
from couverture.analysis.proximity import nearest_distance, population_within
from couverture.io.grid import read_grid

CRS = "EPSG:2154"
CPU: dict[int, float] = {}  # id(result) -> process CPU seconds (robust on a shared, loaded machine)


def timed(func, *args, **kwargs):
    """(wall seconds, result); the process CPU time is kept for the table."""
    import time

    t0, c0 = time.perf_counter(), time.process_time()
    result = func(*args, **kwargs)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    timed.last_cpu = cpu
    return wall, result


def make_grid_table(n_cells: int, seed: int) -> pd.DataFrame:
    """INSEE-like table: ``idcar_200m``, ``lcog_geo``, ``ind``, ``men_fmp`` for clustered cells.

    34,782 synthetic communes of 4 km (20 x 20 cells); each gets a lognormal
    number of inhabited cells (capped at 400) drawn without replacement.
    """
    rng = np.random.default_rng(seed)
    nx, ny = 186, 187
    n_com = nx * ny
    w = rng.lognormal(0.0, 1.0, n_com)
    k = np.minimum(np.round(w / w.sum() * n_cells).astype(np.int64), 400)
    keys = rng.random((n_com, 400), dtype=np.float32)
    rank = np.argsort(np.argsort(keys, axis=1), axis=1)
    com, cell = np.nonzero(rank < k[:, None])
    east = 3_300_000 + (com % nx) * 4000 + (cell % 20) * 200
    north = 2_100_000 + (com // nx) * 4000 + (cell // 20) * 200
    ids = (
        pd.Series(north.astype(str), dtype=object).radd("CRS3035RES200mN")
        + "E"
        + pd.Series(east.astype(str), dtype=object)
    )
    ind = np.round(rng.lognormal(2.5, 1.0, len(com)), 1)
    return pd.DataFrame(
        {
            "idcar_200m": ids.to_numpy(),
            "lcog_geo": pd.Series(com).map("{:05d}".format).to_numpy(),
            "ind": ind,
            "men_fmp": np.round(ind * rng.uniform(0.0, 0.08, len(com)), 1),
        }
    )


def make_structures(grid: gpd.GeoDataFrame, n: int, seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(grid), n, replace=False))
    xy = shapely.get_coordinates(grid["point"].values)[idx] + rng.normal(0, 300.0, (n, 2))
    return gpd.GeoDataFrame(
        {
            "structure_id": [f"S{i:04d}" for i in range(n)],
            "type": np.where(rng.random(n) < 0.58, "CS", "EVS"),
            "code_insee": grid["code_insee"].to_numpy()[idx],
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=CRS,
    )


def best_cpu(func, *args, repeat=5, **kwargs) -> float:
    """Best process CPU time (s) over ``repeat`` runs."""
    import time

    best = float("inf")
    for _ in range(repeat):
        c0 = time.process_time()
        func(*args, **kwargs)
        best = min(best, time.process_time() - c0)
    return best


def commune_scale(seed: int) -> str:
    """ZVS coverage at commune scale (34,782 synthetic communes) against sjoin and overlay, CPU time."""
    from bench_national import load_communes
    from bench_national import make_structures as structures_at_communes

    communes, _ = load_communes(None, True, seed)
    s = structures_at_communes(communes, 3700, seed)
    z = gpd.GeoDataFrame(
        {"structure_id": s["structure_id"].to_numpy()}, geometry=s.buffer(5000, quad_segs=8).values, crs=CRS
    )
    pt = best_cpu(zone_coverage, communes, z, method="point", details=False)
    sj = best_cpu(gpd_sjoin_count, communes, z)
    sf = best_cpu(zone_coverage, communes, z, method="surface", details=False, repeat=3)
    ov = best_cpu(gpd_overlay_share, communes, z, repeat=2)
    return (
        f"couverture par point {fmt_s(pt)} s CPU contre {fmt_s(sj)} s pour sjoin + groupby "
        f"({fmt_x(sj / pt)}) ; par surface {fmt_s(sf)} s contre {fmt_s(ov)} s pour l'overlay "
        f"({fmt_x(ov / sf)}) — meilleur de plusieurs passages."
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", type=int, default=2_300_000)
    parser.add_argument("--structures", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--radius", type=float, default=10_000.0)
    parser.add_argument("--fca", type=float, default=20_000.0)
    parser.add_argument("--zone-radius", type=float, default=5_000.0)
    parser.add_argument(
        "--subset",
        type=int,
        default=100_000,
        help="cells of the subset for the slow geopandas paths (overlay, dissolve)",
    )
    parser.add_argument("--out")
    parser.add_argument(
        "--communes", action="store_true", help="only the commune-scale coverage comparison (34,782 synthetic communes)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    warnings.simplefilter("ignore")
    if args.communes:
        print(commune_scale(args.seed))
        return 0

    rows: list[tuple[str, str, float, str]] = []

    def add(calc, method, t, remark=""):
        cpu = timed.last_cpu
        rows.append((calc, method, t, cpu, remark))
        print(f"  {calc:<30} {method:<50} {t:8.3f} s  CPU {cpu:8.3f} s {remark}", file=sys.stderr, flush=True)

    _t_tab, table = timed(make_grid_table, args.cells, args.seed)
    t_read, grid = timed(read_grid, table)
    del table
    n = len(grid)
    grid["population"] = grid["population"].to_numpy()
    add("Lecture de la grille", "couverture `read_grid` (identifiants -> carrés L93)", t_read, f"{fmt_n(n)} carreaux")
    structures = make_structures(grid, args.structures, args.seed)
    zones = gpd.GeoDataFrame(
        {"structure_id": structures["structure_id"].to_numpy()},
        geometry=structures.buffer(args.zone_radius, quad_segs=8).values,
        crs=CRS,
    )
    # the reference functions of bench_national read ``point`` and ``population``
    pop_total = grid["population"].sum()

    calc = "Distance à la plus proche"
    t_near, d_cv = timed(nearest_distance, grid, structures)
    add(calc, "couverture `nearest_distance`", t_near)
    t, d_ref = timed(ref_nearest, grid, structures)
    add(calc, "référence nue (cKDTree)", t)
    assert np.allclose(d_cv.to_numpy(), d_ref)

    calc = f"Population à {args.radius / 1000:g} km"
    t_within, p_cv = timed(population_within, grid, structures, args.radius)
    add(
        calc,
        "couverture `population_within`",
        t_within,
        (f"{100 * p_cv / pop_total:.1f} % des habitants").replace(".", ","),
    )
    t, _ = timed(ref_within, grid, structures, args.radius)
    add(calc, "référence nue (cKDTree)", t)
    t, _ = timed(gpd_buffer_union_sjoin, grid, structures, args.radius)
    add(calc, "geopandas, buffer + union + sjoin", t)

    calc = f"2SFCA à {args.fca / 1000:g} km"
    t_fca, a_cv = timed(two_step_fca, grid, structures, args.fca)
    add(calc, "couverture `two_step_fca`", t_fca)
    t, a_ref = timed(ref_2sfca, grid, structures, args.fca)
    add(calc, "référence nue (cKDTree + scipy.sparse)", t)
    assert np.allclose(a_cv.to_numpy(), a_ref, rtol=1e-9)
    t, _ = timed(two_step_fca, grid, structures, args.fca, demand_col="men_fmp")
    add(calc, 'couverture `two_step_fca(demand_col="men_fmp")`', t, "demande : familles monoparentales")

    calc = "Couverture ZVS (point)"
    t_pt, covp = timed(zone_coverage, grid, zones, method="point", details=False)
    c_pt = timed.last_cpu
    add(calc, 'couverture `zone_coverage(method="point")`', t_pt)
    t_sj, n_sj = timed(gpd_sjoin_count, grid, zones)
    add(calc, "geopandas, sjoin + groupby", t_sj, f"couverture {fmt_x(timed.last_cpu / c_pt)} plus rapide (CPU)")
    assert (n_sj == covp["n_zones"].to_numpy()).all()
    t_dis, c_dis = timed(gpd_dissolve_sjoin, grid, zones)
    add(calc, "geopandas, dissolve + sjoin", t_dis, f"couverture {fmt_x(timed.last_cpu / c_pt)} plus rapide (CPU)")
    assert (c_dis == covp["couvert"].to_numpy()).all()

    calc = "Couverture ZVS (surface)"
    t_sf, _covs = timed(zone_coverage, grid, zones, method="surface", details=False)
    add(calc, 'couverture `zone_coverage(method="surface")`', t_sf)
    sub = grid.iloc[: args.subset]
    zsub = zones[zones.intersects(shapely.box(*sub.total_bounds))]
    t_sfs, covs_sub = timed(zone_coverage, sub, zsub, method="surface", details=False)
    c_sfs = timed.last_cpu
    add(calc, f"couverture, sous-ensemble de {fmt_n(len(sub))} carreaux", t_sfs)
    t_ov, n_ov = timed(gpd_overlay_share, sub.assign(code_insee=sub.index.to_numpy()), zsub)
    add(
        calc,
        "geopandas overlay, même sous-ensemble",
        t_ov,
        f"couverture {fmt_x(timed.last_cpu / c_sfs)} plus rapide (CPU)",
    )
    assert (n_ov == covs_sub["n_zones"].to_numpy()).all()

    calc = "Zones blanches"
    t_zb, zb = timed(zones_blanches, sub, covs_sub, structures)
    add(calc, f"couverture `zones_blanches`, {fmt_n(len(sub))} carreaux", t_zb, f"{len(zb)} zones")

    calc = "Agrégation exacte"
    t_agg, agg = timed(aggregate, grid, pd.DataFrame({"couvert": covp["couvert"], "distance_m": d_cv}), "code_insee")
    add(calc, "couverture `aggregate` carreaux -> communes", t_agg, f"{fmt_n(len(agg))} communes")
    assert np.isclose(agg["population"].sum(), pop_total)
    peak = rss_mb()

    lines = [
        f"Grille synthétique de {fmt_n(n)} carreaux de 200 m (identifiants INSEE, EPSG:3035 -> "
        f"Lambert-93), {fmt_n(len(structures))} structures, ZVS = disques de "
        f"{args.zone_radius / 1000:g} km ; Python {platform.python_version()}, "
        f"{os.cpu_count()} cœurs.",
        "",
        "| Calcul | Méthode | Temps (s) | Temps CPU (s) | Remarque |",
        "|---|---|---:|---:|---|",
    ]
    lines += [f"| {c} | {m} | {fmt_s(t)} | {fmt_s(cpu)} | {r} |" for c, m, t, cpu, r in rows]
    targets = {"distance": t_near, "population à portée": t_within, "2SFCA": t_fca, "couverture ZVS (point)": t_pt}
    lines += [
        "",
        f"Mémoire de pointe du processus : {fmt_n(peak)} Mo (cible < 4 096 Mo) : "
        + ("atteinte" if peak < 4096 else "MANQUÉE"),
    ]
    lines += [f"- {k} : {fmt_s(v)} s (< 60 s : {'oui' if v < 60 else 'NON'})" for k, v in targets.items()]
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
