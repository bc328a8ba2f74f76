"""Part 1f: one timing study at d0 = d1 = d2 = d, its answer in numbers, and
the performance checks of ``python -m helpers.bench``.

Used by notebooks/1f_timing.ipynb and by ``python -m helpers.bench``.
The O(d^2) methods get one warm-up and
``repeats`` timed calls; the O(d^3) ones (GEMM, forward mode, jacfwd:
seconds each at d = 8000) are warmed up at a small size and timed
``slow_repeats`` times.  The functions return numbers and print nothing.
"""

import time

import numpy as np

from ._checks import check_count
from .accuracy import max_rel_error
from .machine import background_load, cpu_seconds, machine_info
from .methods import METHOD, Inputs, runnable
from .model import make_problem
from .timing import time_calls


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


def timing_study(d=8000, *, repeats=7, slow_repeats=1, warmup_d=256, chunk_size=0,
                 seed=0, device="cpu"):
    """Time every method of ``methods.METHODS`` at d0 = d1 = d2 = d, float64.

    Returns {'machine', 'params', 'rows', 'agreement', 'wall_s',
    'background_load'}: one row per method (median/min/max seconds, spread,
    repeats, peak extra bytes, GB/s or GFLOP/s, ratios to f, to PyTorch
    autograd and to the GEMM) and the max relative difference of each
    gradient from our reverse mode.
    """
    d, repeats, slow_repeats, warmup_d = (check_count(n, v) for n, v in (
        ("d", d), ("repeats", repeats), ("slow_repeats", slow_repeats), ("warmup_d", warmup_d)))
    chunk_size = check_count("chunk_size", chunk_size, minimum=0)
    t_start, cpu_start = time.perf_counter(), cpu_seconds()
    small = _inputs(*make_problem(warmup_d, warmup_d, warmup_d, seed=seed),
                    chunk_size=chunk_size and max(1, chunk_size * warmup_d // d), device=device)
    for m in runnable(small):                   # library start-up, at a small size
        m.call(small)
    p = _inputs(*make_problem(d, d, d, seed=seed), chunk_size=chunk_size, device=device)
    methods = sorted(runnable(p), key=lambda m: m.slow)        # the fast ones first
    stats, out = {}, {}
    for slow, n, warmup in ((False, repeats, 1), (True, slow_repeats, 0)):
        stats.update(time_calls({m.name: (lambda m=m: m.call(p)) for m in methods if m.slow == slow},
                                repeats=n, warmup=warmup, device=device, results=out))
    matrix_bytes = 8 * d * d
    rows = []
    for m in methods:
        st = stats[m.name]
        t = st["median_s"]
        rows.append({"method": m.name, "role": m.role, **st,
                     "calls": f"{st['repeats']} + 1" + (" small" if m.slow else ""),
                     "GB_per_s": m.reads * matrix_bytes / t / 1e9 if m.reads else None,
                     "GFLOP_per_s": m.flops * d**3 / t / 1e9 if m.flops else None})
    ref = {"vs_f": "f alone", "vs_autograd": "PyTorch autograd", "vs_gemm": "GEMM B A"}
    for r in rows:
        r.update({k: r["median_s"] / stats[v]["median_s"] for k, v in ref.items()})
    agreement = {f"{m.name} vs reverse": max_rel_error(out[m.name][1], out["reverse"][1])
                 for m in methods if m.gradient and m.name != "reverse"}
    params = {"d": d, "repeats": repeats, "slow_repeats": slow_repeats, "warmup_d": warmup_d,
              "chunk_size": chunk_size, "seed": seed, "device": device, "dtype": "float64"}
    return {"machine": machine_info(device), "params": params, "rows": rows,
            "agreement": agreement, "wall_s": time.perf_counter() - t_start,
            "background_load": background_load(cpu_start, t_start)}


def targets(study):
    """Performance checks as rows {'check', 'measured' (from medians),
    'fastest calls' (the same ratio from each method's fastest call, less
    exposed to other jobs), 'limit', 'status'}."""
    by = {r["method"]: r for r in study["rows"]}
    d, c = study["params"]["d"], study["params"]["chunk_size"]
    mem = lambda k, unit: (np.nan if by[k]["peak_extra_bytes"] is None
                           else by[k]["peak_extra_bytes"] / unit)     # None: not measurable
    best = lambda a, b: by[a]["min_s"] / by[b]["min_s"]
    checks = [("reverse / PyTorch autograd", by["reverse"]["vs_autograd"],
               best("reverse", "PyTorch autograd"), 0.9),
              ("reverse fused / PyTorch autograd", by["reverse fused"]["vs_autograd"],
               best("reverse fused", "PyTorch autograd"), 0.8),
              ("reverse fused vs reverse, max rel. diff.",
               study["agreement"]["reverse fused vs reverse"], None, 1e-12),
              ("forward / GEMM", by["forward"]["vs_gemm"], best("forward", "GEMM B A"), 1.05),
              ("forward peak extra memory, d x d matrices", mem("forward", 8 * d * d), None,
               2.01)]
    if c:
        checks += [("forward chunked / GEMM", by["forward chunked"]["vs_gemm"],
                    best("forward chunked", "GEMM B A"), 1.1),
                   (f"forward chunked peak extra memory / (2 d c numbers), c = {c}",
                    mem("forward chunked", 8 * 2 * d * min(c, d)), None, 1.05)]
    checks += [("reverse fused / reverse (no limit; 3 passes / 4 = 0.75)",
                by["reverse fused"]["median_s"] / by["reverse"]["median_s"],
                best("reverse fused", "reverse"), None),
               ("torch.func.jacfwd / GEMM (no limit)", by["torch.func.jacfwd"]["vs_gemm"],
                best("torch.func.jacfwd", "GEMM B A"), None)]
    return [{"check": n, "measured": m, "fastest calls": b, "limit": lim,
             "status": "info" if lim is None or np.isnan(m) else "PASS" if m <= lim else "MISS"}
            for n, m, b, lim in checks]


def mode_comparison(study):
    """The answer of part 1f in numbers: seconds of forward, reverse and
    PyTorch autograd, their ratios, and the multiply-add ratio of the counts
    turned into a time ratio by the two probes' rates (the GEMM's and the
    matrix-vector product's multiply-adds per second), measured apart from
    the gradients.  Returns a dict of floats."""
    by = {r["method"]: r for r in study["rows"]}
    d = study["params"]["d"]
    fwd, rev = (METHOD[k].madds(d, d, d) for k in ("forward", "reverse"))
    gemm_rate = d**3 / by["GEMM B A"]["median_s"]           # multiply-adds per second
    matvec_rate = d**2 / by["matvec A x"]["median_s"]
    t = {k: by[k]["median_s"] for k in ("forward", "reverse", "PyTorch autograd")}
    return {"forward_s": t["forward"], "reverse_s": t["reverse"], "autograd_s": t["PyTorch autograd"],
            "forward_vs_reverse": t["forward"] / t["reverse"],
            "reverse_vs_autograd": t["reverse"] / t["PyTorch autograd"],
            "madds_ratio": fwd / rev, "gemm_madds_per_s": gemm_rate, "matvec_madds_per_s": matvec_rate,
            "predicted_time_ratio": fwd / rev * matvec_rate / gemm_rate}


def summary_rows(study):
    """study['rows'] as display strings: times, calls, ratios, rate, memory."""
    g = lambda v, fmt: "-" if v is None else format(v, fmt)
    return [{"method": r["method"], "median s": g(r["median_s"], ".3g"),
             "range s": f"{r['min_s']:.3g} to {r['max_s']:.3g}" if r["repeats"] > 1 else "-",
             "calls": r["calls"],
             "vs f": g(r["vs_f"], ".3g"), "vs autograd": g(r["vs_autograd"], ".3g"),
             "vs GEMM": g(r["vs_gemm"], ".3g"),
             "rate": f"{r['GB_per_s']:.1f} GB/s" if r["GB_per_s"] else
             f"{r['GFLOP_per_s']:.0f} GFLOP/s" if r["GFLOP_per_s"] else "-",
             "extra MiB": g(r["peak_extra_bytes"] and r["peak_extra_bytes"] / 2**20, ".0f")}
            for r in study["rows"]]


def summary_tables(study):
    """summary_rows split in two tables narrow enough for a page:
    (times: method, median, range, calls, extra MiB;
     ratios: method, vs f, vs autograd, vs GEMM, rate)."""
    rows = summary_rows(study)
    pick = lambda *cols: [{c: r[c] for c in ("method", *cols)} for r in rows]
    return (pick("median s", "range s", "calls", "extra MiB"),
            pick("vs f", "vs autograd", "vs GEMM", "rate"))

