"""The HTTP site: one structured log line per request, a cap on request bodies."""

from __future__ import annotations

from twisted.logger import Logger
from twisted.web.server import Request, Site

from bgserver.api.errors import error_body
from bgshared.api import errors as codes

log = Logger(namespace="bgserver.http")


class BillingRequest(Request):
    """Knows when it started, and refuses a body over the site's limit before reading it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.started = self.channel.site.reactor.seconds() if self.channel else 0.0

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

    def __init__(self, resource, reactor, max_body_bytes: int = 1_048_576):
        # the API speaks JSON: no parsing of form bodies into request.args
        super().__init__(resource, reactor=reactor, parsePOSTFormSubmission=False)
        self.max_body_bytes = max_body_bytes
        self.displayTracebacks = False

    def log(self, request):
        """Replaces the access log: method, path (no query: it may carry secrets), status,
        duration, client address."""
        duration_ms = (self.reactor.seconds() - request.started) * 1000.0
        method = request.method.decode("ascii", "replace")
        path = request.path.decode("utf-8", "replace")
        # the text is made here: a log format of one field costs half of four on a busy
        # server; the fields stay in the event for structured observers
        log.info("{line}", line="%s %s %d %.1fms" % (method, path, request.code, duration_ms),
                 method=method, path=path, status=request.code, duration_ms=duration_ms,
                 client=getattr(request.getClientAddress(), "host", None))
