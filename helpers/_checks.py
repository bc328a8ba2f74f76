"""The one check for sizes and counts, used by every public entry point."""

import numpy as np


def check_count(name, value, minimum=1):
    """``value`` as a Python int, when it is an integer >= ``minimum``.

    Python and NumPy integers pass.  Bools (True is not a size), floats
    (even 2.0) and strings raise TypeError; values below ``minimum`` raise
    ValueError.  Both messages name the argument and what it must be:
    ``d0 must be an integer, got 2.5``, ``n_iter must be >= 0, got -1``.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)
