"""Events: what happened, told to the other processes and to outside systems.

A change writes its events to the outbox in its own transaction (:func:`outbox.emit`); the
relay publishes them on the bus afterwards, at least once. Consumers drop duplicates by
event id.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bgshared import wire

#: Topic of an event type on the broker: ``/topic/bgbilling.<type>``.
TOPIC_PREFIX = "/topic/bgbilling."


@dataclass(frozen=True)
class Event:
    type: str
    occurred_at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    contract_id: int | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def topic(self) -> str:
        return TOPIC_PREFIX + self.type

    def to_json(self) -> str:
        return wire.dumps({"id": self.id, "type": self.type, "occurred_at": self.occurred_at,
                           "contract_id": self.contract_id, "data": self.data})

    @classmethod
    def from_json(cls, text: str | bytes) -> "Event":
        raw = wire.loads(text)
        return cls(id=raw["id"], type=raw["type"],
                   occurred_at=datetime.fromisoformat(raw["occurred_at"]),
                   contract_id=raw.get("contract_id"), data=raw.get("data") or {})


def type_matches(pattern: str, event_type: str) -> bool:
    """Broker wildcard rules on dotted types: ``*`` is one segment, ``>`` the rest."""
    want, have = pattern.split("."), event_type.split(".")
    for index, part in enumerate(want):
        if part == ">":
            return True
        if index >= len(have) or (part != "*" and part != have[index]):
            return False
    return len(want) == len(have)
