"""The HTML report as a reader sees it: opened in headless Chromium with
no network, every formula must be typeset by the local MathJax.

The page checked is the one this test run builds from the current code
(``fresh_report`` in conftest.py).  Needs chromium (tests/system.py says
how to get it when it is missing)."""

import re
from html.parser import HTMLParser

import pytest
from system import rendered_dom, require

ERROR_CLASSES = {"MathJax_Error", "merror", "noError"}
RAW_TEX = re.compile(r"\$\$.+?\$\$|(?<![\\$])\$[^$\n]+?\$|\\\(.+?\\\)|\\\[.+?\\\]")


class MathScan(HTMLParser):
    """Counts the formulas MathJax was given and those it drew, collects its
    error elements, and the text a reader sees outside code and formulas."""
    SKIP = frozenset({"script", "style", "code", "pre", "title", "svg"})
    VOID = frozenset({"br", "hr", "img", "input", "link", "meta", "col", "area", "base", "wbr", "source"})

    def __init__(self):
        super().__init__()
        self.stack, self.text = [], []
        self.sources = self.drawn = 0
        self.errors = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = set((a.get("class") or "").split())
        if tag == "script" and (a.get("type") or "").startswith("math/tex"):
            self.sources += 1
        if re.fullmatch(r"MathJax-Element-\d+-Frame", a.get("id") or ""):
            self.drawn += 1
        self.errors += sorted(classes & ERROR_CLASSES)
        hidden = bool(self.stack and self.stack[-1][1]) or tag in self.SKIP or any(
            c.startswith("MathJax") for c in classes)
        if tag not in self.VOID:
            self.stack.append((tag, hidden))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):     # tolerates unclosed tags
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if not (self.stack and self.stack[-1][1]):
            self.text.append(data)
            if "Math Processing Error" in data:
                self.errors.append("Math Processing Error")


def math_problems(dom):
    """What a reader would see go wrong with the math in a rendered ``dom``."""
    scan = MathScan()
    scan.feed(dom)
    problems = []
    if scan.errors:
        problems.append(f"{len(scan.errors)} MathJax errors ({', '.join(sorted(set(scan.errors)))})")
    raw = RAW_TEX.findall(" ".join(scan.text))
    if raw:
        problems.append(f"{len(raw)} formulas left as TeX, e.g. {raw[:3]}")
    if scan.drawn == 0 or scan.drawn < scan.sources:
        problems.append(f"{scan.drawn} of {scan.sources} formulas typeset")
    return problems


@pytest.fixture(scope="module")
def page(fresh_report):
    return fresh_report["out"] / "report.html"


@pytest.fixture(scope="module")
def dom(request):
    """The DOM of the page after MathJax ran (dumped once the report was
    built, in the background: ``fresh_report.ReportBuild``)."""
    require("chromium")
    return request.getfixturevalue("fresh_report_dom")


def test_every_formula_is_typeset_offline(dom):
    assert not math_problems(dom)


def test_the_page_loads_nothing_from_the_network(page):
    html = page.read_text(encoding="utf-8")
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"(https?:)?//", html)


def test_the_check_catches_broken_math(tmp_path):
    """The same check on a page whose MathJax cannot load, and on one whose
    MathJax reports an error, must complain."""
    require("chromium")
    page = tmp_path / "broken.html"
    page.write_text("<html><body><p>A formula: $\\sigma(x)$.</p>"
                    "<span class=\"MathJax_SVG\"></span><script type=\"math/tex\">x</script>"
                    "<span class=\"merror\">Math Processing Error</span></body></html>")
    problems = math_problems(rendered_dom(page))
    assert any("MathJax errors" in p for p in problems) and any("left as TeX" in p for p in problems)
