import pytest
from _support.categorizer_data import SIX

from transactions.categorizer.errors import InvalidTransaction
from transactions.categorizer.features import feature_row
from transactions.categorizer.training import merchant_split, text_progress, train


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


def test_merchant_split_never_puts_a_merchant_on_both_sides(corpus):
    train_idx, test_idx, b_held, b_seen = merchant_split(corpus, test_size=0.2, seed=0)
    merchants = [r["merchant"] for r in corpus]
    train_m = {merchants[i] for i in train_idx}
    test_m = {merchants[i] for i in test_idx}
    assert train_m and test_m and not train_m & test_m
    assert {merchants[i] for i in b_held} <= test_m
    assert not {merchants[i] for i in b_seen} & test_m
    assert all(corpus[i]["family"] == "A" for i in list(train_idx) + list(test_idx))
    assert all(corpus[i]["family"] == "B" for i in list(b_held) + list(b_seen))
    assert len(train_idx) + len(test_idx) + len(b_held) + len(b_seen) == len(corpus)
    assert 0.15 < len(test_m) / (len(train_m) + len(test_m)) < 0.25
