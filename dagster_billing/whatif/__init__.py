"""Pricing what-ifs: re-price history under candidate price lists (`pricing_configs/scenarios/*.yaml`) with the
same dbt pricing models as billing, compare with what was issued, and report it (README, "What-ifs for analysts")."""

from dagster_billing.whatif.comparison import WhatifComparison, compare_scenarios, read_comparison
from dagster_billing.whatif.scenario_files import Scenario, ScenarioError, available_scenarios, load_scenarios
from dagster_billing.whatif.workspace import DbtFailed, WarehouseNotReady, whatif_database_path

__all__ = [
    "DbtFailed",
    "Scenario",
    "ScenarioError",
    "WarehouseNotReady",
    "WhatifComparison",
    "available_scenarios",
    "compare_scenarios",
    "load_scenarios",
    "read_comparison",
    "whatif_database_path",
]
