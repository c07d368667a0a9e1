"""The repository's internal links: Markdown links in the docs, and docs cited in the code's comments.

A link is broken when the file it names does not exist inside the repository, or when its anchor is
not a heading of that Markdown file. Anchors follow GitHub's rules, since that is where people read
the docs: the heading's text, lowercased, without punctuation other than hyphens (underscores are word
characters and stay), spaces turned into hyphens; a repeated heading gets -1, -2… External links
(any URL with a scheme) are not fetched: the check is about what this repository controls.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

SKIPPED_DIRECTORIES = {"node_modules", "__pycache__"}  # and every hidden one (.venv, .ioc, .git…)
# Files whose comments may cite the docs, by suffix or by name.
CODE_SUFFIXES = {".py", ".js", ".mjs", ".sh", ".yaml", ".yml", ".sql", ".conf", ".toml"}
CODE_NAMES = {"Makefile", "Dockerfile"}

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX_HEADING = re.compile(r"^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_HTML_ANCHOR = re.compile(r"""<a\s[^>]*(?:name|id)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
# [text](target "title") and ![alt](target); the text may wrap onto the next line.
_INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
_REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$", re.MULTILINE)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_NOT_WORD = re.compile(r"[^\w\- \u0300-\u036f]")  # \u0300-\u036f: combining accents stay, as in \p{Word}
_GITHUB_LINE = re.compile(r"^L\d+(-L\d+)?$")
# A Markdown file named in a comment, by its path from the repository's root, with an optional anchor.
_CITATION = re.compile(r"(?<![\w./-])((?:[\w.-]+/)*[\w.-]+\.md)(#[\w-]+)?")
_HASH_COMMENT = re.compile(r"#[^\n]*")
_SQL_COMMENT = re.compile(r"--[^\n]*")
_JS_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)


@dataclass(frozen=True)
class Link:
    source: Path  # the file that holds it
    line: int
    target: str  # as written: `path`, `path#anchor` or `#anchor`
    base: Path  # the directory a relative path starts from


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text (before de-duplication)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link or image: its text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    return _NOT_WORD.sub("", text.strip().lower()).replace(" ", "-")


def _prose(markdown: str) -> str:
    """The text outside fenced code blocks; fenced lines are blanked, so line numbers stay true."""
    lines, fence = [], ""
    for line in markdown.split("\n"):
        opening = _FENCE.match(line)
        if fence:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = ""
            lines.append("")
        elif opening:
            fence = opening.group(1)
            lines.append("")
        else:
            lines.append(line)
    return "\n".join(lines)


def anchors(markdown: str) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in _prose(markdown).split("\n"):
        found.update(_HTML_ANCHOR.findall(line))
        heading = _ATX_HEADING.match(line)
        if heading is None:
            continue
        base = slug(heading.group(1) or "")
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def markdown_links(path: Path) -> Iterator[Link]:
    # Code spans are blanked first (same length), so a link shown as code is not followed.
    text = _CODE_SPAN.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), _prose(path.read_text()))
    for pattern in (_INLINE_LINK, _REFERENCE_DEFINITION):
        for match in pattern.finditer(text):
            yield Link(path, text.count("\n", 0, match.start()) + 1, match.group(1), path.parent)


def _python_comments(source: str) -> Iterator[tuple[int, str]]:
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            yield token.start[0], token.string
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            docstring = ast.get_docstring(node, clean=False)
            if docstring is not None:
                yield node.body[0].lineno, docstring


def _comments(path: Path) -> Iterator[tuple[int, str]]:
    source = path.read_text()
    if path.suffix == ".py":
        yield from _python_comments(source)
        return
    pattern = {".js": _JS_COMMENT, ".mjs": _JS_COMMENT, ".sql": _SQL_COMMENT}.get(path.suffix, _HASH_COMMENT)
    for match in pattern.finditer(source):
        yield source.count("\n", 0, match.start()) + 1, match.group(0)


def comment_citations(path: Path, root: Path) -> Iterator[Link]:
    """Markdown files cited in `path`'s comments; a citation is a path from the repository's root."""
    for line, comment in _comments(path):
        for match in _CITATION.finditer(comment):
            target = match.group(1) + (match.group(2) or "")
            yield Link(path, line + comment.count("\n", 0, match.start()), target, root)


def files(root: Path) -> Iterator[Path]:
    for path in sorted(root.iterdir()):
        if path.name.startswith(".") or path.name in SKIPPED_DIRECTORIES or path.name.endswith(".egg-info"):
            continue
        if path.is_dir():
            yield from files(path)
        else:
            yield path


def markdown_files(root: Path) -> list[Path]:
    return [path for path in files(root) if path.suffix == ".md"]


def code_files(root: Path) -> list[Path]:
    return [path for path in files(root) if path.suffix in CODE_SUFFIXES or path.name in CODE_NAMES]


def problem(link: Link, root: Path) -> str | None:
    """Why `link` is broken, or None. A relative path is resolved from the directory of its source."""
    if _SCHEME.match(link.target):
        return None
    raw_path, _, anchor = link.target.partition("#")
    target = (link.base / unquote(raw_path)).resolve() if raw_path else link.source.resolve()
    if not target.is_relative_to(root.resolve()):
        return "points outside the repository"
    if not target.exists():
        return "no such file"
    if not anchor:
        return None
    if target.suffix != ".md":
        return None if _GITHUB_LINE.match(anchor) else "an anchor in a file that has no headings"
    if unquote(anchor) not in anchors(target.read_text()):
        return f"no heading with the anchor #{anchor} in {target.relative_to(root.resolve())}"
    return None


def broken_links(links: list[Link], root: Path) -> list[str]:
    """One line per broken link: where it is, what it points at and why it is broken."""
    found = []
    for link in links:
        reason = problem(link, root)
        if reason is not None:
            where = link.source.resolve().relative_to(root.resolve())
            found.append(f"{where}:{link.line}: {link.target}: {reason}")
    return found
