"""Building the report: run the notebooks, merge them, render PDF and HTML.

Two stages, with the executed notebooks in ``build/notebooks`` between them:

run
    params        what each notebook's `parameters` cell declares
    values        -p / quick.json values: parsing, type and range checks
    cache         what a notebook's outputs depend on; stored runs
    runner        executing notebooks with papermill
    run_stage     which notebooks run, which outputs are reused
render
    merge         one clean notebook from the executed parts
    appendix      the helpers package's source, for the appendix
    title         title-page data: report.toml, student name
    render        HTML and PDF (nbconvert templates, XeLaTeX), atomic writes
    render_stage  the report, unless its inputs are unchanged

cli ties them together (``python -m helpers.report --help``).
"""
