"""What an executed notebook records, as the two stages read it: the
parameter values it ran with and when (papermill's ``metadata.papermill``),
the run key it was stored under (``metadata.report_run``), and the claims it
checked (outputs of ``helpers.claims.claim``)."""

import datetime
import functools
import importlib.util

from .keys import CLAIMS
from .parameters import read_params

RUN_RECORD = "report_run"       # metadata entry: {"key": run key, "results": [file names], "sha256": {name: hash}}


def ran_with(path, nb):
    """([Param], {name: value}): what the parameters cell of executed notebook
    ``nb`` (read from file ``path``) declares, and the values it ran with."""
    params = read_params(path)
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


def record_run_key(nb, key, results=None):
    """Mark executed notebook ``nb`` as the run stored under run key ``key``,
    which saved the files ``results`` ({name relative to its results folder:
    SHA-256 of its bytes})."""
    results = dict(results or {})
    nb.metadata[RUN_RECORD] = {"key": key, "results": sorted(results), "sha256": results}


def recorded_run_key(nb):
    """The run key executed notebook ``nb`` was stored under, or None."""
    return nb.metadata.get(RUN_RECORD, {}).get("key")


def recorded_results(nb):
    """The names of the files the run of executed notebook ``nb`` saved."""
    return nb.metadata.get(RUN_RECORD, {}).get("results", [])


def recorded_checksums(nb):
    """{name: SHA-256} of the files the run of ``nb`` saved, as stored
    ({} for a run stored by a version of the tool that kept none)."""
    return nb.metadata.get(RUN_RECORD, {}).get("sha256", {})


@functools.cache
def claim_mime():
    """The mimetype of a checked claim's output.  ``helpers/claims.py``
    defines it and imports nothing at module level: that one file is loaded,
    not the helpers package, so the tool never loads the numerical code."""
    spec = importlib.util.spec_from_file_location("_report_claims", CLAIMS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CLAIM_MIME


def is_claim(output):
    """Whether cell output ``output`` records a checked claim."""
    return claim_mime() in output.get("data", {})


def count_claims(nb):
    """How many claims the code cells of ``nb`` checked, the answer cell's included."""
    return sum(is_claim(out) for cell in nb.cells if cell.cell_type == "code"
               for out in cell.get("outputs", []))
