"""Part 1f: one timing study at d0 = d1 = d2 = d, its answer in numbers, and
the performance checks of ``python -m helpers.bench``.

Used by notebooks/1f_timing.ipynb and by ``python -m helpers.bench``.
The methods at d are timed in the same interleaved rounds: the O(d^2) ones
get one warm-up and ``repeats`` rounds; the O(d^3) ones (GEMM, forward
mode: seconds each at d = 8000) the first ``slow_repeats`` rounds, warmed up
at a small size (at d too where that is cheap).  NumPy's and torch's
matrix-vector products are timed side by side (on the CPU), so that the
report can compare the libraries' speed at the product both reverse modes
are made of.  The two probes, the bare GEMM and the bare matrix-vector
product, are also timed at a second size, ``probe_d``, whose rates predict
the forward/reverse time ratio at d without using the gradients' own times.
The extras that only add context (``Method.context``: torch.func.jacfwd, the
chunked forward mode) are timed once, at probe_d, in the probes' rounds, so
that they cost an eighth of a call at d and compare with the GEMM there.
Each stage shows a progress bar on stderr (``progress``).  The functions
return numbers and print nothing.
"""

import time

import numpy as np

from ._checks import check_count
from .accuracy import max_rel_error
from .bounds import compare
from .machine import background_load, cpu_seconds, machine_info
from .methods import METHOD, Inputs, runnable
from .model import make_problem
from .timing import MIN_SAMPLE_S, seconds, seconds_range, time_calls


def _inputs(A, B, x, *, chunk_size, device):
    """Inputs for one problem: ours in NumPy on the CPU, tensors on a GPU."""
    import torch
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        dev = None
    if dev is None or dev.type not in ("cpu", "cuda") or dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device must be 'cpu' or an available 'cuda[:n]', got {device!r}"
                         f" (torch.cuda.is_available() is {torch.cuda.is_available()})")
    At, Bt, xt = (torch.from_numpy(a).to(device) for a in (A, B, x))   # views on the CPU
    if dev.type != "cpu":
        A, B, x = At, Bt, xt
    return Inputs(x, A, B, chunk_size, xt, At, Bt)


PROBES = ("gemm", "matvec")      # rates measured apart from the gradients
FLOOR = ("matvec", "vecmat")     # A x and x A at d: the faster one times one full read of a matrix
WARM_AT_D_S = 1.0                # a slow method predicted to take less is warmed up at d itself


def _plan(methods, *, repeats, slow_repeats, small_s, scale):
    """({key: timed rounds}, {key: warm-ups at d}): the fast methods one
    warm-up and ``repeats`` rounds, the slow ones ``slow_repeats`` rounds,
    the context ones one round; a slow or context method is warmed up at d
    only where its call at the small size, times ``scale`` (the growth of
    d^3), predicts under WARM_AT_D_S, else its small call was its warm-up."""
    rounds, warm = {}, {}
    for m in methods:
        rounds[m.key] = 1 if m.context else slow_repeats if m.slow else repeats
        warm[m.key] = 1 if not m.slow or small_s.get(m.key, 0.0) * scale < WARM_AT_D_S else 0
    return rounds, warm


def _calls(st, warmup_d):
    """How a method was timed, in words: timed samples (calls looped in each)
    + warm-ups, at the size it was timed at or, where its only warm-up was
    the start-up call at the small size, at that size:
    '7 timed (2 calls each) + 1 warm-up', '3 timed + 1 warm-up at d = 256'."""
    looped = f" ({st['number']} calls each)" if st["number"] > 1 else ""
    warm = (f"{st['warmup']} warm-up" + "s" * (st["warmup"] > 1) if st["warmup"]
            else f"1 warm-up at d = {warmup_d}")
    return f"{st['repeats']} timed{looped} + {warm}"


def _words(methods, d):
    """{key: 'forward mode at d = 8000'}: what a progress bar says runs."""
    return {m.key: f"{m.name} at d = {d}" for m in methods}


def _row(m, st, d, warmup_d):
    """One study row: the method, its time_calls stats, the size it was timed
    at, how (``_calls``), and its rate (GB/s or GFLOP/s) at that size."""
    t = st["median_s"]
    return {"method": m.label, "key": m.key, "role": m.role, "d": d, "context": m.context, **st,
            "calls": _calls(st, warmup_d),
            "GB_per_s": m.reads * 8 * d * d / t / 1e9 if m.reads else None,
            "GFLOP_per_s": m.flops * d**3 / t / 1e9 if m.flops else None}


def timing_study(d=8000, *, repeats=7, slow_repeats=3, warmup_d=256, chunk_size=0,
                 seed=0, device="cpu", probe_d=None, min_sample_s=MIN_SAMPLE_S, progress=True):
    """Time every method of ``methods.METHODS`` at d0 = d1 = d2 = d, float64,
    but the context ones, and time the two PROBES and the context methods
    at ``probe_d`` (default d // 2).

    Each size is timed by one ``time_calls`` in interleaved rounds: the fast
    methods in ``repeats`` rounds after one warm-up, the slow ones in the
    first ``slow_repeats`` rounds, the context ones (at probe_d) in the
    first; a call shorter than ``min_sample_s`` is looped inside its sample.
    Every method is first called once at ``warmup_d`` (library start-up).
    progress: time_calls' progress bars, one per size.
    Returns {'machine', 'params', 'rows', 'probes', 'agreement', 'wall_s',
    'background_load'}: one row per method ('method': its label, 'key',
    'role', 'd': the size it was timed at, 'context', time_calls' stats
    with its 'samples', 'calls', GB/s or GFLOP/s, and ratios of medians:
    'vs_f', 'vs_autograd' and 'vs_gemm' at d, and 'vs_floor' to its read
    floor ('floor_s': its full matrix reads x the faster median of the
    FLOOR products, None for a method that is not memory-bound); for a
    context row only 'vs_gemm', to the GEMM at probe_d, the others None), the methods at d
    first, the fast ones first; the probes' time_calls stats at probe_d
    ({key: stats}; probe_d is in 'params'); and {key: max relative
    difference} of each gradient from our reverse mode's at the same size.
    """
    d, repeats, slow_repeats, warmup_d = (check_count(n, v) for n, v in (
        ("d", d), ("repeats", repeats), ("slow_repeats", slow_repeats), ("warmup_d", warmup_d)))
    chunk_size = check_count("chunk_size", chunk_size, minimum=0)
    probe_d = max(1, d // 2) if probe_d is None else check_count("probe_d", probe_d)
    t_start, cpu_start = time.perf_counter(), cpu_seconds()
    small = _inputs(*make_problem(warmup_d, warmup_d, warmup_d, seed=seed),
                    chunk_size=chunk_size and max(1, chunk_size * warmup_d // d), device=device)
    small_s = {}
    for m in runnable(small):                   # library start-up, at a small size
        t0 = time.perf_counter()
        m.call(small)
        small_s[m.key] = time.perf_counter() - t0
    plan = {"repeats": repeats, "slow_repeats": slow_repeats, "small_s": small_s}
    timing = {"min_sample_s": min_sample_s, "device": device, "progress": progress}
    probe = _inputs(*make_problem(probe_d, probe_d, probe_d, seed=seed), chunk_size=chunk_size, device=device)
    extras = [m for m in runnable(probe) if m.context]
    at_probe = [METHOD[k] for k in PROBES] + extras
    rounds, warm = _plan(at_probe, scale=(probe_d / warmup_d) ** 3, **plan)
    out_probe = {}
    probe_stats = time_calls({m.key: (lambda m=m, q=probe: m.call(q)) for m in at_probe}, repeats=rounds,
                             warmup=warm, results=out_probe, labels=_words(at_probe, probe_d), **timing)
    probe_grad = METHOD["reverse"].call(probe)[1]      # what the extras' gradients are checked against
    del probe
    p = _inputs(*make_problem(d, d, d, seed=seed), chunk_size=chunk_size, device=device)
    methods = sorted((m for m in runnable(p) if not m.context), key=lambda m: m.slow)   # the fast ones first
    rounds, warm = _plan(methods, scale=(d / warmup_d) ** 3, **plan)
    out = {}
    stats = time_calls({m.key: (lambda m=m, p=p: m.call(p)) for m in methods},
                       repeats=rounds, warmup=warm, results=out, labels=_words(methods, d), **timing)
    rows = [_row(m, stats[m.key], d, warmup_d) for m in methods]
    ref = {"vs_f": "f", "vs_autograd": "torch_autograd", "vs_gemm": "gemm"}
    t_mv = min(stats[k]["median_s"] for k in FLOOR)
    for m, r in zip(methods, rows):
        r.update({k: r["median_s"] / stats[v]["median_s"] for k, v in ref.items()})
        r["floor_s"] = m.reads * t_mv if m.reads else None
        r["vs_floor"] = r["median_s"] / r["floor_s"] if m.reads else None
    for m in extras:
        st = probe_stats[m.key]
        rows.append({**_row(m, st, probe_d, warmup_d), "vs_f": None, "vs_autograd": None,
                     "vs_gemm": st["median_s"] / probe_stats["gemm"]["median_s"],
                     "floor_s": None, "vs_floor": None})
    agreement = {m.key: max_rel_error(out[m.key][1], out["reverse"][1])
                 for m in methods if m.gradient and m.key != "reverse"}
    agreement.update({m.key: max_rel_error(out_probe[m.key][1], probe_grad) for m in extras if m.gradient})
    params = {"d": d, "repeats": repeats, "slow_repeats": slow_repeats, "warmup_d": warmup_d,
              "chunk_size": chunk_size, "seed": seed, "device": device, "dtype": "float64",
              "probe_d": probe_d, "min_sample_s": min_sample_s}
    return {"machine": machine_info(device), "params": params, "rows": rows,
            "probes": {k: probe_stats[k] for k in PROBES},
            "agreement": agreement, "wall_s": time.perf_counter() - t_start,
            "background_load": background_load(cpu_start, t_start)}


def targets(study):
    """Performance checks as rows {'check', 'measured' (from medians),
    'fastest calls' (the same ratio from each method's fastest call, less
    exposed to other jobs), 'limit', 'status'}.  The context methods are
    checked against the GEMM at their own size, probe_d."""
    by = {r["key"]: r for r in study["rows"]}
    d, c, pd = (study["params"][k] for k in ("d", "chunk_size", "probe_d"))
    mem = lambda k, unit: (np.nan if by[k]["peak_extra_bytes"] is None
                           else by[k]["peak_extra_bytes"] / unit)     # None: not measurable
    best = lambda a, b: by[a]["min_s"] / by[b]["min_s"]
    best_gemm = lambda a: by[a]["min_s"] / study["probes"]["gemm"]["min_s"]     # a context method
    best_floor = lambda a: by[a]["min_s"] / (METHOD[a].reads * min(by[k]["min_s"] for k in FLOOR))
    floor = lambda a, lim: (f"{METHOD[a].label} / its read floor ({METHOD[a].reads} reads x the faster "
                            f"matrix-vector product)" + ("" if lim else " (no limit)"),
                            by[a]["vs_floor"], best_floor(a), lim)
    checks = [("reverse / PyTorch autograd", by["reverse"]["vs_autograd"],
               best("reverse", "torch_autograd"), 0.9),
              ("reverse fused / PyTorch autograd", by["reverse_fused"]["vs_autograd"],
               best("reverse_fused", "torch_autograd"), 0.8),
              ("reverse fused vs reverse, max rel. diff.",
               study["agreement"]["reverse_fused"], None, 1e-14),
              floor("reverse_fused", 1.15), floor("reverse", 1.1),
              ("forward / GEMM", by["forward"]["vs_gemm"], best("forward", "gemm"), 1.05),
              ("forward peak extra memory, d x d matrices", mem("forward", 8 * d * d), None,
               2.01)]
    if c:
        checks += [(f"forward chunked / GEMM, both at d = {pd}", by["forward_chunked"]["vs_gemm"],
                    best_gemm("forward_chunked"), 1.1),
                   (f"forward chunked peak extra memory / (2 d c numbers), c = {c}, d = {pd}",
                    mem("forward_chunked", 8 * 2 * pd * min(c, pd)), None, 1.05)]
    checks += [("reverse fused / reverse (no limit; 3 passes / 4 = 0.75)",
                by["reverse_fused"]["median_s"] / by["reverse"]["median_s"],
                best("reverse_fused", "reverse"), None),
               floor("torch_autograd", None),
               (f"torch.func.jacfwd / GEMM, both at d = {pd} (no limit)", by["jacfwd"]["vs_gemm"],
                best_gemm("jacfwd"), None)]
    return [{"check": n, "measured": m, "fastest calls": b, "limit": lim,
             "status": "info" if lim is None or np.isnan(m) else "PASS" if m <= lim else "MISS"}
            for n, m, b, lim in checks]


def floor_comparison(study, key, digits=3):
    """``bounds.compare`` of method ``key`` with its read floor, round by
    round: its samples against its full matrix reads times the samples of
    the FLOOR product with the faster median (the one that sets the floor of
    its row), taken in the same rounds.  The ratio stated is then its row's
    'vs_floor' (of the medians), the range that of the rounds: 'slower
    (1.31 times as long; from 1.22 to 1.40 over 7 rounds)'.  ValueError for
    a method without a read floor."""
    by = {r["key"]: r for r in study["rows"]}
    row = by.get(key)
    if row is None or row["vs_floor"] is None:
        raise ValueError(f"floor_comparison: {key!r} has no read floor in this study; expected one of "
                         f"{[r['key'] for r in study['rows'] if r['vs_floor'] is not None]}")
    faster = min(FLOOR, key=lambda k: by[k]["median_s"])
    floors = [METHOD[key].reads * t for t in by[faster]["samples"]]
    n = min(len(row["samples"]), len(floors))
    return compare(row["samples"][:n], floors[:n], digits=digits, center=row["vs_floor"])


def mode_comparison(study):
    """The answer of part 1f in numbers (a dict of floats).

    Measured at d: '<k>_s' (median), '<k>_min_s', '<k>_max_s' and '<k>_n'
    (timed calls) for k in forward, reverse, autograd; 'forward_vs_reverse'
    and 'reverse_vs_autograd' (ratios of medians).
    Predicted at d from the probes at probe_d (never from the gradients'
    own times): 'gemm_madds_per_s' and 'matvec_madds_per_s', the probes'
    multiply-adds per second; 'predicted_forward_s' and
    'predicted_reverse_s', each mode's exact multiply-adds at d (part 1e)
    over the rate of its kind of product; 'predicted_time_ratio', their
    quotient (= 'madds_ratio' x matvec rate / GEMM rate); 'probe_d'.
    """
    by = {r["key"]: r for r in study["rows"]}
    d, pd, pr = study["params"]["d"], study["params"]["probe_d"], study["probes"]
    fwd, rev = (METHOD[k].madds(d, d, d) for k in ("forward", "reverse"))
    gemm_rate = pd**3 / pr["gemm"]["median_s"]             # multiply-adds per second
    matvec_rate = pd**2 / pr["matvec"]["median_s"]
    out = {"probe_d": pd, "madds_ratio": fwd / rev,
           "gemm_madds_per_s": gemm_rate, "matvec_madds_per_s": matvec_rate,
           "predicted_forward_s": fwd / gemm_rate, "predicted_reverse_s": rev / matvec_rate}
    out["predicted_time_ratio"] = out["predicted_forward_s"] / out["predicted_reverse_s"]
    for key, method in (("forward", "forward"), ("reverse", "reverse"), ("autograd", "torch_autograd")):
        r = by[method]
        out.update({f"{key}_s": r["median_s"], f"{key}_min_s": r["min_s"],
                    f"{key}_max_s": r["max_s"], f"{key}_n": r["repeats"]})
    out["forward_vs_reverse"] = out["forward_s"] / out["reverse_s"]
    out["reverse_vs_autograd"] = out["reverse_s"] / out["autograd_s"]
    return out


def summary_rows(study):
    """study['rows'] as display strings: times with their unit (the range
    widened outward), calls, ratios, rate and its ratio to the read floor
    ('vs floor', row 'vs_floor'), memory; a method timed at
    another size than d is named with its size: 'torch.func.jacfwd (d = 4000)'."""
    g = lambda v, fmt: "-" if v is None else format(v, fmt)
    d = study["params"]["d"]
    return [{"method": r["method"] + (f" (d = {r['d']})" if r["d"] != d else ""),
             "median": str(seconds(r["median_s"])),
             "range": str(seconds_range(r["samples"])) if r["repeats"] > 1 else "-",
             "calls": r["calls"],
             "vs f": g(r["vs_f"], ".3g"), "vs autograd": g(r["vs_autograd"], ".3g"),
             "vs GEMM": g(r["vs_gemm"], ".3g"),
             "rate": f"{r['GB_per_s']:.1f} GB/s" if r["GB_per_s"] else
             f"{r['GFLOP_per_s']:.0f} GFLOP/s" if r["GFLOP_per_s"] else "-",
             "vs floor": g(r["vs_floor"], ".3g"),
             "extra MiB": g(r["peak_extra_bytes"] and r["peak_extra_bytes"] / 2**20, ".0f")}
            for r in study["rows"]]


def summary_tables(study):
    """summary_rows split in two tables narrow enough for a page:
    (times: method, median, range, calls, rate, vs floor, extra MiB;
     ratios of medians: method, vs f, vs autograd, vs GEMM)."""
    rows = summary_rows(study)
    pick = lambda *cols: [{c: r[c] for c in ("method", *cols)} for r in rows]
    return (pick("median", "range", "calls", "rate", "vs floor", "extra MiB"),
            pick("vs f", "vs autograd", "vs GEMM"))

