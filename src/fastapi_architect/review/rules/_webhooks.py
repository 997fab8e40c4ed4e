"""Provider SDKs that receive a webhook delivery and check it themselves: the signature
(Slack, Stripe, Svix, Standard Webhooks, Twilio) or the caller's token (the Bot
Framework), refusing the request when it does not match. A request, or its body and
headers, handed to one of them is authenticated by the provider, and its body is the
provider's documented payload, parsed by the SDK."""

from __future__ import annotations

SDK_DELIVERY_CHECKS = frozenset(
    {
        "slack_bolt.adapter.fastapi.SlackRequestHandler.handle",
        "slack_bolt.adapter.fastapi.async_handler.AsyncSlackRequestHandler.handle",
        "slack_bolt.adapter.fastapi.handler.SlackRequestHandler.handle",
        "slack_bolt.adapter.starlette.SlackRequestHandler.handle",
        "slack_bolt.adapter.starlette.async_handler.AsyncSlackRequestHandler.handle",
        "slack_bolt.adapter.starlette.handler.SlackRequestHandler.handle",
        "slack_sdk.signature.SignatureVerifier.is_valid_request",
        "slack_sdk.signature.SignatureVerifier.is_valid",
        "stripe.Webhook.construct_event",
        "stripe.webhook.Webhook.construct_event",
        "stripe.WebhookSignature.verify_header",
        "stripe.webhook.WebhookSignature.verify_header",
        "svix.Webhook.verify",
        "svix.webhooks.Webhook.verify",
        "standardwebhooks.Webhook.verify",
        "standardwebhooks.webhooks.Webhook.verify",
        "twilio.request_validator.RequestValidator.validate",
        "github_webhook.Webhook.verify_signature",
        "botbuilder.core.BotFrameworkAdapter.process_activity",
        "botbuilder.core.bot_framework_adapter.BotFrameworkAdapter.process_activity",
        "botbuilder.core.CloudAdapterBase.process_activity",
        "botbuilder.integration.aiohttp.CloudAdapter.process",
    }
)
