import decimal

import pytest
from marshmallow import fields

from common.errors import Forbidden, StepUpRequired, Unauthenticated, ValidationFailed
from common.principal import TokenSigner
from common.rpc import InternalError, boundary
from common.schemas import Money, StrictSchema

SIGNER = TokenSigner(issuer="iss", audience="aud")


class In(StrictSchema):
    amount = Money(required=True)


class Out(StrictSchema):
    user_id = fields.String()
    doubled = Money()


class Service:
    @boundary(request=In(), response=Out(), scopes=("x:write",), verifier=SIGNER.verifier)
    def double(self, principal, payload):
        return {"user_id": principal.user_id, "doubled": payload["amount"] * 2}

    @boundary(scopes=(), step_up=True, verifier=SIGNER.verifier)
    def critical(self, principal):
        return "done"

    @boundary(authenticated=False)
    def explode(self):
        raise RuntimeError("database password is hunter2")


def test_validates_calls_and_dumps_plain_json():
    token = SIGNER.sign("u1", scopes=["x:write"])
    assert Service().double(token, {"amount": "1.25"}) == {"user_id": "u1", "doubled": "2.50"}
    assert Service().double(principal=token, payload={"amount": 3}) == {
        "user_id": "u1",
        "doubled": "6",
    }


def test_rejects_missing_scope_bad_token_and_bad_payload():
    with pytest.raises(Forbidden):
        Service().double(SIGNER.sign("u1", scopes=["x:read"]), {"amount": "1"})
    with pytest.raises(Unauthenticated):
        Service().double("not-a-token", {"amount": "1"})
    with pytest.raises(ValidationFailed) as info:
        Service().double(SIGNER.sign("u1", scopes=["x:write"]), {"amount": 1.5, "user_id": "u2"})
    assert set(info.value.extra["errors"]) == {"amount", "user_id"}


def test_step_up():
    with pytest.raises(StepUpRequired):
        Service().critical(SIGNER.sign("u1", amr=["pwd"]))
    assert Service().critical(SIGNER.sign("u1", amr=["pwd", "otp"])) == "done"


def test_unexpected_errors_cross_as_opaque_internal_error(caplog):
    with pytest.raises(InternalError) as info:
        Service().explode()
    assert "hunter2" not in str(info.value)
    assert info.value.__cause__ is None


def test_decimal_precision_is_kept():
    token = SIGNER.sign("u1", scopes=["x:write"])
    out = Service().double(token, {"amount": "0.1"})
    assert decimal.Decimal(out["doubled"]) == decimal.Decimal("0.2")
