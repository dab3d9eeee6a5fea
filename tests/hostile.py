"""Hostile files, built at test time (no binary blobs in the repository).

Each builder writes one file an attacker could hand in as an exhibitor's document; ``build_corpus`` writes them all
into one folder (``python -m tests.hostile FOLDER`` does that by hand, e.g. to try ``assistant ingest`` on them).
"""

from __future__ import annotations

import io
import struct
import sys
import zipfile
from pathlib import Path

INNOCENT = "The exhibitor builds grippers for industrial robots and shows them in hall four.\n"


def _plain_docx() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph(INNOCENT)
    data = io.BytesIO()
    document.save(data)
    return data.getvalue()


def _rewritten_docx(replace: dict[str, bytes | int]) -> bytes:
    """A real DOCX with some members replaced: bytes as they are, an int as that many spaces appended to the
    member's XML (whitespace between elements: still valid XML, and it compresses about 1000 to 1), written in
    1 MB steps so that the test's own memory stays small."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_plain_docx())) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in source.infolist():
            data = source.read(info)
            extra = replace.get(info.filename)
            if isinstance(extra, bytes):
                zf.writestr(info.filename, extra)
            elif isinstance(extra, int):
                with zf.open(info.filename, "w", force_zip64=True) as member:
                    member.write(data)
                    block = b" " * 1_000_000
                    for _ in range(extra // len(block)):
                        member.write(block)
            else:
                zf.writestr(info, data)
    return out.getvalue()


def docx_bomb(path: Path, inflated_mb: int = 30) -> Path:
    """A DOCX whose document.xml inflates to ``inflated_mb`` MB from a few tens of KB on disk."""
    path.write_bytes(_rewritten_docx({"word/document.xml": inflated_mb * 1_000_000}))
    return path


def _patch_central_size(data: bytes, name: str, size: int) -> bytes:
    """``data`` with the uncompressed size that the central directory declares for ``name`` set to ``size``."""
    encoded = name.encode()
    at = 0
    while (at := data.find(b"PK\x01\x02", at)) >= 0:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + name_len] == encoded:
            return data[: at + 24] + struct.pack("<I", size) + data[at + 28 :]
        at += 4
    raise AssertionError(f"{name} is not in the central directory")


def docx_declaring(path: Path, declared_bytes: int = 4_000_000_000) -> Path:
    """A small DOCX whose central directory declares a member of ``declared_bytes`` (nearly 4 GB by default)."""
    path.write_bytes(_patch_central_size(_plain_docx(), "word/document.xml", declared_bytes))
    return path


def docx_understating(path: Path, inflated_mb: int = 60) -> Path:
    """A bomb whose central directory understates the inflated size (10 KB declared): it passes every check of
    the declared sizes, and a reader that inflates a member in one step still takes ``inflated_mb`` MB."""
    data = _rewritten_docx({"word/document.xml": inflated_mb * 1_000_000})
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo("word/document.xml")
        assert info.compress_size > 10_000
    path.write_bytes(_patch_central_size(data, "word/document.xml", 10_000))
    return path


def alias_bomb(path: Path, levels: int = 6) -> Path:
    """Markdown whose front matter title is a "billion laughs": 9 ** ``levels`` copies from a few hundred bytes."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, levels + 1):
        lines.append(f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]")
    front = "\n".join(lines) + f"\ntitle: *a{levels}\n"
    path.write_text(f"---\n{front}---\n# Robots\n\n{INNOCENT}", encoding="utf-8")
    return path


def long_fields(path: Path) -> Path:
    """Front matter with a title, a name and a kind of 4,900 characters and a URL of 5,000."""
    long = "Robots " * 700
    front = f'title: "{long}"\nname: "{long}"\nwebsite: "https://example.org/{"a" * 5_000}"\nkind: "{long}"\n'
    path.write_text(f"---\n{front}---\n# Robots\n\n{INNOCENT}", encoding="utf-8")
    return path


def control_bytes(path: Path) -> Path:
    """A text file whose first 8 KB are clean and that drives the terminal further on (no NUL anywhere)."""
    path.write_bytes((INNOCENT * 200).encode() + b"\x1b]0;owned\x07\x1b[2J\x1b[31m" + INNOCENT.encode())
    return path


def build_corpus(folder: Path) -> list[Path]:
    """Every hostile file above, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        docx_bomb(folder / "bomb.docx"),
        docx_declaring(folder / "declares-4gb.docx"),
        docx_understating(folder / "understates.docx"),
        alias_bomb(folder / "alias-bomb.en.md"),
        long_fields(folder / "long-fields.en.md"),
        control_bytes(folder / "terminal.txt"),
    ]


if __name__ == "__main__":
    for written in build_corpus(Path(sys.argv[1])):
        print(written)
