"""Write spreadsheets shaped like real CAF and Département exports (tests/test_cli.py reads them).

Real files come from business software and spreadsheets: ``;`` separator,
Windows-1252, decimal comma, a title row (merged across the columns in a
workbook) above the header, trailing empty rows, codes typed as numbers,
coordinates in Lambert-93 for some rows and WGS84 for others. The structures
are FICTITIOUS; every position is the representative point of a real commune
of the 13 (point_on_surface of the bundled contour), so the commune a row must
land in is the one whose code the row carries.

Run: python tests/data/real/make_files.py
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import openpyxl
import shapely
from openpyxl.styles import Alignment, Border, Font, Side

HERE = Path(__file__).parent
ROOT = HERE.parents[2]


def main() -> None:
    src = gpd.read_file(ROOT / "data" / "communes" / "communes-13.geojson").to_crs(2154)
    src["pt"] = shapely.point_on_surface(src.geometry.to_numpy())
    by_code = src.set_index("code_insee")

    def l93(code: str) -> tuple[float, float]:
        p = by_code.loc[code, "pt"]
        return round(p.x, 1), round(p.y, 1)

    def wgs(code: str) -> tuple[float, float]:
        p = gpd.GeoSeries([by_code.loc[code, "pt"]], crs=2154).to_crs(4326).iloc[0]
        return round(p.y, 6), round(p.x, 6)  # lat, lon

    def comma(v: float) -> str:
        return f"{v}".replace(".", ",")

    # --------------------------------------------------------------------------- 1. CAF CSV (cp1252)
    # id, name, type as written by the CAF, code as exported, commune, cp, coordinates kind
    caf_rows = [
        (
            "AVS-13-0001",
            "Centre social Les Amandiers",
            "Animation globale et coordination",
            "13001",
            "Aix-en-Provence",
            "13090",
            "l93",
        ),
        ("AVS-13-0002", "Espace de vie sociale L’Oustau", "Animation locale", "13004.0", "Arles", "13200", "wgs"),
        ("AVS-13-0003", "Centre socio-culturel Œuvre du Port", "Centre social", "13056", "Martigues", "13500", "l93"),
        (
            "AVS-13-0004",
            "Centre social de la Busserine – Agora",
            "AGC",
            "13055",
            "Marseille",
            "13014",
            "wgs",
        ),  # 13055 + point in the 14e
        ("AVS-13-0005", "EVS Les Cigales", "EVS", "13103", "Salon-de-Provence", "13300", "wgs"),
        ("AVS-13-0006", "Centre social Château-Vert", "Centre social", "13005", "Aubagne", "13400", "l93"),
        (
            "AVS-13-0007",
            "Espace de vie sociale du Vieux Moulin",
            "Espace de vie sociale",
            "13072",
            "Peynier",
            "13790",
            "none",
        ),
    ]
    lines = [
        "CAF des Bouches-du-Rhône - Structures de l'animation de la vie sociale agréées au 01/01/2025;;;;;;;;;;;",
        ";;;;;;;;;;;",
        "N° agrément;Nom de l'équipement;Type d'agrément;Code INSEE;Commune;Code postal;X (Lambert 93);Y (Lambert 93);Latitude;Longitude;Capacité (places);Date d'agrément",
    ]
    for k, (ident, nom, typ, code, commune, cp, kind) in enumerate(caf_rows):
        real = code.split(".")[0] if code != "13055" else "13214"
        x = y = lat = lon = ""
        if kind == "l93":
            x, y = (comma(v) for v in l93(real))
        elif kind == "wgs":
            lat, lon = (comma(v) for v in wgs(real))
        date = f"{(k * 4) % 28 + 1:02d}/{(k * 5) % 12 + 1:02d}/20{10 + k:02d}"
        lines.append(";".join([ident, nom, typ, code, commune, cp, x, y, lat, lon, str(10 + k), date]))
    lines += [";;;;;;;;;;;"] * 3
    (HERE / "caf13-agrements-2025.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))

    # --------------------------------------------------------------------------- 2. Département XLSX
    thin = Side(style="thin")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Structures AVS"
    header = [
        "Identifiant",
        "Nom de la structure",
        "Type",
        "Code commune",
        "Commune",
        "Code postal",
        "Coordonnée X",
        "Coordonnée Y",
        "Date d'agrément",
        "Capacité",
    ]
    ws.append(["Département des Bouches-du-Rhône - Direction de la cohésion sociale"] + [None] * 9)
    ws.append(["Centres sociaux et espaces de vie sociale - état au 31/12/2024"] + [None] * 9)
    ws.merge_cells("A1:J1")
    ws.merge_cells("A2:J2")
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.append([None] * 10)
    ws.append(header)
    dep_rows = [
        # id, name, type, code (number), commune, cp (number), coordinates (Lambert or WGS84 in the same columns)
        (1001, "Centre social Saint-Mitre", "Centre Social", 13047, "Istres", 13800, "l93"),
        (1002, "Centre social La Pinède", "centre social", 13028, "La Ciotat", 13600, "wgs"),
        (1003, "EVS La Passerelle", "E.V.S.", 13063, "Miramas", 13140, "wgs"),
        (
            1004,
            "Centre social du Jas de Bouffan",
            "Centre social",
            None,
            "Aix-en-Provence",
            13090,
            "none",
        ),  # postal code only
        (1005, "Espace de vie sociale Les Oliviers", "Espace de Vie Sociale", 13117, "Vitrolles", 13127, "l93"),
        (1006, "Centre social Belle de Mai", "CS", 13203, "Marseille 3e Arrondissement", 13003, "wgs"),
    ]
    for k, (ident, nom, typ, code, commune, cp, kind) in enumerate(dep_rows):
        x = y = None
        if kind == "l93":
            x, y = l93(str(code))
        elif kind == "wgs":
            lat, lon = wgs(str(code))
            x, y = lon, lat  # the same columns hold degrees for these rows
        ws.append([ident, nom, typ, code, commune, cp, x, y, dt.datetime(2015 + k, 1 + k, 10), 8 + k])
    for row in ws.iter_rows(min_row=4, max_row=ws.max_row):
        for cell in row:
            cell.border = Border(top=thin, bottom=thin, left=thin, right=thin)
    # trailing "empty" rows: formatted cells and empty strings, as spreadsheets leave them
    for r in range(ws.max_row + 1, ws.max_row + 4):
        for c in range(1, 11):
            ws.cell(row=r, column=c).border = Border(bottom=thin)
        ws.cell(row=r, column=2, value="")
    wb.properties.created = dt.datetime(2025, 1, 1)
    wb.properties.modified = dt.datetime(2025, 1, 1)
    wb.save(HERE / "departement13-structures.xlsx")

    # ZVS of the Département's structures: one (structure, commune) pair per row, codes as numbers
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "ZVS"
    ws.append(["Zones de vie sociale - Département des Bouches-du-Rhône", None])
    ws.merge_cells("A1:B1")
    ws.append(["Identifiant", "Code commune"])
    for ident, codes in [
        (1001, [13047]),
        (1002, [13028, 13022]),
        (1003, [13063, 13044]),
        (1004, [13001]),
        (1005, [13117]),
        (1006, [13203, 13202]),
    ]:
        for code in codes:
            ws.append([ident, code])
    ws.append([None, None])
    ws.append([None, ""])
    wb.properties.created = dt.datetime(2025, 1, 1)
    wb.properties.modified = dt.datetime(2025, 1, 1)
    wb.save(HERE / "departement13-zvs.xlsx")

    # --------------------------------------------------------------------------- refused files
    # no type column
    (HERE / "caf13-sans-type.csv").write_bytes(
        "N° agrément;Nom de l'équipement;Code INSEE\r\nAVS-1;Centre social Les Amandiers;13001\r\n".encode("cp1252")
    )
    # every structure in the Vaucluse (84), outside the 13
    vaucluse = [
        ("V1", "Centre social d'Avignon", "CS", "43,9493", "4,8055"),
        ("V2", "Centre social de Carpentras", "CS", "44,0556", "5,0481"),
        ("V3", "EVS d'Orange", "EVS", "44,1381", "4,8075"),
    ]
    (HERE / "caf84-structures.csv").write_bytes(
        ("Identifiant;Nom;Type;Latitude;Longitude\r\n" + "".join(";".join(r) + "\r\n" for r in vaucluse)).encode(
            "cp1252"
        )
    )
    # commune codes of the Vaucluse only, no coordinates
    (HERE / "caf13-codes-inconnus.csv").write_bytes(
        "Identifiant;Nom;Type;Code INSEE\r\nU1;Centre social A;CS;84007\r\nU2;EVS B;EVS;84031\r\n".encode("cp1252")
    )
    # a file with rows to fix: one good row, three rejected, one accepted with the coordinates swapped
    lat1, lon1 = wgs("13001")
    lat2, lon2 = wgs("13103")
    to_fix = [
        ("OK1", "Centre social Les Amandiers", "CS", "13001", comma(lat1), comma(lon1)),
        ("M1", "Centre social de Marseille", "Centre social", "13055", "", ""),
        ("A1", "Projet familles du centre", "ACF", "13004", "", ""),
        ("V1", "Centre social d'Avignon", "CS", "84007", "43,9493", "4,8055"),
        ("S1", "EVS Les Cigales", "EVS", "13103", comma(lon2), comma(lat2)),
    ]
    (HERE / "caf13-lignes-a-corriger.csv").write_bytes(
        (
            "Identifiant;Nom;Type;Code INSEE;Latitude;Longitude\r\n" + "".join(";".join(r) + "\r\n" for r in to_fix)
        ).encode("cp1252")
    )
    # header only
    (HERE / "caf13-vide.csv").write_bytes(
        "N° agrément;Nom de l'équipement;Type d'agrément;Code INSEE\r\n;;;\r\n".encode("cp1252")
    )
    # an old binary Excel file (only its signature matters: the format is refused)
    (HERE / "caf13-agrements.xls").write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 504)
    # Lambert-93 points in a GeoPackage whose layer has no CRS
    g = gpd.GeoDataFrame(
        {"identifiant": ["G1"], "nom": ["Centre social"], "type": ["CS"]},
        geometry=[shapely.Point(*l93("13001"))],
        crs=None,
    )
    g.to_file(HERE / "structures-sans-crs.gpkg", driver="GPKG", layer="structures")
    print("written:", sorted(p.name for p in HERE.iterdir() if p.suffix != ".py"))


if __name__ == "__main__":
    main()
