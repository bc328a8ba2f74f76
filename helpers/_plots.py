"""What every figure of the report shares: its size and how a plot function
gets its axes (``ax=None``: a new figure)."""

FIGSIZE = (6, 2.6)      # inches, for every figure of the report


def figure_axes(ax=None, figsize=FIGSIZE):
    """(fig, ax): ``ax`` and its figure, or a new constrained-layout figure
    of ``figsize`` and its one axes when ``ax`` is None."""
    if ax is None:
        import matplotlib.pyplot as plt  # here, so that import helpers stays light

        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax.figure, ax
