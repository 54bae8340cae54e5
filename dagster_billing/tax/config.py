"""Tax rates per jurisdiction and product, from `pricing_configs/tax/*.yaml` (never from code).

A file lists jurisdictions. A jurisdiction is a country (`DE`) or a region of one (`US-OR`, ISO 3166-2 style); a
customer is taxed by its most specific jurisdiction (its region's, else its country's). Each has a standard rate
(percent, exact decimal text), optional rates per product (a plan id: `products: {starter: "7"}`), `exempt: true`
for a region that levies no tax on what we sell, and `reverse_charge_b2b: true` where a business customer with a
tax id accounts for the tax itself (EU VAT). Files are read strictly (a key twice, a float, an unknown field are
errors) and every problem names the file, the jurisdiction and the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError, model_validator

from dagster_billing.pricing.config_amounts import exact_decimal
from dagster_billing.pricing.config_base import Code, ConfigModel, DisplayName
from dagster_billing.pricing.config_yaml import YamlProblem, read_yaml

TAX_FOLDER = "tax"
CONFIG_SUFFIXES = (".yaml", ".yml")
MAX_RATE_DECIMALS = 4
JURISDICTION_PATTERN = r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$"


def _rate(number: Decimal) -> Decimal:
    if number < 0 or number > 100:
        raise ValueError(f"'{number}' must be a percentage from 0 to 100")
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_RATE_DECIMALS:
        raise ValueError(f"'{number}' has more than {MAX_RATE_DECIMALS} decimal places")
    return number


#: A tax rate in percent: exact decimal text (`"19"`, `"7.25"`), 0 to 100, at most 4 decimal places.
RatePercent = Annotated[Decimal, BeforeValidator(exact_decimal), AfterValidator(_rate)]


class TaxConfigError(ValueError):
    """Every problem in the tax configs; raised once, before anything is written."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        count = len(problems)
        header = f"{count} problem{'s' if count != 1 else ''} in the tax configs, nothing was loaded:"
        super().__init__("\n".join([header, *(f"- {problem}" for problem in problems)]))


class Jurisdiction(ConfigModel):
    code: Annotated[str, Field(pattern=JURISDICTION_PATTERN)]
    name: DisplayName
    tax_name: DisplayName = "VAT"
    rate_percent: RatePercent | None = None
    products: dict[Code, RatePercent] = Field(default_factory=dict)
    exempt: bool = False
    reverse_charge_b2b: bool = False

    @model_validator(mode="after")
    def _a_rate_unless_exempt(self) -> Jurisdiction:
        if self.rate_percent is None and not self.exempt:
            raise ValueError("field 'rate_percent': is required unless the jurisdiction is exempt")
        return self


class TaxConfigFile(ConfigModel):
    jurisdictions: list[Jurisdiction] = Field(min_length=1)


@dataclass(frozen=True)
class TaxRateRow:
    """One row of raw.tax_rates: a jurisdiction's rate for a product (`*`: every other product)."""

    jurisdiction: str
    jurisdiction_name: str
    tax_name: str
    product: str
    rate_percent: Decimal
    is_exempt: bool
    reverse_charge_b2b: bool
    source_file: str


def tax_config_files(pricing_dir: Path) -> list[Path]:
    folder = pricing_dir / TAX_FOLDER
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.iterdir()
        if path.is_file() and path.suffix in CONFIG_SUFFIXES and not path.name.startswith(".")
    )


def _label(data: object, index: int) -> str:
    entries = data.get("jurisdictions") if isinstance(data, dict) else None
    entry = entries[index] if isinstance(entries, list) and index < len(entries) else None
    code = entry.get("code") if isinstance(entry, dict) else None
    return f"jurisdiction '{code}'" if isinstance(code, str) and code else f"jurisdiction #{index + 1}"


def _describe(source_file: str, data: object, error: ValidationError) -> list[str]:
    problems = []
    for details in error.errors():
        loc = list(details["loc"])
        where = [source_file]
        if len(loc) >= 2 and loc[0] == "jurisdictions" and isinstance(loc[1], int):
            where.append(_label(data, loc[1]))
            loc = loc[2:]
        if loc:
            field = str(loc[0]) + (f" '{loc[1]}'" if len(loc) > 1 else "")
            where.append(f"field '{field}'" if len(loc) == 1 else f"field {field}")
        message = details["msg"].removeprefix("Value error, ")
        if details["type"] == "extra_forbidden":
            message = "is not a known field (a misspelling?)"
        elif details["type"] == "missing":
            message = "is required"
        elif details["type"] == "string_pattern_mismatch":
            message = (
                f"'{details.get('input')}' must be a country code (DE) or a region of one (US-OR), upper case"
            )
        problems.append(": ".join([*where, message]))
    return problems


def _load_file(path: Path, source_file: str) -> tuple[TaxConfigFile | None, list[str]]:
    try:
        data = read_yaml(path)
    except YamlProblem as problem:
        return None, [f"{source_file}: {problem}"]
    if not isinstance(data, dict):
        return None, [f"{source_file}: must be a set of fields with a list of jurisdictions"]
    try:
        config = TaxConfigFile.model_validate(data)
    except ValidationError as error:
        return None, _describe(source_file, data, error)
    return config, []


def load_tax_rates(pricing_dir: Path) -> list[TaxRateRow]:
    """Every rate of every tax config file; no folder or no file means no tax is computed."""
    rows: list[TaxRateRow] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    for path in tax_config_files(pricing_dir):
        source_file = f"{TAX_FOLDER}/{path.name}"
        config, file_problems = _load_file(path, source_file)
        problems += file_problems
        if config is None:
            continue
        for jurisdiction in config.jurisdictions:
            if jurisdiction.code in seen:
                problems.append(
                    f"{source_file}: jurisdiction '{jurisdiction.code}': also in {seen[jurisdiction.code]}; "
                    "a jurisdiction is configured once"
                )
                continue
            seen[jurisdiction.code] = source_file
            rates = {"*": jurisdiction.rate_percent or Decimal(0), **jurisdiction.products}
            rows += [
                TaxRateRow(
                    jurisdiction.code,
                    jurisdiction.name,
                    jurisdiction.tax_name,
                    product,
                    Decimal(0) if jurisdiction.exempt else rate,
                    jurisdiction.exempt,
                    jurisdiction.reverse_charge_b2b,
                    source_file,
                )
                for product, rate in rates.items()
            ]
    if problems:
        raise TaxConfigError(problems)
    return rows
