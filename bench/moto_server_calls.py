"""What one AWS call to the embedded moto server costs, served by waitress (keeps the connection)
and by werkzeug's development server (a new connection and thread for every call), in one run.

    python -m bench.moto_server_calls [--calls 1000] [--threads 8]

For each server it starts `chalicelib.local.moto_server` (with `moto_patches`, no state kept) in a
child process on a free port; the werkzeug run swaps only `waitress.serve` for werkzeug's
`run_simple`, as the server ran before decision 0048. Against a table holding one 16-attribute
item it times `--calls` GetItem and PutItem calls one after another, then the same calls from
`--threads` threads at once (as the stack's pumps and the demo make them), and prints per call the
wall time, this client's CPU time and the server's CPU time. Compare the two servers' lines with
each other: the machine's load moves both.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TABLE = "bench-calls"
_SERVER = """
import sys
from chalicelib.local import moto_server
if sys.argv[1] == "werkzeug":
    import waitress
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import run_simple

    def serve(app, host, port, **_):
        run_simple(host, port, app, threaded=True, request_handler=MotoRequestHandler)

    waitress.serve = serve
moto_server.main(["-p", sys.argv[2]])
"""


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process `pid` (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(server: str, port: int) -> subprocess.Popen[bytes]:
    environment = {key: value for key, value in os.environ.items() if key != "CASEFLOW_STATE_DIR"}
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVER, server, str(port)],
        cwd=ROOT,
        env={**environment, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            client(port).list_tables()
            return process
        except Exception:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the {server} moto server did not start")


def client(port: int) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(max_pool_connections=32, retries={"max_attempts": 0}),
    )


def measure(server: str, calls: int, threads: int) -> list[str]:
    from harness import free_port

    port = free_port()
    process = start(server, port)
    try:
        dynamodb = client(port)
        dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        item = {"pk": {"S": "k"}, **{f"a{i}": {"S": "x" * 30} for i in range(15)}}
        dynamodb.put_item(TableName=TABLE, Item=item)
        operations = {
            "GetItem": lambda _: dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "k"}}),
            "PutItem": lambda _: dynamodb.put_item(TableName=TABLE, Item=item),
        }
        lines = []
        for name, call in operations.items():
            for _ in range(50):
                call(None)
            for at_once in (1, threads):
                wall, mine, theirs = time.perf_counter(), time.process_time(), cpu_seconds(process.pid)
                with ThreadPoolExecutor(max_workers=at_once) as pool:
                    list(pool.map(call, range(calls)))
                wall, mine = time.perf_counter() - wall, time.process_time() - mine
                theirs = cpu_seconds(process.pid) - theirs
                lines.append(
                    f"{server:8} {name} x{calls}, {at_once} at once: wall {wall / calls * 1000:.2f} ms, "
                    f"client CPU {mine / calls * 1000:.2f} ms, server CPU {theirs / calls * 1000:.2f} ms per call"
                )
        return lines
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    for server in ("werkzeug", "waitress"):
        print(*measure(server, args.calls, args.threads), sep="\n", flush=True)


if __name__ == "__main__":
    main()
