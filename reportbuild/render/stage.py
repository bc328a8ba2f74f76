"""The render stage: the report from the executed notebooks.

Reads only ``OUT/notebooks`` (through ``merge``), the title settings
(through ``title``) and the templates; writes report.ipynb, report.html,
report.pdf and the PDF's page map pages.json, and skips all of it when the
render key (``keys.render_key``) is that of the last complete render
(``OUT/report.key``).
"""

import sys
import time
from pathlib import Path

import nbformat

from ..atomic import write_atomic
from ..exit_status import FAILED, NO_PDF, OK
from ..keys import render_key
from . import exporters, pages
from .merge import merge
from .title import NO_NAME, title_info

RENDER_KEY = "report.key"       # in OUT: the render key of the last complete render


def render_report(args, executed, config, start):
    """Merge ``executed`` and write report.ipynb, .html and (unless --no-pdf) .pdf."""
    out = Path(args.out)
    info = title_info(config, args.name, folder=Path(args.notebooks))
    key = render_key(executed, info, args.no_pdf)
    outputs = [out / "report.html"] + ([] if args.no_pdf else [out / "report.pdf"])
    key_file = out / RENDER_KEY
    if key_file.exists() and key_file.read_text() == key and all(p.exists() for p in outputs):
        print(f"==> The report is up to date: {outputs[-1]} ({time.monotonic() - start:.0f} s)", flush=True)
        page_map = None if args.no_pdf else pages.read_pages(out)
        if page_map:
            print(f"==> {pages.gradescope_line(page_map)}", flush=True)
        return OK
    key_file.unlink(missing_ok=True)
    missing = [] if args.no_pdf else exporters.missing_tex()
    if missing:
        print(f"warning: {' and '.join(missing)} not found: the PDF will be skipped, the HTML written", file=sys.stderr)
    merged, problems = merge(executed, info)
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    if info["student"] == NO_NAME:
        print("warning: no student name: set name in report.toml or pass --name", file=sys.stderr)
    notebooks = Path(args.notebooks).resolve()
    write_atomic(out / "report.ipynb", nbformat.writes(merged))
    exporters.write_html(merged, out / "report.html", notebooks)
    print(f"==> Wrote {out}/report.html", flush=True)
    if not args.no_pdf:
        if missing:
            print(f"error: no PDF: {' and '.join(missing)} not found; {exporters.tex_hint()}", file=sys.stderr)
            return NO_PDF
        print("==> Rendering the PDF with XeLaTeX", flush=True)
        try:
            labels = exporters.write_pdf(merged, out / "report.pdf", notebooks, out / "latex.log")
        except exporters.RenderFailed as e:
            print(f"error: {e}\nThe previous {out}/report.pdf was left as it was.", file=sys.stderr)
            return FAILED
        (out / "latex.log").unlink(missing_ok=True)     # a log of an earlier failure
        page_map = pages.page_map(labels, [row["part"] for row in info["parts"]])
        pages.write_pages(out, page_map)
        print(f"==> Wrote {out}/report.pdf and {out}/{pages.PAGES_FILE}", flush=True)
        print(f"==> {pages.gradescope_line(page_map)}", flush=True)
    write_atomic(key_file, key)
    print(f"==> Done in {time.monotonic() - start:.0f} s", flush=True)
    return OK
