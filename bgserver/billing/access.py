"""Who is calling, and what they may do and see."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from bgshared.api.permissions import PERMISSIONS


@dataclass(frozen=True)
class Caller:
    #: ``operator``, ``api_key``, ``system`` or ``subscriber`` (signed in to the cabinet).
    kind: str
    id: int | None
    name: str
    permissions: frozenset[str]
    #: Contract groups the caller may see; None: every contract.
    groups: frozenset[int] | None = None
    session_id: int | None = None
    address: str | None = field(default=None, compare=False)
    #: A subscriber is bound to its one contract: it sees no other.
    contract_id: int | None = None

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def actor(self, prefix: str = "") -> dict[str, Any]:
        """The columns that keep who did something (``actor_type``, ``actor_id``,
        ``actor_name``, or with a prefix such as ``deleted_by_``)."""
        return {f"{prefix}actor_type": self.kind, f"{prefix}actor_id": self.id,
                f"{prefix}actor_name": self.name}

    def sees(self, contract_groups: Iterable[int]) -> bool:
        """A caller limited to groups sees a contract that is in at least one of them."""
        return self.groups is None or not self.groups.isdisjoint(contract_groups)

    def sees_contract(self, contract_id: int, contract_groups: Iterable[int]) -> bool:
        """:meth:`sees`, and a subscriber sees only the contract it is bound to."""
        if self.contract_id is not None and contract_id != self.contract_id:
            return False
        return self.sees(contract_groups)


ALL_PERMISSIONS = frozenset(PERMISSIONS)


def subscriber_caller(contract_id: int, number: str, session_id: int | None = None,
                      address: str | None = None) -> Caller:
    """A subscriber in the cabinet: no permissions, its own contract only, audited as
    ``subscriber`` with the contract's id and number."""
    return Caller("subscriber", contract_id, number, frozenset(), None, session_id, address,
                  contract_id)


def system_caller(name: str) -> Caller:
    """A scheduler task or the loader: acts with every permission, audited under its name."""
    return Caller("system", None, name, ALL_PERMISSIONS)
