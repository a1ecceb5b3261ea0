"""Contract parameters: typed definitions, per-contract values, every change kept.

A value is checked against its definition's type and stored in one canonical text form, so
the same value always reads back the same and contract search can match it by prefix.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.exc import IntegrityError

from bgserver.billing import audit, visibility
from bgserver.billing.access import Caller
from bgserver.billing.errors import Conflict, Invalid, NotFound
from bgserver.events.outbox import emit
from bgserver.storage import params as store
from bgshared.api.models import ParamDefinitionCreate

TEXT_CHARS = 1000
DECIMAL_DIGITS, DECIMAL_PLACES = 30, 10
ADDRESS_FIELDS = ("postcode", "city", "street", "house", "flat")
ADDRESS_REQUIRED = ("city", "street", "house")
ADDRESS_CHARS = 200

_INT = re.compile(r"[+-]?[0-9]{1,19}")
_DECIMAL = re.compile(r"[+-]?[0-9]{1,30}(\.[0-9]{1,10})?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_EMAIL = re.compile(r"([^@\s]{1,64})@([^@\s.]+(?:\.[^@\s.]+)+)")
_PHONE = re.compile(r"\+?[0-9 ().-]+")


# -- one check per type: a value -> its canonical text, or ValueError/TypeError --------

def _text(value: Any, options: Any) -> str:
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= TEXT_CHARS:
        raise ValueError(f"must be text of 1 to {TEXT_CHARS} characters")
    return value.strip()


def _int(value: Any, options: Any) -> str:
    if isinstance(value, str) and _INT.fullmatch(value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) >= 2 ** 63:
        raise ValueError("must be a whole number")
    return str(value)


def _decimal(value: Any, options: Any) -> str:
    """Decimal from a string or an exact JSON number, never through float."""
    if isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
        value = Decimal(value.strip())
    elif isinstance(value, int) and not isinstance(value, bool):
        value = Decimal(value)
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError('must be a decimal number such as "12.50"')
    exponent = value.as_tuple().exponent
    if value.adjusted() >= DECIMAL_DIGITS or exponent < -DECIMAL_PLACES:  # type: ignore[operator]
        raise ValueError(f"at most {DECIMAL_DIGITS} digits and {DECIMAL_PLACES} decimals")
    return f"{abs(value) if value.is_zero() else value:f}"


def _date(value: Any, options: Any) -> str:
    try:
        if isinstance(value, str) and _DATE.fullmatch(value.strip()):
            return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        pass
    raise ValueError("must be a date YYYY-MM-DD")


def _flag(value: Any, options: Any) -> str:
    if not isinstance(value, bool):
        raise TypeError("must be true or false")
    return "true" if value else "false"


def _list(value: Any, options: Any) -> str:
    if not isinstance(value, str) or value.strip() not in (options or []):
        raise TypeError(f"must be one of {options}")
    return value.strip()


def _email(value: Any, options: Any) -> str:
    match = _EMAIL.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None or len(value.strip()) > 254:
        raise ValueError("must be an e-mail address")
    return f"{match.group(1)}@{match.group(2).lower()}"


def _phone(value: Any, options: Any) -> str:
    """Any common way of writing a number becomes ``+digits``."""
    if not isinstance(value, str) or not _PHONE.fullmatch(value.strip()):
        raise ValueError("must be a phone number")
    digits = re.sub(r"[^0-9]", "", value)
    if not 5 <= len(digits) <= 20:
        raise ValueError("a phone number has 5 to 20 digits")
    return "+" + digits


def _address(value: Any, options: Any) -> str:
    if not isinstance(value, dict):
        raise TypeError(f"must be an object with {', '.join(ADDRESS_FIELDS)}")
    unknown = sorted(set(value) - set(ADDRESS_FIELDS))
    if unknown:
        raise ValueError(f"unknown address fields: {', '.join(unknown)}")
    address: dict[str, str | None] = {}
    for name in ADDRESS_FIELDS:
        part = value.get(name)
        if part is not None and (not isinstance(part, str) or len(part.strip()) > ADDRESS_CHARS):
            raise ValueError(f"{name} must be text of at most {ADDRESS_CHARS} characters")
        address[name] = (part or "").strip() or None
        if name in ADDRESS_REQUIRED and address[name] is None:
            raise ValueError(f"{name} is required")
    return json.dumps(address, ensure_ascii=False, separators=(",", ":"))


CHECKS: dict[str, Callable[[Any, Any], str]] = {
    "text": _text, "int": _int, "decimal": _decimal, "date": _date, "flag": _flag,
    "list": _list, "email": _email, "phone": _phone, "address": _address}


def search_text(param_type: str, canonical: str) -> str:
    """What contract search matches by prefix: an address reads "city, street, house..."."""
    if param_type == "address":
        address = json.loads(canonical)
        return ", ".join(address[n] for n in ("city", "street", "house", "flat", "postcode")
                         if address[n])
    return canonical


def encode(definition: dict[str, Any], value: Any) -> str:
    """The canonical text of ``value`` for this definition, or Invalid naming the param."""
    try:
        return CHECKS[definition["type"]](value, definition.get("options"))
    except (TypeError, ValueError, InvalidOperation) as exc:
        raise Invalid(f"{definition['key']}: {exc}", {
            "param": definition["key"], "type": definition["type"], "reason": str(exc)}) from None


# -- the service -----------------------------------------------------------------------

def _audited(definition: dict[str, Any]) -> dict[str, Any]:
    """The audit hides any field named ``key`` as a secret: name it ``param`` there."""
    view = {k: v for k, v in definition.items() if k != "key"}
    return {"param": definition["key"], **view}


class ParamService:
    def __init__(self, database: Any, clock: Any):
        self.database = database
        self.clock = clock

    @staticmethod
    def _contract(conn, caller: Caller, contract_id: int, lock: bool = False) -> None:
        visibility.contract(conn, caller, contract_id, lock=lock)

    @staticmethod
    def _definition(conn, key: str) -> dict[str, Any]:
        definition = store.get_definition(conn, key)
        if definition is None:
            raise NotFound(f"no such parameter: {key}", {"param": key})
        return definition

    # -- definitions -------------------------------------------------------------------

    async def list_definitions(self) -> list[dict[str, Any]]:
        return await self.database.run("list_param_definitions", store.list_definitions,
                                       readonly=True)

    async def create_definition(self, caller: Caller,
                                body: ParamDefinitionCreate) -> dict[str, Any]:
        now = self.clock.now()

        def create(conn):
            if store.get_definition(conn, body.key) is not None:
                raise Conflict(f"parameter {body.key} exists already", {"param": body.key})
            try:
                param_id = store.insert_definition(conn, **body.model_dump(), created_at=now)
            except IntegrityError:
                raise Conflict(f"parameter {body.key} exists already",
                               {"param": body.key}) from None
            view = store.get_definition(conn, body.key)
            audit.record(conn, caller, "param.create", "param", param_id, now=now,
                         after=_audited(view))
            return view

        return await self.database.run("create_param_definition", create)

    # -- values ------------------------------------------------------------------------

    async def values(self, caller: Caller, contract_id: int) -> dict[str, Any]:
        def read(conn):
            self._contract(conn, caller, contract_id)
            return store.contract_values(conn, contract_id)

        items = await self.database.run("contract_params", read, readonly=True)
        return {"items": items, "next_cursor": None}

    async def set_value(self, caller: Caller, contract_id: int, key: str,
                        value: Any) -> dict[str, Any]:
        return await self._change(caller, contract_id, key, value, remove=False)

    async def remove_value(self, caller: Caller, contract_id: int, key: str) -> dict[str, Any]:
        return await self._change(caller, contract_id, key, None, remove=True)

    async def _change(self, caller: Caller, contract_id: int, key: str, value: Any,
                      remove: bool) -> dict[str, Any]:
        """One unit: value, history row, audit and event, under the contract's row lock."""
        now = self.clock.now()

        def change(conn):
            self._contract(conn, caller, contract_id, lock=True)
            definition = self._definition(conn, key)
            param_id, param_type = definition["id"], definition["type"]
            current = store.get_value(conn, contract_id, param_id)
            item = {"key": key, "title": definition["title"], "type": param_type}
            if remove:
                if current is None:
                    raise NotFound(f"the contract has no value of {key}", {"param": key})
                store.remove_value(conn, contract_id, param_id)
                text = None
            else:
                if value is None:
                    raise Invalid(f"{key}: a value is required (DELETE removes it)",
                                  {"param": key, "type": param_type, "reason": "required"})
                text = encode(definition, value)
                if current is not None and current["value"] == text:  # nothing changes
                    return {**item, "value": store.decode(param_type, text),
                            "updated_at": current["updated_at"]}
                store.set_value(conn, contract_id, param_id, text, now,
                                search=search_text(param_type, text))
            if definition["history"]:
                store.insert_history(conn, contract_id, param_id, text, now, caller.actor())
            before = store.decode(param_type, current["value"] if current else None)
            after = store.decode(param_type, text)
            audit.record(conn, caller, "contract.param_set", "contract_param", key, now=now,
                         before={"param": key, "value": before},
                         after={"param": key, "value": after}, contract_id=contract_id)
            emit(conn, "contract.changed", {"params": [key]}, occurred_at=now,
                 contract_id=contract_id)
            return {**item, "value": after, "updated_at": now}

        return await self.database.run("remove_contract_param" if remove
                                       else "set_contract_param", change)

    async def history(self, caller: Caller, contract_id: int, key: str) -> dict[str, Any]:
        def read(conn):
            self._contract(conn, caller, contract_id)
            return store.history(conn, contract_id, self._definition(conn, key))

        items = await self.database.run("contract_param_history", read, readonly=True)
        return {"items": items, "next_cursor": None}
