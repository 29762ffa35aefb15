"""A user's categorisation rules as plain data: checking what the user sends, PATCH merging,
ordering, and the plan of what a rule changes in past transactions (preview and apply).

No database and no broker here: ``transactions/rule_store.py`` persists rules (free text
encrypted) and ``service.py`` wires the RPCs. Matching itself is the categoriser's
(``transactions/categorizer/rules.py``): every condition a rule sets must hold; text conditions
are case-insensitive substrings of the description or merchant; amount bounds apply to the
absolute amount, inclusive; ``direction`` is ``in`` (amount > 0) or ``out`` (amount < 0).

A rule sets a *detailed* PFC v2 category (its primary follows). Preview and apply never touch a
transaction whose category the user set by hand (``category_source == "user"``) unless
``include_manual`` is true, nor a split transaction (its parts carry the categories).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from transactions.categorizer import taxonomy
from transactions.categorizer.errors import CategorizerError
from transactions.categorizer.rules import Rule, rule_matches, rule_view

CONDITIONS = (
    "description_contains",
    "merchant_contains",
    "amount_min",
    "amount_max",
    "account_ids",
    "direction",
)
TEXT_CONDITIONS = ("description_contains", "merchant_contains")
DIRECTIONS = ("in", "out")
MAX_TEXT = 200
MAX_ACCOUNTS = 20
MAX_RULES_PER_USER = 250
RULE_SOURCE = "rule"
USER_SOURCE = "user"
PREVIEW_ID = "unsaved"  # the id an unsaved rule carries while it is previewed


class RuleInputError(ValueError):
    """A rule the user sent cannot be used; ``field`` names what is wrong."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name
        self.message = message


def _text(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise RuleInputError(name, "must be text")
    cleaned = " ".join(value.split())
    if not cleaned:
        return None
    if len(cleaned) > MAX_TEXT:
        raise RuleInputError(name, f"at most {MAX_TEXT} characters")
    return cleaned


def _amount(name: str, value: object) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise RuleInputError(name, "must be a decimal amount")
    amount = Decimal(value)
    if not amount.is_finite() or amount < 0:
        raise RuleInputError(
            name, "must be zero or positive (bounds apply to the size of the amount)"
        )
    return amount


def _accounts(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple) or not all(isinstance(a, str) and a for a in value):
        raise RuleInputError("account_ids", "must be a list of account ids")
    unique = tuple(dict.fromkeys(value))
    if len(unique) > MAX_ACCOUNTS:
        raise RuleInputError("account_ids", f"at most {MAX_ACCOUNTS} accounts")
    return unique


def check_category(value: object) -> str:
    if not isinstance(value, str) or not taxonomy.is_detailed(value):
        raise RuleInputError(
            "category",
            f"unknown category {value!r}: a rule sets a detailed PFC v2 category "
            "(e.g. FOOD_AND_DRINK_GROCERIES; see GET /v1/categories)",
        )
    return value


def check_rule(data: Mapping[str, Any]) -> dict[str, Any]:
    """The complete, checked definition of a rule: ``category`` plus its conditions.

    Empty text counts as no condition; ``account_ids`` loses duplicates. Raises RuleInputError
    naming the field (unknown category, negative amount, min above max, bad direction, no
    condition at all).
    """
    unknown = set(data) - {"category", *CONDITIONS}
    if unknown:
        raise RuleInputError(sorted(unknown)[0], "unknown field")
    rule = {
        "category": check_category(data.get("category")),
        "description_contains": _text("description_contains", data.get("description_contains")),
        "merchant_contains": _text("merchant_contains", data.get("merchant_contains")),
        "amount_min": _amount("amount_min", data.get("amount_min")),
        "amount_max": _amount("amount_max", data.get("amount_max")),
        "account_ids": _accounts(data.get("account_ids")),
        "direction": data.get("direction") or None,
    }
    if rule["direction"] is not None and rule["direction"] not in DIRECTIONS:
        raise RuleInputError("direction", "must be 'in' (money in) or 'out' (money out)")
    low, high = rule["amount_min"], rule["amount_max"]
    if low is not None and high is not None and low > high:
        raise RuleInputError("amount_min", f"amount_min {low} exceeds amount_max {high}")
    if not any(rule[name] not in (None, ()) for name in CONDITIONS):
        raise RuleInputError(
            "_schema",
            "a rule needs at least one condition (description_contains, merchant_contains, "
            "amount_min, amount_max, account_ids or direction)",
        )
    return rule


def merge_patch(current: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """``current`` with ``patch`` applied (a null clears a condition), checked again whole."""
    if "category" in patch and patch["category"] is None:
        raise RuleInputError("category", "a rule must keep a category")
    merged = {name: current.get(name) for name in ("category", *CONDITIONS)}
    merged.update(patch)
    return check_rule(merged)


def engine_rule(rule_id: str, definition: Mapping[str, Any]) -> Rule:
    """The categoriser's :class:`Rule` for a checked definition."""
    return Rule(
        id=rule_id,
        category_detailed=definition["category"],
        description_contains=definition.get("description_contains"),
        merchant_contains=definition.get("merchant_contains"),
        amount_min=definition.get("amount_min"),
        amount_max=definition.get("amount_max"),
        account_ids=tuple(definition.get("account_ids") or ()),
        direction=definition.get("direction"),
    )


def new_order(current_ids: Sequence[str], wanted: object) -> list[str]:
    """``wanted`` if it is exactly the user's rule ids in a new order (RuleInputError else)."""
    if not isinstance(wanted, list | tuple) or not all(isinstance(i, str) for i in wanted):
        raise RuleInputError("rule_ids", "must be a list of rule ids")
    if len(set(wanted)) != len(wanted):
        raise RuleInputError("rule_ids", "a rule id appears twice")
    if set(wanted) != set(current_ids):
        raise RuleInputError(
            "rule_ids", "must list every one of your rules exactly once, and nothing else"
        )
    return list(wanted)


# -- what a rule changes ---------------------------------------------------------------------


@dataclass
class RulePlan:
    """What applying ``rule_id`` to past transactions changes.

    ``changes``: the category would change (from -> to). ``relabels``: the category is already
    the rule's but would now be recorded as coming from this rule. ``unchanged``: already this
    rule's result, or a hand-set category equal to the rule's.
    """

    rule_id: str | None
    examined: int = 0
    matched: int = 0
    skipped_manual: int = 0
    skipped_split: int = 0
    unchanged: int = 0
    changes: list[dict[str, Any]] = field(default_factory=list)
    relabels: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "examined": self.examined,
            "matched": self.matched,
            "would_change": len(self.changes),
            "would_relabel": len(self.relabels),
            "unchanged": self.unchanged,
            "skipped_manual": self.skipped_manual,
            "skipped_split": self.skipped_split,
        }

    def page(self, offset: int, limit: int) -> dict[str, Any]:
        """The summary with ``changes[offset:offset+limit]`` and the next offset (or None)."""
        end = offset + limit
        return {
            **self.summary(),
            "changes": self.changes[offset:end],
            "offset": offset,
            "limit": limit,
            "next_offset": end if end < len(self.changes) else None,
        }

    def update_ids(self) -> list[str]:
        return [c["transaction_id"] for c in self.changes] + self.relabels


def _sort_key(txn: Mapping[str, Any]) -> tuple:
    return (str(txn.get("date") or ""), str(txn.get("id")))


def plan_rule(
    rule: Rule,
    transactions: Iterable[Mapping[str, Any]],
    *,
    include_manual: bool = False,
    saved: bool = True,
) -> RulePlan:
    """Which of ``transactions`` the rule would re-categorise (newest first).

    Each transaction is a plain dict: ``id``, ``date``, ``amount`` (Decimal, negative = out),
    ``description``, ``merchant_name``, ``account_id``, ``category_primary``,
    ``category_detailed``, ``category_source``, ``category_rule_id``, ``is_split``. A
    transaction whose text cannot be read (no description) never matches.
    """
    plan = RulePlan(rule_id=rule.id if saved else None)
    target = rule.category_detailed
    for txn in sorted(transactions, key=_sort_key, reverse=True):
        plan.examined += 1
        try:
            matched = rule_matches(rule, rule_view(txn))
        except CategorizerError:
            matched = False
        if not matched:
            continue
        plan.matched += 1
        source = txn.get("category_source")
        if txn.get("is_split"):
            plan.skipped_split += 1
        elif source == USER_SOURCE and not include_manual:
            plan.skipped_manual += 1
        elif txn.get("category_detailed") != target:
            plan.changes.append(_change(txn, target))
        elif source == USER_SOURCE or (
            saved and source == RULE_SOURCE and txn.get("category_rule_id") == rule.id
        ):
            plan.unchanged += 1
        else:
            plan.relabels.append(txn["id"])
    return plan


def _change(txn: Mapping[str, Any], target: str) -> dict[str, Any]:
    return {
        "transaction_id": txn["id"],
        "date": txn.get("date"),
        "amount": txn.get("amount"),
        "description": txn.get("description"),
        "merchant_name": txn.get("merchant_name"),
        "from_primary": txn.get("category_primary"),
        "from_detailed": txn.get("category_detailed"),
        "from_source": txn.get("category_source"),
        "to_primary": taxonomy.primary_of(target),
        "to_detailed": target,
    }
