"""Timing and memory measurement for parts 1e and 1f; they return numbers.

Nothing here prints or plots.  Times are wall-clock (time.perf_counter)
medians over repeats; several callables are timed round-robin so that a
burst of background load on a shared machine hits them alike.
"""

import contextlib
import csv
import json
import math
import os
import platform
import time
import tracemalloc
from pathlib import Path

import numpy as np


def peak_meter(device="cpu"):
    """(start, stop): stop() gives the peak memory, in bytes, above the level
    at start(); None where it cannot be measured.  CPU: the process's peak
    resident set (Linux resets it when 5 is written to /proc/self/clear_refs),
    so NumPy and PyTorch count alike and the measured code runs untouched;
    resolution a page (2 MiB for transparent huge pages).  CUDA: torch's counters."""
    if str(device).startswith("cuda"):
        import torch
        base = [0]
        def start():
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            base[0] = torch.cuda.memory_allocated()
        return start, lambda: torch.cuda.max_memory_allocated() - base[0]
    def kb(field):
        with open("/proc/self/status") as fh:
            return next(int(ln.split()[1]) * 1024 for ln in fh if ln.startswith(field))
    base = [None]
    def start():
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
            base[0] = kb("VmRSS:")
        except OSError:
            base[0] = None
    return start, lambda: None if base[0] is None else kb("VmHWM:") - base[0]


def cpu_seconds():
    """(CPU seconds used by the whole machine, by this process) since boot /
    start, from /proc/stat and os.times(); (nan, own) where /proc is missing.
    Their increments over a measurement tell how much other jobs ran."""
    t = os.times()
    try:
        with open("/proc/stat") as fh:
            v = [int(x) for x in fh.readline().split()[1:9]]
        machine = (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")   # less idle, iowait
    except OSError:
        machine = math.nan
    return machine, t.user + t.system


def background_load(cpu_start, wall_start, min_wall_s=0.5):
    """Share of all CPUs that other processes used since ``cpu_start`` (from
    cpu_seconds()) and ``wall_start`` (time.perf_counter()); None for spans
    under min_wall_s, which the kernel's 10 ms tick cannot resolve."""
    wall, cpu = time.perf_counter() - wall_start, cpu_seconds()
    if wall < min_wall_s or math.isnan(cpu[0]):
        return None
    other = (cpu[0] - cpu_start[0]) - (cpu[1] - cpu_start[1])
    return min(1.0, max(0.0, other / (wall * (os.cpu_count() or 1))))


def time_calls(fns, *, repeats=5, warmup=1, min_sample_s=0.0, device="cpu", results=None):
    """Median wall time of each callable in ``fns`` ({name: fn()}).

    Rounds run every function once in turn (after ``warmup`` untimed calls
    each).  A sample loops a fast fn ``number`` times (chosen from the last
    warm-up) to last at least ``min_sample_s``.  Returns {name: {'median_s',
    'min_s', 'max_s', 'spread' ((max-min)/median), 'samples', 'repeats',
    'warmup', 'number', 'peak_extra_bytes', 'background_load'}}, the last
    from background_load over all the rounds.  Last return values go into
    the dict ``results`` if one is given.
    """
    if repeats < 1 or warmup < 0:
        raise ValueError(f"need repeats >= 1 and warmup >= 0, got {repeats}, {warmup}")
    cuda = str(device).startswith("cuda")
    sync = __import__("torch").cuda.synchronize if cuda else (lambda: None)
    start, stop = peak_meter(device)
    number, samples, peak = {}, {k: [] for k in fns}, {k: None for k in fns}
    for name, fn in fns.items():
        t = math.inf
        for _ in range(warmup):
            t0 = time.perf_counter()
            fn()
            sync()
            t = time.perf_counter() - t0
        number[name] = 1 if t == math.inf else max(1, math.ceil(min_sample_s / max(t, 1e-9)))
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    for _ in range(repeats):
        for name, fn in fns.items():
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
    load = background_load(cpu0, wall0)
    stats = {}
    for name, s in samples.items():
        med = float(np.median(s))
        stats[name] = {"median_s": med, "min_s": min(s), "max_s": max(s),
                       "spread": (max(s) - min(s)) / med, "samples": s,
                       "repeats": repeats, "warmup": warmup, "number": number[name],
                       "peak_extra_bytes": peak[name],
                       "background_load": load}
    return stats


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


def _openblas():
    """(get, set) for the thread count of the OpenBLAS that NumPy loaded,
    called through ctypes as threadpoolctl does; None where not found."""
    import ctypes
    try:
        with open("/proc/self/maps") as fh:
            libs = sorted({ln.split()[-1] for ln in fh if "openblas" in ln.lower()
                           and ".so" in ln})
    except OSError:
        return None
    names = [("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
             ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
             ("openblas_get_num_threads", "openblas_set_num_threads")]
    for lib in libs:
        for get, set_ in names:
            try:
                dll = ctypes.CDLL(lib)
                return getattr(dll, get), getattr(dll, set_)
            except (OSError, AttributeError):
                continue
    return None


@contextlib.contextmanager
def blas_threads(n):
    """Run the block with NumPy's OpenBLAS limited to ``n`` threads (restored
    afterwards).  Yields the count in force, or None where it cannot be set."""
    api = _openblas()
    if api is None or n is None:
        yield None
        return
    get, set_ = api
    before = get()
    set_(int(n))
    try:
        yield get()
    finally:
        set_(before)


def machine_info(device="cpu"):
    """What the timings ran on: CPU model, cores, each library's BLAS and its
    threads, versions, thread variables and (for CUDA) the GPU.  A flat dict."""
    import torch
    cpu = platform.processor() or platform.machine()
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as fh:
            cpu = next((ln.split(":", 1)[1].strip() for ln in fh
                        if ln.startswith("model name")), cpu)
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    info = {"cpu": cpu, "logical_cores": os.cpu_count(),
            "cores_usable": len(os.sched_getaffinity(0)),
            "numpy": f"{np.__version__} ({blas.get('name')} {blas.get('version')})",
            "numpy_blas_threads": _openblas() and _openblas()[0](),
            "torch": f"{torch.__version__} ({'MKL' if torch.backends.mkl.is_available() else '?'})",
            "torch_threads": torch.get_num_threads(), "python": platform.python_version(),
            "device": str(device)}
    info.update({v: os.environ[v] for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                            "MKL_NUM_THREADS") if v in os.environ})
    if str(device).startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return info


def save_results(result, directory, stem):
    """Write ``result`` (a dict with a 'rows' list of flat dicts) to
    directory/stem.json (everything) and directory/stem.csv (the rows), and
    append the rows, stamped with the run time, to directory/stem_history.csv
    so that runs can be compared.  The directory is created; returns the paths."""
    out = Path(directory).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
    rows = [{k: v for k, v in r.items() if not isinstance(v, (list, dict))}
            for r in result["rows"]]
    paths = [out / f"{stem}.json", out / f"{stem}.csv", out / f"{stem}_history.csv"]
    paths[0].write_text(json.dumps({"saved": stamp, **result}, indent=1, default=str))
    for path, mode, extra in ((paths[1], "w", {}), (paths[2], "a", {"saved": stamp})):
        new = mode == "w" or not path.exists()
        with open(path, mode, newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=[*extra, *rows[0]])
            if new:
                w.writeheader()
            w.writerows({**extra, **r} for r in rows)
    return paths


def loglog_slope(sizes, values):
    """Least-squares slope of log(values) against log(sizes)."""
    return float(np.polyfit(np.log(sizes), np.log(values), 1)[0])
