"""The README's pricing-config examples stay valid: the full file and one charge of each model load with the real
loader, so the documentation cannot drift from the format."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from dagster_billing.pricing import load_pricing_configs
from dagster_billing.settings import REPO_ROOT

CHARGE_MODELS = {"per_unit", "graduated", "volume", "package", "percentage", "graduated_percentage"}


def _readme_section(heading: str) -> str:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert heading in text, f"no '{heading}' in README.md"
    return re.split(r"\n#{2,3} ", text.split(heading, 1)[1], maxsplit=1)[0]


def _yaml_blocks(section: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", section, flags=re.DOTALL)


def test_the_readme_full_config_example_loads(tmp_path: Path):
    [example] = _yaml_blocks(_readme_section("### A file"))
    (tmp_path / "2026-01.yaml").write_text(example)
    [config] = load_pricing_configs(tmp_path)
    assert config.version == "2026-01"
    assert {(plan.id, plan.currency) for plan in config.plans} == {("growth", "USD"), ("growth", "JPY")}


@pytest.fixture(scope="module")
def charge_examples() -> list[dict]:
    charges = []
    for block in _yaml_blocks(_readme_section("### Charge models")):
        [charge] = yaml.safe_load(block)
        charges.append(charge)
    return charges


def test_the_readme_shows_one_example_per_charge_model(charge_examples):
    assert sorted(charge["model"] for charge in charge_examples) == sorted(CHARGE_MODELS)


def test_every_readme_charge_example_loads(charge_examples, tmp_path: Path):
    for index, charge in enumerate(charge_examples):
        folder = tmp_path / str(index)
        folder.mkdir()
        config = {
            "version": "2026-01",
            "effective_from": "2026-01-01",
            "metrics": [{"code": charge["metric"], "name": charge["metric"], "aggregation": "sum"}],
            "plans": [
                {"id": "p", "name": "P", "currency": "USD", "interval": "month", "charges": [charge]},
            ],
        }
        (folder / "2026-01.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        [loaded] = load_pricing_configs(folder)
        [plan] = loaded.plans
        assert len(plan.charges) == 1, charge
