"""Shared test data for the categoriser tests: a six-category slice that trains in seconds, the
thinned corpus (a few rows per merchant, every merchant kept) and the test deployment's model."""

from collections import defaultdict

SIX = frozenset(
    {
        "FOOD_AND_DRINK_COFFEE",
        "TRANSPORTATION_GAS",
        "INCOME_SALARY",
        "FOOD_AND_DRINK_GROCERIES",
        "BANK_FEES_OVERDRAFT_FEES",
        "RENT_AND_UTILITIES_WATER",
    }
)
ROWS_PER_MERCHANT = {"A": 4, "B": 2}


def thin(corpus, rows_per_merchant=ROWS_PER_MERCHANT):
    """The first few rows of each (merchant, template family): every merchant, fewer rows."""
    kept, seen = [], defaultdict(int)
    for row in corpus:
        key = (row["merchant"], row["family"])
        if seen[key] < rows_per_merchant[row["family"]]:
            seen[key] += 1
            kept.append(row)
    return kept


def deployment_test_model():
    """The model in the test deployment's artefact store ($NESTEGG_ARTIFACT_DIR): the latest one,
    or one trained on the thinned corpus and saved (about a third of a full training; the
    services under test need a real model, not the production one's last points of accuracy)."""
    from transactions.categorizer.artifacts import load_model, save_model, store_from_env
    from transactions.categorizer.corpus_gen import load_corpus
    from transactions.categorizer.errors import ArtifactNotFound
    from transactions.categorizer.training import train

    store = store_from_env()
    try:
        return load_model(store)
    except ArtifactNotFound:
        pass
    model, report = train(thin(load_corpus(), {"A": 4, "B": 0}), refit_full=False)
    save_model(store, model, report)
    return model
