"""The local API: the Chalice app over HTTP, as `make run` (and the tests and benchmarks) serve it.

Requests go through Chalice's own local request handler (`chalice.local`), so routing, the Lambda
proxy event and the responses are those of `chalice local`. Unlike the server of
`chalice.local.create_local_server` (listen backlog 5: a burst of connections waits on SYN
retries, or is refused), this one queues a burst, gives each connection a thread, and runs at most
`CONCURRENCY` invocations at once, as a function's reserved concurrency would: more would only
swamp the local moto server, whose dropped connections come back as 500s.

Concurrent requests share the app object, on which Chalice stores the request being handled
(`app.current_request`, which every blueprint reads) and its Lambda context. Those two are kept per
thread here, so that no request can read another's headers, body or identity.
"""

from __future__ import annotations

import sys
import threading
from http.server import ThreadingHTTPServer
from typing import Any

from chalice import Chalice
from chalice.config import Config
from chalice.local import ChaliceRequestHandler, LocalDevServer

#: Connections the kernel queues before the server accepts them.
LISTEN_BACKLOG = 1024
#: Requests the app handles at once; the others wait for a turn on their connection.
CONCURRENCY = 32


class _Server(ThreadingHTTPServer):
    request_queue_size = LISTEN_BACKLOG
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A browser that hangs up before its answer is written (a tab closed, a favicon given up on)
        is no error of the app's: no traceback for it in the log; anything else is printed as before."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _LocalInvocations(Chalice):
    """Chalice as the local API invokes it: the attributes set for each invocation held per thread,
    and at most `CONCURRENCY` invocations at once."""

    _per_thread = threading.local()
    _slots = threading.BoundedSemaphore(CONCURRENCY)

    @property  # type: ignore[override]
    def current_request(self) -> Any:
        return getattr(self._per_thread, "current_request", None)

    @current_request.setter
    def current_request(self, value: Any) -> None:
        self._per_thread.current_request = value

    @property  # type: ignore[override]
    def lambda_context(self) -> Any:
        return getattr(self._per_thread, "lambda_context", None)

    @lambda_context.setter
    def lambda_context(self, value: Any) -> None:
        self._per_thread.lambda_context = value

    def __call__(self, event: Any, context: Any) -> dict[str, Any]:
        with self._slots:
            return super().__call__(event, context)


def for_local_invocations(app: Chalice) -> Chalice:
    """Make the app safe to invoke from the local API's threads (see `_LocalInvocations`); returns it."""
    if not isinstance(app, _LocalInvocations):
        app.__class__ = type(type(app).__name__, (_LocalInvocations, type(app)), {})
    return app


class LocalApi:
    """The app served over HTTP on a thread of its own; `stop` closes the port."""

    def __init__(self, app: Chalice, host: str, port: int, stage: str):
        config = Config.create(chalice_stage=stage, app_name=app.app_name)
        self._dev_server = LocalDevServer(
            for_local_invocations(app), config, host, port, handler_cls=ChaliceRequestHandler, server_cls=_Server
        )
        self.host, self.port = self._dev_server.server.server_address[:2]
        self._thread = threading.Thread(target=self._dev_server.server.serve_forever, name="api", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LocalApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._dev_server.server.shutdown()
        self._dev_server.server.server_close()


def serve_api(app: Chalice, port: int, host: str = "127.0.0.1", stage: str = "dev") -> LocalApi:
    """Serve the app on host:port (0: a free port, see `.port`) until `stop`."""
    return LocalApi(app, host, port, stage).start()
