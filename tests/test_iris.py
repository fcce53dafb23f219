"""Tests of the IRIS reader (IGN CONTOURS-IRIS + INSEE population by IRIS)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

from couverture.errors import CouvertureWarning, InputError
from couverture.io.iris import read_iris


def contours(new=True) -> gpd.GeoDataFrame:
    codes = ["010040101", "010040102", "010050000"]
    cols = (
        ["code_insee", "nom_commune", "iris", "code_iris", "nom_iris", "type_iris"]
        if new
        else ["INSEE_COM", "NOM_COM", "IRIS", "CODE_IRIS", "NOM_IRIS", "TYP_IRIS"]
    )
    data = {
        cols[0]: [c[:5] for c in codes],
        cols[1]: ["Ambérieu-en-Bugey"] * 2 + ["Ambérieux"],
        cols[2]: [c[5:] for c in codes],
        cols[3]: codes,
        cols[4]: ["Centre", "Gare", "Ambérieux-en-Dombes"],
        cols[5]: ["H", "H", "Z"],
    }
    return gpd.GeoDataFrame(
        data, geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000), box(2000, 0, 3000, 1000)], crs=2154
    )


CSV = (
    "IRIS;REG;DEP;UU2020;COM;LIBCOM;TRIRIS;GRD_QUART;LIBIRIS;TYP_IRIS;MODIF_IRIS;LAB_IRIS;"
    "P21_POP;P21_POP0002;P21_POP0305;P21_POP0610;P21_POP1117\n"
    "010040101;84;01;01302;01004;Ambérieu-en-Bugey;;0100401;Centre;H;00;1;2143,6;70,1;60;150;200\n"
    "010040102;84;01;01302;01004;Ambérieu-en-Bugey;;0100401;Gare;H;00;1;3016;90;81;200;310\n"
    "010050000;84;01;00000;01005;Ambérieux-en-Dombes;;0100500;Ambérieux;Z;00;5;1876;50;40;120;180\n"
)


@pytest.mark.parametrize("new", [True, False])
def test_join_both_contour_releases(tmp_path, new):
    p = tmp_path / "base-ic-evol-struct-pop-2021.csv"
    p.write_text(CSV, encoding="utf-8")
    g = read_iris(contours(new), p)
    assert g.index.tolist() == ["010040101", "010040102", "010050000"]
    assert g["population"].tolist() == [2143.6, 3016.0, 1876.0]
    assert g["P21_POP1117"].sum() == 690
    assert g["type_iris"].tolist() == ["H", "H", "Z"]
    assert g["code_insee"].tolist() == ["01004", "01004", "01005"]
    assert len(g.attrs["non_apparies"]) == 0


def test_unmatched_reported(tmp_path):
    p = tmp_path / "pop.csv"
    lines = CSV.splitlines()
    p.write_text("\n".join([lines[0], lines[1], lines[3], lines[2].replace("010040102", "010040199")]) + "\n")
    with pytest.warns(CouvertureWarning, match="1 contour.*1 ligne"):
        g = read_iris(contours(), p)
    rep = g.attrs["non_apparies"]
    assert rep.set_index("cote")["code_iris"].to_dict() == {"contours": "010040102", "populations": "010040199"}
    assert rep.loc[rep["cote"] == "populations", "ligne"].tolist() == [4]
    assert not g.loc["010040102", "population_connue"]
    assert np.isclose(g["population"].sum(), 2143.6 + 1876)


def test_bad_population_names_line(tmp_path):
    p = tmp_path / "pop.csv"
    p.write_text(CSV.replace("3016;", "n.d.;"))
    with pytest.raises(InputError, match=r"P21_POP.*lignes 3"):
        read_iris(contours(), p)
