"""Build the fictitious demonstration network of data/demo/ (structures and ZVS).

Usage::

    python scripts/build_demo.py

The network is FICTITIOUS: names, places, dates and zones are invented. Only
the commune boundaries and populations (data/communes/) are real. It is made
plausible with the public figures of ../shared/FACTS.md: about a hundred
centres sociaux, mostly urban, about sixty of them in Marseille and more in
its northern arrondissements, some in middle-sized towns of the west; a few
dozen espaces de vie sociale in smaller communes. Some rural communes are
left outside any ZVS and some zones overlap, so that every analysis has
something to show.

The output is deterministic (seeded) and byte-for-byte reproducible.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from couverture.io.communes import read_communes  # noqa: E402

SEED = 13
N_CS_MARSEILLE = 60
N_CS_AILLEURS = 40
N_EVS_MARSEILLE = 6
N_EVS_AILLEURS = 30

# federations and their share of the centres sociaux (FACTS.md, about 2014)
GESTIONNAIRES = [
    ("Union des centres sociaux 13 (adhérent)", 52),
    ("IFAC", 10),
    ("CCO", 9),
    ("Léo Lagrange", 8),
    ("Ligue de l'enseignement - FAIL", 8),
    ("Association non fédérée", 6),
]
# invented neighbourhood names, used with the commune's name
QUARTIERS = [
    "des Oliviers",
    "des Cigales",
    "du Canal",
    "de la Gare",
    "des Platanes",
    "du Moulin",
    "des Lavandes",
    "de la Fontaine",
    "du Soleil",
    "des Pins",
    "de l'Étang",
    "des Tilleuls",
    "du Vallon",
    "des Calanques",
    "de la Colline",
    "des Amandiers",
    "du Lavoir",
    "des Micocouliers",
    "de la Treille",
    "des Garrigues",
    "du Castellas",
    "des Salins",
    "de la Roquette",
    "du Mistral",
]
# northern arrondissements of Marseille (many QPV): more centres there
MARSEILLE_POIDS = {"13201": 1.3, "13202": 1.3, "13203": 1.8, "13213": 1.5, "13214": 1.8, "13215": 1.8, "13216": 1.5}


def largest_remainder(weights: np.ndarray, total: int, minimum: int = 0) -> np.ndarray:
    """Integer allocation of ``total`` proportional to ``weights`` (Hamilton method)."""
    base = np.full(len(weights), minimum)
    rest = total - base.sum()
    share = weights / weights.sum() * rest
    alloc = np.floor(share).astype(int)
    order = np.argsort(-(share - alloc), kind="stable")
    alloc[order[: rest - alloc.sum()]] += 1
    return base + alloc


def random_points_in(polygons: np.ndarray, centres: np.ndarray, spread: np.ndarray, rng) -> np.ndarray:
    """One random point per polygon, near its centre (Gaussian jitter), inside the polygon."""
    n = len(polygons)
    out = np.array(centres, dtype=object)
    pending = np.arange(n)
    cx, cy = shapely.get_x(centres), shapely.get_y(centres)
    for _ in range(50):  # rejection sampling, vectorised over the pending points
        if not len(pending):
            break
        x = cx[pending] + rng.normal(0, spread[pending])
        y = cy[pending] + rng.normal(0, spread[pending])
        cand = shapely.points(x, y)
        ok = shapely.contains(polygons[pending], cand)
        out[pending[ok]] = cand[ok]
        pending = pending[~ok]
    return out


def main() -> int:
    rng = np.random.default_rng(SEED)
    communes = read_communes(ROOT / "data" / "communes" / "communes-13.geojson")
    marseille = communes["code_insee"].str.startswith("132").to_numpy()
    pop = communes["population"].to_numpy().astype(float)

    # ---- centres sociaux: where -------------------------------------------------
    cs_count = np.zeros(len(communes), dtype=int)
    w = pop[marseille] * communes.loc[marseille, "code_insee"].map(MARSEILLE_POIDS).fillna(1.0).to_numpy()
    cs_count[marseille] = largest_remainder(w, N_CS_MARSEILLE, minimum=1)
    towns = (~marseille) & (pop >= 9000)
    cs_count[towns] = largest_remainder(pop[towns], N_CS_AILLEURS, minimum=1)

    # ---- espaces de vie sociale ---------------------------------------------------
    evs_count = np.zeros(len(communes), dtype=int)
    villages = np.flatnonzero((~marseille) & (cs_count == 0) & (pop >= 1500))
    pick = rng.choice(
        villages, size=min(N_EVS_AILLEURS, len(villages)), replace=False, p=pop[villages] / pop[villages].sum()
    )
    evs_count[pick] = 1
    arr = np.flatnonzero(marseille)
    evs_count[rng.choice(arr, size=N_EVS_MARSEILLE, replace=False)] += 1

    kinds = np.concatenate([np.repeat("CS", cs_count.sum()), np.repeat("EVS", evs_count.sum())])
    unit = np.concatenate(
        [np.repeat(np.arange(len(communes)), cs_count), np.repeat(np.arange(len(communes)), evs_count)]
    )
    n = len(unit)

    # ---- positions: near the town hall, inside the unit ---------------------------
    polys = communes.geometry.to_numpy()[unit]
    centres = communes["point"].to_numpy()[unit]
    spread = np.where(marseille[unit], 900.0, 700.0)
    points = random_points_in(polys, centres, spread, rng)
    lonlat = shapely.transform(points, lambda xy: xy)  # copy
    from pyproj import Transformer

    tr = Transformer.from_crs(communes.crs, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(shapely.get_x(points), shapely.get_y(points))
    del lonlat

    # ---- attributes ------------------------------------------------------------------
    order = np.lexsort((kinds, communes["code_insee"].to_numpy()[unit]))
    unit, kinds, lon, lat = unit[order], kinds[order], lon[order], lat[order]
    code = communes["code_insee"].to_numpy()[unit]
    nom_commune = communes["nom"].to_numpy()[unit]
    quartier = rng.choice(QUARTIERS, size=n)
    prefix = np.where(kinds == "CS", "Centre social", "Espace de vie sociale")
    nom = [f"{p} {q} – {c} (fictif)" for p, q, c in zip(prefix, quartier, nom_commune)]
    ids = [f"DEMO-{k}-{i:03d}" for i, k in enumerate(kinds, start=1)]
    names, weights = zip(*GESTIONNAIRES)
    gest = rng.choice(list(names), size=n, p=np.array(weights) / sum(weights))
    gest = np.where(kinds == "EVS", "Association locale", gest)
    year = np.where(kinds == "CS", rng.integers(1990, 2024, size=n), rng.integers(2012, 2025, size=n))
    month = rng.integers(1, 13, size=n)
    date = [f"{d:02d}/{m:02d}/{y}" for d, m, y in zip(rng.integers(1, 29, size=n), month, year)]
    capacite = np.where(kinds == "CS", rng.integers(4, 13, size=n), rng.integers(1, 4, size=n))
    # a few EVS given only by their commune code (as in real files): no coordinates
    no_coords = (kinds == "EVS") & (rng.random(n) < 0.15) & ~np.char.startswith(code.astype(str), "132")
    lat_txt = np.where(no_coords, "", np.char.replace(np.round(lat, 6).astype(str), ".", ","))
    lon_txt = np.where(no_coords, "", np.char.replace(np.round(lon, 6).astype(str), ".", ","))

    structures = pd.DataFrame(
        {
            "N° agrément": ids,
            "Nom de la structure": nom,
            "Type": np.where(kinds == "CS", "Centre social", "Espace de vie sociale"),
            "Code INSEE": code,
            "Commune": nom_commune,
            "Latitude": lat_txt,
            "Longitude": lon_txt,
            "Gestionnaire": gest,
            "Date d'agrément": date,
            "Capacité": capacite,
        }
    )

    # ---- zones de vie sociale --------------------------------------------------------
    # each structure's ZVS: its own unit, plus neighbouring small communes whose
    # nearest structure it is (kept with probability 0.65), plus, in Marseille,
    # sometimes a neighbouring arrondissement (overlaps).
    geoms = communes.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=100.0)
    ne = left != right
    left, right = left[ne], right[ne]
    from scipy.spatial import cKDTree

    xy = np.column_stack([shapely.get_x(points[order]), shapely.get_y(points[order])])
    cpts = communes["point"].to_numpy()
    _, nearest = cKDTree(xy).query(np.column_stack([shapely.get_x(cpts), shapely.get_y(cpts)]))
    has_structure = np.bincount(unit, minlength=len(communes)) > 0
    zones = {i: [code[i]] for i in range(n)}
    small = (~marseille) & (~has_structure) & (pop < 8000)
    candidates = np.flatnonzero(small)
    keep = rng.random(len(candidates)) < 0.65
    for c in candidates[keep]:
        s = nearest[c]
        # attach only when the commune touches the structure's commune or one already attached
        attached = {u for u in zones[s]}
        neigh = set(communes["code_insee"].to_numpy()[right[left == c]])
        if neigh & attached:
            zones[s].append(communes["code_insee"].iloc[c])
    # second pass so that chains of small communes can attach
    for c in candidates[keep]:
        s = nearest[c]
        cc = communes["code_insee"].iloc[c]
        if cc not in zones[s] and set(communes["code_insee"].to_numpy()[right[left == c]]) & set(zones[s]):
            zones[s].append(cc)
    m_struct = np.flatnonzero(np.char.startswith(code.astype(str), "132") & (kinds == "CS"))
    for s in rng.choice(m_struct, size=12, replace=False):
        neigh = communes["code_insee"].to_numpy()[right[left == unit[s]]]
        neigh = neigh[np.char.startswith(neigh.astype(str), "132")]
        if len(neigh):
            zones[s].append(str(rng.choice(neigh)))
    zvs = pd.DataFrame({"structure_id": ids, "communes": [", ".join(sorted(set(zones[i]))) for i in range(n)]})

    out = ROOT / "data" / "demo"
    out.mkdir(parents=True, exist_ok=True)
    structures.to_csv(out / "structures.csv", sep=";", index=False, encoding="utf-8-sig", lineterminator="\r\n")
    zvs.to_csv(out / "zvs.csv", sep=";", index=False, encoding="utf-8", lineterminator="\n")
    covered = {c for v in zones.values() for c in v}
    print(
        f"{(kinds == 'CS').sum()} centres sociaux, {(kinds == 'EVS').sum()} EVS, "
        f"{len(covered)} unités couvertes sur {len(communes)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
