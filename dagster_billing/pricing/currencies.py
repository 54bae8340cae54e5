"""ISO 4217 currencies a plan may be priced in, with the number of minor-unit digits of each.

Circulating currencies only: fund codes (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW), precious metals and
other X-codes without minor units are left out because nobody is invoiced in them, and withdrawn codes
(HRK, CUC, SLL, ZWL...) are left out so a new config cannot use them. ANG stays next to its successor XCG
during the 2025 transition. The digits are ISO's, not Stripe's: Stripe treats a few currencies differently
(MGA, ISK, HUF, TWD, UGX), which the Stripe sync has to handle at its own edge. The one Stripe rule that
changes amounts is kept here: its three-decimal currencies are charged in multiples of 10 of the minor unit.
"""

from types import MappingProxyType

_THREE_DIGIT = "BHD IQD JOD KWD LYD OMR TND"
_ZERO_DIGIT = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF"
_TWO_DIGIT = """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF
CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF
IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR
MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD
SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VED VES WST XCD XCG
YER ZAR ZMW ZWG
"""

#: Currency code -> minor-unit digits (USD 2: cents; JPY 0; KWD 3: fils).
CURRENCY_MINOR_UNITS: MappingProxyType[str, int] = MappingProxyType(
    {code: 0 for code in _ZERO_DIGIT.split()}
    | {code: 2 for code in _TWO_DIGIT.split()}
    | {code: 3 for code in _THREE_DIGIT.split()}
)

ISO_4217_CODES: frozenset[str] = frozenset(CURRENCY_MINOR_UNITS)

#: Three-decimal currencies Stripe charges only in multiples of 10 minor units ("the least-significant (last) digit
#: must be 0; your integration must round amounts to the nearest ten", https://docs.stripe.com/currencies). Invoice
#: lines in them are rounded to 10 fils, so what the warehouse bills is what Stripe can charge. The dbt var
#: `currencies_rounded_to_ten_minor_units` (dbt_project.yml) holds the same list; a test keeps the two equal.
ROUNDED_TO_TEN_MINOR_UNITS: frozenset[str] = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})


def minor_unit_digits(currency: str) -> int:
    """Digits after the decimal point of `currency` (an upper-case ISO 4217 code from ISO_4217_CODES)."""
    return CURRENCY_MINOR_UNITS[currency]


def rounding_increment(currency: str) -> int:
    """The minor units an invoice line of `currency` is rounded to a multiple of: 10 for Stripe's three-decimal
    currencies, 1 for every other."""
    return 10 if currency in ROUNDED_TO_TEN_MINOR_UNITS else 1
