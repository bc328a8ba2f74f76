"""Figures for parts 1e and 1f.  Drawing only: the numbers come from
helpers.scaling and helpers.timing_study.  Every function returns its figure
and never calls plt.show(); single-panel ones take ``ax=None``."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from ._plots import figure_axes
from .methods import METHOD, ROLES
from .scaling import SWEPT, sweep_slopes
from .timing import seconds

COLORS = dict(zip(SWEPT, ("tab:blue", "tab:orange")))
ROLE_COLORS = dict(zip(ROLES, ("tab:blue", "tab:red", "tab:gray", "tab:green", "tab:purple")))


def _ratio(v):
    return f"{v:.0f}" if v >= 10 else f"{v:.2f}"


def plot_sweep(rows, vary, *, ax=None, legend=True):
    """Log-log median times of both modes against the varied size (whiskers:
    fastest to slowest sample, where the rows have them), with
    least-squares lines, each labelled with its fitted slope and the slope
    of the exact multiply-add counts at the same sizes.
    rows: from helpers.scaling.sweep; vary: 'square', 'd0', 'd1' or 'd2'."""
    fig, ax = figure_axes(ax)
    key = "d0" if vary == "square" else vary
    n = np.array([r[key] for r in rows], dtype=float)
    handles = []                    # per mode its points, then its line: one legend column each
    for mode, (fitted, predicted) in sweep_slopes(rows, vary).items():
        t = np.array([r[f"{mode}_s"] for r in rows])
        line = np.exp(np.polyval(np.polyfit(np.log(n), np.log(t), 1), np.log(n)))
        lo, hi = (np.array([r.get(f"{mode}_{k}_s", m) for r, m in zip(rows, t)]) for k in ("min", "max"))
        handles.append(ax.errorbar(n, t, yerr=[t - lo, hi - t], fmt="o", capsize=2, color=COLORS[mode],
                                   label=METHOD[mode].label))
        ax.set_xscale("log")
        ax.set_yscale("log")
        handles += ax.loglog(n, line, "-", color=COLORS[mode],
                             label=f"slope {fitted:.2f} (counts {predicted:.2f})")
    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    if vary == "square":
        ax.set_xlabel("$d_0 = d_1 = d_2$")
        ax.set_title("all sizes equal")
    else:
        fixed = ", ".join(f"$d_{k[1]}$" for k in ("d0", "d1", "d2") if k != vary)
        ax.set_xlabel(f"$d_{vary[1]}$ ({fixed} = {rows[0]['d1' if vary != 'd1' else 'd0']})")
        ax.set_title(f"varying $d_{vary[1]}$")
    ax.set_ylabel("seconds per call (median)")
    if legend:       # below the axes, where it can hide no point: one column per mode
        fig.legend(handles, [h.get_label() for h in handles], fontsize="small",
                   loc="outside lower center", ncol=len(handles) // 2, frameon=False)
    ax.grid(True, which="major", alpha=0.3)
    return fig


def plot_timings(rows, *, ax=None, title=None):
    """Horizontal bars of median seconds (log scale), whiskers from the
    fastest to the slowest call, coloured by role, each labelled with its
    time and its ratio to PyTorch autograd.
    rows: study['rows'] from helpers.timing_study.timing_study; the context
    ones, timed at another size and without that ratio, are left out."""
    fig, ax = figure_axes(ax)
    rows = sorted((r for r in rows if not r.get("context")), key=lambda r: r["median_s"])
    y = np.arange(len(rows))
    med = np.array([r["median_s"] for r in rows])
    err = np.array([[m - r["min_s"], r["max_s"] - m] for m, r in zip(med, rows)]).T
    ax.barh(y, med, xerr=err, capsize=2,
            color=[ROLE_COLORS[r["role"]] for r in rows])
    for yi, r in zip(y, rows):
        ax.text(r["max_s"] * 1.2, yi, f"{seconds(r['median_s'])}, {_ratio(r['vs_autograd'])}"
                " × autograd", va="center", fontsize="small")
    ax.set_yticks(y, [r["method"] for r in rows])
    ax.set_xscale("log")
    ax.set_xlim(med.min() / 2, max(r["max_s"] for r in rows) * 100)
    ax.set_xlabel("seconds (bar: median; whiskers: fastest to slowest call)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in ROLE_COLORS.values()]
    fig.legend(handles, ROLE_COLORS, fontsize="small", loc="outside lower center", ncol=3,
               frameon=False)             # below the axes and their label, clear of the bars' labels
    if title:
        ax.set_title(title)
    return fig
