"""Russian and English for the cabinet: the words, money, numbers, dates and times.

A language comes from ``?lang=`` (remembered in a cookie), else the cookie, else the
browser's Accept-Language; Russian when nothing matches. Dates and times are shown in the
billing time zone.
"""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

LANGUAGES = ("ru", "en")
DEFAULT = "ru"
NBSP = "\u00a0"
SYMBOLS = {"RUB": "₽"}

MONTHS = {
    "ru": ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август",
           "сентябрь", "октябрь", "ноябрь", "декабрь"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}

#: key -> (Russian, English)
TEXT: dict[str, tuple[str, str]] = {
    "cabinet": ("Личный кабинет", "Subscriber cabinet"),
    "login.title": ("Вход в личный кабинет", "Sign in to your cabinet"),
    "login.number": ("Номер договора", "Contract number"),
    "login.password": ("Пароль", "Password"),
    "login.submit": ("Войти", "Sign in"),
    "login.wrong": ("Неверный номер договора или пароль", "Wrong contract number or password"),
    "login.throttled": ("Слишком много неудачных попыток. Попробуйте позже.",
                        "Too many failed attempts. Please try again later."),
    "login.expired": ("Форма устарела, отправьте её ещё раз", "The form expired; send it again"),
    "logout": ("Выйти", "Sign out"),
    "nav.overview": ("Обзор", "Overview"),
    "nav.money": ("Финансы", "Money"),
    "nav.tariff": ("Тариф", "Tariff"),
    "nav.params": ("Мои данные", "My details"),
    "nav.password": ("Пароль", "Password"),
    "nav.services": ("Услуги", "Services"),
    "contract": ("Договор", "Contract"),
    "balance": ("Баланс", "Balance"),
    "limit": ("Лимит", "Limit"),
    "temporary_limit": ("Временный лимит до {until}", "Temporary limit until {until}"),
    "status": ("Статус", "Status"),
    "status.active": ("активен", "active"),
    "status.blocked": ("заблокирован", "blocked"),
    "status.suspended": ("приостановлен", "suspended"),
    "status.closed": ("закрыт", "closed"),
    "tariff": ("Тариф", "Tariff"),
    "tariff.none": ("нет", "none"),
    "month.so_far": ("Этот месяц", "This month so far"),
    "incoming": ("Входящий остаток", "Opening balance"),
    "payments": ("Платежи", "Payments"),
    "charges": ("Списания", "Charges"),
    "usage": ("Потребление", "Usage"),
    "outgoing": ("Исходящий остаток", "Closing balance"),
    "month": ("Месяц", "Month"),
    "date": ("Дата", "Date"),
    "amount": ("Сумма", "Amount"),
    "comment": ("Комментарий", "Comment"),
    "total": ("Итого", "Total"),
    "none": ("Нет записей", "Nothing here"),
    "show": ("Показать", "Show"),
    "from": ("С", "From"),
    "to": ("По", "To"),
    "chart.spending": ("Списания по дням", "Spending by day"),
    "chart.traffic": ("Трафик по дням, МБ", "Traffic by day, MB"),
    "chart.empty": ("Данных за месяц пока нет", "No data for this month yet"),
    "money.months": ("Остатки по месяцам", "Balance by month"),
    "tariff.current": ("Текущий тариф", "Current tariff"),
    "tariff.periods": ("Периоды тарифов", "Tariff periods"),
    "tariff.upcoming": ("С {day} будет тариф «{title}»", "From {day}: “{title}”"),
    "tariff.change": ("Сменить тариф с {day}", "Change the tariff from {day}"),
    "tariff.choose": ("Выбрать", "Choose"),
    "tariff.cancel": ("Отменить смену тарифа", "Cancel the tariff change"),
    "tariff.no_choice": ("Других тарифов для вашего договора нет",
                         "No other tariffs are available for your contract"),
    "tariff.pending": ("Смена тарифа уже запланирована; отмените её, чтобы выбрать другой",
                       "A tariff change is planned already; cancel it to choose another"),
    "params.title": ("Мои данные", "My details"),
    "params.save": ("Сохранить", "Save"),
    "params.empty": ("не указано", "not set"),
    "params.readonly": ("изменяет оператор", "changed by the operator"),
    "yes": ("да", "yes"),
    "no": ("нет", "no"),
    "address.postcode": ("Индекс", "Postcode"),
    "address.city": ("Город", "City"),
    "address.street": ("Улица", "Street"),
    "address.house": ("Дом", "House"),
    "address.flat": ("Квартира", "Flat"),
    "password.title": ("Смена пароля", "Change the password"),
    "password.current": ("Текущий пароль", "Current password"),
    "password.new": ("Новый пароль", "New password"),
    "password.repeat": ("Новый пароль ещё раз", "New password again"),
    "password.submit": ("Сменить пароль", "Change the password"),
    "password.wrong": ("Текущий пароль неверен", "The current password is wrong"),
    "password.mismatch": ("Новые пароли не совпадают", "The new passwords differ"),
    "password.short": ("Пароль — от {min} до {max} символов",
                       "A password has {min} to {max} characters"),
    "password.note": ("После смены пароля войдите снова на всех устройствах.",
                      "After the change, sign in again on every device."),
    "suspend.title": ("Добровольная приостановка", "Voluntary suspension"),
    "suspend.text": ("Приостановите обслуживание на {min}–{max} дней: абонентская плата "
                     "не начисляется, обслуживание возобновится само.",
                     "Suspend the service for {min} to {max} days: no periodic fees meanwhile; "
                     "it resumes by itself."),
    "suspend.days": ("Дней", "Days"),
    "suspend.submit": ("Приостановить", "Suspend"),
    "suspend.until": ("Обслуживание приостановлено, возобновится {day}",
                      "The service is suspended and resumes on {day}"),
    "promise.title": ("Обещанный платёж", "Promised payment"),
    "promise.text": ("До {amount} на срок до {days} дн., не чаще раза в {period} дн.",
                     "Up to {amount} for up to {days} days, at most once in {period} days."),
    "promise.amount": ("Сумма", "Amount"),
    "promise.days": ("Дней", "Days"),
    "promise.submit": ("Взять обещанный платёж", "Take a promised payment"),
    "promise.next": ("Следующий обещанный платёж — с {day}", "Next promised payment from {day}"),
    "done.saved": ("Сохранено", "Saved"),
    "done.suspended": ("Обслуживание приостановлено", "The service is suspended"),
    "done.promised": ("Обещанный платёж подключён", "The promised payment is on"),
    "done.tariff": ("Смена тарифа запланирована", "The tariff change is planned"),
    "done.tariff_cancelled": ("Смена тарифа отменена", "The tariff change is cancelled"),
    "done.password": ("Пароль изменён. Войдите с новым паролем.",
                      "The password is changed. Sign in with the new one."),
    "done.ordered": ("Заказ принят", "The order is placed"),
    "done.signed_out": ("Вы вышли из кабинета", "You are signed out"),
    "csrf": ("Форма устарела: обновите страницу и отправьте её снова",
             "The form is out of date: reload the page and send it again"),
    "not_found": ("Страница не найдена", "Page not found"),
    "error": ("Ошибка на сервере, попробуйте позже", "Server error; please try again later"),
    "language": ("Язык", "Language"),
    "report.by_day": ("По дням", "By day"),
    "report.detail": ("Подробно", "In detail"),
    "report.csv": ("Скачать CSV", "Download CSV"),
    "report.empty": ("За эти даты записей нет", "Nothing in these dates"),
    "report.bad_dates": ("Даты — в виде ГГГГ-ММ-ДД, не больше года",
                         "Dates as YYYY-MM-DD, at most a year"),
    "services.title": ("Разовые услуги", "One-time services"),
    "services.price": ("Цена", "Price"),
    "services.quantity": ("Количество", "Quantity"),
    "services.order": ("Заказать", "Order"),
    "services.none": ("Ваш тариф не предлагает услуг для заказа",
                      "Your tariff offers no services to order"),
}


def choose(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    for wanted in (query, cookie):
        if wanted in LANGUAGES:
            return wanted  # type: ignore[return-value]
    best, best_q = DEFAULT, -1.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower().split("-")[0]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if lang in LANGUAGES and q > best_q:
            best, best_q = lang, q
    return best


def _grouped(value: Decimal, places: int, group: str, point: str) -> str:
    quantum = Decimal(1).scaleb(-places)
    text = f"{abs(value.quantize(quantum, ROUND_HALF_UP)):f}"
    whole, _, fraction = text.partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    sign = "-" if value < 0 and any(c not in "0." for c in text) else ""
    return sign + group.join(groups) + (point + fraction if fraction else "")


class Locale:
    """One language's words and formats, in the billing time zone and currency."""

    def __init__(self, lang: str, zone: ZoneInfo, currency: str):
        self.lang = lang
        self.zone = zone
        self.currency = currency
        self._index = LANGUAGES.index(lang)

    def __call__(self, key: str, **values: Any) -> str:
        """The text of ``key``; ``values`` fill its ``{placeholders}``."""
        text = TEXT[key][self._index]
        return text.format(**values) if values else text

    def pick(self, texts: dict[str, str]) -> str:
        """A text given in both languages (module pages)."""
        return texts.get(self.lang) or texts.get("en") or next(iter(texts.values()))

    def number(self, value: Decimal | int, places: int = 0) -> str:
        if self.lang == "ru":
            return _grouped(Decimal(value), places, NBSP, ",")
        return _grouped(Decimal(value), places, ",", ".")

    def money(self, value: Decimal | None) -> str:
        """``1 234,50 ₽`` in Russian, ``RUB 1,234.50`` in English."""
        if value is None:
            return ""
        if self.lang == "ru":
            return f"{self.number(value, 2)}{NBSP}{SYMBOLS.get(self.currency, self.currency)}"
        return f"{self.currency}{NBSP}{self.number(value, 2)}"

    def date(self, value: dt.date | datetime | None) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = value.astimezone(self.zone).date()
        return f"{value:%d.%m.%Y}" if self.lang == "ru" else value.isoformat()

    def datetime(self, value: datetime | None) -> str:
        if value is None:
            return ""
        local = value.astimezone(self.zone)
        return f"{self.date(local.date())} {local:%H:%M:%S}"

    def month(self, value: date) -> str:
        return f"{MONTHS[self.lang][value.month - 1]} {value.year}"

    def duration(self, seconds: int | None) -> str:
        if seconds is None:
            return ""
        hours, rest = divmod(int(seconds), 3600)
        return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"

    def megabytes(self, octets: int | None) -> str:
        if octets is None:
            return ""
        return self.number(Decimal(octets) / Decimal(1_048_576), 1)
