"""Merge the executed notebooks, in order, into one clean report notebook.

It reads only the executed notebooks: the parameter values come from
papermill's record in each (``metadata.papermill.parameters``), the time
its outputs were computed from papermill's end time.

For every part: a page break (a raw LaTeX cell), then its cells, with
- papermill's injected-parameters cell dropped and the parameters cell
  rewritten to show the values that actually ran;
- stderr (warnings, progress bars), widget views, bare matplotlib reprs
  (``<Figure size ...>``, ``[<matplotlib.lines.Line2D ...>]``) and repeated
  copies of one figure removed from the outputs.
The appendix comes last; the title page is drawn by the templates from
``metadata.report``.
"""

import datetime
import re

import nbformat

from .appendix import APPENDIX_HEADING, appendix_cells
from .params import parse_cell
from .title import part_label
from .values import shown

CHATTER = re.compile(r"^\s*(\[?<(matplotlib|mpl_toolkits|Figure|Axes)[^\n]*>\]?|Text\(.*\))\s*$", re.S)


def page_break():
    """A raw cell that starts a new page in the PDF (ignored by HTML)."""
    return nbformat.v4.new_raw_cell("\\clearpage", metadata={"raw_mimetype": "text/latex"})


def parameters_source(params, values):
    """The parameters cell as it ran: one annotated line per parameter,
    noting the default where the value differs."""
    lines = []
    for p in params:
        v = values[p.name]
        code = f"{p.name}: {p.annotation} = {shown(p, v)}" if p.annotation else f"{p.name} = {shown(p, v)}"
        note = p.comment + (f" (default {shown(p, p.default)})" if v != p.default else "")
        lines.append((code, note))
    width = max((len(c) for c, _ in lines), default=0)
    return "\n".join(f"{c:<{width}}  # {n}" if n else c for c, n in lines)


def clean_outputs(outputs):
    """The outputs worth printing, in order (see the module docstring)."""
    kept, seen = [], set()
    for out in outputs:
        if out.output_type == "stream" and out.name == "stderr":
            continue
        if out.output_type in ("display_data", "execute_result"):
            data = {k: v for k, v in out.data.items() if "widget" not in k}
            if set(data) <= {"text/plain"} and CHATTER.match(data.get("text/plain", "")):
                continue
            image = next((str(data[k]) for k in ("image/png", "image/svg+xml", "image/jpeg") if k in data), None)
            if not data or (image is not None and image in seen):
                continue
            seen.add(image)
            out.data = data
        kept.append(out)
    return kept


def part_heading(nb):
    """The first line of the first Markdown cell (``# Part 1a: ...``), or
    None when the notebook does not start with a ``# Part`` heading."""
    first = next((c for c in nb.cells if c.cell_type == "markdown"), None)
    line = first.source.strip().splitlines()[0] if first and first.source.strip() else ""
    return line.lstrip("#").strip() if line.startswith("# Part") else None


def anchor(heading):
    """The id nbconvert's HTML export gives a Markdown heading."""
    return re.sub(r"[`*$]", "", heading).strip().replace(" ", "-")


def ran_with(nb, where):
    """([Param], {name: value}): what the parameters cell of executed notebook
    ``nb`` declares, and the values it ran with (papermill's record)."""
    cell = next((c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])), None)
    params = parse_cell(cell.source, where) if cell else []
    record = nb.metadata.get("papermill", {}).get("parameters", {})
    return params, {p.name: record.get(p.name, p.default) for p in params}


def computed_at(nb):
    """When the outputs of executed notebook ``nb`` were computed (papermill's
    end time, as 'YYYY-MM-DD HH:MM UTC'), or 'unknown'."""
    end = nb.metadata.get("papermill", {}).get("end_time")
    if not end:
        return "unknown"
    t = datetime.datetime.fromisoformat(end)
    t = t.astimezone(datetime.timezone.utc) if t.tzinfo else t
    return f"{t:%Y-%m-%d %H:%M} UTC"


def part_row(path, nb, params, values):
    """The title page's row for one part."""
    heading = part_heading(nb) or path.stem
    return {"part": part_label(path.stem), "heading": heading, "anchor": anchor(heading),
            "computed": computed_at(nb),
            "values": [{"name": p.name, "value": shown(p, values[p.name]), "default": shown(p, p.default),
                        "changed": values[p.name] != p.default} for p in params]}


def merge(executed, info):
    """One notebook from ``executed`` ([Path] of executed notebooks, in
    order) and a list of problems.

    info: title-page data (``title.title_info``); its ``parts`` rows are
    filled in here, and it is stored as ``metadata.report`` for the templates.
    """
    cells, metadata, problems = [], {}, []
    for path in executed:
        nb = nbformat.read(str(path), as_version=4)
        metadata = metadata or {k: nb.metadata[k] for k in ("kernelspec", "language_info") if k in nb.metadata}
        if part_heading(nb) is None:
            problems.append(f"{path.name} does not start with a Markdown cell '# Part ...: title'")
        params, values = ran_with(nb, path.name)
        info["parts"].append(part_row(path, nb, params, values))
        cells.append(page_break())
        for cell in nb.cells:
            tags = cell.metadata.get("tags", [])
            if "injected-parameters" in tags:
                continue
            if "parameters" in tags:
                cell.source = parameters_source(params, values)
            if cell.cell_type == "code":
                cell.outputs = clean_outputs(cell.outputs)
            cell.metadata = {"tags": tags} if tags else {}
            cells.append(cell)
    info["appendix"] = {"heading": APPENDIX_HEADING.replace("`", ""), "anchor": anchor(APPENDIX_HEADING)}
    cells = [*cells, page_break(), *appendix_cells()]
    for i, cell in enumerate(cells):    # ids must be unique; the parts reuse theirs
        cell.id = f"cell-{i}"
    merged = nbformat.v4.new_notebook(cells=cells, metadata=metadata)
    merged.metadata["title"] = info["assignment"]
    merged.metadata["report"] = info
    return merged, problems
