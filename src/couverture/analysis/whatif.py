"""What-if: add, move or close structures, change a ZVS, and compare every indicator.

:func:`what_if` applies the changes to a copy of the territory, runs the
whole diagnostic (:func:`~couverture.analysis.diagnostic.diagnose`: coverage
by the ZVS, zones blanches, distances, 2SFCA accessibility, equity) before
and after, and returns a :class:`WhatIf` holding

- ``comparaison``: one row per indicator (``indicateur``, ``avant``,
  ``apres``, ``ecart``, ``unite``);
- ``unites``: the per-unit values before and after;
- ``changements``: the list of changes applied;
- :func:`couverture.maps.whatif.whatif_map`: two maps side by side with the same classes
  (``WhatIf.carte``: deprecated alias).

Nothing is recomputed here: the numbers are the diagnostic's.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import Point, box
>>> from couverture.territory import Territory
>>> communes = gpd.GeoDataFrame(
...     {"code_insee": ["01001", "01002", "01003"], "nom": ["A", "B", "C"],
...      "population": [1000, 500, 200]},
...     geometry=[box(0, 0, 4000, 4000), box(4000, 0, 8000, 4000), box(8000, 0, 20000, 4000)],
...     crs=2154)
>>> structures = gpd.GeoDataFrame(
...     {"structure_id": ["CS1"], "nom": ["Centre"], "type": ["CS"], "code_insee": ["01001"]},
...     geometry=[Point(2000, 2000)], crs=2154)
>>> zones = gpd.GeoDataFrame({"structure_id": ["CS1"], "communes": [["01001"]]},
...                          geometry=[box(0, 0, 4000, 4000)], crs=2154)
>>> t = Territory(communes, structures, zones, name="Essai")
>>> w = what_if(t, add=pd.DataFrame({"code_insee": ["01003"]}),
...             zones_changes={"CS1": {"ajouter": ["01002"]}})
>>> w.comparaison.set_index("indicateur").loc["Population en zone blanche (hors ZVS)",
...                                           ["avant", "apres", "ecart"]].tolist()
[700.0, 0.0, -700.0]
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from ..params import Parameters
from ..territory import Territory
from .changes import INDICES_EQUITE, apply_changes, as_territory, attachments_to_changes, compare  # noqa: F401  (re-exported)

logger = logging.getLogger(__name__)

__all__ = ["what_if", "WhatIf", "attachments_to_changes"]

#: Per-unit columns of the diagnostic compared unit by unit.
COLONNES_UNITES = ("n_zones", "couvert", "distance_m", "distance_cs_m", "acces_2sfca", "dans_rayon")


# --------------------------------------------------------------------------- result
@dataclass
class WhatIf:
    """Before/after of a scenario (see :func:`what_if`).

    Attributes
    ----------
    avant, apres : Diagnostic
        The diagnostics of the territory before and after the changes.
    comparaison : DataFrame
        ``indicateur``, ``avant``, ``apres``, ``ecart`` (after − before), ``unite``.
    changements : DataFrame
        ``action`` (ajout, déplacement, fermeture, zone), ``structure_id``, ``detail``.
    """

    avant: Any
    apres: Any
    comparaison: pd.DataFrame
    changements: pd.DataFrame
    params: Parameters | None = None
    _unites: gpd.GeoDataFrame | None = field(default=None, repr=False)

    @property
    def territoire(self) -> Territory:
        """The territory after the changes."""
        return self.apres.territory

    @property
    def unites(self) -> gpd.GeoDataFrame:
        """Per unit: ``code_insee``, ``nom``, ``population`` and, for each of
        ``n_zones``, ``couvert``, ``distance_m``, ``distance_cs_m``,
        ``acces_2sfca``, ``dans_rayon``: ``<col>_avant``, ``<col>_apres`` and
        (numbers) ``<col>_ecart``."""
        if self._unites is None:
            a, b = self.avant.unites, self.apres.unites
            keep = [c for c in ("code_insee", "nom", "population") if c in a.columns]
            out = pd.DataFrame(a[keep].copy())
            for col in COLONNES_UNITES:
                if col in a.columns and col in b.columns:
                    out[f"{col}_avant"] = a[col].to_numpy()
                    out[f"{col}_apres"] = b[col].to_numpy()
                    if a[col].dtype != bool:
                        out[f"{col}_ecart"] = b[col].to_numpy(dtype=float) - a[col].to_numpy(dtype=float)
            self._unites = gpd.GeoDataFrame(out, geometry=a.geometry.values, crs=a.crs)
        return self._unites

    @property
    def parametres(self) -> Parameters | None:
        """Deprecated alias of :attr:`params`."""
        warnings.warn("WhatIf.parametres est obsolète : utilisez WhatIf.params", DeprecationWarning, stacklevel=2)
        return self.params

    def carte(self, column: str = "distance_km", **kwargs: Any) -> Any:
        """Deprecated: :func:`couverture.maps.whatif.whatif_map` (same arguments)."""
        warnings.warn(
            "WhatIf.carte est obsolète : utilisez couverture.maps.whatif_map(w, column, ...)",
            DeprecationWarning,
            stacklevel=2,
        )
        from ..maps.whatif import whatif_map  # deprecated path: the only upward import, removed next release

        return whatif_map(self, column, **kwargs)

    def _repr_html_(self) -> str:
        import html

        rows = "".join(
            "<tr>"
            + "".join(
                f"<td style='text-align:{'left' if j in (0, 4) else 'right'}'>{html.escape(_fmt(v))}</td>"
                for j, v in enumerate(r)
            )
            + "</tr>"
            for r in self.comparaison[["indicateur", "avant", "apres", "ecart", "unite"]].itertuples(index=False)
        )
        head = "".join(f"<th>{h}</th>" for h in ("Indicateur", "Avant", "Après", "Écart", "Unité"))
        return f"<div><h4>Scénario : avant / après</h4><table><tr>{head}</tr>{rows}</table></div>"


def _fmt(v: Any) -> str:
    if isinstance(v, (float, np.floating)):
        if not np.isfinite(v):
            return ""
        if float(v).is_integer() and abs(float(v)) >= 100:
            return f"{v:,.0f}".replace(",", "\u202f")
        return f"{v:,.3f}".rstrip("0").rstrip(".").replace(",", "\u202f").replace(".", ",")
    return str(v)


_UNSET: Any = object()


def _renamed(new: Any, old: Any, old_name: str, new_name: str) -> Any:
    if old is not _UNSET:
        warnings.warn(f"what_if({old_name}=...) est obsolète : utilisez {new_name}=", DeprecationWarning, stacklevel=3)
        return old
    return new


def _params_argument(params: Parameters | None, parametres: Parameters | None) -> Parameters | None:
    if parametres is not None:
        warnings.warn("what_if(parametres=...) est obsolète : utilisez params=", DeprecationWarning, stacklevel=3)
        return params if params is not None else parametres
    return params


# --------------------------------------------------------------------------- what_if
def what_if(
    territory: Territory | tuple | Mapping,
    *,
    add: pd.DataFrame | None = None,
    move: Mapping | pd.DataFrame | None = None,
    close: str | Iterable[str] | None = None,
    zones_changes: Mapping | pd.DataFrame | None = None,
    params: Parameters | None = None,
    new_type: str = "CS",
    new_zone: str | None = "commune",
    name: str | None = None,
    before: Any = None,
    parametres: Parameters | None = None,
    type_nouveau: Any = _UNSET,
    zone_nouvelle: Any = _UNSET,
) -> WhatIf:
    """Apply changes to a copy of the territory and compare every indicator before/after.

    Parameters
    ----------
    territory : Territory or (communes, structures, zones)
        The current situation (never modified).
    add : DataFrame or GeoDataFrame, optional
        New structures: a GeoDataFrame of points (the output of
        :func:`~couverture.analysis.scenarios.best_sites` works as is), or a
        table with ``code_insee`` (placed at the commune's analysis point).
        Optional columns ``structure_id`` (default ``NOUVEAU-01``...), ``nom``,
        ``type`` (default ``type_nouveau``), ``communes`` (the new ZVS: a list
        of codes or a ``"13001, 13002"`` cell), ``capacite``, ``date_agrement``.
    move : dict or DataFrame, optional
        ``{structure_id: destination}`` where the destination is a point, an
        ``(x, y)`` pair in the territory's CRS or a commune code; or a table
        with ``structure_id`` and geometry or ``code_insee``. The ZVS is kept.
    close : str or list of str, optional
        Structures closed (their ZVS disappear with them).
    zones_changes : dict or DataFrame, optional
        ``{structure_id: [codes]}`` replaces a ZVS by these units;
        ``{structure_id: {"ajouter": [...], "retirer": [...]}}`` edits it (units
        added or removed; works with zones given as polygons too). The
        result of ``propose_attachments`` is accepted (its attachments).
    params : Parameters, optional
        Radius, 2SFCA distance... of the diagnostic (defaults otherwise).
    new_type : {"CS", "EVS"}
        Type of added structures without a ``type`` column.
    new_zone : "commune" or None
        ZVS of an added structure without a ``communes`` column: its commune,
        or none.
    name : str, optional
        Name of the scenario's territory.
    before : Diagnostic, optional
        The diagnostic of ``territory`` when already computed (it is reused,
        with its parameters, instead of being computed again).
    parametres, type_nouveau, zone_nouvelle
        Deprecated names of ``params``, ``new_type`` and ``new_zone``.

    Returns
    -------
    WhatIf
        ``comparaison`` (indicateur, avant, apres, ecart, unite): the key
        figures of the diagnostic (coverage, zones blanches, distances), the
        mean 2SFCA accessibility and the equity indices (Gini, Theil,
        Atkinson) of the distance and of the 2SFCA, all weighted by
        population; ``unites`` (per unit); ``changements``; the map is
        :func:`couverture.maps.whatif.whatif_map`.

    Raises
    ------
    InputError
        Unknown structure or commune codes, an added id already used, bad
        types, unreadable destinations.

    Examples
    --------
    >>> from couverture.io.demo import load_demo
    >>> t = load_demo()
    >>> w = what_if(t, close=["DEMO-CS-001"])
    >>> row = w.comparaison.set_index("indicateur").loc["Centres sociaux"]
    >>> int(row["avant"]), int(row["apres"]), int(row["ecart"])
    (100, 99, -1)
    """
    from .diagnostic import EQUITY_INDICATORS, diagnose

    p = _params_argument(params, parametres)
    new_type = _renamed(new_type, type_nouveau, "type_nouveau", "new_type")
    new_zone = _renamed(new_zone, zone_nouvelle, "zone_nouvelle", "new_zone")
    t0 = as_territory(territory)
    t1, changements = apply_changes(
        t0,
        add=add,
        move=move,
        close=close,
        zones_changes=zones_changes,
        new_type=new_type,
        new_zone=new_zone,
        name=name,
    )
    avant = before if before is not None else diagnose(t0, p, evolution=False)
    apres = diagnose(t1, avant.params.with_scenario(k=0), evolution=False)
    comparaison = compare(avant, apres, EQUITY_INDICATORS)
    logger.info("what_if : %d changement(s) appliqué(s)", len(changements))
    return WhatIf(avant=avant, apres=apres, comparaison=comparaison, changements=changements, params=avant.params)
