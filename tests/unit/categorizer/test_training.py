import pytest

from transactions.categorizer.errors import InvalidTransaction
from transactions.categorizer.features import feature_row
from transactions.categorizer.training import text_progress, train

SIX = {
    "FOOD_AND_DRINK_COFFEE",
    "TRANSPORTATION_GAS",
    "INCOME_SALARY",
    "FOOD_AND_DRINK_GROCERIES",
    "BANK_FEES_OVERDRAFT_FEES",
    "RENT_AND_UTILITIES_WATER",
}


@pytest.fixture(scope="module")
def small(corpus):
    return [r for r in corpus if r["category_detailed"] in SIX]


def test_corrections_are_folded_into_training(small):
    corrections = [
        {
            "description": f"ZORBLAX QUANTUM EMPORIUM {n:04d} DALLAS TX",
            "amount": "-5.25",
            "payment_channel": "in store",
            "category_detailed": "BANK_FEES_OVERDRAFT_FEES",
        }
        for n in range(6)
    ]
    steps = []
    model, report = train(
        small,
        extra_rows=corrections,
        progress=lambda done, total, msg: steps.append((done, total, msg)),
    )
    assert report["n_correction_rows"] == 6
    assert steps[0][0] == 0 and steps[-1][:2] == (5, 5)
    row = feature_row("ZORBLAX QUANTUM EMPORIUM 9999 AUSTIN TX", "-5.25", "in store")
    assert model.predict([row])[0].detailed == "BANK_FEES_OVERDRAFT_FEES"
    assert model.version != report["evaluation_model_version"]


def test_bad_corpus_rows_are_named(small):
    bad = [dict(small[0]), dict(small[1], amount="ten")]
    with pytest.raises(InvalidTransaction, match="corpus row 2: amount"):
        train(bad)


def test_bad_test_size():
    with pytest.raises(ValueError, match="test_size"):
        train([], test_size=0.9)


def test_text_progress_bar(capsys):
    import sys

    show = text_progress(sys.stdout, width=10)
    show(1, 2, "half")
    show(2, 2, "done")
    out = capsys.readouterr().out
    assert "[#####-----] 1/2" in out and "[##########] 2/2" in out and out.endswith("\n")
