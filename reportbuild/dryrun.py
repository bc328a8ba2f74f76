"""``--check``: what a build would do with these options, and why, with
nothing run and nothing written into the output folder (no mark, no lock,
no stored run touched).

For each notebook: its values (as ``--help`` writes them), then either
"reused (computed ...)", its stored run under the current run key, or
"would run" with the reasons, found by comparing the run key's ingredients
(``keys``: code, values, helpers/, requirements.txt, Python) with those of
the notebook's last run (the one the published report shows, else its most
recently used stored run).  Then whether the report would be rendered
again, and why: a notebook runs, a published file is missing or changed
(``outfolder.verify``), or an ingredient of the render key changed
(``keys.render_inputs``, recorded in the manifest); else "up to date".
"""

import shutil
import tempfile
from pathlib import Path

import nbformat

from . import keys, outfolder
from .executed import computed_at, recorded_run_key
from .exit_status import OK
from .run import cache
from .values import as_written, python_literal

TITLE_FIELDS = {"student": "name", "date": "date", "assignment": "assignment", "course": "course",
                "scope": "parts shown", "stamp": "quick-build stamp"}


def dry_run(args, paths, declared, effective, config, say=print):
    """Print each notebook of ``paths`` with its values ``effective`` (of
    the parameters ``declared``: {name: [Param]}) and what the build would
    do with it, then what it would do with the report; returns the exit
    status the build's checks gave (OK)."""
    out = Path(args.out)
    run_inputs = keys.run_inputs_digest()
    plans = []
    for path in paths:
        vals = ", ".join(f"{p.name}={as_written(p, effective[path.name][p.name])}" for p in declared[path.name])
        say(f"{path.name}: {vals or '(no parameters)'}")
        entry, why = plan_run(path, effective[path.name], out, run_inputs, args)
        plans.append((path, entry))
        say(f"    {why}")
    reasons = plan_render(args, out, plans, config)
    say(f"report ({out}/): " + (f"would be rendered again: {'; '.join(reasons)}" if reasons else "up to date"))
    say("(--check: nothing was run or written)")
    return OK


def plan_run(src, params, out, run_inputs, args):
    """(stored run to reuse or None, what the build would do with notebook
    ``src``, in words)."""
    if args.render_only:
        ran = _read(out / "notebooks" / src.name)
        return None, f"not run (--render-only): the report's run, computed {computed_at(ran) if ran else 'unknown'}"
    if args.rerun:
        return None, "would run: --rerun"
    if not any((out / name).is_dir() for name in ("cache", "notebooks")):
        return None, "would run: not stored yet"
    nb = nbformat.read(str(src), as_version=4)
    key = keys.run_key(nb, params, run_inputs)
    entry, unusable = cache.peek(out, src, key)
    if entry is not None:
        return entry, f"reused (computed {computed_at(entry.notebook)})"
    if unusable:
        return None, (f"would run: its stored run cache/{cache.entry(out, src, key).name}/ is unusable "
                      f"({unusable}); the build removes it")
    return None, "would run: " + "; ".join(run_changes(nb, params, key, _last_run(out, src), run_inputs, out))


def run_changes(nb, params, key, last, run_inputs, out):
    """Why notebook ``nb`` with ``params`` (run key ``key``) has no stored
    run, against ``last`` (the executed notebook of its last run, or None)."""
    if last is None:
        return ["not stored yet"]
    if recorded_run_key(last) == key:
        return [f"its stored run is gone from {out}/cache/"]
    reasons = ["its code changed"] if keys.code_cells(last) != keys.code_cells(nb) else []
    before = last.metadata.get("papermill", {}).get("parameters", {})
    for name, value in params.items():
        if name in before and keys.value_text(before[name]) != keys.value_text(value):
            reasons.append(f"{name} = {python_literal(value)} (was {python_literal(before[name])})")
    if keys.run_key(last, before, run_inputs) != recorded_run_key(last):
        reasons += _inputs_changed(cache.recorded_inputs(last))
    return reasons or ["its run key changed (a new version of the build tool)"]


def _inputs_changed(recorded):
    """Which of helpers/, requirements.txt and Python changed since a run
    that recorded ``recorded`` (``keys.run_inputs``; {} when it recorded none)."""
    if not recorded:
        return ["helpers/, requirements.txt or Python changed (its stored run does not record which)"]
    now = keys.run_inputs()
    changed = [what for name, what in (("helpers", "helpers/ changed"), ("requirements", "requirements.txt changed"))
               if recorded.get(name) != now[name]]
    if recorded.get("python") != now["python"]:
        version = lambda text: str(text).split()[0] if text else "unknown"
        changed.append(f"Python changed ({version(recorded.get('python'))} -> {version(now['python'])})")
    return changed


def _read(path):
    """Executed notebook file ``path``, read, or None when it cannot be."""
    try:
        return nbformat.read(str(path), as_version=4)
    except Exception:  # noqa: BLE001  (missing, unreadable, not a notebook: no last run to compare with)
        return None


def _last_run(out, src):
    """The executed notebook of the last run of ``src``: the one the
    published report shows, else its most recently used stored run; None."""
    published = _read(out / "notebooks" / Path(src).name)
    if published is not None and recorded_run_key(published):
        return published
    for folder in cache.stored_runs(out, src):
        stored = _read(folder / cache.NOTEBOOK)
        if stored is not None:
            return stored
    return None


def plan_render(args, out, plans, config):
    """Why the build would render the report again ([] when it would not):
    ``plans`` is [(notebook, stored run to reuse or None)]."""
    runs = [src.stem for src, entry in plans if entry is None]
    if runs and not args.render_only:
        return [f"{', '.join(runs)} {'runs' if len(runs) == 1 else 'run'}"]
    if outfolder.read_manifest(out) is None:
        return ["there is no report yet" if not any((out / n).exists() for n in outfolder.REPORT_SET)
                else f"the report in {out}/ has no manifest (an older version of the tool made it)"]
    from .render import (
        stage as render_stage,  # (nbconvert) only when there is a report to compare with
    )
    from .run import stage as run_stage

    staging = Path(tempfile.mkdtemp(prefix="reportbuild-check-"))     # outside the output folder
    try:
        paths = [src for src, _ in plans]
        executed = (run_stage.reuse_published(paths, out, staging, keys.run_inputs_digest()) if args.render_only
                    else run_stage.write_executed(paths, [entry for _, entry in plans], staging))
        key, info = render_stage.report_key(args, executed, config)
        current, damaged = outfolder.verify(out, key, staging)
        if current:
            return []
        if damaged:
            shown = ", ".join(damaged[:4]) + (f" and {len(damaged) - 4} more" if len(damaged) > 4 else "")
            return [f"published files are missing or changed ({shown})"]
        return render_changes(outfolder.read_manifest(out), outfolder.checksums(staging),
                              keys.render_inputs(info, args.no_pdf))
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def render_changes(manifest, fresh, now):
    """What differs between the published report (its ``manifest``) and the
    one the build would render: executed notebooks and saved files
    (``fresh``: their checksums now) and the render key's other ingredients
    (``now``: ``keys.render_inputs``)."""
    ran = ("notebooks/", "results/")
    before = {n: s for n, s in manifest["files"].items() if n.startswith(ran)}
    fresh = {n: s for n, s in fresh.items() if n.startswith(ran)}
    reasons = []
    for label, names in (("new", sorted(set(fresh) - set(before))), ("gone", sorted(set(before) - set(fresh))),
                         ("changed", sorted(n for n in set(fresh) & set(before) if fresh[n] != before[n]))):
        if names:
            reasons.append(f"{label}: {', '.join(names[:4])}{f' and {len(names) - 4} more' if len(names) > 4 else ''}")
    recorded = manifest.get("inputs")
    if not isinstance(recorded, dict):
        unknown = "the templates, the tool or the title settings may have changed (the report does not say which)"
        return [*reasons, unknown]
    if recorded.get("tool") != now["tool"]:
        reasons.append("the templates or the tool changed")
    if recorded.get("pdf") != now["pdf"]:
        reasons.append("a PDF is wanted now" if now["pdf"] else "--no-pdf: no PDF now")
    old, new = recorded.get("info") or {}, now["info"]
    fields = [TITLE_FIELDS.get(k, k) for k in sorted(set(old) | set(new)) if k != "provenance" and old.get(k) != new.get(k)]
    was, facts = old.get("provenance") or {}, new.get("provenance") or {}
    fields += [k for k in sorted(set(was) | set(facts)) if was.get(k) != facts.get(k)]
    if fields:
        reasons.append(f"the title page changed ({', '.join(fields)})")
    return reasons or ["its render key changed (a new version of the build tool)"]
