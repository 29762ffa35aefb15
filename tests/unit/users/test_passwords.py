"""Password policy (NIST 800-63B / ASVS 6.2) and peppered bcrypt storage."""

import re

import pytest

from users import passwords as pw

PEPPER = b"p" * 32
OTHER_PEPPER = b"q" * 32
LONG = "Ünïcødé-пароль-密码-🙂" * 5 + "ÿ€✓☃…"  # 100 code points, far more than 72 UTF-8 bytes


def test_length_counts_code_points_not_bytes():
    assert pw.password_problems("river otter.") == []  # 12 characters
    assert pw.TOO_SHORT in pw.password_problems("river otter")  # 11
    emoji = "🦊🐢🐙🦉🐝🦋🐬🦒🐧🦔🐿🦥"  # 12 distinct emoji, 48 UTF-8 bytes
    assert pw.password_problems(emoji) == []


def test_over_128_is_refused_not_truncated():
    ok = "correct zebra lamp " * 6 + "xy"  # 116
    assert len(ok) <= 128 and pw.password_problems(ok) == []
    assert pw.password_problems("a river otter " * 10) == [pw.TOO_LONG]
    assert pw.password_problems("x" * 10_000) == [pw.TOO_LONG]


def test_no_composition_rules():
    assert pw.password_problems("all lowercase passphrase here") == []


@pytest.mark.parametrize(
    "password",
    [
        "password1234",
        "PASSWORD1234",
        "qwertyuiop123",
        "Password!2024!!",  # listed word padded with digits and punctuation
        "iloveyou12345678",
        "1q2w3e4r5t6y",
        "ｐａｓｓｗｏｒｄ１２３４",  # full-width: NFKC folds it to password1234
    ],
)
def test_common_passwords_are_refused(password):
    assert pw.TOO_COMMON in pw.password_problems(password)


@pytest.mark.parametrize(
    "password", ["aaaaaaaaaaaa", "abcabcabcabc", "abcdefghijklm", "zyxwvutsrqpo", "789012345678"]
)
def test_sequences_and_repetitions_are_refused(password):
    problems = pw.password_problems(password)
    assert pw.TRIVIAL in problems or pw.TOO_COMMON in problems


def test_blocklist_is_large_and_normalised():
    words = pw.blocklist()
    assert len(words) > 19_000
    assert "password" in words and "password1234" in words
    assert all(w == w.casefold() for w in list(words)[:500])


def test_context_words_from_email_name_and_service():
    words = pw.context_words(email="Jane.Doe@Example.com", name="Jane Doe")
    assert {"jane.doe", "jane", "doe", "example", "janedoe", "nestegg"} <= set(words)
    for password in ("jane.doe2024!", "Nestegg12345", "JaneDoe-JaneDoe", "example12345"):
        assert pw.CONTEXTUAL in pw.password_problems(password, context=words), password
    # a context word that is a small part of a long passphrase is fine
    assert pw.password_problems("doe a deer, a female deer", context=words) == []


def test_check_new_password_raises_with_every_reason():
    with pytest.raises(pw.WeakPassword) as caught:
        pw.check_new_password("nestegg", context=pw.context_words())
    assert pw.TOO_SHORT in caught.value.reasons and pw.CONTEXTUAL in caught.value.reasons
    assert pw.check_new_password("velvet harbor quietly") == "velvet harbor quietly"


def test_long_multibyte_password_verifies_exactly():
    assert len(LONG) == 100 and len(LONG.encode()) > 72
    stored = pw.hash_password(LONG, PEPPER, 4)
    assert pw.verify_password(LONG, stored, PEPPER)
    assert not pw.verify_password(LONG[:-1] + "🙃", stored, PEPPER)
    assert not pw.verify_password(LONG[:72], stored, PEPPER)
    assert not pw.verify_password(LONG, stored, OTHER_PEPPER)


def test_nfkc_equivalent_spellings_verify():
    stored = pw.hash_password("ﬁne ﬁsh ﬁllets", PEPPER, 4)  # ligatures
    assert pw.verify_password("fine fish fillets", stored, PEPPER)


def test_same_password_gives_different_salted_hashes():
    one, two = (pw.hash_password("velvet harbor quietly", PEPPER, 4) for _ in range(2))
    assert one != two
    assert re.fullmatch(r"\$2b\$04\$.{53}", one)


def test_rehash_needed_when_cost_raised():
    stored = pw.hash_password("velvet harbor quietly", PEPPER, 4)
    assert pw.hash_cost(stored) == 4
    assert pw.needs_rehash(stored, 5) and not pw.needs_rehash(stored, 4)
    with pytest.raises(ValueError, match="bcrypt"):
        pw.hash_cost("plain")


def test_production_default_cost_is_at_least_12():
    assert pw.bcrypt_cost({}) >= 12
    assert pw.DEFAULT_BCRYPT_COST >= 12
    assert pw.bcrypt_cost({"NESTEGG_BCRYPT_COST": "13"}) == 13


def test_low_cost_only_in_tests_and_bad_values_refused():
    assert pw.bcrypt_cost({"NESTEGG_BCRYPT_COST": "4", "NESTEGG_ENV": "test"}) == 4
    with pytest.raises(ValueError, match="tests only"):
        pw.bcrypt_cost({"NESTEGG_BCRYPT_COST": "4", "NESTEGG_ENV": "prod"})
    with pytest.raises(ValueError, match="integer"):
        pw.bcrypt_cost({"NESTEGG_BCRYPT_COST": "twelve"})
    with pytest.raises(ValueError, match="4-31"):
        pw.bcrypt_cost({"NESTEGG_BCRYPT_COST": "40"})


def test_short_pepper_and_garbage_hashes_are_refused():
    with pytest.raises(ValueError, match="pepper"):
        pw.prehash("velvet harbor quietly", b"short")
    assert not pw.verify_password("x", "not-a-hash", PEPPER)
    assert not pw.verify_password("x", "$2b$04$broken", PEPPER)
    with pytest.raises(TypeError):
        pw.normalise(None)


def test_dummy_verify_never_succeeds():
    assert pw.dummy_verify("anything at all", PEPPER, 4) is False
