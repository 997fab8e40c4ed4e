import logging
import time

from app.core.config import settings

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


class EmailRelayUnavailable(ConnectionError):
    pass


def _deliver(email_to: str, subject: str, body: str) -> None:
    if not settings.EMAILS_ENABLED:
        logger.info("Emails disabled, not sending %r", subject)
        return
    logger.info(
        "email.outbound",
        extra={"from": settings.EMAILS_FROM, "to": email_to, "subject": subject, "body": body},
    )


def send_welcome_email(email_to: str, full_name: str | None = None) -> bool:
    subject = f"Welcome to {settings.PROJECT_NAME}"
    body = f"Hi {full_name or 'there'},\n\nThanks for creating an account with us!\n"
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            _deliver(email_to, subject, body)
            return True
        except EmailRelayUnavailable:
            logger.warning("Email relay unavailable (attempt %d/%d)", attempt, MAX_ATTEMPTS)
            time.sleep(1)
    logger.error("Giving up on welcome email after %d attempts", MAX_ATTEMPTS)
    return False


def send_order_confirmation(email_to: str, order_id: int) -> None:
    subject = f"Your order #{order_id}"
    body = f"We received your order #{order_id} and will let you know when it ships.\n"
    try:
        _deliver(email_to, subject, body)
    except EmailRelayUnavailable:
        logger.exception("Could not send confirmation for order %s", order_id)
