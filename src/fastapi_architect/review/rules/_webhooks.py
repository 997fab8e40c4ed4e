"""Provider SDKs that receive a webhook delivery and check it themselves: the signature
(Slack, Stripe, Svix, Standard Webhooks, Twilio) or the caller's token (the Bot
Framework), refusing the request when it does not match. A request, or its body and
headers, handed to one of them is authenticated by the provider, and its body is the
provider's documented payload, parsed by the SDK."""

from __future__ import annotations

# Calls that refuse a bad delivery themselves (they raise, or answer 401/403).
SDK_DELIVERY_CHECKS = frozenset(
    {
        "slack_bolt.adapter.fastapi.SlackRequestHandler.handle",
        "slack_bolt.adapter.fastapi.async_handler.AsyncSlackRequestHandler.handle",
        "slack_bolt.adapter.fastapi.handler.SlackRequestHandler.handle",
        "slack_bolt.adapter.starlette.SlackRequestHandler.handle",
        "slack_bolt.adapter.starlette.async_handler.AsyncSlackRequestHandler.handle",
        "slack_bolt.adapter.starlette.handler.SlackRequestHandler.handle",
        "stripe.Webhook.construct_event",
        "stripe.webhook.Webhook.construct_event",
        "stripe.WebhookSignature.verify_header",
        "stripe.webhook.WebhookSignature.verify_header",
        "svix.Webhook.verify",
        "svix.webhooks.Webhook.verify",
        "standardwebhooks.Webhook.verify",
        "standardwebhooks.webhooks.Webhook.verify",
        "github_webhook.Webhook.verify_signature",
        "botbuilder.core.BotFrameworkAdapter.process_activity",
        "botbuilder.core.bot_framework_adapter.BotFrameworkAdapter.process_activity",
        "botbuilder.core.CloudAdapterBase.process_activity",
        "botbuilder.integration.aiohttp.CloudAdapter.process",
    }
)
# Calls that only answer whether the signature matches: they authenticate the request
# when their answer decides (`if not validator.validate(...): raise ...`).
SDK_SIGNATURE_PREDICATES = frozenset(
    {
        "slack_sdk.signature.SignatureVerifier.is_valid_request",
        "slack_sdk.signature.SignatureVerifier.is_valid",
        "twilio.request_validator.RequestValidator.validate",
    }
)
# Either kind: the body handed to them is the provider's payload, read on purpose.
SDK_DELIVERY_CALLS = SDK_DELIVERY_CHECKS | SDK_SIGNATURE_PREDICATES
