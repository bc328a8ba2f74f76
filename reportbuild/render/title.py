"""The report's front matter data: assignment, course, student and date for
the title page, per part its answer, parameters and when it was computed,
and the build's provenance.  The settings and their values live in one
file, the checkout's report.toml; a ``--config`` file overrides it and
``--name`` wins over both.  The templates (templates/) lay out the title
and answers pages, for the HTML and the PDF alike.

Every setting is checked when it is read (``load_config``, before anything
runs): one line of printable text, of reasonable length (``check_text``;
the name: ``check_name``, which cli applies to --name too), and so is
$SOURCE_DATE_EPOCH, which fixes the date (``source_date``).
"""

import datetime
import os
import re
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:     # Python 3.10: the same parser, as the package tomli (requirements.txt)
    import tomli as tomllib

from ..keys import ROOT
from ..parameters import odd_character, shown
from .provenance import provenance

SETTINGS = ROOT / "report.toml"
KEYS = ("name", "date", "assignment", "course")
LONGEST = {"name": 100, "date": 100, "assignment": 200, "course": 200}     # characters
NO_NAME = "(name not set: see report.toml)"
MAX_SETTINGS_BYTES = 1_000_000
EPOCH_VARIABLE = "SOURCE_DATE_EPOCH"        # fixes the title page's date (reproducible builds)
LAST_EPOCH = 253402300799                   # 9999-12-31 23:59:59 UTC, the last second datetime has
EPOCH_EXPECTED = (f"expected a whole number of seconds since 1970-01-01 00:00 UTC, from 0 to {LAST_EPOCH}, "
                  "such as 1733011200 (or leave it unset for today's date)")


class ConfigError(ValueError):
    """report.toml cannot be used; the message says why."""


def check_text(value, source, longest):
    """Raise ConfigError unless ``value`` is one line of printable text of at
    most ``longest`` characters (it goes into the HTML and the LaTeX of the
    title page).  ``source`` begins the message, e.g. ``report.toml: course =``."""
    why = odd_character(value) or (f"it is {len(value)} characters long" if len(value) > longest else "")
    if why:
        raise ConfigError(f"{source} {shown(value)}: {why}; expected one line of printable text, "
                          f"at most {longest} characters")
    return value


def check_name(name, source):
    """Raise ConfigError unless ``name`` (the student's, from ``source``:
    ``--name``, or ``report.toml: name =``) is one line of printable text
    (no control characters), at most 100 characters, and not blank.
    Returns it without spaces at either end; None stays None (not given)."""
    if name is None:
        return None
    if not name.strip():
        raise ConfigError(f"{source} {shown(name)}: it is blank; expected your name, as in "
                          f'--name "Ada Lovelace" (or leave it out for the name in report.toml)')
    return check_text(name, source, LONGEST["name"]).strip()


def _where(path):
    """``path`` for a message: one line (``shown``)."""
    return shown(str(path), 200)


def read_settings(path):
    """{setting: text} of the TOML file ``path``, each value one line of
    printable text (``check_text``, ``check_name``; empty: not set);
    ConfigError names what is wrong."""
    path = Path(path)
    where = _where(path)
    expected = 'expected a UTF-8 TOML file of settings such as name = "Ada Lovelace"'
    if not path.exists():
        raise ConfigError(f"config file {where} does not exist")
    if path.is_dir():
        raise ConfigError(f"config file {where} is a folder: {expected}")
    if not path.is_file():
        raise ConfigError(f"config file {where} is not a regular file: {expected}")
    try:
        if path.stat().st_size > MAX_SETTINGS_BYTES:
            raise ConfigError(f"config file {where} is {path.stat().st_size} bytes long: {expected}, "
                              f"of at most {MAX_SETTINGS_BYTES} bytes")
        raw = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"cannot read config file {where}: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8-sig")    # a byte-order mark (Notepad's) is fine
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise ConfigError(f"{where} is not UTF-8 text (byte 0x{raw[e.start]:02x} on line {line}): "
                          f"{expected}") from None
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise ConfigError(f"{where} is not valid TOML: it nests too deeply") from None
    except tomllib.TOMLDecodeError as e:    # its message ends with the line and column
        raise ConfigError(f"{where} is not valid TOML: {shown(str(e), 200)}; {expected}") from None
    except ValueError as e:                 # an integer past Python's int-string limit
        raise ConfigError(f"{where} is not valid TOML: {shown(str(e), 200)}") from None
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(shown(k) for k in unknown)}; "
                          f"allowed: {', '.join(KEYS)}")
    settings = {}
    for key, value in data.items():
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {key} must be a string in quotes, got {shown(value)}")
        value = value.strip()
        if key == "name" and value:     # empty: not set
            check_name(value, f"{where}: name =")
        elif value:
            check_text(value, f"{where}: {key} =", LONGEST[key])
        settings[key] = value
    return settings


def load_config(path=None):
    """The title settings: report.toml's, with those of the file ``path``
    (when given) over them; a setting neither file has is empty.  Checks
    $SOURCE_DATE_EPOCH too (``source_date``), so that a bad one stops the
    build before anything runs; ConfigError says what is wrong."""
    source_date()
    config = dict.fromkeys(KEYS, "")
    if SETTINGS.exists():
        config.update(read_settings(SETTINGS))
    if path is not None:
        config.update(read_settings(path))
    return config


def source_date(environ=None):
    """The day (UTC) that $SOURCE_DATE_EPOCH names, or None when it is unset
    or empty; ConfigError when it is not a whole number of seconds since
    1970 that datetime can hold."""
    text = (os.environ if environ is None else environ).get(EPOCH_VARIABLE, "")
    t = text.strip()
    if not t:
        return None
    if not re.fullmatch(r"[0-9]+", t):
        raise ConfigError(f"{EPOCH_VARIABLE}={shown(text)}: {EPOCH_EXPECTED}")
    if len(t) > len(str(LAST_EPOCH)) or int(t) > LAST_EPOCH:
        raise ConfigError(f"{EPOCH_VARIABLE}={shown(t)} is out of range: {EPOCH_EXPECTED}")
    try:
        return datetime.datetime.fromtimestamp(int(t), datetime.timezone.utc).date()
    except (OverflowError, OSError, ValueError):        # a platform whose time_t is shorter
        raise ConfigError(f"{EPOCH_VARIABLE}={t} is out of range on this machine: {EPOCH_EXPECTED}") from None


def today():
    """The date for the title page ($SOURCE_DATE_EPOCH, if set, makes it fixed)."""
    day = source_date() or datetime.date.today()
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
