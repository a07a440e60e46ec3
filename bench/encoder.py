"""Cold load and per-text latency of the numpy sentence encoder, on one core.

    python -m bench.encoder [--runs 15] [--load-runs 5] [--model-dir DIR]

Sets OMP/OPENBLAS/MKL threads to 1 before numpy loads, as on a Lambda function's one vCPU's worth. It prints:

* cold load: a new process per run (`python -B`) imports `chalicelib.classifier.encoder` and calls
  `Encoder.load()`; the median of `--load-runs`, split into import and load. The files are in the page cache
  here, so a Lambda cold start that reads them from its layer for the first time pays more disk time.
* latency per text at 16, 32 and 128 tokens (the [CLS] and [SEP] included), encoding one text at a time
  (batch 1, the API's case) and 32 texts per call (batch 32, the training side's case), as the median and
  minimum over `--runs` of both wall time and this process's CPU time. On a machine shared with other jobs,
  CPU time is the steadier figure; the minimum is the closest to an idle core.

Targets (issue 22): load <= 0.5 s at cold start, <= 15 ms per 32-token text on one core.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TOKENS = (16, 32, 128)
BATCH = 32
LOAD_TARGET_S = 0.5
LATENCY_TARGET_MS = 15.0
_SENTENCE = (
    "hello my invoice for the order last month shows a charge i do not recognise and the refund i was "
    "promised has not reached my card yet please check the payment and tell me when the money will be back"
)

_COLD = """
import json, sys, time
start = time.perf_counter()
from chalicelib.classifier.encoder import Encoder
imported = time.perf_counter()
encoder = Encoder.load({directory!r})
loaded = time.perf_counter()
print(json.dumps({{"import": imported - start, "load": loaded - imported}}))
"""


def cold_load(runs: int, directory: str | None) -> dict[str, float]:
    samples = []
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-B", "-c", _COLD.format(directory=directory)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        samples.append(json.loads(result.stdout))
    imports = [s["import"] for s in samples]
    loads = [s["load"] for s in samples]
    totals = [s["import"] + s["load"] for s in samples]
    return {"import": statistics.median(imports), "load": statistics.median(loads), "total": statistics.median(totals)}


def text_of(encoder, tokens: int) -> str:  # noqa: ANN001
    """An ordinary-looking text that tokenizes to exactly `tokens` tokens, [CLS] and [SEP] included."""
    words = _SENTENCE.split(maxsplit=-1)
    chosen: list[str] = []
    while True:
        candidate = " ".join([*chosen, words[len(chosen) % len(words)]])
        if encoder.token_counts([candidate])[0] > tokens:
            break
        chosen.append(words[len(chosen) % len(words)])
    text = " ".join(chosen)
    while encoder.token_counts([text])[0] < tokens:
        text += " ."
    assert encoder.token_counts([text])[0] == tokens, (tokens, encoder.token_counts([text]))
    return text


def latency(encoder, text: str, batch: int, runs: int) -> dict[str, float]:  # noqa: ANN001
    texts = [text] * batch
    encoder.encode(texts)  # warm-up
    wall, cpu = [], []
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        encoder.encode(texts, batch_size=batch)
        wall.append((time.perf_counter() - w) / batch)
        cpu.append((time.process_time() - c) / batch)
    ms = 1e3
    return {
        "wall_median": statistics.median(wall) * ms,
        "wall_min": min(wall) * ms,
        "cpu_median": statistics.median(cpu) * ms,
        "cpu_min": min(cpu) * ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--load-runs", type=int, default=5)
    parser.add_argument("--model-dir", default=None, help="weights folder (default: the installed package's)")
    args = parser.parse_args()

    from chalicelib.classifier.encoder import Encoder  # noqa: PLC0415 — after the thread settings

    load = cold_load(args.load_runs, args.model_dir)
    verdict = "ok" if load["total"] <= LOAD_TARGET_S else "OVER"
    print(
        f"cold load (new process, median of {args.load_runs}): import {load['import']:.3f} s + "
        f"Encoder.load {load['load']:.3f} s = {load['total']:.3f} s  [target <= {LOAD_TARGET_S} s: {verdict}]"
    )
    encoder = Encoder.load(args.model_dir)
    print(f"per text, one thread, {args.runs} runs; ms: wall median / min, CPU median / min")
    for tokens in TOKENS:
        text = text_of(encoder, tokens)
        for batch in (1, BATCH):
            figures = latency(encoder, text, batch, args.runs if batch == 1 else max(3, args.runs // 3))
            mark = ""
            if tokens == 32:
                best = min(figures["wall_median"], figures["cpu_median"])
                mark = f"  [target <= {LATENCY_TARGET_MS:.0f} ms: {'ok' if best <= LATENCY_TARGET_MS else 'OVER'}]"
            wall = f"wall {figures['wall_median']:6.2f} / {figures['wall_min']:6.2f}"
            cpu = f"CPU {figures['cpu_median']:6.2f} / {figures['cpu_min']:6.2f}"
            print(f"  {tokens:>3} tokens, batch {batch:>2}: {wall}   {cpu}{mark}")


if __name__ == "__main__":
    main()
