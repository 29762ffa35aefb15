"""User rules: conditions on description or merchant text, amount range, account and direction.

A rule matches a transaction when *every* condition it sets holds; the first matching rule in
the user's list wins. Text conditions are case- and space-insensitive substrings:
``description_contains`` of the raw or cleaned description, ``merchant_contains`` of the
merchant name when the bank gave one, else of the cleaned description (as the ledger's merchant
text), and always of the merchant key. Amount bounds apply to the absolute amount (the size of
the payment), inclusive; ``direction`` is ``"in"`` (amount > 0) or ``"out"`` (amount < 0),
following bank statements where a negative amount is money out.

``preview_rule`` lists what a rule would change in past transactions without changing them;
``apply_rule`` returns new transaction dicts with the rule's category applied.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from transactions.categorizer.errors import CategorizerError, InvalidRule
from transactions.categorizer.features import parse_amount
from transactions.categorizer.normalize import normalize
from transactions.categorizer.taxonomy import primary_of, validate_detailed

DIRECTIONS = ("in", "out")
MAX_TEXT = 200


@dataclass(frozen=True)
class Rule:
    id: str
    category_detailed: str
    description_contains: str | None = None
    merchant_contains: str | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    account_ids: tuple[str, ...] = ()
    direction: str | None = None

    def __post_init__(self):
        if not isinstance(self.id, str) or not self.id.strip():
            raise InvalidRule("rule id must be a non-empty string")
        try:
            validate_detailed(self.category_detailed)
        except CategorizerError as exc:
            raise InvalidRule(f"rule {self.id}: {exc}") from None
        for name in ("description_contains", "merchant_contains"):
            value = getattr(self, name)
            if value is not None and (
                not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT
            ):
                raise InvalidRule(f"rule {self.id}: {name} must be 1..{MAX_TEXT} characters")
        for name in ("amount_min", "amount_max"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, Decimal) or value < 0):
                raise InvalidRule(f"rule {self.id}: {name} must be a non-negative Decimal")
        if (
            self.amount_min is not None
            and self.amount_max is not None
            and self.amount_min > self.amount_max
        ):
            raise InvalidRule(
                f"rule {self.id}: amount_min {self.amount_min} exceeds amount_max {self.amount_max}"
            )
        if self.direction is not None and self.direction not in DIRECTIONS:
            raise InvalidRule(f"rule {self.id}: direction must be one of {DIRECTIONS} or empty")
        if not isinstance(self.account_ids, tuple) or not all(
            isinstance(a, str) and a for a in self.account_ids
        ):
            raise InvalidRule(f"rule {self.id}: account_ids must be a tuple of non-empty strings")
        if not self.has_condition():
            raise InvalidRule(f"rule {self.id}: a rule needs at least one condition")

    def has_condition(self) -> bool:
        return any(
            (
                self.description_contains,
                self.merchant_contains,
                self.amount_min is not None,
                self.amount_max is not None,
                self.account_ids,
                self.direction,
            )
        )


def _optional_amount(data: Mapping[str, Any], key: str, rule_id: str) -> Decimal | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    try:
        return parse_amount(value)
    except CategorizerError as exc:
        raise InvalidRule(f"rule {rule_id}: {key}: {exc}") from None


def rule_from_dict(data: Mapping[str, Any]) -> Rule:
    """Build and validate a rule from plain data (as stored or sent over RPC)."""
    if not isinstance(data, Mapping):
        raise InvalidRule(f"a rule must be a mapping, got {type(data).__name__}")
    known = {f for f in Rule.__dataclass_fields__}
    unknown = set(data) - known
    if unknown:
        raise InvalidRule(f"unknown rule fields: {sorted(unknown)}")
    rule_id = str(data.get("id", ""))
    return Rule(
        id=rule_id,
        category_detailed=data.get("category_detailed"),
        description_contains=data.get("description_contains") or None,
        merchant_contains=data.get("merchant_contains") or None,
        amount_min=_optional_amount(data, "amount_min", rule_id),
        amount_max=_optional_amount(data, "amount_max", rule_id),
        account_ids=tuple(data.get("account_ids") or ()),
        direction=data.get("direction") or None,
    )


def rule_to_dict(rule: Rule) -> dict[str, Any]:
    """Plain JSON-safe dict (amounts as decimal strings)."""
    return {
        "id": rule.id,
        "category_detailed": rule.category_detailed,
        "description_contains": rule.description_contains,
        "merchant_contains": rule.merchant_contains,
        "amount_min": None if rule.amount_min is None else str(rule.amount_min),
        "amount_max": None if rule.amount_max is None else str(rule.amount_max),
        "account_ids": list(rule.account_ids),
        "direction": rule.direction,
    }


@dataclass(frozen=True)
class RuleView:
    """What rules look at in one transaction, computed once."""

    description: str  # raw, lower-cased
    clean: str
    merchant: str  # merchant_name if given (lower-cased), else the cleaned description
    merchant_key: str
    amount: Decimal
    account_id: str | None


def rule_view(txn: Mapping[str, Any]) -> RuleView:
    normalized = normalize(txn.get("description"))
    merchant_name = txn.get("merchant_name")
    merchant = (
        merchant_name.strip().lower()
        if isinstance(merchant_name, str) and merchant_name.strip()
        else normalized.clean
    )
    return RuleView(
        description=" ".join(str(txn["description"]).lower().split()),
        clean=normalized.clean,
        merchant=merchant,
        merchant_key=normalized.merchant_key,
        amount=parse_amount(txn.get("amount")),
        account_id=None if txn.get("account_id") is None else str(txn.get("account_id")),
    )


def rule_matches(rule: Rule, view: RuleView) -> bool:
    if rule.description_contains:
        needle = " ".join(rule.description_contains.lower().split())
        if needle not in view.description and needle not in view.clean:
            return False
    if rule.merchant_contains:
        needle = " ".join(rule.merchant_contains.lower().split())
        if needle not in view.merchant and needle not in view.merchant_key:
            return False
    size = abs(view.amount)
    if rule.amount_min is not None and size < rule.amount_min:
        return False
    if rule.amount_max is not None and size > rule.amount_max:
        return False
    if rule.account_ids and view.account_id not in rule.account_ids:
        return False
    if rule.direction == "in" and not view.amount > 0:
        return False
    return not (rule.direction == "out" and not view.amount < 0)


def first_matching_rule(rules: Sequence[Rule], view: RuleView) -> Rule | None:
    for rule in rules:
        if rule_matches(rule, view):
            return rule
    return None


def _as_rule(rule: Rule | Mapping[str, Any]) -> Rule:
    return rule if isinstance(rule, Rule) else rule_from_dict(rule)


def preview_rule(
    rule: Rule | Mapping[str, Any], transactions: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """What applying ``rule`` to past transactions would change; changes nothing.

    Each transaction is a dict with at least ``id``, ``description`` and ``amount``; its current
    ``category_detailed`` (or None) is compared with the rule's category.
    """
    rule = _as_rule(rule)
    changes, matched, total = [], 0, 0
    for txn in transactions:
        total += 1
        if not rule_matches(rule, rule_view(txn)):
            continue
        matched += 1
        current = txn.get("category_detailed")
        if current != rule.category_detailed:
            changes.append(
                {
                    "transaction_id": txn.get("id"),
                    "from_detailed": current,
                    "to_detailed": rule.category_detailed,
                    "to_primary": primary_of(rule.category_detailed),
                }
            )
    return {
        "rule_id": rule.id,
        "examined": total,
        "matched": matched,
        "unchanged": matched - len(changes),
        "changes": changes,
    }


def apply_rule(
    rule: Rule | Mapping[str, Any], transactions: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """New transaction dicts: matching ones re-categorised by the rule, others copied as-is."""
    rule = _as_rule(rule)
    out = []
    for txn in transactions:
        updated = dict(txn)
        if rule_matches(rule, rule_view(txn)):
            updated.update(
                category_detailed=rule.category_detailed,
                category_primary=primary_of(rule.category_detailed),
                category_source="rule",
                rule_id=rule.id,
            )
        out.append(updated)
    return out
