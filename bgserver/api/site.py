"""The HTTP site: one access log line per request, a cap on request bodies."""

from __future__ import annotations

from twisted.web.resource import Resource
from twisted.web.server import Request, Site

from bgserver.api.accesslog import AccessLog
from bgserver.api.errors import error_body
from bgshared.api import errors as codes


class BillingRequest(Request):
    """Knows when it started, and refuses a body over the site's limit before reading it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.started = self.channel.site.reactor.seconds() if self.channel else 0.0

    def isSecure(self):
        """Klein asks twice a request; Twisted answers through an interface lookup on the
        transport, which does not change for the connection's life."""
        channel = self.channel
        secure = getattr(channel, "bg_secure", None)
        if secure is None:
            secure = channel.bg_secure = super().isSecure()
        return secure

    def gotLength(self, length):
        limit = self.channel.site.max_body_bytes
        if length is not None and length > limit:
            self._too_large = True
        super().gotLength(length)

    def handleContentChunk(self, data):
        if getattr(self, "_too_large", False):
            return
        super().handleContentChunk(data)

    def process(self):
        if getattr(self, "_too_large", False):
            self.setResponseCode(413)
            self.setHeader(b"content-type", b"application/json")
            self.write(error_body(codes.PAYLOAD_TOO_LARGE, "request body too large",
                                  {"max_bytes": self.channel.site.max_body_bytes}))
            self.finish()
            return
        super().process()


class BillingSite(Site):
    requestFactory = BillingRequest

    def __init__(self, resource, reactor, access_log: AccessLog,
                 max_body_bytes: int = 1_048_576):
        # the API speaks JSON: no parsing of form bodies into request.args
        super().__init__(resource, reactor=reactor, parsePOSTFormSubmission=False)
        self.access_log = access_log
        self.max_body_bytes = max_body_bytes
        self.displayTracebacks = False

    def log(self, request):
        """Replaces Twisted's access log."""
        self.access_log.record(request, request.started)


class Root(Resource):
    """The site's root: a request whose first path segment names one of ``parts`` (the
    cabinet) goes there, any other to the API. Each sees the whole path, as if it were
    the root."""

    def __init__(self, api: Resource, parts: dict[bytes, Resource]):
        super().__init__()
        self.api = api
        self.parts = parts

    def getChildWithDefault(self, path, request):
        request.postpath.insert(0, request.prepath.pop())
        return self.parts.get(path, self.api)
