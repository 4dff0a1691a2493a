"""Every Swift file of the iOS sample app parses (tree-sitter's Swift grammar): no Swift toolchain runs here."""

from __future__ import annotations

from pathlib import Path

import pytest

tree_sitter = pytest.importorskip("tree_sitter", reason="tree-sitter is pinned in requirements.lock; `make test` installs it")
tree_sitter_swift = pytest.importorskip("tree_sitter_swift", reason="tree-sitter-swift is pinned in requirements.lock")

IOS_APP = Path(__file__).resolve().parents[1] / "ios_app"
SWIFT_FILES = sorted(IOS_APP.rglob("*.swift"))


def parse(path: Path):
    """The tree-sitter tree of a Swift file."""
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_swift.language()))
    return parser.parse(path.read_bytes())


def syntax_errors(tree) -> list[str]:
    """'line:column: ERROR near ...' for every error or missing node of a tree (1-based positions)."""
    found, stack = [], [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            line, column = node.start_point
            kind = f"missing {node.type}" if node.is_missing else "unexpected " + node.text.decode(errors="replace")[:60]
            found.append(f"{line + 1}:{column + 1}: {kind}")
        elif node.has_error:
            stack.extend(node.children)
    return sorted(found)


def test_there_are_swift_files():
    assert any(p.parts[-3:-1] == ("Sources", "FaceKitCore") for p in SWIFT_FILES)
    assert any("FaceKitDemo" in p.parts for p in SWIFT_FILES)


@pytest.mark.parametrize("path", SWIFT_FILES, ids=lambda p: str(p.relative_to(IOS_APP)))
def test_parses_without_errors(path):
    errors = syntax_errors(parse(path))
    assert not errors, f"{path.relative_to(IOS_APP.parent)}:\n  " + "\n  ".join(errors)


def test_a_syntax_error_is_reported_with_its_position(tmp_path):
    broken = tmp_path / "Broken.swift"
    broken.write_text("struct A {\n    let x: Int = (1 +\n}\n")
    errors = syntax_errors(parse(broken))
    assert errors and errors[0].split(":")[0] in {"2", "3"}
