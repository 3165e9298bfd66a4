"""How money and hours print, the one convention for the admin, the documents, the API and every
app: money by Babel's CLDR data in the currency's own form (`£1,234.50`, `¥1,235`), hours as
decimal hours to two places (`29.50 hrs`). The customer's rounding decides the values before
they print; these never round to a coarser step."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from babel import Locale
from babel.numbers import format_currency

MONEY_LOCALE = "en"
# Parsed once: Babel parses a locale name on every call otherwise (a third of its time).
_LOCALE = Locale.parse(MONEY_LOCALE)
HOURS_UNIT = " hrs"


def format_money(amount: Decimal, currency: str) -> str:
    """`£1,234.50`, `¥1,235`, `CHF 12.00`: Babel's CLDR formatting of the currency."""
    return format_currency(amount, currency, locale=_LOCALE, currency_digits=True)


def format_amount(amount: Decimal, currency: str) -> str:
    """A row's amount without the symbol, to the currency's minor unit (`1,234.50`)."""
    return format_currency(
        amount, currency, locale=_LOCALE, format="#,##0.00", currency_digits=True
    )


def format_hours(hours: Decimal) -> str:
    """Decimal hours to two places with the unit (`29.50 hrs`, `0.75 hrs`, `2.33 hrs` for
    2 h 20 min)."""
    return f"{format_hours_number(hours)}{HOURS_UNIT}"


def format_hours_number(hours: Decimal) -> str:
    """The hours without the unit, two decimal places, half up (`1.50`): table cells."""
    return f"{Decimal(hours).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}"
