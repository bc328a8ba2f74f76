"""The report PDF as a grader uses it: the answers page, one part per page
range as pages.json says (the Gradescope page map), the live source of the
functions inside their parts, and the boxed answers.

The report checked is the one this test run builds from the current code
(``fresh_report`` in conftest.py: --quick, in build/test-report/).  Needs
poppler's pdftotext and pdfinfo (tests/system.py says how to get them when
they are missing)."""

import inspect
import json
import re
import subprocess
import tempfile
from pathlib import Path

import nbformat
import pytest
from system import require

import helpers
import helpers.model
import helpers.timing
from helpers import heron

ROOT = Path(__file__).resolve().parents[1]
PARTS = ["1a", "1b", "1c", "1d", "1e", "1f", "2a", "2b", "2c"]
MAX_PART_PAGES = 14         # the nine parts, title and answers page excluded
MAX_BEYOND_PAGES = 6        # the appendix "Beyond the assignment"
MAX_PAGES = 1 + MAX_PART_PAGES + MAX_BEYOND_PAGES + 1     # + title page, + Reproducibility
# The functions each part shows with show_source (cells tagged hide-input);
# "beyond": those the appendix shows.
LISTINGS = {"1a": [helpers.model.stages, helpers.model.layer, helpers.sigmoid_and_slope, helpers.jacobians],
            "1b": [helpers.f, helpers.f_and_grad_torch],
            "1c": [helpers.f_and_grad_forward],
            "1d": [helpers.f_and_grad_reverse],
            "2a": [helpers.heron_sqrt, heron._start_active, heron._select, heron._still_active, heron._any],
            "2b": [helpers.heron_sqrt_forward, heron._step],
            "2c": [helpers.heron_sqrt_reverse],
            "beyond": [helpers.f_and_grad_reverse_fused, helpers.timing.time_calls]}
# What pdftotext gives for typeset characters, back to what the sources say
# (the en dash: LaTeX's "--", as listing headers write "lines 3-9").
TYPESET = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"',
                         "\ufb01": "fi", "\ufb02": "fl", "\ufb00": "ff", "\u2013": "-"})


def flat(text):
    """``text`` with typographic quotes and ligatures undone and every run of
    whitespace (line breaks of wrapped lines included) made one space."""
    return " ".join(text.translate(TYPESET).split())


def headings():
    """{part: heading}: the first line of each notebook's first Markdown cell, without '# '."""
    found = {}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(str(path), as_version=4)
        first = next(c for c in nb.cells if c.cell_type == "markdown")
        found[path.stem.split("_")[0]] = first.source.strip().splitlines()[0].lstrip("#").strip()
    return found


@pytest.fixture(scope="module")
def built(fresh_report):
    """The folder of the report built by this test run."""
    require("pdfinfo")          # poppler-utils, which has pdftotext too
    return fresh_report["out"]


@pytest.fixture(scope="module")
def pages_json(built):
    return json.loads((built / "pages.json").read_text())


@pytest.fixture(scope="module")
def pdf_pages(built):
    """The text of every page of the PDF (layout kept); pdf_pages[0] is page 1."""
    pdf = built / "report.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    count = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    pages = text.split("\f")[:count]            # pdftotext ends every page with a form feed
    assert len(pages) == count
    return pages


@pytest.fixture(scope="module")
def merged(built):
    return nbformat.read(str(built / "report.ipynb"), as_version=4)


def page_text(pdf_pages, numbers):
    """The text of the 1-based pages ``numbers``, one string."""
    return "\n".join(pdf_pages[n - 1] for n in numbers)


def split_parts(nb):
    """{name: [cells]} of the merged notebook, cut at the raw cells that label
    each section (``\\label{report-1a}``); the label cell starts its list."""
    parts, current = {}, None
    for cell in nb.cells:
        m = re.search(r"\\label\{report-([\w-]+)\}", cell.source) if cell.cell_type == "raw" else None
        if m:
            current = parts.setdefault(m.group(1), [])
        if current is not None:
            current.append(cell)
    return parts


# --- the answers page ----------------------------------------------------------

def test_answers_page_lists_every_part_with_its_first_page(pdf_pages, pages_json):
    titles = headings()
    assert list(titles) == PARTS
    assert flat(pdf_pages[0]).startswith("Homework 4")        # the title block, then the answers
    # The answers may run on over more than one page: everything before part 1a.
    first_part = pages_json["1a"][0]
    assert first_part >= 2
    answers = flat(page_text(pdf_pages, range(1, first_part))).split("Answers at a glance ", 1)[1]
    at = 0
    for part in PARTS:
        # The heading, in order, with "page N" beside it: after its last word,
        # or within it where pdftotext splits a wrapped heading around it.
        words = flat(titles[part]).split()
        between = r"\s+(?:page\s+(\d+)\s+)?"
        pattern = between.join(map(re.escape, words)) + r"\s+page\s+(\d+)\b"
        m = re.compile(pattern).search(answers, at)
        assert m, f"part {part}: {titles[part]!r} with a page number not found (in order) on the answers page"
        shown = [int(g) for g in m.groups() if g is not None]
        assert shown[0] == pages_json[part][0], f"part {part}: the answers page says page {shown[0]}"
        at = m.end()


# --- pages.json against the PDF -----------------------------------------------

def test_pages_json_names_the_parts(pages_json):
    assert list(pages_json) == PARTS
    for name, pages in pages_json.items():
        assert pages and pages == list(range(pages[0], pages[-1] + 1)), f"{name}: {pages}"
    names = list(pages_json)
    for before, after in zip(names, names[1:]):
        assert pages_json[after][0] == pages_json[before][-1] + 1, f"{after} does not start after {before}"


def test_each_part_starts_its_first_page_with_its_heading(pdf_pages, pages_json):
    titles = headings()
    for part in PARTS:
        first = flat(pdf_pages[pages_json[part][0] - 1])
        assert (first + " ").startswith(flat(titles[part]) + " "), \
            f"page {pages_json[part][0]} (part {part}) starts with {first[:80]!r}"
        if len(pages_json[part]) > 1:           # and the next part has not started yet
            for n in pages_json[part][1:]:
                assert not flat(pdf_pages[n - 1]).startswith("Part "), f"page {n} of part {part}"


def section_pages(pdf_pages, pages_json):
    """(first page of the appendix, first page of Reproducibility), from the
    pages that start with their headings."""
    starts = {name: [n for n, page in enumerate(pdf_pages, 1) if flat(page).startswith(name + " ")]
              for name in ("Beyond the assignment", "Reproducibility")}
    assert all(len(found) == 1 for found in starts.values()), starts
    return starts["Beyond the assignment"][0], starts["Reproducibility"][0]


def test_the_appendix_then_reproducibility_follow_the_last_part(pdf_pages, pages_json):
    beyond, repro = section_pages(pdf_pages, pages_json)
    assert beyond == pages_json[PARTS[-1]][-1] + 1, "the appendix does not follow the last part"
    assert beyond < repro == len(pdf_pages), "Reproducibility is not the last page, alone"


def page_fill(pdf, page, dpi=30):
    """How far down the text area of 1-based ``page`` its content reaches,
    from 0 (empty) to 1 (full): the lowest row with ink of the page drawn at
    ``dpi``, above the footer (margins: 0.6 in top, 0.65 in bottom, letter)."""
    from PIL import Image

    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", "-f", str(page), "-l", str(page), str(pdf),
                        f"{scratch}/p"], check=True)
        (png,) = Path(scratch).glob("p*")
        image = Image.open(png).convert("L")
        top, bottom = round(0.6 * dpi), image.height - round(0.65 * dpi)
        pixels = image.load()
        inked = [y for y in range(top, bottom) if any(pixels[x, y] < 200 for x in range(image.width))]
    return (max(inked) - top) / (bottom - top) if inked else 0.0


def test_no_page_of_a_part_is_less_than_half_full_but_its_last(built, pages_json):
    """A page that ends early (a figure or table pushed on) wastes the grader's time."""
    short = [(part, n, round(page_fill(built / "report.pdf", n), 2))
             for part, pages in pages_json.items() for n in pages[:-1]]
    assert [s for s in short if s[2] < 0.5] == [], short


def test_the_report_stays_short(pdf_pages, pages_json):
    sizes = ", ".join(f"{name} {len(pages)}" for name, pages in pages_json.items())
    beyond, repro = section_pages(pdf_pages, pages_json)
    in_parts = sum(len(pages) for pages in pages_json.values())
    assert in_parts <= MAX_PART_PAGES, f"the parts take {in_parts} pages ({sizes})"
    assert repro - beyond <= MAX_BEYOND_PAGES, f"the appendix takes {repro - beyond} pages"
    assert len(pdf_pages) <= MAX_PAGES, f"the PDF has {len(pdf_pages)} pages (pages per part: {sizes})"


# --- the code shown is the live source ------------------------------------------

def test_listings_in_the_notebook_are_the_live_source(merged):
    parts = split_parts(merged)
    assert list(parts) == [*PARTS, "beyond", "reproducibility"]
    for part, functions in LISTINGS.items():
        # IPython stores a repr without its final newline.
        shown = [out.data["text/plain"].rstrip("\n") for cell in parts[part] if cell.cell_type == "code"
                 for out in cell.outputs if "text/plain" in out.get("data", {})]
        for fn in functions:
            source = inspect.getsource(fn).rstrip("\n")
            assert source in shown, f"part {part} does not show the source of {fn.__name__}"


def listing_header(fn):
    """The line a listing of ``fn`` prints above its code: 'helpers/x.py, lines a-b'
    (``Listing.where``), from the live source."""
    lines, first = inspect.getsourcelines(fn)
    path = Path(inspect.getsourcefile(fn)).resolve().relative_to(ROOT).as_posix()
    return f"{path}, lines {first}-{first + len(lines) - 1}"


@pytest.fixture(scope="module")
def listed_pages(pdf_pages, pages_json):
    """The page map, plus the appendix's pages as "beyond"."""
    beyond, repro = section_pages(pdf_pages, pages_json)
    return {**pages_json, "beyond": list(range(beyond, repro))}


def test_listings_in_the_pdf_show_the_code_not_the_call(pdf_pages, listed_pages):
    text = "\n".join(pdf_pages)
    assert "show_source(" not in text
    for part, functions in LISTINGS.items():
        part_text = flat(page_text(pdf_pages, listed_pages[part]))
        for fn in functions:
            def_line = inspect.getsource(fn).splitlines()[0]
            assert flat(def_line) in part_text, f"{def_line!r} not on the pages of part {part}"


def test_each_listing_is_printed_once_on_its_parts_pages(pdf_pages, listed_pages):
    for part, functions in LISTINGS.items():
        for fn in functions:
            header = re.compile(re.escape(listing_header(fn)) + r"(?!\d)")
            found = [n for n, page in enumerate(pdf_pages, 1) for _ in header.finditer(flat(page))]
            assert len(found) == 1, f"{fn.__name__}: {listing_header(fn)!r} printed on pages {found}"
            assert found[0] in listed_pages[part], \
                f"{fn.__name__} is listed on page {found[0]}, not on a page of part {part} {listed_pages[part]}"


# --- the boxed answers ------------------------------------------------------------

def test_each_part_opens_with_its_boxed_answer(merged):
    parts = split_parts(merged)
    rows = merged.metadata["report"]["parts"]
    titles = headings()
    assert [r["part"] for r in rows] == PARTS
    for row in rows:
        cells = parts[row["part"]]
        heading, answer = cells[1], cells[2]
        assert (heading.cell_type, heading.source) == ("markdown", f"# {titles[row['part']]}")
        assert answer.cell_type == "markdown" and answer.metadata.get("tags") == ["answer"], row["part"]
        assert row["answer"] and answer.source == row["answer"], row["part"]
    assert sum("answer" in c.metadata.get("tags", []) for c in merged.cells) == len(PARTS)


def test_no_parameters_cell_is_left(merged):
    for cell in merged.cells:
        tags = cell.metadata.get("tags", [])
        assert not {"parameters", "injected-parameters"} & set(tags), cell.source[:80]
        if cell.cell_type == "code":
            assert "answer" not in tags, cell.source[:80]
