"""Every word bgtui shows, in English and Russian, and money and dates per language.

One catalogue: ``t("key", name=...)`` answers the text in the chosen language, formatted
with the keywords. A key missing from the catalogue shows as itself (a test checks that
every key used in the code is here). The language is chosen once, at start.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from typing import Any

LANGUAGES = ("en", "ru")

#: key: (English, Russian)
CATALOGUE: dict[str, tuple[str, str]] = {
    # app, session
    "app.title": ("bgbilling", "bgbilling"),
    "app.quit": ("Quit", "Выход"),
    "app.back": ("Back", "Назад"),
    "app.help": ("Keys", "Клавиши"),
    "app.command": ("Go to", "Перейти"),
    "app.palette": ("Commands", "Команды"),
    "app.filter": ("Filter", "Фильтр"),
    "app.readonly": ("read only", "только чтение"),
    "app.logout": ("Log out", "Выйти из сеанса"),
    "app.logout_help": ("End the session and log in again",
                        "Закончить сеанс и войти заново"),
    "login.title": ("Log in to {url}", "Вход на {url}"),
    "login.login": ("Login", "Логин"),
    "login.password": ("Password", "Пароль"),
    "login.submit": ("Log in", "Войти"),
    "login.cancel": ("Cancel", "Отмена"),
    "login.empty": ("enter the login and the password", "введите логин и пароль"),
    "login.again": ("The session has ended: log in again to go on where you were.",
                    "Сеанс закончился: войдите снова, чтобы продолжить с того же места."),
    "problem.title": ("No connection", "Нет связи"),
    "problem.unreachable": ("The server does not answer.\n{reason}",
                            "Сервер не отвечает.\n{reason}"),
    "problem.retry": ("Retry", "Повторить"),
    "problem.give_up": ("Cancel", "Отмена"),
    "problem.forbidden": ("Not permitted: {message}", "Нет прав: {message}"),
    "problem.failed": ("The server refused: {message}", "Сервер отказал: {message}"),
    # navigation
    "nav.prompt": (":view (Tab completes, Enter goes, Esc closes)",
                   ":вид (Tab дополняет, Enter переходит, Esc закрывает)"),
    "nav.unknown": ("No such view: {name}", "Нет такого вида: {name}"),
    "help.title": ("Keys of this screen", "Клавиши этого экрана"),
    "help.close": ("Esc closes", "Esc закрывает"),
    "view.contracts": ("Contracts", "Договоры"),
    "view.status": ("Server status", "Состояние сервера"),
    "view.audit": ("Audit log", "Журнал изменений"),
    "view.users": ("Operators", "Операторы"),
    "view.roles": ("Roles", "Роли"),
    "view.apikeys": ("API keys", "Ключи API"),
    "view.groups": ("Contract groups", "Группы договоров"),
    "view.params": ("Parameter definitions", "Параметры договоров"),
    "view.paytypes": ("Payment types", "Типы платежей"),
    "view.chargetypes": ("Charge types", "Типы расходов"),
    "view.tariffs": ("Tariff plans", "Тарифные планы"),
    "view.modules": ("Module instances", "Экземпляры модулей"),
    "view.services": ("Services", "Услуги"),
    "view.tasks": ("Scheduler tasks", "Задания планировщика"),
    "view.runs": ("Runs", "Запуски"),
    "view.sources": ("Loader sources", "Источники загрузки"),
    "view.files": ("Loaded files", "Загруженные файлы"),
    "view.quarantine": ("Quarantine", "Карантин"),
    # status screen
    "status.server": ("Server", "Сервер"),
    "status.status": ("Status", "Состояние"),
    "status.database": ("Database", "База данных"),
    "status.events": ("Events", "События"),
    "status.operator": ("Operator", "Оператор"),
    "status.checked": ("Checked", "Проверено"),
    "status.refresh": ("Refresh", "Обновить"),
    "status.connected": ("connected", "подключено"),
    "status.not_connected": ("not connected", "не подключено"),
    "status.nobody": ("not logged in", "вход не выполнен"),
    # contract list
    "contracts.search": ("Search: number, name, phone…", "Поиск: номер, имя, телефон…"),
    "contracts.open": ("Open", "Открыть"),
    "contracts.new": ("New contract", "Новый договор"),
    "contracts.none": ("Nothing found", "Ничего не найдено"),
    "contracts.count": ("{count} shown", "показано {count}"),
    "contracts.more": ("{count} shown, more below", "показано {count}, ниже ещё"),
    "col.number": ("Number", "Номер"),
    "col.title": ("Title", "Название"),
    "col.status": ("Status", "Статус"),
    "col.balance": ("Balance", "Баланс"),
    "col.date": ("Date", "Дата"),
    "col.amount": ("Amount", "Сумма"),
    "col.type": ("Type", "Тип"),
    "col.comment": ("Comment", "Комментарий"),
    "col.author": ("Author", "Автор"),
    "col.deleted": ("Deleted", "Удалён"),
    "col.month": ("Month", "Месяц"),
    "col.incoming": ("Incoming", "Входящий"),
    "col.payments": ("Payments", "Приход"),
    "col.charges": ("Charges", "Расход"),
    "col.usage": ("Usage", "Наработка"),
    "col.outgoing": ("Outgoing", "Исходящий"),
    "col.from": ("From", "С"),
    "col.to": ("To", "По"),
    "col.reason": ("Reason", "Причина"),
    "col.when": ("When", "Когда"),
    "col.action": ("Action", "Действие"),
    "col.object": ("Object", "Объект"),
    "col.key": ("Key", "Ключ"),
    "col.name": ("Name", "Имя"),
    "col.login": ("Login", "Логин"),
    "col.roles": ("Roles", "Роли"),
    "col.permissions": ("Permissions", "Права"),
    "col.id": ("Id", "Id"),
    "col.default": ("Default", "По умолчанию"),
    "col.refund": ("Refund", "Возврат"),
    "col.options": ("Options", "Варианты"),
    "col.last_used": ("Last used", "Последнее использование"),
    "col.revoked": ("Revoked", "Отозван"),
    "col.value": ("Value", "Значение"),
    "col.contract": ("Contract", "Договор"),
    "col.tariff": ("Tariff plan", "Тарифный план"),
    "col.cabinet_title": ("In the cabinet", "В кабинете"),
    "col.modules": ("Modules", "Модули"),
    "col.enabled": ("On", "Вкл."),
    "col.unit": ("Unit", "Единица"),
    "col.service": ("Service", "Услуга"),
    "col.quantity": ("Qty", "Кол."),
    "col.cancelled": ("Cancelled", "Отменён"),
    "col.cron": ("Cron", "Расписание"),
    "col.next_run": ("Next run", "Следующий запуск"),
    "col.state": ("State", "Состояние"),
    "col.queued": ("Queued", "В очереди с"),
    "col.finished": ("Finished", "Закончен"),
    "col.progress": ("Progress", "Ход"),
    "col.error": ("Error", "Ошибка"),
    "col.module": ("Module", "Модуль"),
    "col.address": ("IP, MAC", "IP, MAC"),
    "col.start": ("Start", "Начало"),
    "col.duration": ("Time", "Время"),
    "col.down_mb": ("Down, MB", "Вход., МБ"),
    "col.up_mb": ("Up, MB", "Исх., МБ"),
    "col.cost": ("Cost", "Стоимость"),
    "col.src": ("From", "Кто"),
    "col.dst": ("To", "Кому"),
    "col.disposition": ("Result", "Итог"),
    "col.billsec": ("Talk", "Разговор"),
    "col.billed": ("Billed", "К оплате"),
    "col.format": ("Format", "Формат"),
    "col.time_zone": ("Time zone", "Часовой пояс"),
    "col.spool": ("Spool", "Каталог"),
    "col.source": ("Source", "Источник"),
    "col.file": ("File", "Файл"),
    "col.lines": ("Lines", "Строк"),
    "col.stored": ("Stored", "Записано"),
    "col.duplicates": ("Dupl.", "Повторы"),
    "col.quarantined": ("Quar.", "Карантин"),
    "col.line": ("Line", "Строка"),
    "col.record": ("Record", "Запись"),
    # contract card
    "card.title": ("Contract {number}", "Договор {number}"),
    "tab.overview": ("Overview", "Главное"),
    "tab.params": ("Parameters", "Параметры"),
    "tab.payments": ("Payments", "Платежи"),
    "tab.charges": ("Charges", "Расходы"),
    "tab.balance": ("Balance", "Баланс"),
    "tab.status": ("Status", "Статус"),
    "tab.audit": ("Audit", "Журнал"),
    "tab.tariffs": ("Tariffs", "Тарифы"),
    "tab.orders": ("Orders", "Заказы"),
    "tab.accounts": ("Accounts", "Логины"),
    "tab.sessions": ("Sessions", "Сессии"),
    "tab.calls": ("Calls", "Звонки"),
    "field.number": ("Number", "Номер"),
    "field.title": ("Title", "Название"),
    "field.mode": ("Mode", "Режим"),
    "field.balance": ("Balance", "Баланс"),
    "field.limit": ("Limit", "Лимит"),
    "field.temporary_limit": ("Temporary limit", "Временный лимит"),
    "field.status": ("Status", "Статус"),
    "field.groups": ("Groups", "Группы"),
    "field.person_type": ("Person", "Лицо"),
    "field.date_from": ("Since", "Действует с"),
    "field.comment": ("Comment", "Комментарий"),
    "field.amount": ("Amount", "Сумма"),
    "field.type": ("Type", "Тип"),
    "field.date": ("Date", "Дата"),
    "field.reason": ("Reason", "Причина"),
    "field.from": ("From (empty: today)", "С даты (пусто: сегодня)"),
    "field.value": ("Value", "Значение"),
    "field.login": ("Login", "Логин"),
    "field.name": ("Name", "Имя"),
    "field.password": ("Password", "Пароль"),
    "field.roles": ("Roles (comma separated)", "Роли (через запятую)"),
    "field.permissions": ("Permissions (comma separated)", "Права (через запятую)"),
    "field.key": ("Key", "Ключ"),
    "field.options": ("Options (comma separated, lists only)",
                      "Варианты (через запятую, только для списка)"),
    "field.history": ("Keep history", "Хранить историю"),
    "field.refund": ("Refund", "Возврат"),
    "field.tariff": ("Tariff plan", "Тарифный план"),
    "field.to": ("To (empty: open)", "По дату (пусто: бессрочно)"),
    "field.cabinet_title": ("Title in the cabinet", "Название в кабинете"),
    "field.tariff_groups": ("Groups that may choose it in the cabinet",
                            "Группы, которым он доступен в кабинете"),
    "field.enabled": ("Enabled", "Включён"),
    "field.module_type": ("Module type", "Тип модуля"),
    "field.unit": ("Unit", "Единица"),
    "field.service": ("Service", "Услуга"),
    "field.quantity": ("Quantity", "Количество"),
    "field.check_balance": ("Refuse if the balance cannot carry it",
                            "Отказать, если не хватает баланса"),
    "field.cron": ("Cron, in the billing time zone (empty: by hand only)",
                   "Расписание cron в часовом поясе биллинга (пусто: только вручную)"),
    "field.params": ("Params (JSON)", "Параметры (JSON)"),
    "field.module": ("Module instance", "Экземпляр модуля"),
    "field.account_login": ("Login (inet) or phone number (voice)",
                            "Логин (inet) или номер телефона (voice)"),
    "field.ip": ("IP address (inet)", "IP-адрес (inet)"),
    "field.mac": ("MAC address (inet)", "MAC-адрес (inet)"),
    "field.last_day": ("Last day", "Последний день"),
    "field.cabinet_password": ("New password", "Новый пароль"),
    "field.cabinet_password_again": ("The same password again", "Тот же пароль ещё раз"),
    "field.source_name": ("Name (its spool directory)", "Имя (его каталог для файлов)"),
    "field.format": ("Format", "Формат"),
    "field.time_zone": ("Time zone of the files (empty: the billing's)",
                        "Часовой пояс файлов (пусто: как у биллинга)"),
    "temporary_limit.value": ("{limit} until {until}", "{limit} до {until}"),
    "none": ("—", "—"),
    "mode.prepaid": ("prepaid", "аванс"),
    "mode.postpaid": ("postpaid", "кредит"),
    "person.person": ("person", "физ. лицо"),
    "person.company": ("company", "юр. лицо"),
    "st.active": ("active", "активен"),
    "st.blocked": ("blocked", "заблокирован"),
    "st.suspended": ("suspended", "приостановлен"),
    "st.closed": ("closed", "закрыт"),
    "reason.balance": ("by balance", "по балансу"),
    "reason.operator": ("by operator", "оператором"),
    "status.scheduled": ("scheduled", "запланирован"),
    "card.add_payment": ("Add payment", "Внести платёж"),
    "card.add_charge": ("Add charge", "Внести расход"),
    "card.delete_payment": ("Delete payment", "Удалить платёж"),
    "card.change_status": ("Change status", "Сменить статус"),
    "card.edit_param": ("Edit", "Изменить"),
    "card.refresh": ("Refresh", "Обновить"),
    "card.updated": ("Updated: {what}", "Обновлено: {what}"),
    "card.chart": ("Outgoing balance, last 12 months", "Исходящий остаток за 12 месяцев"),
    "card.status_now": ("Current: {status}", "Сейчас: {status}"),
    "card.assign_tariff": ("Assign tariff", "Назначить тариф"),
    "card.drop_tariff": ("Drop tariff period", "Удалить период тарифа"),
    "card.tariff_begun": ("The period has begun: assign another tariff from a day instead",
                          "Период уже начался: назначьте другой тариф с нужного дня"),
    "card.new_order": ("Order service", "Заказать услугу"),
    "card.cancel_order": ("Cancel order", "Отменить заказ"),
    "card.add_account": ("Add login/number", "Добавить логин/номер"),
    "card.end_account": ("End login/number", "Закрыть логин/номер"),
    "card.cabinet_password": ("Cabinet password", "Пароль кабинета"),
    "form.save": ("Save", "Сохранить"),
    "form.cancel": ("Cancel", "Отмена"),
    "form.saving": ("Saving…", "Сохранение…"),
    "form.bad_amount": ("an amount such as 100.50", "сумма вида 100,50"),
    "form.bad_date": ("a date such as {example}", "дата вида {example}"),
    "form.required": ("required", "обязательно"),
    "form.payment": ("Payment to {number}", "Платёж на {number}"),
    "form.charge": ("Charge to {number}", "Расход по {number}"),
    "form.delete_payment": ("Delete payment {amount} of {date}",
                            "Удалить платёж {amount} от {date}"),
    "form.status": ("Status of {number}", "Статус {number}"),
    "form.param": ("{title} of {number}", "{title}: {number}"),
    "form.new_contract": ("New contract", "Новый договор"),
    "form.created": ("Created: {what}", "Создано: {what}"),
    "form.added_payment": ("Payment {amount} added", "Платёж {amount} внесён"),
    "form.added_charge": ("Charge {amount} added", "Расход {amount} внесён"),
    "form.deleted": ("Deleted", "Удалено"),
    "form.status_changed": ("Status: {status} from {date}", "Статус: {status} с {date}"),
    "form.default_number": ("empty: the next by pattern", "пусто: следующий по шаблону"),
    "form.choose": ("choose", "выберите"),
    "form.saved": ("Saved", "Сохранено"),
    "form.assign_tariff": ("Tariff plan of {number}", "Тарифный план договора {number}"),
    "form.drop_tariff": ("Drop the period of {title} from {date}?",
                         "Удалить период тарифа {title} с {date}?"),
    "form.new_tariff": ("New tariff plan", "Новый тарифный план"),
    "form.edit_tariff": ("Tariff plan {title}", "Тарифный план {title}"),
    "form.module_config": ("{title} ({type}): config, JSON; empty: not in the plan",
                           "{title} ({type}): настройки, JSON; пусто: не входит в план"),
    "form.config_hint": ("services: {services}; e.g. {example}",
                         "услуги: {services}; например {example}"),
    "form.bad_json": ("not JSON: {error}", "не JSON: {error}"),
    "form.order": ("Order for {number}", "Заказ по договору {number}"),
    "form.cancel_order": ("Cancel the order of {amount} of {date}",
                          "Отменить заказ на {amount} от {date}"),
    "form.ordered": ("Ordered for {amount}", "Заказано на {amount}"),
    "form.cancelled": ("Cancelled: {amount} refunded", "Отменено: {amount} возвращено"),
    "form.task": ("Task {title}", "Задание {title}"),
    "form.account": ("Login or number for {number}", "Логин или номер договора {number}"),
    "form.end_account": ("End {login}", "Закрыть {login}"),
    "form.cabinet_password": ("Cabinet password of {number}",
                              "Пароль личного кабинета {number}"),
    "form.passwords_differ": ("the two passwords differ", "пароли не совпадают"),
    "form.password_set": ("The cabinet password is set", "Пароль кабинета установлен"),
    "form.source": ("New loader source", "Новый источник загрузки"),
    "dir.add": ("Add", "Добавить"),
    "dir.revoke": ("Revoke", "Отозвать"),
    "dir.key_once": ("The API key, shown this once: copy it now",
                     "Ключ API показан один раз: скопируйте его сейчас"),
    "dir.close": ("Close", "Закрыть"),
    "dir.edit": ("Edit", "Изменить"),
    "dir.rename": ("Rename", "Переименовать"),
    "dir.toggle": ("Disable/enable", "Выключить/включить"),
    "dir.run_now": ("Run now", "Запустить"),
    "task.by_hand": ("by hand", "вручную"),
    "run.title": ("Run {id}: {task}", "Запуск {id}: {task}"),
    "run.queued": ("queued", "в очереди"),
    "run.running": ("running", "выполняется"),
    "run.done": ("done", "выполнен"),
    "run.failed": ("failed", "ошибка"),
    "run.attempts": ("attempt {count}", "попытка {count}"),
    "file.done": ("done", "загружен"),
    "file.loading": ("loading", "загружается"),
    "flag.yes": ("yes", "да"),
    "flag.no": ("no", "нет"),
    "live.off": ("", ""),
}

_language = "en"


def set_language(language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
    global _language
    _language = language


def language() -> str:
    return _language


def t(key: str, **values: Any) -> str:
    """The text of ``key`` in the chosen language."""
    texts = CATALOGUE.get(key)
    if texts is None:
        return key
    text = texts[LANGUAGES.index(_language)]
    return text.format(**values) if values else text


def money(amount: Decimal | None) -> str:
    """``1234.5`` -> ``1,234.50`` (en) or ``1 234,50`` (ru); exact, from the Decimal."""
    if amount is None:
        return t("none")
    text = f"{amount:,.2f}"  # Decimal's own formatting: no float on the way
    if _language == "ru":
        text = text.replace(",", " ").replace(".", ",")
    return text


def day(value: dt.date | None) -> str:
    if value is None:
        return t("none")
    return value.strftime("%d.%m.%Y") if _language == "ru" else value.isoformat()


def moment(value: dt.datetime | None, zone: dt.tzinfo | None = None) -> str:
    """A time in the operator's zone (the local one unless given)."""
    if value is None:
        return t("none")
    local = value.astimezone(zone)
    return local.strftime("%d.%m.%Y %H:%M" if _language == "ru" else "%Y-%m-%d %H:%M")


def parse_day(text: str) -> dt.date:
    """The operator's date: ISO always, ``DD.MM.YYYY`` too in Russian."""
    text = text.strip()
    if _language == "ru" and "." in text:
        return dt.datetime.strptime(text, "%d.%m.%Y").date()
    return dt.date.fromisoformat(text)


def parse_money(text: str) -> Decimal:
    """``1 234,50`` or ``1234.50`` -> ``Decimal('1234.50')``; the server checks the rest."""
    from bgshared.money import parse  # noqa: PLC0415

    cleaned = text.strip().replace(" ", "").replace("\u00a0", "")
    if _language == "ru" or "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    return parse(cleaned)


MONTHS = {"en": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(),
          "ru": "янв фев мар апр май июн июл авг сен окт ноя дек".split()}


def month(value: str) -> str:
    """``2026-03`` -> ``Mar 2026`` / ``мар 2026``."""
    year, number = value.split("-")
    return f"{MONTHS[_language][int(number) - 1]} {year}"


def status(name: str, reason: str | None = None) -> str:
    text = t(f"st.{name}") if f"st.{name}" in CATALOGUE else name
    if reason:
        text += " (" + (t(f"reason.{reason}") if f"reason.{reason}" in CATALOGUE
                        else reason) + ")"
    return text


def yes_no(flag: bool) -> str:
    return t("flag.yes") if flag else t("flag.no")


def duration(seconds: int | None) -> str:
    """``3725`` -> ``1:02:05``; under an hour ``2:05``."""
    if seconds is None:
        return t("none")
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def megabytes(octets: int | None) -> str:
    """Octets as MB (1,048,576 octets) to two places, exact (Decimal, never float)."""
    if octets is None:
        return t("none")
    return money(Decimal(octets) / Decimal(1_048_576))


def translate_bindings(node: Any) -> None:
    """Binding descriptions are catalogue keys; give this node's bindings their text.

    Bindings are declared once per class, before the language is known; each screen
    translates its own copy when it is made."""
    for key, bindings in node._bindings.key_to_bindings.items():
        node._bindings.key_to_bindings[key] = [
            replace(b, description=t(b.description)) if b.description in CATALOGUE else b
            for b in bindings]
