"""Persistence of the user's categorisation rules, and the database side of preview and apply.

Every function takes the verified ``user_id`` and scopes every query by it: another user's
rule id is NotFound, another user's account id is a ValidationFailed naming ``account_ids``.
The free-text conditions are one encrypted JSON token in ``text_conditions`` (bound to the rule
id); amounts, accounts and direction stay queryable and narrow the candidate transactions in
SQL before any description is decrypted. The decisions themselves are in
``transactions/user_rules.py``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from common.db import new_id
from common.errors import ValidationFailed
from transactions import user_rules
from transactions.categorizer import taxonomy
from transactions.categorizer.rules import Rule
from transactions.ledger import description_of
from transactions.models import CategorizationRule, Transaction
from transactions.queries import owned_row
from transactions.store import USER_CATEGORY_SOURCE, FieldKeys, categorize_rows, read_details

TABLE = "categorization_rules"
CANDIDATE_BATCH = 500


@contextmanager
def input_errors() -> Iterator[None]:
    """RuleInputError -> ValidationFailed (422) naming the field."""
    try:
        yield
    except user_rules.RuleInputError as exc:
        raise ValidationFailed.from_messages({exc.field: [exc.message]}) from None


# -- rows <-> plain definitions -----------------------------------------------------------------


def _write(keys: FieldKeys, row: CategorizationRule, definition: Mapping[str, Any]) -> None:
    row.category_detailed = definition["category"]
    row.amount_min = definition["amount_min"]
    row.amount_max = definition["amount_max"]
    row.account_ids = list(definition["account_ids"])
    row.direction = definition["direction"]
    texts = {n: definition[n] for n in user_rules.TEXT_CONDITIONS if definition[n]}
    row.text_conditions = keys.seal(TABLE, "text_conditions", row.id, texts) if texts else None


def definition_of(keys: FieldKeys, row: CategorizationRule) -> dict[str, Any]:
    texts = keys.open(TABLE, "text_conditions", row.id, row.text_conditions) or {}
    return {
        "category": row.category_detailed,
        "description_contains": texts.get("description_contains"),
        "merchant_contains": texts.get("merchant_contains"),
        "amount_min": row.amount_min,
        "amount_max": row.amount_max,
        "account_ids": tuple(row.account_ids or ()),
        "direction": row.direction,
    }


def rule_out(keys: FieldKeys, row: CategorizationRule) -> dict[str, Any]:
    """A rule as the API shows it (plain values; to_plain turns amounts into strings)."""
    definition = definition_of(keys, row)
    return {
        "id": row.id,
        "position": row.position,
        "category_primary": taxonomy.primary_of(row.category_detailed),
        "category_detailed": row.category_detailed,
        "description_contains": definition["description_contains"],
        "merchant_contains": definition["merchant_contains"],
        "amount_min": row.amount_min,
        "amount_max": row.amount_max,
        "account_ids": list(definition["account_ids"]),
        "direction": row.direction,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def _ordered(user_id: str):
    return (
        select(CategorizationRule)
        .where(CategorizationRule.user_id == user_id)
        .order_by(CategorizationRule.position, CategorizationRule.created_at, CategorizationRule.id)
    )


def owned_rule(
    session: Session, user_id: str, rule_id: object, *, lock: bool = False
) -> CategorizationRule:
    return owned_row(session, CategorizationRule, user_id, rule_id, what="rule", lock=lock)


def _check_accounts(session: Session, user_id: str, account_ids) -> None:
    """Every account id must be one the user's own ledger holds transactions on."""
    if not account_ids:
        return
    known = set(
        session.scalars(
            select(Transaction.account_id)
            .where(Transaction.user_id == user_id, Transaction.account_id.in_(account_ids))
            .distinct()
        )
    )
    missing = [a for a in account_ids if a not in known]
    if missing:
        raise ValidationFailed.from_messages(
            {"account_ids": [f"unknown account(s) {missing}: use account ids of your transactions"]}
        )


# -- CRUD -------------------------------------------------------------------------------------


def create(
    keys: FieldKeys,
    session: Session,
    user_id: str,
    payload: Mapping[str, Any],
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """Add a rule at the end of the user's list; the same ``idempotency_key`` returns the first."""
    with input_errors():
        definition = user_rules.check_rule(payload)
    _check_accounts(session, user_id, definition["account_ids"])
    # serialise creations per user (position, the per-user cap, and two retries of one key:
    # the second waits here and then finds the first instead of hitting the unique key)
    session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"rules:{user_id}"))))
    if idempotency_key is not None:
        found = session.scalars(
            select(CategorizationRule).where(
                CategorizationRule.user_id == user_id,
                CategorizationRule.idempotency_key == idempotency_key,
            )
        ).first()
        if found is not None:
            return rule_out(keys, found)
    count, last = session.execute(
        select(func.count(), func.max(CategorizationRule.position)).where(
            CategorizationRule.user_id == user_id
        )
    ).one()
    if count >= user_rules.MAX_RULES_PER_USER:
        raise ValidationFailed.from_messages(
            {"_schema": [f"at most {user_rules.MAX_RULES_PER_USER} rules per user"]}
        )
    row = CategorizationRule(
        id=new_id(),
        user_id=user_id,
        position=0 if last is None else last + 1,
        idempotency_key=idempotency_key,
    )
    _write(keys, row, definition)
    session.add(row)
    session.flush()
    session.refresh(row)
    return rule_out(keys, row)


def list_rules(keys: FieldKeys, session: Session, user_id: str) -> list[dict[str, Any]]:
    return [rule_out(keys, r) for r in session.scalars(_ordered(user_id))]


def update(
    keys: FieldKeys, session: Session, user_id: str, rule_id: object, patch: Mapping[str, Any]
) -> dict[str, Any]:
    row = owned_rule(session, user_id, rule_id, lock=True)
    with input_errors():
        definition = user_rules.merge_patch(definition_of(keys, row), patch)
    _check_accounts(session, user_id, definition["account_ids"])
    _write(keys, row, definition)
    session.flush()
    session.refresh(row)
    return rule_out(keys, row)


def delete(session: Session, user_id: str, rule_id: object) -> None:
    """Remove a rule; transactions it categorised keep their category (rule id cleared)."""
    session.delete(owned_rule(session, user_id, rule_id, lock=True))


def reorder(keys: FieldKeys, session: Session, user_id: str, rule_ids) -> list[dict[str, Any]]:
    rows = {r.id: r for r in session.scalars(_ordered(user_id).with_for_update())}
    with input_errors():
        order = user_rules.new_order(list(rows), rule_ids)
    for position, rule_id in enumerate(order):
        rows[rule_id].position = position
    session.flush()
    return list_rules(keys, session, user_id)


def engine_rules(keys: FieldKeys, session: Session, user_id: str) -> list[Rule]:
    """The user's rules in order, as the categoriser's layer 1 takes them."""
    return [
        user_rules.engine_rule(r.id, definition_of(keys, r))
        for r in session.scalars(_ordered(user_id))
    ]


# -- preview and apply --------------------------------------------------------------------------


def _candidates(session: Session, user_id: str, rule: Rule):
    """The user's transactions the rule's queryable conditions allow (text is checked later)."""
    query = select(Transaction).where(Transaction.user_id == user_id)
    if rule.account_ids:
        query = query.where(Transaction.account_id.in_(rule.account_ids))
    if rule.direction == "in":
        query = query.where(Transaction.amount > 0)
    elif rule.direction == "out":
        query = query.where(Transaction.amount < 0)
    if rule.amount_min is not None:
        query = query.where(func.abs(Transaction.amount) >= rule.amount_min)
    if rule.amount_max is not None:
        query = query.where(func.abs(Transaction.amount) <= rule.amount_max)
    return session.scalars(query.execution_options(yield_per=CANDIDATE_BATCH))


def _plain(keys: FieldKeys, row: Transaction) -> dict[str, Any]:
    details = read_details(keys, row)
    return {
        "id": row.id,
        "date": row.date,
        "amount": row.amount,
        "description": description_of(details),
        "merchant_name": details.get("merchant_name"),
        "account_id": row.account_id,
        "category_primary": row.category_primary,
        "category_detailed": row.category_detailed,
        "category_source": row.category_source,
        "category_rule_id": row.category_rule_id,
        "is_split": row.is_split,
    }


def plan(
    keys: FieldKeys,
    session: Session,
    user_id: str,
    rule: Rule,
    *,
    include_manual: bool,
    saved: bool = True,
) -> user_rules.RulePlan:
    rows = (_plain(keys, r) for r in _candidates(session, user_id, rule))
    return user_rules.plan_rule(rule, rows, include_manual=include_manual, saved=saved)


def saved_rule(keys: FieldKeys, session: Session, user_id: str, rule_id: object) -> Rule:
    row = owned_rule(session, user_id, rule_id)
    return user_rules.engine_rule(row.id, definition_of(keys, row))


def unsaved_rule(session: Session, user_id: str, payload: Mapping[str, Any]) -> Rule:
    with input_errors():
        definition = user_rules.check_rule(payload)
    _check_accounts(session, user_id, definition["account_ids"])
    return user_rules.engine_rule(user_rules.PREVIEW_ID, definition)


def apply(
    keys: FieldKeys, session: Session, user_id: str, rule_id: object, *, include_manual: bool
) -> tuple[dict[str, Any], list[str]]:
    """Re-categorise the user's matching past transactions by the rule (source ``rule``, the
    rule's id recorded). Idempotent: a second run changes nothing. Returns the summary and
    the ids of the transactions it updated."""
    rule_row = owned_rule(session, user_id, rule_id, lock=True)
    rule = user_rules.engine_rule(rule_row.id, definition_of(keys, rule_row))
    result = plan(keys, session, user_id, rule, include_manual=include_manual)
    ids = result.update_ids()
    guard = [Transaction.user_id == user_id, Transaction.is_split.is_(False)]
    if not include_manual:  # a category the user set by hand since the plan stays
        guard.append(Transaction.category_source != USER_CATEGORY_SOURCE)
    for start in range(0, len(ids), CANDIDATE_BATCH):
        batch = ids[start : start + CANDIDATE_BATCH]
        session.execute(
            sql_update(Transaction)
            .where(*guard, Transaction.id.in_(batch))
            .values(
                category_primary=taxonomy.primary_of(rule.category_detailed),
                category_detailed=rule.category_detailed,
                category_source=user_rules.RULE_SOURCE,
                category_rule_id=rule.id,
                category_confidence=Decimal("1"),
            )
        )
    summary = result.summary()
    summary["changed"] = summary.pop("would_change")
    summary["relabelled"] = summary.pop("would_relabel")
    return summary, ids


def categorize_with_rules(
    keys: FieldKeys, session: Session, categorizer, user_id: str, rows: list[Transaction]
) -> None:
    """Categorise new rows with the user's rules as layer 1 (then corrections, model, ...)."""
    if rows:
        rules = engine_rules(keys, session, user_id)
        categorize_rows(keys, session, categorizer, user_id, rows, rules=rules)
