"""The report's front matter data: assignment, course, student and date for
the title page, per part its answer, parameters and when it was computed,
and the build's provenance.  The settings and their values live in one
file, the checkout's report.toml; a ``--config`` file overrides it and
``--name`` wins over both.  The templates (templates/) lay out the title
and answers pages, for the HTML and the PDF alike.
"""

import datetime
import os
import re
from pathlib import Path

from ..keys import ROOT
from .provenance import provenance

SETTINGS = ROOT / "report.toml"
KEYS = ("name", "date", "assignment", "course")
NO_NAME = "(name not set: see report.toml)"


class ConfigError(ValueError):
    """report.toml cannot be used; the message says why."""


def _parse_toml(text):
    """tomllib where available (Python 3.11+); else flat ``key = "value"`` lines."""
    try:
        import tomllib
    except ModuleNotFoundError:
        out = {}
        for line in text.splitlines():
            m = re.fullmatch(r'\s*(\w+)\s*=\s*"([^"]*)"\s*(#.*)?', line)
            if m:
                out[m.group(1)] = m.group(2)
        return out
    return tomllib.loads(text)


def read_settings(path):
    """{setting: text} of the TOML file ``path``; ConfigError names what is wrong."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"config file {path} does not exist")
    try:
        data = _parse_toml(path.read_text(encoding="utf-8"))
    except ValueError as e:   # tomllib.TOMLDecodeError is a ValueError
        raise ConfigError(f"{path} is not valid TOML: {e}") from None
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}; allowed: {', '.join(KEYS)}")
    for key, value in data.items():
        if not isinstance(value, str):
            raise ConfigError(f"{path}: {key} must be a string in quotes, got {value!r}")
    return {key: value.strip() for key, value in data.items()}


def load_config(path=None):
    """The title settings: report.toml's, with those of the file ``path``
    (when given) over them; a setting neither file has is empty."""
    config = dict.fromkeys(KEYS, "")
    if SETTINGS.exists():
        config.update(read_settings(SETTINGS))
    if path is not None:
        config.update(read_settings(path))
    return config


def today():
    """The date for the title page (SOURCE_DATE_EPOCH, if set, makes it fixed)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    day = (datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).date()
           if epoch else datetime.date.today())
    return f"{day:%B} {day.day}, {day.year}"


def title_info(config, name, folder=None):
    """Everything the title and answers pages show, stored in the merged
    notebook's metadata as ``report``, where the HTML and LaTeX templates
    read it.  ``parts`` (one row per part: label, heading, answer, when it
    was computed and its parameter values) is filled in by ``merge``;
    ``provenance`` (commit, machine, versions) is read when ``folder`` (a
    folder of the checkout) is given."""
    return {
        "assignment": config["assignment"],
        "course": config["course"],
        "student": name or config["name"] or NO_NAME,
        "date": config["date"] or today(),
        "parts": [],
        "provenance": provenance(folder) if folder is not None else {},
    }
