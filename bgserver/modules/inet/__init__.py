"""inet: Internet access — logins, RADIUS sessions, priced by the byte and the second."""

from bgserver.billing.accounts import AccountKind
from bgserver.modules import ModuleType
from bgserver.modules.inet.cabinet import SESSIONS
from bgserver.modules.inet.config import InetTariff
from bgserver.modules.inet.detail import FreeradiusDetail
from bgserver.modules.inet.tables import inet_day, inet_login, inet_session


def _routes(api, services) -> None:
    from bgserver.modules.inet.api import routes  # noqa: PLC0415 - only where there is an API
    routes(api, services)


MODULE = ModuleType("inet", "Internet access", InetTariff,
                    tables=(inet_login, inet_session, inet_day),
                    loader_formats={"freeradius-detail": FreeradiusDetail()}, routes=_routes,
                    accounts=AccountKind(inet_login, extra=("password", "ip", "mac")),
                    cabinet_pages=(SESSIONS,))
