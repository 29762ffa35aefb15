"""users service entrypoints (thin: validate, call domain code, dispatch events).

Every user-facing RPC takes the caller's access token first (``principal``) and is wrapped in
``common.rpc.boundary``; public ones (register, authenticate, password reset) take a JSON
payload and a ``context`` ({ip, user_agent}) used for the audit log only. The OAuth client
RPCs and ``record_security_event`` are for the gateway and the operator CLI (reachable only
by broker users allowed on this service's RPC queue). See docs/users.md for the contract.
"""

from __future__ import annotations

import json

from nameko.rpc import rpc
from nameko.timer import timer
from sqlalchemy import text

from common.config import env_float
from common.errors import NotFound, ValidationFailed
from common.logging import user_id_var
from common.nameko_deps import Database, Outbox, Redis, RequestContext
from common.rpc import boundary
from common.schemas import validate_or_raise
from common.service_base import NesteggService
from users import accounts, audit, clock, keys, login, mfa, passwords, registry, risk
from users import schemas as s
from users.errors import CommitThenRaise
from users.models import OutboxEvent, ProcessedEvent, RiskProfile, User

PROFILE_READ = "profile:read"
PROFILE_WRITE = "profile:write"
_CONTEXT = s.ContextSchema()
SCRUB_RESET_TOKENS_SQL = text(
    """
    UPDATE outbox
       SET payload = jsonb_set(payload, '{data,reset_token}', '"[scrubbed]"')
     WHERE event_type = 'password_reset_requested'
       AND (published_at IS NOT NULL OR created_at < now() - interval '30 minutes')
       AND payload -> 'data' ->> 'reset_token' <> '[scrubbed]'
    """
)


def _context(raw) -> dict:
    return validate_or_raise(_CONTEXT, raw)


class UsersService(NesteggService):
    name = "users"
    inbox_model = ProcessedEvent

    db = Database(name)
    outbox = Outbox(OutboxEvent)
    redis = Redis()
    context = RequestContext()

    # --- plumbing ---------------------------------------------------------------------------
    def _work(self, fn):
        """Run ``fn(session, events)`` in one transaction; events go to the outbox in it.

        ``CommitThenRaise`` commits the writes made so far (failure counters, audit rows) and
        then raises the domain error it carries.
        """
        events: list[tuple[str, dict]] = []
        error = None
        with self.db.transaction() as session:
            try:
                result = fn(session, events)
            except CommitThenRaise as signal:
                error = signal.error
            for event_type, data in events:
                self.outbox.add(session, event_type, data, user_id=data.get("user_id"))
        if error is not None:
            raise error
        return result

    def _as_user(self, principal, fn, *, for_update: bool = False):
        user_id_var.set(principal.user_id)

        def run(session, events):
            user = accounts.live_user(session, principal.user_id, for_update=for_update)
            return fn(session, user, events)

        return self._work(run)

    # --- registration and sign-in ---------------------------------------------------------
    @rpc
    @boundary(request=s.RegisterIn(), response=s.ProfileOut(), authenticated=False)
    def register(self, payload, context=None):
        ctx = _context(context)

        def run(session, events):
            user = accounts.register(
                session, payload, now=clock.now(), cost=passwords.bcrypt_cost()
            )
            audit.record(
                session,
                event="account.register",
                outcome="success",
                user_id=user.id,
                ip=ctx["ip"],
            )
            events.append(("user_registered", {"user_id": user.id}))
            return accounts.profile(user)

        return self._work(run)

    @rpc
    @boundary(request=s.AuthenticateIn(), response=s.AuthenticatedOut(), authenticated=False)
    def authenticate(self, payload, context=None):
        ctx = _context(context)
        return self._work(
            lambda session, events: login.authenticate(
                session,
                payload,
                ctx,
                now=clock.now(),
                cost=passwords.bcrypt_cost(),
                events=events,
            )
        )

    @rpc
    @boundary(response=s.SessionStateOut())
    def get_session_state(self, principal):
        """For the gateway's refresh checks: tokens issued before ``sessions_valid_after``
        (epoch seconds) are void; a deleted account has no session at all."""
        with self.db.transaction() as session:
            user = session.get(User, principal.user_id)
            if user is None:
                raise NotFound("No such account")
            return {
                "sessions_valid_after": accounts.epoch(user.sessions_valid_after),
                "deleted": user.deleted_at is not None,
            }

    # --- profile ----------------------------------------------------------------------------
    @rpc
    @boundary(response=s.ProfileOut(), scopes=(PROFILE_READ,))
    def get_profile(self, principal):
        return self._as_user(principal, lambda session, user, events: accounts.profile(user))

    @rpc
    @boundary(request=s.ProfileUpdateIn(), response=s.ProfileOut(), scopes=(PROFILE_WRITE,))
    def update_profile(self, principal, payload):
        def run(session, user, events):
            if "phone" in payload and payload["phone"] != accounts.profile(user)["phone"]:
                principal.require_step_up()
            accounts.update_profile(session, user, payload, now=clock.now())
            audit.record(
                session,
                event="profile.update",
                outcome="success",
                user_id=user.id,
                details={"fields": sorted(payload)},
            )
            return accounts.profile(user)

        return self._as_user(principal, run, for_update=True)

    @rpc
    @boundary(
        request=s.ChangeEmailIn(), response=s.ProfileOut(), scopes=(PROFILE_WRITE,), step_up=True
    )
    def change_email(self, principal, payload):
        def run(session, user, events):
            accounts.change_email(session, user, payload["email"], now=clock.now())
            audit.record(session, event="email.change", outcome="success", user_id=user.id)
            events.append(("security_event", {"user_id": user.id, "event": "email_changed"}))
            return accounts.profile(user)

        return self._as_user(principal, run, for_update=True)

    # --- passwords --------------------------------------------------------------------------
    @rpc
    @boundary(
        request=s.ChangePasswordIn(),
        response=s.ChangePasswordOut(),
        scopes=(PROFILE_WRITE,),
        step_up=True,
    )
    def change_password(self, principal, payload):
        def run(session, user, events):
            now = clock.now()
            if not passwords.verify_password(
                payload["current_password"], user.password_hash, keys.pepper()
            ):
                audit.record(
                    session,
                    event="password.change",
                    outcome="failure",
                    user_id=user.id,
                    details={"reason": "bad_current_password"},
                )
                login.record_failure(session, user.id, now)
                raise CommitThenRaise(
                    ValidationFailed.from_messages(
                        {"current_password": ["The current password is not correct."]}
                    )
                )
            profile = accounts.profile(user)
            accounts.check_password_policy(
                payload["new_password"],
                email=profile["email"],
                name=profile["name"],
                field="new_password",
            )
            if passwords.verify_password(
                payload["new_password"], user.password_hash, keys.pepper()
            ):
                raise ValidationFailed.from_messages(
                    {"new_password": ["Choose a password different from the current one."]}
                )
            accounts.set_password(
                user, payload["new_password"], now=now, cost=passwords.bcrypt_cost()
            )
            revoked = None
            if payload["end_other_sessions"]:
                revoked = accounts.end_sessions(user, now=now)
            audit.record(
                session,
                event="password.change",
                outcome="success",
                user_id=user.id,
                details={"end_other_sessions": payload["end_other_sessions"]},
            )
            events.append(
                (
                    "password_changed",
                    {"user_id": user.id, "end_other_sessions": payload["end_other_sessions"]},
                )
            )
            return {"password_changed_at": now, "sessions_revoked_before": revoked}

        return self._as_user(principal, run, for_update=True)

    @rpc
    @boundary(request=s.ResetRequestIn(), response=s.StatusOut(), authenticated=False)
    def request_password_reset(self, payload, context=None):
        """Always ``{"status": "accepted"}``; the token travels only in the notifier event."""
        ctx = _context(context)

        def run(session, events):
            user = accounts.find_by_email(session, payload["email"])
            if user is not None:
                token = accounts.create_reset_token(session, user, now=clock.now())
                audit.record(
                    session,
                    event="password.reset_request",
                    outcome="success",
                    user_id=user.id,
                    ip=ctx["ip"],
                )
                events.append(
                    ("password_reset_requested", {"user_id": user.id, "reset_token": token})
                )
            else:
                audit.record(
                    session,
                    event="password.reset_request",
                    outcome="failure",
                    ip=ctx["ip"],
                    details={"reason": "unknown_email"},
                )
            return {"status": "accepted"}

        return self._work(run)

    @rpc
    @boundary(request=s.ResetPasswordIn(), response=s.StatusOut(), authenticated=False)
    def reset_password(self, payload, context=None):
        """Set a new password with a reset token. Does not sign in and keeps MFA as it was."""
        ctx = _context(context)

        def run(session, events):
            now = clock.now()
            user = accounts.claim_reset_token(session, payload["token"], now=now)
            profile = accounts.profile(user)
            accounts.check_password_policy(
                payload["new_password"],
                email=profile["email"],
                name=profile["name"],
                field="new_password",
            )
            accounts.set_password(
                user, payload["new_password"], now=now, cost=passwords.bcrypt_cost()
            )
            accounts.end_sessions(user, now=now)
            login.record_success(session, user.id)
            audit.record(
                session,
                event="password.reset",
                outcome="success",
                user_id=user.id,
                ip=ctx["ip"],
            )
            events.append(("password_changed", {"user_id": user.id, "end_other_sessions": True}))
            return {"status": "password_changed"}

        return self._work(run)

    # --- export and deletion ---------------------------------------------------------------
    @rpc
    @boundary(response=s.ExportOut(), scopes=(PROFILE_READ,), step_up=True)
    def export_account(self, principal):
        def run(session, user, events):
            audit.record(session, event="account.export", outcome="success", user_id=user.id)
            return accounts.export(session, user, now=clock.now())

        return self._as_user(principal, run)

    @rpc
    @boundary(response=s.StatusOut(), scopes=(PROFILE_WRITE,), step_up=True)
    def delete_account(self, principal):
        def run(session, user, events):
            accounts.erase(session, user, now=clock.now())
            audit.record(session, event="account.delete", outcome="success", user_id=user.id)
            events.append(("user_deleted", {"user_id": user.id}))
            return {"status": "deleted"}

        return self._as_user(principal, run, for_update=True)

    # --- risk questionnaire -----------------------------------------------------------------
    @rpc
    @boundary(request=s.RiskProfileIn(), response=s.RiskProfileOut(), scopes=(PROFILE_WRITE,))
    def set_risk_profile(self, principal, payload):
        def run(session, user, events):
            scored = risk.score(payload)
            now = clock.now()
            row = session.get(RiskProfile, user.id) or RiskProfile(user_id=user.id)
            row.answers = keys.encrypt(
                "risk_profiles", "answers", user.id, json.dumps(payload, sort_keys=True)
            )
            row.capacity, row.tolerance = scored["capacity"], scored["tolerance"]
            row.risk_score = scored["risk_score"]
            row.updated_at = now
            session.add(row)
            audit.record(
                session,
                event="risk_profile.update",
                outcome="success",
                user_id=user.id,
                details={"risk_score": scored["risk_score"]},
            )
            events.append(
                (
                    "risk_profile_updated",
                    {
                        "user_id": user.id,
                        "risk_score": scored["risk_score"],
                        "horizon_years": payload["horizon_years"],
                    },
                )
            )
            return accounts.risk_view(row)

        return self._as_user(principal, run, for_update=True)

    @rpc
    @boundary(scopes=(PROFILE_READ,))
    def get_risk_profile(self, principal):
        """The scored questionnaire, or None when it was never answered."""
        view = self._as_user(
            principal,
            lambda session, user, events: accounts.risk_view(session.get(RiskProfile, user.id)),
        )
        return None if view is None else s.RiskProfileOut().dump(view)

    # --- MFA --------------------------------------------------------------------------------
    @rpc
    @boundary(response=s.EnrollOut(), scopes=(PROFILE_WRITE,))
    def mfa_totp_enroll(self, principal):
        """Start (or restart) TOTP enrolment; replacing an enabled factor needs step-up."""

        def run(session, user, events):
            if user.mfa_enabled:
                principal.require_step_up()
            result = mfa.enroll(user, accounts.profile(user)["email"])
            audit.record(session, event="mfa.enroll", outcome="success", user_id=user.id)
            return result

        return self._as_user(principal, run, for_update=True)

    @rpc
    @boundary(request=s.CodeIn(), response=s.RecoveryCodesOut(), scopes=(PROFILE_WRITE,))
    def mfa_totp_confirm(self, principal, payload):
        def run(session, user, events):
            if user.mfa_enabled:
                principal.require_step_up()
            codes = mfa.confirm(session, user, payload["code"], clock.now())
            audit.record(session, event="mfa.confirm", outcome="success", user_id=user.id)
            events.append(("mfa_changed", {"user_id": user.id, "mfa_enabled": True}))
            return {"recovery_codes": codes}

        return self._as_user(principal, run, for_update=True)

    @rpc
    @boundary(request=s.CodeIn(), response=s.MfaStateOut(), scopes=(PROFILE_WRITE,), step_up=True)
    def mfa_disable(self, principal, payload):
        def run(session, user, events):
            now = clock.now()
            if not mfa.disable(session, user, payload["code"], now):
                audit.record(
                    session,
                    event="mfa.disable",
                    outcome="failure",
                    user_id=user.id,
                    details={"reason": "bad_code"},
                )
                login.record_failure(session, user.id, now)
                raise CommitThenRaise(
                    ValidationFailed.from_messages(
                        {"code": [mfa.INVALID_CODE]}, detail=mfa.INVALID_CODE
                    )
                )
            audit.record(session, event="mfa.disable", outcome="success", user_id=user.id)
            events.append(("mfa_changed", {"user_id": user.id, "mfa_enabled": False}))
            return {"mfa_enabled": False}

        return self._as_user(principal, run, for_update=True)

    # --- audit ------------------------------------------------------------------------------
    @rpc
    @boundary(request=s.SecurityEventsIn(), response=s.SecurityEventsOut(), scopes=(PROFILE_READ,))
    def security_events(self, principal, payload):
        def run(session, user, events):
            rows = audit.events_for(
                session, user.id, limit=payload["limit"], before=payload["before"]
            )
            full = len(rows) == payload["limit"]
            return {"events": rows, "next_before": rows[-1]["id"] if rows and full else None}

        return self._as_user(principal, run)

    @rpc
    @boundary(request=s.RecordSecurityEventIn(), response=s.StatusOut(), authenticated=False)
    def record_security_event(self, payload):
        """For the gateway: token issue/revocation, authorisation failures."""
        try:
            audit.check_event(payload["event"], payload["outcome"])
            details = audit.sanitise_details(payload["details"])
        except ValueError as exc:
            raise ValidationFailed.from_messages({"_schema": [str(exc)]}) from None

        def run(session, events):
            audit.record(
                session,
                event=payload["event"],
                outcome=payload["outcome"],
                user_id=payload["user_id"],
                actor="gateway",
                ip=payload["ip"],
                client_id=payload["client_id"],
                details=details,
            )
            return {"status": "recorded"}

        return self._work(run)

    # --- OAuth clients ----------------------------------------------------------------------
    @rpc
    @boundary(request=s.ClientIdIn(), response=s.OAuthClientOut(), authenticated=False)
    def get_oauth_client(self, payload):
        with self.db.transaction() as session:
            client = registry.get_client(session, payload["client_id"])
            if client is None:
                raise NotFound("No such OAuth client")
            return registry.client_view(client)

    @rpc
    @boundary(request=s.ClientSecretIn(), authenticated=False)
    def verify_client_secret(self, payload):
        with self.db.transaction() as session:
            return registry.verify_secret(
                session,
                payload["client_id"],
                payload["client_secret"],
                cost=passwords.bcrypt_cost(),
            )

    @rpc
    @boundary(request=s.OAuthClientIn(), response=s.OAuthClientCreatedOut(), authenticated=False)
    def create_oauth_client(self, payload):
        try:
            for uri in payload["redirect_uris"]:
                registry.check_redirect_uri(uri)
        except ValueError as exc:
            raise ValidationFailed.from_messages({"redirect_uris": [str(exc)]}) from None

        def run(session, events):
            created = registry.create_client(session, payload, cost=passwords.bcrypt_cost())
            audit.record(
                session,
                event="oauth_client.create",
                outcome="success",
                actor="operator",
                client_id=created["client_id"],
                details={"name": payload["name"]},
            )
            return created

        return self._work(run)

    # --- housekeeping -----------------------------------------------------------------------
    @timer(interval=env_float("NESTEGG_USERS_SCRUB_INTERVAL", 10.0))
    def scrub_reset_tokens(self):
        """Reset tokens leave the outbox once published, or once expired if they could not be
        published (they live on only as a hash in password_resets)."""
        with self.db.transaction() as session:
            session.execute(SCRUB_RESET_TOKENS_SQL)
