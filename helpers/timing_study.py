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

from .accuracy import max_rel_error
from .complexity import forward_steps, reverse_steps, totals
from .forward_mode import f_and_grad_forward
from .model import f, make_problem
from .reverse_mode import f_and_grad_reverse, f_and_grad_reverse_fused
from .machine import background_load, cpu_seconds, machine_info
from .timing import time_calls
from .torch_reference import f_and_grad_torch

# name: (role, bytes read in units of one d x d matrix, GEMM-like (2 d^3 flops)?)
METHODS = {"f alone": ("baseline", 2, False), "matvec A x": ("bandwidth probe", 1, False),
           "reverse": ("ours", 4, False), "reverse fused": ("ours", 3, False),
           "PyTorch autograd": ("framework", 4, False), "GEMM B A": ("compute probe", 0, True),
           "forward": ("ours", 0, True), "forward chunked": ("ours", 0, True),
           "torch.func.jacfwd": ("framework", 0, False)}


def _f_torch(x, A, B):
    import torch
    return torch.sigmoid(B @ torch.sigmoid(A @ x)).sum()


def _methods(A, B, x, *, chunk_size, device):
    """{name: fn} for one problem; ours in NumPy on the CPU, torch on a GPU."""
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
    jac = torch.func.jacfwd(_f_torch)

    def gemm():                                  # the d x d product is dropped at once
        B @ A
    fns = {"f alone": lambda: f(x, A, B), "matvec A x": lambda: A @ x,
           "reverse": lambda: f_and_grad_reverse(x, A, B),
           "reverse fused": lambda: f_and_grad_reverse_fused(x, A, B),
           "PyTorch autograd": lambda: f_and_grad_torch(xt, At, Bt),
           "GEMM B A": gemm,
           "forward": lambda: f_and_grad_forward(x, A, B),
           "forward chunked": lambda: f_and_grad_forward(x, A, B, chunk_size=chunk_size),
           "torch.func.jacfwd": lambda: (None, jac(xt, At, Bt))}
    if not chunk_size:
        del fns["forward chunked"]
    return fns


def timing_study(d=8000, *, repeats=7, slow_repeats=1, warmup_d=256, chunk_size=0,
                 seed=0, device="cpu"):
    """Time every method of METHODS at d0 = d1 = d2 = d, float64.

    Returns {'machine', 'params', 'rows', 'agreement', 'wall_s'}: one row per
    method (median/min/max seconds, spread, repeats, peak extra bytes, GB/s
    or GFLOP/s, ratios to f, to PyTorch autograd and to the GEMM) and the
    max relative difference of each gradient from our reverse mode.
    """
    t_start, cpu_start = time.perf_counter(), cpu_seconds()
    small = _methods(*make_problem(warmup_d, warmup_d, warmup_d, seed=seed),
                     chunk_size=chunk_size and max(1, chunk_size * warmup_d // d), device=device)
    for fn in small.values():                  # library start-up, at a small size
        fn()
    A, B, x = make_problem(d, d, d, seed=seed)
    fns, out = _methods(A, B, x, chunk_size=chunk_size, device=device), {}
    slow = [k for k in fns if METHODS[k][2] or k == "torch.func.jacfwd"]
    stats = time_calls({k: v for k, v in fns.items() if k not in slow},
                       repeats=repeats, warmup=1, device=device, results=out)
    stats.update(time_calls({k: fns[k] for k in slow}, repeats=slow_repeats, warmup=0,
                            device=device, results=out))
    matrix_bytes = 8 * d * d
    rows = []
    for name, st in stats.items():
        role, reads, gemm_like = METHODS[name]
        t = st["median_s"]
        rows.append({"method": name, "role": role, **st,
                     "calls": f"{st['repeats']} + 1" if name not in slow
                     else f"{st['repeats']} + 1 small",
                     "GB_per_s": reads * matrix_bytes / t / 1e9 if reads else None,
                     "GFLOP_per_s": 2 * d**3 / t / 1e9 if gemm_like else None})
    ref = {"vs_f": "f alone", "vs_autograd": "PyTorch autograd", "vs_gemm": "GEMM B A"}
    for r in rows:
        r.update({k: r["median_s"] / stats[v]["median_s"] for k, v in ref.items()})
    agreement = {f"{k} vs reverse": max_rel_error(out[k][1], out["reverse"][1])
                 for k in fns if k not in ("reverse", "f alone", "matvec A x", "GEMM B A")}
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
    fwd, rev = (totals(steps(d, d, d))["madds"] for steps in (forward_steps, reverse_steps))
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

