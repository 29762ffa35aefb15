"""Raw statement lines in four banks' house styles.

Card networks print a merchant field padded to 25 characters, a 13-character city and a state;
banks then wrap that in their own prefix (POS PURCHASE, Debit Card Purchase, DBT CRD, CHECKCARD)
with the card mask and the authorisation date, and some truncate the whole line. ACH lines carry
the originator's company name, entry description and ids. The sandbox renders every line through
one of these styles so that downstream categorisation meets the mess it will meet in production.
"""

from __future__ import annotations

import random
from datetime import date

STYLES = ("pos_upper", "debit_mixed", "truncated_upper", "checkcard")
_TRUNCATE_AT = {"truncated_upper": 40}

_DEBIT_CARD = {
    "pos_upper": "POS PURCHASE {mmdd_slash} {line} XXXX{mask}",
    "debit_mixed": "Debit Card Purchase XXXX{mask} {mmdd_slash} {line}",
    "truncated_upper": "DBT CRD {hhmm} {mmddyy} {line} C#{mask}",
    "checkcard": "CHECKCARD {mmdd} {line} {ref23}",
}
_ACH_DEBIT = {
    "pos_upper": "{company} {desc} PPD ID: {id10}",
    "debit_mixed": "ACH Debit {company_title} {desc_title} {yymmdd}",
    "truncated_upper": "ACH WEB {company} {desc}",
    "checkcard": "{company} DES:{desc} ID:{id10} INDN:{holder} CO ID:{co_id} WEB",
}
_ACH_CREDIT = {
    "pos_upper": "{company} {desc} PPD ID: {id10}",
    "debit_mixed": "ACH Deposit {company_title} {desc_title} {yymmdd}",
    "truncated_upper": "DIRECT DEP {company} {desc}",
    "checkcard": "{company} DES:{desc} ID:{id10} INDN:{holder} CO ID:{co_id} PPD",
}
_TRANSFER_OUT = {
    "pos_upper": "ONLINE TRANSFER TO {to_kind} ...{to_mask} TRANSACTION#: {id10} {mmdd_slash}",
    "debit_mixed": "Online Transfer to {to_kind_title} XXXXXX{to_mask} Ref #IB{ref8}",
    "truncated_upper": "TRANSFER TO {to_kind} {to_mask} ON {mmddyy}",
    "checkcard": "Online Banking transfer to {to_kind} {to_mask} Confirmation# {id10}",
}
_TRANSFER_IN = {
    "pos_upper": (
        "ONLINE TRANSFER FROM {from_kind} ...{from_mask} TRANSACTION#: {id10} {mmdd_slash}"
    ),
    "debit_mixed": "Online Transfer from {from_kind_title} XXXXXX{from_mask} Ref #IB{ref8}",
    "truncated_upper": "TRANSFER FROM {from_kind} {from_mask} ON {mmddyy}",
    "checkcard": "Online Banking transfer from {from_kind} {from_mask} Confirmation# {id10}",
}
_ATM = {
    "pos_upper": "ATM WITHDRAWAL {atm6} {mmdd_slash} {street} {city_upper} {st}",
    "debit_mixed": "ATM Withdrawal XXXX{mask} {mmdd_slash} {street} {city} {st}",
    "truncated_upper": "ATM W/D {hhmm} {mmddyy} {street} {city_upper} {st}",
    "checkcard": "BKOFAMERICA ATM {mmdd} #{atm6} WITHDRWL {street} {city_upper} {st}",
}


def network_line(descriptor: str, city: str | None, region: str | None) -> str:
    """Merchant field as the card network formats it: 25 + 13 + 2 characters, space padded."""
    if city is None or region is None:
        return descriptor
    return f"{descriptor[:25]:<25}{city.upper()[:13]:<13}{region}"


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(count))


def _alnum(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(count))


def _common_fields(rng: random.Random, when: date) -> dict[str, str]:
    return {
        "mmdd": when.strftime("%m%d"),
        "mmdd_slash": when.strftime("%m/%d"),
        "mmddyy": when.strftime("%m/%d/%y"),
        "yymmdd": when.strftime("%y%m%d"),
        "hhmm": f"{rng.randint(7, 22):02d}{rng.randint(0, 59):02d}",
        "ref23": _digits(rng, 23),
        "ref8": _alnum(rng, 8),
        "id10": _digits(rng, 10),
        "atm6": _digits(rng, 6),
    }


def finish(style: str, text: str) -> str:
    if style not in STYLES:
        raise ValueError(f"unknown bank text style {style!r}")
    if style in {"pos_upper", "truncated_upper", "checkcard"}:
        text = text.upper()
    limit = _TRUNCATE_AT.get(style)
    return text[:limit].rstrip() if limit else text


def _render(table: dict[str, str], style: str, rng: random.Random, when: date, **fields) -> str:
    if style not in table:
        raise ValueError(f"unknown bank text style {style!r}")
    values = _common_fields(rng, when) | fields
    return finish(style, table[style].format(**values))


def debit_card_line(style: str, rng: random.Random, when: date, line: str, mask: str) -> str:
    return _render(_DEBIT_CARD, style, rng, when, line=line, mask=mask)


def ach_debit_line(
    style: str, rng: random.Random, when: date, company: str, desc: str, holder: str
) -> str:
    return _render(
        _ACH_DEBIT,
        style,
        rng,
        when,
        company=company,
        desc=desc,
        company_title=company.title(),
        desc_title=desc.title(),
        holder=holder,
        co_id=_digits(rng, 10),
    )


def ach_credit_line(
    style: str, rng: random.Random, when: date, company: str, desc: str, holder: str
) -> str:
    return _render(
        _ACH_CREDIT,
        style,
        rng,
        when,
        company=company,
        desc=desc,
        company_title=company.title(),
        desc_title=desc.title(),
        holder=holder,
        co_id=_digits(rng, 10),
    )


def transfer_lines(
    style: str,
    rng: random.Random,
    when: date,
    from_kind: str,
    from_mask: str,
    to_kind: str,
    to_mask: str,
) -> tuple[str, str]:
    """(line on the sending account, line on the receiving account) sharing one reference."""
    fields = _common_fields(rng, when) | {
        "from_kind": from_kind,
        "from_mask": from_mask,
        "to_kind": to_kind,
        "to_mask": to_mask,
        "from_kind_title": from_kind.title(),
        "to_kind_title": to_kind.title(),
    }
    if style not in _TRANSFER_OUT:
        raise ValueError(f"unknown bank text style {style!r}")
    out_line = finish(style, _TRANSFER_OUT[style].format(**fields))
    in_line = finish(style, _TRANSFER_IN[style].format(**fields))
    return out_line, in_line


def atm_line(
    style: str, rng: random.Random, when: date, mask: str, street: str, city: str, region: str
) -> str:
    return _render(
        _ATM,
        style,
        rng,
        when,
        mask=mask,
        street=street,
        city=city,
        city_upper=city.upper(),
        st=region,
    )


def fill_descriptor(template: str, rng: random.Random, city: str, store: str) -> str:
    """Fill a merchant template's placeholders (store numbers, order refs, weekday …)."""
    from .merchants import REST_NAMES, SHOP_NAMES

    return template.format(
        store=store,
        city=city.upper(),
        city3=city.upper()[:3],
        ref=_alnum(rng, 9),
        n9=_digits(rng, 11),
        dow=rng.choice(("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")),
        hh=f"{rng.randint(6, 23)}{rng.choice(('AM', 'PM'))}",
        rest=rng.choice(REST_NAMES),
        shop=rng.choice(SHOP_NAMES),
    )
