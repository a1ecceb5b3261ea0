"""voice: telephony — phone numbers, PBX call records, priced by the callee's prefix."""

from bgserver.billing.accounts import AccountKind
from bgserver.modules import ModuleType
from bgserver.modules.voice.cabinet import CALLS
from bgserver.modules.voice.cdr import AsteriskCsv, digits
from bgserver.modules.voice.config import VoiceTariff
from bgserver.modules.voice.tables import voice_call, voice_number


def _number(login: str) -> str:
    """A phone number is kept as its digits: ``+7 (495) 123-45-67`` is ``74951234567``."""
    number = digits(login)
    if not number:
        raise ValueError("a phone number needs digits")
    return number


def _routes(api, services) -> None:
    from bgserver.modules.voice.api import routes  # noqa: PLC0415 - only where there is an API
    routes(api, services)


MODULE = ModuleType("voice", "Telephony", VoiceTariff, tables=(voice_number, voice_call),
                    loader_formats={"asterisk-csv": AsteriskCsv()}, routes=_routes,
                    accounts=AccountKind(voice_number, _number), cabinet_pages=(CALLS,))
