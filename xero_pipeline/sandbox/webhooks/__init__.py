"""Xero's webhooks, sent by the sandbox: a subscription, intent-to-receive probes, and signed,
batched deliveries of the events the books' changes cause, retried as Xero retries them."""

from xero_pipeline.sandbox.webhooks.sender import WebhookSender
from xero_pipeline.sandbox.webhooks.subscription import ACTIVE, DISABLED, ITR_FAILED, Subscription

__all__ = ["ACTIVE", "DISABLED", "ITR_FAILED", "Subscription", "WebhookSender"]
