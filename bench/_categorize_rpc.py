"""Single-transaction categorisation through RPC, for bench/categorize.py.

Starts the real transactions service (``nameko run``, its own broker user) on the bench
deployment with the bench's model in a temporary artefact store, and times
``suggest_category`` through the gateway's RPC pool with a signed access token: the whole path a
user's request takes after the gateway (token verification in the service, the user's rules
and corrections read from PostgreSQL, the model, the Redis prediction cache). Side by side, in
the same rounds: ``health`` through the same pool (the RPC floor of this machine).
"""

from __future__ import annotations

import tempfile
import time

from _common import bench_environment, summarize, timed


def rpc_latency(model, sample: list[dict], n: int) -> dict:
    bench_environment()
    from common import config, provision
    from common.principal import TokenSigner
    from common.rpc_pool import RpcPool
    from common.stack import Stack
    from transactions.categorizer.artifacts import LocalArtifactStore, save_model

    settings = config.load()
    provision.setup_all(settings)
    signer = TokenSigner(issuer=settings.jwt_issuer, audience=settings.jwt_audience)
    token = signer.sign("bench-user", scopes=("transactions:read",))
    with tempfile.TemporaryDirectory() as store_dir:
        save_model(LocalArtifactStore(store_dir), model)
        stack = Stack(
            settings,
            env={"NESTEGG_JWT_PUBLIC_KEY": signer.public_pem(), "NESTEGG_ARTIFACT_DIR": store_dir},
        )
        stack.start_service("transactions")
        pool = RpcPool(settings.amqp_uri("gateway"), size=2, timeout=30)
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    pool.call("transactions", "health")
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
            bodies = [{"description": t["description"], "amount": str(t["amount"])} for t in sample]
            pool.call("transactions", "suggest_category", token, bodies[0])  # loads the model
            cold_it, warm_it = iter(bodies[1:]), iter(bodies * 2)
            samples = {"suggest_category_first_sight": [], "suggest_category_cached": [],
                       "health": []}  # fmt: skip
            rounds = 10
            for _ in range(rounds):
                samples["suggest_category_first_sight"] += timed(
                    lambda: pool.call("transactions", "suggest_category", token, next(cold_it)),
                    n // rounds,
                    warmup=0,
                )
                samples["health"] += timed(
                    lambda: pool.call("transactions", "health"), n // rounds, warmup=5
                )
            for _ in range(rounds):
                samples["suggest_category_cached"] += timed(
                    lambda: pool.call("transactions", "suggest_category", token, next(warm_it)),
                    n // rounds,
                    warmup=0,
                )
        finally:
            pool.close()
            stack.stop_all()
    return {name: summarize(values) for name, values in samples.items()}
