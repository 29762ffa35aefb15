"""``nestegg keys rotate`` and ``nestegg keys status``.

Wire into the main CLI with::

    subparsers = parser.add_subparsers(dest="command", required=True)
    add_keys_subcommands(subparsers)
    args = parser.parse_args()
    sys.exit(args.func(args))

The commands work on every table column registered with ``register_encrypted_columns``. The
registrations live in the service model modules, which are imported first: the modules named
with ``--models`` (repeatable), else in ``$NESTEGG_ENCRYPTED_MODELS`` (comma-separated), else
``DEFAULT_MODEL_MODULES`` (a default module that does not exist yet is skipped with a note).
Exit status: 0 done, 1 stale tokens remain (locked rows: run again), 2 configuration error.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TextIO

from sqlalchemy import create_engine

from common.config import SERVICES
from common.crypto.errors import CryptoError
from common.crypto.providers.base import KeyProvider
from common.crypto.providers.factory import get_key_provider
from common.crypto.registry import (
    EncryptedColumns,
    registered_encrypted_columns,
    resolve_database_url,
)
from common.crypto.rotation import DEFAULT_BATCH_SIZE, RewrapTarget, rotate_and_rewrap
from common.crypto.sql_source import SqlAlchemyRewrapSource

DEFAULT_MODEL_MODULES = tuple(f"{s}.models" for s in SERVICES)


class ConfigurationError(Exception):
    pass


def add_keys_subcommands(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    keys = subparsers.add_parser("keys", help="key-encryption-key rotation and status")
    sub = keys.add_subparsers(dest="keys_command", required=True)

    rotate = sub.add_parser(
        "rotate", help="add a KEK version and rewrap every registered encrypted column"
    )
    rotate.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    rotate.add_argument(
        "--rewrap-only",
        action="store_true",
        help="do not add a version; finish rewrapping to the current one (resume)",
    )
    status = sub.add_parser("status", help="KEK versions and token counts per column")
    for p in (rotate, status):
        p.add_argument("--models", action="append", metavar="MODULE", help="model module to import")
        p.add_argument("--json", action="store_true", help="print one JSON document")
    keys.set_defaults(func=run_keys_command)
    return keys


def run_keys_command(
    args: argparse.Namespace,
    *,
    provider: KeyProvider | None = None,
    env: Mapping[str, str] | None = None,
    out: TextIO | None = None,
) -> int:
    env = os.environ if env is None else env
    out = out or sys.stdout
    try:
        notes = import_model_modules(args.models, env)
        provider = provider or get_key_provider(env)
        sources = build_sources(registered_encrypted_columns(), env)
        try:
            if args.keys_command == "rotate":
                result = _rotate(provider, sources, args)
            else:
                result = _status(provider, sources)
        finally:
            for source in sources:
                source.engine.dispose()
    except (ConfigurationError, CryptoError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result["notes"] = notes
    _print(result, args.json, out)
    return 1 if result.get("remaining", 0) else 0


def import_model_modules(requested: Sequence[str] | None, env: Mapping[str, str]) -> list[str]:
    notes = []
    from_env = [m.strip() for m in env.get("NESTEGG_ENCRYPTED_MODELS", "").split(",") if m.strip()]
    explicit = list(requested or from_env)
    for module in explicit or DEFAULT_MODEL_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            missing_itself = exc.name is not None and module.startswith(exc.name)
            if explicit or not missing_itself:
                raise ConfigurationError(f"cannot import model module {module}: {exc}") from exc
            notes.append(f"default model module {module} not found, skipped")
    return notes


def build_sources(
    entries: Sequence[EncryptedColumns], env: Mapping[str, str]
) -> list[SqlAlchemyRewrapSource]:
    engines = {}
    sources = []
    for entry in entries:
        url = resolve_database_url(entry, env)
        if not url:
            raise ConfigurationError(
                f"{entry.qualified_table} is registered under ${entry.database_url_env}, "
                "which is not set"
            )
        if url not in engines:
            engines[url] = create_engine(url, pool_pre_ping=True)
        sources.append(
            SqlAlchemyRewrapSource(
                engines[url], entry.table, entry.pk, entry.columns, schema=entry.schema
            )
        )
    return sources


def _rotate(provider: KeyProvider, sources, args) -> dict:
    report = rotate_and_rewrap(
        provider, sources, rotate=not args.rewrap_only, batch_size=args.batch_size
    )
    return {
        "command": "rotate",
        "provider": report.provider,
        "version": report.version,
        "rotated": report.rotated,
        "rewrapped": report.rewrapped,
        "remaining": report.remaining,
        "sources": [vars(s) for s in report.sources],
    }


def _status(provider: KeyProvider, sources) -> dict:
    status = provider.status()
    target = RewrapTarget(provider=status.provider, version=status.current_version)
    columns = {s.name: s.count_by_state(target) for s in sources}
    remaining = sum(c["stale"] for per in columns.values() for c in per.values())
    return {
        "command": "status",
        "provider": status.provider,
        "version": status.current_version,
        "min_decryption_version": status.min_decryption_version,
        "details": status.details,
        "columns": columns,
        "remaining": remaining,
    }


def _print(result: dict, as_json: bool, out: TextIO) -> None:
    if as_json:
        print(json.dumps(result, indent=2, sort_keys=True, default=str), file=out)
        return
    for note in result["notes"]:
        print(f"note: {note}", file=out)
    print(f"provider: {result['provider']}  current KEK version: {result['version']}", file=out)
    if result["command"] == "rotate":
        verb = "rotated to" if result["rotated"] else "rewrapped to"
        print(f"{verb} v{result['version']}: {result['rewrapped']} tokens rewrapped", file=out)
        for s in result["sources"]:
            print(
                f"  {s['name']}: rewrapped {s['rewrapped']}, remaining {s['remaining']}", file=out
            )
    else:
        print(f"min decryption version: {result['min_decryption_version']}", file=out)
        for name, per_column in result["columns"].items():
            for col, counts in per_column.items():
                counts_text = ", ".join(f"{k} {v}" for k, v in counts.items())
                print(f"  {name} {col}: {counts_text}", file=out)
    if result["remaining"]:
        print(
            f"{result['remaining']} tokens still under an older KEK version: "
            "run `nestegg keys rotate --rewrap-only`",
            file=out,
        )
