"""Benchmark of the PDF report: size and build time of the demonstration's report.

Builds ``couverture rapport`` on the bundled demonstration (the analysis of
``data/demo/couverture.toml``: 134 communes and arrondissements, 136 fictitious
structures, ZVS, convention, a siting scenario) and prints, as a Markdown table
(French labels, for the README): the time of the diagnostic, of the HTML and
its maps, of the WeasyPrint layout and of the whole build; the number of
pages; the file size; whether two builds give the same bytes. Checks the
targets: under 10 MB, under 60 s.

Usage::

    python benchmarks/bench_report.py [--out maps/diagnostic-demo.pdf] [--repeat 2]

Run it on an otherwise idle machine: the figures are wall-clock times (the
CPU time of the whole build is printed too, as it depends less on the load).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

TARGET_MB = 10.0
TARGET_S = 60.0


def _fmt(x: float, d: int = 1) -> str:
    return f"{x:,.{d}f}".replace(",", "\u202f").replace(".", ",")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="PDF à écrire (défaut : dossier temporaire)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=2,
        help="nombre de constructions (la plus rapide est retenue)",
    )
    args = parser.parse_args(argv)

    import pypdf
    import weasyprint

    from couverture._resources import data_path
    from couverture.analysis.diagnostic import diagnose
    from couverture.config import load_config
    from couverture.report import build_report, report_html

    out = args.out or Path(tempfile.mkdtemp(prefix="bench-rapport-")) / "diagnostic.pdf"
    totals, diags, htmls, digests, cpus = [], [], [], [], []
    for _ in range(max(1, args.repeat)):
        t0 = time.perf_counter()
        c0 = time.process_time()
        config = load_config(data_path("demo", "couverture.toml"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            territory = config.territory()
        d = diagnose(territory, config.parametres)
        t1 = time.perf_counter()
        build_report(d, out)
        t2 = time.perf_counter()
        cpus.append(time.process_time() - c0)
        diags.append(t1 - t0)
        totals.append(t2 - t0)
        digests.append(hashlib.sha256(out.read_bytes()).hexdigest())
        t3 = time.perf_counter()
        report_html(d)
        htmls.append(time.perf_counter() - t3)
    best = min(range(len(totals)), key=totals.__getitem__)
    size_mb = out.stat().st_size / 1024**2
    pages = len(pypdf.PdfReader(out).pages)
    layout = totals[best] - diags[best] - htmls[best]
    rows = [
        ("Diagnostic (analyse de la démonstration)", f"{_fmt(diags[best])} s"),
        ("HTML et cartes SVG (matplotlib)", f"{_fmt(htmls[best])} s"),
        ("Mise en page PDF (WeasyPrint)", f"{_fmt(layout)} s"),
        (
            "Total `couverture rapport` (hors démarrage de Python)",
            f"{_fmt(totals[best])} s",
        ),
        (
            "Temps processeur du total (indépendant de la charge de la machine)",
            f"{_fmt(cpus[best])} s",
        ),
        ("Pages (A4)", str(pages)),
        ("Taille du fichier", f"{_fmt(size_mb, 2)} Mo"),
        (
            "Deux constructions, mêmes octets",
            "oui" if len(set(digests)) == 1 else "NON",
        ),
    ]
    print(
        f"Machine : {platform.processor() or platform.machine()}, {os.cpu_count()} cœurs ; Python {platform.python_version()} ; "
        f"WeasyPrint {weasyprint.__version__} ; meilleure de {len(totals)} constructions\n"
    )
    print("| Mesure | Valeur |\n|---|---|")
    for k, v in rows:
        print(f"| {k} | {v} |")
    ok = size_mb < TARGET_MB and totals[best] < TARGET_S and len(set(digests)) == 1
    print(
        f"\nObjectifs : < {_fmt(TARGET_MB, 0)} Mo, < {_fmt(TARGET_S, 0)} s, octets identiques : {'atteints' if ok else 'NON ATTEINTS'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
