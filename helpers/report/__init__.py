"""Building the report: run the notebooks, merge them, render PDF and HTML.

    params    what each notebook's `parameters` cell declares
    values    -p / quick.json values: parsing, type and range checks
    runner    executing the notebooks with papermill
    merge     one clean notebook from the executed parts
    appendix  the helpers package's source, for the appendix
    title     title page: report.toml, student name, parameter table
    render    HTML and PDF (nbconvert, XeLaTeX) with atomic writes
    cli       the command line (``python -m helpers.report --help``)

params, values, title and cli use only the standard library, so that
options can be checked before the virtual environment exists.
"""
