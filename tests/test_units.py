from reporting import areas


def test_current_units_from_the_package() -> None:
    assert len(areas.provinces()) == 34
    assert areas.province(20).name == "Lạng Sơn"
    assert len(areas.communes()) == 3321
    assert all(c.province_code == 20 for c in areas.communes_of(20))


def test_commune_lookup_without_diacritics_or_prefix() -> None:
    for typed in ("huu lung", "xã Hữu Lũng", "Xa huu lung"):
        found = areas.find_communes(typed, province_code=20)
        assert [c.name for c in found] == ["Xã Hữu Lũng"]


def test_similar_names_offer_several_choices() -> None:
    found = areas.find_communes("huu", province_code=20)
    names = {c.name for c in found}
    assert {"Xã Hữu Lũng", "Xã Hữu Liên"} <= names


def test_merged_provinces_keep_their_former_province() -> None:
    vinh_long = areas.communes_of(86)
    former = {name for c in vinh_long for _, name in c.former_provinces}
    assert "Tỉnh Bến Tre" in former
    ben_tre = [c for c in vinh_long if 83 in c.former_province_codes]
    assert len(ben_tre) > 20
    an_giang = {name for c in areas.communes_of(91) for _, name in c.former_provinces}
    assert "Tỉnh Kiên Giang" in an_giang
