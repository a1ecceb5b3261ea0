"""Forms over the current screen: payments and charges, deleting a payment, a status change,
a parameter value, a new contract, a tariff period, a confirmation. The server's validation messages show next to their
field; every form is dismissed with what the server answered, or None."""

from __future__ import annotations

import uuid
from typing import Any, Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from bgshared.api.views import STATUSES, Contract, MovementType, ParamValue
from bgshared.client import ApiError, ClientError
from bgshared.money import MoneyError
from bgtui.app import Abandoned
from bgtui.i18n import day, money, parse_day, parse_money, status, t
from bgtui.screens.base import BgModal


class Invalid(Exception):
    """A field the form itself can tell is wrong, before asking the server."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class FormScreen(BgModal):
    """A dialog of labelled fields, each with a line for its error under it.

    Subclasses list their fields in :meth:`fields` as ``(name, label key, widget)`` and
    send the form in :meth:`send`, which answers what the form is dismissed with."""

    BINDINGS = [Binding("escape", "cancel", "form.cancel"),
                Binding("ctrl+s", "save", "form.save", priority=True)]
    #: The title (a catalogue key) and its values.
    title_key = ""

    def title_values(self) -> dict[str, Any]:
        return {}

    def fields(self) -> list[tuple[str, str, Widget]]:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="form-box", classes="dialog"):
            for name, label, widget in self.fields():
                with Vertical(classes="form-field", id=f"field-{name}"):
                    yield Label(t(label))
                    widget.id = widget.id or f"in-{name}"
                    if hasattr(widget, "compact"):
                        widget.compact = True  # one line a field: a form fits 80x24
                    yield widget
                    yield Static("", classes="field-error", id=f"error-{name}")
            yield Static("", classes="field-error", id="error-form")
            with Horizontal(classes="buttons"):
                yield Button(t("form.save"), id="save", variant="primary")
                yield Button(t("form.cancel"), id="cancel")

    def on_mount(self) -> None:
        self.clear_errors()
        self.query_one("#form-box").border_title = t(self.title_key, **self.title_values())
        first = next(iter(self.query(".form-field Input, .form-field Select")), None)
        if first is not None:
            first.focus()

    def value(self, name: str) -> Any:
        widget = self.query_one(f"#in-{name}")
        if isinstance(widget, Select):
            return None if widget.value is Select.BLANK else widget.value
        return widget.value

    def clear_errors(self) -> None:
        for error in self.query(".field-error"):
            error.update("")
            error.display = False

    def show_error(self, field: str | None, message: str) -> None:
        target = self.query(f"#error-{field}") if field else None
        line = target.first() if target else self.query_one("#error-form")
        line.update(message)
        line.display = bool(message)

    def show_api_error(self, exc: ApiError) -> None:
        """The server's 4xx: each message by its field where the details name one."""
        details = exc.details
        shown = False
        if isinstance(details, list):
            for item in details:
                if isinstance(item, dict) and item.get("field"):
                    field = str(item["field"]).split(".")[0]
                    if self.query(f"#error-{field}"):
                        self.show_error(field, str(item.get("message", "")))
                        shown = True
        elif isinstance(details, dict):
            for field, _ in details.items():
                if field != "reason" and self.query(f"#error-{field}"):
                    self.show_error(field, exc.message)
                    shown = True
            if not shown and "reason" in details and self.query("#error-value"):
                self.show_error("value", str(details["reason"]))
                shown = True
        if not shown:
            self.show_error(None, f"{exc.message} ({exc.code})")

    @on(Input.Submitted)
    def _next_or_save(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        self.clear_errors()
        try:
            request = self.read()
        except Invalid as exc:
            self.show_error(exc.field, exc.message)
            return
        self.query_one("#save", Button).disabled = True
        self._send(request)

    @work(exclusive=True, group="form")
    async def _send(self, request: Any) -> None:
        try:
            answer = await self.send(request)
        except ApiError as exc:
            self.show_api_error(exc)
        except Abandoned:
            pass
        except ClientError as exc:
            self.show_error(None, str(exc))
        else:
            self.dismiss(answer)
            return
        self.query_one("#save", Button).disabled = False

    def read(self) -> Any:
        """The form's values, checked as far as the client can tell."""
        return None

    async def send(self, request: Any) -> Any:
        raise NotImplementedError

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


def read_amount(text: str, field: str = "amount") -> Any:
    try:
        return parse_money(text)
    except MoneyError:
        raise Invalid(field, t("form.bad_amount")) from None


def read_day(text: str, field: str, required: bool = False) -> Any:
    if not text.strip():
        if required:
            raise Invalid(field, t("form.required"))
        return None
    try:
        return parse_day(text)
    except ValueError:
        raise Invalid(field, t("form.bad_date", example=day(_example_day()))) from None


def _example_day() -> Any:
    import datetime as dt  # noqa: PLC0415

    return dt.date(2026, 3, 31)


class MovementForm(FormScreen):
    """A payment or a charge. The form makes one Idempotency-Key and sends it with every
    try, so pressing Save again after a lost answer never books the money twice."""

    def __init__(self, kind: str, contract: Contract, types: list[MovementType]):
        super().__init__()
        self.kind = kind
        self.contract = contract
        self.types = types
        self.idempotency_key = str(uuid.uuid4())
        self.title_key = f"form.{kind}"

    def title_values(self) -> dict[str, Any]:
        return {"number": self.contract.number}

    def fields(self) -> list[tuple[str, str, Widget]]:
        default = next((ty.id for ty in self.types if ty.is_default), Select.BLANK)
        return [("amount", "field.amount", Input()),
                ("type_id", "field.type",
                 Select([(ty.title, ty.id) for ty in self.types], value=default,
                        allow_blank=default is Select.BLANK)),
                ("date", "field.date", Input(value=day(self.app.today()))),
                ("comment", "field.comment", Input())]

    def read(self) -> dict[str, Any]:
        return {"amount": read_amount(self.value("amount")), "type_id": self.value("type_id"),
                "day": read_day(self.value("date"), "date"),
                "comment": self.value("comment").strip()}

    async def send(self, request: dict[str, Any]) -> Any:
        return await self.app.api(self.app.client.add_movement, self.kind, self.contract.id,
                                  idempotency_key=self.idempotency_key, **request)


class DeletePaymentForm(FormScreen):
    title_key = "form.delete_payment"

    def __init__(self, contract: Contract, payment: Any):
        super().__init__()
        self.contract = contract
        self.payment = payment

    def title_values(self) -> dict[str, Any]:
        return {"amount": money(self.payment.amount), "date": day(self.payment.date)}

    def fields(self) -> list[tuple[str, str, Widget]]:
        return [("reason", "field.reason", Input())]

    def read(self) -> str:
        reason = self.value("reason").strip()
        if not reason:
            raise Invalid("reason", t("form.required"))
        return reason

    async def send(self, reason: str) -> Any:
        return await self.app.api(self.app.client.delete_payment, self.contract.id,
                                  self.payment.id, reason)


class StatusForm(FormScreen):
    """Now, or from a later day (then scheduled)."""

    title_key = "form.status"

    def __init__(self, contract: Contract):
        super().__init__()
        self.contract = contract

    def title_values(self) -> dict[str, Any]:
        return {"number": self.contract.number}

    def fields(self) -> list[tuple[str, str, Widget]]:
        options = [(status(s), s) for s in STATUSES if s != self.contract.status]
        return [("status", "field.status", Select(options, allow_blank=False)),
                ("from", "field.from", Input()),
                ("comment", "field.comment", Input())]

    def read(self) -> dict[str, Any]:
        return {"status": self.value("status"),
                "date_from": read_day(self.value("from"), "from"),
                "comment": self.value("comment").strip()}

    async def send(self, request: dict[str, Any]) -> Any:
        return await self.app.api(self.app.client.change_status, self.contract.id, **request)


class ParamForm(FormScreen):
    """One parameter's value, with the input its type needs; the server checks it and its
    message shows under the field."""

    title_key = "form.param"

    def __init__(self, contract: Contract, definition: Any, current: ParamValue | None):
        super().__init__()
        self.contract = contract
        self.definition = definition
        self.current = current

    def title_values(self) -> dict[str, Any]:
        return {"title": self.definition.title, "number": self.contract.number}

    def fields(self) -> list[tuple[str, str, Widget]]:
        kind = self.definition.type
        value = self.current.value if self.current else None
        if kind == "list":
            widget: Widget = Select([(o, o) for o in self.definition.options or []],
                                    value=value if value is not None else Select.BLANK)
        elif kind == "flag":
            widget = Checkbox(self.definition.title, value=bool(value))
        elif kind == "date":
            widget = Input(value=day(parse_day(value)) if value else "")
        elif kind == "address" and isinstance(value, dict):
            widget = Input(value=", ".join(str(v) for v in value.values() if v))
        else:
            widget = Input(value="" if value is None else str(value),
                           type="integer" if kind == "int" else "text")
        return [("value", "field.value", widget)]

    def read(self) -> Any:
        kind = self.definition.type
        raw = self.value("value")
        if kind == "flag":
            return bool(raw)
        if kind == "date":
            return read_day(raw, "value", required=True).isoformat()
        if kind == "int":
            try:
                return int(raw)
            except ValueError:
                raise Invalid("value", t("form.required")) from None
        if kind == "decimal":
            return str(read_amount(raw, "value")) if raw.strip() else raw
        return raw

    async def send(self, value: Any) -> Any:
        return await self.app.api(self.app.client.set_param, self.contract.id,
                                  self.definition.key, value)


class CabinetPasswordForm(FormScreen):
    """The subscriber's cabinet password, typed twice and never shown; the server keeps
    only its hash and says what it finds wrong (too short) under the field."""

    title_key = "form.cabinet_password"

    def __init__(self, contract: Contract):
        super().__init__()
        self.contract = contract

    def title_values(self) -> dict[str, Any]:
        return {"number": self.contract.number}

    def fields(self) -> list[tuple[str, str, Widget]]:
        return [("cabinet_password", "field.cabinet_password", Input(password=True)),
                ("again", "field.cabinet_password_again", Input(password=True))]

    def read(self) -> str:
        password = self.value("cabinet_password")
        if not password:
            raise Invalid("cabinet_password", t("form.required"))
        if password != self.value("again"):
            raise Invalid("again", t("form.passwords_differ"))
        return password

    async def send(self, password: str) -> Any:
        return await self.app.api(self.app.client.update_contract, self.contract.id,
                                  {"cabinet_password": password})


class NewContractForm(FormScreen):
    title_key = "form.new_contract"

    def fields(self) -> list[tuple[str, str, Widget]]:
        return [("title", "field.title", Input()),
                ("number", "field.number", Input(placeholder=t("form.default_number"))),
                ("mode", "field.mode", Select([(t("mode.prepaid"), "prepaid"),
                                              (t("mode.postpaid"), "postpaid")],
                                             value="prepaid", allow_blank=False)),
                ("person_type", "field.person_type",
                 Select([(t("person.person"), "person"), (t("person.company"), "company")],
                        value="person", allow_blank=False)),
                ("limit", "field.limit", Input(value="0")),
                ("comment", "field.comment", Input())]

    def read(self) -> dict[str, Any]:
        body: dict[str, Any] = {"title": self.value("title").strip(),
                                "mode": self.value("mode"),
                                "person_type": self.value("person_type"),
                                "limit": read_amount(self.value("limit") or "0", "limit"),
                                "comment": self.value("comment").strip()}
        if self.value("number").strip():
            body["number"] = self.value("number").strip()
        return body

    async def send(self, body: dict[str, Any]) -> Any:
        return await self.app.api(self.app.client.create_contract, body)


class SimpleForm(FormScreen):
    """A directory's small form: text fields (and flags) sent by ``send``."""

    def __init__(self, title_key: str, fields: list[tuple[str, str, Widget]],
                 send: Callable[[dict[str, Any]], Any]):
        super().__init__()
        self.title_key = title_key
        self._fields = fields
        self._send_fn = send

    def fields(self) -> list[tuple[str, str, Widget]]:
        return self._fields

    def read(self) -> dict[str, Any]:
        return {name: self.value(name) for name, _, _ in self._fields}

    async def send(self, values: dict[str, Any]) -> Any:
        return await self._send_fn(values)


class TariffAssignForm(FormScreen):
    """The contract on a plan from a day; the period before ends the day before."""

    title_key = "form.assign_tariff"

    def __init__(self, contract: Contract):
        super().__init__()
        self.contract = contract
        self.tariffs: list[Any] = []

    def title_values(self) -> dict[str, Any]:
        return {"number": self.contract.number}

    def fields(self) -> list[tuple[str, str, Widget]]:
        return [("tariff_id", "field.tariff", Select([], prompt=t("form.choose"))),
                ("from", "field.from", Input(value=day(self.app.today()))),
                ("to", "field.to", Input()),
                ("comment", "field.comment", Input())]

    def on_mount(self) -> None:
        self.load_tariffs()

    @work(group="tariffs")
    async def load_tariffs(self) -> None:
        try:
            self.tariffs = (await self.app.api(self.app.client.tariffs)).items
        except ClientError as exc:
            self.show_error(None, str(exc))
            return
        except Abandoned:
            return
        self.query_one("#in-tariff_id", Select).set_options(
            [(tariff.title, tariff.id) for tariff in self.tariffs if tariff.enabled])

    def read(self) -> dict[str, Any]:
        tariff_id = self.value("tariff_id")
        if tariff_id is None:
            raise Invalid("tariff_id", t("form.required"))
        return {"tariff_id": tariff_id, "date_from": read_day(self.value("from"), "from"),
                "date_to": read_day(self.value("to"), "to"),
                "comment": self.value("comment").strip()}

    async def send(self, request: dict[str, Any]) -> Any:
        return await self.app.api(self.app.client.assign_tariff, self.contract.id, **request)


class ConfirmForm(FormScreen):
    """Yes or no to one change: Save does ``send()``; dismissed with its answer."""

    def __init__(self, title_key: str, send: Callable[[], Any], **values: Any):
        super().__init__()
        self.title_key = title_key
        self._values = values
        self._send_fn = send

    def title_values(self) -> dict[str, Any]:
        return self._values

    def fields(self) -> list[tuple[str, str, Widget]]:
        return []

    def on_mount(self) -> None:
        self.query_one("#save", Button).focus()

    async def send(self, request: Any) -> Any:
        return await self._send_fn()
