from pathlib import Path

import pytest

from assistant.loaders import SkipFile, load_file


def _load(path: Path, max_bytes: int = 1_000_000):
    return load_file(path, path.name, max_bytes)


def test_markdown_front_matter_becomes_metadata(tmp_path: Path) -> None:
    p = tmp_path / "itb.en.md"
    p.write_text(
        '---\nid: itb\ntitle: "ITB"\nname: ITB mbH\nlanguage: en\n---\n# ITB\n\nITB is in Dortmund, Europaplatz 7.\n'
    )
    doc = _load(p)
    assert (doc.doc_id, doc.title, doc.language, doc.meta["name"]) == ("itb", "ITB", "en", "ITB mbH")
    assert not doc.text.startswith("---")


def test_language_and_id_fall_back_to_the_file_name(tmp_path: Path) -> None:
    p = tmp_path / "notes.de.md"
    p.write_text("# Notizen\n\nDie Messe findet in Chicago statt und dauert sechs Tage.\n")
    doc = _load(p)
    assert (doc.doc_id, doc.language, doc.title) == ("notes", "de", "Notizen")


def test_html_loses_its_scripts_but_keeps_headings(tmp_path: Path) -> None:
    p = tmp_path / "page.html"
    p.write_text(
        '<html lang="en"><head><title>Fair</title><script>alert("x")</script></head>'
        "<body><h2>Venue</h2><p>McCormick Place hosts the fair in Chicago.</p><style>p{}</style></body></html>"
    )
    doc = _load(p)
    assert "alert" not in doc.text and "## Venue" in doc.text and "McCormick Place" in doc.text
    assert (doc.title, doc.language) == ("Fair", "en")


def test_docx_headings_and_paragraphs(tmp_path: Path) -> None:
    import docx

    d = docx.Document()
    d.add_heading("Lumiglas", level=1)
    d.add_paragraph("Lumiglas is a sight-glass brand of F.H. Papenmeier in Schwerte.")
    p = tmp_path / "lumiglas.docx"
    d.save(str(p))
    doc = _load(p)
    assert "## Lumiglas" in doc.text and "Schwerte" in doc.text


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF with one line of Helvetica text, written by hand."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def test_pdf_text_is_extracted(tmp_path: Path) -> None:
    p = tmp_path / "flyer.pdf"
    p.write_bytes(minimal_pdf("The Dortmund reception is on Friday evening in Chicago."))
    assert "Dortmund reception" in _load(p).text


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("broken.pdf", b"%PDF-1.4\n garbage that is not a pdf \x00\x01", "PDF"),
        ("empty.md", b"", "empty"),
        ("blob.txt", b"\x00\x01\x02binary" * 100, "binary"),
        ("broken.docx", b"PK\x03\x04 not really a zip", "DOCX"),
        ("short.txt", b"hi", "no readable text"),
    ],
)
def test_bad_files_are_skipped_with_a_reason(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(SkipFile, match=reason):
        _load(p)


def test_oversized_file_is_skipped(tmp_path: Path) -> None:
    p = tmp_path / "big.txt"
    p.write_text("Dortmund " * 1000)
    with pytest.raises(SkipFile, match="too large"):
        _load(p, max_bytes=1000)
