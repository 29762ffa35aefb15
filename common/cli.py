"""``nestegg``: the operator's command line.

Sub-commands: ``setup`` (databases, roles, broker definitions, migrations), ``run`` (set up, start
the whole stack, wait for /readyz, Ctrl-C stops it), ``migrate``, ``broker-definitions`` (write
rabbitmq/definitions.json), plus what the domain packages add (keys, categorizer, ...).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import signal
import sys
import time
import warnings

from common import config

# (module, function) pairs that add sub-commands; each gets the subparsers object.
EXTENSIONS = (
    ("common.crypto.cli", "add_keys_subcommands"),
    ("transactions.categorizer.cli", "add_categorizer_subcommands"),
    ("gateway.cli", "add_identity_subcommands"),
)


def cmd_setup(args) -> int:
    from common import provision

    settings = config.load()
    provision.setup_all(settings, broker_too=not args.skip_broker)
    print(
        f"set up {len(config.SERVICES)} databases, broker vhost {settings.amqp_vhost!r}, "
        "migrations at head"
    )
    return 0


def cmd_migrate(args) -> int:
    from common import migrate

    settings = config.load()
    unknown = set(args.services) - set(config.SERVICES)
    if unknown:
        print(f"unknown service(s): {sorted(unknown)}", file=sys.stderr)
        return 2
    for service in args.services or config.SERVICES:
        migrate.upgrade(service, url=settings.database_url(service))
        print(f"{service}: at head")
    return 0


def cmd_broker_definitions(args) -> int:
    from common import broker

    broker.write_definitions_file(config.load())
    print(f"wrote {broker.DEFINITIONS_PATH}")
    return 0


def cmd_amqp_uri(args) -> int:
    """Print a service's AMQP URI (its own broker user) for ``nameko run`` in containers."""
    if args.service not in (*config.SERVICES, "gateway"):
        print(f"unknown service {args.service!r}", file=sys.stderr)
        return 2
    print(config.load().amqp_uri(args.service))
    return 0


def cmd_run(args) -> int:
    from common import provision
    from common.stack import Stack

    settings = config.load()
    started = time.monotonic()
    provision.setup_all(settings)
    stack = Stack(settings)
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        ensure_categorizer_model()
        for name, command, env in local_stand_ins(settings):
            stack.start_process(name, command, env)
        stack.start_all()
        stack.wait_ready(timeout=args.timeout)
        demo = None if args.no_demo else seed_demo(settings)
        base = stack.gateway_url
        print(
            f"\nNestegg is up in {time.monotonic() - started:.1f}s\n"
            f"  API            {base}\n"
            f"  API docs       {base}/docs   (OpenAPI: {base}/openapi.json)\n"
            f"  Readiness      {base}/readyz\n"
            f"  RabbitMQ UI    http://127.0.0.1:15672  (vhost {settings.amqp_vhost})\n"
            f"  Logs           {stack.log_dir}\n"
            + (
                f"  Demo sign-in   {demo['email']} / {demo['password']}  (a sandbox bank is "
                "linked; sign in at /oauth/authorize or with `nestegg login`)\n"
                if demo
                else ""
            )
            + "Press Ctrl-C to stop everything.",
            flush=True,
        )
        while not stopping:
            dead = stack.exited()
            if dead:
                print(f"a process exited: {dead}; see {stack.log_dir}", file=sys.stderr)
                return 1
            time.sleep(0.5)
        return 0
    finally:
        print("stopping...", flush=True)
        stack.stop_all()


def ensure_categorizer_model() -> None:
    """Train and store the categorisation model once (first run only); later runs load it."""
    if importlib.util.find_spec("transactions.categorizer.training") is None:
        return
    training = importlib.import_module("transactions.categorizer.training")
    artifacts = importlib.import_module("transactions.categorizer.artifacts")
    try:
        artifacts.load_model(artifacts.store_from_env())
        return
    except artifacts.ArtifactNotFound:
        pass
    print("training the categorisation model (first run only, two to three minutes)...", flush=True)
    training.load_or_train()


def seed_demo(settings):
    """Demo user and a linked sandbox bank (idempotent); a failure only warns."""
    from common import demo
    from common.rpc_pool import RpcPool

    try:
        with RpcPool(settings.amqp_uri("gateway"), size=1, timeout=60) as pool:
            return demo.seed(settings, pool.call)
    except Exception as exc:  # the stack is up; the demo data is a convenience
        print(f"warning: demo data not seeded: {type(exc).__name__}: {exc}", file=sys.stderr)
        return None


def local_stand_ins(settings) -> list[tuple[str, list[str], dict]]:
    """Embedded defaults that replace external providers locally (Plaid sandbox, ...)."""
    stand_ins = []
    if importlib.util.find_spec("aggregation.sandbox.__main__") is not None:
        port = config.env("NESTEGG_PLAID_SANDBOX_PORT", "8090")
        stand_ins.append(
            (
                "plaid-sandbox",
                [
                    sys.executable,
                    "-m",
                    "aggregation.sandbox",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    port,
                ],
                {},
            )
        )
    return stand_ins


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nestegg", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    setup = sub.add_parser("setup", help="create databases, roles, broker definitions; migrate")
    setup.add_argument("--skip-broker", action="store_true")
    setup.set_defaults(func=cmd_setup)
    migrate = sub.add_parser("migrate", help="apply Alembic migrations")
    migrate.add_argument("services", nargs="*", metavar="SERVICE", help=f"any of {config.SERVICES}")
    migrate.set_defaults(func=cmd_migrate)
    defs = sub.add_parser("broker-definitions", help="write rabbitmq/definitions.json")
    defs.set_defaults(func=cmd_broker_definitions)
    amqp = sub.add_parser("amqp-uri", help="print a service's AMQP URI (contains its password)")
    amqp.add_argument("service")
    amqp.set_defaults(func=cmd_amqp_uri)
    run = sub.add_parser("run", help="set up and start the whole stack (Ctrl-C stops it)")
    run.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for /readyz")
    run.add_argument("--no-demo", action="store_true", help="do not seed the demo user")
    run.set_defaults(func=cmd_run)
    for module_name, function in EXTENSIONS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue  # that package is not part of this build
            raise
        getattr(module, function)(sub)
    return parser


def service_database_url(variable: str) -> str | None:
    """Resolve ``NESTEGG_<SERVICE>_DATABASE_URL`` from generated credentials when it is unset."""
    for service in config.SERVICES:
        if variable == f"NESTEGG_{service.upper()}_DATABASE_URL":
            return config.load().database_url(service)
    return None


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    try:
        from common.crypto.registry import register_database_url_resolver
    except ModuleNotFoundError:  # pragma: no cover
        pass
    else:
        register_database_url_resolver(service_database_url)
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
