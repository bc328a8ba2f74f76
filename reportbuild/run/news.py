"""What a worker tells the build process about the notebook it runs
(``CellEvents``): which code cell is running, by Jupyter's number
(``jupyter_numbers``), and what a tqdm bar in it says (``bars``), for
the build's progress line (``progress.Progress``).
"""

import threading
import time

from .bars import latest_task, unfinished

TASK_EVERY = 0.3        # seconds: a worker sends a notebook's bar at most this often
INJECTED = "injected-parameters"    # the tag of papermill's parameters cell


def jupyter_numbers(cells):
    """Jupyter's number for each of ``cells`` (a notebook's, in order):
    k for the k-th non-empty code cell, None for the others (Markdown,
    empty code cells, which nbclient skips too, and papermill's injected
    parameters cell).  cost: O(len(cells))."""
    numbers, k = [], 0
    for cell in cells:
        counted = (cell.cell_type == "code" and bool(cell.source.strip())
                   and INJECTED not in cell.get("metadata", {}).get("tags", []))
        k += counted
        numbers.append(k if counted else None)
    return numbers


class CellEvents:
    """In a worker: what one notebook's run tells the build, on its queue
    ``events``: ("cell", notebook, k, cells) as code cell k (Jupyter's
    number, ``jupyter_numbers``) of ``cells`` starts, through nbclient's
    hooks (``hooks()``, for papermill to pass on); and ("task", notebook,
    k, phrase) when what a tqdm bar of cell k says changes ('forward mode,
    round 3 of 7'; None once the bar is finished).

    It is also the file that papermill writes the kernel's stderr to
    (``stderr_file``: ``write``, ``flush``), chunk by chunk as it comes.
    A bar's news goes out at most every TASK_EVERY seconds; the news held
    back goes out at the next chunk, or at ``send_due()``, which the
    worker calls a few times a second.  Thread-safe: papermill's thread
    writes, the worker's main thread calls ``send_due``."""

    def __init__(self, name, events, clock=time.monotonic, every=TASK_EVERY):
        self.name, self.events, self.clock, self.every = name, events, clock, every
        self.numbers, self.number, self.cells = [], 0, 0
        self.task = self.sent = None        # the bar's phrase now, and as last sent
        self.sent_at = -float("inf")
        self.tail = ""                      # stderr's unfinished line
        self.lock = threading.Lock()

    def hooks(self):
        return {"on_notebook_start": self.notebook_start, "on_cell_execute": self.cell_execute}

    def notebook_start(self, notebook, **_):
        self.numbers = jupyter_numbers(notebook.cells)
        self.cells = max(filter(None, self.numbers), default=0)

    def cell_execute(self, cell, cell_index, **_):
        number = self.numbers[cell_index] if cell_index < len(self.numbers) else None
        if number is None:                  # papermill's parameters: still the cell before
            return
        with self.lock:
            self.number, self.task, self.sent, self.tail = number, None, None, ""
            self.events.put(("cell", self.name, number, self.cells))

    def write(self, text):
        with self.lock:
            text = self.tail + text
            self.task, self.tail = latest_task(text, self.task), unfinished(text)
            self._send_due()

    def flush(self):
        """(papermill flushes after each write; the news goes out in ``write``)"""

    def send_due(self):
        """Send the bar's news held back, once TASK_EVERY seconds have passed."""
        with self.lock:
            self._send_due()

    def _send_due(self):
        now = self.clock()
        if self.number and self.task != self.sent and now - self.sent_at >= self.every:
            self.events.put(("task", self.name, self.number, self.task))
            self.sent, self.sent_at = self.task, now
