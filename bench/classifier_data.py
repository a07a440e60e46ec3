"""A synthetic labelled set of any size, made by augmenting the team's sample, to time training on.

    python -m bench.classifier_data --n 10000 [--labels 6|78] [--out FILE.csv] [--seed 0]

No public intent data set could be obtained through the package registries (the one candidate we
downloaded, `banking-nlu`, ships code and no data), so the training benchmarks run on texts made from
`chalicelib/classifier/data/train.csv`: each synthetic text is a sample text with one to three edits
(a word dropped, two words swapped, a typo, a greeting or closing added, half of another text of the same
label appended). Its accuracy figures mean little (near-duplicates of the sample are easy); its timings
are what it is for. `--labels 78` splits each of the six types by one of thirteen products named in the
text, so that the linear head has as many classes as the public 77-intent benchmark: the multinomial
head's cost grows with the number of classes.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from collections.abc import Sequence
from pathlib import Path

from chalicelib.classifier.examples import Example, read_examples

SAMPLE = Path(__file__).resolve().parents[1] / "chalicelib" / "classifier" / "data" / "train.csv"
OPENINGS = ("Hi,", "Hello,", "Good morning,", "Hey there,", "Dear support,", "Urgent:", "Quick question:", "Hi team,")
CLOSINGS = (
    "Thanks.",
    "Please help.",
    "Thank you in advance!",
    "Can you sort this out?",
    "Regards",
    "This is the second time.",
    "Please reply soon.",
    "Cheers",
)
PRODUCTS = (
    "laptop",
    "phone",
    "sofa",
    "fridge",
    "bicycle",
    "printer",
    "headphones",
    "camera",
    "mattress",
    "kettle",
    "television",
    "vacuum",
    "watch",
)


def synthesise(n: int, *, labels: int = 6, seed: int = 0, sample: Sequence[Example] | None = None) -> list[Example]:
    """`n` distinct labelled texts made from the sample (6 labels, or 78 with `labels=78`)."""
    sample = list(sample if sample is not None else read_examples(SAMPLE))
    rng = random.Random(seed)
    by_label: dict[str, list[str]] = {}
    for text, label in sample:
        by_label.setdefault(label, []).append(text)
    names = sorted(by_label)
    seen: set[str] = set()
    result: list[Example] = []
    attempts = 0
    while len(result) < n:
        attempts += 1
        if attempts > 50 * n:
            raise RuntimeError("could not make enough distinct texts")
        label = names[len(result) % len(names)]
        text = _augment(rng.choice(by_label[label]), by_label[label], rng)
        if labels > len(names):
            product = PRODUCTS[rng.randrange(len(PRODUCTS))]
            text = f"{text} It is about my {product}." if rng.random() < 0.5 else f"My {product}: {text}"
            label = f"{label}--{product}"
        if text not in seen:
            seen.add(text)
            result.append(Example(text, label))
    rng.shuffle(result)
    return result


def _augment(text: str, same_label: list[str], rng: random.Random) -> str:
    words = text.split()
    for _ in range(rng.randint(1, 3)):
        edit = rng.randrange(6)
        if edit == 0 and len(words) > 4:
            del words[rng.randrange(len(words))]
        elif edit == 1 and len(words) > 2:
            i = rng.randrange(len(words) - 1)
            words[i], words[i + 1] = words[i + 1], words[i]
        elif edit == 2:
            i = rng.randrange(len(words))
            word = words[i]
            if len(word) > 3:
                j = rng.randrange(len(word) - 1)
                words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
        elif edit == 3:
            words.insert(0, rng.choice(OPENINGS))
        elif edit == 4:
            words.append(rng.choice(CLOSINGS))
        else:
            other = rng.choice(same_label).split()
            words.extend(other[len(other) // 2 :])
    return " ".join(words)


def write_csv(examples: Sequence[Example], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(examples)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--labels", type=int, default=6, choices=(6, 78))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    write_csv(synthesise(args.n, labels=args.labels, seed=args.seed), args.out)
    print(f"wrote {args.n} examples to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
