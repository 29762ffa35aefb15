"""gunicorn access log as one JSON object a line, without query strings.

Query strings can carry secrets (OAuth codes, tokens), so only the path is logged; the line is
built with ``json.dumps`` (a quote in a path cannot break it) and passed through the redaction
of :mod:`common.logging`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

from gunicorn.glogging import Logger

from common.logging import redact


def access_entry(status: str | int, environ: dict, request_time, response_length, headers) -> dict:
    status_code = int(str(status).split(" ", 1)[0]) if status else None
    request_id = next((v for k, v in headers if k.lower() == "x-request-id"), None)
    return {
        "ts": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
        "level": "INFO",
        "service": "gateway",
        "logger": "gateway.access",
        "message": "request",
        "method": environ.get("REQUEST_METHOD"),
        "path": redact(environ.get("PATH_INFO", "")),
        "status": status_code,
        "bytes": response_length,
        "duration_ms": round(request_time.total_seconds() * 1000, 2),
        "remote_addr": environ.get("REMOTE_ADDR"),
        "request_id": request_id,
    }


class JsonAccessLogger(Logger):
    def access(self, resp, req, environ, request_time):
        if not (self.cfg.accesslog or self.cfg.logconfig or self.cfg.logconfig_dict):
            return
        entry = access_entry(
            resp.status, environ, request_time, getattr(resp, "sent", None), resp.headers
        )
        try:
            self.access_log.info(json.dumps(entry))
        except Exception:  # logging must never break a response
            logging.getLogger(__name__).debug("access log failed", exc_info=True)
