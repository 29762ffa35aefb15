import datetime as dt
from decimal import Decimal

import pytest

from transactions.pagination import (
    InvalidCursor,
    check_limit,
    check_sort,
    decode_cursor,
    encode_cursor,
    filters_digest,
)
from transactions.search_index import index_tokens, keyed_tag, query_tokens, user_key, words

MASTER = b"m" * 32
KEY = b"k" * 32


def test_words_fold_case_and_unicode():
    assert words("Café ÉCLAIR #42, ｆｕｌｌ") == ["café", "éclair", "42", "full"]


def test_whole_words_and_prefixes_match_but_other_text_does_not():
    key = user_key(MASTER, "alice")
    row = set(index_tokens(key, ["NETFLIX.COM 866", "Netflix", None]))
    assert set(query_tokens(key, "netflix")) <= row
    assert set(query_tokens(key, "NETFL")) <= row
    assert set(query_tokens(key, "netflix com")) <= row
    assert not set(query_tokens(key, "spotify")) <= row
    assert not set(query_tokens(key, "flix")) <= row  # infixes are not indexed


def test_tokens_differ_per_user_and_hold_no_plaintext():
    alice, bob = user_key(MASTER, "alice"), user_key(MASTER, "bob")
    assert query_tokens(alice, "netflix") != query_tokens(bob, "netflix")
    assert all("netflix" not in t for t in index_tokens(alice, ["netflix"]))
    assert keyed_tag(alice, "merchant", "x") != keyed_tag(bob, "merchant", "x")


@pytest.mark.parametrize("query", ["", "   ", "!!!", "a b c d e f g h i"])
def test_unsearchable_queries_are_refused(query):
    with pytest.raises(ValueError):
        query_tokens(user_key(MASTER, "alice"), query)


def test_short_master_key_is_refused():
    with pytest.raises(ValueError, match="32 bytes"):
        user_key(b"short", "alice")


def test_cursor_round_trip_for_date_and_amount():
    token = encode_cursor(KEY, sort="date_desc", digest="f1", value=dt.date(2026, 1, 2), row_id="r")
    assert decode_cursor(KEY, token, sort="date_desc", digest="f1") == (dt.date(2026, 1, 2), "r")
    token = encode_cursor(KEY, sort="amount_asc", digest="f1", value=Decimal("-1.5"), row_id="r")
    assert decode_cursor(KEY, token, sort="amount_asc", digest="f1") == (Decimal("-1.5"), "r")


def test_edited_forged_or_misused_cursors_are_refused():
    token = encode_cursor(KEY, sort="date_desc", digest="f1", value=dt.date(2026, 1, 2), row_id="r")
    body, sig = token.split(".")
    for bad in ("", "x", token + "x", body + ".AAAA", "." + sig, "a.b.c", 5, None):
        with pytest.raises(InvalidCursor):
            decode_cursor(KEY, bad, sort="date_desc", digest="f1")
    with pytest.raises(InvalidCursor):
        decode_cursor(b"o" * 32, token, sort="date_desc", digest="f1")
    with pytest.raises(InvalidCursor, match="other filters"):
        decode_cursor(KEY, token, sort="date_desc", digest="f2")
    with pytest.raises(InvalidCursor, match="another sort"):
        decode_cursor(KEY, token, sort="amount_desc", digest="f1")


def test_filters_digest_ignores_cursor_and_limit_only():
    assert filters_digest({"q": "a", "limit": 5, "cursor": "x"}) == filters_digest({"q": "a"})
    assert filters_digest({"q": "a"}) != filters_digest({"q": "b"})


@pytest.mark.parametrize("limit", [0, 501, -1, "10", 2.5, True])
def test_limits_outside_1_to_500_are_refused(limit):
    with pytest.raises(ValueError, match="limit"):
        check_limit(limit)


def test_limit_and_sort_defaults():
    assert check_limit(None) == 50 and check_limit(500) == 500
    assert check_sort(None) == "date_desc"
    with pytest.raises(ValueError, match="sort"):
        check_sort("name")
