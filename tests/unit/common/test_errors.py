import pytest
from nameko.exceptions import RemoteError, deserialize, serialize

from common import errors


@pytest.mark.parametrize("cls", errors.ALL_ERRORS)
def test_domain_errors_cross_rpc_as_the_same_type(cls):
    original = cls("something specific", {"field": "amount", "retry_after": 1800, "ok": False})
    restored = deserialize(serialize(original))
    assert type(restored) is cls
    assert restored.detail == "something specific"
    assert restored.extra == {"field": "amount", "retry_after": 1800, "ok": False}
    assert restored.status == cls.status


def test_unregistered_exceptions_stay_opaque():
    restored = deserialize(serialize(KeyError("secret internals")))
    assert isinstance(restored, RemoteError)
    assert not isinstance(restored, errors.DomainError)


def test_problem_body_has_rfc9457_members_and_no_internals():
    body = errors.ValidationFailed.from_messages({"amount": ["bad"]}).to_problem()
    assert body["status"] == 422
    assert body["type"].endswith("validation_failed")
    assert body["errors"] == {"amount": ["bad"]}
    assert set(body) >= {"type", "title", "status", "detail"}


def test_extra_cannot_override_status():
    body = errors.NotFound("nope", {"status": 200}).to_problem()
    assert body["status"] == 404
