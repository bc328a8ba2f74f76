"""The system packages the build and the tests need, read from the one list
in ``system-packages.txt`` (which ``build_report.sh`` reads too)."""

import shutil
from pathlib import Path

LIST = Path(__file__).resolve().parent / "system-packages.txt"


def packages(purpose=None):
    """[(package, command or None, purpose)] in the list's order; only those
    for ``purpose`` ('pdf' or 'tests') when given."""
    rows = []
    for line in LIST.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            package, command, use = line.split()
            rows.append((package, None if command == "-" else command, use))
    return [r for r in rows if purpose in (None, r[2])]


def missing_commands(purpose=None):
    """The listed commands (for ``purpose``) that are not on PATH."""
    return [c for _, c, _ in packages(purpose) if c and shutil.which(c) is None]


MACOS = {"pdf": "brew install --cask mactex-no-gui && brew install pandoc",
         "tests": "brew install poppler && brew install --cask chromium"}


def install_hint(purpose):
    """How to install the packages for ``purpose`` ('pdf' or 'tests'), for messages."""
    names = " ".join(p for p, _, _ in packages(purpose))
    return (f"Debian/Ubuntu: sudo apt-get install {names} (./build_report.sh installs them when run "
            f"as root); macOS: {MACOS[purpose]}")
