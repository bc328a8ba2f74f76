"""``python -m reportbuild``: build the report (see cli.py)."""

import sys

from .cli import main

sys.exit(main())
