"""Merge the executed notebooks, in order, into one clean report notebook.

It reads only the executed notebooks: the parameter values come from
papermill's record in each (``metadata.papermill.parameters``), the time
its outputs were computed from papermill's end time.

For every part: its Markdown filled in with the values its run recorded
(``fill``: a reference the run did not record stops the render), a page
break carrying the LaTeX label of the part (the PDF's page map is read back
from these labels), the ``# Part ...`` heading, the part's boxed answer,
then its cells, with
- the Markdown cell tagged ``answer`` (or, in older notebooks, the Markdown
  output of the code cell tagged ``answer``) moved up under the heading, as
  a Markdown cell tagged ``answer`` (the templates draw it in a box); its
  first paragraph is the part's line on the answers page (``metadata.report``);
- the parameters cell and papermill's injected-parameters cell dropped:
  the values each part ran with are listed under "Reproducibility";
- stderr removed from the outputs: warnings, whose text depends on the
  package versions, are not part of an answer;
- the checked claims and recorded values (``executed.is_claim``) removed
  from the outputs and counted per part, for Reproducibility;
- code cells left without output dropped: setup that prints nothing;
- cells tagged ``beyond`` moved to one appendix after the parts, "Beyond
  the assignment", outside the page map.
The Reproducibility section comes last; the title block and the answers page
are drawn by the templates from ``metadata.report``.
"""

import itertools
import re

import nbformat

from ..executed import computed_at, count_claims, is_claim, ran_with
from ..parts import part_label
from ..values import as_written
from .fill import fill

ANSWER_TAG = "answer"
BEYOND_TAG = "beyond"
BEYOND_HEADING = "Beyond the assignment"
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
    """The part's answer: the Markdown cell tagged ``answer``, or the Markdown
    output of a code cell tagged ``answer`` (claims and records left out);
    None when there is neither."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and ANSWER_TAG in cell.metadata.get("tags", []):
            return cell.source.strip() or None
        if cell.cell_type == "code" and ANSWER_TAG in cell.metadata.get("tags", []):
            texts = [out.data["text/markdown"] for out in cell.get("outputs", [])
                     if "text/markdown" in out.get("data", {}) and not is_claim(out)]
            return "\n\n".join(t.strip() for t in texts) or None
    return None


def first_paragraph(markdown):
    """The first paragraph of ``markdown`` (the answers page's line for a part)."""
    return re.split(r"\n\s*\n", markdown.strip(), maxsplit=1)[0] if markdown else markdown


def section(heading, name):
    """How the templates link to a section: its heading, its HTML anchor and
    its LaTeX label."""
    return {"heading": heading, "anchor": anchor(heading), "label": label(name)}


def part_row(path, nb, params, values):
    """The answers page's and the Reproducibility table's row for one part."""
    part, answer = part_label(path.stem), answer_markdown(nb)
    return {"part": part, **section(part_heading(nb) or path.stem, part),
            "computed": computed_at(nb), "answer": answer, "glance": first_paragraph(answer),
            "claims": count_claims(nb),
            "values": [{"name": p.name, "value": as_written(p, values[p.name]), "default": as_written(p, p.default),
                        "changed": values[p.name] != p.default} for p in params]}


def part_cells(nb, row):
    """The cells of one part, (heading, boxed answer, the work), and its
    cells for the appendix (see the module docstring)."""
    cells, beyond, heading_done = [], [], False
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags or "parameters" in tags or ANSWER_TAG in tags:
            continue
        if cell.cell_type == "code":
            cell.outputs = clean_outputs(cell.outputs)
            if not cell.outputs:
                continue
        cell.metadata = {"tags": tags} if tags else {}
        if BEYOND_TAG in tags:
            beyond.append(cell)
            continue
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
    return cells, beyond


SHORT_MARKDOWN = 1200       # characters: a cell this short is kept on the page of what it introduces
MAX_KEEP_LINES = 52         # lines (a page holds about 58): more than this together may break across pages


def _output_lines(cell):
    """(lines, figure): the room the first output of code cell ``cell``
    needs, in lines of text, and whether it is a figure; its shown input counts too."""
    shown = 0 if "hide-input" in cell.metadata.get("tags", []) else round(0.8 * (cell.source.count("\n") + 3))
    for out in cell.outputs:
        data = out.get("data", {})
        if "image/png" in data:
            return shown, True
        if "text/latex" in data:                        # a listing, set smaller than the prose
            return shown + round(0.8 * (str(data.get("text/plain", "")).count("\n") + 3)), False
        if str(data.get("text/markdown", "")).lstrip().startswith("|"):    # header and rows
            return shown + data["text/markdown"].strip().count("\n") + 1, False
        if out.output_type == "stream":
            return shown + round(0.8 * (out.text.strip().count("\n") + 2)), False
    return shown, False


def _markdown_lines(source):
    """About how many lines of prose ``source`` takes (130 characters a line)."""
    return sum(-(-len(par) // 130) + 1 for par in re.split(r"\n\s*\n", source.strip()))


def keep_with_next(cells):
    """Mark each short Markdown cell that introduces a figure, a table, a
    listing or printed output (the next cell shows one) with the room both
    need (``metadata.report_keep``), so the PDF starts them on one page:
    no heading or lead-in is left at the foot of a page."""
    for cell, after in itertools.pairwise(cells):
        if cell.cell_type != "markdown" or after.cell_type != "code" or len(cell.source) > SHORT_MARKDOWN:
            continue
        lines, figure = _output_lines(after)
        lines += _markdown_lines(cell.source)
        if lines <= MAX_KEEP_LINES:
            cell.metadata["report_keep"] = {"lines": lines, "figure": figure}


def beyond_cells(beyond):
    """The appendix: its heading, a sentence on what it is, then the cells."""
    intro = ("What follows goes beyond what the assignment asks: studies that test or explain the "
             "answers above. It is not part of the answers, and the page map for Gradescope leaves it out.")
    return [nbformat.v4.new_markdown_cell(f"# {BEYOND_HEADING}\n\n{intro}"), *beyond]


def _values_text(row):
    """``d0=300, d1=200``: bold where a value differs from the default, which follows."""
    pairs = [f"**`{v['name']}={v['value']}`** (default `{v['default']}`)" if v["changed"]
             else f"`{v['name']}={v['value']}`" for v in row["values"]]
    return ", ".join(pairs) or "(none)"


def claims_text(total):
    """The Reproducibility section's sentence on the ``total`` checked statements of this run."""
    if total == 0:
        return ("No statement of this report was checked against its data in this run: no notebook "
                "recorded a bound or a condition with `helpers.claims` or `helpers.bounds`.")
    checked = "1 statement" if total == 1 else f"{total:,} statements"
    return (f"This run checked {checked} against the numbers it computed: each bound, range and "
            "condition that a sentence states was recorded with its check (`helpers.bounds`, "
            "`helpers.claims`), the bound rounded the safe way, and checked again when the report was "
            "rendered; a statement its data contradict stops the build. Comparisons of measured times "
            "are worded from their samples instead (faster, slower or the same within the spread), so "
            "noise can change their words but not stop the build. The table gives the count for each part.")


def reproducibility_cell(info):
    """The Reproducibility section: how each part ran, where, with what."""
    facts = info.get("provenance", {})
    table = ["| Part | Parameters | Checked | Computed |", "|:-|:------------|-:|:-----|"]
    table += [f"| {r['part']} | {_values_text(r)} | {r['claims']} | {r['computed']} |" for r in info["parts"]]
    changed = any(v["changed"] for r in info["parts"] for v in r["values"])
    which = ("(values in bold differ from the notebook's default, which follows in parentheses)" if changed
             else "(every one the notebook's default)")
    lines = [f"# {REPRODUCIBILITY_HEADING}", "",
             f"Every number in this report was computed by the notebooks with these parameters {which}. "
             "`./build_report.sh` rebuilds the report; "
             "`./build_report.sh -p NAME VALUE` changes a parameter. Each code listing names "
             "its file and lines in `helpers/`; code that only draws the figures or formats the "
             "tables is left out of the report (`helpers/*_plots.py`, `markdown_table` in "
             "`helpers/accuracy.py`, `summary_tables` in `helpers/timing_study.py`).", "",
             claims_text(sum(r["claims"] for r in info["parts"])), "", *table, ""]
    lines += [f"- **{k}**: {v}" for k, v in facts.items()]
    return nbformat.v4.new_markdown_cell("\n".join(lines))


def merge(executed, info):
    """One notebook from ``executed`` ([Path] of executed notebooks, in
    order) and a list of problems; raises ``fill.UnfilledValue`` when a
    notebook's Markdown refers to a value its run did not record.

    info: title-page data (``title.title_info``); its ``parts`` rows are
    filled in here, and it is stored as ``metadata.report`` for the templates.
    """
    cells, beyond, metadata, problems = [], [], {}, []
    for path in executed:
        nb = nbformat.read(str(path), as_version=4)
        fill(nb, path.name)
        metadata = metadata or {k: nb.metadata[k] for k in ("kernelspec", "language_info") if k in nb.metadata}
        if part_heading(nb) is None:
            problems.append(f"{path.name} does not start with a Markdown cell '# Part ...: title'")
        params, values = ran_with(path, nb)
        row = part_row(path, nb, params, values)
        if row["answer"] is None:
            problems.append(f"{path.name} has no Markdown cell tagged '{ANSWER_TAG}'")
        info["parts"].append(row)
        work, extra = part_cells(nb, row)
        cells += [page_break(row["part"]), *work]
        beyond += extra
    info["beyond"] = section(BEYOND_HEADING, "beyond") if beyond else None
    if beyond:
        cells += [page_break("beyond"), *beyond_cells(beyond)]
    info["reproducibility"] = section(REPRODUCIBILITY_HEADING, "reproducibility")
    cells += [page_break("reproducibility"), reproducibility_cell(info)]
    keep_with_next(cells)
    for i, cell in enumerate(cells):    # ids must be unique; the parts reuse theirs
        cell.id = f"cell-{i}"
    merged = nbformat.v4.new_notebook(cells=cells, metadata=metadata)
    merged.metadata["title"] = info["assignment"]
    merged.metadata["report"] = info
    return merged, problems
