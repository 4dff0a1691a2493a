"""sha256_of: a file's hash is hashlib's; a folder's changes with any file's bytes or name."""

from __future__ import annotations

import hashlib

from exporter.digest import sha256_of


def test_a_file_hashes_like_hashlib_across_chunks(tmp_path):
    data = bytes(range(256)) * 5000  # more than one 1 MiB chunk
    (tmp_path / "f.bin").write_bytes(data)
    assert sha256_of(tmp_path / "f.bin") == hashlib.sha256(data).hexdigest()


def test_a_folder_hash_sees_bytes_and_names(tmp_path):
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "a.txt").write_text("one")
    (tmp_path / "pkg" / "sub" / "b.txt").write_text("two")
    first = sha256_of(tmp_path / "pkg")
    assert first == sha256_of(str(tmp_path / "pkg")) and len(first) == 64
    (tmp_path / "pkg" / "sub" / "b.txt").write_text("tw0")
    changed_bytes = sha256_of(tmp_path / "pkg")
    (tmp_path / "pkg" / "sub" / "b.txt").rename(tmp_path / "pkg" / "sub" / "c.txt")
    assert len({first, changed_bytes, sha256_of(tmp_path / "pkg")}) == 3
