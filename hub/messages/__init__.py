"""Canonical message models, identifier rules and their JSON Schema export."""

from hub.messages.models import (
    MESSAGE_ADAPTER,
    MESSAGE_CLASSES,
    MESSAGE_TYPES,
    DossierEnvelope,
    Envelope,
    Message,
    Notice,
)

__all__ = ["MESSAGE_ADAPTER", "MESSAGE_CLASSES", "MESSAGE_TYPES", "DossierEnvelope", "Envelope", "Message", "Notice"]
