"""The render stage: the report from the executed notebooks.

Reads only the executed notebooks the run stage put in the staging folder
(through ``merge``), the title settings (through ``title``) and the
templates; writes report.ipynb, report.html, report.pdf, the PDF's page
map pages.json and the manifest (the render key and every file's
checksum, ``outfolder.write_manifest``) into the same staging folder, which
``outfolder.publish`` then makes the report.  When the render key
(``keys.render_key``) is that of the published report and every file
matches its manifest (``outfolder.verify``), it renders nothing; a damaged
or missing file is named, and the report rendered and published anew.
"""

import copy
import sys
from pathlib import Path

import nbformat

from .. import outfolder
from ..executed import ran_with
from ..exit_status import FAILED, NO_PDF, OK
from ..keys import render_inputs, render_key
from ..parameters import load_quick
from ..parts import find_notebooks, part_label, parts_text
from . import exporters, pages
from .fill import UnfilledValue
from .merge import merge
from .title import NO_NAME, title_info

UP_TO_DATE = "up to date"       # render_report's status when the published report is current
QUICK_STAMP = "quick build: small sizes, not for submission"
QUICK_SWITCH = "quick"          # a bool parameter: True runs the notebook at quick.json's sizes


def ran_small(params, values, quick):
    """Whether a notebook that declares ``params`` ran small with ``values``
    ({name: value}): with a value of quick.json's names (``quick``) other
    than its default, or with its bool parameter ``quick`` set to True
    (the one-line switch to small sizes in Jupyter)."""
    return (any(p.name in quick and values[p.name] != p.default for p in params)
            or any(p.name == QUICK_SWITCH and p.kind == "bool" and values[p.name] is True for p in params))


def small_parts(executed, notebooks):
    """The labels of the parts of ``executed`` (executed notebooks' paths)
    that ran small (``ran_small``)."""
    quick = set(load_quick(notebooks))
    return [part_label(Path(path).stem) for path in executed
            if ran_small(*ran_with(path, nbformat.read(str(path), as_version=4)), quick)]


def scope_and_stamp(executed, notebooks):
    """(scope, stamp) for the title block: 'Parts 1a\u20131f' when the report
    holds only some of the parts in ``notebooks`` ('' when all), and
    QUICK_STAMP when a part ran small (``ran_small``: quick.json's sizes, or
    quick=True; '' otherwise), so that neither passes for the full report."""
    every = [part_label(p.stem) for p in find_notebooks(notebooks)]
    here = [part_label(Path(p).stem) for p in executed]
    scope = "" if set(every) <= set(here) else f"Part{'s' if len(here) > 1 else ''} {parts_text(here, every)}"
    return scope, QUICK_STAMP if small_parts(executed, notebooks) else ""


def report_key(args, executed, config):
    """(render key, title-page data) of a report of ``executed`` (paths of
    executed notebooks) with the options ``args`` and title settings
    ``config``: what ``render_report`` compares with the published report's."""
    info = title_info(config, args.name, folder=Path(args.notebooks))
    info["scope"], info["stamp"] = scope_and_stamp(executed, args.notebooks)
    return render_key(executed, info, args.no_pdf), info


def render_report(args, out, staging, executed, config):
    """Render ``executed`` (paths in ``staging``) into ``staging``.

    Returns (status, page map or None): OK; NO_PDF (no TeX: the HTML only);
    FAILED (LaTeX failed; the log is in ``out``/latex.log); or UP_TO_DATE
    (the published report in ``out`` is this one: nothing was written).
    """
    out, staging = Path(out), Path(staging)
    key, info = report_key(args, executed, config)
    recorded = render_inputs(copy.deepcopy(info), args.no_pdf)     # merge adds to info
    current, damaged = outfolder.verify(out, key, staging)
    if current:
        return UP_TO_DATE, (None if args.no_pdf else pages.read_pages(out))
    if damaged:
        shown = ", ".join(f"{out}/{n}" for n in damaged[:4]) + (f" and {len(damaged) - 4} more" if len(damaged) > 4 else "")
        print(f"warning: the published report is damaged ({shown}: missing or changed since it was "
              "built); it is rendered again from the stored runs and published whole", file=sys.stderr)
    missing = [] if args.no_pdf else exporters.missing_tex()
    if missing:
        print(f"warning: {' and '.join(missing)} not found: the PDF will be skipped, the HTML written", file=sys.stderr)
    try:
        merged, problems = merge(executed, info)
    except UnfilledValue as e:
        print(f"error: {e}", file=sys.stderr)
        return FAILED, None
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    if info["student"] == NO_NAME:
        print("warning: no student name: set name in report.toml or pass --name", file=sys.stderr)
    notebooks = Path(args.notebooks).resolve()
    (staging / "report.ipynb").write_text(nbformat.writes(merged), encoding="utf-8")
    print("==> Rendering the HTML", flush=True)
    try:
        exporters.write_html(merged, staging / "report.html", notebooks, assets=out)
    except exporters.RenderFailed as e:
        print(f"error: {e}", file=sys.stderr)
        return FAILED, None
    status, page_map = OK, None
    if missing:
        print(f"error: no PDF: {' and '.join(missing)} not found; {exporters.tex_hint()}", file=sys.stderr)
        status = NO_PDF
    elif not args.no_pdf:
        print("==> Rendering the PDF with XeLaTeX", flush=True)
        try:
            labels = exporters.write_pdf(merged, staging / "report.pdf", notebooks, out / "latex.log")
        except exporters.RenderFailed as e:
            print(f"error: {e}", file=sys.stderr)
            return FAILED, None
        (out / "latex.log").unlink(missing_ok=True)     # a log of an earlier failure
        page_map = pages.page_map(labels, [row["part"] for row in info["parts"]])
        pages.write_pages(staging, page_map)
    outfolder.write_manifest(staging, key, recorded)
    return status, page_map
