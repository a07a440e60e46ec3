"""Training time of the classifier at 1,000, 5,000 and 10,000 examples, on one core.

    python -m bench.classifier_training [--sizes 1000 5000 10000] [--labels 78] [--embeddings CACHE.npz]

The examples are synthetic (`bench.classifier_data`: the team's sample augmented; no public intent set could be
had from the package registries). `--embeddings` names an `.npz` of cached sentence embeddings (arrays `keys`,
the texts' `training.text_hash`, and `vectors`), as the nightly run has them from its cache: the time printed is
then training proper (TF-IDF, cross-validated choice of C, temperature and threshold, final fit), which is what
must fit in the training function; embedding a new text costs what the encoder benchmark says, once per text. Without
it, `--no-embeddings` times the TF-IDF-only head, and otherwise the texts are embedded first (slow, and printed
apart). BLAS and OpenMP are held to one thread before numpy is imported.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from bench.classifier_data import synthesise  # noqa: E402
from chalicelib.classifier import training  # noqa: E402


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--labels", type=int, default=78, choices=(6, 78))
    parser.add_argument("--embeddings", type=Path, help="an .npz cache of embeddings (keys, vectors)")
    parser.add_argument("--no-embeddings", action="store_true", help="time the TF-IDF-only head")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    examples = synthesise(max(args.sizes), labels=args.labels, seed=args.seed)
    config = training.TrainingConfig(embeddings=not args.no_embeddings)
    cache: dict[str, np.ndarray] = {}
    encoder = None
    if args.embeddings:
        with np.load(args.embeddings) as stored:
            cache = {str(key): vector for key, vector in zip(stored["keys"], stored["vectors"], strict=True)}
    if config.embeddings and not all(training.text_hash(text) in cache for text, _ in examples):
        encoder = training.load_encoder()
        started = time.perf_counter()
        _, encoded = training.embed([text for text, _ in examples], encoder, cache)
        seconds = time.perf_counter() - started
        print(f"embedded {encoded} new texts in {seconds:.1f} s ({seconds / max(encoded, 1) * 1000:.1f} ms each)")
    print(f"{'examples':>8}  {'labels':>6}  {'seconds':>8}  {'ratio':>6}  breakdown (s)  head bytes  chosen C")
    first = None
    for size in sorted(args.sizes):
        subset = examples[:size]
        started = time.perf_counter()
        trained = training.train(subset, seed=args.seed, config=config, encoder=encoder, cache=dict(cache))
        seconds = time.perf_counter() - started
        first = first or seconds
        blob = training.export(trained, "bench").to_bytes()
        labels = len(trained.labels)
        breakdown = ", ".join(f"{k} {v:.1f}" for k, v in trained.report.seconds.items() if k != "total")
        print(
            f"{size:>8}  {labels:>6}  {seconds:>8.1f}  {seconds / first:>6.2f}  {breakdown}  {len(blob):>10,}"
            f"  {trained.report.chosen.c:g}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
