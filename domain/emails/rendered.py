"""What a rendered email is: the unit the outbox stores and the sender delivers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
