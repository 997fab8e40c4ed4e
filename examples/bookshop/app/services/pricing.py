import logging
from decimal import ROUND_HALF_UP, Decimal

import requests

from app.core.config import settings

logger = logging.getLogger(__name__)

BASE_CURRENCY = "EUR"


class ExchangeRateUnavailable(Exception):
    def __init__(self, currency: str) -> None:
        super().__init__(f"No exchange rate available for {currency}")
        self.currency = currency


def get_exchange_rate(currency: str) -> Decimal:
    """Rate to convert an amount in BASE_CURRENCY into `currency`."""
    currency = currency.upper()
    if currency == BASE_CURRENCY:
        return Decimal("1")

    response = requests.get(
        settings.EXCHANGE_RATE_API_URL,
        params={"base": BASE_CURRENCY, "symbols": currency},
        timeout=5,
    )
    response.raise_for_status()
    rate = response.json().get("rates", {}).get(currency)
    if rate is None:
        logger.warning("Exchange rate provider has no rate for %s", currency)
        raise ExchangeRateUnavailable(currency)
    return Decimal(str(rate))


def convert(amount: Decimal, rate: Decimal) -> Decimal:
    return (amount * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
