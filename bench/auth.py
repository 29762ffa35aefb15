"""Identity-layer costs: token verification per call, and the gateway's authenticated RPS.

In one run:
1. ``verify``: ``common.principal.PrincipalVerifier.verify`` (what every service does per RPC)
   next to the floor it is built on, a bare PyJWT ES256 ``jwt.decode`` with the same key
   (ratio = verify / bare decode); plus the gateway's full check ``bearer.authenticate``
   (verify + Redis deny-list + cached session state).
2. ``rps``: gunicorn (2 gthread workers x 8 threads, a real process) in front of a real
   ``nameko run`` users service; 16 concurrent clients doing ``GET /v1/me`` with a token
   obtained through the real OAuth flow (``gateway.cli.login``). Rate limits are off for this
   run (``NESTEGG_RATELIMIT_ENABLED=false``), otherwise the per-user limit would be measured.
3. ``auth_share``: in-process profile of the same request through the Flask app over the real
   RPC pool and Redis: mean time in ``bearer.authenticate`` / mean time of the whole request.

Prints the figures and writes bench/results/auth.json. Never passes or fails on a time.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from _common import bench_environment, summarize, timed, write_result  # noqa: E402

bench_environment()
PASSWORD = "bench harbour lights glow softly"  # noqa: S105 - a throwaway bench account


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_verify(n: int) -> dict:
    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec

    from gateway.auth.tokens import AccessTokenIssuer

    issuer = AccessTokenIssuer(
        ec.generate_private_key(ec.SECP256R1()),
        kid="bench",
        issuer="https://id.example",
        audience="nestegg-api",
    )
    token = issuer.issue(
        "user-1",
        scope="profile:read profile:write",
        amr=["pwd", "otp"],
        auth_time=None,
        client_id="nestegg-cli",
        mfa=True,
    ).token
    verifier = issuer.verifier
    public = issuer.private_key.public_key()

    def bare():
        jwt.decode(token, public, algorithms=["ES256"], audience="nestegg-api")

    verify = summarize(timed(lambda: verifier.verify(token), n))
    floor = summarize(timed(bare, n))
    return {
        "principal_verify": verify,
        "bare_pyjwt_es256_decode": floor,
        "ratio_verify_over_bare_p50": round(verify["p50_ms"] / floor["p50_ms"], 3),
    }


def wait_http(url: str, timeout: float) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer in {timeout}s")


def sign_in(base: str, tmp_dir) -> str:
    import json
    import uuid

    import requests

    from gateway.cli import login

    email = f"bench.{uuid.uuid4().hex[:10]}@example.org"
    created = requests.post(
        f"{base}/v1/users",
        json={"email": email, "password": PASSWORD, "name": "Bench User"},
        timeout=30,
    )
    created.raise_for_status()
    path = login(
        base,
        email=email,
        password=PASSWORD,
        open_browser=False,
        timeout=30,
        state_dir=tmp_dir,
        scope="profile",
    )
    return json.loads(path.read_text())["access_token"]


def bench_rps(base: str, token: str, clients: int, seconds: float) -> dict:
    import requests

    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker():
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        mine, bad = [], 0
        while time.monotonic() < stop:
            started = time.perf_counter()
            response = session.get(f"{base}/v1/me", timeout=10)
            mine.append(time.perf_counter() - started)
            bad += response.status_code != 200
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    return {
        "clients": clients,
        "seconds": round(elapsed, 2),
        "requests": len(latencies),
        "errors": errors[0],
        "rps": round(len(latencies) / elapsed, 1),
        "latency": summarize(latencies),
    }


def bench_auth_share(settings, token: str, n: int) -> dict:
    """In-process: time spent in bearer.authenticate vs the whole GET /v1/me request."""
    from gateway.app import create_app, shutdown
    from gateway.auth import bearer
    from gateway.auth.config import AuthConfig

    app = create_app(settings, auth_config=AuthConfig(ratelimit_enabled=False))
    spent: list[float] = []
    original = bearer.authenticate

    def measured(raw):
        started = time.perf_counter()
        try:
            return original(raw)
        finally:
            spent.append(time.perf_counter() - started)

    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    bearer.authenticate = measured
    try:
        totals = timed(lambda: client.get("/v1/me", headers=headers), n, warmup=30)
    finally:
        bearer.authenticate = original
        shutdown(app)
    auth = spent[-n:]
    return {
        "request": summarize(totals),
        "authenticate": summarize(auth),
        "auth_share_of_request_mean": round(sum(auth) / sum(totals), 4),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=3000, help="verifications per path")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args(argv)

    import tempfile
    from pathlib import Path

    from common import config, provision
    from common.stack import Stack

    results = {"verify": bench_verify(args.n)}
    settings = config.load()
    provision.setup_all(settings)
    port = free_port()
    settings = dataclasses.replace(settings, gateway_port=port)
    stack = Stack(
        settings,
        env={
            "NESTEGG_GATEWAY_PORT": str(port),
            "NESTEGG_RATELIMIT_ENABLED": "false",
        },
    )
    base = f"http://127.0.0.1:{port}"
    try:
        stack.start_service("users")
        stack.start_gateway(workers=2, threads=8)
        wait_http(f"{base}/healthz", 60)
        deadline = time.monotonic() + 60
        while True:
            try:
                with tempfile.TemporaryDirectory() as tmp:
                    token = sign_in(base, Path(tmp))
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        bench_rps(base, token, args.clients, 2.0)  # warm-up: pools, caches
        results["rps"] = bench_rps(base, token, args.clients, args.seconds)
        results["in_process"] = bench_auth_share(settings, token, 500)
    finally:
        stack.stop_all()
    path = write_result("auth", {"results": results})
    v, r, p = results["verify"], results["rps"], results["in_process"]
    print(
        f"PrincipalVerifier.verify p50 {v['principal_verify']['p50_ms']} ms; bare PyJWT "
        f"ES256 decode p50 {v['bare_pyjwt_es256_decode']['p50_ms']} ms; "
        f"ratio {v['ratio_verify_over_bare_p50']}"
    )
    print(
        f"GET /v1/me via gunicorn, {r['clients']} clients: {r['rps']} req/s, "
        f"p50 {r['latency']['p50_ms']} ms, p95 {r['latency']['p95_ms']} ms, "
        f"errors {r['errors']}/{r['requests']}"
    )
    print(
        f"in-process: authenticate p50 {p['authenticate']['p50_ms']} ms of request p50 "
        f"{p['request']['p50_ms']} ms; auth share of mean request time "
        f"{p['auth_share_of_request_mean']:.1%}"
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
