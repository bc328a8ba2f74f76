"""The build's exit statuses, as ``build_report.sh`` returns them."""

OK = 0              # the report is written (or was already up to date)
FAILED = 1          # a notebook or LaTeX failed; the previous report is unchanged
USAGE = 2           # bad options, parameters or settings; nothing ran
NO_PDF = 3          # no TeX: the HTML was written, the PDF was not
INTERRUPTED = 130   # Ctrl-C; the previous report is unchanged
