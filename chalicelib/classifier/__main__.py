"""Command line: train a model blob, or evaluate training on one CSV against another.

python -m chalicelib.classifier train --train TRAIN.csv --out model.npz [--version V]
python -m chalicelib.classifier evaluate --train TRAIN.csv --test TEST.csv [--threshold T]

Both add `--no-embeddings` for the TF-IDF-only model (no sentence encoder).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from chalicelib.classifier import serving, training
from chalicelib.classifier.examples import Example, ExampleError, read_examples

FEW_SHOT = 10


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; return the process exit status (1: the export check failed, 2: bad input)."""
    parser = argparse.ArgumentParser(prog="python -m chalicelib.classifier", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    train_parser = commands.add_parser("train", help="train on a CSV (columns text, label) and write the model blob")
    train_parser.add_argument("--train", required=True, type=Path, help="CSV of labelled examples")
    train_parser.add_argument("--out", required=True, type=Path, help="where to write the model blob (.npz)")
    train_parser.add_argument("--version", help="model version (default: a UTC timestamp)")
    train_parser.add_argument("--seed", type=int, default=0)
    train_parser.add_argument("--no-embeddings", action="store_true", help="TF-IDF only, no sentence encoder")
    evaluate_parser = commands.add_parser("evaluate", help="train on one CSV, report scores on another")
    evaluate_parser.add_argument("--train", required=True, type=Path, help="CSV of training examples")
    evaluate_parser.add_argument("--test", required=True, type=Path, help="CSV of test examples")
    evaluate_parser.add_argument("--threshold", type=_probability, help="auto-route threshold (default: the model's)")
    evaluate_parser.add_argument("--seed", type=int, default=0)
    evaluate_parser.add_argument("--no-embeddings", action="store_true", help="TF-IDF only, no sentence encoder")
    args = parser.parse_args(argv)
    try:
        if args.command == "train":
            return train_command(
                args.train, args.out, version=args.version, seed=args.seed, embeddings=not args.no_embeddings
            )
        return evaluate_command(
            args.train, args.test, threshold=args.threshold, seed=args.seed, embeddings=not args.no_embeddings
        )
    except (ExampleError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _probability(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("a threshold is a probability between 0 and 1")
    return value


def train_command(
    train_csv: Path, out: Path, *, version: str | None = None, seed: int = 0, embeddings: bool = True
) -> int:
    """Train on a CSV and write the serving blob."""
    examples = read_examples(train_csv)
    trained = training.train(examples, seed=seed, config=training.TrainingConfig(embeddings=embeddings))
    model = training.export(trained, version or datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"))
    blob = model.to_bytes()
    out.write_bytes(blob)
    report = trained.report
    print(f"wrote {out} ({len(blob):,} bytes), version {model.version}")
    print(f"{report.n_examples} examples, labels: {', '.join(model.labels)}")
    chosen = report.chosen
    print(f"C={chosen.c:g}, char min_df={chosen.char_min_df}, cross-validated accuracy {_pct(chosen.accuracy)}")
    print(f"threshold {model.threshold:.2f} ({report.threshold_rule})")
    return 0


def evaluate_command(
    train_csv: Path, test_csv: Path, *, threshold: float | None = None, seed: int = 0, embeddings: bool = True
) -> int:
    """Train on one CSV, evaluate the exported numpy model on another and print a plain-text report."""
    train_examples = read_examples(train_csv)
    test_examples = read_examples(test_csv)
    test_texts = [text for text, _ in test_examples]
    config = training.TrainingConfig(embeddings=embeddings)
    cache: dict = {}
    encoder = training.CachingEncoder(training.load_encoder(), cache) if embeddings else None

    started = time.perf_counter()
    trained = training.train(train_examples, seed=seed, config=config, encoder=encoder, cache=cache)
    training_seconds = time.perf_counter() - started
    blob = training.export(trained, "evaluate").to_bytes()
    started = time.perf_counter()
    model = serving.Model.from_bytes(blob, encoder=encoder)
    load_ms = (time.perf_counter() - started) * 1000
    check = training.check_export(trained, model, test_texts, tolerance=1e-5)
    result = training.evaluate(model, test_examples, threshold=threshold)
    timings = _prediction_microseconds(model, test_texts)

    few = training.per_label_sample(train_examples, FEW_SHOT, seed=seed)
    few_trained = training.train(few, seed=seed, config=config, encoder=encoder, cache=cache)
    few_model = training.export(few_trained, "few-shot")
    few_result = training.evaluate(few_model, test_examples)

    report = trained.report
    unknown = sorted({label for _, label in test_examples} - set(model.labels))
    chosen = report.chosen
    rows = [
        ("training examples", f"{len(train_examples)} ({_counts(train_examples)})"),
        ("test examples", f"{len(test_examples)} ({_counts(test_examples)})"),
        ("labels", f"{len(model.labels)}: {', '.join(model.labels)}"),
        (
            "model",
            ("MiniLM-L6 embedding + " if report.embeddings else "")
            + f"word 1-2 + char_wb 2-5 TF-IDF, multinomial logistic head C={chosen.c:g}, "
            f"char min_df={chosen.char_min_df}, temperature {1 / report.inverse_temperature:.3f}",
        ),
        ("features", f"{sum(block.n_features for block in model.features):,}"),
        ("cross-validated accuracy", f"{_pct(chosen.accuracy)} ({report.folds}-fold on the training examples)"),
        ("accuracy", _pct(result.accuracy)),
        ("macro-F1", f"{result.macro_f1:.3f}"),
        ("threshold", f"{result.threshold:.2f}" + ("" if threshold is not None else f" ({report.threshold_rule})")),
        ("coverage (auto-routed)", f"{_pct(result.coverage)} ({result.routed}/{result.n_examples})"),
        ("accuracy of auto-routed", _pct(result.auto_accuracy)),
        (
            "auto-routed accuracy at >= 80 % coverage",
            "n/a"
            if result.at_coverage is None
            else f"{_pct(result.at_coverage.accuracy)} (coverage {_pct(result.at_coverage.coverage)}, "
            f"threshold {result.at_coverage.threshold:.3f})",
        ),
        (f"accuracy, {FEW_SHOT} examples per label", f"{_pct(few_result.accuracy)} (trained on {len(few)})"),
        (
            "prediction time (numpy, per issue)",
            f"median {statistics.median(timings):.0f} µs, max {max(timings):.0f} µs over {len(timings)} issues",
        ),
        ("model load time (from_bytes)", f"{load_ms:.1f} ms"),
        ("model size (to_bytes)", f"{len(blob):,} bytes"),
        (
            "training time",
            f"{training_seconds:.1f} s ("
            + ", ".join(f"{name} {value:.1f} s" for name, value in report.seconds.items() if name != "total")
            + ")",
        ),
    ]
    width = max(len(name) for name, _ in rows)
    print("Classifier evaluation")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    if unknown:
        print(f"  warning: test labels unknown to the model: {', '.join(unknown)}")
    print()
    print(
        f"Per label on the test set at threshold {result.threshold:.2f} (recall: share of the type's issues predicted"
        " right; coverage: share auto-routed; precision: share of issues auto-routed to the type that were of it)"
    )
    print(f"  {'':<{width}}  {'recall':>8}  {'coverage':>8}  {'precision':>9}")
    scores = {s.label: s for s in result.per_label}
    for label, recall in _recalls(model, test_examples):
        own = scores[label]
        precision = f"{_pct(own.precision)} of {own.routed_to}"
        print(f"  {label:<{width}}  {_pct(recall):>8}  {_pct(own.coverage):>8}  {precision:>9}")
    print()
    print(f"Threshold table ({report.folds}-fold cross-validation on the training examples)")
    print(f"  {'threshold':>9}  {'coverage':>8}  {'accuracy':>8}  {'routed':>9}")
    shown = {row.threshold for row in report.threshold_table}
    if report.threshold not in shown:
        print(f"  (the default, {report.threshold:.2f}, was chosen on a 0.01 grid between these rows)")
    for row in report.threshold_table:
        marker = "  <- default" if row.threshold == report.threshold else ""
        routed = f"{row.routed}/{row.total}"
        print(f"  {row.threshold:>9.2f}  {_pct(row.coverage):>8}  {_pct(row.accuracy):>8}  {routed:>9}{marker}")
    print()
    print(
        f"export check: identical on {check.identical}/{check.total} "
        f"(max |p_numpy - p_sklearn| = {check.max_abs_difference:.1e}, tolerance {check.tolerance:.0e})"
    )
    return 0 if check.ok else 1


def _prediction_microseconds(model: serving.Model, texts: Sequence[str]) -> list[float]:
    if texts:
        model.predict(texts[0])
    timings = []
    for text in texts:
        started = time.perf_counter_ns()
        model.predict(text)
        timings.append((time.perf_counter_ns() - started) / 1000)
    return timings or [0.0]


def _recalls(model: serving.Model, examples: Sequence[Example]) -> list[tuple[str, float | None]]:
    predictions = model.predict_many([text for text, _ in examples])
    result = []
    for label in sorted({label for _, label in examples}):
        hits = [p.label == label for p, (_, truth) in zip(predictions, examples, strict=True) if truth == label]
        result.append((label, sum(hits) / len(hits)))
    return result


def _counts(examples: Sequence[Example]) -> str:
    counts: dict[str, int] = {}
    for _, label in examples:
        counts[label] = counts.get(label, 0) + 1
    if len(set(counts.values())) == 1:
        return f"{len(counts)} labels x {next(iter(counts.values()))}"
    return f"{len(counts)} labels, {min(counts.values())}-{max(counts.values())} each"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f} %"


if __name__ == "__main__":
    sys.exit(main())
