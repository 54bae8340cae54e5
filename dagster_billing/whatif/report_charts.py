"""The report's charts, drawn with matplotlib and kept as inline SVG text (the report opens offline).

Floats appear only here, to place marks on a chart; every figure printed as text comes from integer minor units.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no display: render to files only

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from dagster_billing.pricing.currencies import minor_unit_digits  # noqa: E402

plt.rcParams["svg.hashsalt"] = "whatif"  # stable ids: the same data gives the same SVG
plt.rcParams["svg.fonttype"] = "none"  # text stays text (smaller, searchable)
ACTUAL_COLOR = "#444444"


def _svg(figure: plt.Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def monthly_revenue_svg(months: pd.DataFrame, currency: str) -> str:
    """Revenue billed per month: actual and each scenario."""
    scale = 10 ** minor_unit_digits(currency)
    rows = months[months["breakdown"] == "all"].sort_values("month_start")
    figure, axes = plt.subplots(figsize=(8, 3.6))
    first = True
    for scenario, group in rows.groupby("scenario", sort=True):
        if first:
            axes.plot(
                group["month_start"],
                group["actual_revenue_reporting_minor"] / scale,
                color=ACTUAL_COLOR,
                linewidth=2.5,
                label="actual (issued)",
            )
            first = False
        axes.plot(
            group["month_start"],
            group["scenario_revenue_reporting_minor"] / scale,
            marker="o",
            label=scenario,
        )
    axes.set_title(f"Revenue billed per month ({currency})")
    axes.set_ylabel(currency)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.autofmt_xdate()
    return _svg(figure)


def change_histogram_svg(customers: pd.DataFrame) -> str:
    """How many customers would see each change (percent of what they were billed in the range)."""
    figure, axes = plt.subplots(figsize=(8, 3.6))
    values = customers.dropna(subset=["change_percent"])
    for scenario, group in values.groupby("scenario", sort=True):
        axes.hist(
            group["change_percent"].astype(float), bins=30, histtype="step", linewidth=2, label=scenario
        )
    axes.axvline(0, color=ACTUAL_COLOR, linewidth=1)
    axes.set_title("Customers by change over the range (%)")
    axes.set_xlabel("change in % of what was billed")
    axes.set_ylabel("customers")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    return _svg(figure)


def winners_losers_svg(customers: pd.DataFrame) -> str:
    """Per scenario: customers paying less (winners), the same, more (losers)."""
    counts = (
        customers.groupby(["scenario", "direction"])
        .size()
        .unstack(fill_value=0)
        .reindex(columns=["less", "same", "more"], fill_value=0)
    )
    figure, axes = plt.subplots(figsize=(8, 0.6 + 0.5 * len(counts)))
    left = pd.Series(0, index=counts.index)
    for direction, color in (("less", "#2e7d32"), ("same", "#9e9e9e"), ("more", "#c62828")):
        axes.barh(counts.index, counts[direction], left=left, color=color, label=f"pay {direction}")
        left = left + counts[direction]
    axes.invert_yaxis()
    axes.set_title("Customers paying less, the same or more")
    axes.set_xlabel("customers")
    axes.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.35), ncol=3)
    return _svg(figure)
