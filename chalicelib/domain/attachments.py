"""What customers may attach to an issue of a type (e.g. photos of a damaged product), and how an
uploaded file is recognised by its first bytes rather than by what the browser claimed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.problems import DefinitionProblems

#: Content types a type may accept, with the magic bytes that identify them.
SIGNATURES: dict[str, tuple[tuple[int, bytes], ...]] = {
    "image/jpeg": ((0, b"\xff\xd8\xff"),),
    "image/png": ((0, b"\x89PNG\r\n\x1a\n"),),
    "image/gif": ((0, b"GIF87a"), (0, b"GIF89a")),
    "image/webp": ((8, b"WEBP"),),
    "image/heic": ((4, b"ftypheic"), (4, b"ftypheix"), (4, b"ftypmif1")),
    "application/pdf": ((0, b"%PDF-"),),
}
#: How many first bytes `sniff` needs.
SNIFF_BYTES = 16
MAX_FILES = 10
MAX_MB = 40
_KEYS = {"label", "max_files", "max_mb", "types"}


@dataclass(frozen=True)
class AttachmentRules:
    label: str = "Photos or documents"
    max_files: int = 3
    max_bytes: int = 10 * 1024 * 1024
    types: tuple[str, ...] = ("image/jpeg", "image/png")

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "max_files": self.max_files, "max_bytes": self.max_bytes, "types": self.types}


def sniff(head: bytes) -> str | None:
    """The content type a file's first bytes show, among the accepted kinds; None if unknown."""
    for content_type, signatures in SIGNATURES.items():
        if any(head[offset : offset + len(magic)] == magic for offset, magic in signatures):
            return content_type
    return None


def parse_attachment_rules(raw: Any, path: str, problems: DefinitionProblems) -> AttachmentRules | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        problems.add(path, "must be a mapping with label, max_files, max_mb and types")
        return None
    for key in sorted(set(raw) - _KEYS):
        problems.add(f"{path}.{key}", f"unknown key; use {', '.join(sorted(_KEYS))}")
    max_files = raw.get("max_files", 3)
    if not isinstance(max_files, int) or isinstance(max_files, bool) or not 1 <= max_files <= MAX_FILES:
        problems.add(f"{path}.max_files", f"must be a whole number from 1 to {MAX_FILES}")
        max_files = 3
    max_mb = raw.get("max_mb", 10)
    if not isinstance(max_mb, int) or isinstance(max_mb, bool) or not 1 <= max_mb <= MAX_MB:
        problems.add(f"{path}.max_mb", f"must be a whole number of megabytes from 1 to {MAX_MB}")
        max_mb = 10
    types = raw.get("types", ["image/jpeg", "image/png"])
    if not isinstance(types, list) or not types or any(t not in SIGNATURES for t in types):
        problems.add(f"{path}.types", f"must be a list from {', '.join(SIGNATURES)}")
        types = ["image/jpeg", "image/png"]
    label = str(raw.get("label") or "Photos or documents").strip()[:120]
    return AttachmentRules(label, max_files, max_mb * 1024 * 1024, tuple(types))
