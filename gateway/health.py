"""``/healthz`` (the process is alive; touches nothing) and ``/readyz`` (dependencies)."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app

from gateway.openapi import ApiBlueprint
from gateway.readiness import readiness_report
from gateway.rpc import get_rpc

blp = ApiBlueprint("health", __name__, description="Liveness and readiness probes")


class LivenessSchema(ma.Schema):
    status = ma.fields.String(metadata={"example": "ok"})


class CheckSchema(ma.Schema):
    status = ma.fields.String(metadata={"description": "ok, degraded, down or timeout"})
    latency_ms = ma.fields.Float()


class ReadinessSchema(ma.Schema):
    status = ma.fields.String(metadata={"description": "ok or unavailable"})
    checks = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Nested(CheckSchema), metadata={"example": {}}
    )


@blp.route("/healthz", methods=["GET"])
@blp.response(200, LivenessSchema)
def healthz():
    """The gateway process is alive (checks no dependency)."""
    return {"status": "ok"}


@blp.route("/readyz", methods=["GET"])
@blp.response(200, ReadinessSchema)
@blp.alt_response(503, schema=ReadinessSchema, description="A dependency is down")
def readyz():
    """Broker, Redis and every service's health RPC, in parallel with a short timeout each."""
    ext = current_app.extensions["nestegg.readiness"]
    report = readiness_report(
        get_rpc(),
        ext["redis"],
        ext["services"],
        timeout=ext["timeout"],
        executor=ext["executor"],
    )
    return report, (200 if report["status"] == "ok" else 503)
