"""Request-body checks that answer with Plaid's INVALID_REQUEST errors."""

from __future__ import annotations

from datetime import date

from .errors import invalid_field, missing_fields


def require(body: dict, *names: str) -> None:
    missing = [name for name in names if body.get(name) in (None, "")]
    if missing:
        raise missing_fields(missing)


def string(body: dict, name: str, default: str | None = None) -> str | None:
    value = body.get(name, default)
    if value is not None and not isinstance(value, str):
        raise invalid_field(f"{name} must be a string")
    return value


def integer(body: dict, name: str, default: int, low: int, high: int) -> int:
    value = body.get(name, default)
    if value is None:
        value = default
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_field(f"{name} must be an integer")
    if not low <= value <= high:
        raise invalid_field(f"{name} must be between {low} and {high}")
    return value


def boolean(body: dict, name: str, default: bool = False) -> bool:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise invalid_field(f"{name} must be a boolean")
    return value


def string_list(body: dict, name: str) -> list[str] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid_field(f"{name} must be a list of strings")
    return value


def object_field(body: dict, name: str) -> dict:
    value = body.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid_field(f"{name} must be an object")
    return value


def iso_date(body: dict, name: str) -> date:
    value = body.get(name)
    if not isinstance(value, str):
        raise invalid_field(f"{name} must be a date string in YYYY-MM-DD format")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise invalid_field(f"{name} must be a date string in YYYY-MM-DD format") from None
