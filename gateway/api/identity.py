"""The identity HTTP API (``/v1``): registration, profile, password, reset, export, deletion,
risk profile, security events, MFA and logout. Views are thin: check the token
(:func:`gateway.auth.require_auth`), pass it as ``principal`` to the users service, map
nothing by hand (domain errors become problems in :mod:`gateway.problems`).

Step-up routes (password change, export, deletion, MFA removal) need a second factor within
the last 10 minutes: 401 ``step_up_required`` -> sign in again with ``prompt=login``.
"""

from __future__ import annotations

from flask import current_app, g, request
from flask.views import MethodView

from gateway import rpc
from gateway.api import identity_schemas as s
from gateway.auth import require_auth
from gateway.auth.bearer import EXTENSION
from gateway.openapi import ApiBlueprint

blp = ApiBlueprint("identity", __name__, url_prefix="/v1", description="Accounts and sign-in")
PROFILE_READ, PROFILE_WRITE = "profile:read", "profile:write"


def _context() -> dict:
    return {"ip": request.remote_addr, "user_agent": request.user_agent.string[:500] or None}


def _auth():
    return current_app.extensions[EXTENSION]


@blp.route("/users")
class Users(MethodView):
    @blp.arguments(s.RegisterIn)
    @blp.response(201, s.ProfileOut)
    @blp.doc(summary="Register (public, rate limited)", security=[])
    def post(self, payload):
        return rpc.call("users", "register", payload, _context())


@blp.route("/me")
class Me(MethodView):
    @require_auth(PROFILE_READ)
    @blp.response(200, s.ProfileOut)
    def get(self):
        return rpc.call("users", "get_profile", g.access_token)

    @require_auth(PROFILE_WRITE)
    @blp.arguments(s.ProfileUpdateIn)
    @blp.response(200, s.ProfileOut)
    @blp.doc(description="Changing the phone number needs a recent second factor.")
    def patch(self, payload):
        return rpc.call("users", "update_profile", g.access_token, payload)

    @require_auth(PROFILE_WRITE, step_up=True)
    @blp.response(204)
    @blp.doc(summary="Delete the account (step-up); ends every session")
    def delete(self):
        user_id = g.principal.user_id
        rpc.call("users", "delete_account", g.access_token)
        auth = _auth()
        auth.store.revoke_user(user_id)
        auth.sessions_ended(user_id, None, deleted=True)
        auth.audit.record(
            "session.revoke_all",
            "success",
            user_id=user_id,
            ip=request.remote_addr,
            details={"reason": "account_deleted"},
        )
        return None


@blp.route("/me/email")
class Email(MethodView):
    @require_auth(PROFILE_WRITE, step_up=True)
    @blp.arguments(s.EmailChangeIn)
    @blp.response(200, s.ProfileOut)
    @blp.doc(summary="Change the e-mail address (step-up)")
    def put(self, payload):
        return rpc.call("users", "change_email", g.access_token, payload)


@blp.route("/me/password")
class Password(MethodView):
    @require_auth(PROFILE_WRITE, step_up=True)
    @blp.arguments(s.ChangePasswordIn)
    @blp.response(200, s.ChangePasswordOut)
    @blp.doc(
        summary="Change the password (step-up)",
        description="With `end_other_sessions` every sign-in ends, this one included: sign "
        "in again with the new password.",
    )
    def post(self, payload):
        result = rpc.call("users", "change_password", g.access_token, payload)
        cut = result.get("sessions_revoked_before")
        if cut is not None:
            auth = _auth()
            auth.sessions_ended(g.principal.user_id, int(cut))
            auth.store.revoke_user(g.principal.user_id)
        return result


@blp.route("/password-reset")
class PasswordReset(MethodView):
    @blp.arguments(s.ResetRequestIn)
    @blp.response(202, s.StatusOut)
    @blp.doc(
        summary="Ask for a password-reset e-mail (public)",
        description='Always 202 `{"status": "accepted"}`, whether or not the address is known.',
        security=[],
    )
    def post(self, payload):
        rpc.call("users", "request_password_reset", payload, _context())
        return {"status": "accepted"}


@blp.route("/password-reset/confirm")
class PasswordResetConfirm(MethodView):
    @blp.arguments(s.ResetConfirmIn)
    @blp.response(200, s.StatusOut)
    @blp.doc(
        summary="Set a new password with a reset token (public)",
        description="Does not sign in; every existing session ends; MFA stays as it was.",
        security=[],
    )
    def post(self, payload):
        return rpc.call("users", "reset_password", payload, _context())


EXPORT_TIMEOUT = 60.0  # seconds: a ledger of many years is exported in one answer
# (export key, service, read scope the token needs for that area)
EXPORT_AREAS = (
    ("bank_connections", "aggregation", "accounts:read"),
    ("transactions", "transactions", "transactions:read"),
    ("investments", "portfolio", "portfolio:read"),
)


@blp.route("/me/export")
class Export(MethodView):
    @require_auth(PROFILE_READ, step_up=True)
    @blp.response(200, s.ExportOut)
    @blp.doc(
        summary="Everything held about you (step-up)",
        description=(
            "Profile and security history from the users service, plus linked banks "
            "(`bank_connections`), the ledger with budgets and rules (`transactions`) and "
            "holdings, lots and goals (`investments`), each when the token has that area's read "
            "scope; `omitted` names any area left out for want of a scope. A service that "
            "cannot answer fails the whole export (503): never a silently partial export."
        ),
    )
    def get(self):
        export = rpc.call("users", "export_account", g.access_token)
        export["omitted"] = []
        for key, service, scope in EXPORT_AREAS:
            if scope not in g.principal.scopes:
                export["omitted"].append({"area": key, "required_scope": scope})
                continue
            export[key] = rpc.call(
                service, "export_user_data", g.access_token, timeout=EXPORT_TIMEOUT
            )
        return export


@blp.route("/me/risk-profile")
class RiskProfile(MethodView):
    @require_auth(PROFILE_READ)
    @blp.response(200, s.RiskProfileOut)
    def get(self):
        from common.errors import NotFound

        result = rpc.call("users", "get_risk_profile", g.access_token)
        if result is None:
            raise NotFound("No risk profile yet; answer the questionnaire with PUT")
        return result

    @require_auth(PROFILE_WRITE)
    @blp.arguments(s.RiskProfileIn)
    @blp.response(200, s.RiskProfileOut)
    def put(self, payload):
        return rpc.call("users", "set_risk_profile", g.access_token, payload)


@blp.route("/me/security-events")
class SecurityEvents(MethodView):
    @require_auth(PROFILE_READ)
    @blp.arguments(s.SecurityEventsQuery, location="query")
    @blp.response(200, s.SecurityEventsOut)
    def get(self, query):
        return rpc.call("users", "security_events", g.access_token, query)


@blp.route("/me/mfa/totp")
class Totp(MethodView):
    @require_auth(PROFILE_WRITE)
    @blp.response(201, s.EnrollOut)
    @blp.doc(summary="Start TOTP enrolment: otpauth URI and QR code (PNG, base64)")
    def post(self):
        return rpc.call("users", "mfa_totp_enroll", g.access_token)

    @require_auth(PROFILE_WRITE, step_up=True)
    @blp.arguments(s.CodeIn)
    @blp.response(200, s.StatusOut)
    @blp.doc(summary="Remove TOTP (step-up and a current code)")
    def delete(self, payload):
        rpc.call("users", "mfa_disable", g.access_token, payload)
        return {"status": "mfa_disabled"}


@blp.route("/me/mfa/totp/confirm")
class TotpConfirm(MethodView):
    @require_auth(PROFILE_WRITE)
    @blp.arguments(s.CodeIn)
    @blp.response(200, s.RecoveryCodesOut)
    @blp.doc(summary="Confirm TOTP with a first code; returns 10 single-use recovery codes")
    def post(self, payload):
        return rpc.call("users", "mfa_totp_confirm", g.access_token, payload)


@blp.route("/logout")
class Logout(MethodView):
    @require_auth()
    @blp.arguments(s.LogoutQuery, location="query")
    @blp.response(204)
    @blp.doc(
        summary="Sign out: this access token and its refresh family (`?everywhere=true`: "
        "every sign-in of the user)"
    )
    def post(self, query):
        from gateway.auth.oauth_routes import revoke_token

        auth = _auth()
        revoke_token(auth, g.access_token, None)
        if query["everywhere"]:
            auth.store.revoke_user(g.principal.user_id)
        return None
