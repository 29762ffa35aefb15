"""Recovery codes: fresh, formatted, normalised, stored only as keyed hashes."""

import math
import re

import pytest

from users import recovery_codes as rc

KEY = b"k" * 32


def test_ten_distinct_codes_with_enough_entropy():
    codes = rc.generate()
    assert len(codes) == 10 == len(set(codes))
    assert all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", c) for c in codes)
    assert rc.CODE_LENGTH * math.log2(len(rc.ALPHABET)) >= 20  # ASVS 6.5.4
    assert not set("ilo01") & set(rc.ALPHABET)
    assert rc.generate() != codes


def test_digest_is_keyed_and_normalised():
    code = rc.generate(1)[0]
    stored = rc.digest(code, KEY)
    assert re.fullmatch(r"[0-9a-f]{64}", stored) and code.replace("-", "") not in stored
    assert rc.digest(code.upper().replace("-", " "), KEY) == stored
    assert rc.digest(code, b"z" * 32) != stored


@pytest.mark.parametrize("bad", ["", "short", "abcde-fghij-k", "abcde-fghi1", None, 42])
def test_malformed_codes_have_no_digest(bad):
    assert rc.digest(bad, KEY) is None


def test_bad_arguments():
    with pytest.raises(ValueError, match="count"):
        rc.generate(0)
    with pytest.raises(ValueError, match="key"):
        rc.digest("abcde-fghjk", b"short")
