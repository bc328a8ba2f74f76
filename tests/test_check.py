"""``--check`` is a dry run: it says which notebooks a build would run, and
why (their code, a value, helpers/, requirements.txt, Python, or no stored
run), which it would reuse, and whether it would render the report again,
and why; it runs nothing and writes nothing into the output folder.

Each case changes one ingredient of a tiny two-notebook project (a copy of
the checkout's helpers/ and tool, ``checkout``, so that the keys see only
the test's edits), asks --check, and checks its words, that the output
folder is untouched (listing and mtimes), and, where it matters, that the
build then does what --check said."""

import json
import re
import sys
from pathlib import Path

import jupyter_server_mathjax
import nbformat
import pytest
from test_cache import two_notebooks

from reportbuild import cli, outfolder
from reportbuild.atomic import remove
from reportbuild.executed import computed_at
from reportbuild.exit_status import OK, USAGE
from reportbuild.run import cache

DONE = "(--check: nothing was run or written)"


@pytest.fixture
def project(tmp_path, monkeypatch, fast_builds, checkout):
    """Two tiny notebooks (1a declares n, 2a declares k), each leaving a
    marker file ran-<part>.txt when it runs; report.toml; builds in this
    process; the keys read the copy ``checkout``."""
    two_notebooks(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def snapshot(folder):
    """{path: (kind, size, mtime in ns)} of ``folder`` and everything under
    it, symbolic links not followed; {} when it does not exist."""
    folder = Path(folder)
    if not folder.exists():
        return {}
    paths = [folder, *sorted(folder.rglob("*"))]
    return {str(p.relative_to(folder)): (p.is_dir(), p.lstat().st_size, p.lstat().st_mtime_ns) for p in paths}


def build(capsys, *args):
    """A build of the project (no PDF); (status, what it printed, the parts that ran)."""
    for marker in Path("notebooks").glob("ran-*.txt"):
        marker.unlink()
    if Path("build").is_dir() and not Path("build/mathjax").exists():    # the installed MathJax, not a copy
        Path("build/mathjax").symlink_to(Path(jupyter_server_mathjax.__file__).parent / "static")
    status = cli.main(["--no-pdf", "--config", "report.toml", *args])
    printed = capsys.readouterr()
    return status, printed.out + printed.err, sorted(m.stem[4:] for m in Path("notebooks").glob("ran-*.txt"))


def check(capsys, *args, pdf=False):
    """``--check`` with ``args``: (status, {notebook or 'report': what it
    would do}, stdout, stderr), having asserted that it ran nothing and left
    the output folder exactly as it was."""
    for marker in Path("notebooks").glob("ran-*.txt"):     # left by the last build
        marker.unlink()
    before = snapshot("build")
    status = cli.main(["--check", "--config", "report.toml", *([] if pdf else ["--no-pdf"]), *args])
    out, err = capsys.readouterr()
    assert snapshot("build") == before, "--check changed the output folder"
    assert not list(Path("notebooks").glob("ran-*.txt")), "--check ran a notebook"
    lines = out.splitlines()
    said = {m[1]: lines[i + 1].strip() for i, line in enumerate(lines) if (m := re.match(r"(\S+\.ipynb): ", line))}
    said["report"] = next(line.split(": ", 1)[1] for line in lines if line.startswith("report (build/): "))
    assert status != OK or lines[-1] == DONE, out
    return status, said, out, err


def test_before_any_build_every_notebook_would_run_and_nothing_is_made(project, capsys):
    status, said, out, _ = check(capsys)
    assert status == OK
    assert said == {"1a_one.ipynb": "would run: not stored yet", "2a_two.ipynb": "would run: not stored yet",
                    "report": "would be rendered again: 1a_one, 2a_two run"}
    assert "1a_one.ipynb: n=2\n" in out and "2a_two.ipynb: k=3\n" in out      # the values, as before
    assert not Path("build").exists()                                          # no folder, mark or lock


def test_check_says_what_the_build_then_does(project, capsys):
    assert build(capsys)[2] == ["1a", "2a"]
    computed = {nb: computed_at(nbformat.read(f"build/notebooks/{nb}", as_version=4))
                for nb in ("1a_one.ipynb", "2a_two.ipynb")}
    status, said, _, _ = check(capsys)
    assert status == OK and said == {nb: f"reused (computed {c})" for nb, c in computed.items()} | {
        "report": "up to date"}
    assert "is up to date" in build(capsys)[1]                                 # as the build found

    status, said, _, _ = check(capsys, "-p", "n", "5")
    assert said["1a_one.ipynb"] == "would run: n = 5 (was 2)"
    assert said["2a_two.ipynb"].startswith("reused (computed ")
    assert said["report"] == "would be rendered again: 1a_one runs"
    assert build(capsys, "-p", "n", "5")[2] == ["1a"]                          # as the build did

    assert check(capsys, "--rerun")[1]["2a_two.ipynb"] == "would run: --rerun"

    status, said, _, _ = check(capsys, "--render-only")
    assert status == OK and said["1a_one.ipynb"].startswith("not run (--render-only): the report's run, computed ")
    assert said["report"] == "up to date"                   # the report's own runs, as published
    nb = nbformat.read("notebooks/1a_one.ipynb", as_version=4)
    nb.cells[-1].source += "\nprint('code edited')"
    nbformat.write(nb, "notebooks/1a_one.ipynb")
    _, said, _, err = check(capsys, "--render-only")
    assert "warning: 1a_one: its code or the helpers package changed since it ran" in err
    assert said["1a_one.ipynb"].startswith("not run (--render-only)")


def test_a_code_edit_helpers_requirements_and_python_are_named(project, checkout, capsys, monkeypatch):
    build(capsys)
    nb = nbformat.read("notebooks/2a_two.ipynb", as_version=4)
    nb.cells[-1].source += "\nprint('more')"
    nbformat.write(nb, "notebooks/2a_two.ipynb")
    said = check(capsys)[1]
    assert said["2a_two.ipynb"] == "would run: its code changed" and said["1a_one.ipynb"].startswith("reused")
    assert check(capsys, "-p", "k", "4")[1]["2a_two.ipynb"] == "would run: its code changed; k = 4 (was 3)"

    (checkout / "helpers" / "model.py").write_text((checkout / "helpers" / "model.py").read_text() + "\n# edit\n")
    assert check(capsys)[1]["1a_one.ipynb"] == "would run: helpers/ changed"
    (checkout / "requirements.txt").write_text((checkout / "requirements.txt").read_text() + "# edit\n")
    assert check(capsys)[1]["1a_one.ipynb"] == "would run: helpers/ changed; requirements.txt changed"
    build(capsys)
    version = sys.version.split()[0]
    monkeypatch.setattr(sys, "version", "3.99.0 (main, Jan  1 2030, 00:00:00) [GCC 99.0.0]")
    assert check(capsys)[1]["1a_one.ipynb"] == f"would run: Python changed ({version} -> 3.99.0)"

    for path in [Path("build/notebooks/1a_one.ipynb"), *Path("build/cache").glob("1a_one-*/notebook.ipynb")]:
        nb = nbformat.read(str(path), as_version=4)             # as a run stored by an earlier version
        del nb.metadata.report_run["inputs"]
        nbformat.write(nb, str(path))
    assert check(capsys)[1]["1a_one.ipynb"] == ("would run: helpers/, requirements.txt or Python changed "
                                                "(its stored run does not record which)")


def test_a_stored_run_that_is_unusable_or_gone(project, capsys):
    build(capsys)
    stored = next(Path("build/cache").glob("1a_one-*"))
    (stored / cache.NOTEBOOK).write_text("[1, 2]")
    said = check(capsys)[1]
    assert said["1a_one.ipynb"].startswith(f"would run: its stored run cache/{stored.name}/ is unusable (")
    assert said["1a_one.ipynb"].endswith("); the build removes it") and stored.exists()    # not removed
    _, printed, ran = build(capsys)
    assert "is unusable" in printed and ran == ["1a"]                         # as the build found
    for entry in Path("build/cache").glob("1a_one-*"):
        remove(entry)
    assert check(capsys)[1]["1a_one.ipynb"] == "would run: its stored run is gone from build/cache/"


def test_why_the_report_would_be_rendered_again(project, checkout, capsys):
    build(capsys)
    nb = nbformat.read("notebooks/2a_two.ipynb", as_version=4)                  # prose: no run, a render
    nb.cells[0].source += "\n\nA sentence added after the run."
    nbformat.write(nb, "notebooks/2a_two.ipynb")
    said = check(capsys)[1]
    assert said["2a_two.ipynb"].startswith("reused") and said["report"] == (
        "would be rendered again: changed: notebooks/2a_two.ipynb")
    build(capsys)

    assert check(capsys, "--name", "Bob")[1]["report"] == "would be rendered again: the title page changed (name)"
    assert check(capsys, pdf=True)[1]["report"] == "would be rendered again: a PDF is wanted now"
    assert check(capsys, "--parts", "1a")[1]["report"] == (
        "would be rendered again: gone: notebooks/2a_two.ipynb; the title page changed (parts shown)")
    template = checkout / "reportbuild" / "render" / "templates" / "homework.html.j2"
    template.write_text(template.read_text() + "\n")
    assert check(capsys)[1]["report"] == "would be rendered again: the templates or the tool changed"
    build(capsys)

    Path("build/report.html").write_text("edited by hand")
    assert check(capsys)[1]["report"] == "would be rendered again: published files are missing or changed (report.html)"
    Path("build/report.html").unlink()
    assert check(capsys)[1]["report"] == "would be rendered again: published files are missing or changed (report.html)"
    build(capsys)

    manifest = json.loads(Path("build/manifest.json").read_text())             # a report of an earlier version
    del manifest["inputs"]
    Path("build/manifest.json").write_text(json.dumps(manifest))
    assert check(capsys)[1]["report"] == "up to date"
    assert check(capsys, "--name", "Bob")[1]["report"] == (
        "would be rendered again: the templates, the tool or the title settings may have changed "
        "(the report does not say which)")


def test_check_exits_as_the_build_would(project, capsys, monkeypatch):
    assert cli.main(["--check", "-p", "n", "0"]) == USAGE                     # a bad value: as before
    assert "n = 0 is out of range" in capsys.readouterr().err
    monkeypatch.setattr(outfolder.os, "access", lambda path, mode: False)    # an output folder it cannot write
    for args in (["--out", "build"], ["--out", "new/build"]):
        assert cli.main(["--check", *args]) == USAGE
        err = capsys.readouterr().err
        assert f"error: cannot write to the output folder {args[1]}/ (" in err and "choose another folder" in err
    assert not Path("build").exists() and not Path("new").exists()
