"""Timing for parts 1e and 1f; the functions return numbers (and, for the
report, the words that state them).

Nothing here prints to stdout or plots; time_calls shows a progress bar on
stderr (``progress_bar``), which Jupyter shows and the report leaves out.
Times are wall-clock (time.perf_counter).
Several callables are timed in interleaved rounds, so that a burst of
background load on a shared machine hits them alike and samples taken in
the same round form pairs; a fast callable is looped inside one sample
until the sample lasts ``min_sample_s`` (as timeit's autorange does).
"""

import csv
import json
import math
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import tqdm

from ._checks import check_count
from .bounds import between, compare, number
from .claims import Phrase
from .machine import background_load, cpu_seconds, peak_meter

PROJECT = Path(__file__).resolve().parents[1]    # the folder above helpers/: relative results go here
MIN_SAMPLE_S = 0.02     # parts 1e and 1f: a call shorter than this is looped inside one sample


def _per_fn(fns, value, what, minimum):
    """{name: count} from one count for all or a dict {name: count}."""
    if not isinstance(value, dict):
        value = check_count(what, value, minimum=minimum)
        return {k: value for k in fns}
    missing = set(fns) - set(value)
    if missing:
        raise ValueError(f"{what}: no count for {sorted(missing)}")
    return {k: check_count(f"{what}[{k!r}]", value[k], minimum=minimum) for k in fns}


def progress_bar(total, unit, progress=True, desc=None):
    """A plain tqdm bar on stderr (never stdout: the report keeps stdout and
    drops stderr), in tqdm's default format, counting ``total`` finished
    ``unit``s ('round', 'size'); its description ``desc``, in words, is what
    runs now, which the caller sets before each call (bar.set_description).
    progress=False: a bar that shows nothing."""
    return tqdm.tqdm(total=total, unit=unit, desc=desc, file=sys.stderr, disable=not progress)


def time_calls(fns, *, repeats=5, warmup=1, min_sample_s=0.0, device="cpu", results=None,
               progress=True, labels=None):
    """Wall time per call of each callable in ``fns`` ({name: fn()}), in rounds.

    repeats: timed samples, one per round; warmup: untimed calls before the
        rounds.  Each an int for every fn or a dict {name: int}.  Round k
        runs, in turn, every fn with more than k repeats, so samples with
        the same index were taken in the same round (pairs for
        ``compare_timings``).
    min_sample_s: a sample loops fn ``number`` times, chosen from the last
        warm-up, so that it lasts at least this long (1 without a warm-up);
        a sample is the mean time per call of its loop.
    Returns {name: {'median_s', 'min_s', 'max_s', 'spread' ((max-min)/median),
    'samples', 'repeats', 'warmup', 'number', 'peak_extra_bytes',
    'background_load'}}, the last from background_load over all the rounds.
    Last return values go into the dict ``results`` if one is given.
    progress: show a ``progress_bar`` of the rounds, its description the
    fn that runs now, in words: labels[name] ({name: words}), else its name.
    """
    repeats = _per_fn(fns, repeats, "repeats", 1)
    warmup = _per_fn(fns, warmup, "warmup", 0)
    words = {k: str((labels or {}).get(k, k)) for k in fns}
    cuda = str(device).startswith("cuda")
    sync = __import__("torch").cuda.synchronize if cuda else (lambda: None)
    start, stop = peak_meter(device)
    number, samples, peak = {}, {k: [] for k in fns}, {k: None for k in fns}
    with progress_bar(max(repeats.values(), default=0), "round", progress, next(iter(words.values()), None)) as bar:
        for name, fn in fns.items():
            t = math.inf
            for _ in range(warmup[name]):
                bar.set_description(f"{words[name]}, warm-up")
                t0 = time.perf_counter()
                fn()
                sync()
                t = time.perf_counter() - t0
            number[name] = 1 if t == math.inf else max(1, math.ceil(min_sample_s / max(t, 1e-9)))
        cpu0, wall0 = cpu_seconds(), time.perf_counter()
        for k in range(max(repeats.values(), default=0)):
            for name, fn in fns.items():
                if k >= repeats[name]:
                    continue
                bar.set_description(words[name])        # before the clock starts
                out = None                      # free the last result before measuring
                start()
                t0 = time.perf_counter()
                for _ in range(number[name]):
                    out = fn()
                sync()
                samples[name].append((time.perf_counter() - t0) / number[name])
                used = stop()
                peak[name] = used if peak[name] is None else max(peak[name], used or 0)
                if results is not None:
                    results[name] = out
            bar.update(1)                       # n: the rounds finished
    load = background_load(cpu0, wall0)
    stats = {}
    for name, s in samples.items():
        med = float(np.median(s))
        stats[name] = {"median_s": med, "min_s": min(s), "max_s": max(s),
                       "spread": (max(s) - min(s)) / med, "samples": s,
                       "repeats": repeats[name], "warmup": warmup[name], "number": number[name],
                       "peak_extra_bytes": peak[name],
                       "background_load": load}
    return stats


def compare_timings(timed, reference, digits=2):
    """``helpers.bounds.compare`` of two fns timed by one ``time_calls``
    (their stats dicts, or rows holding their 'samples'): the word and the
    range over the rounds both took part in, the ratio stated that of their
    medians over all their samples (the times the report shows): "slower
    (940 times as long; from 870 to 1000 over 3 rounds)", with .word,
    .ratio, .spread; ``digits`` significant digits.  Never raises on noise."""
    a, b = timed["samples"], reference["samples"]
    n = min(len(a), len(b))
    return compare(a[:n], b[:n], digits=digits, center=float(np.median(a) / np.median(b)))


_UNITS = ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns"))


def _unit(t):
    return next(((scale, name) for scale, name in _UNITS if t >= scale), _UNITS[-1])


def seconds(t, digits=3):
    """A measured time as text with its unit, rounded to nearest: '14.6 s', '86.1 ms'."""
    scale, name = _unit(float(t))
    value = number(float(t) / scale, digits)
    return Phrase(f"{value} {name}", {"kind": "value", "value": repr(float(t))})


def seconds_range(samples, digits=3):
    """The range of measured times, widened outward, in the unit of their
    median: 'from 14.2 to 15.3 s' (one value: '14.6 s')."""
    s = np.asarray(samples, dtype=float)
    scale, name = _unit(float(np.median(s)))
    span = between(s / scale, digits=digits)
    return Phrase(f"{span} {name}", span.check)


def traced_peak_bytes(fn):
    """Peak bytes allocated by ``fn()`` beyond what was live before, as seen
    by tracemalloc: exact for NumPy (it reports its array buffers), blind to
    torch.  It slows allocation-heavy Python code, so never time with it on."""
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        if not tracing:
            tracemalloc.stop()


# What marks a folder as the report tool's output folder (reportbuild's
# outfolder.MARK, or the render key older versions published), and the
# prefix of the working folder a build runs a notebook's saves into.
OUTPUT_MARKS = (".report-folder", "report.key")
BUILD_RUN_PREFIX = ".run-"


def results_folder(directory):
    """The folder ``directory`` names, as an absolute Path: relative to the
    project folder (PROJECT, the one above helpers/), never to the working
    directory, so a notebook run from anywhere saves inside the checkout.
    ValueError when it lies outside the project (the build refuses the same
    value), or inside a report's output folder (such as build/), whose
    files only a build may write.  The one folder of that kind allowed is a
    build's own working folder (``.run-*``), where a build points it."""
    out = (PROJECT / Path(directory).expanduser()).resolve()
    for folder in [out, *out.parents]:
        if any((folder / mark).is_file() for mark in OUTPUT_MARKS):
            inside = out.relative_to(folder).parts
            if inside and inside[0].startswith(BUILD_RUN_PREFIX):
                return out
            raise ValueError(f"results folder {directory!r} is inside the report's output folder "
                             f"{folder}/, which only the build writes; save a run of your own "
                             "elsewhere, such as scratch/results")
    if out != PROJECT and PROJECT not in out.parents:
        raise ValueError(f"results folder {directory!r} is outside the project folder {PROJECT}; "
                         "expected a folder inside it, such as scratch/results")
    return out


def save_results(result, directory, stem):
    """Write ``result`` (a dict with a 'rows' list of flat dicts) to
    directory/stem.json (everything) and directory/stem.csv (the rows), and
    append the rows, stamped with the run time, to directory/stem_history.csv
    so that runs can be compared: in the history's own columns, so a column
    added since its first run is left out and one gone is left empty.
    ``directory`` is checked by ``results_folder``.  The directory is
    created; returns the paths."""
    out = results_folder(directory)
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
    rows = [{k: v for k, v in r.items() if not isinstance(v, (list, dict))}
            for r in result["rows"]]
    paths = [out / f"{stem}.json", out / f"{stem}.csv", out / f"{stem}_history.csv"]
    paths[0].write_text(json.dumps({"saved": stamp, **result}, indent=1, default=str))
    for path, mode, extra in ((paths[1], "w", {}), (paths[2], "a", {"saved": stamp})):
        new = mode == "w" or not path.exists()
        fields = [*extra, *rows[0]]
        if not new:
            with open(path, newline="") as fh:
                fields = next(csv.reader(fh), None) or fields
        with open(path, mode, newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=fields, restval="", extrasaction="ignore")
            if new:
                w.writeheader()
            w.writerows({**extra, **r} for r in rows)
    return paths


def loglog_slope(sizes, values):
    """Least-squares slope of log(values) against log(sizes)."""
    return float(np.polyfit(np.log(sizes), np.log(values), 1)[0])
