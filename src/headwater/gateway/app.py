"""The request pipeline, in one place.

    read the HTTP request
    -> detect service and operation            (protocol.detect)
    -> authenticate                            (protocol.sigv4; AWS's auth errors on failure)
    -> parse into a parameter dict             (protocol.parse, from the botocore model)
    -> validate against the model              (protocol.validate)
    -> call the adapter method                 (protocol.dispatch; 501 when missing)
    -> serialize the result or the error       (protocol.serialize)

Streaming: the route is detected from the request line and headers before the body is read.
An operation whose input payload is a streaming blob (S3 PutObject, UploadPart) gets the body
as a stream (``protocol.body``: checked against ``x-amz-content-sha256`` and Content-Length as
it arrives, aws-chunked decoded) instead of bytes, so its size is not bounded by
``max_body_bytes`` nor held in memory; every other request, and any body of at most
``SMALL_BODY`` bytes that is neither aws-chunked nor awaited with ``Expect: 100-continue``, is
read whole first.  A
response body may be an async iterable (S3 GetObject), sent chunk by chunk.

Also: ``/_headwater/health`` for readiness checks, and the lifespan that opens the store and
starts and stops each service's workers.
"""

from __future__ import annotations

import enum
import importlib
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

import orjson

from headwater import __version__
from headwater.config import Settings
from headwater.core.clock import Clock, SystemClock
from headwater.core.errors import ServiceError
from headwater.core.ids import IdFactory, RandomIds
from headwater.protocol import sigv4
from headwater.protocol.auth_errors import auth_error
from headwater.protocol.body import (
    AsgiBody,
    AwsChunkedBody,
    ChunkSigner,
    ClientDisconnected,
    aws_chunked,
)
from headwater.protocol.context import RequestContext
from headwater.protocol.detect import Route, detect
from headwater.protocol.dispatch import Dispatcher, not_implemented
from headwater.protocol.http import HttpRequest, HttpResponse
from headwater.protocol.parse import RequestParser, parser_for
from headwater.protocol.rest_router import RestRouter, router_for, virtual_host_bucket
from headwater.protocol.serialize import ResponseSerializer, serializer_for
from headwater.protocol.serialize.errors import unexpected_error
from headwater.protocol.specs import ServiceSpec, get_spec
from headwater.protocol.validate import find_violations, validation_exception
from headwater.services import SERVICE_MODULES, ServiceEnv, ServiceHandle
from headwater.store import Store, open_store

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

HEALTH_PATH = "/_headwater/health"


@dataclass
class _Served:
    handle: ServiceHandle
    spec: ServiceSpec
    dispatcher: Dispatcher
    parser: RequestParser
    serializer: ResponseSerializer
    router: RestRouter | None  # for the rest protocols: which operation a request is for


@dataclass
class Gateway:
    settings: Settings
    store: Store
    clock: Clock = field(default_factory=SystemClock)
    ids: IdFactory = field(default_factory=RandomIds)
    services: dict[str, _Served] = field(default_factory=dict)
    env: ServiceEnv | None = None

    def __post_init__(self) -> None:
        self._secrets = self.settings.accepted_credentials()
        self._fallback: dict[str, ResponseSerializer] = {}
        self._rest_router: Any = None
        self._date: tuple[int, bytes] = (-1, b"")

    def _http_date(self) -> bytes:
        """The Date header: this second on the gateway's clock (the one that stamps
        Last-Modified and checks request times), formatted once per second.  uvicorn's own
        Date is turned off: it is refreshed once a second on a timer, so it ran up to two
        seconds behind and could be earlier than the Last-Modified it came with."""
        second = int(self.clock.now())
        if second != self._date[0]:
            self._date = (second, formatdate(second, usegmt=True).encode("ascii"))
        return self._date[1]

    # -- composition --------------------------------------------------------------------

    def add_service(self, handle: ServiceHandle) -> None:
        spec = get_spec(handle.name)
        self.services[handle.name] = _Served(
            handle,
            spec,
            Dispatcher(handle.name, handle.adapter),
            parser_for(spec.protocol),
            serializer_for(spec, handle.query_error_codes),
            router_for(spec) if spec.protocol in ("rest-json", "rest-xml") else None,
        )

    async def startup(self) -> None:
        for served in self.services.values():
            await served.handle.start()

    def drain(self) -> None:
        """Shutdown has begun: let waiting requests (long polls) answer now."""
        for served in self.services.values():
            try:
                served.handle.drain()
            except Exception:
                log.exception("draining %s failed", served.handle.name)

    async def shutdown(self) -> None:
        for served in reversed(list(self.services.values())):
            try:
                await served.handle.stop()
            except Exception:
                log.exception("stopping %s failed", served.handle.name)
        self.store.close()

    # -- ASGI ---------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    log.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = _request_head(scope)
        # A client that sends "Expect: 100-continue" waits for a refusal that its headers
        # earn before it sends the body (S3 answers so): such a request is never read whole
        # before it is authenticated, and one without credentials is answered unread.
        expects = "100-continue" in request.headers.get("expect", "").lower()
        unread = expects and self._refused_unread(request)
        if unread or (_small_body(request) and not expects):
            route = None
        else:
            route = self._streaming_route(request)
        if route is not None:
            request.stream = self._body_stream(request, route, receive)
        elif not unread:
            read = await _read_body(request, receive, self.settings.max_body_bytes)
            if read is _Read.GONE:
                # An incomplete request is never acted on; nobody is left to answer.
                log.info("client disconnected during the body of %s %s", request.method,
                         request.path)
                return
            if read is _Read.TOO_LARGE:
                response = HttpResponse(413, [("Content-Type", "text/plain")], b"Request too large")
                await _send_response(send, response, self._http_date())
                return
        if request.path == HEALTH_PATH:
            response = self._health()
        else:
            response = await self.handle(request, route)
        left = unread or (request.stream is not None and not getattr(request.stream, "complete", True))
        if left and _has_body(request):
            # Answered before the body was read (an error, or a client that waits for
            # "100 Continue" and so never sends it): the connection cannot carry another
            # request, since the unread body would be taken for one.  S3 closes it too.
            response.headers.append(("Connection", "close"))
        await _send_response(send, response, self._http_date(), head=scope["method"] == "HEAD")

    def _refused_unread(self, request: HttpRequest) -> bool:
        """Whether ``request`` carries no credentials at all, where credentials are checked,
        so that its answer is a refusal known from its headers.  Not browser form uploads
        (signed in their body) nor CORS preflights (never signed)."""
        if not self.settings.verify_signatures or request.method == "OPTIONS":
            return False
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            return False
        query = request.query
        return "authorization" not in request.headers and not any(
            name in query for name in ("X-Amz-Signature", "X-Amz-Credential", "Signature"))

    def _streaming_route(self, request: HttpRequest) -> Route | None:
        """The route of a request whose operation streams its input, or None to buffer it.

        Only requests whose payload hash is announced (S3 clients always send
        ``x-amz-content-sha256``) or not signed (presigned URLs) stream: the signature of any
        other request covers a hash of the body, which needs the whole body first.
        """
        if request.method not in ("PUT", "POST") or "x-amz-target" in request.headers:
            return None
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return None  # a query-protocol request names its operation in the body
        signed_hash = "x-amz-content-sha256" in request.headers or "X-Amz-Signature" in request.query
        if not signed_hash and self.settings.verify_signatures:
            return None
        try:
            route = detect(request, self._match_rest)
        except ServiceError:
            return None  # answered after reading the body, by the usual path
        op = route.operation
        if op is None or not op.has_streaming_input:
            return None
        return route

    def _body_stream(self, request: HttpRequest, route: Route, receive: Receive) -> Any:
        length_text = request.headers.get("content-length")
        length = int(length_text) if length_text and length_text.isdigit() else None
        claimed = request.headers.get("x-amz-content-sha256", "")
        expected = claimed if sigv4.is_hex_sha256(claimed) else None
        spec = route.spec

        def mismatch(client: str, computed: str) -> Exception:
            return auth_error(spec, sigv4.AuthFailure("payload_mismatch", hashes=(client, computed)))

        raw = AsgiBody(receive, length=length, expected_sha256=expected, on_sha256_mismatch=mismatch)
        if aws_chunked(request.headers):
            decoded = request.headers.get("x-amz-decoded-content-length", "")
            signer = None
            if claimed.startswith("STREAMING-AWS4-HMAC-SHA256-PAYLOAD"):
                found = sigv4.streaming_key(request, self._secrets)
                if found is not None:

                    def bad_chunk() -> Exception:
                        return auth_error(spec, sigv4.AuthFailure("bad_signature"))

                    signer = ChunkSigner(*found, on_mismatch=bad_chunk)
            return AwsChunkedBody(raw, int(decoded) if decoded.isdigit() else None, signer)
        return raw

    # -- the pipeline -------------------------------------------------------------------

    async def handle(self, request: HttpRequest, route: Route | None = None) -> HttpResponse:
        request_id = self.ids.uuid()
        served: _Served | None = None
        form_post = request.method == "POST" and (
            request.headers.get("content-type", "").startswith("multipart/form-data")
            or _bucket_post(request)
        )
        try:
            if request.method == "OPTIONS" or form_post:
                # Requests no model describes: CORS preflights and browser form uploads
                # (unsigned, or signed in their form).  The services that answer them (S3)
                # say so through their handle.
                for candidate in self.services.values():
                    if candidate.handle.unrouted is not None:
                        served = candidate
                        answer: HttpResponse | None = candidate.handle.unrouted(request, request_id)
                        if answer is not None:
                            if form_post:
                                _decorate(candidate, request, answer)
                            return answer
                served = None
            if route is None:
                route = detect(request, self._match_rest)
            # AWS authenticates before anything else: a bad signature is a 403 even for an
            # operation headwater does not serve.
            served = self.services.get(route.spec.name)
            identity = self._authenticate(request, route, served)
            if served is None:
                raise not_implemented(route.spec.name, route.operation_name)
            op = route.operation
            assert op is not None
            served.dispatcher.handler(route.operation_name)  # 501 before parsing
            params = served.parser.parse(request, op, route.uri_params)
            if op.input_shape is not None:
                violations = find_violations(op.input_shape, params)
                if violations:
                    hook = served.handle.validation_error
                    error = hook(violations) if hook else validation_exception(violations)
                    if error is not None:  # a hook may let through what its service checks
                        raise error
            ctx = RequestContext(
                request_id=request_id,
                service=route.spec.name,
                operation=route.operation_name,
                region=(identity.region if identity else "") or self.settings.region,
                account_id=self.settings.account_id,
                access_key=identity.access_key if identity else "",
                endpoint=f"{request.scheme}://{request.host}" if request.host else self.settings.endpoint,
                request=request,
            )
            result = await served.dispatcher.call(route.operation_name, ctx, params)
            response = served.serializer.serialize(op, result, request_id)
            _decorate(served, request, response)
            return response
        except ServiceError as error:
            response = self._error(request, route, served, error, request_id)
            if served is not None:
                # A refused request's page can read why (NoSuchKey, EntityTooLarge, an expired
                # policy) only with the CORS headers; S3 sends them on errors too.
                _decorate(served, request, response)
            return response
        except ClientDisconnected:
            # Nobody is left to answer; whatever the operation staged has been discarded.
            log.info("request %s: client disconnected during its body", request_id)
            return HttpResponse(400, [], b"")
        except Exception:
            log.exception(
                "request %s failed (%s)",
                request_id,
                route.operation_name if route else request.path,
            )
            failure = unexpected_error(_error_service(request, route, served), request_id)
            return self._error(request, route, served, failure, request_id)

    def _authenticate(
        self, request: HttpRequest, route: Route, served: _Served | None
    ) -> sigv4.Identity | None:
        try:
            if not self.settings.verify_signatures:
                sigv4.check_body_hash(request)
                scope = sigv4.credential_scope(request)
                if scope is None:
                    return None
                return sigv4.Identity(scope.access_key, scope.region, scope.service, False)
            identity = sigv4.verify(request, self._secrets, self.clock)
            sigv4.check_body_hash(request)
            return identity
        except sigv4.AuthFailure as failure:
            if failure.kind == "missing" and served is not None and served.handle.anonymous:
                instead = served.handle.anonymous(route.operation_name, route.uri_params)
                if instead is not None:
                    raise instead from None
            raise auth_error(route.spec, failure) from None

    def _match_rest(self, spec: ServiceSpec, request: HttpRequest) -> Any:
        served = self.services.get(spec.name)
        if served is None or served.router is None:
            return None
        return served.router.match(request)

    def _error(
        self,
        request: HttpRequest,
        route: Route | None,
        served: _Served | None,
        error: ServiceError,
        request_id: str,
    ) -> HttpResponse:
        if error.status >= 500 and error.code != "NotImplemented":
            log.error("request %s: %s", request_id, error)
        try:
            if served is not None:
                operation = route.operation if route else None
                return served.serializer.serialize_error(operation, error, request_id)
            if route is None and "x-amz-target" in request.headers:
                # A JSON-protocol client for a service we do not know: it can only read JSON.
                return _plain_error(error, request_id)
            spec = route.spec if route else get_spec("s3")
            serializer = self._fallback.get(spec.name)
            if serializer is None:
                serializer = self._fallback[spec.name] = serializer_for(spec)
            return serializer.serialize_error(None, error, request_id)
        except Exception:
            # Rendering an error must not turn into a crash of its own; the bug stays visible
            # in the log and the client still gets the status and code.
            log.exception("request %s: rendering %s failed", request_id, error.code)
            return _plain_error(error, request_id)

    def _health(self) -> HttpResponse:
        body = {
            "status": "ok",
            "version": __version__,
            "services": {
                name: {
                    "operations": len(s.spec.model.operation_names),
                    "implemented": len(s.dispatcher.implemented(list(s.spec.model.operation_names))),
                }
                for name, s in self.services.items()
            },
        }
        return HttpResponse(200, [("Content-Type", "application/json")], orjson.dumps(body))


def _bucket_post(request: HttpRequest) -> bool:
    """A POST to a bucket itself, with no subresource and no credentials in its headers: S3's
    browser upload whatever its body says it is (S3 answers one that is not multipart/form-data
    412 PreconditionFailed: LocalStack's AWS-validated test_post_object_with_wrong_content_type).
    Query-protocol requests (a form body naming its Action) and targeted JSON ones are not."""
    headers = request.headers
    if request.query_string or "x-amz-target" in headers or "authorization" in headers:
        return False
    if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return False
    path = request.path.strip("/")
    if virtual_host_bucket(request.host or headers.get("host", "")) is not None:
        return not path
    return bool(path) and "/" not in path


def _decorate(served: _Served, request: HttpRequest, response: HttpResponse) -> None:
    """Add the service's CORS headers to the answer to a request that names an ``Origin``."""
    if served.handle.decorate is not None and "origin" in request.headers:
        served.handle.decorate(request, response)


def _error_service(request: HttpRequest, route: Route | None, served: _Served | None) -> str:
    """The service whose error format a failed request is answered in (see ``_error``)."""
    if served is not None:
        return served.spec.name
    if route is not None:
        return route.spec.name
    return "" if "x-amz-target" in request.headers else "s3"


def _plain_error(error: ServiceError, request_id: str) -> HttpResponse:
    """The error in the JSON shape every AWS SDK's json parsers read."""
    body = orjson.dumps({"__type": error.code, "message": error.message})
    headers = [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-RequestId", request_id)]
    return HttpResponse(error.status, headers, body)


def _request_head(scope: Scope) -> HttpRequest:
    """The request line and headers; the body is read (or streamed) afterwards."""
    raw_headers = scope["headers"]
    if not isinstance(raw_headers, (list, tuple)):
        raw_headers = list(raw_headers)  # ASGI allows any iterable
    headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in raw_headers}
    if len(headers) != len(raw_headers):
        # A repeated header (rare): its values joined with commas, in the order they came.
        headers = {}
        for raw_name, raw_value in raw_headers:
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            headers[name] = f"{headers[name]},{value}" if name in headers else value
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else scope["path"]
    return HttpRequest(
        method=scope["method"],
        path=path.split("?", 1)[0],
        query_string=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        host=headers.get("host", ""),
        scheme=scope.get("scheme", "http"),
    )


# A body this small is read whole before its request is routed, even for an operation that
# streams its input: a stream's machinery (``protocol.body``) costs more than such a body's
# bytes, and what the stream checks as it goes is checked on the whole body instead (the
# announced SHA-256 by ``sigv4.check_body_hash``; Content-Length by the HTTP framing, a
# client that leaves early by ``_Read.GONE``).  aws-chunked bodies always stream: only the
# stream decodes them.
SMALL_BODY = 64 * 1024


def _has_body(request: HttpRequest) -> bool:
    return (request.headers.get("content-length", "0") != "0"
            or "transfer-encoding" in request.headers)


def _small_body(request: HttpRequest) -> bool:
    length = request.headers.get("content-length")
    return (
        length is not None
        and length.isdigit()
        and int(length) <= SMALL_BODY
        and not aws_chunked(request.headers)
    )


class _Read(enum.Enum):
    DONE = "done"
    TOO_LARGE = "too large"
    GONE = "gone"  # the client disconnected before its body ended


async def _read_body(request: HttpRequest, receive: Receive, limit: int) -> _Read:
    """Read the whole body into ``request.body``, up to ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return _Read.GONE
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return _Read.TOO_LARGE
        if chunk:
            chunks.append(chunk)
        more = message.get("more_body", False)
    request.body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    return _Read.DONE


# What an HTTP/1.1 header name or value cannot hold (the ASGI server refuses to send such a
# header and drops the connection), and a quick test that none is there: names that are
# tokens, values of printable characters (tab and some of ISO-8859-1 take the slow path).
_BAD_NAME = re.compile(rb'[\x00-\x20\x7f()<>@,;:\[\]={}\\"/?]')
_BAD_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_NOT_TOKEN = re.compile(r"[^!#$%&'*+.^_`|~0-9A-Za-z-]")
_REQUEST_ID_HEADERS = ("x-amz-request-id", "x-amzn-requestid")


def _header_bytes(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """``headers`` as the bytes sent: ISO-8859-1, as HTTP has them."""
    if "".join([v for _, v in headers]).isprintable() and not _NOT_TOKEN.search(
        "".join([k for k, _ in headers])
    ):
        try:
            return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        except UnicodeEncodeError:
            pass
    # A header that no response can carry is a bug where its value was accepted (and is
    # logged as one); answering without it beats dropping the connection.
    request_id = next((v for k, v in headers if k.lower() in _REQUEST_ID_HEADERS), "-")
    kept: list[tuple[bytes, bytes]] = []
    for name, value in headers:
        try:
            pair = (name.encode("latin-1"), value.encode("latin-1"))
        except UnicodeEncodeError:
            pair = None
        if pair is None or _BAD_NAME.search(pair[0]) or _BAD_VALUE.search(pair[1]):
            log.error("request %s: response header %s: %r cannot be sent; left out",
                      request_id, ascii(name), value)
            continue
        kept.append(pair)
    return kept


async def _send_response(send: Send, response: HttpResponse, date: bytes,
                         head: bool = False) -> None:
    headers = _header_bytes(response.headers)
    headers.insert(0, (b"date", date))
    body = response.body
    if isinstance(body, (bytes, bytearray, memoryview)):
        if not any(k.lower() == b"content-length" for k, _ in headers):
            headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else bytes(body)})
        return
    # A streamed body: its producer stated the Content-Length.  If it fails part way (an
    # object found corrupt on disk), the response is left incomplete so the server drops the
    # connection and the client sees a short read, never bad bytes presented as whole.
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    iterator = body.__aiter__()
    try:
        if not head:
            async for chunk in iterator:
                if chunk:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
    except Exception:
        log.exception("streaming a response body failed; dropping the connection")
        return
    finally:
        close = getattr(iterator, "aclose", None)
        if close is not None:
            await close()
    await send({"type": "http.response.body", "body": b""})


def build_gateway(
    settings: Settings,
    *,
    store: Store | None = None,
    clock: Clock | None = None,
    ids: IdFactory | None = None,
) -> Gateway:
    """Compose the app: open the store, create every service, register its adapter."""
    settings.check()
    if store is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = open_store(settings.data_dir / "headwater.db")
    gateway = Gateway(settings, store, clock or SystemClock(), ids or RandomIds())
    env = ServiceEnv(settings, store, gateway.clock, gateway.ids)
    gateway.env = env
    for module_name in SERVICE_MODULES:
        module = importlib.import_module(module_name)
        handle: ServiceHandle = module.create(env)
        env.facades[handle.name] = handle.facade
        env.adapters[handle.name] = handle.adapter
        gateway.add_service(handle)
    return gateway


