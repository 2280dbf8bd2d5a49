"""Citations in the code point at Markdown files and sections that exist, so they cannot rot.

A citation is ``docs/<file>.md §N`` (or ``§N.M``). A bare ``§N`` cites the one ``docs/`` file
its module names, or else the one its package's ``__init__.py`` names (as the Gong emulator's
modules do). Every other ``<name>.md`` a module mentions must exist in the repository.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CODE_DIRS = ("tap_gong_calls", "gong_emulator", "tests", "benchmarks")
DOC_PATH = re.compile(r"\bdocs/[\w./-]+\.md\b")
EXPLICIT = re.compile(r"\b(docs/[\w./-]+\.md) §(\d+(?:\.\d+)*)")
SECTION = re.compile(r"§(\d+(?:\.\d+)*)")
ANY_MD = re.compile(r"(?<![\w./-])([\w./-]+\.md)\b")
HEADING = re.compile(r"^#{1,6}\s+(\d+(?:\.\d+)*)\.?\s", re.MULTILINE)


def python_files() -> list[Path]:
    return sorted(
        path
        for folder in CODE_DIRS
        for path in (REPO_ROOT / folder).rglob("*.py")
        if "__pycache__" not in path.parts
    )


def sections(doc: str) -> set[str]:
    return set(HEADING.findall((REPO_ROOT / doc).read_text(encoding="utf-8")))


def docs_named(path: Path) -> set[str]:
    return set(DOC_PATH.findall(path.read_text(encoding="utf-8")))


def bare_citation_target(path: Path) -> str | None:
    """The docs file a bare §N in `path` cites: the one it names, else its package's."""
    for candidate in (path, path.parent / "__init__.py"):
        named = docs_named(candidate) if candidate.exists() else set()
        if len(named) == 1:
            return named.pop()
        if len(named) > 1:
            return None  # ambiguous: bare citations must name their file
    return None


def citations(path: Path) -> list[tuple[int, str, str | None, str]]:
    """(line, citation text, docs file or None, section) for every § in the file."""
    found = []
    target = bare_citation_target(path)
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        explicit = {match.start(2) - 1: match.group(1) for match in EXPLICIT.finditer(line)}
        for match in SECTION.finditer(line):
            doc = explicit.get(match.start(), target)
            found.append((number, match.group(0), doc, match.group(1)))
    return found


def test_the_gong_behaviour_document_has_numbered_sections() -> None:
    assert {str(n) for n in range(1, 15)} <= sections("docs/gong-api-behaviour.md")


def test_section_citations_point_at_existing_sections() -> None:
    broken = []
    for path in python_files():
        where = path.relative_to(REPO_ROOT)
        for line, text, doc, section in citations(path):
            if doc is None:
                broken.append(f"{where}:{line}: {text} names no docs/ file (nor does its package)")
            elif not (REPO_ROOT / doc).is_file():
                broken.append(f"{where}:{line}: {doc} does not exist")
            elif section not in sections(doc):
                broken.append(f"{where}:{line}: {doc} has no section {section}")
    assert not broken, "\n".join(broken)


def test_markdown_files_named_in_code_exist() -> None:
    missing = [
        f"{path.relative_to(REPO_ROOT)}: {name}"
        for path in python_files()
        for name in sorted(set(ANY_MD.findall(path.read_text(encoding="utf-8"))))
        if not (REPO_ROOT / name).is_file() and not (path.parent / name).is_file()
    ]
    assert not missing, "\n".join(missing)
