"""marshmallow schemas of every users RPC (unknown fields are refused: mass assignment -> 422)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re

from marshmallow import ValidationError, fields, validate, validates, validates_schema

from common.schemas import StrictSchema, StrId, UTCDateTime
from users import risk

PASSWORD_FIELD_MAX = 1024  # the policy refuses > 128 code points with a clear reason
_PHONE_RE = re.compile(r"\+?[0-9][0-9 ().-]{5,24}")
_SSN_RE = re.compile(r"(\d{3})-?(\d{2})-?(\d{4})")
_SCOPE_RE = re.compile(r"[a-z][a-z0-9_]*(?::[a-z][a-z0-9_]*)?\Z")
_COUNTRY_RE = re.compile(r"[A-Z]{2}\Z")


def _text(max_len: int, *, required: bool = False, **kwargs):
    return fields.String(required=required, validate=validate.Length(min=1, max=max_len), **kwargs)


class StrictBool(fields.Boolean):
    """JSON true/false only (marshmallow's Boolean also takes "yes", "on", 1)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def _bool(**kwargs):
    return StrictBool(**kwargs)


def _password(**kwargs):
    return fields.String(validate=validate.Length(min=1, max=PASSWORD_FIELD_MAX), **kwargs)


def normalise_phone(value: str) -> str:
    """Keep a leading ``+`` and the digits: ``+1 (555) 010-0001`` -> ``+15550100001``."""
    if not _PHONE_RE.fullmatch(value.strip()):
        raise ValidationError("Not a valid phone number.")
    digits = re.sub(r"\D", "", value)
    if not 7 <= len(digits) <= 15:
        raise ValidationError("A phone number has 7 to 15 digits.")
    return ("+" if value.strip().startswith("+") else "") + digits


def normalise_ssn(value: str) -> str:
    """A US SSN as 9 digits; refuses the never-issued 000/666/9xx areas and zero groups."""
    match = _SSN_RE.fullmatch(value.strip())
    if not match:
        raise ValidationError("An SSN has 9 digits (AAA-GG-SSSS).")
    area, group, serial = match.groups()
    if area in ("000", "666") or area.startswith("9") or group == "00" or serial == "0000":
        raise ValidationError("Not a valid SSN.")
    return area + group + serial


def check_ip(value: str | None) -> None:
    if value is not None:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise ValidationError("Not an IP address.") from None


class Phone(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        return normalise_phone(super()._deserialize(value, attr, data, **kwargs))


class Ssn(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        return normalise_ssn(super()._deserialize(value, attr, data, **kwargs))


class BirthDate(fields.Date):
    def _deserialize(self, value, attr, data, **kwargs):
        born = super()._deserialize(value, attr, data, **kwargs)
        if not dt.date(1900, 1, 1) <= born < dt.datetime.now(dt.UTC).date():
            raise ValidationError("Date of birth must be in the past (and after 1900).")
        return born


class AddressSchema(StrictSchema):
    line1 = _text(200, required=True)
    line2 = _text(200, allow_none=True)
    city = _text(100, required=True)
    region = _text(100, allow_none=True)
    postal_code = _text(20, required=True)
    country = fields.String(required=True, validate=validate.Regexp(_COUNTRY_RE))


class ContextSchema(StrictSchema):
    """Where a public call came from, for the audit log only (never for identity)."""

    ip = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    user_agent = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=512)
    )

    @validates("ip")
    def _ip(self, value, **kwargs):
        check_ip(value)


class RegisterIn(StrictSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = _password(required=True)
    name = _text(200, required=True)
    phone = Phone(load_default=None, allow_none=True)
    date_of_birth = BirthDate(load_default=None, allow_none=True)
    address = fields.Nested(AddressSchema, load_default=None, allow_none=True)
    ssn = Ssn(load_default=None, allow_none=True)


class ProfileUpdateIn(StrictSchema):
    """Only these may change here; ``email`` has its own step-up RPC (change_email)."""

    name = _text(200)
    phone = Phone(allow_none=True)
    date_of_birth = BirthDate(allow_none=True)
    address = fields.Nested(AddressSchema, allow_none=True)
    ssn = Ssn(allow_none=True)

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("Send at least one field to change.")


class ChangeEmailIn(StrictSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))


class AddressOut(StrictSchema):
    line1 = fields.String()
    line2 = fields.String(allow_none=True)
    city = fields.String()
    region = fields.String(allow_none=True)
    postal_code = fields.String()
    country = fields.String()


class ProfileOut(StrictSchema):
    id = StrId()
    email = fields.String()
    name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    date_of_birth = fields.String(allow_none=True)
    address = fields.Nested(AddressOut, allow_none=True)
    ssn_last4 = fields.String(allow_none=True)
    mfa_enabled = fields.Boolean()
    created_at = UTCDateTime()


class AuthenticateIn(StrictSchema):
    """Either ``email`` + ``password`` (+ optional code) or ``mfa_challenge`` + a code."""

    email = fields.String(validate=validate.Length(min=1, max=254))
    password = _password()
    mfa_challenge = fields.String(validate=validate.Length(min=20, max=100))
    totp = fields.String(validate=validate.Length(min=1, max=20))
    recovery_code = fields.String(validate=validate.Length(min=1, max=40))

    @validates_schema
    def _shape(self, data, **kwargs):
        if "totp" in data and "recovery_code" in data:
            raise ValidationError("Send either totp or recovery_code, not both.")
        if "mfa_challenge" in data:
            if "email" in data or "password" in data:
                raise ValidationError("Send mfa_challenge without email and password.")
            if "totp" not in data and "recovery_code" not in data:
                raise ValidationError("Send totp or recovery_code with mfa_challenge.")
        elif "email" not in data or "password" not in data:
            raise ValidationError("Send email and password.")


class AuthenticatedOut(StrictSchema):
    user_id = StrId()
    amr = fields.List(fields.String())
    auth_time = fields.Integer()
    mfa_enabled = fields.Boolean()
    sessions_valid_after = fields.Integer(allow_none=True)


class ChangePasswordIn(StrictSchema):
    current_password = _password(required=True)
    new_password = _password(required=True)
    end_other_sessions = _bool(load_default=False)


class ChangePasswordOut(StrictSchema):
    password_changed_at = UTCDateTime()
    sessions_revoked_before = fields.Integer(allow_none=True)


class SessionStateOut(StrictSchema):
    sessions_valid_after = fields.Integer(allow_none=True)
    deleted = fields.Boolean()


class ResetRequestIn(StrictSchema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))


class ResetPasswordIn(StrictSchema):
    token = fields.String(required=True, validate=validate.Length(min=20, max=100))
    new_password = _password(required=True)


class StatusOut(StrictSchema):
    status = fields.String()


class RiskProfileIn(StrictSchema):
    horizon_years = fields.Integer(
        required=True, strict=True, validate=validate.Range(0, risk.HORIZON_MAX)
    )
    loss_tolerance = fields.String(required=True, validate=validate.OneOf(risk.LOSS_TOLERANCE))
    income_stability = fields.String(required=True, validate=validate.OneOf(risk.INCOME_STABILITY))
    experience = fields.String(required=True, validate=validate.OneOf(risk.EXPERIENCE))
    age = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(risk.AGE_MIN, risk.AGE_MAX),
    )


class RiskAnswersOut(StrictSchema):
    horizon_years = fields.Integer()
    loss_tolerance = fields.String()
    income_stability = fields.String()
    experience = fields.String()
    age = fields.Integer(allow_none=True)


class RiskProfileOut(StrictSchema):
    answers = fields.Nested(RiskAnswersOut)
    capacity = fields.Integer()
    tolerance = fields.Integer()
    risk_score = fields.Integer()
    updated_at = UTCDateTime()


class CodeIn(StrictSchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=20))


class EnrollOut(StrictSchema):
    otpauth_uri = fields.String()
    qr_png_base64 = fields.String()
    secret = fields.String()


class RecoveryCodesOut(StrictSchema):
    recovery_codes = fields.List(fields.String())


class MfaStateOut(StrictSchema):
    mfa_enabled = fields.Boolean()


class SecurityEventsIn(StrictSchema):
    limit = fields.Integer(load_default=50, strict=True, validate=validate.Range(1, 200))
    before = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))


class SecurityEventOut(StrictSchema):
    id = StrId()
    at = UTCDateTime()
    event = fields.String()
    outcome = fields.String()
    ip = fields.String(allow_none=True)
    client_id = fields.String(allow_none=True)
    details = fields.Dict()


class SecurityEventsOut(StrictSchema):
    events = fields.List(fields.Nested(SecurityEventOut))
    next_before = fields.String(allow_none=True)


class RecordSecurityEventIn(StrictSchema):
    user_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=36))
    event = fields.String(required=True, validate=validate.Length(min=1, max=64))
    outcome = fields.String(
        required=True, validate=validate.OneOf(("success", "failure", "denied"))
    )
    ip = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    client_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    details = fields.Dict(load_default=None, allow_none=True)

    @validates("ip")
    def _ip(self, value, **kwargs):
        check_ip(value)


class ExportOut(StrictSchema):
    profile = fields.Nested(ProfileOut)
    risk_profile = fields.Nested(RiskProfileOut, allow_none=True)
    security_events = fields.List(fields.Nested(SecurityEventOut))
    mfa_enabled = fields.Boolean()
    recovery_codes_remaining = fields.Integer()
    exported_at = UTCDateTime()


class ClientIdIn(StrictSchema):
    client_id = fields.String(required=True, validate=validate.Length(min=1, max=64))


class ClientSecretIn(StrictSchema):
    client_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    client_secret = fields.String(required=True, validate=validate.Length(min=1, max=200))


class OAuthClientIn(StrictSchema):
    name = _text(100, required=True)
    redirect_uris = fields.List(
        fields.String(validate=validate.Length(min=1, max=500)),
        required=True,
        validate=validate.Length(min=1, max=10),
    )
    scopes = fields.List(
        fields.String(validate=validate.Regexp(_SCOPE_RE)),
        required=True,
        validate=validate.Length(min=1, max=50),
    )
    public = _bool(required=True)
    first_party = _bool(load_default=False)


class OAuthClientOut(StrictSchema):
    client_id = fields.String()
    name = fields.String()
    redirect_uris = fields.List(fields.String())
    scopes = fields.List(fields.String())
    public = fields.Boolean()
    first_party = fields.Boolean()


class OAuthClientCreatedOut(StrictSchema):
    client_id = fields.String()
    client_secret = fields.String(allow_none=True)
