"""The baseline for bench/health.py: bare twisted.web serving a fixed JSON ``/health``.

Same reactor as ``twistd -n`` (the default one), no routing framework, no database, no
logging: what Twisted alone costs per request on this machine.

    python bench/bare_web.py PORT
"""

import sys

from twisted.internet import reactor
from twisted.web.resource import Resource
from twisted.web.server import Site
from twisted.web.static import Data

BODY = b'{"status": "ok", "database": "ok", "events": {"broker": "local", "connected": true}}'


def main() -> None:
    port = int(sys.argv[1])
    root = Resource()
    root.putChild(b"health", Data(BODY, "application/json"))
    site = Site(root)
    site.log = lambda request: None  # no access log: the bare cost only
    reactor.listenTCP(port, site, interface="127.0.0.1")
    reactor.run()


if __name__ == "__main__":
    main()
