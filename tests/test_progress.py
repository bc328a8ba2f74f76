"""The progress of running notebooks (reportbuild.run.progress), on a fake
clock and stream; what tqdm's bars say, read from their text
(reportbuild.run.bars, on real tqdm output); the news the workers send
(reportbuild.run.news; kernels, real kernels); cell numbers as Jupyter's
in the progress and in a failure; and a build killed with SIGKILL leaves
no worker or kernel."""

import io
import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from tqdm import tqdm

from reportbuild.run import kernels, worker
from reportbuild.run.bars import latest_task, unfinished
from reportbuild.run.news import CellEvents, jupyter_numbers
from reportbuild.run.progress import Progress, every_from_environment, status_line

ROOT = Path(__file__).resolve().parents[1]


def screen(text):
    """The lines a terminal shows after ``text`` is written to it (trailing
    blanks dropped): a carriage return goes back to the line's start,
    ESC [ K erases to its end; lines are taken as wide enough not to wrap."""
    lines, col, i = [""], 0, 0
    while i < len(text):
        if text.startswith("\x1b[K", i):
            lines[-1], i = lines[-1][:col], i + 3
            continue
        char = text[i]
        if char == "\r":
            col = 0
        elif char == "\n":
            lines.append("")
            col = 0
        else:
            line = lines[-1].ljust(col)
            lines[-1] = line[:col] + char + line[col + 1:]
            col += 1
        i += 1
    lines = [line.rstrip() for line in lines]
    return lines[:-1] if lines[-1] == "" else lines


class Clock:
    """A clock that stands still until the test moves it."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def progress(tty, columns=200):
    clock, stream = Clock(), io.StringIO()
    return Progress(stream, clock=clock, tty=tty, columns=lambda: columns, every=15), clock, stream


def run_until(shown, clock, until, step=0.25):
    """Call ``show`` every ``step`` seconds, as the runner does, up to ``until``."""
    while clock.now < until:
        clock.now = min(clock.now + step, until)
        shown.show()


def test_screen_reads_like_a_terminal():
    assert screen("abc\rX\x1b[K\ndef  \rd\n") == ["X", "def"]
    assert screen("long line\r         \rok") == ["ok"]
    assert screen("long line\r    \rok") == ["ok   line"]


@pytest.mark.parametrize("tty", [True, False])
def test_a_notebook_that_finishes_within_five_seconds_shows_nothing_extra(tty):
    shown, clock, stream = progress(tty)
    shown.start("1a_quick")
    shown.cell("1a_quick", 1, 3)
    run_until(shown, clock, 4.9)
    shown.finish("1a_quick")
    shown.clear()
    assert stream.getvalue() == ""


def test_on_a_terminal_one_line_names_every_long_notebook_and_leaves_no_trace():
    shown, clock, stream = progress(tty=True)
    shown.start("1f_timing")
    run_until(shown, clock, 6)
    assert stream.getvalue().endswith("\r" + status_line("1f_timing", "starting its kernel, 6 s") + "\x1b[K")
    shown.cell("1f_timing", 7, 12)
    shown.start("1e_alone")
    run_until(shown, clock, 10)                         # 1e: 4 s, not shown yet
    assert screen(stream.getvalue()) == ["  1f_timing              cell 7 of 12, 10 s"]
    shown.cell("1e_alone", 2, 5)
    run_until(shown, clock, 48)
    assert screen(stream.getvalue()) == ["  1f_timing              cell 7 of 12, 48 s  |  1e_alone: cell 2 of 5, 42 s"]
    shown.finish("1e_alone")                            # its status line, then the progress again
    stream.write(status_line("1e_alone", "42.1 s") + "\n")
    run_until(shown, clock, 50)
    shown.finish("1f_timing")
    stream.write(status_line("1f_timing", "50.2 s") + "\n")
    shown.clear()
    assert screen(stream.getvalue()) == [status_line("1e_alone", "42.1 s"), status_line("1f_timing", "50.2 s")]
    assert stream.getvalue().count("\n") == 2           # the progress never took a line of its own


def test_on_ctrl_c_the_line_goes_and_so_does_the_terminals_echo():
    with progress(tty=True)[0] as shown:
        shown.start("1f_timing")
        run_until(shown, shown.clock, 8)
        shown.stream.write("^C")                        # what the terminal echoes
    assert screen(shown.stream.getvalue()) == []


def test_the_terminal_line_fits_the_terminal_and_is_written_only_when_it_changes():
    shown, clock, stream = progress(tty=True, columns=41)
    shown.start("1f_timing")
    shown.cell("1f_timing", 7, 12)
    run_until(shown, clock, 9, step=0.1)
    drawn = [part.removesuffix("\x1b[K") for part in stream.getvalue().split("\r") if part]
    assert drawn == [f"  1f_timing              cell 7 of 12, {s}" for s in range(5, 10)]    # 40 columns


def test_in_a_log_each_running_notebook_gets_a_line_every_fifteen_seconds():
    shown, clock, stream = progress(tty=False)
    shown.start("1f_timing")
    shown.cell("1f_timing", 3, 12)
    run_until(shown, clock, 10)
    shown.start("1e_alone")
    shown.cell("1e_alone", 1, 5)
    run_until(shown, clock, 24)
    shown.finish("1e_alone")                            # ran 14 s: no line of its own
    run_until(shown, clock, 46)
    clock.now = 100                                     # a long wait: one line, not four
    shown.show()
    run_until(shown, clock, 104)
    assert stream.getvalue().splitlines() == [
        status_line("1f_timing", f"still running: cell 3 of 12, {s} s") for s in (15, 30, 45, 100)]


def test_the_interval_can_be_set_in_the_environment():
    assert every_from_environment({}) == 15
    assert every_from_environment({"REPORT_PROGRESS_EVERY": "2.5"}) == 2.5
    assert every_from_environment({"REPORT_PROGRESS_EVERY": "soon"}) == 15


def test_late_news_of_a_finished_notebook_is_ignored():
    shown, clock, stream = progress(tty=True)
    shown.cell("1a_gone", 2, 3)
    run_until(shown, clock, 10)
    assert stream.getvalue() == ""


def test_what_a_cells_bar_says_shows_after_the_cell_and_goes_with_the_bar_or_the_cell():
    shown, clock, stream = progress(tty=True)
    shown.start("1f_timing")
    shown.cell("1f_timing", 7, 12)
    shown.task("1f_timing", 7, "forward mode, round 3 of 7")
    run_until(shown, clock, 48)
    assert screen(stream.getvalue()) == ["  1f_timing              cell 7 of 12: forward mode, round 3 of 7, 48 s"]
    shown.task("1f_timing", 7, None)                    # the bar finished
    run_until(shown, clock, 49)
    assert screen(stream.getvalue()) == ["  1f_timing              cell 7 of 12, 49 s"]
    shown.task("1f_timing", 7, "reverse mode, round 1 of 7")
    shown.cell("1f_timing", 8, 12)                      # the next cell: its bar is not yet known
    run_until(shown, clock, 50)
    assert screen(stream.getvalue()) == ["  1f_timing              cell 8 of 12, 50 s"]
    shown.task("1f_timing", 7, "reverse mode, round 2 of 7")    # late news of cell 7
    shown.task("1a_gone", 1, "forward mode, round 1 of 2")      # and of a notebook that finished
    run_until(shown, clock, 51)
    assert screen(stream.getvalue()) == ["  1f_timing              cell 8 of 12, 51 s"]
    shown.finish("1f_timing")
    stream.write(status_line("1f_timing", "51.2 s") + "\n")      # its one line, as before
    assert screen(stream.getvalue()) == ["  1f_timing              51.2 s"]


def test_in_a_log_the_lines_say_what_the_bar_says():
    shown, clock, stream = progress(tty=False)
    shown.start("1e_sweeps")
    shown.cell("1e_sweeps", 4, 9)
    shown.task("1e_sweeps", 4, "sizes, size 2 of 5")
    run_until(shown, clock, 16)
    shown.task("1e_sweeps", 4, None)
    run_until(shown, clock, 31)
    assert stream.getvalue().splitlines() == [
        status_line("1e_sweeps", "still running: cell 4 of 9: sizes, size 2 of 5, 15 s"),
        status_line("1e_sweeps", "still running: cell 4 of 9, 30 s")]


# --- what tqdm's bars say (bars), on tqdm's own output -------------------------

def bar_text(steps, **options):
    """What tqdm writes to its file for a bar with ``options``, as one
    string after each of ``steps`` (numbers of units finished in turn;
    'close' closes the bar); every update is drawn (mininterval=0, miniters=1)."""
    file, texts = io.StringIO(), []
    bar = tqdm(file=file, mininterval=0, miniters=1, **options)
    texts.append(file.getvalue())
    for step in steps:
        if step == "close":
            bar.close()
        else:
            bar.update(step - bar.n)
        texts.append(file.getvalue())
    return texts


@pytest.mark.parametrize("ascii", [True, False])
def test_a_bar_says_its_desc_and_the_unit_running_and_nothing_once_finished(ascii):
    texts = bar_text([2, 6, 7, "close"], total=7, desc="forward mode", unit="round", ascii=ascii)
    assert "\r" in texts[2][1:] and texts[2].count("forward mode") == 3    # three drawings, "\r"-joined
    assert [latest_task(t) for t in texts] == [
        "forward mode, round 1 of 7", "forward mode, round 3 of 7", "forward mode, round 7 of 7", None, None]


def test_the_examples_of_tqdms_format_are_read():
    slow = tqdm.format_meter(2, 7, 10.2, prefix="forward mode", unit="round")   # 5.10 s a round
    assert "s/round]" in slow and latest_task("\r" + slow) == "forward mode, round 3 of 7"
    assert latest_task("forward mode:  29%|##8 | 2/7 [00:10<00:20, 5.1s/round]") == "forward mode, round 3 of 7"
    assert latest_task(tqdm.format_meter(0, 3, 0, prefix="a: b", unit="sample")) == "a: b, sample 1 of 3"
    assert latest_task(tqdm.format_meter(1, 3, 2, unit="size", postfix="d=40, rate=[2]")) == "size 2 of 3"
    assert latest_task(tqdm.format_meter(1, 3, 2)) == "iteration 2 of 3"        # no desc, tqdm's unit "it"
    assert latest_task(tqdm.format_meter(4, 4, 2, prefix="gemm")) is None       # all done


@pytest.mark.parametrize("options, phrases", [
    ({"desc": "samples", "unit": "sample"}, ["samples, sample 1", "samples, sample 3", "samples, sample 7", None]),
    ({"total": 7, "desc": "x", "unit": "round", "leave": False}, ["x, round 1 of 7", "x, round 3 of 7", None, None]),
    ({"total": 7, "desc": "nb", "unit": "round", "ncols": 0}, ["nb, round 1 of 7", "nb, round 3 of 7", None, None]),
    ({"total": 7, "desc": "hue", "unit": "round", "colour": "green"}, ["hue, round 1 of 7", "hue, round 3 of 7", None, None]),
])
def test_bars_without_a_total_erased_without_a_bar_or_in_colour_are_read(options, phrases):
    steps = [2, 6, "close"] if "total" not in options else [2, 7, "close"]
    assert [latest_task(t) for t in bar_text(steps, **options)] == phrases


def test_other_text_leaves_the_bar_as_it_was():
    warning = "/work/nb.py:3: RuntimeWarning: divide by zero encountered in divide\n  y = 1 / x\n"
    assert latest_task(warning) is None
    assert latest_task(warning, current="forward mode, round 3 of 7") == "forward mode, round 3 of 7"
    running = bar_text([2], total=7, desc="forward mode", unit="round")[-1]
    assert latest_task(running + "\n" + warning) is None                       # "\n" after a bar: it was closed
    assert latest_task(warning + running) == "forward mode, round 3 of 7"
    assert latest_task("progress: 50% done [soon]\nepoch 3/7 [loss 0.1]\n", "kept") == "kept"
    narrow = bar_text([2], total=7, desc="forward mode", unit="round", ncols=30)[-1]      # cut short
    scaled = bar_text([2], total=2000, desc="big", unit="size", unit_scale=True)[-1]     # "2.00/2.00k"
    assert latest_task(narrow, "kept") == latest_task(scaled, "kept") == "kept"


def test_a_bar_split_over_chunks_is_read_with_the_unfinished_line_kept():
    texts = bar_text([2, "close"], desc="samples", unit="sample")
    first, second = texts[1], texts[2][len(texts[1]):]
    assert second.startswith("\r") and second.endswith("\n")      # the last drawing, then the close
    assert latest_task(first) == "samples, sample 3"
    assert latest_task(unfinished(first) + "\n") is None            # the close in a chunk of its own
    assert unfinished(first) == first[first.rindex("\r"):]
    assert unfinished("a\nb") == "\nb" and unfinished("") == ""


# --- the news a worker sends (news) ---------------------------------------------

class Events(list):
    put = list.append


def cell(source, *tags):
    return nbformat.v4.new_code_cell(source, metadata={"tags": list(tags)})


def test_jupyter_numbers_count_non_empty_code_cells_and_not_papermills():
    cells = [nbformat.v4.new_markdown_cell("# Part 1a"), cell("k = 1", "parameters"), cell("k = 2", "injected-parameters"),
             cell("  \n"), cell("# only a comment"), nbformat.v4.new_markdown_cell("text"), cell("y = k")]
    assert jupyter_numbers(cells) == [None, 1, None, None, 2, None, 3]


def test_a_workers_news_of_a_bar_is_throttled_and_goes_with_its_cell():
    clock, events = Clock(), Events()
    news = CellEvents("1f_timing", events, clock=clock, every=0.3)
    nb = nbformat.v4.new_notebook(cells=[cell("k = 1", "parameters"), cell("k = 2", "injected-parameters"),
                                         cell("run()"), cell("more()")])
    news.notebook_start(nb)
    texts = bar_text([1, 2, 3, "close"], total=3, desc="forward mode", unit="round")
    chunks = [b[len(a):] for a, b in itertools.pairwise(texts)]
    news.write(texts[0])                                    # before any cell: nothing to tell
    for index in range(3):
        news.cell_execute(nb.cells[index], index)           # the injected cell is not news
    news.write(texts[0])
    clock.now = 0.1
    news.write(chunks[0])                                   # round 2: held back
    news.send_due()
    clock.now = 0.3
    news.send_due()                                         # now it goes
    clock.now = 0.4
    news.write("/x.py:1: UserWarning: slow\n")              # not a bar: no news
    news.write(chunks[1])
    clock.now = 0.7
    news.write(chunks[2] + chunks[3])                        # round 3 never sent: the bar finished meanwhile
    news.cell_execute(nb.cells[3], 3)
    news.write(chunks[0])                                    # a bar of the last cell, its news held back
    news.send_due()
    assert events == [("cell", "1f_timing", 1, 3), ("cell", "1f_timing", 2, 3),
                      ("task", "1f_timing", 2, "forward mode, round 1 of 3"),
                      ("task", "1f_timing", 2, "forward mode, round 2 of 3"),
                      ("task", "1f_timing", 2, None), ("cell", "1f_timing", 3, 3)]


def test_the_kernel_reports_each_code_cell_as_it_starts_by_its_jupyter_number(tmp_path, monkeypatch):
    """Through papermill to nbclient's hooks: cell k of n is what Jupyter
    numbers In [k], the injected parameters and empty cells not counted;
    the executed copy, which has the injected cell, numbers one higher after it."""
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# Part 1a: X"),
                nbformat.v4.new_code_cell("k: int = 1", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("y = k"), nbformat.v4.new_code_cell(""), nbformat.v4.new_code_cell("z = y")]
    src = tmp_path / "1a_x.ipynb"
    nbformat.write(nb, str(src))
    events = Events()
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")      # as in a worker (_papermill sets it)
    news = CellEvents("1a_x", events)
    assert worker._papermill(src, tmp_path / "out.ipynb", {"k": 2}, tmp_path / "failed.ipynb", news) is None
    assert events == [("cell", "1a_x", k, 3) for k in (1, 2, 3)]
    done = nbformat.read(str(tmp_path / "out.ipynb"), as_version=4)
    assert [c.execution_count for c in done.cells if c.cell_type == "code" and c.source] == [1, 2, 3, 4]
    assert "injected-parameters" in done.cells[2].metadata.tags


def test_a_build_shows_a_cells_tqdm_bar_and_names_a_failing_cell_as_jupyter_does(tmp_path, monkeypatch, capsys):
    """Real kernels, through kernels.execute: the log lines (every 0.5 s
    here) say which round of the bar runs, in the cell Jupyter numbers 3 of
    4; the failure names cell 4, which is In [5] in the executed copy."""
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# Part 1a: Bars"), cell("rounds: int = 2", "parameters"), cell(""),
                cell("import time\nfrom tqdm import tqdm"), nbformat.v4.new_markdown_cell("The rounds:"),
                cell("for _ in tqdm(range(rounds), desc='forward mode', unit='round'):\n    time.sleep(1.0)"),
                cell("1 / 0")]
    src = tmp_path / "1a_bars.ipynb"
    nbformat.write(nb, str(src))
    (tmp_path / "staging").mkdir()
    monkeypatch.setenv("REPORT_PROGRESS_EVERY", "0.5")
    with pytest.raises(kernels.NotebookFailed) as failed:
        kernels.execute([(src, {"rounds": 3})], tmp_path / "staging", failed_dir=tmp_path / "failed")
    lines = capsys.readouterr().out.splitlines()
    with_bar = [line for line in lines if "forward mode" in line]
    assert with_bar and all("still running: cell 3 of 4: forward mode, round " in line for line in with_bar), lines
    assert any("round 2 of 3" in line for line in with_bar), lines
    assert "1a_bars.ipynb failed in cell 4, which starts: 1 / 0" in str(failed.value)
    assert "ZeroDivisionError" in str(failed.value)
    assert "in that copy the cell is In [5]: papermill adds a parameters cell" in str(failed.value)


def _alive(pid):
    """True while ``pid`` runs (a zombie has stopped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _children(pid):
    """The processes whose parent is ``pid``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):     # gone meanwhile
            pass
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
def test_a_build_killed_with_sigkill_leaves_no_worker_or_kernel_running(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("import time\nopen('started', 'w').close()\ntime.sleep(60)")]
    nbformat.write(nb, str(tmp_path / "1a_sleeps.ipynb"))
    (tmp_path / "out").mkdir()
    driver = ("import sys\nfrom pathlib import Path\nfrom reportbuild.run.kernels import execute\n"
              "execute([(Path(sys.argv[1]), {})], Path(sys.argv[2]))\n")
    started = []
    build = subprocess.Popen([sys.executable, "-c", driver, tmp_path / "1a_sleeps.ipynb", tmp_path / "out"],
                             cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "started").exists():
            assert time.monotonic() < deadline and build.poll() is None, "the notebook never started"
            time.sleep(0.05)
        started = [pid for child in _children(build.pid) for pid in [child, *_children(child)]]
        assert len(started) >= 3                        # the resource tracker, the worker, its kernel
        os.kill(build.pid, signal.SIGKILL)
        build.wait()
        deadline = time.monotonic() + 10
        while any(map(_alive, started)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in started if _alive(pid)], "still running 10 s after kill -9"
    finally:
        for pid in [build.pid, *started]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
