"""twistd plugins: ``twistd -n bgserver | bgscheduler | bgloader | bgbilling``."""

from twisted.application.service import IServiceMaker
from twisted.plugin import IPlugin
from twisted.python import usage
from zope.interface import implementer


class Options(usage.Options):
    optParameters = [
        ["config", "c", None, "the TOML file (default: $BG_CONFIG, else ./bgbilling.toml)"],
    ]


@implementer(IServiceMaker, IPlugin)
class BillingServiceMaker:
    options = Options

    def __init__(self, tapname: str, description: str):
        self.tapname = tapname
        self.description = description

    def makeService(self, options):
        # imported late: keeps `twistd --help` fast
        from bgserver.services import make_service, settle_heap_at_start
        service = make_service(self.tapname, options["config"])
        settle_heap_at_start()
        return service


bgserver = BillingServiceMaker("bgserver", "bgbilling HTTP API and subscriber cabinet")
bgscheduler = BillingServiceMaker("bgscheduler", "bgbilling periodic tasks")
bgloader = BillingServiceMaker("bgloader", "bgbilling usage data loader")
bgbilling = BillingServiceMaker("bgbilling", "bgbilling all in one: API, scheduler, loader")
