"""How long a Lambda cold start spends importing `app.py`, with no bytecode to load.

    python -m bench.cold_import [--runs 7] [--top 15] [--against CHECKOUT] [--request PATH ...]

The functions run on a newer Python than the one that builds the bundle, so nothing in it has
bytecode the runtime can use: every module of Caseflow and of its packages is compiled from source
at each cold start (the runtime's standard library has its own). This stages that: a copy of
`app.py`, `chalicelib/` and the installed packages the import reaches, without `__pycache__`, run
as `python -B -S` (no bytecode written, no site-packages but the copy) in a new process per run.
It prints the median import time, the own time of each top-level package (`-X importtime`) and
the slowest modules by cumulative time.

`--against` stages another checkout of app.py and chalicelib/ (e.g. `git worktree add` of the last
commit) the same way, measures both in alternation and prints the ratio of the medians.

A module imported on first use instead of at import still costs the cold start of an invocation
that uses it. `--request PATH` (a GET, repeatable) starts the embedded stack and, in each run,
after the import, answers that request through Chalice's local gateway against it, the services
built on the way: it prints the median time to the answer and the packages the request imported.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import Embedded

ROOT = Path(__file__).resolve().parent.parent
SITE_PACKAGES = Path(sysconfig.get_paths()["purelib"])
#: Prints the entries of site-packages (one per line) that importing the app reaches.
_REACHED = f"""
import os, sys
import app
site = {str(SITE_PACKAGES)!r}
for module in list(sys.modules.values()):
    path = getattr(module, "__file__", None) or ""
    if path.startswith(site + os.sep):
        print(os.path.relpath(path, site).split(os.sep)[0])
"""
#: One cold start: the import, then optionally one GET (argv[1]); prints its timings as JSON.
_COLD_START = """
import json, os, sys, time
began = time.perf_counter()
import app
imported = time.perf_counter()
result = {"import": imported - began}
if len(sys.argv) > 1:
    from chalice.config import Config
    from chalice.local import LocalGateway

    site = os.environ["PYTHONPATH"].split(os.pathsep)[-1]
    def packages():
        files = (getattr(module, "__file__", None) or "" for module in list(sys.modules.values()))
        return {os.path.relpath(f, site).split(os.sep)[0] for f in files if f.startswith(site + os.sep)}
    before = packages()
    gateway = LocalGateway(app.app, Config())
    asked = time.perf_counter()
    answer = gateway.handle_request(method="GET", path=sys.argv[1], headers={"host": "localhost"}, body=b"")
    result["request"] = time.perf_counter() - asked
    result["status"] = answer["statusCode"]
    if answer["statusCode"] >= 500:
        result["error"] = str(answer.get("body"))[:300]
    result["imported"] = sorted(packages() - before)
print(json.dumps(result))
"""
_NO_BYTECODE = shutil.ignore_patterns("__pycache__", "*.pyc")


@dataclass(frozen=True)
class Staged:
    """A checkout's app and the packages it imports, in a directory with no bytecode."""

    label: str
    directory: Path

    def run(self, args: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env.update(environment)
        env["PYTHONPATH"] = os.pathsep.join([str(self.directory / "app"), str(self.directory / "site")])
        return subprocess.run(
            [sys.executable, "-B", "-S", *args],
            cwd=self.directory / "app",
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )

    def cold_start(self, path: str | None, environment: dict[str, str]) -> dict[str, Any]:
        out = self.run(["-c", _COLD_START, *([path] if path else [])], environment).stdout
        return json.loads(out.splitlines()[-1])  # the app's own log lines come before

    def import_times(self) -> list[tuple[str, int, int]]:
        """(module, own µs, cumulative µs) for every module imported, from `-X importtime`."""
        rows = []
        for line in self.run(["-X", "importtime", "-c", "import app"], {}).stderr.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            own, cumulative, name = line.removeprefix("import time:").split("|", 2)
            rows.append((name.strip(), int(own), int(cumulative)))
        return rows


def reached(checkout: Path) -> set[str]:
    """The site-packages entries importing this checkout's app loads (bytecode allowed: faster)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(
        [sys.executable, "-c", _REACHED], cwd=checkout, env=env, capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


def stage(label: str, checkout: Path, entries: set[str], directory: Path) -> Staged:
    (directory / "app").mkdir(parents=True)
    shutil.copy2(checkout / "app.py", directory / "app" / "app.py")
    shutil.copytree(checkout / "chalicelib", directory / "app" / "chalicelib", ignore=_NO_BYTECODE)
    site = directory / "site"
    site.mkdir()
    # Packages' metadata and the shared libraries some wheels keep beside them (numpy.libs) are
    # read at import, though no module in them is.
    extras = {p.name for p in SITE_PACKAGES.iterdir() if p.name.endswith((".dist-info", ".libs"))}
    for name in sorted(entries | extras):
        source = SITE_PACKAGES / name
        if source.is_dir():
            shutil.copytree(source, site / name, ignore=_NO_BYTECODE)
        else:
            shutil.copy2(source, site / name)
    return Staged(label, directory)


def by_package(rows: list[tuple[str, int, int]]) -> Counter[str]:
    """Own import time (µs) summed per top-level package."""
    totals: Counter[str] = Counter()
    for name, own, _ in rows:
        totals[name.split(".")[0]] += own
    return totals


def _milliseconds(seconds: list[float]) -> str:
    return (
        f"median {statistics.median(seconds) * 1000:.0f} ms over {len(seconds)} runs "
        f"(min {min(seconds) * 1000:.0f}, max {max(seconds) * 1000:.0f})"
    )


def describe(staged: Staged, imports: list[float], top: int) -> str:
    rows = staged.import_times()
    lines = [
        f"{staged.label}: import app, {_milliseconds(imports)}",
        "  own time by top-level package (ms, one run under -X importtime):",
        *(f"    {micros / 1000:8.1f}  {package}" for package, micros in by_package(rows).most_common(top)),
        "  slowest modules, cumulative (ms):",
    ]
    slowest = sorted((row for row in rows if row[0] != "app"), key=lambda row: row[2], reverse=True)[:top]
    lines.extend(f"    {cumulative / 1000:8.1f}  {name}" for name, _, cumulative in slowest)
    return "\n".join(lines)


def _ratio(label: str, before: list[float], after: list[float], against: str) -> str:
    was, now = statistics.median(before), statistics.median(after)
    return f"{label}: this tree takes {now / was:.2f} x the time of {against} ({was / now:.2f} x as fast)"


def measure(staged: list[Staged], runs: int, paths: list[str], environment: dict[str, str]) -> dict[str, Any]:
    """Runs of each staged tree in alternation, so that a busy moment of the machine costs each the same."""
    imports: dict[str, list[float]] = {s.label: [] for s in staged}
    firsts: dict[tuple[str, str], list[dict[str, Any]]] = {(s.label, p): [] for s in staged for p in paths}
    for _ in range(runs):
        for s in staged:
            imports[s.label].append(s.cold_start(None, environment)["import"])
            for path in paths:
                firsts[(s.label, path)].append(s.cold_start(path, environment))
    return {"imports": imports, "firsts": firsts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--against", type=Path, help="another checkout, e.g. a worktree of the last commit")
    parser.add_argument("--request", action="append", default=[], help="a GET to answer after the import")
    args = parser.parse_args()
    checkouts = {"this tree": ROOT}
    if args.against:
        checkouts = {str(args.against): args.against.resolve(), **checkouts}
    entries = set().union(*(reached(path) for path in checkouts.values()))
    with tempfile.TemporaryDirectory(prefix="cold-import-") as scratch:
        staged = [
            stage(label, path, entries, Path(scratch) / str(n)) for n, (label, path) in enumerate(checkouts.items())
        ]
        environment: dict[str, str] = {}
        with contextlib.ExitStack() as running:
            if args.request:
                stack = Embedded()
                running.callback(stack.cleanup)
                running.enter_context(stack)
                environment = {
                    "CASEFLOW_STAGE": "dev",
                    "CASEFLOW_AWS_PORT": str(stack.aws_port),
                    "AWS_ENDPOINT_URL": f"http://127.0.0.1:{stack.aws_port}",
                    "AWS_ACCESS_KEY_ID": "local",
                    "AWS_SECRET_ACCESS_KEY": "local",
                    "AWS_DEFAULT_REGION": "us-east-1",
                }
            measured = measure(staged, args.runs, args.request, environment)
        for s in staged:
            print(describe(s, measured["imports"][s.label], args.top))
            for path in args.request:
                runs = measured["firsts"][(s.label, path)]
                whole = [run["import"] + run["request"] for run in runs]
                statuses = sorted({run["status"] for run in runs})
                print(f"  import, then GET {path} ({', '.join(map(str, statuses))}): {_milliseconds(whole)}")
                print(f"    packages the request imported: {', '.join(runs[0]['imported']) or 'none'}")
        if args.against:
            before, after = (measured["imports"][s.label] for s in staged)
            print(_ratio("import app", before, after, str(args.against)))
            for path in args.request:
                before, after = (
                    [run["import"] + run["request"] for run in measured["firsts"][(s.label, path)]] for s in staged
                )
                print(_ratio(f"import, then GET {path}", before, after, str(args.against)))


if __name__ == "__main__":
    main()
