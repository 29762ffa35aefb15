"""Running a categorisation rule over the user's past transactions: preview a stored or an
unsaved rule (changes nothing; one page of the plan), or apply a stored one. An apply that
changed rows announces them in one ``transactions_categorized`` event (with the ``rule_id``)
and re-checks the budget alerts. The rules themselves are kept by ``rule_store``."""

from __future__ import annotations

from typing import Any

from transactions import budget_alerts, rule_store
from transactions.context import UserContext


def preview_saved(ctx: UserContext, rule_id: object, options: dict[str, Any]) -> dict[str, Any]:
    rule = rule_store.saved_rule(ctx.keys, ctx.session, ctx.user_id, rule_id)
    plan = rule_store.plan(
        ctx.keys, ctx.session, ctx.user_id, rule, include_manual=options["include_manual"]
    )
    return plan.page(options["offset"], options["limit"])


def preview_unsaved(
    ctx: UserContext, payload: dict[str, Any], options: dict[str, Any]
) -> dict[str, Any]:
    rule = rule_store.unsaved_rule(ctx.session, ctx.user_id, payload)
    plan = rule_store.plan(
        ctx.keys,
        ctx.session,
        ctx.user_id,
        rule,
        include_manual=options["include_manual"],
        saved=False,
    )
    return plan.page(options["offset"], options["limit"])


def apply(ctx: UserContext, rule_id: object, include_manual: bool) -> dict[str, Any]:
    """Re-categorise the matching past transactions (idempotent; hand-set categories only
    with ``include_manual``); the summary of what changed."""
    summary, ids = rule_store.apply(
        ctx.keys, ctx.session, ctx.user_id, rule_id, include_manual=include_manual
    )
    if ids:
        ctx.emit(
            "transactions_categorized",
            {
                "user_id": ctx.user_id,
                "transaction_ids": ids,
                "count": len(ids),
                "rule_id": summary["rule_id"],
            },
        )
        budget_alerts.check(ctx)
    return summary
