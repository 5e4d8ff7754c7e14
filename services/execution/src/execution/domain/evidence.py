"""Evidence files: what a file IS (by its bytes, never by its name), and what a file may be CALLED.

Pure functions. ``sniff`` recognises the formats evidence may take (PDF, PNG, JPEG, GIF, WebP, the zip-based
office formats OOXML and ODF, the OLE2 container of older Office files, CSV/plain text) and the executables that
must never be stored; ``check_content`` accepts a file only when what it is matches what the uploader declared.
"""

from __future__ import annotations

import io
import unicodedata
import zipfile
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote

MAX_NAME_CHARACTERS = 200
MAX_NAME_BYTES = 255  # what most file systems store; the name is offered back on download


class Refusal(StrEnum):
    EMPTY = "empty"
    EXECUTABLE = "executable"
    UNKNOWN = "unknown-content"
    MISMATCH = "type-mismatch"


class EvidenceRefused(Exception):
    def __init__(self, refusal: Refusal, message: str) -> None:
        super().__init__(message)
        self.refusal = refusal


class BadName(Exception):
    """A file name that cannot be stored as given."""


# Declared media type → the content families it accepts. OLE2 cannot be told apart without parsing the
# container's directory, so each legacy Office type accepts it.
PDF, PNG, JPEG, GIF, WEBP, OLE2, TEXT = "pdf", "png", "jpeg", "gif", "webp", "ole2", "text"
DOCX, XLSX, PPTX, ODT, ODS, ODP = "docx", "xlsx", "pptx", "odt", "ods", "odp"

ALLOWED_TYPES: dict[str, frozenset[str]] = {
    "application/pdf": frozenset({PDF}),
    "image/png": frozenset({PNG}),
    "image/jpeg": frozenset({JPEG}),
    "image/gif": frozenset({GIF}),
    "image/webp": frozenset({WEBP}),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": frozenset({DOCX}),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": frozenset({XLSX}),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": frozenset({PPTX}),
    "application/vnd.oasis.opendocument.text": frozenset({ODT}),
    "application/vnd.oasis.opendocument.spreadsheet": frozenset({ODS}),
    "application/vnd.oasis.opendocument.presentation": frozenset({ODP}),
    "application/msword": frozenset({OLE2}),
    "application/vnd.ms-excel": frozenset({OLE2}),
    "application/vnd.ms-powerpoint": frozenset({OLE2}),
    "text/csv": frozenset({TEXT}),
    "text/plain": frozenset({TEXT}),
}

_EXECUTABLE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "a Windows/DOS executable"),
    (b"\x7fELF", "an ELF executable"),
    (b"\xfe\xed\xfa\xce", "a Mach-O executable"),
    (b"\xfe\xed\xfa\xcf", "a Mach-O executable"),
    (b"\xce\xfa\xed\xfe", "a Mach-O executable"),
    (b"\xcf\xfa\xed\xfe", "a Mach-O executable"),
    (b"\xca\xfe\xba\xbe", "a Mach-O universal binary or Java class"),
    (b"#!", "a script"),
)

_OOXML_PARTS = (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX))
_ODF_TYPES = {
    b"application/vnd.oasis.opendocument.text": ODT,
    b"application/vnd.oasis.opendocument.spreadsheet": ODS,
    b"application/vnd.oasis.opendocument.presentation": ODP,
}
# Text may hold tabs, line ends and form feeds; any other control character makes it binary.
_TEXT_CONTROLS = frozenset(range(32)) - {9, 10, 12, 13}


def media_type(content_type: str | None) -> str:
    """``text/csv; charset=utf-8`` → ``text/csv``."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def _zip_family(content: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
            if names and names[0] == "mimetype":
                return _ODF_TYPES.get(archive.read("mimetype").strip())
            if "[Content_Types].xml" in names:
                for prefix, family in _OOXML_PARTS:
                    if any(n.startswith(prefix) for n in names):
                        return family
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, NotImplementedError, RuntimeError):
        return None
    return None


def _is_text(content: bytes) -> bool:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:  # spreadsheets exported on Windows in Portugal and Brazil: Windows-1252
            text = content.decode("cp1252")
        except UnicodeDecodeError:
            return False
    return not any(ord(c) in _TEXT_CONTROLS or ord(c) == 0x7F for c in text)


def sniff(content: bytes) -> str | None:
    """The family of ``content`` (see ALLOWED_TYPES); None when it is none of them. Executables raise."""
    for magic, what in _EXECUTABLE_MAGIC:
        if content.startswith(magic):
            raise EvidenceRefused(Refusal.EXECUTABLE, f"The file is {what}; executables are never stored.")
    if content.startswith(b"%PDF-"):
        return PDF
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if content.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return WEBP
    if content.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return OLE2
    if content.startswith(b"PK\x03\x04"):
        return _zip_family(content)
    if _is_text(content):
        return TEXT
    return None


def check_content(content: bytes, declared: str) -> str:
    """The media type to store and serve (the declared one, parameters dropped) when the bytes are what was
    declared; EvidenceRefused otherwise. ``declared`` must be one of ALLOWED_TYPES (checked by the caller)."""
    if not content:
        raise EvidenceRefused(Refusal.EMPTY, "The file is empty.")
    family = sniff(content)
    if family is None:
        raise EvidenceRefused(Refusal.UNKNOWN, f"The content is not a {declared} file (nor any accepted type).")
    if family not in ALLOWED_TYPES[declared]:
        raise EvidenceRefused(Refusal.MISMATCH, f"The file was declared {declared} but its content is {family}.")
    return declared


def clean_name(raw: str) -> str:
    """The name to store: NFC, surrounding spaces trimmed. Refused (BadName) when it could name a path or hide
    what it is: path separators, control or format characters (including bidirectional overrides), ``.``/``..``,
    empty, or longer than 200 characters / 255 UTF-8 bytes."""
    name = unicodedata.normalize("NFC", raw).strip()
    if not name or name in {".", ".."}:
        raise BadName("the file name is empty")
    if "/" in name or "\\" in name:
        raise BadName("the file name contains a path separator")
    if any(unicodedata.category(c) in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"} for c in name):
        raise BadName("the file name contains control, format or unassigned characters")
    if len(name) > MAX_NAME_CHARACTERS or len(name.encode()) > MAX_NAME_BYTES:
        raise BadName(f"the file name is longer than {MAX_NAME_CHARACTERS} characters or {MAX_NAME_BYTES} bytes")
    return name


def content_disposition(name: str) -> str:
    """RFC 6266: an ASCII fallback (every other character an underscore, quotes removed) and the exact name as
    ``filename*`` in UTF-8, percent-encoded — never anything a header or a shell could misread."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\%;' else "_" for c in name) or "evidence"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


@dataclass(frozen=True, slots=True)
class Frozen:
    """Why a file may not be deleted."""

    certified_version: int


def frozen_by(attached_to_version: int, certified_versions: list[int]) -> Frozen | None:
    """A file attached at version N is covered by every certification made at a version >= N: it was among the
    evidence the certifier saw, so it stays forever (a later version may add more)."""
    covering = [v for v in certified_versions if v >= attached_to_version]
    return Frozen(min(covering)) if covering else None
