"""What-if scenario files: `pricing_configs/scenarios/<name>.yaml`.

A scenario is a candidate pricing version, written in exactly the schema of `pricing_configs/*.yaml` and checked
by the same code (strict YAML, the file rules, the pydantic models and the rules between versions), plus an
optional `whatif:` section: which customers move to which plan, and how usage of a metric would change. A
candidate is reviewed in git like any code, and backtested on the real warehouse.

Everything that can be checked without the warehouse is checked here; the scenario's customers and the plans the
warehouse's subscriptions need are checked by `assignment.scenario_warehouse_problems`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, model_validator

from dagster_billing.pricing.config_amounts import exact_decimal
from dagster_billing.pricing.config_base import Code, ConfigModel
from dagster_billing.pricing.config_errors import describe_validation_error
from dagster_billing.pricing.config_models import PricingConfig
from dagster_billing.pricing.config_yaml import YamlProblem, read_yaml
from dagster_billing.pricing.cross_version_rules import PLAN_FIXED_FIELDS, cross_version_problems
from dagster_billing.pricing.file_rules import file_problems
from dagster_billing.pricing.pricing_tables import ACTUAL_SCENARIO

SCENARIOS_FOLDER = "scenarios"
SCENARIO_NAME = re.compile(r"^[a-z0-9][a-z0-9_]{0,39}$")
# The candidate never wins a window by its date: every window of the what-if is pinned to it.
CANDIDATE_EFFECTIVE_FROM = dt.date(9999, 12, 31)

PercentText = Annotated[Decimal, Field(gt=Decimal(-100), le=Decimal(1000))]
SharePercent = Annotated[Decimal, Field(gt=0, le=100)]


class ScenarioError(ValueError):
    """Every problem of the scenarios asked for; raised before anything is computed."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        count = len(self.problems)
        header = f"{count} problem{'s' if count != 1 else ''} in the what-if scenarios, nothing was run:"
        super().__init__("\n".join([header, *(f"- {problem}" for problem in self.problems)]))


class PlanMove(ConfigModel):
    """Customers that move to `to_plan`: every customer of `from_plan` (or the deterministic `share_percent` of
    them), or the listed `customers` (their subscriptions on `from_plan` only, when it is given)."""

    to_plan: Code
    from_plan: Code | None = None
    customers: list[Code] | None = None
    share_percent: SharePercent | None = None

    @model_validator(mode="before")
    @classmethod
    def _exact_share(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("share_percent"), float):
            raise ValueError('share_percent: write it as text in quotes, e.g. "25"')
        return data

    @model_validator(mode="after")
    def _who_moves(self) -> PlanMove:
        if self.from_plan is None and not self.customers:
            raise ValueError("name who moves: from_plan (every customer of a plan) or customers (a list)")
        if self.share_percent is not None and (self.from_plan is None or self.customers):
            raise ValueError("share_percent is a share of from_plan's customers; use it with from_plan only")
        return self


class WhatifSettings(ConfigModel):
    description: str = ""
    assign: list[PlanMove] = []
    # metric code -> percent change of every window's usage of it (e.g. "-10": a tenth less); default none
    elasticity: dict[Code, PercentText] = {}

    @model_validator(mode="before")
    @classmethod
    def _exact_elasticity(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("elasticity"), dict):
            data = {**data, "elasticity": {k: exact_decimal(v) for k, v in data["elasticity"].items()}}
        return data


@dataclass(frozen=True)
class Scenario:
    name: str
    source_file: str
    pricing: PricingConfig  # the candidate as written (its own version name and date)
    settings: WhatifSettings

    @property
    def candidate(self) -> PricingConfig:
        """The candidate as it is loaded: version = the scenario's name, in force for no date of its own (every
        window of the what-if is pinned to it), so it never collides with a real version."""
        copy = self.pricing.model_copy(
            update={"version": self.name, "effective_from": CANDIDATE_EFFECTIVE_FROM}
        )
        copy._source_file = self.source_file
        return copy

    def usage_factor(self, metric: str) -> Decimal:
        """What a window's usage of `metric` is multiplied by: 1 + elasticity / 100."""
        return 1 + self.settings.elasticity.get(metric, Decimal(0)) / 100


def scenario_path(pricing_dir: Path, name_or_path: str) -> Path:
    """A scenario named on the command line: a name in `<pricing_dir>/scenarios/`, or a path to a file."""
    given = Path(name_or_path)
    if given.suffix in (".yaml", ".yml") or given.parent != Path("."):
        return given
    return Path(pricing_dir) / SCENARIOS_FOLDER / f"{name_or_path}.yaml"


def load_scenarios(
    pricing_dir: Path, names: Sequence[str], actual_configs: Sequence[PricingConfig]
) -> list[Scenario]:
    """The scenarios `names` (names in `<pricing_dir>/scenarios/` or file paths); raises ScenarioError with
    every problem of every file."""
    problems: list[str] = []
    scenarios: list[Scenario] = []
    seen: dict[str, str] = {}
    for name in names:
        path = scenario_path(pricing_dir, name)
        scenario, found = _load(path, Path(pricing_dir).resolve().parent, actual_configs)
        problems += found
        if scenario is None:
            continue
        if scenario.name in seen:
            problems.append(f"{scenario.source_file}: the scenario '{scenario.name}' is asked for twice")
            continue
        seen[scenario.name] = scenario.source_file
        scenarios.append(scenario)
    if not names:
        problems.append("no scenario given: name one or more files of pricing_configs/scenarios/")
    if problems:
        raise ScenarioError(problems)
    return scenarios


def available_scenarios(pricing_dir: Path) -> list[str]:
    folder = Path(pricing_dir) / SCENARIOS_FOLDER
    return sorted(path.stem for path in folder.glob("*.yaml")) if folder.is_dir() else []


def _shown_path(path: Path, root: Path) -> str:
    resolved = path.resolve()
    return resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else str(path)


def _load(
    path: Path, root: Path, actual_configs: Sequence[PricingConfig]
) -> tuple[Scenario | None, list[str]]:
    source_file = _shown_path(path, root)
    if not path.is_file():
        return None, [f"{source_file}: no such scenario file{_known(path)}"]
    name = path.stem
    if not SCENARIO_NAME.match(name) or name == ACTUAL_SCENARIO:
        return None, [
            f"{source_file}: the file name '{name}' is the scenario's name: use lowercase letters, digits and _ "
            f"(at most 40), and not '{ACTUAL_SCENARIO}'"
        ]
    try:
        data = read_yaml(path)
    except YamlProblem as problem:
        return None, [f"{source_file}: {problem}"]
    if not isinstance(data, dict):
        return None, [f"{source_file}: must be a pricing version (version, effective_from, metrics, plans)"]
    pricing_data = {key: value for key, value in data.items() if key != "whatif"}
    problems = file_problems(source_file, pricing_data)
    settings = _settings(source_file, data.get("whatif") or {}, problems)
    try:
        pricing = PricingConfig.from_file_data(pricing_data, source_file)
    except ValidationError as error:
        return None, problems + describe_validation_error(source_file, pricing_data, error)
    if settings is None or problems:
        return None, problems
    scenario = Scenario(name, source_file, pricing, settings)
    problems += _percentage_problems(scenario)
    problems += cross_version_problems([*actual_configs, scenario.candidate])
    problems += _settings_problems(scenario, actual_configs)
    return (None if problems else scenario), problems


def _known(path: Path) -> str:
    names = available_scenarios(path.parent.parent) if path.parent.name == SCENARIOS_FOLDER else []
    return f" (scenarios there: {', '.join(names)})" if names else ""


def _settings(source_file: str, data: object, problems: list[str]) -> WhatifSettings | None:
    try:
        return WhatifSettings.model_validate(data)
    except ValidationError as error:
        for details in error.errors():
            where = "whatif" + "".join(
                f"[{p + 1}]" if isinstance(p, int) else f".{p}" for p in details["loc"]
            )
            message = details["msg"].removeprefix("Value error, ")
            problems.append(f"{source_file}: field '{where}': {message}")
        return None
    except ValueError as error:  # an elasticity that is not an exact number
        problems.append(f"{source_file}: field 'whatif.elasticity': {error}")
        return None


def _percentage_problems(scenario: Scenario) -> list[str]:
    return [
        f"{scenario.source_file}: plan '{plan.id}' ({plan.currency}): charge '{charge.metric}': field 'model': "
        "percentage is priced per event, and a what-if re-prices the aggregated usage of each window only; "
        "use graduated_percentage (priced on the window's total) in a scenario"
        for plan in scenario.pricing.plans
        for charge in plan.charges
        if charge.model == "percentage"
    ]


def _settings_problems(scenario: Scenario, actual_configs: Sequence[PricingConfig]) -> list[str]:
    problems: list[str] = []
    file = scenario.source_file
    candidate_plans = {plan.id: plan for plan in scenario.pricing.plans}
    actual_plans = {plan.id: plan for config in actual_configs for plan in config.plans}
    metrics = {metric.code for metric in scenario.pricing.metrics}
    for number, move in enumerate(scenario.settings.assign, start=1):
        where = f"{file}: field 'whatif.assign[{number}]"
        target = candidate_plans.get(move.to_plan)
        if target is None:
            problems.append(
                f"{where}.to_plan': '{move.to_plan}' is not a plan of this scenario "
                f"(its plans: {', '.join(sorted(candidate_plans))})"
            )
        if move.from_plan is not None and move.from_plan not in actual_plans:
            problems.append(
                f"{where}.from_plan': '{move.from_plan}' is not a plan of pricing_configs/ "
                f"(plans: {', '.join(sorted(actual_plans))})"
            )
        elif move.from_plan is not None and target is not None:
            source = actual_plans[move.from_plan]
            for attribute, field in PLAN_FIXED_FIELDS.items():
                if getattr(source, attribute) != getattr(target, attribute):
                    problems.append(
                        f"{where}.to_plan': '{move.to_plan}' has {field} {getattr(target, attribute)!r} but "
                        f"'{move.from_plan}' has {getattr(source, attribute)!r}; a what-if re-prices windows, it "
                        "never re-cuts them, so a plan can only move to a plan with the same cadence and fee timing"
                    )
    for metric in scenario.settings.elasticity:
        if metric not in metrics:
            problems.append(
                f"{file}: field 'whatif.elasticity.{metric}': '{metric}' is not a metric of this scenario "
                f"(its metrics: {', '.join(sorted(metrics))})"
            )
    return problems
