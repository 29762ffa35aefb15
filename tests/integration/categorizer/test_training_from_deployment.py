"""`nestegg categorizer train --from-deployment` folds users' hand-set categories into training,
read (and decrypted) from the real transactions database of the test deployment."""

import csv
import datetime as dt
import gzip
import uuid
from decimal import Decimal

import pytest
from _support.categorizer_data import SIX
from sqlalchemy import text

from common.db import transaction
from transactions.categorizer import cli
from transactions.categorizer.corpus_gen import CORPUS_COLUMNS, load_corpus
from transactions.categorizer.training import main_train
from transactions.correction_export import corrected_training_rows
from transactions.models import Transaction
from transactions.store import USER_CATEGORY_SOURCE, FieldKeys, write_details

# a made-up brand at a coffee-sized amount, which the corpus-only model calls coffee; users say
# it is their water utility (odd on purpose: only their corrections can teach that)
LABEL = "RENT_AND_UTILITIES_WATER"
BRAND = f"QVORTLE ZENTRIX {uuid.uuid4().hex[:6].upper()}"


@pytest.fixture(scope="module")
def factory(service_db):
    return service_db("transactions")


def add(session, keys, user_id, description, amount, category, source, *, split=False):
    row = Transaction(
        id=str(uuid.uuid4()),
        user_id=user_id,
        source="manual",
        account_id="acct-1",
        amount=Decimal(amount),
        iso_currency_code="USD",
        date=dt.date(2026, 11, 1),
        payment_channel="in store",
        category_primary=category.split("_")[0] if category else None,
        category_detailed=category,
        category_source=source,
        is_split=split,
        tags=[],
    )
    write_details(keys, row, {"original_description": description, "name": description}, None)
    session.add(row)
    return row


@pytest.fixture(scope="module")
def seeded(factory):
    keys = FieldKeys()
    alice, bob = f"u-{uuid.uuid4().hex[:8]}", f"u-{uuid.uuid4().hex[:8]}"
    coffee = LABEL
    with transaction(factory) as session:
        for n in range(3):  # the same line three times: one training row
            add(session, keys, alice, f"POS {BRAND} #0042", "-4.75", coffee, USER_CATEGORY_SOURCE)
        add(session, keys, bob, f"POS {BRAND} #0077", "-5.10", coffee, USER_CATEGORY_SOURCE)
        add(session, keys, bob, f"MODEL ONLY {BRAND}", "-9.00", coffee, "model")
        add(session, keys, bob, f"SPLIT {BRAND}", "-9.00", coffee, USER_CATEGORY_SOURCE, split=True)
    return keys


def test_only_hand_set_categories_taught_by_enough_users_leave_the_ledger_once_each(
    factory, seeded
):
    with factory() as session:
        assert not [
            r for r in corrected_training_rows(session, seeded) if BRAND in r["description"]
        ]
        rows = corrected_training_rows(session, seeded, min_users=2)  # alice and bob agree
        raw = session.execute(
            text("SELECT details FROM transactions WHERE category_source = 'user'")
        ).scalars()
        assert not any(BRAND in value for value in raw)  # encrypted at rest
    ours = [r for r in rows if BRAND in r["description"]]
    assert sorted(r["description"] for r in ours) == sorted(
        [f"POS {BRAND} #0042", f"POS {BRAND} #0077"]
    )
    assert {r["category_detailed"] for r in ours} == {LABEL}
    assert {r["amount"] for r in ours} == {"-4.7500", "-5.1000"}
    assert all(
        set(r) == {"description", "amount", "payment_channel", "category_detailed"} for r in ours
    )


def test_per_label_cap_bounds_one_category(factory, seeded):
    with factory() as session:
        rows = corrected_training_rows(session, seeded, min_users=2, per_label_cap=1)
    assert sum(r["category_detailed"] == LABEL for r in rows) == 1


def categorize_brand(tmp_path, store):
    src = tmp_path / "in.csv"
    src.write_text(f"description,amount\nVIS {BRAND} 0099,-4.20\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    args = ["categorize", str(src), "-o", str(out), "--store-dir", str(store)]
    assert cli.main([*args, "--min-confidence", "0"]) == 0
    with out.open(newline="", encoding="utf-8") as handle:
        return next(csv.DictReader(handle))["category_detailed"]


def test_train_from_deployment_learns_the_corrected_brand(tmp_path, seeded, capsys):
    small = tmp_path / "small.csv.gz"
    with gzip.open(small, "wt", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CORPUS_COLUMNS)
        writer.writeheader()
        writer.writerows(r for r in load_corpus() if r["category_detailed"] in SIX)
    args = ["--corpus", str(small), "--quiet"]
    assert main_train([*args, "--store-dir", str(tmp_path / "plain")]) == 0
    assert categorize_brand(tmp_path, tmp_path / "plain") == "FOOD_AND_DRINK_COFFEE"

    store = tmp_path / "folded"
    assert (
        main_train([*args, "--store-dir", str(store), "--from-deployment", "--min-users", "2"]) == 0
    )
    printed = capsys.readouterr().out
    assert "folding in" in printed and "corrected transactions from the deployment" in printed
    assert categorize_brand(tmp_path, store) == LABEL


def test_unreachable_database_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(
        "NESTEGG_TRANSACTIONS_DATABASE_URL", "postgresql+psycopg2://nobody:x@127.0.0.1:1/none"
    )
    args = ["--store-dir", str(tmp_path), "--quiet", "--no-save", "--from-deployment"]
    assert main_train(args) == 2
    assert main_train([*args, "--min-users", "0"]) == 2
    assert "cannot read corrections from the transactions database" in capsys.readouterr().err
