import pytest
from _support.categorizer_data import SIX

from transactions.categorizer.errors import InvalidTransaction
from transactions.categorizer.features import feature_row
from transactions.categorizer.normalize import brand_keys
from transactions.categorizer.training import merchant_split, split_groups, text_progress, train


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


def test_printed_variants_of_a_brand_share_a_split_unit():
    def brand(name):
        return {"merchant": name, "merchant_type": "brand"}

    pairs = [
        ("WHOLE FOODS MARKET", "WHOLEFDS MKT"),
        ("SPOTIFY", "SPOTIFY PREMIUM"),
        ("H&M", "H&M DE"),
        ("COSTA COFFEE", "COSTA COFFEE IE"),
        ("LIDL", "LIDL STIFTUNG"),
        ("AMAZON MARKETPLACE", "AMZN MKTP US"),
        ("The Home Depot", "HOME DEPOT"),
        ("Café Nero", "CAFE NERO"),
    ]
    for a, b in pairs:
        groups = split_groups([brand(a), brand(b)])
        assert groups[0] == groups[1], (a, b)
    assert len(set(split_groups([brand("STARBUCKS"), brand("TESCO STORES")]))) == 2
    assert brand_keys("") == ("",)


def test_local_businesses_with_the_same_trade_word_stay_separate_units():
    rows = [
        {"merchant": "BAECKEREI WEBER", "merchant_type": "local"},
        {"merchant": "BAECKEREI MUELLER", "merchant_type": "local"},
        {"merchant": "BAECKEREI WEBER", "merchant_type": "brand"},
    ]
    groups = split_groups(rows)
    assert groups[0] != groups[1]
    assert groups[0] == groups[2]  # the same printed name is one merchant, whatever its kind


def test_merchant_split_keeps_every_brand_family_on_one_side(corpus):
    train_idx, test_idx, _, _ = merchant_split(corpus, test_size=0.2, seed=0)
    groups = split_groups(corpus)
    assert not {groups[i] for i in train_idx} & {groups[i] for i in test_idx}

    def brands(idx):
        return {corpus[i]["merchant"] for i in idx if corpus[i]["merchant_type"] == "brand"}

    train_names, held = brands(train_idx), brands(test_idx)
    for name in ("COSTA COFFEE IE", "H&M DE", "SPOTIFY PREMIUM", "WHOLEFDS MKT"):
        family = {n for n in train_names | held if n.split()[0] == name.split()[0]}
        assert family <= train_names or family <= held, family


def test_a_correction_about_a_held_out_merchant_stays_out_of_the_evaluation_fit(small):
    _, test_idx, _, _ = merchant_split(small, test_size=0.2, seed=0)
    held_row = small[test_idx[0]]
    corrections = [
        {
            "description": held_row["description"],
            "amount": held_row["amount"],
            "payment_channel": held_row["payment_channel"],
            "category_detailed": held_row["category_detailed"],
        },
        {
            "description": "ZORBLAX QUANTUM EMPORIUM 0001 DALLAS TX",
            "amount": "-5.25",
            "payment_channel": "in store",
            "category_detailed": "BANK_FEES_OVERDRAFT_FEES",
        },
    ]
    _, report = train(small, extra_rows=corrections, refit_full=False)
    assert report["n_correction_rows"] == 2
    assert report["n_train_rows"] == len(merchant_split(small)[0]) + 1
