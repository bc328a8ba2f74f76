"""The output folder holds only what the build made, and "up to date" is
checked: the cases of a reliability probe, each driven through the build
(``cli.main``, in this process, with ``fast_builds`` standing in for the
kernels where the notebooks' running is not the point).

| case                                        | outcome                              |
|---------------------------------------------|--------------------------------------|
| --out at a folder of one's own (.ssh, .git) | exit 2, nothing touched              |
| --out at the project, the notebooks, inside | exit 2, nothing touched              |
| foreign dot-names in a marked folder        | kept; only the tool's leftovers go   |
| a folder an older version made (report.key) | used, and marked                     |
| a damaged or missing published file         | named, rendered again, set whole     |
| a stored run whose saved file is gone       | a miss: the notebook runs again      |
| stray notebooks (Untitled, copies, empty)   | exit 2 before running, named         |
| --quick, --parts, fewer parts than before   | stamped, scoped, said                |
| a notebook run with quick=True              | stamped, said                        |
| --check                                     | refuses what the build refuses       |
| read-only or full file system               | a message, exit 1, report unchanged  |
"""

import errno
import json
import os
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from conftest import write_tiny
from system import require
from test_pipeline import ANSWER_1A, make_notebook

from reportbuild import cli, outfolder
from reportbuild.exit_status import FAILED, OK, USAGE
from reportbuild.parameters import read_params

ROOT = Path(__file__).resolve().parents[1]


def tree(folder):
    """{relative path: bytes or 'dir'} of everything under ``folder``."""
    folder = Path(folder)
    return {str(p.relative_to(folder)): ("dir" if p.is_dir() else p.read_bytes()) for p in sorted(folder.rglob("*"))}


def build(tiny, out, *args):
    return cli.main(["--notebooks", str(tiny), "--out", str(out), "--name", "Ada", *args])


def saving_notebook(nbs):
    """3a: saves r.txt into the folder its ``out_dir`` parameter names."""
    path = make_notebook(nbs / "3a_saving.ipynb", "Part 3a: Saving", 'out_dir: str = "scratch/x"  # where r.txt goes',
                         "import pathlib\np = pathlib.Path(out_dir)\np.mkdir(parents=True, exist_ok=True)\n"
                         "(p / 'r.txt').write_text('saved')")
    nb = nbformat.read(str(path), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(ANSWER_1A.replace("d0 is {d0}", "saved"), metadata={"tags": ["answer"]}))
    nbformat.write(nb, str(path))
    return path


# ------------------------------------------------------------ whose folder

def test_a_folder_of_ones_own_is_refused_and_left_alone(tiny, tmp_path, capsys, fast_builds):
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("k")
    (home / ".git").mkdir()
    (home / ".bashrc").write_text("a")
    before = tree(home)
    for extra in ([], ["--check"]):
        assert build(tiny, home, "--no-pdf", *extra) == USAGE
        err = capsys.readouterr().err
        assert "already holds files this tool did not make (.bashrc, .git, .ssh)" in err and "Traceback" not in err
    assert tree(home) == before


@pytest.mark.parametrize("where", ["project", "notebooks", "inside"])
def test_the_notebooks_folder_and_the_folders_around_it_are_refused(tiny, capsys, fast_builds, where):
    out = {"project": tiny.parent, "notebooks": tiny, "inside": tiny / "out"}[where]
    before = tree(tiny.parent)
    assert build(tiny, out, "--no-pdf") == USAGE
    err = capsys.readouterr().err
    assert {"project": "that folder holds the notebooks", "notebooks": "that folder is the notebooks' folder",
            "inside": "that folder is inside the notebooks' folder"}[where] in err
    assert tree(tiny.parent) == before


def test_only_the_tools_own_leftovers_are_removed(tiny, tmp_path, capsys, fast_builds):
    out = tmp_path / "build"
    assert build(tiny, out, "--no-pdf") == OK
    (out / ".bashrc").write_text("mine")
    (out / ".git").mkdir()
    (out / "notes.txt").write_text("mine too")
    (out / "cache" / ".keep").write_text("")
    for left in (".next-abc123", ".run-x_9", ".render-q1", ".mathjax-zz"):
        (out / left).mkdir()
    (out / "cache" / ".1a_first-0123456789abcdef0123-k2").mkdir()
    capsys.readouterr()
    assert build(tiny, out, "--no-pdf", "-p", "d0", "6") == OK
    said = capsys.readouterr().out
    assert ("Removed what an interrupted build left in " in said and ".next-abc123, .render-q1" in said
            and "cache/.1a_first-0123456789abcdef0123-k2" in said)
    assert (out / ".bashrc").read_text() == "mine" and (out / ".git").is_dir()
    assert (out / "notes.txt").exists() and (out / "cache" / ".keep").exists()
    assert not any((out / n).exists() for n in (".next-abc123", ".run-x_9", ".render-q1", ".mathjax-zz"))


def test_a_folder_an_older_version_made_is_used_and_marked(tiny, tmp_path, capsys, fast_builds):
    out = tmp_path / "build"
    out.mkdir()
    for name, text in (("report.key", "0" * 64), ("report.html", "old"), ("setup.log", "pip")):
        (out / name).write_text(text)
    assert build(tiny, out, "--no-pdf") == OK
    assert (out / outfolder.MARK).is_file() and not (out / "report.key").exists()
    assert (out / "setup.log").read_text() == "pip" and (out / "report.html").read_text() != "old"
    assert "report.key" not in capsys.readouterr().err


def test_a_new_output_folder_gets_the_mark_and_a_setup_log_alone_is_no_obstacle(tiny, tmp_path, fast_builds):
    out = tmp_path / "build"
    out.mkdir()
    (out / "setup.log").write_text("what build_report.sh wrote first")
    assert build(tiny, out, "--no-pdf") == OK
    assert "build_report.sh" in (out / outfolder.MARK).read_text()


# ------------------------------------------------------------ up to date, checked

def build_tiny_pdf(folder):
    """``tiny``'s notebooks in ``folder``/notebooks, their report (PDF
    included) built into ``folder``/build."""
    assert build(write_tiny(folder), folder / "build") == OK


@pytest.fixture
def built_pdf(tiny, tmp_path, fast_builds, made_once):
    """tmp_path/build: the report of ``tiny``, PDF included, as a build makes
    it: a copy of the one built once in the test run, ``tiny``'s notebooks
    made those it was built from (the same cells, down to their random
    ids); MathJax linked, not copied."""
    require("xelatex", "pandoc")
    base = made_once("tiny-pdf", build_tiny_pdf)
    for path in (base / "notebooks").iterdir():
        if path.is_file():
            shutil.copy2(path, tiny / path.name)
    out = tmp_path / "build"
    shutil.copytree(base / "build", out, ignore=shutil.ignore_patterns("mathjax"))
    (out / "mathjax").symlink_to(base / "build" / "mathjax")
    return out


@pytest.mark.parametrize("damage", ["empty pdf", "deleted notebook", "pages.json", "extra file"])
def test_a_damaged_report_is_not_up_to_date_and_is_repaired(tiny, built_pdf, capsys, damage):
    out = built_pdf
    pages = (out / "pages.json").read_text()
    if damage == "empty pdf":
        (out / "report.pdf").write_bytes(b"")
    elif damage == "deleted notebook":
        (out / "notebooks" / "1a_first.ipynb").unlink()
    elif damage == "pages.json":
        (out / "pages.json").write_text('{"1a": [99]}')
    else:
        (out / "notebooks" / "stray.ipynb").write_text("{}")
    capsys.readouterr()
    assert build(tiny, out) == OK
    said = capsys.readouterr()
    assert "up to date" not in said.out and "the published report is damaged" in said.err
    assert "Gradescope pages: 1a 2, 2a 3" in said.out and "1a 99" not in said.out
    assert "now holds" not in said.err      # the stray file was no part
    assert (out / "pages.json").read_text() == pages and (out / "report.pdf").stat().st_size > 1000
    assert sorted(p.name for p in (out / "notebooks").iterdir()) == ["1a_first.ipynb", "2a_second.ipynb"]
    key = json.loads((out / outfolder.MANIFEST).read_text())["render_key"]
    assert outfolder.verify(out, key, out) == (True, [])
    assert build(tiny, out) == OK and "is up to date" in capsys.readouterr().out


def test_a_stored_run_whose_saved_file_is_gone_runs_again(tiny, tmp_path, capsys, fast_builds, monkeypatch):
    saving_notebook(tiny)
    out = tmp_path / "build"
    assert build(tiny, out, "--no-pdf") == OK
    assert (out / "results" / "r.txt").read_text() == "saved"
    [stored] = (out / "cache").glob("3a_saving-*")
    (stored / "results" / "r.txt").unlink()
    capsys.readouterr()
    assert build(tiny, out, "--no-pdf") == OK
    said = capsys.readouterr()
    assert "is unusable (its saved file results/r.txt is missing); it was removed and 3a_saving runs again" in said.err
    assert "cached" not in next(ln for ln in said.out.splitlines() if "3a_saving" in ln)
    assert (out / "results" / "r.txt").read_text() == "saved"
    [stored] = (out / "cache").glob("3a_saving-*")
    (stored / "results" / "r.txt").write_text("changed")
    assert build(tiny, out, "--no-pdf") == OK
    assert "its saved file results/r.txt changed since the run" in capsys.readouterr().err


def test_every_folder_parameter_of_the_notebooks_defaults_to_a_git_ignored_scratch_folder():
    """A notebook run by hand (Jupyter, papermill) saves apart from the
    published report: into a git-ignored folder that no build reads."""
    folders = [(path.name, p.default) for path in sorted((ROOT / "notebooks").glob("*.ipynb"))
               for p in read_params(path) if p.is_folder]
    assert folders, "no notebook declares a folder parameter"
    for name, default in folders:
        assert Path(default).parts[0] == "scratch", f"{name}: {default}"
        ignored = subprocess.run(["git", "check-ignore", "-q", default], cwd=ROOT, check=False).returncode == 0
        assert ignored, f"{name}: {default} is not git-ignored"


# ------------------------------------------------------------ only real parts are parts

@pytest.mark.parametrize("stray, message", [
    ("Untitled.ipynb", "Untitled.ipynb: the name fits no part"),
    ("2a_second-Copy1.ipynb", "2a_second-Copy1.ipynb: the name fits no part"),
    ("1a_first_old.ipynb", "1a_first.ipynb and 1a_first_old.ipynb are all part 1a"),
    ("2b_empty.ipynb", "2b_empty.ipynb: the notebook is empty"),
    ("2c_other.ipynb", "must start with '# Part 2c: <title>'"),
])
def test_a_notebook_that_is_not_a_part_stops_the_build_before_anything_runs(tiny, tmp_path, capsys, fast_builds,
                                                                          stray, message):
    if stray == "2b_empty.ipynb":
        nbformat.write(nbformat.v4.new_notebook(), str(tiny / stray))
    elif stray == "2c_other.ipynb":
        make_notebook(tiny / stray, "Part 2a: Second again", "k: int = 1  # k")
    else:
        shutil.copy(tiny / ("2a_second.ipynb" if stray.startswith("2a") else "1a_first.ipynb"), tiny / stray)
    out = tmp_path / "build"
    for extra in (["--check"], []):
        assert build(tiny, out, "--no-pdf", *extra) == USAGE
        err = capsys.readouterr().err
        assert message in err and "not parts of the report" in err
    assert not out.exists() and not (tiny / "ran-1a.txt").exists()
    if stray == "1a_first_old.ipynb":        # --parts leaves the doubled part out
        assert build(tiny, out, "--no-pdf", "--parts", "2a") == OK


def test_the_output_folder_may_not_be_the_notebooks_folder_even_after_a_build(tiny, capsys, fast_builds):
    assert build(tiny, tiny, "--no-pdf") == USAGE
    assert not (tiny / "report.ipynb").exists()


# ------------------------------------------------------------ a report that is not the submission

def test_quick_and_partial_reports_say_so(tiny, tmp_path, capsys, fast_builds):
    out = tmp_path / "build"
    assert build(tiny, out, "--no-pdf") == OK
    html = (out / "report.html").read_text()
    assert "not for submission" not in html and 'class="scope"' not in html
    capsys.readouterr()
    assert build(tiny, out, "--no-pdf", "--quick", "--parts", "1a") == OK
    html = (out / "report.html").read_text()
    assert "quick build: small sizes, not for submission" in html and '<div class="scope">Part 1a</div>' in html
    assert "note: " + str(out) + "/report.html now holds part 1a only; it held 1a\u20132a" in capsys.readouterr().err


def test_a_notebook_run_with_quick_true_makes_a_quick_report(tiny, tmp_path, capsys, fast_builds):
    """A notebook's one-line switch ``quick: bool = False`` set to True (by
    -p, or as its default) counts as a quick build: stamped, and said."""
    path = make_notebook(tiny / "1b_switch.ipynb", "Part 1b: Switch", "quick: bool = False  # small sizes",
                         "print('small' if quick else 'full')")
    out = tmp_path / "build"
    assert build(tiny, out, "--no-pdf") == OK
    assert "not for submission" not in (out / "report.html").read_text()
    assert "ran at small sizes" not in capsys.readouterr().err
    assert build(tiny, out, "--no-pdf", "-p", "quick", "true") == OK
    assert "quick build: small sizes, not for submission" in (out / "report.html").read_text()
    err = capsys.readouterr().err
    assert f'note: {out}/report.html is stamped "quick build: small sizes, not for submission": part 1b ran at ' \
           "small sizes (quick.json's, or quick=True)" in err
    nb = nbformat.read(str(path), as_version=4)
    nb.cells[1].source = "quick: bool = True  # small sizes"          # switched in Jupyter, and committed
    nbformat.write(nb, str(path))
    assert build(tiny, out, "--no-pdf") == OK
    assert "quick build: small sizes, not for submission" in (out / "report.html").read_text()
    assert "part 1b ran at small sizes" in capsys.readouterr().err


def test_a_quick_pdf_is_stamped_on_every_page(tiny, tmp_path, fast_builds):
    require("xelatex", "pandoc", "pdfinfo")         # pdftotext comes with pdfinfo (poppler-utils)
    out = tmp_path / "build"
    assert build(tiny, out, "--quick") == OK
    text = subprocess.run(["pdftotext", "-layout", str(out / "report.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    pages = [p for p in text.split("\f") if p.strip()]
    assert len(pages) >= 3 and all("quick build: small sizes, not for submission" in p for p in pages)


# ------------------------------------------------------------ --check, and messages that match

def test_check_refuses_what_the_build_refuses(tiny, tmp_path, capsys):
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    for args, message in ((["--out", str(a_file)], "that is a file, not a folder"),
                          (["--out", str(tmp_path / "new"), "--render-only"], "never ran")):
        for extra in (["--check"], []):
            assert cli.main(["--notebooks", str(tiny), *args, *extra]) == USAGE
            assert message in capsys.readouterr().err
    assert not (tmp_path / "new").exists()


def test_without_tex_the_note_names_no_option_that_was_not_given(tiny, built_pdf, capsys, fast_builds, monkeypatch):
    from reportbuild.render import exporters
    out = built_pdf
    assert build(tiny, out) == OK
    monkeypatch.setattr(exporters, "missing_tex", lambda: ["xelatex"])
    capsys.readouterr()
    build(tiny, out, "-p", "d0", "6")
    err = capsys.readouterr().err
    assert "removed" in err and "report.pdf" in err and "--no-pdf" not in err


@pytest.mark.parametrize("code, words", [(errno.EROFS, "it is on a read-only file system"),
                                         (errno.ENOSPC, "no space is left on the device")])
def test_a_file_system_that_refuses_writes_gets_a_message(tiny, tmp_path, capsys, fast_builds, monkeypatch,
                                                          code, words):
    from reportbuild.run import cache
    out = tmp_path / "build"
    assert build(tiny, out, "--no-pdf") == OK
    before = tree(out / "notebooks")

    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code), str(out / "cache" / "x"))
    monkeypatch.setattr(cache, "store", refuse)
    capsys.readouterr()
    assert build(tiny, out, "--no-pdf", "-p", "d0", "7") == FAILED
    err = capsys.readouterr().err
    assert f"could not write {out}/cache/x ({words})" in err and "The previous report" in err
    assert "Traceback" not in err and "permission denied" not in err
    assert tree(out / "notebooks") == before


def test_a_full_disk_for_real_keeps_the_previous_report(tiny, tmp_path, capsys, fast_builds):
    """A 2 MB tmpfs as the output folder (root only): MathJax cannot be copied."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root; to run it: sudo python -m pytest " + __file__)
    out = tmp_path / "small"
    out.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(out)], check=False).returncode:
        pytest.skip("this system does not allow mounting a tmpfs here")
    try:
        assert build(tiny, out, "--no-pdf") == FAILED
        err = capsys.readouterr().err
        assert "(no space is left on the device)" in err and "No report was written" in err
        assert "Traceback" not in err
    finally:
        subprocess.run(["umount", str(out)], check=True)
