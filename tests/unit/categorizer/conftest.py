"""Shared fixtures: one model trained per session on a thinned corpus (a few rows per merchant,
all merchants kept, so the held-out split stays merchant-disjoint and realistic)."""

from __future__ import annotations

import pytest
from _support.categorizer_data import SIX, thin

from transactions.categorizer.corpus_gen import load_corpus
from transactions.categorizer.features import feature_row
from transactions.categorizer.model import ModelParams, fit_model
from transactions.categorizer.training import train


@pytest.fixture(scope="session")
def corpus():
    return load_corpus()


@pytest.fixture(scope="session")
def thinned_corpus(corpus):
    return thin(corpus)


@pytest.fixture(scope="session")
def trained(thinned_corpus):
    """(model, report) from the real training entry point, without the final refit."""
    return train(thinned_corpus, refit_full=False, seed=0)


@pytest.fixture(scope="session")
def tiny_model(corpus):
    """A seconds-to-train model on six categories, for store / CLI plumbing tests."""
    wanted = SIX
    rows = [r for r in corpus if r["category_detailed"] in wanted and r["family"] == "A"]
    features = [feature_row(r["description"], r["amount"], r["payment_channel"]) for r in rows]
    return fit_model(
        features,
        [r["category_detailed"] for r in rows],
        [r["merchant"] for r in rows],
        ModelParams(max_char_features=20_000),
    )
