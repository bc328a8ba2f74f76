"""Command line: ``python -m helpers.report [options]``; see ``--help``.

Exit status: 0 done; 1 a notebook (or LaTeX) failed; 2 bad options or
parameters (nothing was run); 3 no TeX, so only the HTML was written.
"""

import argparse
import sys
import time
from pathlib import Path

from .params import ParamError, find_notebooks, load_quick, read_params
from .title import NO_NAME, ConfigError, load_config, title_info
from .values import resolve, shown

OK, FAILED, USAGE, NO_PDF = 0, 1, 2, 3


def parameters_help(notebooks):
    """Every notebook's parameters with defaults, ranges and help text."""
    try:
        paths, quick = find_notebooks(notebooks), load_quick(notebooks)
        lines = [f"notebook parameters (set with -p NAME VALUE; --quick applies {notebooks}/quick.json):"]
        for path in paths:
            params = read_params(path)
            lines.append(f"  {path.name}" + ("" if params else "  (no parameters)"))
            decls = [f"{p.name}: {p.annotation or p.kind} = {shown(p, p.default)}" for p in params]
            width = max(map(len, decls), default=0)
            for p, decl in zip(params, decls):
                extra = [x for x in (p.range_text(), f"quick: {quick[p.name]!r}" if p.name in quick else "") if x]
                lines.append(f"    {decl:<{width}}  {p.comment}" + (f"  ({'; '.join(extra)})" if extra else ""))
        return "\n".join(lines if paths else [f"no notebooks found in {notebooks}/"])
    except ParamError as e:
        return f"notebook parameters: cannot list them: {e}"


def make_parser(epilog=""):
    """The argument parser; ``epilog`` lists the notebook parameters."""
    ap = argparse.ArgumentParser(
        prog="build_report.sh", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=epilog,
        description="Run every notebook in order and build the report (PDF and HTML) from them.")
    ap.add_argument("--quick", action="store_true", help="small sizes everywhere (notebooks/quick.json)")
    ap.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                    help="set a notebook parameter in every notebook that declares it (repeatable)")
    ap.add_argument("--name", help="student name on the title page (default: name in report.toml)")
    ap.add_argument("--notebooks", default="notebooks", help="folder of notebooks (default: %(default)s)")
    ap.add_argument("--out", default="build", help="output folder (default: %(default)s)")
    ap.add_argument("--config", help="title-page settings (default: report.toml, if present)")
    ap.add_argument("--no-pdf", action="store_true", help="skip the PDF (LaTeX); write the HTML only")
    ap.add_argument("--check", action="store_true", help="check the options, show each notebook's values, run nothing")
    ap.add_argument("--validate", action="store_true", help=argparse.SUPPRESS)    # quiet --check, for the script
    return ap


def main(argv=None):
    """Build the report; return the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    known, _ = make_parser().parse_known_args([a for a in argv if a not in ("-h", "--help")])
    args = make_parser(parameters_help(known.notebooks)).parse_args(argv)
    start, notebooks, out = time.monotonic(), Path(args.notebooks), Path(args.out)
    try:
        paths = find_notebooks(notebooks)
        if not paths:
            raise ParamError(f"no notebooks (*.ipynb) in {notebooks}/")
        declared = {p.name: read_params(p) for p in paths}
        quick = load_quick(notebooks) if args.quick else None
        effective, warnings = resolve(declared, quick, [tuple(p) for p in args.p])
        config = load_config(args.config or "report.toml", required=bool(args.config))
    except (ParamError, ConfigError) as e:
        print(f"error: {e}\n(nothing was run; see --help for every notebook's parameters)", file=sys.stderr)
        return USAGE
    if args.validate:
        return OK
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    if args.check:
        for path in paths:
            vals = ", ".join(f"{p.name}={shown(p, effective[path.name][p.name])}" for p in declared[path.name])
            print(f"{path.name}: {vals or '(no parameters)'}")
        return OK
    return build(args, paths, declared, effective, config, start)


def build(args, paths, declared, effective, config, start):
    """Run, merge and render (main's second half)."""
    import nbformat

    from . import render, runner
    from .merge import merge

    notebooks, out = Path(args.notebooks), Path(args.out)
    missing = [] if args.no_pdf else render.missing_tex()
    if missing:
        print(f"warning: {' and '.join(missing)} not found: the PDF will be skipped, the HTML written", file=sys.stderr)
    print(f"==> Running {len(paths)} notebooks from {notebooks}/ into {out}/notebooks/"
          + (" (quick)" if args.quick else ""), flush=True)
    try:
        executed = runner.run_all([(p, effective[p.name]) for p in paths], out)
    except runner.NotebookFailed as e:
        print(f"\nerror: {e}\nThe previous report in {out}/ was left as it was.", file=sys.stderr)
        return FAILED
    print("==> Merging the notebooks into one report", flush=True)
    info = title_info(config, args.name, declared, effective, args.quick)
    merged, problems = merge(executed, declared, effective, info)
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    if info["student"] == NO_NAME:
        print("warning: no student name: set name in report.toml or pass --name", file=sys.stderr)
    render.write_atomic(out / "report.ipynb", nbformat.writes(merged))
    render.write_html(merged, out / "report.html", notebooks.resolve())
    print(f"==> Wrote {out}/report.html", flush=True)
    if args.no_pdf:
        return OK
    if missing:
        print(f"error: no PDF: {' and '.join(missing)} not found; {render.TEX_HINT}", file=sys.stderr)
        return NO_PDF
    print("==> Rendering the PDF with XeLaTeX", flush=True)
    try:
        render.write_pdf(merged, out / "report.pdf", notebooks.resolve(), out / "latex.log")
    except render.RenderFailed as e:
        print(f"error: {e}\nThe previous {out}/report.pdf was left as it was.", file=sys.stderr)
        return FAILED
    (out / "latex.log").unlink(missing_ok=True)     # a log of an earlier failure
    print(f"==> Wrote {out}/report.pdf ({time.monotonic() - start:.0f} s in all)", flush=True)
    return OK
