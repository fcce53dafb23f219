"""Write a 40-row CAF export with postal addresses and the answers of a fake BAN for it.

``caf13-adresses.csv`` is shaped like a CAF list of agréments as a
spreadsheet exports it (Windows-1252, ``;``, a title row, addresses split into
« N° et voie », « Complément », « Code postal », « Ville », codes typed as
numbers), with no coordinates. The structures and their addresses are
FICTITIOUS. ``ban13-reponses.json`` is what the local test geocoder
(``tests/conftest.py``) answers for each query: a point inside the commune's
bundled contour (seeded), a score and a type chosen to exercise every
outcome: 31 rows placed at the address (29 house numbers, 2 streets), 3 scores
below 0.5, 2 municipality-only answers, 1 answer in another commune, 1 address
unknown to the geocoder, 2 rows without any address.

Run: python tests/data/real/make_geocodage.py
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

HERE = Path(__file__).parent
ROOT = HERE.parents[2]

STREETS = [
    "rue de la République",
    "avenue Jean Jaurès",
    "boulevard Gambetta",
    "chemin des Vignes",
    "place de la Mairie",
    "rue Victor Hugo",
    "allée des Pins",
    "avenue de la Gare",
    "rue Pasteur",
    "impasse des Lilas",
]
COMMUNES = [  # (INSEE code written by the CAF, postal code, town as written)
    ("13001", "13090", "AIX EN PROVENCE"),
    ("13001", "13100", "Aix-en-Provence"),
    ("13004", "13200", "ARLES"),
    ("13005", "13400", "Aubagne"),
    ("13028", "13600", "La Ciotat"),
    ("13047", "13800", "Istres"),
    ("13056", "13500", "Martigues"),
    ("13103", "13300", "Salon de Pce"),
    ("13117", "13127", "Vitrolles"),
    ("13055", "13003", "MARSEILLE"),
    ("13055", "13013", "Marseille"),
    ("13055", "13015", "MARSEILLE 15"),
    ("13039", "13270", "Fos-sur-Mer"),
    ("13077", "13110", "Port-de-Bouc"),
    ("13041", "13120", "Gardanne"),
]


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^0-9a-z]+", " ", text).strip()


def main() -> None:
    rng = np.random.default_rng(11)
    src = gpd.read_file(ROOT / "data" / "communes" / "communes-13.geojson").to_crs(2154).set_index("code_insee")
    arm = {"13003": "13203", "13013": "13213", "13015": "13215"}

    def point_in(code: str) -> tuple[float, float]:
        poly = src.loc[code, "geometry"]
        x0, y0, x1, y1 = poly.bounds
        while True:
            p = shapely.Point(rng.uniform(x0, x1), rng.uniform(y0, y1))
            if poly.contains(p):
                q = gpd.GeoSeries([p], crs=2154).to_crs(4326).iloc[0]
                return round(q.y, 6), round(q.x, 6)

    rows, answers = [], {}
    outcomes = ["housenumber"] * 29 + ["street"] * 2 + ["low"] * 3 + ["municipality"] * 2 + ["elsewhere", "unknown"]
    outcomes += ["none", "none"]
    for k, outcome in enumerate(outcomes):
        code, cp, town = COMMUNES[k % len(COMMUNES)]
        is_cs = k % 3 != 2
        num = 3 + 7 * k
        street = f"{num} {STREETS[k % len(STREETS)]}"
        complement = ["", "Bâtiment B", "Résidence Les Oliviers", ""][k % 4]
        if k == 5:  # address in the complement only (lieu-dit)
            street, complement = "", "Lieu-dit Les Plaines"
        if outcome == "none":
            street, complement = "", ""
        rows.append(
            {
                "N° agrément": f"AVS-13-1{k + 1:03d}",
                "Nom de l'équipement": f"{'Centre social' if is_cs else 'Espace de vie sociale'} n° {k + 1} (fictif)",
                "Type d'agrément": "Animation globale et coordination" if is_cs else "Animation locale",
                "N° et voie": street,
                "Complément": complement,
                "Code postal": cp,
                "Ville": town,
                "Code INSEE": str(int(code)),  # typed as a number by the spreadsheet
                "Date d'agrément": f"01/0{1 + k % 9}/20{10 + k % 14}",
            }
        )
        if outcome == "none":
            continue
        query = _norm(" ".join(x for x in ((street or complement), cp, town) if x))
        unit = arm.get(cp, code)
        label_town = "Marseille" if code == "13055" else src.loc[code, "nom"]
        lat, lon = point_in(unit)
        label = f"{street or complement} {cp} {label_town}"
        if outcome == "unknown":
            continue  # the geocoder does not know it: not-found
        ans = {
            "latitude": lat,
            "longitude": lon,
            "result_label": label,
            "result_score": round(rng.uniform(0.80, 0.97), 2),
            "result_type": "housenumber",
            "result_citycode": unit,
            "result_postcode": cp,
        }
        if outcome == "street":
            ans.update(
                result_type="street", result_score=0.71, result_label=f"{STREETS[k % len(STREETS)]} {cp} {label_town}"
            )
        elif outcome == "low":
            ans.update(result_score=[0.31, 0.42, 0.47][k % 3])
        elif outcome == "municipality":
            ans.update(result_type="municipality", result_score=0.62, result_label=label_town)
            ans["latitude"], ans["longitude"] = point_in(unit)
        elif outcome == "elsewhere":
            other = "13005" if unit != "13005" else "13001"
            ans["latitude"], ans["longitude"] = point_in(other)
            ans.update(result_citycode=other, result_label=f"{street} {src.loc[other, 'nom']}")
        answers[query] = ans
    header = list(rows[0])
    lines = [
        "CAF des Bouches-du-Rhône - Équipements AVS avec adresse au 01/09/2025" + ";" * (len(header) - 1),
        ";".join(header),
    ]
    lines += [";".join(r[h] for h in header) for r in rows]
    (HERE / "caf13-adresses.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    (HERE.parent / "geocodage").mkdir(exist_ok=True)
    (HERE.parent / "geocodage" / "ban13-reponses.json").write_text(
        json.dumps(answers, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
