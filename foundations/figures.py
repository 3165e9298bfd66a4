"""How money and hours print, the one convention for the admin, the documents, the API and every
app: money by Babel's CLDR data in the currency's own form (`£1,234.50`, `¥1,235`), hours as
decimal hours to two places (`29.50 hrs`). The customer's rounding decides the values before
they print; these never round to a coarser step."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import format_currency

MONEY_LOCALE = "en"
# Parsed once: Babel parses a locale name on every call otherwise (a third of its time).
_LOCALE = Locale.parse(MONEY_LOCALE)
HOURS_UNIT = " hrs"


def format_money(amount: Decimal, currency: str) -> str:
    """`£1,234.50`, `¥1,235`, `CHF 12.00`: Babel's CLDR formatting of the currency."""
    return _money(_unsigned_zero(amount), currency, None)


def format_amount(amount: Decimal, currency: str) -> str:
    """A row's amount without the symbol, to the currency's minor unit (`1,234.50`)."""
    return _money(_unsigned_zero(amount), currency, "#,##0.00")


# A pure function of (amount, currency, format) for the one locale, kept: Babel's formatting was
# most of a list's cost above its SQL (3 ms of a page of 50 timesheets), and the amounts one
# consultant's pages show are few and shown again and again. Equal Decimals print alike
# (`1.5` and `1.50` both to the currency's digits) but for the signed zero, made unsigned first.
@lru_cache(maxsize=8192)
def _money(amount: Decimal, currency: str, pattern: str | None) -> str:
    return format_currency(amount, currency, locale=_LOCALE, format=pattern, currency_digits=True)


def _unsigned_zero(amount: Decimal) -> Decimal:
    return amount if amount else abs(amount)


def format_hours(hours: Decimal) -> str:
    """Decimal hours to two places with the unit (`29.50 hrs`, `0.75 hrs`, `2.33 hrs` for
    2 h 20 min)."""
    return f"{format_hours_number(hours)}{HOURS_UNIT}"


def format_hours_number(hours: Decimal) -> str:
    """The hours without the unit, two decimal places, half up (`1.50`): table cells."""
    return f"{Decimal(hours).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}"
