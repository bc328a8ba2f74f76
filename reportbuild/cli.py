"""Command line: ``python -m reportbuild [options]``; see ``--help``.

A build holds the output folder's lock (``outfolder``), then:

    run      the stored run of each notebook, executing those whose run
             key changed (``run.stage``); their executed notebooks and
             saved files go to a staging folder
    render   the report from those executed notebooks, into the same
             staging folder; nothing when its render key is unchanged
             (``render.stage``)
    publish  the staging folder becomes the report set, all at once
             (``outfolder.publish``); after a failure it is dropped and
             the previous report stays as it was

``--check`` stops after the checks and says what a build would do
(``dryrun``): which notebooks would run and why, which would be reused,
whether the report would be rendered again; it writes nothing.

The exit statuses are in ``exit_status``.  Checking the options and
--help, --check and --render-only import nothing of the helpers package.
"""

import argparse
import signal
import sys
import time
from pathlib import Path

from . import outfolder
from .exit_status import FAILED, INTERRUPTED, OK, USAGE
from .memory import check_memory, check_run_time
from .outfolder import InterruptedAfterPublish, OutputError
from .parameters import ParamError, load_quick, read_params
from .parts import NAME as PART_NAME
from .parts import (
    PartsError,
    check_parts,
    find_notebooks,
    part_label,
    parts_text,
    select_parts,
)
from .render.title import ConfigError, check_name, load_config
from .values import as_written, resolve


def parameters_help(notebooks):
    """Every notebook's parameters with defaults, ranges and help text."""
    try:
        paths, quick = find_notebooks(notebooks), load_quick(notebooks)
        head = (f"notebook parameters (set with -p NAME VALUE, a list as -p NAME 10,100; "
                f"--quick applies {notebooks}/quick.json):")
        lines = [head]
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
                    help="set a notebook parameter in every notebook that declares it (repeatable); "
                         "a list as 10,100 or [10,100]")
    ap.add_argument("--name", help="student name on the title page (default: name in report.toml)")
    ap.add_argument("--parts", metavar="LIST",
                    help="only these parts, e.g. 1a-1f or 1a,1c,2a-2c (default: all)")
    ap.add_argument("--rerun", action="store_true", help="run every notebook, even those whose outputs are cached")
    ap.add_argument("--render-only", action="store_true",
                    help="run nothing: render the report again from the executed notebooks in OUT/notebooks, "
                         "with the current Markdown")
    ap.add_argument("--notebooks", default="notebooks", help="folder of notebooks (default: %(default)s)")
    ap.add_argument("--out", default="build", help="output folder (default: %(default)s)")
    ap.add_argument("--config", help="title-page settings over those of report.toml")
    ap.add_argument("--no-pdf", action="store_true", help="skip the PDF (LaTeX); write the HTML only")
    ap.add_argument("--check", action="store_true",
                    help="a dry run: check the options, show each notebook's values and whether it would run "
                         "(and why) or be reused, and whether the report would be rendered again; "
                         "run and write nothing")
    ap.add_argument("--ignore-memory", action="store_true",
                    help="run even a notebook whose memory estimate exceeds the memory available")
    ap.add_argument("--ignore-time", action="store_true",
                    help="run even a notebook whose run-time estimate exceeds an hour")
    return ap


def _no_folder_overrides(declared, args):
    """ParamError for -p on a folder parameter (``Param.is_folder``): in a
    build, the files a notebook saves go to OUT/results with the report."""
    folders = {p.name for params in declared.values() for p in params if p.is_folder}
    for name, _ in args.p:
        if name in folders:
            raise ParamError(f"-p {name}: in a build, the files a notebook saves go to {args.out}/results/ "
                             f"with the report; {name} says where they go when you run the notebook yourself")


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
        every = find_notebooks(args.notebooks)
        if not every:
            raise PartsError(f"no notebooks (*.ipynb) in {args.notebooks}/")
        paths = select_parts(every, args.parts)
        check_parts(every, chosen={part_label(p.stem) for p in paths})
        outfolder.check(args.out, args.notebooks)
        if args.render_only and (args.p or args.quick or args.rerun):
            raise ParamError("--render-only runs nothing, so it takes no -p, --quick or --rerun; "
                             "build without --render-only to run with other values")
        if args.render_only:
            _check_executed(paths, args.out)
        if args.name is not None:
            args.name = check_name(args.name, "--name")
        declared = {p.name: read_params(p) for p in every}      # all of them: --parts-aware name checks
        _no_folder_overrides(declared, args)
        effective, warnings = resolve(declared, load_quick(args.notebooks) if args.quick else None,
                                      [tuple(p) for p in args.p], selected=[p.name for p in paths])
        if not args.render_only:
            jobs = [(p, effective[p.name]) for p in paths]
            warnings += check_memory(jobs, override=args.ignore_memory)
            warnings += check_run_time(jobs, override=args.ignore_time)
        config = load_config(args.config)
        if args.check:                  # the build would stop here, having made nothing
            outfolder.check_writable(args.out)
    except (ParamError, PartsError, ConfigError, OutputError) as e:
        print(f"error: {e}\n(nothing was run; see --help for every notebook's parameters)", file=sys.stderr)
        return USAGE
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    if args.check:
        from .dryrun import dry_run

        try:
            return dry_run(args, paths, declared, effective, config)
        except OSError as e:
            print(f"error: could not read {e.filename or args.out} ({(e.strerror or str(e)).lower()})",
                  file=sys.stderr)
            return FAILED
    try:
        with _stop_signals_as_interrupts():
            return build(args, paths, effective, config)
    except OutputError as e:
        print(f"error: {e}\n(nothing was run)", file=sys.stderr)
        return USAGE
    except OSError as e:        # a full disk, a read-only cache: the previous report is left as it was
        where = f" {e.filename}" if e.filename else f" into {args.out}/"
        print(f"\nerror: could not write{where} ({outfolder.why_not_written(e)})\n"
              f"{outfolder.previous_report(args.out)}", file=sys.stderr)
        return FAILED
    except InterruptedAfterPublish:
        print(f"\ninterrupted: the new report in {args.out}/ was complete and is published", file=sys.stderr)
        return INTERRUPTED
    except KeyboardInterrupt:
        print(f"\ninterrupted: {outfolder.previous_report(args.out)}", file=sys.stderr)
        return INTERRUPTED


def _check_executed(paths, out):
    """ParamError for --render-only when a notebook of ``paths`` never ran
    into the report in ``out`` (there is nothing to render it from)."""
    missing = [p.name for p in paths if not (Path(out) / "notebooks" / p.name).is_file()]
    if missing:
        raise ParamError(f"--render-only: {', '.join(missing)} never ran (not in {out}/notebooks/); "
                         "build without --render-only to run them")


class _Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP (a closed terminal, ``kill``): handled as Ctrl-C."""


def _stop(signum, frame):
    raise _Stopped()


class _stop_signals_as_interrupts:
    """Within the block, SIGTERM and SIGHUP stop the build as Ctrl-C does:
    the previous report stays, and one line says so."""

    def __enter__(self):
        self.saved = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGHUP)}

    def __exit__(self, *exc):
        for sig, handler in self.saved.items():
            signal.signal(sig, handler)


def build(args, paths, effective, config):
    """The rest of main, holding the output folder's lock: the run stage, the
    render stage, then the new report set published at once (``outfolder``)."""
    start, out = time.monotonic(), Path(args.out)
    with outfolder.locked(out) as removed:
        if removed:
            print(f"==> Removed what an interrupted build left in {out}/: {', '.join(removed)}", flush=True)
        staging = outfolder.new_staging(out)
        try:
            return _build(args, paths, effective, config, out, staging, start)
        finally:
            outfolder.discard(staging)          # gone already once published


def _published_parts(out):
    """The part labels of the report published in ``out`` (of its executed notebooks)."""
    return [part_label(p.stem) for p in sorted((Path(out) / "notebooks").glob("*.ipynb"))
            if PART_NAME.fullmatch(p.name)]


def _say_fewer_parts(out, before, paths, notebooks):
    """A note when the report just published holds fewer parts than the one it replaced."""
    now = [part_label(p.stem) for p in paths]
    if set(now) < set(before):
        order = sorted(set(before) | set(now) | {part_label(p.stem) for p in find_notebooks(notebooks)})
        report = "report.pdf" if (Path(out) / "report.pdf").exists() else "report.html"
        print(f"note: {out}/{report} now holds part{'s' if len(now) > 1 else ''} {parts_text(now, order)} only; "
              f"it held {parts_text(before, order)}", file=sys.stderr, flush=True)


def _say_small(out, small):
    """A note when the report in ``out`` ran the parts ``small`` at small
    sizes (and is stamped so): it is not the one to hand in."""
    from .render.stage import QUICK_STAMP

    if small:
        report = "report.pdf" if (Path(out) / "report.pdf").exists() else "report.html"
        print(f"note: {out}/{report} is stamped \"{QUICK_STAMP}\": part{'s' if len(small) > 1 else ''} "
              f"{', '.join(small)} ran at small sizes (quick.json's, or quick=True); build without --quick "
              "and with quick=False for the report you hand in", file=sys.stderr, flush=True)


def _build(args, paths, effective, config, out, staging, start):
    from .keys import run_inputs_digest
    from .render import stage as render_stage
    from .render.pages import gradescope_line
    from .run import stage as run_stage

    unchanged = outfolder.previous_report(out)
    run_inputs = run_inputs_digest()            # helpers/ and requirements.txt, read once
    before = _published_parts(out)
    if args.render_only:
        executed = run_stage.reuse_published(paths, out, staging, run_inputs)
    else:
        print("==> Running every notebook (--rerun)" if args.rerun else
              "==> Running the notebooks that changed; reusing the others' outputs", flush=True)
        try:
            entries = run_stage.run_all([(p, effective[p.name]) for p in paths], out, run_inputs,
                                        rerun=args.rerun)
        except run_stage.NotebookFailed as e:
            print(f"\nerror: {e}\n{unchanged}", file=sys.stderr)
            return FAILED
        executed = run_stage.write_executed(paths, entries, staging)
    status, page_map = render_stage.render_report(args, out, staging, executed, config)
    if status == FAILED:
        print(unchanged, file=sys.stderr)
        return FAILED
    small = render_stage.small_parts(executed, args.notebooks)      # before the staging folder is published
    if status == render_stage.UP_TO_DATE:
        print(f"==> The report in {out}/ is up to date ({time.monotonic() - start:.0f} s)", flush=True)
        status = OK
    else:
        gone = outfolder.publish(out, staging)
        names = [n for n in outfolder.REPORT_SET if (out / n).exists()]
        print(f"==> Published the new report in {out}/: {', '.join(names)}", flush=True)
        if gone:
            hint = " (build without --no-pdf for a PDF of this one)" if "report.pdf" in gone and args.no_pdf else ""
            print(f"note: removed {', '.join(f'{out}/{n}' for n in gone)}, left by an earlier build: "
                  f"they showed other runs{hint}", file=sys.stderr)
        _say_fewer_parts(out, before, paths, args.notebooks)
    _say_small(out, small)
    if page_map:
        print(f"==> {gradescope_line(page_map)}", flush=True)
    print(f"==> Done in {time.monotonic() - start:.0f} s", flush=True)
    return status
