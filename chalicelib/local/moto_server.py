"""The moto server of the embedded stack, with `moto_patches` applied and its state kept in
CASEFLOW_STATE_DIR (`state_keeper`): `python -m chalicelib.local.moto_server -H HOST -p PORT`.

moto's own `main` is replaced by the few lines it runs, so that its application can be wrapped
(the state keeper's gate) and a stop (SIGTERM, SIGINT) saves the state before the process ends.
The application is served by waitress, not moto's werkzeug development server: werkzeug closes the
connection after every response, so each AWS call paid a new TCP connection and a new server
thread (decision 0048).
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from chalicelib import settings
from chalicelib.local import moto_patches
from chalicelib.local.state_keeper import StateKeeper

log = logging.getLogger("caseflow.local.moto")

#: Requests served at once. SQS long polls hold one each (the stack's pumps, `make demo-data`), as do the
#: stack's API requests and queue invocations waiting on their AWS calls: more than those together.
THREADS = 64
#: Open connections at most: every botocore client of the stack keeps a pool of its own (up to 32).
CONNECTION_LIMIT = 1000
#: Seconds an idle kept-alive connection stays open; botocore opens a new one when it finds one closed.
CHANNEL_TIMEOUT = 300


def serve(host: str, port: int, state_dir: str | None, table_writes_per_snapshot: int) -> None:
    """Restore the state (if kept), then serve until a signal stops the server."""
    import waitress
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    os.environ.setdefault("MOTO_PORT", str(port))
    application: Any = DomainDispatcherApplication(create_backend_app)
    application.debug = True
    keeper = StateKeeper(Path(state_dir), table_writes_per_snapshot=table_writes_per_snapshot) if state_dir else None
    if keeper is not None:
        keeper.restore(application)
        # What was restored lives as long as the server: the collector need not walk it again.
        gc.freeze()
        application = keeper.wrap(application)
        keeper.start()

    def stop(*_: Any) -> None:
        """Save, then end at once: a Step Functions thread waiting on the closed gate must not
        hold the process up. A second signal meanwhile is ignored."""
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if keeper is not None:
            try:
                keeper.stop()
            except Exception:
                log.exception("the last snapshot failed; the one before it is kept")
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    waitress.serve(
        application,
        host=host,
        port=port,
        threads=THREADS,
        connection_limit=CONNECTION_LIMIT,
        channel_timeout=CHANNEL_TIMEOUT,
        ident="moto",
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    moto_patches.apply()
    config = settings.from_environ(os.environ)
    serve(args.host, args.port, config.state_dir, config.table_writes_per_snapshot)


if __name__ == "__main__":
    main()
