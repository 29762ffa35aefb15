"""Alembic per service: each service keeps its own ``<service>/migrations`` history and version
table in its own database, applied with that service's own role (so it owns its tables)."""

from __future__ import annotations

import importlib

from alembic import command
from alembic.config import Config

from common.config import REPO_ROOT, SERVICES, load


def alembic_config(service: str, url: str | None = None) -> Config:
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}")
    config = Config()
    config.set_main_option("script_location", str(REPO_ROOT / service / "migrations"))
    config.set_main_option(
        "sqlalchemy.url", (url or load().database_url(service)).replace("%", "%%")
    )
    config.attributes["service"] = service
    return config


def upgrade(service: str, revision: str = "head", url: str | None = None) -> None:
    command.upgrade(alembic_config(service, url), revision)


def downgrade(service: str, revision: str, url: str | None = None) -> None:
    command.downgrade(alembic_config(service, url), revision)


def run_env(context, service: str) -> None:
    """Body of every ``<service>/migrations/env.py``."""
    from sqlalchemy import engine_from_config, pool

    metadata = importlib.import_module(f"{service}.models").Base.metadata
    config = context.config
    if context.is_offline_mode():
        context.configure(
            url=config.get_main_option("sqlalchemy.url"),
            target_metadata=metadata,
            literal_binds=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
