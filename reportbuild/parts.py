"""The parts of the report: one notebook file each, named ``<label>_<topic>.ipynb``
(``1a_jacobians.ipynb`` is part 1a), built in the order of their names.

Only a file that fits that pattern, starts with the heading ``# Part
<label>: <title>`` of its own label, and is the only one of its part is a
part (``check_parts``): a stray notebook (JupyterLab's ``Untitled.ipynb``, a
copy ``1a_jacobians-Copy1.ipynb`` or ``1a_jacobians_old.ipynb``) stops the
build before anything runs, named, instead of becoming a part.
"""

import json
import re
from pathlib import Path

NAME = re.compile(r"(?P<label>\d+[a-z])_[A-Za-z0-9_]+\.ipynb")
HEADING = re.compile(r"#\s+Part\s+(?P<label>\S+?):")
SCRATCH = "scratch"     # the project's git-ignored folder for notebooks of one's own, never read by the build


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


def _heading_label(path):
    """The label of the ``# Part <label>:`` heading that notebook file ``path``
    starts with (its first Markdown cell), '' when it has none, None when
    the file holds no cells (empty or unreadable: the parameter checks name
    the reason)."""
    try:
        cells = json.loads(Path(path).read_text(encoding="utf-8")).get("cells")
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return None
    if not isinstance(cells, list) or not cells:
        return None
    first = next((c for c in cells if isinstance(c, dict) and c.get("cell_type") == "markdown"), {})
    source = first.get("source", "")
    source = "".join(source) if isinstance(source, list) else str(source)
    m = HEADING.match(source.strip())
    return m.group("label") if m else ""


def check_parts(paths, chosen=None):
    """PartsError naming every notebook of ``paths`` that is not a part: a
    name that fits no part, an empty notebook, a heading of another part or
    none, two notebooks of one of the parts ``chosen`` (labels; None: every
    part); each with what to do."""
    problems, owners = [], {}
    for path in paths:
        m = NAME.fullmatch(path.name)
        if not m:
            problems.append(f"{path.name}: the name fits no part (a part is named like 1a_topic.ipynb: "
                            "digits, a letter, '_', then letters, digits or '_'); rename it, or move it to "
                            f"{SCRATCH}/ (git-ignored, for notebooks of your own: the build never reads it)")
            continue
        label, heading = m.group("label"), _heading_label(path)
        owners.setdefault(label, []).append(path.name)
        if heading is None:
            problems.append(f"{path.name}: the notebook is empty (it holds no cells); delete it, or move it "
                            f"to {SCRATCH}/")
        elif heading != label:
            found = f"'# Part {heading}: ...'" if heading else "no '# Part ...' heading"
            problems.append(f"{path.name}: its first Markdown cell must start with '# Part {label}: <title>' "
                            f"(the part its name gives), but it has {found}; fix the heading or the name, or move "
                            f"it to {SCRATCH}/")
    for label, names in owners.items():
        if len(names) > 1 and (chosen is None or label in chosen):
            problems.append(f"{' and '.join(names)} are all part {label}; keep one (rename or delete the "
                            f"others, or move them to {SCRATCH}/), or leave part {label} out with --parts")
    if problems:
        raise PartsError("these notebooks are not parts of the report:\n  " + "\n  ".join(problems))


def parts_text(labels, order):
    """``labels`` as ranges in the order ``order`` (every part's label):
    '1a–1f', '1a, 1c, 2a–2c', '1f'."""
    spans, chosen = [], set(labels)
    for label in order:
        if label not in chosen:
            spans.append(None)
        elif spans and spans[-1] is not None:
            spans[-1][1] = label
        else:
            spans.append([label, label])
    return ", ".join(a if a == b else f"{a}\u2013{b}" for a, b in filter(None, spans))


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
