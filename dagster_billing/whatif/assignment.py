"""Which plan each subscription is on in a scenario, and the checks that need the warehouse.

A scenario's `whatif.assign` rules are tried in order for every subscription; the first that matches moves it
to its `to_plan`. A share of a plan's customers is chosen by a hash of (scenario, customer): the same customers
every run and on every machine, independent of the order customers were loaded in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from dagster_billing.whatif.scenario_files import PlanMove, Scenario


@dataclass(frozen=True)
class Subscription:
    subscription_id: str
    customer_id: str
    plan_id: str
    currency: str


def share_bucket(scenario_name: str, customer_id: str) -> int:
    """0..9999, uniform: a customer is in a share of p percent when its bucket is below p x 100."""
    digest = hashlib.sha256(f"{scenario_name}\x00{customer_id}".encode()).hexdigest()
    return int(digest[:12], 16) % 10_000


def _matches(move: PlanMove, scenario_name: str, subscription: Subscription) -> bool:
    if move.from_plan is not None and subscription.plan_id != move.from_plan:
        return False
    if move.customers:
        return subscription.customer_id in move.customers
    if move.share_percent is not None:
        return share_bucket(scenario_name, subscription.customer_id) < move.share_percent * 100
    return True


def assigned_plans(scenario: Scenario, subscriptions: Iterable[Subscription]) -> dict[str, str]:
    """subscription_id -> the plan it moves to, for the subscriptions the scenario moves."""
    moved: dict[str, str] = {}
    for subscription in subscriptions:
        for move in scenario.settings.assign:
            if _matches(move, scenario.name, subscription):
                moved[subscription.subscription_id] = move.to_plan
                break
    return moved


def scenario_warehouse_problems(
    scenario: Scenario, customers: Mapping[str, str | None], subscriptions: Sequence[Subscription]
) -> list[str]:
    """Listed customers that the warehouse does not know, and plans a subscription needs in its customer's
    currency that the scenario does not price (nothing is ever priced at a guessed price). `customers` maps each
    customer to the version it is pinned to: a grandfathered customer keeps its version unless the scenario moves
    it, so only the others need the candidate's plans."""
    problems: list[str] = []
    for number, move in enumerate(scenario.settings.assign, start=1):
        for customer_id in move.customers or []:
            if customer_id not in customers:
                problems.append(
                    f"{scenario.source_file}: field 'whatif.assign[{number}].customers': '{customer_id}' is not "
                    "a customer in the warehouse (customers.csv)"
                )
    priced = {(plan.id, plan.currency) for plan in scenario.pricing.plans}
    moved = assigned_plans(scenario, subscriptions)
    missing: dict[tuple[str, str], str] = {}
    moved_customers = {s.customer_id for s in subscriptions if s.subscription_id in moved}
    for subscription in subscriptions:
        if customers.get(subscription.customer_id) and subscription.customer_id not in moved_customers:
            continue  # grandfathered: priced by its pinned version
        plan = moved.get(subscription.subscription_id, subscription.plan_id)
        if (plan, subscription.currency) not in priced:
            missing.setdefault((plan, subscription.currency), subscription.customer_id)
    for (plan, currency), customer_id in sorted(missing.items()):
        problems.append(
            f"{scenario.source_file}: plan '{plan}' ({currency}): customers are on it in {currency} (for example "
            f"{customer_id}) but the scenario has no price for it in {currency}; add the plan in that currency"
        )
    return problems
