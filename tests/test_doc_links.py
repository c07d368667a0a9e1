"""The documentation's links and anchors resolve, and the README stays a front door to every page of docs/."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.doc_links import (
    anchors,
    broken_links,
    code_files,
    comment_citations,
    markdown_files,
    markdown_links,
    slug,
)

ROOT = Path(__file__).resolve().parents[1]
README_MAX_BYTES = 10 * 1024


def test_every_relative_link_and_anchor_in_the_docs_resolves() -> None:
    documents = markdown_files(ROOT)
    assert {ROOT / "README.md", ROOT / "tests/README.md", ROOT / "docs/operations.md"} <= set(documents)
    links = [link for document in documents for link in markdown_links(document)]
    assert broken_links(links, ROOT) == []


def test_every_doc_the_codes_comments_cite_exists_with_its_anchor() -> None:
    citations = [link for path in code_files(ROOT) for link in comment_citations(path, ROOT)]
    assert any(link.target.startswith("docs/") and "#" in link.target for link in citations)
    assert broken_links(citations, ROOT) == []


def test_the_readme_is_a_front_door_of_at_most_10_kb() -> None:
    size = (ROOT / "README.md").stat().st_size
    assert size <= README_MAX_BYTES, f"README.md is {size} bytes: move reference text to docs/"


def test_the_readme_links_every_file_in_docs() -> None:
    """A file counts as linked when the README links it, or a directory that holds it."""
    linked = {(ROOT / link.target.partition("#")[0]).resolve() for link in markdown_links(ROOT / "README.md")}
    unlinked = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "docs").rglob("*")
        if path.is_file() and not ({path.resolve(), *path.resolve().parents} & linked)
    ]
    assert unlinked == []


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Ingest: `ioc bench ingest`", "ingest-ioc-bench-ingest"),
        ("`make up` and `make down`", "make-up-and-make-down"),
        ("Sizing the ingest replicas and the broker's queues", "sizing-the-ingest-replicas-and-the-brokers-queues"),
        ("The stored-events stream (for the KPI engine)", "the-stored-events-stream-for-the-kpi-engine"),
        ("Pilot: Đắk Nông", "pilot-đắk-nông"),
        ("IOC_HOME & ports", "ioc_home--ports"),
        ("See [the contract](contract.md)", "see-the-contract"),
    ],
)
def test_anchors_follow_githubs_rules(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor


def test_a_repeated_heading_gets_a_numbered_anchor_and_code_blocks_have_none() -> None:
    text = "# Results\n\n## Results\n\n```sh\n# not a heading\n```\n\n## Results ##\n"
    assert anchors(text) == {"results", "results-1", "results-2"}


def _repository(root: Path, files: dict[str, str]) -> Path:
    """A small repository with a guide of two headings, `## Step one` twice, and these files."""
    for name, text in {"docs/guide.md": "# Guide\n\n## Step one\n\n## Step one\n", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_a_broken_link_or_anchor_is_found(tmp_path: Path) -> None:
    readme = (
        "# Front door\n\n"
        "[guide](docs/guide.md), [step](docs/guide.md#step-one-1), [home](#front-door), [web](https://example.org/x#y)\n"
        "[gone](docs/gone.md), [no step](docs/guide.md#step-two), [no\nsection](#nowhere), [out](../elsewhere.md)\n"
        "`[shown as code](docs/ignored.md)`\n\n"
        "```md\n[in a code block](docs/ignored.md)\n```\n\n"
        "[ref]: docs/missing.md\n"
    )
    _repository(tmp_path, {"README.md": readme})
    links = list(markdown_links(tmp_path / "README.md"))
    assert broken_links(links, tmp_path) == [
        "README.md:4: docs/gone.md: no such file",
        "README.md:4: docs/guide.md#step-two: no heading with the anchor #step-two in docs/guide.md",
        "README.md:4: #nowhere: no heading with the anchor #nowhere in README.md",
        "README.md:5: ../elsewhere.md: points outside the repository",
        "README.md:12: docs/missing.md: no such file",
    ]


def test_a_broken_citation_in_a_comment_is_found(tmp_path: Path) -> None:
    service = (
        '"""A service (docs/guide.md#step-one)."""\n\n'
        'NAME = "docs/guide.md#not-a-comment"\n'
        "# Why: see docs/guide.md#step-two and README.md.\n"
    )
    _repository(
        tmp_path,
        {
            "service.py": service,
            "deploy.yaml": "replicas: 2  # sized in docs/gone.md#sizing\n",
            "page.js": "// protocol: docs/guide.md#guide\nconst url = 'docs/gone.md';\n",
        },
    )
    citations = [link for path in code_files(tmp_path) for link in comment_citations(path, tmp_path)]
    assert sorted(broken_links(citations, tmp_path)) == [
        "deploy.yaml:1: docs/gone.md#sizing: no such file",
        "service.py:4: README.md: no such file",
        "service.py:4: docs/guide.md#step-two: no heading with the anchor #step-two in docs/guide.md",
    ]
