"""The small sizes of notebooks/quick.json, for a quick look in Jupyter.

The build's ``--quick`` and papermill's ``-f notebooks/quick.json`` pass
these values as parameters; a notebook run by hand reads them here instead,
when its ``quick`` parameter is True, so that one value switches it to
small sizes.  Nothing here runs or times anything.
"""

import json
from pathlib import Path

from .timing import PROJECT

QUICK_JSON = PROJECT / "notebooks" / "quick.json"


def quick_sizes(*names, path=QUICK_JSON):
    """The values that quick.json (``path``) gives ``names``, in their order,
    as a tuple: ``timing_d, repeats = quick_sizes("timing_d", "repeats")``.
    ValueError, naming the file, where it cannot be read or gives no value
    for a name (the build checks its values against the notebooks' ranges)."""
    try:
        values = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise ValueError(f"cannot read the quick sizes from {path}: {e}") from None
    given = values if isinstance(values, dict) else {}
    missing = [n for n in names if n not in given]
    if missing:
        raise ValueError(f"{path} gives no value for {', '.join(missing)}; expected a JSON object "
                         "{name: value} with an entry for each size a notebook switches with quick = True")
    return tuple(given[n] for n in names)
