import re
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.mail.messages import DeliveryReport, InboundEmail, UnparseableEmail, parse_email

MAIL = Path(__file__).parent.parent / "fixtures" / "mail"
CORPUS = sorted(MAIL.glob("*.eml"))
OUR_ID = "cf.01HR3K9V6QW2E8N5Y7T4M1XZ0B@caseflow.test"
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def load(name: str) -> InboundEmail:
    return parse_email((MAIL / name).read_bytes())


def assert_well_formed(email: InboundEmail) -> None:
    """What every parsed message promises, whatever the input."""
    for address in (email.sender, *email.to, *email.cc, email.reply_to or "", email.return_path or ""):
        assert address == address.lower()
    for message_id in (email.message_id or "x", *email.in_reply_to, *email.references, *email.embedded_message_ids):
        assert message_id and "<" not in message_id and ">" not in message_id
    assert email.date is None or email.date.tzinfo is not None
    assert email.new_text == email.new_text.rstrip()
    for attachment in email.attachments:
        assert attachment.size == len(attachment.content)
        assert attachment.filename and "/" not in attachment.filename and "\\" not in attachment.filename
    if email.html_only:
        assert not re.search(r"<[A-Za-z/!?]", email.text)
    assert set(email.headers) <= {
        "auto-submitted", "precedence", "x-auto-response-suppress", "x-loop", "list-id", "list-unsubscribe",
        "x-autoreply", "x-autorespond", "x-failed-recipients",
    }  # fmt: skip


# --- the whole corpus -----------------------------------------------------------------------------


def test_the_corpus_has_the_shapes_we_rely_on():
    assert len(CORPUS) >= 35


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_every_corpus_message_parses_or_is_refused_as_unparseable(path):
    try:
        email = parse_email(path.read_bytes())
    except UnparseableEmail:
        return
    assert_well_formed(email)


# --- charsets -------------------------------------------------------------------------------------


def test_plain_ascii_message():
    email = load("plain-ascii.eml")
    assert email.sender == "maria.lopez@example.com"
    assert email.sender_name == "Maria Lopez"
    assert email.return_path == "maria.lopez@example.com"
    assert email.to == ("support@caseflow.test",)
    assert email.subject == "Rude staff at the Riverside store"
    assert email.message_id == "20240304091205.4411@mail.example.com"
    assert email.date == datetime(2024, 3, 4, 9, 12, 5, tzinfo=UTC)
    assert email.text.startswith("Hello,\n\nI was at your Riverside store on Saturday")
    assert email.text.endswith("Thanks,\nMaria")
    assert email.new_text == email.text
    assert email.content_type == "text/plain"
    assert (email.attachments, email.report, email.html_only, dict(email.headers)) == ((), None, False, {})


def test_utf8_quoted_printable_body_is_decoded_across_soft_line_breaks():
    email = load("utf8-quoted-printable.eml")
    assert email.sender_name == "Jürgen Weiß"
    assert email.subject == "Paket seit zwei Wochen unterwegs"
    assert "seit zwei Wochen unterwegs. Die Sendungsverfolgung zeigt seit dem 28. Februar „In Zustellung“ an. 📦" in (
        email.text
    )
    assert "Ich habe 49,90 € bezahlt und hätte gern eine Rückmeldung." in email.text
    assert "=C3" not in email.text and "=\n" not in email.text


def test_iso_8859_1_body():
    email = load("iso-8859-1-body.eml")
    assert email.sender_name == "François Lefèvre"
    assert email.subject == "Vase cassé à la livraison"
    assert "J'ai reçu ma commande hier mais le vase était cassé." in email.text
    assert email.text.endswith("François Lefèvre")


def test_windows_1252_body_keeps_euro_sign_and_smart_quotes():
    email = load("windows-1252-body.eml")
    assert "Hi – I was charged €120 twice for the “premium” plan… can you refund one?" in email.text
    assert "It’s on the statement dated 1 March." in email.text


def test_iso_2022_jp_japanese():
    email = load("iso-2022-jp-japanese.eml")
    assert email.subject == "配送の遅れについて"
    assert email.sender_name == "山田 太郎"
    assert "先週注文した商品がまだ届いていません。\n注文番号は JP-20240301 です。" in email.text


def test_shift_jis_japanese_with_windows_extensions():
    email = load("shift-jis-japanese.eml")
    assert email.subject == "請求金額の誤り"
    assert "①　基本料金\n②　送料" in email.text
    assert "\ufffd" not in email.text


def test_koi8_r_russian():
    email = load("koi8-r-russian.eml")
    assert email.subject == "Повреждённый заказ"
    assert email.sender_name == "Иван Петров"
    assert "Мой заказ пришёл повреждённым. Коробка была мокрая." in email.text


def test_encoded_words_in_mixed_charsets_and_encodings():
    email = load("encoded-words-mixed.eml")
    assert email.subject == "Rückerstattung für Bestellung 7781 срочно"
    assert email.sender_name == "Müller, Jürgen"
    assert email.sender == "j.mueller@example.de"
    assert email.cc == ("asa.oberg@example.se", "olga@example.ru")


# --- HTML and MIME structure ----------------------------------------------------------------------


def test_html_only_message_becomes_safe_readable_text():
    email = load("html-only.eml")
    assert email.html_only
    assert email.content_type == "text/html"
    for hidden in ("HIDDEN", "alert", "stealCookies", "onclick", "javascript", "cookie", "&amp;", "&eacute;"):
        assert hidden not in email.text
    assert not re.search(r"<[A-Za-z/!?]", email.text)
    for shown in (
        "Dear Caseflow team,",
        "The delivery driver left my parcel in the rain & it's ruined.",
        "Café table € 89 — details below.",
        "Item | Price\nOak café table | €89.00",
        "- Photos will follow\n- Order A-3381",
        "Tracking: track my parcel (https://track.example.com/A-3381) or click here.",
        "Write to olivia.brown@example.org.",
        "I typed < script>this< /script> literally, and 1 < 2.",
        "> Your order A-3381 has been delivered to: front door.",
    ):
        assert shown in email.text
    assert "has been delivered" not in email.new_text
    assert email.new_text.endswith("and 1 < 2.")


def test_multipart_alternative_prefers_the_plain_text():
    email = load("multipart-alternative.eml")
    assert email.text == "Plain version: I ordered size M and received size XL."
    assert not email.html_only
    assert email.attachments == ()


def test_attachments_with_rfc2231_name_path_and_no_name():
    email = load("attachment-pdf-rfc2231.eml")
    assert [(a.filename, a.content_type, a.size, a.inline) for a in email.attachments] == [
        ("Rechnung März 2024.pdf", "application/pdf", 148, False),
        ("receipt photo.jpg", "image/jpeg", 278, False),
        ("attachment-3.bin", "application/octet-stream", 12, False),
    ]
    pdf = email.attachments[0].content
    assert pdf.startswith(b"%PDF-1.4\n") and pdf.endswith(b"%%EOF\n")
    assert email.attachments[2].content == b"opaque bytes"
    assert email.text == (
        "The invoice I received lists two delivery fees. The invoice and a photo of the receipt are attached.\n\nAna"
    )


def test_related_inline_image_is_an_inline_attachment_with_its_content_id():
    email = load("related-inline-image.eml")
    [image] = email.attachments
    assert (image.filename, image.content_type, image.content_id, image.inline) == (
        "attachment-1.png",
        "image/png",
        "dent-7f3a@example.org",
        True,
    )
    assert image.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert email.html_only
    assert email.text == "The lid was dented when it arrived:\n\n[image: Photo of the dented lid]"


# --- replies and forwards -------------------------------------------------------------------------


def test_english_reply_separates_new_text_from_quote_and_signature():
    email = load("reply-english-quoted.eml")
    assert email.new_text == (
        "Thanks for getting back to me. The receipt number is 0042-118.\n\n"
        "I can come to the store on Thursday if that helps.\n\nMaria"
    )
    assert "Your reference is CF-7K3Q9." in email.text
    assert email.in_reply_to == (OUR_ID,)
    assert email.references == (OUR_ID,)
    assert email.subject == "Re: [CF-7K3Q9] We received your report"


def test_german_outlook_reply():
    email = load("reply-outlook-german.eml")
    assert email.subject == "AW: [CF-9RW2H] Ihre Meldung"
    assert email.sender_name == "Petra Schäfer"
    assert email.new_text == (
        "Hallo,\n\nanbei die gewünschten Angaben: Filiale Hamburg-Altona, Kasse 3, ca. 14:30 Uhr.\n\n"
        "Mit freundlichen Grüßen\nPetra Schäfer"
    )
    assert "bitte nennen Sie uns Filiale und Uhrzeit." in email.text


def test_swedish_outlook_reply():
    email = load("reply-swedish-sv.eml")
    assert email.subject == "SV: [CF-6PD5N] Vi har tagit emot ditt ärende"
    assert email.new_text == "Hej!\n\nPaketet kom fram i går, men två glas var trasiga.\n\nMed vänliga hälsningar\nAnna"


def test_finnish_reply_with_wrapped_attribution():
    email = load("reply-finnish-vs.eml")
    assert email.subject.startswith("VS: [CF-4MX8T]")
    assert email.new_text == "Kiitos vastauksesta. Laskun numero on 2024-0311.\n\nTerveisin\nMatti"


def test_inline_forward_keeps_the_note_as_new_text():
    email = load("forwarded-inline.eml")
    assert email.subject == "Fwd: Your order has shipped"
    assert email.new_text == "Hi, see below - this says delivered but nothing arrived."
    assert "Your order B-55120 has shipped and will arrive by Monday 4 March." in email.text
    assert email.embedded_message_ids == ()


def test_forward_as_attachment_is_an_eml_named_after_its_subject():
    email = load("forwarded-rfc822-attachment.eml")
    assert email.subject == "WG: Lieferung verspätet"
    assert email.text == "Siehe unten, bitte prüfen."
    [forwarded] = email.attachments
    assert (forwarded.filename, forwarded.content_type) == ("Lieferung verspätet.eml", "message/rfc822")
    assert email.embedded_message_ids == ("lager.20240301.8841@example.de",)
    original = parse_email(forwarded.content)
    assert original.message_id == "lager.20240301.8841@example.de"
    assert original.text == "Ihre Lieferung verspätet sich um drei Tage."


# --- automatic mail -------------------------------------------------------------------------------


def test_out_of_office_auto_reply_headers():
    email = load("auto-reply-out-of-office.eml")
    assert email.subject.startswith("Out of Office:")
    assert email.headers == {"auto-submitted": "auto-replied", "x-autoreply": "yes"}


def test_exchange_out_of_office():
    email = load("auto-reply-exchange-abwesenheitsnotiz.eml")
    assert email.subject.startswith("Abwesenheitsnotiz:")
    assert email.headers["x-auto-response-suppress"] == "All"
    assert email.headers["auto-submitted"] == "auto-generated"
    assert email.text == "Ich bin bis einschließlich 8. März nicht im Büro."


def test_mailing_list_headers():
    email = load("mailing-list.eml")
    assert email.headers["precedence"] == "list"
    assert email.headers["list-id"] == "Garden Club Newsletter <newsletter.garden.example.org>"
    assert "https://garden.example.org/unsubscribe?u=42" in email.headers["list-unsubscribe"]


def test_delivery_status_notification():
    email = load("bounce-dsn.eml")
    original = "cf.01HR3M2B8XK4TQ9W6E5N7Y3C1D@caseflow.test"
    assert email.return_path == ""
    assert email.sender == "mailer-daemon@mx.caseflow.test"
    assert email.content_type == "multipart/report"
    assert email.report == DeliveryReport(
        failed_recipients=("customer@example.com",), action="failed", status="5.1.1", original_message_id=original
    )
    assert email.embedded_message_ids == (original,)
    assert "User unknown in local" in email.text
    assert email.attachments == ()


def test_bounce_without_a_report_still_names_the_original_message():
    email = load("bounce-non-dsn.eml")
    assert email.report is None
    assert email.return_path == ""
    assert email.embedded_message_ids == ("cf.01HR4A7C2M9K5V8B3N6X4Q1W2E@caseflow.test",)
    assert "Sorry, no mailbox here by that name." in email.new_text


def dsn(status_block: str, original: str) -> bytes:
    return (
        "From: MAILER-DAEMON@mx.example.org\r\nTo: support@caseflow.test\r\nSubject: Delivery failure\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n"
        "--r\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        f"--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n{status_block}"
        f"--r\r\n{original}--r--\r\n"
    ).encode()


def test_report_with_the_whole_original_message_and_no_action():
    raw = dsn(
        "Original-Recipient: rfc822;<Lost@Example.org>\r\nStatus: 5.0.0 (permanent failure)\r\n\r\n",
        "Content-Type: message/rfc822\r\n\r\nFrom: support@caseflow.test\r\nSubject: Your report\r\n"
        "Message-ID: <cf.01HR9@caseflow.test>\r\n\r\nHello\r\n",
    )
    email = parse_email(raw)
    assert email.report == DeliveryReport(("lost@example.org",), "", "5.0.0", "cf.01HR9@caseflow.test")
    assert [(a.filename, a.content_type) for a in email.attachments] == [("Your report.eml", "message/rfc822")]
    assert email.embedded_message_ids == ("cf.01HR9@caseflow.test",)
    assert email.text == "Delivery failed."


def test_report_of_a_delayed_delivery_has_no_failed_recipient():
    raw = dsn("Final-Recipient: rfc822; slow@example.org\r\nAction: delayed\r\nStatus: 4.4.7\r\n\r\n", "\r\n")
    assert parse_email(raw).report == DeliveryReport((), "delayed", "4.4.7", None)


# --- malformed input ------------------------------------------------------------------------------


def test_missing_closing_boundary_keeps_text_and_attachment():
    email = load("malformed-missing-closing-boundary.eml")
    assert email.text == "My order arrived without the charger."
    assert [a.filename for a in email.attachments] == ["order.pdf"]
    assert email.attachments[0].content.startswith(b"%PDF-1.4")


def test_boundary_declared_but_never_used_keeps_the_body_as_text():
    assert load("malformed-unused-boundary.eml").text == "The charger is still missing, please send it."


def test_unknown_charsets_fall_back_to_utf8_then_latin1():
    assert load("malformed-unknown-charset.eml").text == "Grüße aus Köln.\n\nLe café était froid."


def test_invalid_base64_keeps_what_decodes():
    email = load("malformed-invalid-base64.eml")
    [receipt] = email.attachments
    assert receipt.filename == "receipt.pdf"
    assert receipt.content.startswith(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj")
    assert email.text == "Receipt attached."


def test_8bit_header_bytes_without_encoded_words():
    email = load("malformed-8bit-header.eml")
    assert email.subject == "Beschwerde über die Lieferung"
    assert email.sender_name == "Jürgen Groß"
    assert email.text == "Die Lieferung kam zu spät."


def test_bare_lf_line_endings():
    email = load("malformed-bare-lf.eml")
    assert email.text == "First line.\nSecond line."
    assert email.subject == "Bare line feeds"


def test_broken_headers_degrade_instead_of_failing():
    email = load("malformed-broken-headers.eml")
    assert email.text == "Body text survives broken headers."
    assert email.sender == "broken@example.com"
    assert email.to == ("support@caseflow.test",)
    assert email.date is None
    assert email.message_id == "no-brackets-here@example.com"
    assert email.in_reply_to == ()


def test_bytes_without_a_header_block_are_unparseable():
    with pytest.raises(UnparseableEmail):
        load("unparseable-no-headers.eml")


@pytest.mark.parametrize(
    "raw", [b"", b"   \r\n\r\n", b"X-Custom: only an unknown header\r\n\r\nbody", b"\x00\x01\x02", "not bytes"]
)
def test_unreadable_input_raises_unparseable_email(raw):
    with pytest.raises(UnparseableEmail):
        parse_email(raw)


# --- header shapes --------------------------------------------------------------------------------


def test_message_without_message_id():
    assert load("no-message-id.eml").message_id is None


def test_message_without_from():
    email = load("no-from.eml")
    assert (email.sender, email.sender_name, email.return_path) == ("", "", None)
    assert email.text == "There is no From header on this one."


def test_message_without_a_body():
    email = load("no-body.eml")
    assert (email.text, email.new_text, email.attachments) == ("", "", ())
    assert email.subject == "Order 7731 missing"


def test_threading_headers_folded_with_junk():
    email = load("threading-headers.eml")
    assert email.message_id == "CAB7x9q2mZq@mail.example.com"
    assert email.in_reply_to == ("cf.01HR8Z1Y2X3W4V5T6S7R8Q9P0N@caseflow.test",)
    assert email.references == (
        OUR_ID,
        "CAB7x9q2mZp@mail.example.com",
        "cf.01HR6A1B2C3D4E5F6G7H8J9K0M@caseflow.test",
        "cf.01HR8Z1Y2X3W4V5T6S7R8Q9P0N@caseflow.test",
    )


def test_a_quoted_reference_in_the_subject_adds_no_threading():
    email = load("spoofed-reference.eml")
    assert email.subject == "Re: Your report CF-7K3Q9"
    assert email.sender == "stranger@example.net"
    assert (email.in_reply_to, email.references, email.embedded_message_ids) == ((), (), ())


def test_display_names_with_commas_and_quotes():
    email = load("from-display-name-comma-quotes.eml")
    assert email.sender_name == 'O\'Brien, Siobhan "Shiv"'
    assert email.sender == "siobhan.obrien@example.ie"
    assert email.reply_to == "accounts@example.ie"
    assert email.to == ("support@caseflow.test", "john.doe@example.com")


def test_date_without_zone_is_read_as_utc_and_garbage_as_none():
    raw = b"From: a@example.com\r\nDate: Mon, 4 Mar 2024 10:00:00 -0000\r\n\r\nx"
    assert parse_email(raw).date == datetime(2024, 3, 4, 10, 0, tzinfo=UTC)
    raw = b"From: a@example.com\r\nDate: Mon, 4 Mar 2024 10:00:00 +0530\r\n\r\nx"
    assert parse_email(raw).date.utcoffset() == timedelta(hours=5, minutes=30)
    assert parse_email(b"From: a@example.com\r\nDate: 99 Foo 20240\r\n\r\nx").date is None


def test_mbox_from_line_and_bytearray_are_accepted():
    raw = bytearray(b"From someone@example.com Mon Mar  4 10:00:00 2024\nFrom: Someone@Example.com\n\nHello\n")
    email = parse_email(raw)
    assert (email.sender, email.text) == ("someone@example.com", "Hello")


def test_filenames_lose_their_path_and_hidden_dots():
    raw = (
        b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
        b"Content-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Disposition: attachment; filename*=utf-8''..%2F..%2F.ssh%2Fauthorized_keys\r\n\r\nkey\r\n"
        b"--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"..\"\r\n\r\nnotes\r\n--b--\r\n"
    )
    email = parse_email(raw)
    assert [a.filename for a in email.attachments] == ["authorized_keys", "attachment-2.txt"]
    assert email.text == "see attached"


def test_html_alternative_is_used_when_the_plain_part_is_empty():
    raw = (
        b"From: a@example.com\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\n"
        b"Content-Type: text/plain\r\n\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n"
        b"<p>Only <i>here</i></p>\r\n--b--\r\n"
    )
    email = parse_email(raw)
    assert (email.text, email.html_only) == ("Only here", True)


def test_a_very_large_body_parses_quickly():
    line = "The parcel arrived late again and the box was open, please look into it.\r\n"
    body = line * 25_000 + "\r\nOn Mon, 4 Mar 2024 at 10:00, Support <support@caseflow.test> wrote:\r\n> old\r\n"
    raw = f"From: big@example.com\r\nSubject: Long\r\nContent-Type: text/plain\r\n\r\n{body}".encode()
    started = time.perf_counter()
    email = parse_email(raw)
    assert time.perf_counter() - started < 3
    assert len(email.text) > 1_800_000
    assert email.new_text.endswith("please look into it.")


def test_a_typical_message_parses_in_a_few_milliseconds():
    raw = (MAIL / "reply-outlook-german.eml").read_bytes()
    parse_email(raw)
    started = time.perf_counter()
    for _ in range(50):
        parse_email(raw)
    assert (time.perf_counter() - started) / 50 < 0.02


# --- properties -----------------------------------------------------------------------------------


def parse_or_refuse(raw: bytes) -> None:
    try:
        email = parse_email(raw)
    except UnparseableEmail:
        return
    assert isinstance(email, InboundEmail)
    assert_well_formed(email)


@PROPERTY
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_parse_or_are_unparseable(raw):
    parse_or_refuse(raw)


HEADERS = st.sampled_from(
    [
        b"From: a@example.com\r\n",
        b"Subject: =?utf-8?q?x?=\r\n",
        b"Content-Type: multipart/mixed; boundary=b\r\n",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n",
        b"Content-Type: text/html; charset=x-unknown\r\n",
        b"Content-Transfer-Encoding: base64\r\n",
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\n",
        b"--b\r\nContent-Type: message/rfc822\r\n\r\n",
        b"--b\r\nContent-Type: text/plain; format=flowed\r\n\r\n",
        b"--b--\r\n",
        b"\r\n",
    ]
)


@PROPERTY
@given(st.lists(st.one_of(HEADERS, st.binary(max_size=40)), max_size=30))
def test_header_shaped_noise_parses_or_is_unparseable(chunks):
    parse_or_refuse(b"".join(chunks))


@PROPERTY
@given(st.sampled_from(CORPUS), st.integers(min_value=0), st.binary(max_size=20), st.integers(0, 200))
def test_damaged_corpus_messages_parse_or_are_unparseable(path, where, insert, cut):
    raw = path.read_bytes()
    at = where % (len(raw) + 1)
    parse_or_refuse(raw[:at] + insert + raw[at + cut :])


def test_timezones_are_kept():
    email = parse_email(b"From: a@example.com\r\nDate: Tue, 5 Mar 2024 10:00:00 +0100\r\n\r\nx")
    assert email.date == datetime(2024, 3, 5, 10, 0, tzinfo=timezone(timedelta(hours=1)))
