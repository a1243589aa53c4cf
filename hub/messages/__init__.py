"""Canonical message models, identifier rules and their JSON Schema export."""

from hub.messages.models import (
    MESSAGE_ADAPTER,
    MESSAGE_CLASSES,
    MESSAGE_TYPES,
    Envelope,
    Message,
)

__all__ = ["MESSAGE_ADAPTER", "MESSAGE_CLASSES", "MESSAGE_TYPES", "Envelope", "Message"]
