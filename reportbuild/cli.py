"""Command line: ``python -m reportbuild [options]``; see ``--help``.

Two stages with one contract between them, the executed notebooks in
``OUT/notebooks``:

    run     execute the notebooks whose run key changed; reuse the
            others' outputs (``run.stage``)
    render  merge the executed notebooks and write the report; skipped
            when its render key is unchanged (``render.stage``)

The exit statuses are in ``exit_status``.  Checking the options and
--help, --check and --render-only import nothing of the helpers package.
"""

import argparse
import sys
import time
from pathlib import Path

from .exit_status import FAILED, INTERRUPTED, OK, USAGE
from .parameters import ParamError, load_quick, read_params
from .parts import PartsError, find_notebooks, select_parts
from .render.title import ConfigError, load_config
from .values import as_written, resolve


def parameters_help(notebooks):
    """Every notebook's parameters with defaults, ranges and help text."""
    try:
        paths, quick = find_notebooks(notebooks), load_quick(notebooks)
        lines = [f"notebook parameters (set with -p NAME VALUE; --quick applies {notebooks}/quick.json):"]
        for path in paths:
            params = read_params(path)
            lines.append(f"  {path.name}" + ("" if params else "  (no parameters)"))
            decls = [f"{p.name}: {p.annotation or p.kind} = {as_written(p, p.default)}" for p in params]
            width = max(map(len, decls), default=0)
            for p, decl in zip(params, decls):
                extra = [x for x in (p.range_text(), f"quick: {quick[p.name]!r}" if p.name in quick else "") if x]
                lines.append(f"    {decl:<{width}}  {p.comment}" + (f"  ({'; '.join(extra)})" if extra else ""))
        return "\n".join(lines if paths else [f"no notebooks found in {notebooks}/"])
    except (ParamError, PartsError) as e:
        return f"notebook parameters: cannot list them: {e}"


def make_parser(epilog=""):
    """The argument parser; ``epilog`` lists the notebook parameters."""
    ap = argparse.ArgumentParser(
        prog="build_report.sh", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=epilog,
        description="Run the notebooks that changed since their last run and build the report "
                    "(PDF and HTML) from the executed notebooks.")
    ap.add_argument("--quick", action="store_true", help="small sizes everywhere (notebooks/quick.json)")
    ap.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                    help="set a notebook parameter in every notebook that declares it (repeatable)")
    ap.add_argument("--name", help="student name on the title page (default: name in report.toml)")
    ap.add_argument("--parts", metavar="LIST",
                    help="only these parts, e.g. 1a-1f or 1a,1c,2a-2c (default: all)")
    ap.add_argument("--rerun", action="store_true", help="run every notebook, even those whose outputs are cached")
    ap.add_argument("--render-only", action="store_true",
                    help="run nothing: render the report from the executed notebooks in OUT/notebooks")
    ap.add_argument("--notebooks", default="notebooks", help="folder of notebooks (default: %(default)s)")
    ap.add_argument("--out", default="build", help="output folder (default: %(default)s)")
    ap.add_argument("--config", help="title-page settings over those of report.toml")
    ap.add_argument("--no-pdf", action="store_true", help="skip the PDF (LaTeX); write the HTML only")
    ap.add_argument("--check", action="store_true", help="check the options, show each notebook's values, run nothing")
    return ap


def main(argv=None):
    """Build the report; return the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    wants_help = [a for a in argv if a == "-h" or (len(a) > 2 and "--help".startswith(a))]   # --he too
    epilog = ""
    if wants_help:                      # only --help shows every notebook's parameters
        known, _ = make_parser().parse_known_args([a for a in argv if a not in wants_help])
        epilog = parameters_help(known.notebooks)
    args = make_parser(epilog).parse_args(argv)
    try:
        paths = find_notebooks(args.notebooks)
        if not paths:
            raise PartsError(f"no notebooks (*.ipynb) in {args.notebooks}/")
        paths = select_parts(paths, args.parts)
        if args.render_only and (args.p or args.quick or args.rerun):
            raise ParamError("--render-only runs nothing, so it takes no -p, --quick or --rerun; "
                             "build without --render-only to run with other values")
        declared = {p.name: read_params(p) for p in paths}
        effective, warnings = resolve(declared, load_quick(args.notebooks) if args.quick else None,
                                      [tuple(p) for p in args.p])
        config = load_config(args.config)
    except (ParamError, PartsError, ConfigError) as e:
        print(f"error: {e}\n(nothing was run; see --help for every notebook's parameters)", file=sys.stderr)
        return USAGE
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    if args.check:
        for path in paths:
            vals = ", ".join(f"{p.name}={as_written(p, effective[path.name][p.name])}" for p in declared[path.name])
            print(f"{path.name}: {vals or '(no parameters)'}")
        return OK
    try:
        return build(args, paths, effective, config)
    except KeyboardInterrupt:
        print(f"\ninterrupted: the previous report in {args.out}/ is unchanged", file=sys.stderr)
        return INTERRUPTED


def build(args, paths, effective, config):
    """The run stage, then the render stage (main's second half)."""
    from .keys import run_inputs_digest
    from .render.stage import render_report
    from .run import stage as run_stage

    start, out = time.monotonic(), Path(args.out)
    run_inputs = run_inputs_digest()            # helpers/ and requirements.txt, read once
    if args.render_only:
        executed = [out / "notebooks" / p.name for p in paths]
        missing = [p.name for p in executed if not p.exists()]
        if missing:
            print(f"error: --render-only: {', '.join(missing)} never ran (not in {out}/notebooks/); "
                  "build without --render-only to run them", file=sys.stderr)
            return FAILED
        for problem in run_stage.stale(paths, executed, run_inputs):
            print(f"warning: {problem}", file=sys.stderr)
    else:
        print("==> Running every notebook (--rerun)" if args.rerun else
              "==> Running the notebooks that changed; reusing the others' outputs", flush=True)
        try:
            executed = run_stage.run_all([(p, effective[p.name]) for p in paths], out, run_inputs,
                                         rerun=args.rerun)
        except run_stage.NotebookFailed as e:
            print(f"\nerror: {e}\nThe previous report in {out}/ was left as it was.", file=sys.stderr)
            return FAILED
    return render_report(args, executed, config, start)
