"""marshmallow base schemas and fields for every service boundary.

- Money is ``Decimal`` in Python and a decimal *string* on the wire; floats are refused so no
  binary rounding ever reaches a balance.
- Datetimes are timezone-aware and normalised to UTC, dumped as ISO-8601 with ``Z``.
- Unknown fields are an error (mass-assignment protection), never silently dropped.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

from marshmallow import RAISE, Schema, ValidationError, fields

UTC = dt.UTC


class Money(fields.Field):
    """A decimal amount: accepts str/int/Decimal, refuses float, NaN and infinities."""

    default_error_messages = {
        "invalid": "Not a valid decimal amount.",
        "float": 'Send amounts as decimal strings (e.g. "12.34"), not JSON floats.',
        "special": "Amount must be finite.",
        "places": "At most {places} decimal places.",
    }

    def __init__(self, *, places: int | None = None, **kwargs):
        self.places = places
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> decimal.Decimal:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, float):
            raise self.make_error("float")
        if not isinstance(value, str | int | decimal.Decimal):
            raise self.make_error("invalid")
        try:
            amount = decimal.Decimal(str(value).strip())
        except (decimal.InvalidOperation, ValueError) as exc:
            raise self.make_error("invalid") from exc
        if not amount.is_finite():
            raise self.make_error("special")
        if self.places is not None and amount.as_tuple().exponent < -self.places:
            raise self.make_error("places", places=self.places)
        return amount

    def _serialize(self, value, attr, obj, **kwargs) -> str | None:
        if value is None:
            return None
        if isinstance(value, float):
            raise ValueError("refusing to serialise a float as money")
        return str(decimal.Decimal(value))


class UTCDateTime(fields.AwareDateTime):
    """Aware datetime, converted to UTC on load, dumped as ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``."""

    def _deserialize(self, value, attr, data, **kwargs) -> dt.datetime:
        return super()._deserialize(value, attr, data, **kwargs).astimezone(UTC)

    def _serialize(self, value, attr, obj, **kwargs) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime at a boundary; use UTC-aware datetimes")
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class StrId(fields.String):
    """Identifiers travel as strings; UUID objects are dumped as their canonical text."""

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, uuid.UUID):
            return str(value)
        return super()._serialize(value, attr, obj, **kwargs)


class StrictSchema(Schema):
    """Base for every boundary schema: unknown fields raise."""

    class Meta:
        unknown = RAISE


_CENT = decimal.Decimal("0.01")


def decimal_text(value: decimal.Decimal) -> str:
    """Fixed-point text with at least two and only the needed places: ``100.0000`` -> ``"100.00"``,
    ``0.32000`` -> ``"0.32"``, ``10.123400`` -> ``"10.1234"``. Refuses NaN and infinities."""
    if not value.is_finite():
        raise ValueError("refusing to serialise a non-finite amount")
    trimmed = value.normalize()
    if trimmed.as_tuple().exponent > -2:
        trimmed = value.quantize(_CENT)
    return format(trimmed, "f")


def to_plain(value):
    """A JSON-safe copy of a result: Decimal -> decimal string, aware datetime -> UTC ``...Z``,
    date -> ISO, tuples and sets -> lists (sets sorted). Floats (scores, ratios from the numerical
    engines) pass through; money is never a float here."""
    if isinstance(value, decimal.Decimal):
        return decimal_text(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime at a boundary; use UTC-aware datetimes")
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else value
        return [to_plain(v) for v in items]
    return value


def validate_or_raise(schema: Schema, payload, *, partial: bool = False):
    """Load ``payload`` or raise :class:`common.errors.ValidationFailed` with field messages."""
    from common.errors import ValidationFailed

    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise ValidationFailed.from_messages({"_schema": ["Expected a JSON object."]})
    try:
        return schema.load(payload, partial=partial)
    except ValidationError as exc:
        raise ValidationFailed.from_messages(exc.messages) from None
