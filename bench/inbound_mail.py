"""Inbound mail throughput: messages per second through the SES handler, on moto in-process.

    python -m bench.inbound_mail [--messages N]

Each shape is delivered N times as SES would deliver it (raw message stored in S3, then the
handler invoked with the receipt event): new issues, replies threaded by address, second
deliveries of the same message, and the team's test corpus (every shape it covers). Timings on
these machines are noisy; compare the shapes' rates with each other within one run.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import make_msgid

from harness import ROOT, in_process

CORPUS = ROOT / "tests" / "fixtures" / "mail"
SUPPORT = "support@caseflow.test"


def _message(sender: str, subject: str, body: str, to: str = SUPPORT) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.com")
    message.set_content(body)
    return message.as_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=40)
    args = parser.parse_args()
    with in_process(stage="bench") as stack:

        def deliver(raw: bytes, ses_id: str | None = None, to: str = SUPPORT) -> dict[str, str]:
            return stack.deliver_email(raw, [to], ses_id)

        opened: list[dict[str, str]] = []

        def new_issue(i: int) -> dict[str, str]:
            received = deliver(_message(f"customer{i}@example.com", f"Question {i}", "Where is my gift card?"))
            opened.append(received)
            return received

        def reply(i: int) -> dict[str, str]:
            reference = opened[i % len(opened)]["reference"]
            raw = _message(f"customer{i}@example.com", "Re: question", "Thanks, one more thing.\n\n> earlier")
            return deliver(raw, to=f"support+{reference}@caseflow.test")

        first = _message("twice@example.com", "Delivered again", "Same message")
        deliver(first, ses_id="bench-duplicate")

        def duplicate(i: int) -> dict[str, str]:
            return deliver(first, ses_id="bench-duplicate")

        corpus = sorted(CORPUS.glob("*.eml"))

        def corpus_message(i: int) -> dict[str, str]:
            return deliver(corpus[i % len(corpus)].read_bytes())

        shapes: list[tuple[str, Callable[[int], dict[str, str]], str]] = [
            ("new issue", new_issue, "opened"),
            ("reply threaded by address", reply, "threaded"),
            ("second delivery", duplicate, "duplicate"),
            (f"test corpus ({len(corpus)} shapes)", corpus_message, ""),
        ]
        print(f"{'shape':<32}{'messages':>10}{'seconds':>10}{'msg/s':>10}{'ms/msg':>10}")
        rates = {}
        for name, send, expected in shapes:
            started = time.perf_counter()
            outcomes = [send(i) for i in range(args.messages)]
            seconds = time.perf_counter() - started
            wrong = [o for o in outcomes if expected and o["outcome"] != expected]
            if wrong:
                raise SystemExit(f"{name}: unexpected outcome {wrong[0]}")
            rates[name] = args.messages / seconds
            print(f"{name:<32}{args.messages:>10}{seconds:>10.2f}{rates[name]:>10.1f}{1000 / rates[name]:>10.1f}")
        print(f"\nA new issue costs {rates['second delivery'] / rates['new issue']:.1f}x a second delivery "
              "(which reads two keys and stops).")


if __name__ == "__main__":
    main()
