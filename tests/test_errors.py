"""Tests of couverture.errors."""

from couverture.errors import InputError, Probleme, Rapport


def test_single_and_many_problems():
    one = InputError(Probleme("raison", fichier="f.csv", ligne=3, colonne="x"))
    assert str(one) == "f.csv, ligne 3, colonne « x » : raison"
    many = InputError([Probleme(f"p{i}", ligne=i) for i in range(60)])
    text = str(many)
    assert text.startswith("60 problèmes dans les données")
    assert "ligne 49 : p49" in text and "et 10 autres" in text
    assert len(many.problemes) == 60


def test_rapport_counts_and_frame():
    r = Rapport()
    r.erreur("rejetée", fichier="s.csv", ligne=2, colonne="type")
    r.avertissement("placée à la mairie", fichier="s.csv", ligne=3)
    other = Rapport()
    other.erreur("x")
    other.comptes["lues"] = 4
    r.extend(other)
    assert (r.n_erreurs, r.n_avertissements) == (2, 1)
    frame = r.to_frame()
    assert frame["ligne"].tolist()[:2] == [2, 3]
    assert r.comptes == {"lues": 4}
    assert "[ERREUR] s.csv, ligne 2, colonne « type » : rejetée" in r.texte()
