"""Load every `<pricing_dir>/*.yaml` into validated `PricingConfig`s, or fail with every problem at once.

Nothing is returned unless every file and every rule between files is valid, so a caller never writes a
half-loaded set of versions.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from dagster_billing.pricing.config_errors import PricingConfigError, describe_validation_error
from dagster_billing.pricing.config_models import PricingConfig
from dagster_billing.pricing.config_yaml import YamlProblem, read_yaml
from dagster_billing.pricing.cross_version_rules import cross_version_problems
from dagster_billing.pricing.file_rules import file_problems

CONFIG_SUFFIXES = (".yaml", ".yml")


def load_pricing_configs(pricing_dir: Path) -> list[PricingConfig]:
    """All pricing versions in `pricing_dir`, sorted by effective_from; raises PricingConfigError."""
    pricing_dir = Path(pricing_dir).resolve()
    problems: list[str] = []
    configs: list[PricingConfig] = []
    for path in config_files(pricing_dir):
        source_file = path.relative_to(pricing_dir.parent).as_posix()
        config, file_problems = _load_file(path, source_file)
        problems += file_problems
        if config is not None:
            configs.append(config)
    problems += cross_version_problems(configs)
    if problems:
        raise PricingConfigError(problems)
    return sorted(configs, key=lambda config: config.effective_from)


def config_files(pricing_dir: Path) -> list[Path]:
    if not pricing_dir.is_dir():
        raise PricingConfigError(
            [f"{pricing_dir.name}/: the pricing config folder does not exist ({pricing_dir})"]
        )
    files = sorted(
        path
        for path in pricing_dir.iterdir()
        if path.is_file() and path.suffix in CONFIG_SUFFIXES and not path.name.startswith(".")
    )
    if not files:
        raise PricingConfigError(
            [f"{pricing_dir.name}/: no pricing config files (*.yaml) in {pricing_dir}; one is needed"]
        )
    return files


def _load_file(path: Path, source_file: str) -> tuple[PricingConfig | None, list[str]]:
    try:
        data = read_yaml(path)
    except YamlProblem as problem:
        return None, [f"{source_file}: {problem}"]
    if data is None:
        return None, [f"{source_file}: the file is empty"]
    if not isinstance(data, dict):
        return None, [f"{source_file}: must be a set of fields (version, effective_from, metrics, plans)"]
    problems = file_problems(source_file, data)
    try:
        config = PricingConfig.from_file_data(data, source_file)
    except ValidationError as error:
        problems += describe_validation_error(source_file, data, error)
        return None, problems
    return (None if problems else config), problems
