"""Write the test fixtures that need particular bytes: encodings and XLSX workbooks.

The plain UTF-8 CSV and GeoJSON fixtures are written by hand next to these.
Files are byte-for-byte reproducible (fixed workbook dates).
Run: python tests/data/make_fixtures.py
"""

import datetime as dt
import zipfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

HERE = Path(__file__).parent
FIXED = dt.datetime(2024, 2, 1, 12, 0, 0)
GREY = PatternFill("solid", fgColor="DDDDDD")


def write(path: Path, text: str, encoding: str, newline: str = "\r\n") -> None:
    path.write_bytes(text.replace("\n", newline).encode(encoding))


def save(wb: Workbook, path: Path) -> None:
    wb.properties.created = FIXED
    wb.properties.modified = FIXED
    wb.save(path)
    # fixed timestamps inside the zip so that the file is reproducible
    entries = []
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            entries.append((info.filename, z.read(info.filename)))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(2024, 2, 1, 12, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)


def trailing_empty_rows(ws, first: int, last: int, ncol: int) -> None:
    """Rows that exist in the file (styled cells, blank strings) but hold nothing."""
    for r in range(first, last + 1):
        for c in range(1, ncol + 1):
            cell = ws.cell(row=r, column=c)
            cell.fill = GREY
        ws.cell(row=r, column=1, value=" ")


# ---------------------------------------------------------------- structures (CSV encodings)
S = HERE / "structures"
write(
    S / "semicolon_bom_comma.csv",
    "N° agrément;Nom de la structure;Type de structure;Code INSEE;Latitude;Longitude;Date d'agrément;Capacité\n"
    "13-CS-001;Centre social de la Canebière;Centre Social;13201;43,2977;5,3810;23/01/2012;10\n"
    "13-EVS-002;Espace de Vie Sociale d'Aubagne;Espace de Vie Sociale;13005;43,2927;5,5708;2019-09-01;2,5\n",
    "utf-8-sig",
)
write(
    S / "tab_cp1252.txt",
    "N° agrément\tNom\tCatégorie\tCode commune\tLat\tLng\n"
    "AG-14\tCentre social Léo Lagrange — Saint-Barthélemy\tCentre social\t13214\t43,3342\t5,3950\n"
    "AG-32\tEspace de vie sociale d'Éguilles\tEspace de vie sociale\t13032\t43,5450\t5,3500\n",
    "cp1252",
)

# ---------------------------------------------------------------- structures (XLSX)
wb = Workbook()
ws = wb.active
ws.title = "Structures"
ws["A1"] = "Centres sociaux et EVS agréés — CAF des Bouches-du-Rhône (extraction 2024)"
ws["A1"].font = Font(bold=True, size=14)
ws.merge_cells("A1:G1")
ws.append([])  # row 2 empty
ws.append(["N° agrément", "Nom de la structure", "Type", "Code INSEE", "Latitude", "Longitude", "Date d'agrément"])
ws.append(
    [12345.0, "Centre social Saint-Barthélemy", "Centre social", 13214.0, 43.3342, 5.3950, dt.datetime(2012, 1, 23)]
)
ws.append(["X-2", "EVS d'Éguilles", "EVS", 13032, 43.5450, 5.3500, "01/09/2019"])
ws.append(["X-3", "EVS au code inconnu", "EVS", 99999.0, None, None, None])
trailing_empty_rows(ws, 7, 9, 7)
save(wb, S / "structures.xlsx")

# ---------------------------------------------------------------- zones (XLSX)
Z = HERE / "zones"
wb = Workbook()
ws = wb.active
ws.title = "ZVS"
ws["A1"] = "Zones de vie sociale 2024"
ws.merge_cells("A1:B1")
ws.append(["N° agrément", "Communes"])
ws.append(["CS-A", 13001.0])
ws.append(["CS-A", "13032"])
ws.append(["EVS-B", "13004 ; 13097"])
trailing_empty_rows(ws, 6, 8, 2)
save(wb, Z / "zvs.xlsx")

# ---------------------------------------------------------------- tables
T = HERE / "tables"
write(
    T / "title_rows.csv",
    "Liste des centres sociaux – extraction du 01/02/2024\n"
    "\n"
    "Code INSEE;Nom;Commentaire;\n"
    '13001;Aix-en-Provence;"sur deux\n'
    'lignes";\n'
    ";;;\n"
    "13004;Arles;Très bien;\n"
    "\n",
    "cp1252",
)
write(T / "utf16_tab.txt", "\ufeffCode INSEE\tNom\n13001\tAix-en-Provence\n13004\tArles\n", "utf-16-le")

wb = Workbook()
notes = wb.active
notes.title = "Lisez-moi"
notes["A1"] = "Ce classeur liste les structures agréées."
notes["A2"] = "Source : CAF des Bouches-du-Rhône"
ws = wb.create_sheet("Données")
ws["A1"] = "Département des Bouches-du-Rhône"
ws.merge_cells("A1:D1")
ws["A2"] = "Structures d'animation de la vie sociale"
ws.merge_cells("A2:D2")
ws.append(["Code INSEE", "Nom", "Capacité", "Date d'agrément"])
ws.append([13001.0, "Aix-en-Provence", 12.5, dt.datetime(2012, 1, 23)])
ws.append([13004, "Arles", 3, None])
ws.append([None, None, None, "2020-05-04"])
trailing_empty_rows(ws, 7, 10, 4)
save(wb, T / "table.xlsx")

print("fixtures written")
