"""Each inhabitant of the fine units is counted once at every level (commune, EPCI, ZVS, QPV)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point, box

from couverture.analysis.levels import aggregate
from couverture.analysis.units import HORS_ZVS, unit_levels
from couverture.io.grid import read_grid
from couverture.io.qpv import read_qpv

E0, N0 = 3_926_000, 2_270_000


def case():
    rng = np.random.default_rng(7)
    ids = [f"CRS3035RES200mN{N0 + 200 * j}E{E0 + 200 * i}" for i in range(20) for j in range(15)]
    t = pd.DataFrame(
        {
            "idcar_200m": ids,
            "ind": np.round(rng.uniform(0, 80, len(ids)), 1),
            "men_fmp": np.round(rng.uniform(0, 4, len(ids)), 1),
        }
    )
    # four communes cutting through cells, two EPCI
    xs = [E0 - 100, E0 + 1530, E0 + 2710, E0 + 3330, E0 + 4100]
    communes = gpd.GeoDataFrame(
        {
            "code_insee": ["13001", "13002", "13003", "13004"],
            "population": [3000, 2500, 1800, 2600],
            "epci": ["e1", "e1", "e2", "e2"],
        },
        geometry=[box(xs[i], N0 - 100, xs[i + 1], N0 + 3100) for i in range(4)],
        crs=3035,
    ).to_crs(2154)
    g = read_grid(t, communes)
    x0, y0, x1, y1 = g.total_bounds
    zones = gpd.GeoDataFrame(
        {"structure_id": ["CS1", "EVS1", "CS2"]},
        geometry=[
            Point(x0 + 800, y0 + 900).buffer(900),
            Point(x0 + 1500, y0 + 1200).buffer(700),
            Point(x1 - 700, y1 - 700).buffer(600),
        ],
        crs=2154,
    )
    qpv = read_qpv(
        gpd.GeoDataFrame(
            {"code_qp": ["QN01301M", "QN01302M"]},
            geometry=[box(x0 + 300, y0 + 300, x0 + 1300, y0 + 900), box(x0 + 1300, y0 + 300, x0 + 2500, y0 + 1500)],
            crs=2154,
        )
    )
    return g, communes, zones, qpv


def test_each_inhabitant_once_at_every_level():
    g, communes, zones, qpv = case()
    levels = unit_levels(g, communes=communes, zones=zones, qpv=qpv)
    assert list(levels.columns) == ["code_insee", "epci", "zvs", "code_qp"]
    total = g["population"].sum()
    assert total == communes["population"].sum()  # rescaled exactly
    pts = [Point(p.x, p.y) for p in g["point"]]
    for level in levels.columns:
        agg = aggregate(g, None, levels[level])
        assert agg["population"].sum() == total
        assert agg["population"].dtype == np.int64
    by_commune = aggregate(g, None, levels["code_insee"])["population"]
    assert by_commune.to_dict() == dict(zip(communes["code_insee"], communes["population"]))
    by_epci = aggregate(g, None, levels["epci"])["population"]
    assert by_epci.to_dict() == {"e1": 5500, "e2": 4400}
    # QPV and ZVS groups equal a brute-force point-in-polygon overlay
    by_qpv = aggregate(g, None, levels["code_qp"])["population"]
    for code, poly in zip(qpv.index, qpv.geometry):
        first = qpv.geometry.iloc[0]
        inside = [poly.covers(p) and (code == qpv.index[0] or not first.covers(p)) for p in pts]
        assert by_qpv[code] == g["population"].to_numpy()[inside].sum()
    by_zvs = aggregate(g, None, levels["zvs"])["population"]
    keys = [
        "; ".join(sorted(s for s, z in zip(zones["structure_id"], zones.geometry) if z.covers(p))) or HORS_ZVS
        for p in pts
    ]
    brute = pd.Series(g["population"].to_numpy()).groupby(keys).sum()
    assert by_zvs.sort_index().to_dict() == brute.sort_index().to_dict()
    # another demand is conserved too
    assert np.isclose(aggregate(g, None, levels["zvs"], demand_col="men_fmp")["population"].sum(), g["men_fmp"].sum())
