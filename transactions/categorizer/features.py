"""Feature extraction for the categoriser: cleaned text, amount sign and size, payment channel.

The amount enters only as a (sign, size bucket) one-hot, so a prediction is a pure function of
``(clean description, sign, bucket, channel)``; the prediction cache keys on exactly that tuple.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer

from transactions.categorizer.errors import InvalidTransaction
from transactions.categorizer.normalize import clean_description

# Upper edges of the |amount| buckets, in currency units.
AMOUNT_EDGES: tuple[Decimal, ...] = tuple(
    Decimal(x) for x in ("1", "5", "10", "20", "50", "100", "250", "500", "1000", "2500", "10000")
)
N_BUCKETS = len(AMOUNT_EDGES) + 1
CHANNELS: tuple[str, ...] = ("online", "in store", "other")
WORD_REGEX = r"(?u)\b\w[\w'&-]*\b"


@dataclass(frozen=True)
class FeatureRow:
    """The model's view of one transaction."""

    text: str
    sign: int  # -1 money out, +1 money in (0 for exactly zero)
    bucket: int
    channel: str

    def cache_key(self) -> str:
        return f"{self.sign}|{self.bucket}|{self.channel}|{self.text}"


def parse_amount(value: object) -> Decimal:
    """Decimal from a Decimal, int or numeric string; floats and garbage are refused."""
    if isinstance(value, bool | float):
        raise InvalidTransaction(f"amount must be a Decimal or a decimal string, got {value!r}")
    if isinstance(value, Decimal | int):
        amount = Decimal(value)
    elif isinstance(value, str):
        try:
            amount = Decimal(value.strip().replace(",", ""))
        except InvalidOperation:
            raise InvalidTransaction(f"amount {value!r} is not a number") from None
    else:
        raise InvalidTransaction(f"amount must be a Decimal or a decimal string, got {value!r}")
    if not amount.is_finite():
        raise InvalidTransaction(f"amount {value!r} is not a finite number")
    return amount


def amount_bucket(amount: Decimal) -> int:
    return bisect.bisect_left(AMOUNT_EDGES, abs(amount))


def normalize_channel(channel: object) -> str:
    if channel is None or channel == "":
        return "other"
    if not isinstance(channel, str):
        raise InvalidTransaction(f"payment_channel must be a string, got {channel!r}")
    value = channel.strip().lower().replace("_", " ")
    if value not in CHANNELS:
        raise InvalidTransaction(f"payment_channel {channel!r} is not one of {CHANNELS}")
    return value


def feature_row(description: object, amount: object, channel: object = None) -> FeatureRow:
    value = parse_amount(amount)
    sign = (value > 0) - (value < 0)
    return FeatureRow(
        text=clean_description(description),
        sign=sign,
        bucket=amount_bucket(value),
        channel=normalize_channel(channel),
    )


class TransactionFeatures(TransformerMixin, BaseEstimator):
    """Word and character TF-IDF of the cleaned text, plus amount and channel one-hots."""

    def __init__(
        self,
        char_ngrams: tuple[int, int] = (2, 5),
        word_ngrams: tuple[int, int] = (1, 2),
        max_char_features: int = 200_000,
        numeric_weight: float = 1.0,
    ):
        self.char_ngrams = char_ngrams
        self.word_ngrams = word_ngrams
        self.max_char_features = max_char_features
        self.numeric_weight = numeric_weight

    def fit(self, rows: Sequence[FeatureRow], y=None):
        texts = [r.text for r in rows]
        self.char_ = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=self.char_ngrams,
            min_df=2,
            sublinear_tf=True,
            max_features=self.max_char_features,
            dtype=np.float32,
        ).fit(texts)
        self.word_ = TfidfVectorizer(
            analyzer="word",
            ngram_range=self.word_ngrams,
            token_pattern=WORD_REGEX,
            min_df=1,
            sublinear_tf=True,
            dtype=np.float32,
        ).fit(texts)
        return self

    def _numeric(self, rows: Sequence[FeatureRow]) -> sp.csr_matrix:
        n = len(rows)
        width = 2 * N_BUCKETS + 1 + len(CHANNELS)
        cols = np.empty(2 * n, dtype=np.int32)
        for i, r in enumerate(rows):
            side = 0 if r.sign < 0 else 1
            cols[2 * i] = side * N_BUCKETS + r.bucket
            cols[2 * i + 1] = 2 * N_BUCKETS + 1 + CHANNELS.index(r.channel)
        data = np.full(2 * n, self.numeric_weight, dtype=np.float32)
        indptr = np.arange(0, 2 * n + 1, 2, dtype=np.int32)
        return sp.csr_matrix((data, cols, indptr), shape=(n, width))

    def transform(self, rows: Sequence[FeatureRow]) -> sp.csr_matrix:
        texts = [r.text for r in rows]
        return sp.hstack(
            [self.char_.transform(texts), self.word_.transform(texts), self._numeric(rows)],
            format="csr",
        )
