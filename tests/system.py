"""What a test needs from outside Python: the system commands of
reportbuild/system-packages.txt and the built report.  A test whose need is
not met skips, with a reason that says how to meet it; under CI=true it
fails instead, where a skip would hide a broken build."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from reportbuild.system_packages import install_hint, packages

ALIASES = {"chromium": ("chromium", "chromium-browser")}     # Ubuntu's older name


def need(why):
    """Skip with ``why`` (fail under CI=true)."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why} (under CI=true this test must run)")
    pytest.skip(why)


def which(command):
    """The path of ``command`` (or of its other name), or None."""
    return next(filter(None, map(shutil.which, ALIASES.get(command, (command,)))), None)


def require(*commands):
    """Skip (fail under CI=true) unless every command, each one of
    system-packages.txt, is on PATH; the reason names the packages to install."""
    listed = {c: use for _, c, use in packages() if c}
    unknown = [c for c in commands if c not in listed]
    assert not unknown, f"{unknown} are not in reportbuild/system-packages.txt"
    missing = [c for c in commands if which(c) is None]
    if missing:
        uses = dict.fromkeys(listed[c] for c in missing)
        need(f"{' and '.join(missing)} not found; to install: "
             + "; or ".join(install_hint(use) for use in uses))


# Offline: any http(s) request goes to a dead proxy and no host name resolves.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--proxy-server=http://127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
                  "--virtual-time-budget=20000"]


class DomDump:
    """Headless Chromium dumping a page's DOM after its scripts ran: started
    at once, read by ``dom()``.  The report's page takes about 10 s of a core
    (MathJax typesets some 260 formulas), so the suite starts that one, at a
    low priority, as soon as collection ends (conftest.py): it renders on
    the core the other tests leave idle."""

    def __init__(self, html_path, nice=0):
        self.profile = tempfile.TemporaryDirectory()
        self.out, self.err = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")
        self.proc = subprocess.Popen(
            [which("chromium"), *CHROMIUM_FLAGS, f"--user-data-dir={self.profile.name}", "--dump-dom",
             Path(html_path).resolve().as_uri()],
            stdout=self.out, stderr=self.err, stdin=subprocess.DEVNULL, text=True,
            preexec_fn=(lambda: os.nice(nice)) if nice else None)

    def dom(self, timeout=180):
        """The dumped DOM (waits for Chromium to finish)."""
        self.proc.wait(timeout=timeout)
        self.out.seek(0)
        self.err.seek(0)
        dom, err = self.out.read(), self.err.read()
        self.close()
        assert self.proc.returncode == 0 and "<html" in dom[:2000].lower(), err[-2000:]
        return dom

    def close(self):
        """Stop Chromium if it still runs; remove its files."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.out.close()
        self.err.close()
        self.profile.cleanup()


_started = {}


def start_dom_dump(html_path, nice=0):
    """Start dumping ``html_path`` (once per page and session), at priority
    ``nice`` (os.nice: 19 runs it only on what the other processes leave)."""
    key = Path(html_path).resolve()
    if key not in _started:
        _started[key] = DomDump(key, nice)
    return _started[key]


def rendered_dom(html_path):
    """The DOM of ``html_path`` after its scripts ran (from the dump started
    earlier for it, if any)."""
    return start_dom_dump(html_path).dom()


def stop_dom_dumps():
    """Stop the dumps still running (at the end of the session)."""
    for dump in _started.values():
        if dump.proc.poll() is None:
            dump.close()
