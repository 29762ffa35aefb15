"""RPC round-trip overhead: the gateway's proxy pool vs a bare ClusterRpcProxy vs raw kombu.

All three talk to the same local RabbitMQ in one run:
- raw kombu: a request/reply echo (a responder process consuming one queue, replying to an
  exclusive reply queue with a correlation id) — the floor set by the broker itself;
- bare nameko: a started ``ClusterRpcProxy`` calling ``users.ping`` on a real ``nameko run``
  process;
- gateway pool: the same call through ``common.rpc_pool`` as the gateway makes it (checkout,
  request id in context data, timeout, checkin).
Goal (foundation issue): the gateway path adds no more than 2x over bare nameko RPC at p95.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from _common import bench_environment, summarize, timed, write_result  # noqa: E402

bench_environment()
logging.getLogger("amqp").setLevel(logging.ERROR)

RAW_QUEUE = "bench-raw-echo"


def admin_uri(settings) -> str:
    from urllib.parse import quote

    return f"{settings.amqp_admin_uri.rstrip('/')}/{quote(settings.amqp_vhost, safe='')}".replace(
        "pyamqp", "amqp"
    )


def raw_responder(uri: str, ready) -> None:
    from kombu import Connection, Exchange, Producer, Queue

    with Connection(uri) as conn:
        queue = Queue(RAW_QUEUE, exchange=Exchange(""), routing_key=RAW_QUEUE, auto_delete=True)
        producer = Producer(conn.channel())

        def on_request(body, message):
            producer.publish(
                body,
                routing_key=message.properties["reply_to"],
                serializer="json",
                correlation_id=message.properties["correlation_id"],
            )
            message.ack()

        with conn.Consumer(queue, callbacks=[on_request], accept=["json"]):
            ready.set()
            while True:
                conn.drain_events()


class RawClient:
    def __init__(self, uri: str):
        from kombu import Connection, Consumer, Producer, Queue

        self.conn = Connection(uri)
        self.channel = self.conn.channel()
        self.reply = Queue(f"bench-reply-{uuid.uuid4().hex}", exclusive=True, auto_delete=True)
        self.producer = Producer(self.channel)
        self.replies = {}
        self.consumer = Consumer(
            self.channel, [self.reply], callbacks=[self._on_reply], accept=["json"]
        )
        self.consumer.consume()

    def _on_reply(self, body, message):
        self.replies[message.properties["correlation_id"]] = body
        message.ack()

    def call(self):
        correlation_id = uuid.uuid4().hex
        self.producer.publish(
            {"args": [], "kwargs": {}},
            routing_key=RAW_QUEUE,
            serializer="json",
            reply_to=self.reply.name,
            correlation_id=correlation_id,
        )
        while correlation_id not in self.replies:
            self.conn.drain_events(timeout=5)
        return self.replies.pop(correlation_id)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="calls per path")
    args = parser.parse_args(argv)

    from nameko.standalone.rpc import ClusterRpcProxy

    from common import config, provision
    from common.rpc_pool import RpcPool
    from common.stack import Stack

    settings = config.load()
    provision.setup_all(settings)
    stack = Stack(settings)
    ready = multiprocessing.Event()
    responder = multiprocessing.Process(
        target=raw_responder, args=(admin_uri(settings), ready), daemon=True
    )
    responder.start()
    stack.start_service("users")
    gateway_uri = settings.amqp_uri("gateway")
    try:
        ready.wait(30)
        with ClusterRpcProxy({"AMQP_URI": gateway_uri}, timeout=10) as proxy:
            deadline = time.monotonic() + 60
            while True:  # wait for the service to consume
                try:
                    proxy.users.ping()
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
            raw = RawClient(admin_uri(settings))
            results = {}
            # interleave the three paths in rounds so machine noise hits them alike
            samples = {"raw_kombu": [], "bare_nameko": [], "gateway_pool": []}
            pool = RpcPool(gateway_uri, size=2, timeout=10)
            try:
                rounds = 10
                for _ in range(rounds):
                    samples["raw_kombu"] += timed(raw.call, args.n // rounds, warmup=5)
                    samples["bare_nameko"] += timed(proxy.users.ping, args.n // rounds, warmup=5)
                    samples["gateway_pool"] += timed(
                        lambda: pool.call("users", "ping"), args.n // rounds, warmup=5
                    )
            finally:
                pool.close()
            for name, values in samples.items():
                results[name] = summarize(values)
    finally:
        stack.stop_all()
        responder.terminate()

    ratios = {
        "gateway_pool_over_bare_p95": round(
            results["gateway_pool"]["p95_ms"] / results["bare_nameko"]["p95_ms"], 3
        ),
        "bare_over_raw_kombu_p95": round(
            results["bare_nameko"]["p95_ms"] / results["raw_kombu"]["p95_ms"], 3
        ),
    }
    print(f"{'path':<14}{'p50 ms':>10}{'p95 ms':>10}{'mean ms':>10}")
    for name, figures in results.items():
        print(f"{name:<14}{figures['p50_ms']:>10}{figures['p95_ms']:>10}{figures['mean_ms']:>10}")
    for name, value in ratios.items():
        print(f"{name}: {value}x")
    goal_met = ratios["gateway_pool_over_bare_p95"] <= 2.0
    print(f"goal (gateway pool <= 2x bare nameko at p95): {'met' if goal_met else 'NOT met'}")
    path = write_result(
        "rpc_overhead",
        {
            "results": results,
            "ratios": ratios,
            "goal": {"gateway_pool_over_bare_p95_max": 2.0, "met": goal_met},
        },
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
