"""The baselines of bench/health.py and bench/money.py: a fixed JSON ``/health``.

``bare``: twisted.web alone, a static resource. ``klein``: the same body from one Klein
route (the framework bgserver's API is built on). Same reactor as ``twistd -n`` (the
default one), no database, no logging: what Twisted, and Twisted with Klein, cost per
request on this machine.

    python bench/bare_web.py PORT [bare|klein]
"""

import sys

from klein import Klein
from twisted.internet import reactor
from twisted.web.resource import Resource
from twisted.web.server import Site
from twisted.web.static import Data

BODY = b'{"status": "ok", "database": "ok", "events": {"broker": "local", "connected": true}}'


def klein_root() -> Resource:
    app = Klein()

    @app.route("/health", methods=["GET"])
    def health(request):
        request.setHeader(b"content-type", b"application/json")
        return BODY
    return app.resource()


def main() -> None:
    port = int(sys.argv[1])
    if (sys.argv[2] if len(sys.argv) > 2 else "bare") == "klein":
        root = klein_root()
    else:
        root = Resource()
        root.putChild(b"health", Data(BODY, "application/json"))
    site = Site(root)
    site.log = lambda request: None  # no access log: the bare cost only
    reactor.listenTCP(port, site, interface="127.0.0.1")
    reactor.run()


if __name__ == "__main__":
    main()
