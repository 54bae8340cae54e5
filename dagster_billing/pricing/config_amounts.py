"""Exact decimal amounts and quantities in pricing configs: parsed from text, never through a binary float.

An amount is written as a quoted string (`"0.0125"`) or a plain number (read from its exact text by
`config_yaml`). A Python float is refused: by the time it reaches us `0.1` is already 0.1000000000000000055...,
and a price must be exactly what was written. Every value must fit the warehouse's `decimal(38, 12)`.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

MAX_DECIMAL_PLACES = 12
MAX_INTEGER_DIGITS = 38 - MAX_DECIMAL_PLACES
#: The largest price, fee, flat amount, minimum or per-event bound (major units). The pricing SQL computes these
#: exactly outside the per-line check (tier prices as decimal(38, 14), flat amounts and per-event bounds as
#: decimal(38, 26), minimums through exact_fraction), all safe below 10^11; a line they make too large for its
#: currency (macro max_line_amount_minor: 10^11 minor units) is held with a reason instead of failing the build.
MAX_AMOUNT = Decimal(10) ** 11


def exact_decimal(value: object) -> Decimal:
    """`value` as an exact Decimal, or a ValueError saying how to write it."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, float):
        raise ValueError(
            f"{value!r} is a binary floating-point number, which cannot hold most decimal amounts exactly; "
            f"write it as text in quotes, e.g. '{value}'"
        )
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(
                f"{value!r} is not a number; write digits with '.' for decimals, e.g. '49.00' "
                f"(no currency sign, no thousands separator)"
            ) from None
    else:
        raise ValueError(f"{value!r} is not a number")
    return _within_warehouse_precision(value, number)


def _within_warehouse_precision(written: object, number: Decimal) -> Decimal:
    if not number.is_finite():
        raise ValueError(f"{written!r} is not a finite number")
    shown = _shown(written)
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_DECIMAL_PLACES:
        raise ValueError(f"{shown} has {-exponent} decimal places; at most {MAX_DECIMAL_PLACES} are allowed")
    if abs(number) >= Decimal(10) ** MAX_INTEGER_DIGITS:
        raise ValueError(
            f"{shown} is too large; at most {MAX_INTEGER_DIGITS} digits before the decimal point"
        )
    return number


def _not_negative(number: Decimal) -> Decimal:
    if number < 0:
        raise ValueError(f"'{number}' must not be negative")
    return number


def _at_most_max_amount(number: Decimal) -> Decimal:
    if number > MAX_AMOUNT:
        raise ValueError(
            f"'{number}' is above the maximum amount {MAX_AMOUNT:,} (10^11 major units); "
            "no price, fee or minimum can be that large"
        )
    return number


def _positive(number: Decimal) -> Decimal:
    if number <= 0:
        raise ValueError(f"'{number}' must be greater than 0")
    return number


def _shown(written: object) -> str:
    return repr(written) if isinstance(written, str) else f"'{written}'"


#: A price, fee, quantity or percentage: exact, at least 0, at most 12 decimal places.
NonNegativeDecimal = Annotated[Decimal, BeforeValidator(exact_decimal), AfterValidator(_not_negative)]
#: A price, fee, flat amount, minimum or per-event bound: a NonNegativeDecimal of at most MAX_AMOUNT.
Amount = Annotated[NonNegativeDecimal, AfterValidator(_at_most_max_amount)]
#: A size that divides (package_size): exact and greater than 0.
PositiveDecimal = Annotated[Decimal, BeforeValidator(exact_decimal), AfterValidator(_positive)]
