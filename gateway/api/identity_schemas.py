"""Request/response schemas of the identity routes (OpenAPI; unknown fields are refused here
and again by the users service, so mass assignment is a 422 at both layers)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from common.schemas import StrictSchema

PASSWORD = validate.Length(min=1, max=1024)


class AddressSchema(StrictSchema):
    line1 = fields.String(required=True, validate=validate.Length(min=1, max=200))
    line2 = fields.String(allow_none=True, validate=validate.Length(max=200))
    city = fields.String(required=True, validate=validate.Length(min=1, max=100))
    region = fields.String(allow_none=True, validate=validate.Length(max=100))
    postal_code = fields.String(required=True, validate=validate.Length(min=1, max=20))
    country = fields.String(required=True, validate=validate.Length(equal=2))


class RegisterIn(StrictSchema):
    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    password = fields.String(required=True, validate=PASSWORD)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    phone = fields.String(allow_none=True, validate=validate.Length(max=32))
    date_of_birth = fields.String(allow_none=True, metadata={"format": "date"})
    address = fields.Nested(AddressSchema, allow_none=True)
    ssn = fields.String(allow_none=True, validate=validate.Length(max=11))


class ProfileUpdateIn(StrictSchema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    phone = fields.String(allow_none=True, validate=validate.Length(max=32))
    date_of_birth = fields.String(allow_none=True, metadata={"format": "date"})
    address = fields.Nested(AddressSchema, allow_none=True)
    ssn = fields.String(allow_none=True, validate=validate.Length(max=11))


class EmailChangeIn(StrictSchema):
    email = fields.String(required=True, validate=validate.Length(min=3, max=254))


class ProfileOut(ma.Schema):
    id = fields.String()
    email = fields.String()
    name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    date_of_birth = fields.String(allow_none=True)
    address = fields.Nested(AddressSchema, allow_none=True)
    ssn_last4 = fields.String(allow_none=True)
    mfa_enabled = fields.Boolean()
    created_at = fields.String()


class ChangePasswordIn(StrictSchema):
    current_password = fields.String(required=True, validate=PASSWORD)
    new_password = fields.String(required=True, validate=PASSWORD)
    end_other_sessions = fields.Boolean(load_default=False)


class ChangePasswordOut(ma.Schema):
    password_changed_at = fields.String()
    sessions_revoked_before = fields.Integer(allow_none=True)


class ResetRequestIn(StrictSchema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))


class ResetConfirmIn(StrictSchema):
    token = fields.String(required=True, validate=validate.Length(min=20, max=100))
    new_password = fields.String(required=True, validate=PASSWORD)


class StatusOut(ma.Schema):
    status = fields.String()


class RiskProfileIn(StrictSchema):
    horizon_years = fields.Integer(required=True, strict=True)
    loss_tolerance = fields.String(required=True)
    income_stability = fields.String(required=True)
    experience = fields.String(required=True)
    age = fields.Integer(allow_none=True, strict=True)


class RiskAnswersOut(ma.Schema):
    horizon_years = fields.Integer()
    loss_tolerance = fields.String()
    income_stability = fields.String()
    experience = fields.String()
    age = fields.Integer(allow_none=True)


class RiskProfileOut(ma.Schema):
    answers = fields.Nested(RiskAnswersOut)
    capacity = fields.Integer()
    tolerance = fields.Integer()
    risk_score = fields.Integer()
    updated_at = fields.String()


class SecurityEventsQuery(StrictSchema):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    before = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))


class SecurityEventOut(ma.Schema):
    id = fields.String()
    at = fields.String()
    event = fields.String()
    outcome = fields.String()
    ip = fields.String(allow_none=True)
    client_id = fields.String(allow_none=True)
    details = fields.Dict()


class SecurityEventsOut(ma.Schema):
    events = fields.List(fields.Nested(SecurityEventOut))
    next_before = fields.String(allow_none=True)


class ExportOut(ma.Schema):
    profile = fields.Nested(ProfileOut)
    risk_profile = fields.Nested(RiskProfileOut, allow_none=True)
    security_events = fields.List(fields.Nested(SecurityEventOut))
    mfa_enabled = fields.Boolean()
    recovery_codes_remaining = fields.Integer()
    bank_connections = fields.Dict()
    transactions = fields.Dict()
    investments = fields.Dict()
    omitted = fields.List(fields.Dict())


class EnrollOut(ma.Schema):
    otpauth_uri = fields.String()
    qr_png_base64 = fields.String()
    secret = fields.String()


class CodeIn(StrictSchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=20))


class RecoveryCodesOut(ma.Schema):
    recovery_codes = fields.List(fields.String())


class LogoutQuery(StrictSchema):
    everywhere = fields.Boolean(load_default=False)
