"""Evidence upload checks: every refusal with its message, a real sample of each allowed type."""

from __future__ import annotations

import io
import zipfile

import pytest

from models.rules.errors import InvalidInput
from models.rules.evidence import (
    ALLOWED_EXTS,
    DEFAULT_MAX_BYTES,
    OOXML_MAX_ENTRIES,
    CheckedFile,
    check_link,
    check_upload,
    content_disposition,
)

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(20) + b"\xff\xd9"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8 " + bytes(14)
CONTENT_TYPES = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'


def make_zip(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, body in entries.items():
            zf.writestr(name, body)
    return buf.getvalue()


def make_ooxml(folder: str, **extra: bytes) -> bytes:
    main = {"word": "document.xml", "xl": "workbook.xml", "ppt": "presentation.xml"}[folder]
    return make_zip({"[Content_Types].xml": CONTENT_TYPES, "_rels/.rels": b"<Relationships/>",
                     f"{folder}/{main}": b"<root/>", **extra})


def refused(filename: str, data: bytes, **kwargs: int) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        check_upload(filename, data, **kwargs)
    return info.value


@pytest.mark.parametrize(("filename", "data", "ext", "content_type"), [
    ("laporan.pdf", PDF, "pdf", "application/pdf"),
    ("foto.png", PNG, "png", "image/png"),
    ("foto.jpg", JPEG, "jpg", "image/jpeg"),
    ("FOTO.JPEG", JPEG, "jpeg", "image/jpeg"),
    ("foto.webp", WEBP, "webp", "image/webp"),
    ("notulen.docx", make_ooxml("word"), "docx",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("rekap.xlsx", make_ooxml("xl"), "xlsx",
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("paparan.pptx", make_ooxml("ppt"), "pptx",
     "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    ("data.csv", "nip;nama\n1;Siti Ñ\n".encode(), "csv", "text/csv; charset=utf-8"),
    ("catatan.txt", b"\xef\xbb\xbfcatatan rapat", "txt", "text/plain; charset=utf-8"),
])
def test_each_allowed_type_is_accepted(filename: str, data: bytes, ext: str, content_type: str) -> None:
    assert check_upload(filename, data) == CheckedFile(filename, ext, content_type, len(data))


def test_the_allow_list() -> None:
    assert ALLOWED_EXTS == ("pdf", "png", "jpg", "jpeg", "webp", "docx", "xlsx", "pptx", "csv", "txt")
    assert DEFAULT_MAX_BYTES == 10 * 1024 * 1024


def test_empty_file() -> None:
    err = refused("a.pdf", b"")
    assert err.message("id") == "Berkas bukti kosong (0 byte). Pilih berkas yang berisi."
    assert err.message("en") == "The evidence file is empty (0 bytes). Choose a file with content."


def test_over_the_limit_names_the_limit_and_the_size() -> None:
    err = refused("a.pdf", PDF + bytes(int(1.5 * 1024 * 1024)), max_bytes=1024 * 1024)
    assert err.message("id") == "Berkas terlalu besar: 1,5 MB; batasnya 1 MB."
    assert err.message("en") == "The file is too large: 1.5 MB; the limit is 1 MB."


def test_exactly_the_limit_is_accepted() -> None:
    data = PDF + bytes(100 - len(PDF))
    assert check_upload("a.pdf", data, max_bytes=100).size == 100
    assert refused("a.pdf", data + b"x", max_bytes=100)


@pytest.mark.parametrize("filename", ["virus.exe", "laporan.pdf.exe", "halaman.html", "gambar.svg",
                                      "makro.docm"])
def test_extension_not_on_the_list(filename: str) -> None:
    err = refused(filename, PDF)
    ext = filename.rsplit(".", 1)[1]
    assert err.message("id") == (f"Jenis berkas .{ext} tidak diterima. Yang diterima: .pdf, .png, .jpg, "
                                 ".jpeg, .webp, .docx, .xlsx, .pptx, .csv, .txt.")
    assert err.message("en").startswith(f"File type .{ext} is not accepted. Accepted: .pdf, .png,")


@pytest.mark.parametrize("filename", ["laporan", "laporan.", ""])
def test_no_extension(filename: str) -> None:
    err = refused(filename, PDF)
    assert err.message("id").startswith("Jenis berkas (tanpa ekstensi) tidak diterima.")
    assert err.message("en").startswith("File type (no extension) is not accepted.")


@pytest.mark.parametrize(("filename", "data", "label"), [
    ("a.pdf", b"<html><script>alert(1)</script></html>", "PDF"),
    ("a.pdf", PNG, "PDF"),
    ("a.png", JPEG, "PNG"),
    ("a.jpg", PDF, "JPEG"),
    ("a.webp", b"RIFF\x00\x00\x00\x00WAVEfmt ", "WebP"),
    ("a.docx", PDF, "Word (DOCX)"),
    ("a.docx", make_ooxml("xl"), "Word (DOCX)"),
    ("a.xlsx", make_ooxml("word"), "Excel (XLSX)"),
    ("a.pptx", make_zip({"ppt/presentation.xml": b"<p/>"}), "PowerPoint (PPTX)"),
    ("a.xlsx", b"PK\x03\x04 broken zip", "Excel (XLSX)"),
])
def test_content_that_does_not_match_its_extension(filename: str, data: bytes, label: str) -> None:
    err = refused(filename, data)
    assert err.message("id") == f"Berkas ini bukan {label} yang sah; isinya tidak sesuai ekstensinya."
    assert err.message("en") == f"This file is not a valid {label}; its content does not match its extension."


@pytest.mark.parametrize(("filename", "data", "label"), [
    ("a.csv", b"nip,nama\n\x00\x01", "CSV"),
    ("a.txt", "catatan".encode("utf-16"), "TXT"),
    ("a.txt", "kurs: 10 ¤".encode("latin-1"), "TXT"),
    ("a.csv", PNG, "CSV"),
])
def test_text_must_be_utf8_without_nul(filename: str, data: bytes, label: str) -> None:
    err = refused(filename, data)
    assert err.message("id") == f"Berkas ini bukan {label} yang sah: teks harus UTF-8 tanpa byte NUL."
    assert err.message("en") == f"This file is not a valid {label}: text must be UTF-8 without NUL bytes."


def test_zip_bomb_by_compression_ratio() -> None:
    bomb = make_ooxml("word", **{"word/media/zeros.bin": bytes(50 * 1024 * 1024)})
    assert len(bomb) < 100 * 1024  # 50 MB of zeros deflate to about 50 KB
    err = refused("bom.docx", bomb)
    assert err.message("id") == ("Berkas Office ini ditolak karena rasio kompresi lebih dari 100:1; "
                                 "simpan ulang dari aplikasinya.")
    assert err.message("en") == ("This Office file is refused because a compression ratio above 100:1; "
                                 "save it again from its application.")


def test_zip_bomb_by_total_size() -> None:
    # stored (not compressed), so the ratio is 1 and only the declared total gives it away
    entries = {f"xl/media/{i}.bin": bytes(1) for i in range(3)}
    data = bytearray(make_zip({"[Content_Types].xml": CONTENT_TYPES, **entries}, zipfile.ZIP_STORED))
    # forge the declared size in the central directory (the name's last occurrence, 46 bytes in)
    central = data.rindex(b"xl/media/0.bin") - 46
    assert data[central:central + 4] == b"PK\x01\x02"
    data[central + 24:central + 28] = (120 * 1024 * 1024).to_bytes(4, "little")
    err = refused("bom.xlsx", bytes(data))
    assert err.message("id") == ("Berkas Office ini ditolak karena isinya lebih dari 100 MB setelah dibuka; "
                                 "simpan ulang dari aplikasinya.")
    assert err.message("en").startswith("This Office file is refused because it unpacks to more than 100 MB")


def test_zip_with_too_many_entries() -> None:
    extra = {f"xl/worksheets/s{i}.xml": b"" for i in range(OOXML_MAX_ENTRIES)}
    err = refused("banyak.xlsx", make_ooxml("xl", **extra))
    assert err.message("id").startswith("Berkas Office ini ditolak karena lebih dari 2000 entri;")
    assert err.message("en").startswith("This Office file is refused because more than 2000 entries;")


@pytest.mark.parametrize("member", ["../../etc/cron.d/x", "/etc/passwd", "word/../../x.xml",
                                    "C:/Windows/x.xml", "word\\..\\..\\x.xml"])
def test_zip_with_unsafe_paths(member: str) -> None:
    err = refused("jalur.docx", make_ooxml("word", **{member: b"x"}))
    assert err.message("id").startswith(
        f"Berkas Office ini ditolak karena berisi jalur tidak aman '{member}';")
    assert err.message("en").startswith(
        f"This Office file is refused because it holds an unsafe path '{member}';")


def test_a_large_but_ordinary_office_file_is_accepted() -> None:
    # 800 KB of sheet XML that deflates about 7:1, well past the ratio's grace size
    row = b'<row r="%d"><c t="n"><v>%d</v></c></row>'
    rows = b"".join(row % (i, i * 7919 % 100003) for i in range(20000))
    data = make_ooxml("xl", **{"xl/worksheets/sheet1.xml": rows})
    assert check_upload("rekap.xlsx", data).ext == "xlsx"


@pytest.mark.parametrize(("filename", "display"), [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("C:\\x\\..\\a.pdf", "a.pdf"),
    ("/var/www/laporan akhir.pdf", "laporan akhir.pdf"),
    ("a\x00b\x07c\n.pdf", "abc.pdf"),
    ("tagihan\u202efdp.exe.pdf", "tagihanfdp.exe.pdf"),
    ("  spasi.pdf  ", "spasi.pdf"),
    ("<img src=x onerror=alert(1)>.pdf", "<img src=x onerror=alert(1)>.pdf"),
    ("<script>alert(1)</script>.pdf", "script>.pdf"),
    (".pdf", "bukti.pdf"),
    ("..pdf", "bukti.pdf"),
    ("../.pdf", "bukti.pdf"),
    ("\x00\x01.pdf", "bukti.pdf"),
])
def test_display_name_is_a_clean_base_name(filename: str, display: str) -> None:
    checked = check_upload(filename, PDF)
    assert checked.display_name == display
    assert "/" not in checked.display_name and "\\" not in checked.display_name


def test_long_names_are_trimmed_to_120_keeping_the_extension() -> None:
    checked = check_upload("x" * 300 + ".PDF", PDF)
    assert len(checked.display_name) == 120
    assert checked.display_name == "x" * 116 + ".PDF"
    assert checked.ext == "pdf"


@pytest.mark.parametrize("url", ["https://drive.example.go.id/berkas/123?x=1#a", "http://10.0.0.5:8080/a",
                                 "  https://contoh.id/a  ", "HTTPS://CONTOH.ID"])
def test_links_accepted(url: str) -> None:
    assert check_link(url) == url.strip()


@pytest.mark.parametrize(("url", "id_text"), [
    ("javascript:alert(1)", "Tautan bukti harus diawali http:// atau https://."),
    ("JavaScript://%0aalert(1)", "Tautan bukti harus diawali http:// atau https://."),
    ("data:text/html,<script>alert(1)</script>", "Tautan bukti harus diawali http:// atau https://."),
    ("file:///etc/passwd", "Tautan bukti harus diawali http:// atau https://."),
    ("ftp://contoh.id/a", "Tautan bukti harus diawali http:// atau https://."),
    ("contoh.id/a", "Tautan bukti harus diawali http:// atau https://."),
    ("https:///tanpa-host", "Tautan bukti harus memuat nama situs (host)."),
    ("https://", "Tautan bukti harus memuat nama situs (host)."),
    ("https://contoh.id/a b", "Tautan tidak boleh berisi spasi atau karakter kendali."),
    ("https://contoh.id/\x00", "Tautan tidak boleh berisi spasi atau karakter kendali."),
    ("https://contoh.id/\r\nSet-Cookie:x", "Tautan tidak boleh berisi spasi atau karakter kendali."),
    ("https://[::1/a", "Tautan ini tidak dapat dibaca sebagai alamat web."),
    ("https://contoh.id:99999/a", "Tautan ini tidak dapat dibaca sebagai alamat web."),
    ("https://bkpsdm.go.id@jahat.example/a",
     "Tautan tidak boleh memuat nama pengguna atau kata sandi (bagian sebelum @)."),
    ("   ", "Tautan bukti kosong."),
])
def test_links_refused(url: str, id_text: str) -> None:
    with pytest.raises(InvalidInput) as info:
        check_link(url)
    assert info.value.message("id") == id_text
    assert info.value.message("en") != id_text


def test_link_length() -> None:
    url = "https://contoh.id/" + "a" * (2000 - 18)
    assert check_link(url) == url
    with pytest.raises(InvalidInput) as info:
        check_link(url + "a")
    assert info.value.message("id") == "Tautan terlalu panjang (2001 karakter; paling banyak 2000)."
    assert info.value.message("en") == "The link is too long (2001 characters; at most 2000)."


@pytest.mark.parametrize(("name", "header"), [
    ("laporan.pdf", "attachment; filename=\"laporan.pdf\"; filename*=UTF-8''laporan.pdf"),
    ("laporan akhir.pdf", "attachment; filename=\"laporan akhir.pdf\"; filename*=UTF-8''laporan%20akhir.pdf"),
    ('a"b\\c.pdf', "attachment; filename=\"a_b_c.pdf\"; filename*=UTF-8''a%22b_c.pdf"),
    ("rapat é.pdf", "attachment; filename=\"rapat _.pdf\"; filename*=UTF-8''rapat%20%C3%A9.pdf"),
    ("a\r\nX: y.pdf", "attachment; filename=\"aX: y.pdf\"; filename*=UTF-8''aX%3A%20y.pdf"),
    ("x;y=z.pdf", "attachment; filename=\"x;y=z.pdf\"; filename*=UTF-8''x%3By%3Dz.pdf"),
    ("../a/b.pdf", "attachment; filename=\".._a_b.pdf\"; filename*=UTF-8''.._a_b.pdf"),
    ("", "attachment; filename=\"bukti\"; filename*=UTF-8''bukti"),
])
def test_content_disposition(name: str, header: str) -> None:
    assert content_disposition(name) == header
    assert header.isascii() and "\r" not in header and "\n" not in header
