"""Tell what the sender wrote in a message from the history their mail client quoted below it.

Clients mark the start of quoted history in many ways and languages: an attribution line ("On
<date>, <name> wrote:"), an Outlook separator and header block, a forwarded-message marker, or
a trailing block of "> " lines. Agents want the new text first; the history is kept apart.
"""

from __future__ import annotations

import re

_MAX_MARKER = 400

#: Attribution lines that start with a known word and end with a known verb, per language.
_ATTRIBUTION = re.compile(
    r"^(?:"
    r"On\s.*\b(?:wrote|writes|said)"
    r"|Am\s.*\b(?:schrieb|schrieben|geschrieben)\b.*"
    r"|Le\s.*\ba\s+écrit"
    r"|El\s.*\bescribió"
    r"|(?:Em|No\s+dia)\s.*\bescreveu"
    r"|Op\s.*\bschreef\b.*"
    r"|Den\s.*\bskrev\b.*"
    r"|Il\s.*\bha\s+scritto"
    r"|W\s+dniu\s.*\b(?:pisze|napisał|napisała|napisał\(a\))"
    r"|Dne\s.*\bnapsal(?:a|\(a\))?"
    r")\s*:$",
    re.IGNORECASE,
)
#: Words that start a (possibly wrapped) attribution line.
_ATTRIBUTION_START = re.compile(r"^(?:On|Am|Le|El|Em|No\s+dia|Op|Den|Il|W\s+dniu|Dne)\s", re.IGNORECASE)
#: Attribution lines known by their ending only ("<date> <name> kirjoitti:"); they must hold a digit or an "@".
_ATTRIBUTION_END = re.compile(
    r"\b(?:wrote|skrev|kirjoitti|yazdı|написал|написала|написал\(а\)|napisał|napisała|napsal|napsala|escribió|"
    r"escreveu|schreef|schrieb|a\s+écrit|ha\s+scritto|írta)\s*:$|(?:写道|寫道|작성)\s*[:：]$",
    re.IGNORECASE,
)
#: Gmail in languages without a verb: "2024年3月4日(月) 10:15 山田太郎 <taro@example.jp>:".
_ADDRESS_COLON = re.compile(r"<[^<>\s]+@[^<>\s]+>\s*[:：]$")

_ORIGINAL_MESSAGE = re.compile(
    r"^-{2,}\s*(?:original message|original-nachricht|ursprüngliche nachricht|message d['’]origine|"
    r"mensaje original|messaggio originale|oorspronkelijk bericht|originalmeddelande|oprindelig meddelelse|"
    r"original meddelelse|opprinnelig melding|alkuperäinen viesti|wiadomość oryginalna|původní zpráva|"
    r"исходное сообщение|mensagem original|orijinal ileti|eredeti üzenet)\s*-{2,}$",
    re.IGNORECASE,
)
_FORWARDED = re.compile(
    r"^(?:-{2,}\s*(?:forwarded message|forwarded e-?mail|weitergeleitete nachricht|message transféré|"
    r"mensaje reenviado|messaggio inoltrato|mensagem encaminhada|doorgestuurd bericht|"
    r"vidarebefordrat meddelande|videresendt meddelelse|videresendt melding|välitetty viesti|"
    r"edelleenlähetetty viesti|przekazana wiadomość|wiadomość przekazana dalej|přeposlaná zpráva|"
    r"пересылаемое сообщение|iletilen ileti|továbbított üzenet)\s*-{2,}"
    r"|(?:begin forwarded message|anfang der weitergeleiteten nachricht|début du message réexpédié|"
    r"début du message transféré|inicio del mensaje reenviado|comienzo del mensaje reenviado|"
    r"inizio messaggio inoltrato|begin doorgestuurd bericht|början på vidarebefordrat meddelande|"
    r"vidarebefordrat brev|start på videresendt besked|start på videresendt melding|"
    r"välitetty viesti alkaa|początek przekazanej wiadomości)\s*:)$",
    re.IGNORECASE,
)
_UNDERSCORES = re.compile(r"^_{10,}$")
_FROM_FIELD = re.compile(
    r"^\*?(?:from|von|de|från|fra|lähettäjä|van|afzender|da|od|от|kimden|feladó|差出人|发件人|寄件者|보낸 사람)"
    r"\s*:\*?\s*\S",
    re.IGNORECASE,
)
_SENT_FIELD = re.compile(
    r"^\*?(?:sent|date|gesendet|datum|envoyé|enviado|enviada|fecha|inviato|data|verzonden|skickat|sendt|"
    r"lähetetty|päivämäärä|wysłano|odesláno|отправлено|дата|gönderildi|tarih|elküldve|送信日時|发送时间|日期)"
    r"\s*:",
    re.IGNORECASE,
)
_TO_OR_SUBJECT_FIELD = re.compile(
    r"^\*?(?:to|an|à|a|para|aan|till|til|vastaanottaja|do|кому|kime|címzett|宛先|收件人|"
    r"subject|betreff|objet|asunto|oggetto|assunto|onderwerp|ämne|emne|aihe|temat|předmět|тема|konu|tárgy|件名|主题)"
    r"\s*:",
    re.IGNORECASE,
)
_SIGNATURE_SEPARATOR = "-- "


def _next_filled(lines: list[str], start: int, limit: int) -> list[str]:
    """Up to `limit` non-blank lines from `start`, stripped."""
    found: list[str] = []
    for index in range(start, len(lines)):
        line = lines[index].strip()
        if line:
            found.append(line)
            if len(found) == limit:
                break
    return found


def _is_header_block(lines: list[str], start: int) -> bool:
    """A "From:" line followed by a sent/date field and a to/subject field, as Outlook quotes."""
    block = _next_filled(lines, start, 5)
    if not block or not _FROM_FIELD.match(block[0]):
        return False
    rest = block[1:]
    return any(_SENT_FIELD.match(line) for line in rest) and any(_TO_OR_SUBJECT_FIELD.match(line) for line in rest)


def _attribution_start(lines: list[str], index: int) -> int | None:
    """Where an attribution ending on line `index` starts: that line, or the one before when wrapped."""
    line = lines[index].strip()
    if len(line) > _MAX_MARKER or not line.endswith((":", "：")):
        return None
    if _ATTRIBUTION.match(line):
        return index
    previous = lines[index - 1].strip() if index else ""
    wrapped = bool(previous) and not previous.startswith(">") and not previous.endswith((".", "!", "?"))
    if _ATTRIBUTION_END.search(line):
        if "@" in line:
            if wrapped and not _has_digit(line) and _has_digit(previous):
                return index - 1
            return index
        if wrapped and "@" in previous:
            return index - 1
        return None
    if _ADDRESS_COLON.search(line) and _has_digit(line):
        following = _next_filled(lines, index + 1, 1)
        return index if following and following[0].startswith(">") else None
    return None


def _has_digit(text: str) -> bool:
    return any(c.isdigit() for c in text)


def _marker_at(lines: list[str], index: int) -> int | None:
    """Where the quoted history starts if line `index` opens it (that line or the one before)."""
    line = lines[index].strip()
    if not line or len(line) > _MAX_MARKER or line.startswith(">"):
        return None
    if _ORIGINAL_MESSAGE.match(line) or _FORWARDED.match(line):
        return index
    if _UNDERSCORES.match(line):
        following = _next_filled(lines, index + 1, 1)
        return index if following and _FROM_FIELD.match(following[0]) else None
    if _FROM_FIELD.match(line) and _is_header_block(lines, index):
        return index
    found = _attribution_start(lines, index)
    if found is not None:
        return found
    if _ATTRIBUTION_START.match(line) and index + 1 < len(lines):
        joined = f"{line} {lines[index + 1].strip()}"
        if _ATTRIBUTION.match(joined):
            return index
    return None


def _trailing_quote_start(lines: list[str]) -> int | None:
    start = None
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index].lstrip()
        if line.startswith(">"):
            start = index
        elif line:
            break
    return start


def _history_start(lines: list[str]) -> int | None:
    for index in range(len(lines)):
        found = _marker_at(lines, index)
        if found is not None:
            return found
    return _trailing_quote_start(lines)


def _without_signature(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        if line == _SIGNATURE_SEPARATOR:
            return lines[:index]
    return lines


def _join(lines: list[str]) -> str:
    return "\n".join(lines).rstrip().lstrip("\n")


def _bottom_posted(lines: list[str], start: int) -> tuple[list[str], list[str]] | None:
    """Replies written below the quote: the attribution and "> " block first, then the new text."""
    index = start
    while index < len(lines) and not lines[index].lstrip().startswith(">"):
        index += 1
        if index - start > 2:
            return None
    while index < len(lines) and (not lines[index].strip() or lines[index].lstrip().startswith(">")):
        index += 1
    if index >= len(lines) or index == start:
        return None
    return lines[index:], lines[start:index]


def split_quoted(text: str) -> tuple[str, str]:
    """Split a plain-text body into (new text, quoted history).

    The history starts at the first attribution line, Outlook separator or header block, or
    forwarded-message marker, or else at a trailing block of "> " lines. A signature below a line
    that is exactly "-- " belongs to neither part. When the history opens the message and the
    sender wrote below it, the text below is the new text. Both parts are stripped of trailing
    whitespace; new text is "" when everything is quoted.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    history: list[str] = []
    while True:
        start = _history_start(lines)
        if start is None:
            return _join(_without_signature(lines)), _join(history)
        new, quoted = lines[:start], lines[start:]
        below = None if any(line.strip() for line in new) else _bottom_posted(lines, start)
        if below is None:
            return _join(_without_signature(new)), _join(history + quoted)
        lines, quoted = below
        history += quoted
