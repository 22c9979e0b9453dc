"""Evidence (bukti dukung) checks: an allow-list of file types checked by content, safe names, links."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from models.rules.errors import InvalidInput

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DISPLAY_NAME_MAX = 120
LINK_MAX = 2000
#: zip-bomb limits for Office files (declared sizes, read from the central directory, nothing unpacked)
OOXML_MAX_ENTRIES = 2000
OOXML_MAX_UNZIPPED = 100 * 1024 * 1024
OOXML_MAX_RATIO = 100
#: small entries may compress very well (repeated XML); the ratio counts above this size (as Apache POI)
OOXML_RATIO_GRACE = 100 * 1024


@dataclass(frozen=True)
class CheckedFile:
    display_name: str
    ext: str
    content_type: str
    size: int


@dataclass(frozen=True)
class FileKind:
    """One allowed type: its extensions, the type it is served as, and how its content is recognised."""

    label: str
    exts: tuple[str, ...]
    content_type: str
    matches: Callable[[bytes], bool]


def _pdf(data: bytes) -> bool:
    return data.startswith(b"%PDF-")


def _png(data: bytes) -> bool:
    return data.startswith(b"\x89PNG\r\n\x1a\n")


def _jpeg(data: bytes) -> bool:
    return data.startswith(b"\xff\xd8\xff")


def _webp(data: bytes) -> bool:
    return data[:4] == b"RIFF" and data[8:12] == b"WEBP"


def _text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return True


def _ooxml(folder: str) -> Callable[[bytes], bool]:
    def matches(data: bytes) -> bool:
        names = _zip_names(data)
        return "[Content_Types].xml" in names and any(n.startswith(folder) for n in names)

    return matches


_OOXML = "application/vnd.openxmlformats-officedocument."
KINDS: tuple[FileKind, ...] = (
    FileKind("PDF", ("pdf",), "application/pdf", _pdf),
    FileKind("PNG", ("png",), "image/png", _png),
    FileKind("JPEG", ("jpg", "jpeg"), "image/jpeg", _jpeg),
    FileKind("WebP", ("webp",), "image/webp", _webp),
    FileKind("Word (DOCX)", ("docx",), _OOXML + "wordprocessingml.document", _ooxml("word/")),
    FileKind("Excel (XLSX)", ("xlsx",), _OOXML + "spreadsheetml.sheet", _ooxml("xl/")),
    FileKind("PowerPoint (PPTX)", ("pptx",), _OOXML + "presentationml.presentation", _ooxml("ppt/")),
    FileKind("CSV", ("csv",), "text/csv; charset=utf-8", _text),
    FileKind("TXT", ("txt",), "text/plain; charset=utf-8", _text),
)
KIND_BY_EXT: dict[str, FileKind] = {ext: kind for kind in KINDS for ext in kind.exts}
ALLOWED_EXTS: tuple[str, ...] = tuple(KIND_BY_EXT)


def check_upload(filename: str, data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> CheckedFile:
    """Accept an evidence file only if it is non-empty, within the limit, allowed, and is what it says."""
    base = _base_name(filename)
    ext = base.rpartition(".")[2].lower() if "." in base else ""
    if not data:
        raise InvalidInput("Berkas bukti kosong (0 byte). Pilih berkas yang berisi.",
                           "The evidence file is empty (0 bytes). Choose a file with content.")
    if len(data) > max_bytes:
        raise InvalidInput(
            f"Berkas terlalu besar: {_mb(len(data), 'id')}; batasnya {_mb(max_bytes, 'id')}.",
            f"The file is too large: {_mb(len(data), 'en')}; the limit is {_mb(max_bytes, 'en')}.")
    kind = KIND_BY_EXT.get(ext)
    if kind is None:
        shown = f".{ext}" if ext else "(tanpa ekstensi)"
        allowed = ", ".join(f".{e}" for e in ALLOWED_EXTS)
        raise InvalidInput(f"Jenis berkas {shown} tidak diterima. Yang diterima: {allowed}.",
                           f"File type {shown if ext else '(no extension)'} is not accepted. "
                           f"Accepted: {allowed}.")
    if kind.exts[0] in ("docx", "xlsx", "pptx"):
        _check_zip(data)
    if not kind.matches(data):
        raise _mismatch(kind)
    return CheckedFile(_display_name(base, ext), ext, kind.content_type, len(data))


def _mismatch(kind: FileKind) -> InvalidInput:
    if kind.exts[0] in ("csv", "txt"):
        return InvalidInput(f"Berkas ini bukan {kind.label} yang sah: teks harus UTF-8 tanpa byte NUL.",
                            f"This file is not a valid {kind.label}: text must be UTF-8 without NUL bytes.")
    return InvalidInput(f"Berkas ini bukan {kind.label} yang sah; isinya tidak sesuai ekstensinya.",
                        f"This file is not a valid {kind.label}; its content does not match its extension.")


def _mb(size: int, lang: str) -> str:
    mb = size / (1024 * 1024)
    text = f"{mb:.0f}" if mb == int(mb) else f"{mb:.1f}"
    return f"{text.replace('.', ',') if lang == 'id' else text} MB"


def _zip_names(data: bytes) -> list[str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return zf.namelist()
    except (zipfile.BadZipFile, ValueError, EOFError):
        return []


def check_office_zip(data: bytes) -> None:
    """Refuse an Office file (a zip) that would unpack into too much or holds unsafe paths, from
    its central directory alone (nothing unpacked); data that is not a zip passes."""
    _check_zip(data)


def _check_zip(data: bytes) -> None:
    """Refuse Office files that would unpack into too much, or hold paths outside their folder."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError):
        return  # not a zip at all: the content check names the type it should have been
    if len(infos) > OOXML_MAX_ENTRIES:
        raise _bomb(f"lebih dari {OOXML_MAX_ENTRIES} entri", f"more than {OOXML_MAX_ENTRIES} entries")
    if sum(i.file_size for i in infos) > OOXML_MAX_UNZIPPED:
        limit = _mb(OOXML_MAX_UNZIPPED, "id"), _mb(OOXML_MAX_UNZIPPED, "en")
        raise _bomb(f"isinya lebih dari {limit[0]} setelah dibuka", f"it unpacks to more than {limit[1]}")
    for info in infos:
        if _unsafe_member(info.filename):
            raise _bomb(f"berisi jalur tidak aman '{info.filename[:80]}'",
                        f"it holds an unsafe path '{info.filename[:80]}'")
        if info.file_size > OOXML_RATIO_GRACE and info.file_size > OOXML_MAX_RATIO * max(
                info.compress_size, 1):
            raise _bomb(f"rasio kompresi lebih dari {OOXML_MAX_RATIO}:1",
                        f"a compression ratio above {OOXML_MAX_RATIO}:1")


def _bomb(id_why: str, en_why: str) -> InvalidInput:
    return InvalidInput(f"Berkas Office ini ditolak karena {id_why}; simpan ulang dari aplikasinya.",
                        f"This Office file is refused because {en_why}; save it again from its application.")


def _unsafe_member(name: str) -> bool:
    parts = re.split(r"[\\/]", name)
    return name.startswith(("/", "\\")) or bool(re.match(r"^[A-Za-z]:", name)) or ".." in parts


def _clean(text: str) -> str:
    # Cc: control chars and NUL; Cf: invisible format chars such as U+202E that disguise an extension
    return "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf")).strip()


def _base_name(filename: str) -> str:
    return _clean(re.split(r"[\\/]", _clean(filename))[-1])


def _display_name(base: str, ext: str) -> str:
    stem = base[: -(len(ext) + 1)].strip()
    if not stem.strip("."):
        return f"bukti.{ext}"
    if len(base) <= DISPLAY_NAME_MAX:
        return base
    return stem[: DISPLAY_NAME_MAX - len(ext) - 1].rstrip() + base[-(len(ext) + 1):]


def check_link(url: str) -> str:
    """Evidence given as a link: an http(s) URL with a host, no spaces or control chars, ≤ 2,000 chars."""
    text = url.strip()
    if not text:
        raise InvalidInput("Tautan bukti kosong.", "The evidence link is empty.")
    if len(text) > LINK_MAX:
        raise InvalidInput(f"Tautan terlalu panjang ({len(text)} karakter; paling banyak {LINK_MAX}).",
                           f"The link is too long ({len(text)} characters; at most {LINK_MAX}).")
    if any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") for ch in text):
        raise InvalidInput("Tautan tidak boleh berisi spasi atau karakter kendali.",
                           "The link must not contain spaces or control characters.")
    try:
        parts = urlsplit(text)
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        raise InvalidInput("Tautan ini tidak dapat dibaca sebagai alamat web.",
                           "This link cannot be read as a web address.") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidInput("Tautan bukti harus diawali http:// atau https://.",
                           "An evidence link must start with http:// or https://.")
    if not parts.hostname:
        raise InvalidInput("Tautan bukti harus memuat nama situs (host).",
                           "An evidence link must include a site name (host).")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("Tautan tidak boleh memuat nama pengguna atau kata sandi (bagian sebelum @).",
                           "The link must not include a user name or password (the part before @).")
    return text


def content_disposition(display_name: str) -> str:
    """A download header value: an ASCII fallback name plus the exact UTF-8 name (RFC 6266 / 5987)."""
    name = _clean(display_name.replace("/", "_").replace("\\", "_")) or "bukti"
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
