"""The run stage's cache and the render stage's inputs: what reruns a
notebook, what reuses its outputs, and what the report then shows."""

import hashlib
import os
from pathlib import Path

import jupyter_server_mathjax
import nbformat
import pytest
from test_pipeline import make_notebook

from reportbuild import cli, keys, outfolder
from reportbuild.executed import computed_at
from reportbuild.parts import PartsError, select_parts
from reportbuild.run import cache
from reportbuild.run.kernels import status_line

ROOT = Path(__file__).resolve().parents[1]


def notebook(*cells, params="n: int = 2  # steps"):
    """An in-memory notebook: a heading, a parameters cell, then ``cells``
    (strings starting with '#' are Markdown, the rest code)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Part 1a: T"),
                nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]}),
                *(nbformat.v4.new_markdown_cell(c) if c.startswith("#") else nbformat.v4.new_code_cell(c)
                  for c in cells)]
    return nb


# --- the key: what reruns a notebook -------------------------------------

def test_run_key_follows_code_parameters_and_run_inputs_not_markdown():
    base = notebook("# Prose", "x = n + 1")
    key = keys.run_key(base, {"n": 2}, "env")
    assert keys.run_key(notebook("# Other prose, longer", "x = n + 1"), {"n": 2}, "env") == key
    assert keys.run_key(base, {"n": 3}, "env") != key              # a parameter value
    assert keys.run_key(base, {"n": 2.0 + 1e-12}, "env") != key
    assert keys.run_key(notebook("# Prose", "x = n + 2"), {"n": 2}, "env") != key      # code
    assert keys.run_key(notebook("# Prose", "x = n + 1", "y = 0"), {"n": 2}, "env") != key
    assert keys.run_key(base, {"n": 2}, "env2") != key             # helpers or requirements
    untagged = notebook("# Prose", "x = n + 1")
    untagged.cells[1].metadata = {}
    assert keys.run_key(untagged, {"n": 2}, "env") != key          # which cell takes parameters


def test_a_quick_run_key_follows_quick_json(tmp_path, monkeypatch):
    """quick = True makes a notebook read its sizes from notebooks/quick.json
    (helpers/quick.py), so that file is in the key of such a run only."""
    base = notebook("# Prose", "x = n + 1")
    monkeypatch.setattr(keys, "QUICK", tmp_path / "quick.json")
    keys.QUICK.write_text('{"n": 2}')
    quick, full = keys.run_key(base, {"quick": True}, "env"), keys.run_key(base, {"quick": False}, "env")
    keys.QUICK.write_text('{"n": 3}')
    assert keys.run_key(base, {"quick": True}, "env") != quick
    assert keys.run_key(base, {"quick": False}, "env") == full


def edited(path, text="\n# edited\n"):
    """Append ``text`` to the file ``path`` (returns the path)."""
    path.write_text(path.read_text() + text)
    return path


def test_each_key_follows_exactly_its_stage_inputs(checkout, tmp_path):
    """helpers/ and requirements.txt change the run key, not the render key;
    a template or the tool's code changes the render key, not the run key;
    byte code changes neither."""
    info = {"student": "Ada"}

    def both():
        return keys.run_inputs_digest(), keys.render_key([], info, True)

    start = both()
    (checkout / "helpers" / "__pycache__").mkdir()
    (checkout / "helpers" / "__pycache__" / "model.cpython-311.pyc").write_bytes(b"compiled")
    assert both() == start
    for path, changes in [("helpers/model.py", (True, False)), ("requirements.txt", (True, False)),
                          ("helpers/new_module.py", (True, False)),
                          ("reportbuild/render/templates/homework.tex.j2", (False, True)),
                          ("reportbuild/render/templates/homework.html.j2", (False, True)),
                          ("reportbuild/render/merge.py", (False, True)),
                          ("reportbuild/system-packages.txt", (False, True)),
                          ("helpers/claims.py", (True, True))]:     # the claim outputs the merge counts
        before = both()
        file = checkout / path
        if file.exists():
            edited(file, "\n% a comment\n" if file.suffix == ".j2" else "\n# a comment\n")
        else:
            file.write_text("")
        assert tuple(a != b for a, b in zip(both(), before)) == changes, path


def test_combine_puts_the_current_markdown_around_the_stored_outputs():
    ran = notebook("# Old prose", "print(n)", "print(2 * n)")
    ran.cells.insert(2, nbformat.v4.new_code_cell("n = 5", metadata={"tags": ["injected-parameters"]}))
    for k, cell in enumerate(c for c in ran.cells if c.cell_type == "code"):
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"out {k}\n")]
    ran.metadata["papermill"] = {"parameters": {"n": 5}, "end_time": "2026-01-02T03:04:05+00:00"}
    now = notebook("# New prose", "print(n)", "# More new prose", "print(2 * n)")
    nb = cache.combine(now, ran)
    assert [c.source for c in nb.cells] == ["# Part 1a: T", "n: int = 2  # steps", "n = 5", "# New prose",
                                           "print(n)", "# More new prose", "print(2 * n)"]
    assert [c.outputs[0].text for c in nb.cells if c.cell_type == "code"] == [f"out {k}\n" for k in range(4)]
    assert nb.metadata.papermill.parameters == {"n": 5}
    with pytest.raises(ValueError, match="code cells differ"):
        cache.combine(notebook("# New prose", "print(n + 1)", "print(2 * n)"), ran)


def test_parts_accepts_ranges_and_lists_and_names_the_valid_ones():
    paths = [Path(f"{p}_x.ipynb") for p in ("1a", "1b", "1c", "1d", "1e", "1f", "2a", "2b", "2c")]
    labels = lambda spec: [p.stem[:2] for p in select_parts(paths, spec)]
    assert labels(None) == labels("1a-2c") == [p.stem[:2] for p in paths]
    assert labels("1a-1f") == ["1a", "1b", "1c", "1d", "1e", "1f"]
    assert labels("2c, 1a,1c-1d") == ["1a", "1c", "1d", "2c"]
    for spec, message in [("1g", "unknown part '1g'; the parts are 1a, 1b, 1c, 1d, 1e, 1f, 2a, 2b, 2c"),
                          ("1a-3a", "unknown part '3a'"), ("1c-1a", "runs backwards"), (",", "names no part")]:
        with pytest.raises(PartsError, match=message):
            select_parts(paths, spec)


def test_the_cache_keeps_the_most_recently_used_runs(tmp_path):
    """KEEP runs per notebook: storing one more removes the least recently
    used, and a lookup counts as a use."""
    src, out = tmp_path / "1a_t.ipynb", tmp_path / "build"
    executed = tmp_path / "executed.ipynb"
    nbformat.write(notebook("print(n)"), str(executed))
    keys_ = [f"{k:020x}" for k in range(cache.KEEP + 2)]
    for age, key in enumerate(keys_[:cache.KEEP]):
        cache.store(out, src, key, executed)
        os.utime(cache.entry(out, src, key), (1000 + age, 1000 + age))     # stored long ago, oldest first
    assert cache.lookup(out, src, keys_[0]) is not None               # the oldest, used now
    cache.store(out, src, keys_[cache.KEEP], executed)                # one more: keys_[1] is now the oldest
    kept = sorted(p.name.rsplit("-", 1)[1] for p in (out / "cache").iterdir())
    assert kept == sorted([keys_[0], *keys_[2:cache.KEEP + 1]])
    (out / "cache" / f"1a_t-{keys_[-1]}.ipynb").write_text("{}")      # a file of an earlier version, older still
    os.utime(out / "cache" / f"1a_t-{keys_[-1]}.ipynb", (10, 10))
    cache.evict(out, src)
    assert not (out / "cache" / f"1a_t-{keys_[-1]}.ipynb").exists() and len(list((out / "cache").iterdir())) == 3


def test_a_stored_run_keeps_the_files_its_notebook_saved(tmp_path):
    src, out, key = tmp_path / "1f_t.ipynb", tmp_path / "build", "ab" * 10
    executed, saved = tmp_path / "executed.ipynb", tmp_path / "saved"
    nbformat.write(notebook("print(n)"), str(executed))
    (saved / "sub").mkdir(parents=True)
    (saved / "run.json").write_text("{}")
    (saved / "sub" / "run.csv").write_text("a,b\n")
    stored = cache.store(out, src, key, executed, saved)
    sha = {"run.json": hashlib.sha256(b"{}").hexdigest(), "sub/run.csv": hashlib.sha256(b"a,b\n").hexdigest()}
    assert stored.notebook.metadata.report_run == {"key": key, "results": ["run.json", "sub/run.csv"], "sha256": sha}
    hit = cache.lookup(out, src, key)
    assert (hit.results / "sub" / "run.csv").read_text() == "a,b\n" and not saved.exists()   # moved in


@pytest.mark.parametrize("damage", ["truncated", "not a notebook", "another key", "no notebook"])
def test_an_unreadable_stored_run_is_a_miss_with_a_warning(tmp_path, damage):
    src, out, key = tmp_path / "1a_t.ipynb", tmp_path / "build", "cd" * 10
    executed = tmp_path / "executed.ipynb"
    nbformat.write(notebook("print(n)"), str(executed))
    stored = cache.store(out, src, key, executed).path / cache.NOTEBOOK
    text = stored.read_text()
    {"truncated": lambda: stored.write_text(text[:len(text) // 2]),
     "not a notebook": lambda: stored.write_text("[1, 2]"),
     "another key": lambda: stored.write_text(text.replace(key, "ef" * 10)),
     "no notebook": stored.unlink}[damage]()
    warnings = []
    assert cache.lookup(out, src, key, warnings.append) is None
    assert len(warnings) == 1 and f"the stored run cache/1a_t-{key}/ is unusable" in warnings[0]
    assert "1a_t runs again" in warnings[0] and not cache.entry(out, src, key).exists()


def test_peek_is_lookup_without_its_effects(tmp_path):
    """``peek`` (for --check) finds what ``lookup`` finds, and says why an
    entry is unusable, but removes and touches nothing."""
    src, out, key = tmp_path / "1a_t.ipynb", tmp_path / "build", "ab" * 10
    executed = tmp_path / "executed.ipynb"
    nbformat.write(notebook("print(n)"), str(executed))
    path = cache.store(out, src, key, executed, inputs={"helpers": "h", "requirements": "r", "python": "3.x"}).path
    os.utime(path, (1000, 1000))
    found, why = cache.peek(out, src, key)
    assert why == "" and found.path == path and path.stat().st_mtime == 1000           # not touched
    assert cache.recorded_inputs(found.notebook) == {"helpers": "h", "requirements": "r", "python": "3.x"}
    assert cache.peek(out, src, "cd" * 10) == (None, "")                                # no entry
    text = (path / cache.NOTEBOOK).read_text()
    (path / cache.NOTEBOOK).write_text(text[:len(text) // 2])
    assert cache.peek(out, src, key) == (None, "its notebook is not valid JSON") and path.is_dir()   # kept
    assert cache.lookup(out, src, key, lambda w: None) is None and not path.exists()    # lookup removes it


def test_a_build_records_the_run_inputs_with_each_stored_run(project, checkout, capsys):
    """What --check compares: helpers/, requirements.txt and Python, digest
    by digest, beside the run key (in the stored and the published notebook)."""
    build(capsys)
    for path in [*Path("build/cache").glob("*/notebook.ipynb"), *Path("build/notebooks").glob("*.ipynb")]:
        assert cache.recorded_inputs(nbformat.read(str(path), as_version=4)) == keys.run_inputs(), path
    before = keys.run_inputs()
    (checkout / "helpers" / "model.py").write_text("# edited\n")
    assert {k for k in before if keys.run_inputs()[k] != before[k]} == {"helpers"}
    (checkout / "requirements.txt").write_text("# edited\n")
    assert {k for k in before if keys.run_inputs()[k] != before[k]} == {"helpers", "requirements"}


# --- the whole build, on two tiny notebooks --------------------------------

def two_notebooks(tmp_path):
    """notebooks/ with two tiny notebooks (1a declares n, 2a declares k),
    each leaving a marker file ran-<part>.txt when it runs; report.toml."""
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    make_notebook(nbs / "1a_one.ipynb", "Part 1a: One", "n: int = 2  # steps",
                  "open('ran-1a.txt', 'a').close()\nprint('n squared is', n * n)")
    make_notebook(nbs / "2a_two.ipynb", "Part 2a: Two", "k: int = 3  # count",
                  "open('ran-2a.txt', 'a').close()\nprint('k plus one is', k + 1)")
    (tmp_path / "report.toml").write_text('name = "Ada"\n')
    return nbs


@pytest.fixture
def project(tmp_path, monkeypatch, fast_builds):
    """Two tiny notebooks (1a declares n, 2a declares k); each leaves a
    marker file ran-<part>.txt when it runs.  Builds run in this process
    (``fast_builds``); build/mathjax links to the installed MathJax, which
    the build would otherwise copy for each test."""
    nbs = two_notebooks(tmp_path)
    outfolder.prepare(tmp_path / "build")      # an output folder of the tool's, as a first build leaves it
    (tmp_path / "build" / "mathjax").symlink_to(Path(jupyter_server_mathjax.__file__).parent / "static")
    monkeypatch.chdir(tmp_path)
    return nbs


def build(capsys, *args):
    """Run the build in this process; (exit status, stdout and stderr, the parts that ran)."""
    nbs = Path("notebooks")
    for marker in nbs.glob("ran-*.txt"):
        marker.unlink()
    status = cli.main(["--no-pdf", "--config", "report.toml", *map(str, args)])
    printed = capsys.readouterr()
    return status, printed.out + printed.err, sorted(m.stem[4:] for m in nbs.glob("ran-*.txt"))


def test_the_cache_reruns_exactly_what_changed(project, capsys, monkeypatch):
    status, out, ran = build(capsys)
    assert status == 0 and ran == ["1a", "2a"]
    lines = [ln.split() for ln in out.splitlines() if ln.startswith("  ")]
    assert sorted(ln[0] for ln in lines) == ["1a_one", "2a_two"] and all(ln[-1] == "s" for ln in lines)
    first = nbformat.read("build/notebooks/1a_one.ipynb", as_version=4)
    computed = computed_at(first)
    html = Path("build/report.html").read_text()
    assert "n squared is 4" in html and computed in html

    status, out, ran = build(capsys)                   # nothing changed
    assert status == 0 and ran == []
    assert status_line("1a_one", f"cached (computed {computed})") in out
    assert "is up to date" in out

    nb = nbformat.read(project / "2a_two.ipynb", as_version=4)       # a prose edit
    nb.cells[0].source += "\n\nA sentence added after the run."
    nbformat.write(nb, str(project / "2a_two.ipynb"))
    status, out, ran = build(capsys)
    assert status == 0 and ran == [] and "up to date" not in out
    html = Path("build/report.html").read_text()
    assert "A sentence added after the run." in html and "k plus one is 4" in html
    assert computed in html                            # cached outputs keep their date

    status, out, ran = build(capsys, "-p", "n", "5")   # a new value: only 1a declares n
    assert status == 0 and ran == ["1a"] and status_line("2a_two", "cached") in out
    assert "n squared is 25" in Path("build/report.html").read_text()
    status, out, ran = build(capsys)                   # back to the default: cached again
    assert ran == [] and "n squared is 4" in Path("build/report.html").read_text()

    monkeypatch.setattr(keys, "run_inputs_digest", lambda: "helpers or requirements changed")
    status, out, ran = build(capsys)
    assert status == 0 and ran == ["1a", "2a"]

    status, out, ran = build(capsys, "--rerun")
    assert status == 0 and ran == ["1a", "2a"] and "cached" not in out


def test_a_template_or_tool_edit_renders_again_and_runs_nothing(project, checkout, capsys):
    assert build(capsys)[2] == ["1a", "2a"]
    for path in ("reportbuild/render/templates/homework.html.j2", "reportbuild/render/templates/homework.tex.j2",
                 "reportbuild/cli.py"):
        edited(checkout / path)
        status, out, ran = build(capsys)
        assert status == 0 and ran == [] and out.count(" cached (computed ") == 2, path
        assert "is up to date" not in out, path


def test_parts_and_render_only(project, capsys):
    status, out, ran = build(capsys, "--parts", "2a")
    assert status == 0 and ran == ["2a"]
    html = Path("build/report.html").read_text()
    assert "Part 2a: Two" in html and "Part 1a: One" not in html
    for check in ([], ["--check"]):                     # 1a never ran: refused before anything, as --check says
        status, err, ran = build(capsys, "--render-only", *check)
        assert status == 2 and ran == []
        assert "--render-only: 1a_one.ipynb never ran" in err

    assert build(capsys)[2] == ["1a"]
    assert sorted(p.name for p in Path("build/notebooks").iterdir()) == ["1a_one.ipynb", "2a_two.ipynb"]
    assert build(capsys, "--parts", "1a")[2] == []      # a report of 1a alone: its notebooks alone
    assert [p.name for p in Path("build/notebooks").iterdir()] == ["1a_one.ipynb"]
    nb = nbformat.read(project / "1a_one.ipynb", as_version=4)
    nb.cells[0].source += "\n\nProse that only a run of the build would merge."
    nbformat.write(nb, str(project / "1a_one.ipynb"))
    status, out, ran = build(capsys, "--render-only", "--parts", "1a")
    assert status == 0 and ran == [] and "changed since it ran" not in out
    html = Path("build/report.html").read_text()
    assert "Part 1a: One" in html and "Part 2a: Two" not in html
    assert "Prose that only" in html                   # prose needs no run: merged

    nb.cells[-1].source += "\nprint('code edited')"  # code: the report shows the earlier run, and says so
    nbformat.write(nb, str(project / "1a_one.ipynb"))
    status, out, ran = build(capsys, "--render-only", "--parts", "1a")
    assert status == 0 and ran == []
    assert "warning: 1a_one: its code or the helpers package changed since it ran" in out
    assert "code edited" not in Path("build/report.html").read_text()

    assert cli.main(["--parts", "3a"]) == 2
    assert "unknown part '3a'; the parts are 1a, 2a" in capsys.readouterr().err


def test_title_page_values_are_escaped_in_the_html(project, capsys):
    evil = "<script>alert(1)</script> & <b>"
    Path("report.toml").write_text(f'course = "{evil}"\n')
    assert build(capsys, "--name", evil)[0] == 0
    html = Path("build/report.html").read_text()
    assert "<script>alert(1)" not in html and "<b>" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;") >= 2
