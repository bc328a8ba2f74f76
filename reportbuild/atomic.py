"""Atomic writes: a file or folder of the build appears complete or not at
all, so an interrupted or failed build never leaves a half-written one."""

import os
import shutil
import tempfile
from pathlib import Path


def write_atomic(dest, data):
    """Write ``data`` (bytes or str) to ``dest`` via a temporary file + rename."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(tmp, 0o644)                # mkstemp makes it private; a report is not
        os.replace(tmp, dest)
    except BaseException:
        os.unlink(tmp)
        raise


def remove(path):
    """Remove a file or a folder tree, whichever ``path`` is (nothing if absent)."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def replace_folder(new, dest):
    """Put folder ``new`` at ``dest`` (same file system), removing what was there."""
    new, dest = Path(new), Path(dest)
    if dest.exists():
        old = Path(tempfile.mkdtemp(prefix=".old-", dir=dest.parent))
        os.replace(dest, old / dest.name)
        shutil.rmtree(old, ignore_errors=True)
    os.replace(new, dest)
