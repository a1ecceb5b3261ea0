"""Events: what happened, told to the other processes and to outside systems.

A change writes its events to the outbox in its own transaction (:func:`outbox.emit`); the
relay publishes them on the bus afterwards, at least once. Consumers drop duplicates by
event id.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

#: Topic of an event type on the broker: ``/topic/bgbilling.<type>``.
TOPIC_PREFIX = "/topic/bgbilling."


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"cannot put {type(value).__name__} into an event")


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
        return json.dumps({"id": self.id, "type": self.type,
                           "occurred_at": self.occurred_at.isoformat(),
                           "contract_id": self.contract_id, "data": self.data},
                          default=_encode, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> "Event":
        raw = json.loads(text)
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
