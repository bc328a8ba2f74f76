"""Where and with what the report was built, for its Reproducibility section:
the commit, the machine and the versions of the packages the numbers come
from.  Cheap to collect (versions are read from the installed metadata,
not by importing the packages), so every build can."""

import os
import platform
import subprocess
from importlib import metadata

PACKAGES = ("numpy", "torch", "mpmath", "matplotlib", "papermill", "nbconvert")


def commit(folder):
    """The git commit of ``folder`` (short hash, '+ uncommitted changes' when
    tracked files differ from it), or 'unknown' outside a git checkout."""
    def git(*args):
        r = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else None

    head = git("rev-parse", "--short", "HEAD")
    if head is None:
        return "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return f"{head} + uncommitted changes" if dirty else head


def versions():
    """'numpy 2.4.6, torch 2.13.0+cpu, ...' for PACKAGES (those installed)."""
    found = []
    for name in PACKAGES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    return ", ".join(found)


def cpu_model():
    """The processor's model name (from /proc/cpuinfo where there is one)."""
    try:
        with open("/proc/cpuinfo") as fh:
            return next(ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def provenance(folder):
    """{fact: text} for the Reproducibility section; ``folder`` is in the checkout."""
    return {"commit": commit(folder), "machine": f"{cpu_model()}, {os.cpu_count()} logical cores",
            "system": f"{platform.system()} {platform.release()}",
            "Python": platform.python_version(), "packages": versions()}
