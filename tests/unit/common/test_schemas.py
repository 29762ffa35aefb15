import datetime as dt
import decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.errors import ValidationFailed
from common.schemas import Money, StrictSchema, UTCDateTime, validate_or_raise


class Payment(StrictSchema):
    amount = Money(required=True, places=2)
    at = UTCDateTime(required=True)


def test_money_loads_strings_and_ints_as_decimal():
    loaded = Payment().load({"amount": "12.30", "at": "2026-01-01T12:00:00+02:00"})
    assert loaded["amount"] == decimal.Decimal("12.30")
    assert loaded["at"] == dt.datetime(2026, 1, 1, 10, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("bad", [12.3, "abc", "NaN", "Infinity", True, None, [], "1.234"])
def test_money_refuses_floats_and_garbage(bad):
    with pytest.raises(ValidationFailed) as info:
        validate_or_raise(Payment(), {"amount": bad, "at": "2026-01-01T00:00:00Z"})
    assert "amount" in info.value.extra["errors"]


def test_unknown_fields_are_refused():
    with pytest.raises(ValidationFailed) as info:
        validate_or_raise(Payment(), {"amount": "1", "at": "2026-01-01T00:00:00Z", "role": "admin"})
    assert info.value.extra["errors"] == {"role": ["Unknown field."]}


def test_naive_datetime_is_refused():
    with pytest.raises(ValidationFailed):
        validate_or_raise(Payment(), {"amount": "1", "at": "2026-01-01T00:00:00"})


def test_non_object_payload_is_a_validation_error():
    with pytest.raises(ValidationFailed):
        validate_or_raise(Payment(), ["not", "an", "object"])


def test_dump_is_plain_json():
    dumped = Payment().dump(
        {
            "amount": decimal.Decimal("0.10"),
            "at": dt.datetime(2026, 5, 1, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        }
    )
    assert dumped == {"amount": "0.10", "at": "2026-05-01T06:30:00Z"}


def test_dumping_a_float_as_money_is_a_bug_not_a_rounding():
    with pytest.raises(ValueError):
        Payment().dump({"amount": 0.1, "at": dt.datetime.now(dt.UTC)})


@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=2, min_value=-(10**12), max_value=10**12
    )
)
def test_money_round_trips_exactly(amount):
    schema = Payment()
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert schema.load(schema.dump({"amount": amount, "at": at}))["amount"] == amount
