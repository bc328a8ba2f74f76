"""``python -m reportbuild``: build the report (see cli.py)."""

import os
import sys

from .cli import main

try:
    sys.exit(main())
except BrokenPipeError:         # e.g. ./build_report.sh --help | head: the reader left; not an error of ours
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())     # no second error at exit
    sys.exit(1)
