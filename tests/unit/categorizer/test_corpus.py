import gzip
from collections import defaultdict

from transactions.categorizer.corpus_gen import CORPUS_COLUMNS, CORPUS_PATH, write_corpus
from transactions.categorizer.normalize import clean_description
from transactions.categorizer.taxonomy import detailed_categories


def test_every_detailed_category_has_many_distinct_merchants(corpus):
    merchants = defaultdict(set)
    for row in corpus:
        merchants[row["category_detailed"]].add(row["merchant"])
    assert set(merchants) == set(detailed_categories())
    assert min(len(m) for m in merchants.values()) >= 20
    assert len({row["merchant"] for row in corpus}) > 4000


def test_corpus_is_varied_and_realistic(corpus):
    assert set(corpus[0]) == set(CORPUS_COLUMNS)
    assert {row["country"] for row in corpus} == {"US", "UK", "CA", "AU", "EU"}
    assert {row["family"] for row in corpus} == {"A", "B"}
    descriptions = [row["description"] for row in corpus]
    assert len(set(descriptions)) > 0.9 * len(descriptions)
    assert any(d != d.upper() for d in descriptions)
    for marker in (
        "POS DEBIT",
        "CHECKCARD",
        "XXXXX",
        "CARD PAYMENT TO",
        "EFTPOS",
        "KARTENZAHLUNG",
        "INTERAC",
        "SQ *",
        "PPD ID",
        "DD ",
    ):
        assert any(marker in d for d in descriptions), marker


def test_descriptions_differ_from_their_cleaned_merchant(corpus):
    sample = corpus[::50]
    changed = sum(clean_description(r["description"]) != r["merchant"].lower() for r in sample)
    assert changed > 0.5 * len(sample)


def test_shipped_corpus_is_exactly_what_the_generator_writes(tmp_path):
    out = tmp_path / "corpus.csv.gz"
    write_corpus(out)
    with gzip.open(out, "rb") as fresh, gzip.open(CORPUS_PATH, "rb") as shipped:
        assert fresh.read() == shipped.read()
    assert CORPUS_PATH.stat().st_size < 3_000_000


def test_no_brand_is_listed_under_two_categories():
    import re

    from transactions.categorizer.corpus_gen import build_merchants

    categories = defaultdict(set)
    for merchant in build_merchants():
        if not merchant.local:
            categories[re.sub(r"[^A-Z0-9]", "", merchant.name.upper())].add(merchant.detailed)
    conflicts = {name: cats for name, cats in categories.items() if len(cats) > 1}
    assert conflicts == {}


def test_generated_names_carry_no_layout_whitespace():
    from transactions.categorizer.corpus_gen import build_merchants

    assert all(m.name == " ".join(m.name.split()) for m in build_merchants())
