"""Merge the executed notebooks, in order, into one clean report notebook.

It reads only the executed notebooks: the parameter values come from
papermill's record in each (``metadata.papermill.parameters``), the time
its outputs were computed from papermill's end time.

For every part: a page break carrying the LaTeX label of the part (the
PDF's page map is read back from these labels), the ``# Part ...`` heading,
the part's boxed answer, then its cells, with
- the output of the cell tagged ``answer`` moved up under the heading, as a
  Markdown cell tagged ``answer`` (the templates draw it in a box); its
  Markdown is also collected for the answers page (``metadata.report``);
- the parameters cell and papermill's injected-parameters cell dropped:
  the values each part ran with are listed under "Reproducibility";
- stderr removed from the outputs: warnings, whose text depends on the
  package versions, are not part of an answer;
- the checked claims (``executed.is_claim``) removed from the outputs and
  counted per part, for Reproducibility.
The Reproducibility section comes last; the title block and the answers page
are drawn by the templates from ``metadata.report``.
"""

import re

import nbformat

from ..executed import computed_at, count_claims, is_claim, ran_with
from ..parts import part_label
from ..values import as_written

ANSWER_TAG = "answer"
REPRODUCIBILITY_HEADING = "Reproducibility"


def label(name):
    """The LaTeX label of a section of the report (``report-1a``, ``report-reproducibility``)."""
    return f"report-{name}"


def page_break(name):
    """A raw cell that starts a new page in the PDF and labels it (ignored by HTML)."""
    source = f"\\clearpage\\phantomsection\\label{{{label(name)}}}"
    return nbformat.v4.new_raw_cell(source, metadata={"raw_mimetype": "text/latex"})


def clean_outputs(outputs):
    """The outputs without stderr and checked claims (see the module docstring), in order."""
    return [out for out in outputs
            if not (out.output_type == "stream" and out.name == "stderr") and not is_claim(out)]


def part_heading(nb):
    """The first line of the first Markdown cell (``# Part 1a: ...``), or
    None when the notebook does not start with a ``# Part`` heading."""
    first = next((c for c in nb.cells if c.cell_type == "markdown"), None)
    line = first.source.strip().splitlines()[0] if first and first.source.strip() else ""
    return line.lstrip("#").strip() if line.startswith("# Part") else None


def anchor(heading):
    """The id nbconvert's HTML export gives a Markdown heading."""
    return re.sub(r"[`*$]", "", heading).strip().replace(" ", "-")


def answer_markdown(nb):
    """The Markdown output of the cell tagged ``answer``, or None."""
    for cell in nb.cells:
        if cell.cell_type == "code" and ANSWER_TAG in cell.metadata.get("tags", []):
            texts = [out.data["text/markdown"] for out in cell.get("outputs", [])
                     if "text/markdown" in out.get("data", {})]
            return "\n\n".join(t.strip() for t in texts) or None
    return None


def section(heading, name):
    """How the templates link to a section: its heading, its HTML anchor and
    its LaTeX label."""
    return {"heading": heading, "anchor": anchor(heading), "label": label(name)}


def part_row(path, nb, params, values):
    """The answers page's and the Reproducibility table's row for one part."""
    part = part_label(path.stem)
    return {"part": part, **section(part_heading(nb) or path.stem, part),
            "computed": computed_at(nb), "answer": answer_markdown(nb), "claims": count_claims(nb),
            "values": [{"name": p.name, "value": as_written(p, values[p.name]), "default": as_written(p, p.default),
                        "changed": values[p.name] != p.default} for p in params]}


def part_cells(nb, row):
    """The cells of one part: heading, boxed answer, the work (see the module docstring)."""
    cells, heading_done = [], False
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags or "parameters" in tags or ANSWER_TAG in tags:
            continue
        if cell.cell_type == "code":
            cell.outputs = clean_outputs(cell.outputs)
        cell.metadata = {"tags": tags} if tags else {}
        if not heading_done and cell.cell_type == "markdown":
            heading_done = True
            first, _, rest = cell.source.strip().partition("\n")
            cells.append(nbformat.v4.new_markdown_cell(first))
            if row["answer"]:
                cells.append(nbformat.v4.new_markdown_cell(row["answer"], metadata={"tags": [ANSWER_TAG]}))
            if rest.strip():
                cell.source = rest.strip()
                cells.append(cell)
            continue
        cells.append(cell)
    return cells


def _values_text(row):
    """``d0=300, d1=200``: bold where a value differs from the default, which follows."""
    pairs = [f"**`{v['name']}={v['value']}`** (default `{v['default']}`)" if v["changed"]
             else f"`{v['name']}={v['value']}`" for v in row["values"]]
    return ", ".join(pairs) or "(none)"


def claims_text(total):
    """The Reproducibility section's sentence on the ``total`` claims this run checked."""
    if total == 0:
        return ("No sentence of this report was checked against its data in this run: "
                "no notebook called `helpers.claims.claim`.")
    checked = "1 claim" if total == 1 else f"{total:,} claims"
    return (f"This run checked {checked}: each sentence of the report that states a range, a bound "
            "or a comparison of the numbers this run computed was asserted, with "
            "`helpers.claims.claim`, by the notebook that computed them, so data that contradicted "
            "a sentence would have stopped the build. The table gives the count for each part.")


def reproducibility_cell(info):
    """The Reproducibility section: how each part ran, where, with what."""
    facts = info.get("provenance", {})
    table = ["| Part | Parameters | Claims checked | Computed |", "|:-|:------------|-:|:-----|"]
    table += [f"| {r['part']} | {_values_text(r)} | {r['claims']} | {r['computed']} |" for r in info["parts"]]
    lines = [f"# {REPRODUCIBILITY_HEADING}", "",
             "Every number in this report was computed by the notebooks with these "
             "parameters (values in bold differ from the notebook's default, which follows "
             "in parentheses). `./build_report.sh` rebuilds the report; "
             "`./build_report.sh -p NAME VALUE` changes a parameter. Each code listing names "
             "its file and lines in `helpers/`; code that only draws the figures or formats the "
             "tables is left out of the report (`helpers/*_plots.py`, `markdown_table` in "
             "`helpers/accuracy.py`, `summary_tables` in `helpers/timing_study.py`).", "",
             claims_text(sum(r["claims"] for r in info["parts"])), "", *table, ""]
    lines += [f"- **{k}**: {v}" for k, v in facts.items()]
    return nbformat.v4.new_markdown_cell("\n".join(lines))


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
        params, values = ran_with(path, nb)
        row = part_row(path, nb, params, values)
        if row["answer"] is None:
            problems.append(f"{path.name} has no code cell tagged '{ANSWER_TAG}' with a Markdown output")
        info["parts"].append(row)
        cells += [page_break(row["part"]), *part_cells(nb, row)]
    info["reproducibility"] = section(REPRODUCIBILITY_HEADING, "reproducibility")
    cells += [page_break("reproducibility"), reproducibility_cell(info)]
    for i, cell in enumerate(cells):    # ids must be unique; the parts reuse theirs
        cell.id = f"cell-{i}"
    merged = nbformat.v4.new_notebook(cells=cells, metadata=metadata)
    merged.metadata["title"] = info["assignment"]
    merged.metadata["report"] = info
    return merged, problems
