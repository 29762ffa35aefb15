import pytest

from transactions.categorizer import taxonomy
from transactions.categorizer.errors import UnknownCategory


def test_counts_match_plaid_pfc_v2():
    assert len(taxonomy.primary_categories()) == 18
    assert len(taxonomy.detailed_categories()) == 123
    assert len(set(taxonomy.detailed_categories())) == 123


@pytest.mark.parametrize(
    "name",
    [
        "FOOD_AND_DRINK_COFFEE",
        "INCOME_SALARY",
        "LOAN_DISBURSEMENTS_BNPL",
        "OTHER_OTHER",
        "TRANSFER_OUT_WIRE",
        "BANK_FEES_LATE_FEES",
        "FOOD_AND_DRINK_RESTAURANT",
    ],
)
def test_known_names(name):
    assert taxonomy.is_detailed(name)


@pytest.mark.parametrize(
    "wrong", ["FOOD_AND_DRINK_RESTAURANTS", "TRANSPORTATION_TAXI", "INCOME_WAGES", ""]
)
def test_names_used_wrongly_elsewhere_are_rejected(wrong):
    assert not taxonomy.is_detailed(wrong)
    with pytest.raises(UnknownCategory, match="unknown detailed category"):
        taxonomy.validate_detailed(wrong)


def test_primary_of_every_detailed_is_its_prefix():
    primaries = set(taxonomy.primary_categories())
    for detailed in taxonomy.detailed_categories():
        primary = taxonomy.primary_of(detailed)
        assert primary in primaries
        assert detailed == "OTHER_OTHER" or detailed.startswith(primary + "_")
    assert {"LOAN_DISBURSEMENTS", "OTHER"} <= primaries


def test_primary_of_unknown_raises():
    with pytest.raises(UnknownCategory):
        taxonomy.primary_of("NOT_A_CATEGORY")
