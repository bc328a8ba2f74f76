"""helpers.claims.claim: a sentence of the report is returned only when its
data agree with it; a contradicted sentence stops the notebook and the build."""

import numpy as np
import pytest

from helpers import claims
from helpers.claims import CLAIM_MIME, ClaimFailed, claim
from reportbuild import cli
from reportbuild.exit_status import FAILED
from test_pipeline import make_notebook


def test_a_true_claim_returns_its_sentence():
    assert claim(3 < 4, "three is less than four") == "three is less than four"
    assert claim(np.float64(1e-16) < 1e-15, "tiny enough") == "tiny enough"
    assert claim(np.array([1.0, 2.0]).max() < 3, "0-d NumPy comparisons count") == "0-d NumPy comparisons count"


@pytest.mark.parametrize("condition", [False, np.bool_(False), 0, np.array(2.0) > 3])
def test_a_false_claim_raises_and_names_the_sentence(condition):
    with pytest.raises(ClaimFailed, match="contradict this sentence of the report: reverse mode is faster"):
        claim(condition, "reverse mode is faster")


def test_claim_failed_is_an_assertion_error():
    """Code that catches failed checks as AssertionError also catches claims."""
    assert issubclass(ClaimFailed, AssertionError)


def test_inverting_a_comparison_is_caught():
    """The claim of part 1f, with the ratio the right way up and inverted."""
    forward_s, reverse_s = 14.3, 0.074
    ratio = forward_s / reverse_s
    assert claim(ratio > 1, f"Reverse mode is {ratio:.0f}x faster") == "Reverse mode is 193x faster"
    with pytest.raises(ClaimFailed):
        claim(reverse_s / forward_s > 1, "Reverse mode is 0x faster")


@pytest.mark.parametrize("condition, text, message", [
    (np.array([True, True]), "all of them", r"single bool, got an array of shape \(2,\) for: all of them"),
    (True, "", "non-empty string"),
    (True, "   ", "non-empty string"),
    (True, None, "non-empty string"),
])
def test_bad_arguments_are_refused(condition, text, message):
    with pytest.raises(TypeError, match=message):
        claim(condition, text)


def test_a_checked_claim_is_recorded_in_a_kernel(monkeypatch):
    """Inside IPython each checked claim is published as an output of its cell
    (what the report counts); a failed one publishes nothing."""
    from IPython import display as ipy_display
    from IPython.core.interactiveshell import InteractiveShell

    shown = []
    monkeypatch.setattr(InteractiveShell, "initialized", classmethod(lambda cls: True))
    monkeypatch.setattr(ipy_display, "display", lambda obj, raw=False: shown.append((obj, raw)))
    claim(True, "it holds")
    with pytest.raises(ClaimFailed):
        claim(False, "it does not hold")
    assert shown == [({CLAIM_MIME: {"text": "it holds"}, "text/plain": "[checked] it holds"}, True)]


def test_outside_a_kernel_nothing_is_published(capsys):
    claims._publish({"text/plain": "plain Python"})
    assert capsys.readouterr().out == ""


def test_a_contradicted_claim_stops_the_build(tmp_path, monkeypatch, capsys, fast_builds):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    make_notebook(nbs / "1a_claims.ipynb", "Part 1a: Claims", "n: int = 3  # a size",
                  "from helpers import claim\ntext = claim(n > 5, f'n = {n} is larger than 5')")
    out = tmp_path / "build"
    assert cli.main(["--notebooks", str(nbs), "--out", str(out)]) == FAILED
    err = capsys.readouterr().err
    assert "ClaimFailed" in err and "n = 3 is larger than 5" in err
    assert not (out / "report.pdf").exists() and not (out / "report.html").exists()
