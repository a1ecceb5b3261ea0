"""inet: Internet access — logins, RADIUS sessions, priced by the byte and the second."""

from bgserver.modules import ModuleType
from bgserver.modules.inet.config import InetTariff
from bgserver.modules.inet.tables import inet_day, inet_login, inet_session

MODULE = ModuleType("inet", "Internet access", InetTariff,
                    tables=(inet_login, inet_session, inet_day))
