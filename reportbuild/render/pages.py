"""The Gradescope page map: which pages of report.pdf hold each part.

Read back from the LaTeX labels that ``merge`` puts at the start of every
part (``report-1a``, ...), of the appendix and of the Reproducibility section, so the
numbers are the PDF's own 1-based page numbers, never estimates.
"""

import json

from ..atomic import write_atomic
from .merge import label

PAGES_FILE = "pages.json"       # in OUT, beside report.pdf


def page_map(labels, parts):
    """{"1a": [4, 5], ..., "2c": [...]}: every page of each part, from
    ``labels`` ({label: page}, ``exporters.write_pdf``) and ``parts`` (the part
    labels in report order).  A part ends on the page before the next one
    starts, the last part on the page before the appendix ("Beyond the
    assignment", when there is one) or the Reproducibility section, which
    are left out."""
    names = [*parts, "beyond" if label("beyond") in labels else "reproducibility"]
    missing = [label(n) for n in names if label(n) not in labels]
    if missing:
        raise ValueError(f"the PDF lacks the page labels {', '.join(missing)}")
    starts = [labels[label(n)] for n in names]
    return {n: list(range(starts[k], max(starts[k], starts[k + 1] - 1) + 1))
            for k, n in enumerate(parts)}


def gradescope_line(pages):
    """'Gradescope pages: 1a 4-5, 1b 6, ...' from a page map."""
    def span(p):
        return f"{p[0]}" if len(p) == 1 else f"{p[0]}-{p[-1]}"
    return "Gradescope pages: " + ", ".join(f"{name} {span(p)}" for name, p in pages.items())


def write_pages(out, pages):
    """Store the page map as OUT/pages.json (atomically, as every report file)."""
    write_atomic(out / PAGES_FILE, json.dumps(pages, indent=1) + "\n")


def read_pages(out):
    """The page map of the last PDF (OUT/pages.json), or None."""
    try:
        return json.loads((out / PAGES_FILE).read_text())
    except (OSError, ValueError):
        return None
