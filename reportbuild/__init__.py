"""The report build behind ``build_report.sh``: run the notebooks, merge
them, render the PDF and HTML.  It stands apart from the ``helpers``
package the notebooks import: it imports none of it (nor NumPy or torch),
so ``--help``, ``--check`` and ``--render-only`` work whatever state
helpers/ is in.

Two stages, with the executed notebooks between them:

    run/      execute the notebooks whose run key changed; the stored runs,
              each with the files its notebook saved (cache, kernels, stage);
              the progress of running notebooks (news, bars, progress)
    render/   the report from the executed notebooks (title, provenance,
              merge, exporters, pages, stage; templates/)

both writing into a staging folder that ``outfolder`` then puts in place
as one report set; and what both use:

    cli              the options; main(): checks, then the stages, then publish
    dryrun           --check: what a build would run or reuse, and why
    outfolder        the output folder: its lock, leftovers, the report set
                     published all at once
    parts            the notebook files and their part labels (1a, ...)
    parameters       what each notebook's parameters cell declares
    values           -p / quick.json values: parsing, type and range checks
    keys             the run key and the render key
    executed         what an executed notebook records (values, run key,
                     saved files, claims)
    atomic           atomic writes of files and folders
    exit_status      the build's exit statuses
    system_packages  the apt packages the build and the tests need
                     (system-packages.txt, read by build_report.sh too)
"""

import sys

# nbformat validates with jsonschema, which on import compiles the grammar of
# its optional IRI format checker (rfc3987_syntax) when that is installed:
# over a second of every build process and notebook worker, for a format the
# notebook schema never uses.  A None entry makes that optional import fail
# as if the package were absent, which jsonschema allows for.
sys.modules.setdefault("rfc3987_syntax", None)
