"""Build the national table of current populations shipped with couverture.

Reproducible: fetches ``@etalab/decoupage-administratif@6.0.0`` with
``npm pack`` into a temporary folder (at build time, never at run time),
checks the tarball's integrity, reads ``data/communes.json`` and
``data/epci.json`` and writes:

- ``data/communes/populations-cog2026.csv.gz``: one row per commune actuelle,
  arrondissement municipal, commune déléguée and commune associée of the COG
  2026 with ``code``, ``type`` (COM, ARM, COMD, COMA), ``nom``,
  ``departement``, ``population`` (population municipale; empty for the
  communes déléguées and associées, which the package does not count),
  ``epci`` (SIREN of its 2026 EPCI à fiscalité propre), ``epci_nom``,
  ``chef_lieu`` (commune actuelle of a COMD / COMA, parent commune of an
  ARM), ``codes_postaux`` and ``anciens_codes`` (space-separated);
- ``data/communes/populations-cog2026.json``: where it comes from (package,
  version, integrity, licence) and the vintage, as the package's sources state it.

The gzip stream has no timestamp: the same package gives the same bytes.

Run: python scripts/build_populations.py   (needs npm and network access)
"""

from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import io
import json
import subprocess
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "communes"
PACKAGE = "@etalab/decoupage-administratif"
VERSION = "6.0.0"
TYPES = {
    "commune-actuelle": "COM",
    "arrondissement-municipal": "ARM",
    "commune-deleguee": "COMD",
    "commune-associee": "COMA",
}
COLUMNS = [
    "code",
    "type",
    "nom",
    "departement",
    "population",
    "epci",
    "epci_nom",
    "chef_lieu",
    "codes_postaux",
    "anciens_codes",
]


def fetch(tmp: Path) -> tuple[dict, list, list, str]:
    """npm pack the package in ``tmp``; (package.json, communes, epci, integrity)."""
    name = (
        subprocess.run(
            ["npm", "pack", f"{PACKAGE}@{VERSION}", "--silent"], cwd=tmp, check=True, capture_output=True, text=True
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    data = (tmp / name).read_bytes()
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:

        def load(member: str):
            return json.load(tar.extractfile(f"package/{member}"))

        return load("package.json"), load("data/communes.json"), load("data/epci.json"), integrity


def rows(communes: list, epci: list) -> list[dict]:
    """The table's rows, sorted by code then type."""
    epci_of = {}
    for e in epci:
        for m in e.get("membres", []):
            epci_of[m["code"]] = (e["code"], e["nom"])
    out = []
    for c in communes:
        kind = TYPES[c["type"]]
        parent = c.get("chefLieu") or c.get("commune") or ""
        e_code, e_nom = epci_of.get(c["code"] if kind == "COM" else parent, ("", ""))
        pop = c.get("population")
        out.append(
            {
                "code": c["code"],
                "type": kind,
                "nom": c["nom"],
                "departement": c["departement"],
                "population": "" if pop is None else str(int(pop)),
                "epci": e_code,
                "epci_nom": e_nom,
                "chef_lieu": parent,
                "codes_postaux": " ".join(c.get("codesPostaux", [])),
                "anciens_codes": " ".join(c.get("anciensCodes", [])),
            }
        )
    order = {"COM": 0, "ARM": 1, "COMD": 2, "COMA": 3}
    return sorted(out, key=lambda r: (r["code"], order[r["type"]], r["nom"]))


def write(table: list[dict], meta: dict) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(table)
    raw = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
        gz.write(buf.getvalue().encode("utf-8"))
    (OUT / "populations-cog2026.csv.gz").write_bytes(raw.getvalue())
    (OUT / "populations-cog2026.json").write_text(
        json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        package, communes, epci, integrity = fetch(Path(tmp))
    if package.get("version") != VERSION:
        raise SystemExit(f"{PACKAGE} : version {package.get('version')} au lieu de {VERSION}")
    table = rows(communes, epci)
    actual = [r for r in table if r["type"] == "COM"]
    meta = {
        "paquet": PACKAGE,
        "version": VERSION,
        "integrite": integrity,
        "cog": 2026,
        "licence_donnees": "Licence Ouverte (Etalab)",
        "source_population": "INSEE, populations de référence (populations légales) 2023, publiées en décembre 2025",
        "millesime": 2023,
        "en_vigueur": "2026-01-01",
        "libelle": "population municipale, millésime 2023, en vigueur au 1er janvier 2026",
        "exceptions": {
            "976": "Mayotte : population municipale du recensement de 2017 (INSEE), la seule publiée par commune "
            "dans le paquet",
        },
        "lignes": len(table),
        "communes_actuelles": len(actual),
        "population_communes_actuelles": sum(int(r["population"] or 0) for r in actual),
    }
    write(table, meta)
    print(f"{len(table)} lignes ({len(actual)} communes actuelles) ; {integrity}")


if __name__ == "__main__":
    main()
