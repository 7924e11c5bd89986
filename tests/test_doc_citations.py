"""Code and docs cite docs/DESIGN.md and docs/METHODS.md by section (``docs/DESIGN.md, "Boxes"``): every cited
section exists, so a renamed heading cannot leave a dangling citation."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CITATION = re.compile(r'docs/(DESIGN|METHODS)\.md,?\s+"([^"]+)"')


def headings(doc: Path) -> list[str]:
    return [line.lstrip("#").strip() for line in doc.read_text().splitlines() if line.startswith("#")]


def citations(text: str) -> list[tuple[str, str]]:
    return [(f"docs/{doc}.md", section) for doc, section in CITATION.findall(text)]


def test_the_citation_pattern_reads_both_forms_and_a_broken_line():
    text = 'see (docs/DESIGN.md, "Boxes") and docs/METHODS.md "FMO" or (docs/METHODS.md,\n"Ablation-CA")'
    assert citations(text) == [("docs/DESIGN.md", "Boxes"), ("docs/METHODS.md", "FMO"),
                               ("docs/METHODS.md", "Ablation-CA")]


def test_every_cited_section_exists():
    files = [*ROOT.glob("workbench/**/*.py"), *ROOT.glob("tests/**/*.py"), *ROOT.glob("benchmarks/*.py"),
             ROOT / "notebooks" / "build.py", ROOT / "README.md", *ROOT.glob("docs/*.md")]
    found = {}
    for path in files:
        if path.name != "test_doc_citations.py":
            for cited in citations(path.read_text()):
                found.setdefault(cited, path.relative_to(ROOT).as_posix())
    assert ("docs/DESIGN.md", "Boxes") in found       # the check reads the citations there are
    missing = {f"{doc}, {section!r} (cited in {where})" for (doc, section), where in found.items()
               if not any(h.startswith(section) for h in headings(ROOT / doc))}
    assert not missing, sorted(missing)
