"""The render stage: the report from the executed notebooks the run stage
put into the staging folder, written into that folder.

    title       title-page settings (report.toml, --name) and the date
    provenance  commit, machine and package versions, for Reproducibility
    merge       one clean notebook from the executed parts
    exporters   HTML and PDF (nbconvert with templates/, XeLaTeX)
    pages       the PDF's page map (pages.json, the Gradescope line)
    stage       the report, unless its render key (``keys``) is unchanged
"""
