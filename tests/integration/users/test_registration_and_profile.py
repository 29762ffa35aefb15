"""register, get/update profile, change_email: validation, encryption at rest, step-up."""

import re
import uuid

import pytest

from common.errors import Conflict, Forbidden, StepUpRequired, Unauthenticated, ValidationFailed

pytestmark = pytest.mark.integration

ADDRESS = {"line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"}


def test_register_returns_the_profile_and_stores_nothing_in_clear(register, db, outbox):
    profile, payload = register(
        phone="+1 (555) 010-0001", date_of_birth="1980-02-29", address=ADDRESS, ssn="123-45-6789"
    )
    assert profile["email"] == payload["email"]
    assert profile["ssn_last4"] == "6789" and "ssn" not in profile
    assert profile["phone"] == "+15550100001"
    assert profile["date_of_birth"] == "1980-02-29"
    assert profile["address"]["city"] == "Springfield"
    assert profile["mfa_enabled"] is False
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT.*Z", profile["created_at"])
    row = db("SELECT * FROM users WHERE id = :i", i=profile["id"])[0]
    raw = " ".join(str(v) for v in row.values())
    for secret in (payload["email"], "123456789", "6789", "Springfield", "Robin", "5550100001"):
        assert secret.lower() not in raw.lower()
    assert re.fullmatch(r"[0-9a-f]{64}", row["email_bidx"])
    assert re.fullmatch(r"\$2b\$04\$.{53}", row["password_hash"])
    assert outbox("user_registered", profile["id"])[0]["data"] == {"user_id": profile["id"]}


def test_duplicate_email_is_a_conflict_whatever_its_case(register):
    profile, payload = register()
    with pytest.raises(Conflict):
        register(email=payload["email"].upper())


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"password": "password1234"}, "password"),
        ({"password": "short pw"}, "password"),
        ({"password": "x" * 129}, "password"),
        ({"email": "not-an-email"}, "email"),
        ({"ssn": "000-12-3456"}, "ssn"),
        ({"phone": "call me"}, "phone"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"role": "admin"}, "role"),
        ({"mfa_enabled": True}, "mfa_enabled"),
        ({"address": {**ADDRESS, "country": "USA"}}, "address"),
    ],
)
def test_register_refuses_bad_input_with_field_messages(register, change, field):
    with pytest.raises(ValidationFailed) as caught:
        register(**change)
    assert field in caught.value.extra["errors"]


def test_password_built_on_the_email_is_refused(register):
    with pytest.raises(ValidationFailed) as caught:
        register(email="marigold.finch@example.org", password="Marigold.Finch!")
    assert "e-mail" in " ".join(caught.value.extra["errors"]["password"])


def test_get_and_update_profile(rpc, register, tokens, db):
    profile, _ = register()
    token = tokens(profile["id"])
    assert rpc.get_profile(token) == profile
    updated = rpc.update_profile(token, {"name": "Robin Q. Quill", "address": ADDRESS})
    assert updated["name"] == "Robin Q. Quill" and updated["address"]["line1"] == "1 Main St"
    assert rpc.get_profile(token)["name"] == "Robin Q. Quill"
    events = rpc.security_events(token, {})["events"]
    assert events[0]["event"] == "profile.update"
    assert events[0]["details"]["fields"] == "address name"


@pytest.mark.parametrize(
    "field", ["id", "role", "mfa_enabled", "email", "password_hash", "created_at"]
)
def test_mass_assignment_is_refused(rpc, register, tokens, field):
    profile, _ = register()
    with pytest.raises(ValidationFailed) as caught:
        rpc.update_profile(tokens(profile["id"]), {field: "x", "name": "Ok Name"})
    assert field in caught.value.extra["errors"]


def test_empty_update_is_refused(rpc, register, tokens):
    profile, _ = register()
    with pytest.raises(ValidationFailed):
        rpc.update_profile(tokens(profile["id"]), {})


def test_phone_change_needs_step_up(rpc, register, tokens):
    profile, _ = register(phone="+15550100001")
    with pytest.raises(StepUpRequired):
        rpc.update_profile(tokens(profile["id"]), {"phone": "+15550100002"})
    # re-sending the same number is not a change
    assert rpc.update_profile(tokens(profile["id"]), {"phone": "+1 555 010 0001"})["phone"]
    stepped = tokens(profile["id"], amr=("pwd", "otp"))
    assert rpc.update_profile(stepped, {"phone": "+15550100002"})["phone"] == "+15550100002"


def test_change_email_needs_step_up_and_a_free_address(rpc, register, tokens, outbox):
    profile, _ = register()
    other, other_payload = register()
    with pytest.raises(StepUpRequired):
        rpc.change_email(tokens(profile["id"]), {"email": "new@example.org"})
    stepped = tokens(profile["id"], amr=("pwd", "otp"))
    with pytest.raises(Conflict):
        rpc.change_email(stepped, {"email": other_payload["email"]})
    new_email = f"renamed.{profile['id'][:8]}@example.org"
    assert rpc.change_email(stepped, {"email": new_email})["email"] == new_email
    assert outbox("security_event", profile["id"])[-1]["data"]["event"] == "email_changed"


def test_tokens_are_required_and_scoped(rpc, register, tokens):
    profile, _ = register()
    with pytest.raises(Unauthenticated):
        rpc.get_profile("not-a-token")
    with pytest.raises(Forbidden):
        rpc.get_profile(tokens(profile["id"], scopes=("portfolio:read",)))
    with pytest.raises(Forbidden):
        rpc.update_profile(tokens(profile["id"], scopes=("profile:read",)), {"name": "Xy Zed"})


def test_concurrent_registrations_of_one_email_give_one_account(gateway_proxies):
    import eventlet

    email = f"race.{uuid.uuid4().hex[:8]}@example.org"
    payload = {"email": email, "password": "velvet harbor quietly sings", "name": "Race Car"}
    start = eventlet.event.Event()

    def attempt(proxy):
        start.wait()
        try:
            return proxy.register(payload, {})["id"]
        except Conflict:
            return "conflict"

    pool = eventlet.GreenPool(8)
    threads = [pool.spawn(attempt, p) for p in gateway_proxies(8)]
    eventlet.sleep(0.1)
    start.send(True)
    outcomes = [t.wait() for t in threads]
    assert outcomes.count("conflict") == 7, outcomes
