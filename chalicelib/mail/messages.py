"""An inbound email as Caseflow reads it: parsed from raw RFC 5322 bytes with the standard library.

Every text is safe plain text: HTML parts are converted, never kept. Attachments carry their bytes
so that the caller can store them; nothing here touches storage.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.header import decode_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from typing import NamedTuple

from chalicelib.domain import free_text
from chalicelib.mail.html_text import html_to_text
from chalicelib.mail.quoted_history import split_quoted


class UnparseableEmail(ValueError):
    """The bytes are not a message Caseflow can read; the reason says why."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    content: bytes = field(repr=False)
    #: Without angle brackets; set for inline images referenced from HTML (cid:...).
    content_id: str | None = None
    inline: bool = False


@dataclass(frozen=True)
class DeliveryReport:
    """What a delivery status notification (multipart/report) says about a failed delivery."""

    #: The addresses that failed, lower-cased (from Final-Recipient / Original-Recipient).
    failed_recipients: tuple[str, ...]
    #: e.g. "failed", "delayed", "delivered"; the first per-recipient Action.
    action: str
    #: e.g. "5.1.1"; the first per-recipient Status.
    status: str
    #: The Message-ID of the message that bounced, when the report includes its headers.
    original_message_id: str | None


@dataclass(frozen=True)
class InboundEmail:
    #: Message-IDs are normalised: no angle brackets, surrounding whitespace removed.
    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    #: The From address, lower-cased; "" when there is none.
    sender: str
    sender_name: str
    reply_to: str | None
    #: "" for a null return path (`<>`), None when the header is absent.
    return_path: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    date: datetime | None
    #: The whole body as plain text (the text/plain part, or the HTML part converted to text).
    text: str
    #: What the sender wrote in this message: `text` without the quoted history.
    new_text: str
    attachments: tuple[Attachment, ...]
    #: Lower-cased header names -> value, for the headers loop protection reads (auto-submitted,
    #: precedence, x-auto-response-suppress, x-loop, list-id, list-unsubscribe, x-autoreply,
    #: x-autorespond, x-failed-recipients).
    headers: Mapping[str, str]
    #: The top-level content type, e.g. "multipart/report".
    content_type: str
    report: DeliveryReport | None = None
    #: True when the message had no text/plain body and its text came from HTML.
    html_only: bool = False
    #: Message-IDs found in embedded original messages (message/rfc822, text/rfc822-headers,
    #: or a forwarded block), e.g. the message a bounce or a forward refers to.
    embedded_message_ids: tuple[str, ...] = ()


def parse_email(raw: bytes) -> InboundEmail:
    """Parse raw message bytes into what Caseflow reads; UnparseableEmail when they are not an email.

    Malformed messages are read with best effort: a broken header degrades to its text, a part in
    an unknown charset is decoded leniently, bad base64 keeps what decodes, a missing boundary
    leaves the body as text. UnparseableEmail is raised only when nothing can be recovered: the
    bytes are empty, or they have no header block with at least one standard message header
    (From, To, Subject, Date, Message-ID, Content-Type, Received, ...).
    """
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise UnparseableEmail("not bytes")
    data = bytes(raw)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    data = data.lstrip(b"\r\n")
    if not data.strip():
        raise UnparseableEmail("empty message")
    try:
        msg = _PARSER.parsebytes(data)
        raw_headers = _raw_headers(msg)
    except MemoryError:
        raise
    except Exception as exc:
        raise UnparseableEmail(f"unreadable message structure ({exc.__class__.__name__})") from exc
    if not raw_headers.keys() & _MESSAGE_HEADERS:
        raise UnparseableEmail("no message header block")
    try:
        return _read(msg, raw_headers)
    except MemoryError:
        raise
    except Exception as exc:  # the last guard: callers rely on UnparseableEmail being the only failure
        raise UnparseableEmail(f"unreadable message ({exc.__class__.__name__})") from exc


_PARSER = BytesParser(policy=policy.default)
_AS_IS = policy.default.clone(refold_source="none")
_MAX_DEPTH = 40

_MESSAGE_HEADERS = frozenset(
    {
        "from", "sender", "to", "cc", "bcc", "subject", "date", "message-id", "in-reply-to", "references",
        "reply-to", "return-path", "received", "mime-version", "content-type", "delivered-to", "x-original-to",
        "resent-from", "resent-to", "auto-submitted", "list-id", "dkim-signature",
    }
)  # fmt: skip
_LOOP_HEADERS = (
    "auto-submitted", "precedence", "x-auto-response-suppress", "x-loop", "list-id", "list-unsubscribe",
    "x-autoreply", "x-autorespond", "x-failed-recipients",
)  # fmt: skip

_ID = re.compile(r"<([^<>\s]+)>")
_ID_LINE = re.compile(r"^[ \t>]*Message-?ID:\s*(?:<([^<>\s]+)>|([^\s<>]+@[^\s<>]+))", re.IGNORECASE | re.MULTILINE)
_SURROGATES = re.compile("[\udc80-\udcff]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FOLD = re.compile(r"\r?\n|\r")
_BASE64_NOISE = re.compile(rb"[^A-Za-z0-9+/]")
_SIMPLE_PARAM = re.compile(r';\s*([^\s=;"]+)\s*=\s*("[^"]*"|[^;]*)')
_PLAUSIBLE_ADDRESS = re.compile(r"[^\s<>]+")
_STATUS_CODE = re.compile(r"\b[245]\.\d{1,3}\.\d{1,3}\b")
_BOUNCE_SENDERS = ("mailer-daemon", "postmaster")
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|delivery (?:status|failure|has failed|notification)|mail delivery failed|returned mail|"
    r"failure notice|unzustellbar|nicht zustellbar|non remis|onbestelbaar|no se puede entregar|"
    r"olevererbart|kan ikke leveres|ei voitu toimittaa",
    re.IGNORECASE,
)
_UNSAFE_FILENAME = re.compile(r'[\x00-\x1f\x7f<>:"|?*]')
_EXTENSIONS = {
    "application/pdf": ".pdf", "application/zip": ".zip", "application/json": ".json", "application/xml": ".xml",
    "application/msword": ".doc", "application/vnd.ms-excel": ".xls",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/pgp-signature": ".asc", "application/pkcs7-signature": ".p7s",
    "image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp", "image/heic": ".heic",
    "image/svg+xml": ".svg", "image/bmp": ".bmp", "image/tiff": ".tif",
    "text/plain": ".txt", "text/html": ".html", "text/csv": ".csv", "text/calendar": ".ics", "text/xml": ".xml",
    "text/rfc822-headers": ".txt", "message/rfc822": ".eml", "message/global": ".eml",
    "audio/mpeg": ".mp3", "video/mp4": ".mp4",
}  # fmt: skip
#: Charset labels mail clients use that Python knows under another name, or better as a superset.
_CHARSET_ALIASES = {
    "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932", "windows-31j": "cp932",
    "ms_kanji": "cp932", "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "euc-cn": "gb18030",
    "ks_c_5601-1987": "cp949", "euc-kr": "cp949", "iso-8859-8-i": "iso8859-8", "tis-620": "cp874",
    "unicode-1-1-utf-7": "utf-7", "utf8": "utf-8", "ansi_x3.4-1968": "ascii", "us-ascii": "ascii",
}  # fmt: skip
_NOT_CHARSETS = frozenset({"idna", "punycode", "unicode_escape", "raw_unicode_escape", "undefined", "mbcs", "oem"})


@dataclass
class _Findings:
    """What a walk through the MIME tree has found so far."""

    #: Body parts in order: ("plain", text) or ("html", markup).
    pieces: list[tuple[str, str]] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    embedded_ids: list[str] = field(default_factory=list)
    status_blocks: list[dict[str, str]] | None = None
    report_original_id: str | None = None
    is_report: bool = False
    _parent: _Findings | None = None

    def branch(self) -> _Findings:
        """A walk that keeps its own body pieces but shares everything else (for alternatives)."""
        return _Findings(attachments=self.attachments, embedded_ids=self.embedded_ids, _parent=self)

    def record_status(self, blocks: list[dict[str, str]]) -> None:
        root = self._root()
        if root.status_blocks is None:
            root.status_blocks = blocks

    def record_report(self, original_id: str | None) -> None:
        root = self._root()
        if not root.is_report:
            root.is_report = True
            root.report_original_id = original_id

    def _root(self) -> _Findings:
        walk = self
        while walk._parent is not None:
            walk = walk._parent
        return walk


def _read(msg: EmailMessage, raw_headers: dict[str, list[str]]) -> InboundEmail:
    walk = _Findings()
    top = _mime(msg)
    _walk(msg, walk, 0, resource=False, mime=top)
    text, html_only = _body_text(walk.pieces)
    new_text, quoted = split_quoted(text)

    senders = _addresses(_decoded(raw_headers, "from"))
    sender_name, sender = senders[0] if senders else ("", "")
    reply_to = _addresses(_decoded(raw_headers, "reply-to"))
    subject = _single_line(_decoded(raw_headers, "subject"))
    message_ids = _ids(raw_headers.get("message-id", []))
    message_id = message_ids[0] if message_ids else None
    return_path = _return_path(raw_headers.get("return-path"))

    report = _report(walk) if walk.is_report else None
    is_bounce = (
        report is not None
        or return_path == ""
        or sender.partition("@")[0] in _BOUNCE_SENDERS
        or bool(_BOUNCE_SUBJECT.search(subject))
    )
    embedded = list(walk.embedded_ids)
    embedded += _ids_in_text(text if is_bounce else quoted)
    embedded_ids = tuple(dict.fromkeys(i for i in embedded if i != message_id))

    headers = {}
    for name in _LOOP_HEADERS:
        if name in raw_headers:
            headers[name] = ", ".join(_decoded(raw_headers, name))
    return InboundEmail(
        message_id=message_id,
        in_reply_to=_ids(raw_headers.get("in-reply-to", [])),
        references=_ids(raw_headers.get("references", [])),
        sender=sender,
        sender_name=free_text.scrub(sender_name, single_line=True),
        reply_to=reply_to[0][1] if reply_to else None,
        return_path=return_path,
        to=_unique(address for _, address in _addresses(_decoded(raw_headers, "to"))),
        cc=_unique(address for _, address in _addresses(_decoded(raw_headers, "cc"))),
        subject=free_text.scrub(subject, single_line=True),
        date=_date(raw_headers.get("date")),
        text=free_text.scrub(text),
        new_text=free_text.scrub(new_text),
        attachments=tuple(walk.attachments),
        headers=headers,
        content_type=top.content_type,
        report=report,
        html_only=html_only,
        embedded_message_ids=embedded_ids,
    )


# -- headers


def _raw_headers(msg: Message) -> dict[str, list[str]]:
    """Header name (lower-cased) -> raw values in order, with 8-bit bytes decoded."""
    found: dict[str, list[str]] = {}
    for name, value in msg.raw_items():
        found.setdefault(str(name).strip().lower(), []).append(_fix_8bit(str(value)))
    return found


def _fix_8bit(text: str) -> str:
    """Decode the raw 8-bit bytes a header or payload carries (as surrogates) as UTF-8, else Windows-1252."""
    if not _SURROGATES.search(text):
        return text
    return _SURROGATES.sub(lambda m: _decode_bytes(m.group().encode("utf-8", "surrogateescape"), None), text)


def _decoded(raw_headers: dict[str, list[str]], name: str) -> list[str]:
    """The header's values as text: encoded words decoded, unfolded, control characters dropped."""
    values = []
    for value in raw_headers.get(name, []):
        unfolded = _FOLD.sub("", value)
        if "=?" not in unfolded:
            text = unfolded
        else:
            try:
                text = str(policy.default.header_factory(name, unfolded))
            except Exception:  # a header the modern parser cannot read still has readable words
                text = _decode_words(unfolded)
        values.append(_CONTROL.sub("", _fix_8bit(text)).replace("\t", " ").strip())
    return values


def _single_line(values: list[str]) -> str:
    """The first value with its runs of whitespace collapsed, "" when there is none."""
    return " ".join(values[0].split()) if values else ""


def _decode_words(value: str) -> str:
    try:
        chunks = decode_header(value)
    except Exception:
        return value
    return "".join(c if isinstance(c, str) else _decode_bytes(c, charset) for c, charset in chunks)


def _addresses(values: list[str]) -> list[tuple[str, str]]:
    """(display name, lower-cased address) pairs; empty addresses are left out."""
    found = []
    for value in values:
        try:
            pairs = getaddresses([value])
        except Exception:
            pairs = []
        pairs = [(name, address) for name, address in pairs if _PLAUSIBLE_ADDRESS.fullmatch(address.strip())]
        if not pairs:
            pairs = [("", address) for address in re.findall(r"[^\s<>(),;:\"']+@[^\s<>(),;:\"']+", value)]
        found += [(" ".join(name.split()), address.strip().lower()) for name, address in pairs]
    return found


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _ids(values: list[str]) -> tuple[str, ...]:
    """Message-IDs without angle brackets, from headers that may hold several, folded or with junk."""
    found = []
    for value in values:
        value = _CONTROL.sub("", value)
        ids = _ID.findall(value)
        if not ids:
            ids = [token.strip("<>,;\"'()") for token in value.split() if "@" in token]
        found += [i for i in ids if i and "<" not in i and ">" not in i]
    return _unique(found)


def _ids_in_text(text: str) -> list[str]:
    if "message" not in text.lower():
        return []
    return [bracketed or bare for bracketed, bare in _ID_LINE.findall(text)]


def _return_path(values: list[str] | None) -> str | None:
    if values is None:
        return None
    value = _FOLD.sub("", values[0]).strip()
    bracketed = re.search(r"<([^<>]*)>", value)
    if bracketed:
        return bracketed.group(1).strip().lower()
    try:
        address = getaddresses([value])[0][1]
    except Exception:
        address = ""
    return (address or value).strip().lower()


def _date(values: list[str] | None) -> datetime | None:
    if not values:
        return None
    try:
        value = parsedate_to_datetime(" ".join(_FOLD.sub(" ", values[0]).split()))
    except Exception:
        return None
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# -- MIME structure


class _Mime(NamedTuple):
    """A part's MIME headers, each parsed once."""

    content_type: str
    params: Mapping[str, str]
    disposition: str | None
    filename: str | None
    content_id: str | None
    encoding: str


def _mime(part: Message) -> _Mime:
    raw: dict[str, str] = {}
    for name, value in part.raw_items():
        raw.setdefault(str(name).strip().lower(), _fix_8bit(_FOLD.sub("", str(value))))
    params = _params("content-type", raw.get("content-type"))
    if "content-type" in raw:
        content_type = raw["content-type"].partition(";")[0].strip().lower()
        if content_type.count("/") != 1 or " " in content_type:
            content_type = "text/plain"
    else:
        content_type = part.get_default_type()
    disposition_params = _params("content-disposition", raw.get("content-disposition"))
    disposition = raw["content-disposition"].partition(";")[0].strip().lower() if "content-disposition" in raw else None
    filename = disposition_params.get("filename") or params.get("name") or None
    if filename and "=?" in filename:
        filename = _decode_words(filename)
    content_id = raw.get("content-id", "").strip()
    bracketed = _ID.search(content_id)
    content_id = bracketed.group(1) if bracketed else content_id.strip("<> ")
    return _Mime(
        content_type=content_type,
        params=params,
        disposition=disposition or None,
        filename=filename,
        content_id=content_id or None,
        encoding=raw.get("content-transfer-encoding", "").strip().lower(),
    )


def _params(name: str, value: str | None) -> dict[str, str]:
    """Parameters of a MIME header, RFC 2231 and encoded words decoded, names lower-cased."""
    if not value or ";" not in value:
        return {}
    if "*" not in value and "=?" not in value and "\\" not in value and value.isascii():
        return {k.lower(): _unquote(v) for k, v in _SIMPLE_PARAM.findall(value)}
    try:
        params = policy.default.header_factory(name, value).params
        return {str(k).lower(): _fix_8bit(str(v)).strip() for k, v in params.items()}
    except Exception:
        return {}


def _unquote(value: str) -> str:
    value = value.strip()
    return value[1:-1] if len(value) > 1 and value[0] == value[-1] == '"' else value.strip('"')


def _children(part: Message) -> list[Message]:
    payload = part.get_payload()
    return [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []


def _walk(part: Message, walk: _Findings, depth: int, *, resource: bool, mime: _Mime | None = None) -> None:
    if depth > _MAX_DEPTH:
        return
    mime = mime or _mime(part)
    maintype, _, subtype = mime.content_type.partition("/")
    if mime.content_type == "message/delivery-status":
        walk.record_status(_status_blocks(part, mime))
        return
    if mime.content_type in ("message/rfc822", "message/global"):
        _attach_message(part, mime, walk)
        return
    if maintype == "message" and part.is_multipart():
        _attach(part, mime, walk, resource=resource, content=_message_bytes(_children(part)))
        return
    if maintype != "multipart" or not part.is_multipart():
        _leaf(part, mime, walk, resource=resource)
        return
    children = _children(part)
    if subtype == "alternative":
        _alternative(children, walk, depth)
    elif subtype == "related" and children:
        start = mime.params.get("start", "").strip("<> ")
        root = next((c for c in children if start and _mime(c).content_id == start), children[0])
        for child in children:
            _walk(child, walk, depth + 1, resource=resource or child is not root)
    elif subtype == "report" and mime.params.get("report-type", "").lower() == "delivery-status":
        before = len(walk.embedded_ids)
        for child in children:
            _walk(child, walk, depth + 1, resource=resource)
        originals = walk.embedded_ids[before:]
        walk.record_report(originals[0] if originals else None)
    else:
        for child in children:
            _walk(child, walk, depth + 1, resource=resource)


def _alternative(children: list[Message], walk: _Findings, depth: int) -> None:
    """Keep the plain-text alternative when it has text, else the richest (last) HTML one."""
    options = []
    for child in children:
        branch = walk.branch()
        _walk(child, branch, depth + 1, resource=False)
        options.append(branch.pieces)
    filled = [o for o in options if any(text.strip() for _, text in o)]
    plain = next((o for o in filled if any(kind == "plain" and text.strip() for kind, text in o)), None)
    chosen = plain or (filled[-1] if filled else [])
    walk.pieces.extend(chosen)


def _leaf(part: Message, mime: _Mime, walk: _Findings, *, resource: bool) -> None:
    content_type = mime.content_type
    is_body_type = content_type in ("text/plain", "text/html") or content_type.startswith("multipart/")
    if is_body_type and not resource and mime.disposition != "attachment" and not mime.filename:
        kind = "html" if content_type == "text/html" else "plain"
        walk.pieces.append((kind, _part_text(part, mime, flowed=kind == "plain")))
        return
    if content_type == "text/rfc822-headers":
        walk.embedded_ids.extend(_ids_in_text(_part_text(part, mime))[:1])
        return
    _attach(part, mime, walk, resource=resource)


def _attach(
    part: Message, mime: _Mime, walk: _Findings, *, resource: bool, content: bytes | None = None, name: str = ""
) -> None:
    if content is None:
        content = _payload_bytes(part, mime)
    filename = _safe_filename(name or mime.filename or "")
    if not filename:
        filename = f"attachment-{len(walk.attachments) + 1}{_EXTENSIONS.get(mime.content_type, '.bin')}"
    inline = mime.disposition == "inline" or (mime.disposition is None and (resource or mime.content_id is not None))
    walk.attachments.append(
        Attachment(
            filename=filename,
            content_type=mime.content_type,
            size=len(content),
            content=content,
            content_id=mime.content_id,
            inline=inline,
        )
    )


def _attach_message(part: Message, mime: _Mime, walk: _Findings) -> None:
    """An embedded message: kept as a .eml attachment named after its subject, its id recorded."""
    inner = _children(part)
    if inner:
        content = _message_bytes(inner)
        headers = _raw_headers(inner[0])
    else:
        content = _payload_bytes(part, mime)
        try:
            headers = _raw_headers(_PARSER.parsebytes(content, headersonly=True))
        except Exception:
            headers = {}
    walk.embedded_ids.extend(_ids(headers.get("message-id", []))[:1])
    subject = _single_line(_decoded(headers, "subject"))
    stem = _safe_filename(subject)[:100].strip(" .")
    _attach(part, mime, walk, resource=False, content=content, name=f"{stem}.eml" if stem else "")


def _message_bytes(messages: list[Message]) -> bytes:
    chunks = []
    for message in messages:
        try:
            chunks.append(message.as_bytes(policy=_AS_IS))
        except Exception:
            try:
                chunks.append(str(message).encode("utf-8", "surrogateescape"))
            except Exception:
                continue
    return b"".join(chunks)


def _safe_filename(name: str) -> str:
    """The last path component, without control or reserved characters, hidden-file dots or excess length."""
    name = " ".join(_CONTROL.sub("", name).split())
    name = re.split(r"[/\\]", name)[-1]
    name = _UNSAFE_FILENAME.sub("_", name).strip(" .")
    if len(name) > 200:
        stem, dot, extension = name.rpartition(".")
        extension = extension[:20] if dot else ""
        name = f"{stem[: 200 - len(extension) - 1]}.{extension}" if extension else name[:200]
    return name


# -- payloads


def _payload_bytes(part: Message, mime: _Mime) -> bytes:
    """The decoded payload; bad base64 keeps what decodes, an unknown encoding keeps the raw bytes."""
    try:
        payload = part.get_payload()
    except Exception:
        return b""
    if isinstance(payload, list):
        return _message_bytes([p for p in payload if isinstance(p, Message)])
    payload = str(payload)
    if mime.encoding == "base64":
        return _base64(payload.encode("utf-8", "surrogateescape"))
    if payload.isascii() and mime.encoding in ("", "7bit", "8bit", "binary", "quoted-printable"):
        raw = payload.encode("ascii")
        return binascii.a2b_qp(raw) if mime.encoding == "quoted-printable" else raw
    try:
        decoded = part.get_payload(decode=True)
    except Exception:
        decoded = None
    return decoded if isinstance(decoded, bytes) else payload.encode("utf-8", "surrogateescape")


def _base64(raw: bytes) -> bytes:
    data = _BASE64_NOISE.sub(b"", raw)
    extra = len(data) % 4
    if extra == 1:
        data = data[:-1]
    elif extra:
        data += b"=" * (4 - extra)
    try:
        return base64.b64decode(data)
    except binascii.Error:
        return raw


def _codec(charset: str | None) -> str | None:
    """The Python codec for a charset label, or None when unknown or not a text encoding."""
    if not charset:
        return None
    label = charset.strip().strip("\"'").lower()
    label = _CHARSET_ALIASES.get(label, label)
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError, TypeError):
        return None
    if info.name in _NOT_CHARSETS or not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


def _decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode with the declared charset; an unknown or wrong one falls back to UTF-8, then Windows-1252/Latin-1."""
    codec = _codec(charset)
    if codec is not None and codec not in ("ascii", "latin-1", "iso8859-1", "cp1252"):
        try:
            return data.decode(codec)
        except Exception:
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError:
                pass
            try:
                return data.decode(codec, errors="replace")
            except Exception:
                return data.decode("latin-1")
    if codec not in ("latin-1", "iso8859-1", "cp1252"):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _part_text(part: Message, mime: _Mime, *, flowed: bool = False) -> str:
    text = _decode_bytes(_payload_bytes(part, mime), mime.params.get("charset"))
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).lstrip("\ufeff")
    if flowed and mime.params.get("format", "").lower() == "flowed":
        text = _unflow(text, delsp=mime.params.get("delsp", "").lower() == "yes")
    return text


def _unflow(text: str, *, delsp: bool) -> str:
    """Join the soft line breaks of format=flowed text (RFC 3676)."""
    out: list[str] = []
    current: list[str] = []
    current_depth = 0

    def finish() -> None:
        if current:
            prefix = ">" * current_depth + " " if current_depth else ""
            out.append(prefix + "".join(current))
            current.clear()

    for line in text.split("\n"):
        stripped = line.lstrip(">")
        depth = len(line) - len(stripped)
        if stripped.startswith(" "):
            stripped = stripped[1:]
        if depth != current_depth:
            finish()
            current_depth = depth
        soft = stripped.endswith(" ") and stripped != "-- "
        current.append(stripped[:-1] if soft and delsp else stripped)
        if not soft:
            finish()
    finish()
    return "\n".join(out)


def _body_text(pieces: list[tuple[str, str]]) -> tuple[str, bool]:
    """The body as plain text, and whether it came from HTML only."""
    has_plain = any(kind == "plain" and text.strip() for kind, text in pieces)
    parts = []
    for kind, text in pieces:
        if kind == "html":
            text = html_to_text(text)
        if text.strip():
            parts.append(text.strip("\n").rstrip())
    body = "\n\n".join(parts).strip()
    return body, bool(body) and not has_plain


# -- delivery status notifications


def _status_blocks(part: Message, mime: _Mime) -> list[dict[str, str]]:
    """The header blocks of a message/delivery-status part: per-message fields, then per recipient."""
    blocks = []
    children = _children(part)
    if children:
        for child in children:
            fields: dict[str, str] = {}
            for name, value in child.raw_items():
                fields.setdefault(str(name).strip().lower(), " ".join(_fix_8bit(str(value)).split()))
            blocks.append(fields)
        return blocks
    for chunk in re.split(r"\n[ \t]*\n", _part_text(part, mime).strip()):
        fields = {}
        name = ""
        for line in chunk.split("\n"):
            if line[:1] in (" ", "\t") and name:
                fields[name] += " " + line.strip()
            elif ":" in line:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                fields.setdefault(name, value.strip())
        if fields:
            blocks.append(fields)
    return blocks


def _report(walk: _Findings) -> DeliveryReport:
    blocks = walk.status_blocks or []
    recipients = [b for b in blocks if "final-recipient" in b or "original-recipient" in b]
    failed = []
    for block in recipients:
        if block.get("action", "").strip().lower() in ("failed", ""):
            value = block.get("final-recipient") or block.get("original-recipient") or ""
            address = value.rpartition(";")[2].strip().strip("<>").strip().lower()
            if address:
                failed.append(address)
    first = recipients[0] if recipients else {}
    status = first.get("status", "").strip()
    code = _STATUS_CODE.search(status)
    return DeliveryReport(
        failed_recipients=_unique(failed),
        action=first.get("action", "").strip().lower(),
        status=code.group() if code else status,
        original_message_id=walk.report_original_id,
    )
