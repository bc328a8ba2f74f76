"""What an executed notebook records, as the two stages read it: the
parameter values it ran with and when (papermill's ``metadata.papermill``),
the run key it was stored under (``metadata.report_run``), and the claims it
checked and the values it recorded (outputs of ``helpers.claims.claim`` and
``record``, whose output metadata carry them under ``CLAIM_MIME`` and
``VALUE_MIME``; what Jupyter shows of them is Markdown for the reader)."""

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
def claims_module():
    """``helpers/claims.py``, loaded alone: it defines the mimetypes of
    claims and recorded values and the checks (``holds``), and imports
    nothing at module level, so the tool never loads the numerical code."""
    spec = importlib.util.spec_from_file_location("_report_claims", CLAIMS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def claim_mime():
    """The key under which a checked claim's output carries it (in its metadata)."""
    return claims_module().CLAIM_MIME


def _carried(output, key):
    """What cell output ``output`` carries in its metadata under ``key``, or None."""
    return output.get("metadata", {}).get(key)


def is_claim(output):
    """Whether cell output ``output`` records a checked claim or a recorded value."""
    return any(_carried(output, key) is not None for key in (claim_mime(), claims_module().VALUE_MIME))


def _outputs(nb):
    """The outputs of the code cells of ``nb``, in order."""
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]


def recorded_values(nb):
    """[{"name", "text", "check"}]: the values the code cells of ``nb``
    recorded with ``helpers.claims.record``, in order."""
    key = claims_module().VALUE_MIME
    return [value for out in _outputs(nb) if (value := _carried(out, key)) is not None]


def count_claims(nb):
    """How many checked statements the code cells of ``nb`` made: claims
    that were not recorded as values (a recorded claim's output carries its
    record instead), and recorded values whose check states something (a
    bound, a range, a comparison, a condition)."""
    claims = sum(_carried(out, claim_mime()) is not None for out in _outputs(nb))
    return claims + sum(v["check"].get("kind") not in ("text", "value") for v in recorded_values(nb))
