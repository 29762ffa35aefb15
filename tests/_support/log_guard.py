"""Session-wide guard: the run fails if any log record carries a secret.

Installed on the root logger by ``tests/conftest.py`` for every test session: a JWT, a
password used in the tests, a TOTP seed handed out in a test, a Plaid access token or a full
SSN in any record of the pytest process fails the run at the end. (Child processes log to
their own files; those are checked by the e2e tests' log scans.)
"""

from __future__ import annotations

import logging
import re

PASSWORD = "marble otter sings quietly at noon"
TEST_PASSWORDS = {PASSWORD, "copper kettle whistles twice daily", "wrong horse battery staple x"}
_JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.")
_PLAID = re.compile(r"access-(sandbox|development|production)-[0-9a-f-]{8,}")
_SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")
_SEEDS: set[str] = set()


def remember_seed(secret: str) -> None:
    """Tests that receive a TOTP seed register it so any later log of it is caught."""
    _SEEDS.add(secret)


def leaks_in(text: str) -> list[str]:
    found = []
    if _JWT.search(text):
        found.append("jwt")
    if _PLAID.search(text):
        found.append("plaid access token")
    if _SSN.search(text):
        found.append("ssn")
    if any(p in text for p in TEST_PASSWORDS):
        found.append("password")
    if any(seed in text for seed in _SEEDS):
        found.append("totp seed")
    return found


class SecretLogGuard(logging.Handler):
    """Collects any log record whose message holds a secret."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.leaks: list[str] = []

    def emit(self, record):
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is not a leak
            return
        if record.exc_info and record.exc_info[1] is not None:
            text += " " + str(record.exc_info[1])
        if record.exc_text:
            text += " " + record.exc_text
        found = leaks_in(text)
        if found:
            self.leaks.append(f"{record.name}: {', '.join(found)}")
