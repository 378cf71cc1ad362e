"""Channel-agnostic conversation core: message types, per-user state, router."""

from bot.conversation.types import Button, IncomingMessage, MediaKind, Reply

__all__ = ["Button", "IncomingMessage", "MediaKind", "Reply"]
