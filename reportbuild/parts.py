"""The parts of the report: one notebook file each, named ``<label>_<topic>.ipynb``
(``1a_jacobians.ipynb`` is part 1a), built in the order of their names."""

from pathlib import Path


class PartsError(ValueError):
    """The notebook folder or a --parts list cannot be used; the message says why."""


def part_label(stem):
    """``'1a'`` from ``'1a_jacobians'``."""
    return stem.split("_", 1)[0]


def find_notebooks(directory):
    """The notebooks to build, ``directory/*.ipynb`` sorted by name."""
    directory = Path(directory)
    if not directory.is_dir():
        raise PartsError(f"notebook folder {directory} does not exist")
    return sorted(directory.glob("*.ipynb"))


def select_parts(paths, spec):
    """The notebooks of the parts ``spec`` names (``'1a-1f'``, ``'1a,2b-2c'``),
    in their usual order; all of them when ``spec`` is None."""
    if spec is None:
        return paths
    labels = [part_label(p.stem) for p in paths]
    chosen = set()
    for item in filter(None, (s.strip() for s in spec.split(","))):
        ends = [e.strip() for e in item.split("-")]
        unknown = [e for e in ends if e not in labels]
        if unknown or len(ends) > 2:
            raise PartsError(f"--parts {spec}: unknown part {(unknown or [item])[0]!r}; "
                             f"the parts are {', '.join(labels)} (ranges like 1a-1f and commas allowed)")
        lo, hi = labels.index(ends[0]), labels.index(ends[-1])
        if lo > hi:
            raise PartsError(f"--parts {spec}: the range {item} runs backwards; write {ends[-1]}-{ends[0]}")
        chosen.update(labels[lo:hi + 1])
    if not chosen:
        raise PartsError(f"--parts {spec!r} names no part; the parts are {', '.join(labels)}")
    return [p for p, label in zip(paths, labels) if label in chosen]
