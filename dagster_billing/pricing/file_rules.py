"""Rules between the entries of one file, checked on the raw YAML data before pydantic sees it.

Running them on the raw entries (not the validated models) means a repeated plan or an unknown metric is
reported in the same message as every other mistake of the file, even when those entries have other errors.
"""

from __future__ import annotations

from collections import Counter

from dagster_billing.pricing.config_errors import plan_label


def file_problems(source_file: str, data: dict) -> list[str]:
    plans = _dicts(data.get("plans"))
    return [
        *_repeated_plans(source_file, plans),
        *_repeated_metrics(source_file, _dicts(data.get("metrics"))),
        *_charge_metric_problems(source_file, plans, _metric_codes(data.get("metrics"))),
    ]


def _dicts(entries: object) -> list[dict]:
    return [entry for entry in entries if isinstance(entry, dict)] if isinstance(entries, list) else []


def _text(entry: dict, key: str) -> str | None:
    value = entry.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _repeated_plans(source_file: str, plans: list[dict]) -> list[str]:
    keys = Counter(
        (_text(plan, "id"), (_text(plan, "currency") or "").upper()) for plan in plans if _text(plan, "id")
    )
    return [
        f"{source_file}: {plan_label(plan_id, currency)}: field 'id': appears {count} times; a plan id may "
        f"appear once per currency in a version"
        for (plan_id, currency), count in keys.items()
        if count > 1
    ]


def _repeated_metrics(source_file: str, metrics: list[dict]) -> list[str]:
    codes = Counter(code for metric in metrics if (code := _text(metric, "code")))
    return [
        f"{source_file}: metric '{code}': field 'code': appears {count} times; each metric code must be unique "
        f"within a version"
        for code, count in codes.items()
        if count > 1
    ]


def _metric_codes(metrics: object) -> set[str] | None:
    """The version's metric codes, or None when the list itself is unreadable (reported elsewhere)."""
    if not isinstance(metrics, list):
        return None
    return {code for metric in _dicts(metrics) if (code := _text(metric, "code"))}


def _charge_metric_problems(source_file: str, plans: list[dict], metric_codes: set[str] | None) -> list[str]:
    problems = []
    for plan in plans:
        where = f"{source_file}: {plan_label(_text(plan, 'id'), _text(plan, 'currency'))}"
        charged = Counter(
            metric for charge in _dicts(plan.get("charges")) if (metric := _text(charge, "metric"))
        )
        for metric, count in charged.items():
            if count > 1:
                problems.append(
                    f"{where}: charge '{metric}': field 'metric': {count} charges for the same metric; a plan "
                    f"has at most one charge per metric (use tiers to price ranges differently)"
                )
            if metric_codes is not None and metric not in metric_codes:
                known = ", ".join(sorted(metric_codes)) or "none"
                problems.append(
                    f"{where}: charge '{metric}': field 'metric': '{metric}' is not one of this version's "
                    f"metrics ({known})"
                )
    return problems
