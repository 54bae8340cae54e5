"""Usage charges the straightforward pandas way, for the benchmark against the dbt pricing models.

    python bench/pandas_pricing.py --landing data/bench/landing-1000000-5000 \
        --warehouse data/bench/invoices-warehouse/warehouse.duckdb --as-of 2026-10-01 [--compare]

`price_usage_pandas` gives one row per usage line: customer_id, window_start, subscription_id, metric, tier,
amount_minor (plus pricing_version, plan_id, charge_model, quantity and the exact amount), meant to equal
`marts.fct_invoice_lines` where line_type = 'usage' (scenario 'actual'); `--compare` checks that.

What it reads:
- usage events: every `<landing>/usage/**/*.parquet` with pandas/pyarrow (the benchmark's generated layout:
  clean Parquet, `quantity` DECIMAL, `occurred_at` UTC TIMESTAMP, `properties` JSON text). Ingestion's
  validation and quarantine are NOT repeated: this prices clean data. Duplicates are dropped by event_id, the
  first copy in file path order winning, as ingestion does.
- from the warehouse (after the windowing dbt models ran): `intermediate.int_billing_windows` (customer_id,
  window_start, window_end in UTC, window_start_date), `staging.stg_subscriptions` and `staging.stg_customers`
  (currency; `pinned_pricing_version` when that column exists). Windows are taken as computed, to keep this to
  pricing.
- pricing configs: `<pricing_dir>/*.yaml` read with pyyaml in the contract's shape (version, effective_from,
  rounding, metrics, plans with charges); parsing is deliberately thin (`_charge_from_yaml`).

Semantics (contract "Charge semantics", DECISIONLOG "Usage aggregation"): an event is billed in the closed window
(window_end <= as_of) and the subscription in force at its occurred_at ([start, end) both), aggregated per
customer x window x subscription x metric (sum, count, max, unique_count of a property, latest by occurred_at
then greatest event_id), priced with dagster_billing.pricing.reference under the window's pricing version (the
customer's pinned version, else the latest effective_from on or before the window's local start date, else the
earliest), each line rounded once with the plan's mode. Every charge of a subscription's plan gets lines even
without usage (tier 1's flat amount is owed at zero); lines with zero quantity and zero amount are dropped.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from dagster_billing.pricing.currencies import minor_unit_digits, rounding_increment
from dagster_billing.pricing.reference import Charge, Tier, price_charge, round_to_minor

OUTPUT_COLUMNS = ["customer_id", "window_start", "subscription_id", "metric", "tier", "amount_minor"]
LINE_KEY = ["customer_id", "window_start", "subscription_id", "metric", "tier"]
GROUP_KEY = ["customer_id", "window_start", "subscription_id", "metric"]


# --- pricing configs (thin YAML reading in the contract's shape) -------------------------------------------------


@dataclass
class PricingVersion:
    version: str
    effective_from: str  # ISO date: compares as text
    plans: dict[tuple[str, str], dict] = field(default_factory=dict)  # (plan id, currency) -> plan entry
    rounding: str = "half_up"


def _dec(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _charge_from_yaml(entry: dict) -> Charge:
    tiers = tuple(
        Tier(
            _dec(tier.get("up_to")),
            _dec(tier.get("unit_amount")) or Decimal(0),
            _dec(tier.get("flat_amount")) or Decimal(0),
            _dec(tier.get("rate")),
        )
        for tier in entry.get("tiers") or ()
    )
    return Charge(
        entry["model"],
        included_units=_dec(entry.get("included_units")) or Decimal(0),
        unit_amount=_dec(entry.get("unit_amount")),
        tiers=tiers,
        package_size=_dec(entry.get("package_size")),
        package_amount=_dec(entry.get("package_amount")),
        package_rounding=entry.get(
            "rounding", "up"
        ),  # on a package charge `rounding` is the package rounding
        rate=_dec(entry.get("rate")),
        fixed_fee_per_event=_dec(entry.get("fixed_fee_per_event")),
        per_event_min=_dec(entry.get("per_event_min")),
        per_event_max=_dec(entry.get("per_event_max")),
        free_units_per_events=entry.get("free_units_per_events"),
        free_units_per_total_aggregation=_dec(entry.get("free_units_per_total_aggregation")),
    )


def read_pricing_configs(pricing_dir: Path) -> tuple[list[PricingVersion], dict[str, dict]]:
    """Versions sorted by effective_from, and the metric rules (code -> entry) of all versions."""
    versions, metrics = [], {}
    for path in sorted(Path(pricing_dir).glob("*.y*ml")):
        data = yaml.safe_load(path.read_text())
        version = PricingVersion(
            str(data["version"]), str(data["effective_from"]), rounding=data.get("rounding", "half_up")
        )
        for plan in data.get("plans", []):
            version.plans[(plan["id"], plan["currency"].upper())] = plan
        metrics |= {metric["code"]: metric for metric in data.get("metrics", [])}
        versions.append(version)
    return sorted(versions, key=lambda v: v.effective_from), metrics


def version_for(versions: list[PricingVersion], window_start_date: str, pinned: str | None) -> PricingVersion:
    by_name = {v.version: v for v in versions}
    if pinned in by_name:
        return by_name[pinned]
    in_force = [v for v in versions if v.effective_from <= window_start_date]
    return in_force[-1] if in_force else versions[0]


# --- events -----------------------------------------------------------------------------------------------------


def read_events(landing: Path) -> tuple[pd.DataFrame, int]:
    """Every usage Parquet file in path order, deduplicated by event_id (first copy wins). Quantities become
    exact integers of 10^-scale units (int64) so that pandas sums stay exact; the scale is returned."""
    files = sorted((landing / "usage").rglob("*.parquet"), key=lambda p: p.relative_to(landing).as_posix())
    tables = [pq.read_table(path) for path in files]
    table = pa.concat_tables(tables, promote_options="permissive")
    quantity_type = table.schema.field("quantity").type
    if not pa.types.is_decimal(quantity_type):
        raise SystemExit(f"expected DECIMAL quantities in the Parquet files, found {quantity_type}")
    factor = pa.scalar(Decimal(10**quantity_type.scale), pa.decimal128(19, 0))
    units = pc.cast(pc.multiply(table["quantity"], factor), pa.int64())
    events = table.drop_columns(["quantity"]).append_column("quantity_units", units).to_pandas()
    events = events.drop_duplicates("event_id", keep="first")
    events["occurred_at"] = pd.to_datetime(events["occurred_at"]).astype("datetime64[us]")
    return events, quantity_type.scale


def place_events(
    events: pd.DataFrame, windows: pd.DataFrame, subscriptions: pd.DataFrame, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Each billable event with its closed window and its subscription (merge_asof on the start, then the end)."""
    events = events[events["occurred_at"] < as_of].sort_values("occurred_at")
    placed = pd.merge_asof(
        events,
        windows.sort_values("window_start")[["customer_id", "window_start", "window_end"]],
        left_on="occurred_at",
        right_on="window_start",
        by="customer_id",
    )
    placed = placed[placed["occurred_at"] < placed["window_end"]]
    placed = pd.merge_asof(
        placed.sort_values("occurred_at"),
        subscriptions.sort_values("started_at")[["customer_id", "subscription_id", "started_at", "ended_at"]],
        left_on="occurred_at",
        right_on="started_at",
        by="customer_id",
    )
    in_subscription = placed["subscription_id"].notna() & (
        placed["ended_at"].isna() | (placed["occurred_at"] < placed["ended_at"])
    )
    return placed[in_subscription & (placed["window_end"] <= as_of)]


def _unique_value(properties: str | None, name: str) -> str | None:
    """The property as DuckDB's `->>` gives it: strings as they are, other JSON values as JSON text."""
    if properties is None:
        return None
    value = json.loads(properties).get(name)
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)


def aggregate(placed: pd.DataFrame, metrics: dict[str, dict], scale: int) -> dict[tuple, Decimal]:
    """The window quantity per (customer, window_start, subscription, metric) by each metric's aggregation."""
    aggregation = placed["metric"].map(lambda code: metrics.get(code, {}).get("aggregation", "sum"))
    results: dict[tuple, Decimal] = {}

    def keep(series: pd.Series, in_units: bool) -> None:
        for key, value in series.items():
            results[key] = Decimal(int(value)).scaleb(-scale) if in_units else Decimal(int(value))

    def groups(rows: pd.DataFrame):
        return rows.groupby(GROUP_KEY, sort=False)

    keep(groups(placed[aggregation == "sum"])["quantity_units"].sum(), True)
    keep(groups(placed[aggregation == "max"])["quantity_units"].max(), True)
    keep(groups(placed[aggregation == "count"]).size(), False)
    latest = placed[aggregation == "latest"].sort_values(["occurred_at", "event_id"])
    keep(groups(latest)["quantity_units"].last(), True)
    for code, rule in metrics.items():
        if rule.get("aggregation") != "unique_count":
            continue
        rows = placed[placed["metric"] == code]
        values = [_unique_value(text, rule["unique_property"]) for text in rows["properties"]]
        counted = rows.assign(unique_value=values).groupby(GROUP_KEY, sort=False)["unique_value"].nunique()
        keep(counted, False)
    return results


def event_quantities(placed: pd.DataFrame, scale: int, metrics: set[str]) -> dict[tuple, list[Decimal]]:
    """Each window's billable event quantities in occurred_at order (ties by event_id: Lago's free units count the
    first events), for the percentage charges' metrics only."""
    rows = placed[placed["metric"].isin(metrics)].sort_values(["occurred_at", "event_id"])
    lists: dict[tuple, list[Decimal]] = defaultdict(list)
    for key, units in rows.groupby(GROUP_KEY, sort=False)["quantity_units"]:
        lists[key] = [Decimal(int(u)).scaleb(-scale) for u in units]
    return lists


# --- pricing ----------------------------------------------------------------------------------------------------


def subscription_windows(
    windows: pd.DataFrame, subscriptions: pd.DataFrame, customers: pd.DataFrame, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Every subscription in force during every closed window of its customer."""
    closed = windows[windows["window_end"] <= as_of]
    pairs = closed.merge(subscriptions, on="customer_id")
    overlaps = (pairs["started_at"] < pairs["window_end"]) & (
        pairs["ended_at"].isna() | (pairs["ended_at"] > pairs["window_start"])
    )
    return pairs[overlaps].merge(customers, on="customer_id")


def price_lines(
    sub_windows: pd.DataFrame,
    versions: list[PricingVersion],
    quantities: dict[tuple, Decimal],
    events_by_group: dict[tuple, list[Decimal]],
) -> pd.DataFrame:
    rows = []
    for sw in sub_windows.itertuples(index=False):
        version = version_for(
            versions, str(sw.window_start_date), getattr(sw, "pinned_pricing_version", None)
        )
        plan = version.plans.get((sw.plan_id, sw.currency))
        if plan is None:
            continue  # the plan is not priced in this version and currency
        mode = plan.get("rounding") or version.rounding
        digits, increment = minor_unit_digits(sw.currency), rounding_increment(sw.currency)
        for entry in plan.get("charges") or ():
            key = (sw.customer_id, sw.window_start, sw.subscription_id, entry["metric"])
            lines = price_charge(
                _charge_from_yaml(entry), quantities.get(key, Decimal(0)), events_by_group.get(key, ())
            )
            for line in lines:
                if line.quantity == 0 and line.amount == 0:
                    continue
                rows.append(
                    (
                        *key,
                        line.tier,
                        round_to_minor(line.amount, digits, mode, increment),
                        version.version,
                        sw.plan_id,
                    )
                    + (entry["model"], line.quantity, line.amount)
                )
    columns = [*OUTPUT_COLUMNS, "pricing_version", "plan_id", "charge_model", "quantity", "amount"]
    return pd.DataFrame(rows, columns=columns).astype({"tier": "Int64"})


def read_warehouse(warehouse: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        windows = con.sql(
            "select customer_id, window_start, window_end, window_start_date::varchar as window_start_date "
            "from intermediate.int_billing_windows"
        ).df()
        subscriptions = con.sql(
            "select subscription_id, customer_id, plan_id, started_at, ended_at from staging.stg_subscriptions"
        ).df()
        customer_columns = {row[0] for row in con.sql("describe staging.stg_customers").fetchall()}
        pinned = ", pinned_pricing_version" if "pinned_pricing_version" in customer_columns else ""
        customers = con.sql(f"select customer_id, currency{pinned} from staging.stg_customers").df()
    finally:
        con.close()
    for frame, columns in (
        (windows, ["window_start", "window_end"]),
        (subscriptions, ["started_at", "ended_at"]),
    ):
        for column in columns:
            frame[column] = frame[column].astype("datetime64[us]")
    return windows, subscriptions, customers


def price_usage_pandas(landing: Path, warehouse: Path, pricing_dir: Path, as_of: str) -> pd.DataFrame:
    """The usage lines of every closed window (see the module docstring), one row per line."""
    return _timed_pricing(landing, warehouse, pricing_dir, as_of)[0]


def _timed_pricing(
    landing: Path, warehouse: Path, pricing_dir: Path, as_of: str
) -> tuple[pd.DataFrame, dict]:
    timings, started = {}, time.perf_counter()

    def lap(name: str) -> None:
        nonlocal started
        timings[name] = time.perf_counter() - started
        started = time.perf_counter()

    as_of_ts = pd.Timestamp(as_of)
    versions, metrics = read_pricing_configs(pricing_dir)
    windows, subscriptions, customers = read_warehouse(warehouse)
    lap("read warehouse + configs")
    events, scale = read_events(Path(landing))
    timings["events"] = len(events)
    lap("read + dedup events")
    placed = place_events(events, windows, subscriptions, as_of_ts)
    lap("window assignment")
    quantities = aggregate(placed, metrics, scale)
    percentage_metrics = {
        charge["metric"]
        for version in versions
        for plan in version.plans.values()
        for charge in plan.get("charges") or ()
        if charge["model"] == "percentage"
    }
    events_by_group = event_quantities(placed, scale, percentage_metrics)
    lap("aggregation")
    lines = price_lines(
        subscription_windows(windows, subscriptions, customers, as_of_ts),
        versions,
        quantities,
        events_by_group,
    )
    lap("pricing")
    return lines, timings


def compare_with_sql(lines: pd.DataFrame, warehouse: Path) -> pd.DataFrame:
    """Lines whose amount_minor differs from (or is missing in) marts.fct_invoice_lines' usage lines."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        sql = con.sql(
            "select customer_id, period_start as window_start, subscription_id, metric, tier, amount_minor "
            "from marts.fct_invoice_lines where line_type = 'usage' and scenario = 'actual'"
        ).df()
    finally:
        con.close()
    sql["window_start"] = sql["window_start"].astype("datetime64[us]")
    sql["tier"] = sql["tier"].astype("Int64")
    both = lines[OUTPUT_COLUMNS].merge(sql, on=LINE_KEY, how="outer", suffixes=("_pandas", "_sql"))
    return both[both["amount_minor_pandas"].ne(both["amount_minor_sql"]).fillna(True)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument(
        "--pricing-dir", type=Path, default=Path(__file__).resolve().parent.parent / "pricing_configs"
    )
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--compare", action="store_true", help="compare with marts.fct_invoice_lines")
    args = parser.parse_args()
    lines, timings = _timed_pricing(args.landing, args.warehouse, args.pricing_dir, args.as_of)
    total = sum(seconds for name, seconds in timings.items() if name != "events")
    print(f"pandas pricing of {timings['events']:,} events: {total:.2f} s, {len(lines):,} usage lines")
    for name, seconds in timings.items():
        if name != "events":
            print(f"  {name:<26} {seconds:8.2f} s")
    if args.compare:
        mismatches = compare_with_sql(lines, args.warehouse)
        print(f"lines differing from marts.fct_invoice_lines: {len(mismatches):,}")
        if len(mismatches):
            print(mismatches.head(20).to_string())


if __name__ == "__main__":
    main()
