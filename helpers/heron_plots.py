"""Problem 2 figures: errors of Heron's iterates and of their derivatives.

``heron_history`` computes the numbers; the ``plot_*`` functions only draw
them.  Plot functions take ``ax=None`` (a new figure is made, of the one
size all figures share: ``_plots.FIGSIZE``), return the figure and never
call ``plt.show()``.  Errors of exactly 0 cannot sit on a log axis: they
are drawn at ``floor`` and a dotted line marks that level.
"""

import numpy as np
from matplotlib.ticker import FixedLocator, NullLocator

from ._checks import check_count
from ._plots import figure_axes
from .accuracy import UNIT_ROUNDOFF
from .heron import heron_sqrt_forward

# Hollow markers of different shapes keep coinciding curves distinguishable.
_MARKERS = "os^vDpx"


def heron_history(x, n_iter):
    """Iterates and tangents of Heron's method for k = 0..n_iter.

    x: positive float or (m,) array.  Returns (ys, ts), each of shape
    (n_iter + 1,) + shape(x): ys[k] = y_k and ts[k] = dy_k/dx of the k-step
    program, taken from ``heron_sqrt_forward`` itself (no second copy of the
    recursion).  Cost: O(n_iter^2 * m), fine for n_iter up to a few hundred.
    """
    n_iter = check_count("n_iter", n_iter, minimum=0)
    pairs = [heron_sqrt_forward(x, k) for k in range(n_iter + 1)]
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


def _floored(err, floor):
    """(err with values below floor, i.e. zeros, raised to it; whether any were)."""
    err = np.asarray(err, dtype=np.float64)
    return np.maximum(err, floor), bool(np.any(err < floor))


def _columns(err):
    """err as a 2-D array, one column per curve."""
    err = np.asarray(err, dtype=np.float64)
    return err[:, None] if err.ndim == 1 else err


def _reference_lines(ax, floor, any_floored):
    """Unit roundoff line, and the floor line when some error was 0."""
    ax.axhline(UNIT_ROUNDOFF["float64"], color="gray", lw=0.8, ls="--",
               label=r"unit roundoff $2^{-53}$")
    if any_floored:
        ax.axhline(floor, color="gray", lw=0.8, ls=":", label="error exactly 0")


def _log_xaxis(ax, x):
    """A log x-axis with matplotlib's 5% margin, kept inside the float range:
    near 1e308 matplotlib's own margin and tick locator overflow."""
    lo, hi = np.log10(np.min(x)), np.log10(np.max(x))
    pad = 0.05 * (hi - lo) if hi > lo else 0.5
    with np.errstate(over="ignore", under="ignore"):      # clamped below
        left, right = np.power(10.0, lo - pad), np.power(10.0, hi + pad)
    top = np.finfo(np.float64).max / 1.01     # its log/exp round trip must not overflow
    left, right = (left if left > 0 else np.min(x)), max(min(right, top), np.max(x))
    ax.set_xscale("log")
    ax.set_xlim(left, right)                  # before the data: no autoscale on x
    if max(abs(np.log10(left)), abs(np.log10(right))) > 300:
        decades = np.arange(np.ceil(np.log10(left)), np.floor(np.log10(right)) + 1)
        ax.xaxis.set_major_locator(FixedLocator(10.0 ** decades[::int(np.ceil(len(decades) / 6))]))
        ax.xaxis.set_minor_locator(NullLocator())


def plot_error_vs_x(x, errors, labels, ax=None, floor=1e-18):
    """Relative error against x on log-log axes, one curve per entry.

    x: (m,) positive; errors: sequence of (m,) arrays; labels: one str each.
    """
    fig, ax = figure_axes(ax)
    _log_xaxis(ax, x)
    ax.set_yscale("log")
    floored = False
    for j, (err, label) in enumerate(zip(errors, labels, strict=True)):
        e, z = _floored(err, floor)
        floored |= z
        ax.plot(x, e, "-", marker=_MARKERS[j % len(_MARKERS)], ms=4, mfc="none",
                lw=1, label=label)
    _reference_lines(ax, floor, floored)
    ax.set_xlabel("$x$")
    ax.set_ylabel(r"relative error $|y_N - \sqrt{x}| / \sqrt{x}$")
    ax.legend(fontsize="small")
    return fig


def plot_error_history(errors, labels, ax=None, floor=1e-18, ylabel=None):
    """Error per iteration k = 0..n_iter on a semilog-y axis.

    errors: (n_iter + 1, m) array, one column per curve (or (n_iter + 1,) for
    one curve); labels: m strings.
    """
    fig, ax = figure_axes(ax)
    e, floored = _floored(_columns(errors), floor)
    for j, label in enumerate(labels):
        ax.semilogy(np.arange(len(e)), e[:, j], "-", marker=_MARKERS[j % len(_MARKERS)],
                    ms=4, mfc="none", lw=1, label=label)
    _reference_lines(ax, floor, floored)
    ax.set_xlabel("iteration $k$")
    ax.set_ylabel(ylabel or r"relative error of $y_k$")
    ax.legend(fontsize="small", ncol=2)
    return fig


def plot_value_and_derivative_errors(value_err, deriv_err, labels, ax=None,
                                     floor=1e-18):
    """Value error (solid) and derivative error (dashed) per iteration.

    value_err, deriv_err: (n_iter + 1, m) arrays; labels: m strings (one
    colour per column, shared by its two curves).
    """
    fig, ax = figure_axes(ax)
    v, fv = _floored(_columns(value_err), floor)
    d, fd = _floored(_columns(deriv_err), floor)
    k = np.arange(len(v))
    for j, label in enumerate(labels):
        (line,) = ax.semilogy(k, v[:, j], "-", lw=1.2, label=f"value, {label}")
        ax.semilogy(k, d[:, j], "--", lw=1.2, color=line.get_color(),
                    label=f"derivative, {label}")
    _reference_lines(ax, floor, fv or fd)
    ax.set_xlabel("iteration $k$")
    ax.set_ylabel("relative error")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig
