"""The HTTP site: one access log line per request, a cap on request bodies, deadlines and
a cap for slow or greedy clients, the client's address behind trusted proxies."""

from __future__ import annotations

from collections import Counter
from io import BytesIO
from typing import Any, Iterable

from twisted.internet.protocol import Protocol
from twisted.web.http import HTTPChannel
from twisted.web.resource import Resource
from twisted.web.server import Request, Site

from bgserver.api.accesslog import AccessLog
from bgserver.api.clients import TrustedProxies
from bgserver.api.errors import error_body
from bgshared.api import errors as codes

#: Reason phrases Twisted does not know.
REASONS = {408: b"Request Timeout", 422: b"Unprocessable Entity", 429: b"Too Many Requests",
           499: b"Client Closed Request"}

#: After refusing a body, what the client still sends is read and dropped for at most
#: this long, seconds, so that it reads the answer instead of a reset connection.
LINGER_SECONDS = 5.0


def _ignore(data: bytes) -> None:
    pass


def raw_answer(status: int, code: str, message: str) -> bytes:
    """A whole HTTP response, for answers given outside a request's processing."""
    body = error_body(code, message)
    reason = REASONS.get(status, b"Error")
    return (b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\nconnection: close\r\n"
            b"content-length: %d\r\n\r\n" % (status, reason, len(body))) + body


class BillingRequest(Request):
    """Knows when it started and who its client is; counts its body as it arrives and
    refuses it past the site's limit, whether its length was declared or it comes chunked."""

    #: The client's address: the peer, or what trusted proxies forwarded.
    client_host: str | None = None
    #: The client hung up before its answer (the work was done all the same).
    hung_up = False
    _received = 0
    _too_large = False
    _refused = False
    _logged = False
    _received_whole = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.billing_site = self.channel.site if self.channel else None
        self.started = self.billing_site.reactor.seconds() if self.billing_site else 0.0

    def isSecure(self):
        """Klein asks twice a request; Twisted answers through an interface lookup on the
        transport, which does not change for the connection's life."""
        channel = self.channel
        secure = getattr(channel, "bg_secure", None)
        if secure is None:
            secure = channel.bg_secure = super().isSecure()
        return secure

    def gotLength(self, length):
        if length is not None and length > self.billing_site.max_body_bytes:
            self._too_large = True
            self.content = BytesIO()  # no temporary file for a body that is refused
            return
        super().gotLength(length)

    def handleContentChunk(self, data):
        if self._refused:
            return
        self._received += len(data)
        if self._too_large or self._received > self.billing_site.max_body_bytes:
            self._too_large = self._refused = True
            self.content.close()
            self.content = BytesIO()
            self.channel.refuse_body()
            return
        super().handleContentChunk(data)

    def requestReceived(self, command, path, version):
        if self.channel is not None:
            peer = getattr(self.channel.transport.getPeer(), "host", None)
            self.client_host = self.billing_site.proxies.client(
                peer, self.requestHeaders.getRawHeaders(b"x-forwarded-for"))
        self._received_whole = True
        super().requestReceived(command, path, version)

    def process(self):
        if self._too_large:
            self.site = self.billing_site
            self.setResponseCode(413)
            self.setHeader(b"content-type", b"application/json")
            self.setHeader(b"connection", b"close")
            self.write(error_body(codes.PAYLOAD_TOO_LARGE, "request body too large",
                                  {"max_bytes": self.billing_site.max_body_bytes}))
            self.finish()
            return
        super().process()

    def setResponseCode(self, code, message=None):
        super().setResponseCode(code, message or REASONS.get(code))

    def write(self, data):
        if not self.startedWriting:
            self.responseHeaders.removeHeader(b"server")  # no version banner
        super().write(data)

    def connectionLost(self, reason):
        """Twisted closes the body when the client goes; a request being processed may
        still have to read it (its work goes on without the client)."""
        if not self._received_whole:
            return super().connectionLost(reason)
        content, self.content = self.content, None
        super().connectionLost(reason)
        self.content = content
        if self.method == b"GET" and not self.finished:
            # a read is cancelled with its client: its line now, as nginx logs it
            self.setResponseCode(499)
            self.answered_after_hang_up()

    def answered_after_hang_up(self) -> None:
        """The work of a request whose client went away is done: its line is logged all the
        same, marked, with the status the client would have had."""
        if self._logged or self.billing_site is None:
            return
        self.hung_up = True
        self.billing_site.log(self)


class BillingChannel(HTTPChannel):
    """An HTTP/1.1 connection with a deadline for each request's line and headers, and a
    polite way to refuse a body: answer at once, then drop what still comes."""

    _header_call = None
    _linger_call = None
    _awaiting_headers = True
    _discarding = False
    #: The peer address counted against the site's cap, if it was.
    counted_host: str | None = None

    def connectionMade(self):
        super().connectionMade()
        self._start_header_deadline()

    def _start_header_deadline(self) -> None:
        self._header_call = self.callLater(self.site.header_timeout, self._headers_too_slow)

    def _cancel(self, name: str) -> None:
        call = getattr(self, name)
        if call is not None and call.active():
            call.cancel()
        setattr(self, name, None)

    def _headers_too_slow(self) -> None:
        self._header_call = None
        self.transport.write(raw_answer(408, codes.REQUEST_TIMEOUT,
                                        "the request line and headers came too slowly"))
        self.timeoutConnection()

    def dataReceived(self, data):
        if self._discarding:
            return
        if self._awaiting_headers and self._header_call is None:
            self._start_header_deadline()  # the next request on a kept-alive connection
        super().dataReceived(data)

    def allHeadersReceived(self):
        self._awaiting_headers = False
        self._cancel("_header_call")
        super().allHeadersReceived()

    def requestDone(self, request):
        self._awaiting_headers = True
        super().requestDone(request)

    def refuse_body(self) -> None:
        """The body being read is too large: the request is answered now, the connection
        closes after the answer, and the rest of the body is not read into anything."""
        decoder = self._transferDecoder
        if decoder is not None:
            decoder.dataCallback = decoder.finishCallback = _ignore
        self.persistent = False
        self._discarding = True
        self.allContentReceived()

    def loseConnection(self):
        if not self._discarding:
            return super().loseConnection()
        # Closed at once, the socket would reset the connection while the client still
        # sends, and it would lose the answer: close our side, read and drop the rest.
        self._networkProducer.unregisterProducer()
        self.transport.loseWriteConnection()
        if self._linger_call is None:
            self._linger_call = self.callLater(LINGER_SECONDS, self.transport.abortConnection)
        return None

    def _finishRequestBody(self, data):
        if self._discarding:
            return  # the refused body's end: answered already
        super()._finishRequestBody(data)

    def _respondToBadRequestAndDisconnect(self):
        if self._discarding:
            return  # the rest of a refused body may be anything
        super()._respondToBadRequestAndDisconnect()

    def connectionLost(self, reason):
        self._cancel("_header_call")
        self._cancel("_linger_call")
        self.site.connection_closed(self)
        super().connectionLost(reason)


class TooManyConnections(Protocol):
    """Answers 429 to a connection over the per-address cap and closes it."""

    def connectionMade(self):
        self.transport.write(raw_answer(429, codes.TOO_MANY_REQUESTS,
                                        "too many open connections from this address"))
        self.transport.loseConnection()


class BillingSite(Site):
    requestFactory = BillingRequest
    protocol = BillingChannel

    def __init__(self, resource, reactor, access_log: AccessLog,
                 max_body_bytes: int = 1_048_576, *, trusted_proxies: Iterable[str] = (),
                 header_timeout: float = 10.0, max_connections_per_address: int = 64):
        # the API speaks JSON: no parsing of form bodies into request.args
        super().__init__(resource, reactor=reactor, parsePOSTFormSubmission=False)
        self.access_log = access_log
        self.max_body_bytes = max_body_bytes
        self.proxies = TrustedProxies(trusted_proxies)
        self.header_timeout = header_timeout
        self.max_connections_per_address = max_connections_per_address
        #: Open connections by peer address (those under the cap).
        self.open_connections: Counter[str] = Counter()
        self.displayTracebacks = False

    @classmethod
    def from_settings(cls, resource, reactor, access_log: AccessLog, server: Any):
        """The site as ``[server]`` settings describe it."""
        return cls(resource, reactor, access_log, server.max_body_bytes,
                   trusted_proxies=server.trusted_proxies,
                   header_timeout=server.header_timeout,
                   max_connections_per_address=server.max_connections_per_address)

    def buildProtocol(self, addr):
        host = getattr(addr, "host", None)
        cap = self.max_connections_per_address
        counted = bool(cap and host and not self.proxies.trusts(host))
        if counted and self.open_connections[host] >= cap:
            return TooManyConnections()
        channel = super().buildProtocol(addr)
        if counted:
            self.open_connections[host] += 1
            channel.counted_host = host
        return channel

    def connection_closed(self, channel: BillingChannel) -> None:
        host = channel.counted_host
        if host is not None:
            channel.counted_host = None
            self.open_connections[host] -= 1
            if self.open_connections[host] <= 0:
                del self.open_connections[host]

    def log(self, request):
        """Replaces Twisted's access log."""
        request._logged = True
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
