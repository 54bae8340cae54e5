"""Figures of a what-if comparison, per scenario: what the terminal table, the report and the Dagster metadata show.

Amounts stay integers of minor units until they are shown; `money` turns them into text with the currency's
digits (exact, through Decimal). Percentages are for display only.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from dagster_billing.pricing import PricingConfig
from dagster_billing.pricing.currencies import minor_unit_digits
from dagster_billing.whatif.comparison import WhatifComparison
from dagster_billing.whatif.scenario_files import Scenario

DEFAULT_REPORTING_CURRENCY = "USD"

CAVEATS = (
    "A backtest re-prices usage as it happened. It cannot know how customers would have reacted to the prices: "
    "used more or less, moved to another plan, negotiated or left. Elasticity, when a scenario sets it, is an "
    "assumption written in the scenario, not a forecast.",
    "Only issued invoices dated in the range are compared. Each scenario total is the issued total plus the "
    "difference between the scenario's lines and actual's, both priced now by the same models on the same usage; "
    "adjustment and credit lines stay as issued, and drafts are left out.",
    "MRR spreads each invoice over the months its plan's interval covers, from invoices dated in the range only: "
    "the first months of the range lack the yearly invoices dated before it.",
)


def money(minor: int, currency: str) -> str:
    digits = minor_unit_digits(currency)
    amount = Decimal(int(minor)).scaleb(-digits)
    return f"{amount:,.{digits}f} {currency}"


def percent(value: float | Decimal | None) -> str:
    if value is None or pd.isna(value):
        return "n/a"
    return f"{float(value):+.2f}%"


@dataclass(frozen=True)
class ScenarioSummary:
    name: str
    description: str
    reporting_currency: str
    customers: int
    actual_minor: int
    scenario_minor: int
    paying_more: int
    paying_less: int
    paying_same: int
    flagged: int
    change_percent_p10: float | None
    change_percent_p50: float | None
    change_percent_p90: float | None
    warnings: tuple[str, ...]

    @property
    def change_minor(self) -> int:
        return self.scenario_minor - self.actual_minor

    @property
    def change_percent(self) -> float | None:
        return None if self.actual_minor == 0 else self.change_minor * 100 / self.actual_minor


def reporting_currency(comparison: WhatifComparison) -> str:
    currencies = comparison.customers["reporting_currency"].dropna().unique()
    return str(currencies[0]) if len(currencies) else DEFAULT_REPORTING_CURRENCY


def changed_charges(scenario: Scenario, actual_configs: list[PricingConfig]) -> list[str]:
    """Charges (and fees) of the candidate that differ from the actual version in force last, as text."""
    latest = max(actual_configs, key=lambda config: config.effective_from)
    before = {(plan.id, plan.currency): plan for plan in latest.plans}
    changed: list[str] = []
    for plan in scenario.pricing.plans:
        old = before.get((plan.id, plan.currency))
        if old is None:
            changed.append(f"plan '{plan.id}' ({plan.currency}), new")
            continue
        if (old.base_fee, old.minimum_spend) != (plan.base_fee, plan.minimum_spend):
            changed.append(f"plan '{plan.id}' ({plan.currency}) fees")
        old_charges = {charge.metric: charge for charge in old.charges}
        for charge in plan.charges:
            if old_charges.get(charge.metric) != charge:
                changed.append(f"plan '{plan.id}' ({plan.currency}) charge '{charge.metric}'")
    return changed


def summarize(
    comparison: WhatifComparison, actual_configs: list[PricingConfig] | None = None
) -> list[ScenarioSummary]:
    customers = comparison.customers
    currency = reporting_currency(comparison)
    summaries = []
    for scenario in comparison.scenarios:
        rows = customers[customers["scenario"] == scenario.name]
        changes = rows["change_percent"].dropna().astype(float)
        warnings: list[str] = []
        if len(rows) and (rows["change_minor"] == 0).all():
            changed = changed_charges(scenario, actual_configs) if actual_configs else []
            warnings.append(
                "This scenario changes nothing in the range: no invoice would differ. "
                + (
                    "What it changes against the current price list ("
                    + ", ".join(changed[:6])
                    + (", ..." if len(changed) > 6 else "")
                    + ") is not reached by this usage, e.g. tiers above every window's quantity or plans nobody is on."
                    if changed
                    else "Its prices equal the current price list's, and no customer moves or uses differently."
                )
            )
        summaries.append(
            ScenarioSummary(
                name=scenario.name,
                description=scenario.settings.description,
                reporting_currency=currency,
                customers=len(rows),
                actual_minor=int(rows["actual_reporting_minor"].sum()),
                scenario_minor=int(rows["scenario_reporting_minor"].sum()),
                paying_more=int((rows["direction"] == "more").sum()),
                paying_less=int((rows["direction"] == "less").sum()),
                paying_same=int((rows["direction"] == "same").sum()),
                flagged=int(rows["is_flagged"].sum()),
                change_percent_p10=float(changes.quantile(0.1)) if len(changes) else None,
                change_percent_p50=float(changes.quantile(0.5)) if len(changes) else None,
                change_percent_p90=float(changes.quantile(0.9)) if len(changes) else None,
                warnings=tuple(warnings),
            )
        )
    return summaries


def comparison_table(summaries: list[ScenarioSummary]) -> str:
    """The scenarios side by side, as plain text for the terminal."""
    if not summaries:
        return "(no scenario)"
    currency = summaries[0].reporting_currency
    rows = [
        ("", [summary.name for summary in summaries]),
        (f"billed, actual ({currency})", [money(s.actual_minor, currency) for s in summaries]),
        (f"billed, scenario ({currency})", [money(s.scenario_minor, currency) for s in summaries]),
        ("change", [money(s.change_minor, currency) for s in summaries]),
        ("change %", [percent(s.change_percent) for s in summaries]),
        ("customers", [str(s.customers) for s in summaries]),
        (
            "pay more / less / same",
            [f"{s.paying_more} / {s.paying_less} / {s.paying_same}" for s in summaries],
        ),
        ("flagged (above threshold)", [str(s.flagged) for s in summaries]),
        (
            "customer change p10 / p50 / p90",
            [
                " / ".join(
                    percent(v) for v in (s.change_percent_p10, s.change_percent_p50, s.change_percent_p90)
                )
                for s in summaries
            ],
        ),
    ]
    label_width = max(len(label) for label, _ in rows)
    widths = [max(len(values[i]) for _, values in rows) for i in range(len(summaries))]
    lines = []
    for number, (label, values) in enumerate(rows):
        cells = [value.rjust(width) for value, width in zip(values, widths, strict=True)]
        lines.append(f"{label.ljust(label_width)}  " + "  ".join(cells))
        if number == 0:
            lines.append("-" * len(lines[0]))
    return "\n".join(lines)
