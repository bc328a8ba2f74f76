"""The title page: assignment, course, student, date and the parameters the
run used.  Settings come from report.toml; ``--name`` wins over its ``name``.

Standard library only (report.toml is read before the virtual environment
exists, to check it early).
"""

import datetime
import os
import re
from pathlib import Path

from .values import shown

DEFAULTS = {
    "name": "",
    "assignment": "Homework 4: Automatic Differentiation",
    "course": "APPM 4720/5720 Scientific Machine Learning, Fall 2024",
    "date": "",
}
NO_NAME = "(name not set: see report.toml)"
CHANGED_NOTE = "Values in bold differ from the notebook's default, which follows in parentheses."


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


def load_config(path, required=False):
    """Title settings from ``path`` merged over DEFAULTS."""
    path = Path(path)
    config = dict(DEFAULTS)
    if not path.exists():
        if required:
            raise ConfigError(f"config file {path} does not exist")
        return config
    try:
        data = _parse_toml(path.read_text(encoding="utf-8"))
    except ValueError as e:   # tomllib.TOMLDecodeError is a ValueError
        raise ConfigError(f"{path} is not valid TOML: {e}") from None
    unknown = sorted(set(data) - set(DEFAULTS))
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}; allowed: {', '.join(DEFAULTS)}")
    for key, value in data.items():
        if not isinstance(value, str):
            raise ConfigError(f"{path}: {key} must be a string in quotes, got {value!r}")
        config[key] = value.strip()
    return config


def today():
    """The date for the title page (SOURCE_DATE_EPOCH, if set, makes it fixed)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    day = (datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).date()
           if epoch else datetime.date.today())
    return f"{day:%B} {day.day}, {day.year}"


def part_label(stem):
    """``'1a'`` from ``'1a_jacobians'``."""
    return stem.split("_", 1)[0]


def parameter_rows(declared, effective):
    """One row per notebook: its part label and its parameters' values;
    ``changed`` marks values that differ from the notebook's default."""
    return [{"part": part_label(Path(nb).stem),
             "values": [{"name": p.name, "value": shown(p, effective[nb][p.name]), "default": shown(p, p.default),
                         "changed": effective[nb][p.name] != p.default} for p in params]}
            for nb, params in declared.items()]


def title_info(config, name, declared, effective, quick):
    """Everything the title page shows; stored in the merged notebook's
    metadata as ``report`` for the templates."""
    return {
        "assignment": config["assignment"],
        "course": config["course"],
        "student": name or config["name"] or NO_NAME,
        "date": config["date"] or today(),
        "run": "quick run (small sizes from notebooks/quick.json)" if quick else "full run",
        "parameters": parameter_rows(declared, effective),
        "changed_note": CHANGED_NOTE,
        "contents": [],                 # headings, filled in by merge()
    }


def _anchor(heading):
    """The id nbconvert's HTML export gives a heading."""
    return re.sub(r"[`*$]", "", heading).strip().replace(" ", "-")


def title_markdown(info):
    """The title block as Markdown, shown at the top of the HTML report."""
    def show(v):
        text = f"`{v['name']}={v['value']}`"
        return f"**{text}** (default `{v['default']}`)" if v["changed"] else text
    rows = "\n".join(f"| {r['part']} | {', '.join(show(v) for v in r['values']) or '(none)'} |"
                     for r in info["parameters"])
    contents = "\n".join(f"- [{h}](#{_anchor(h)})" for h in info["contents"])
    return (f"# {info['assignment']}\n\n**{info['course']}**\n\n"
            f"{info['student']}  \n{info['date']}\n\n"
            f"## Contents\n\n{contents}\n\n"
            f"## Parameters of this run\n\n{info['run'].capitalize()}. {CHANGED_NOTE}\n\n"
            f"| Part | Parameters |\n|---|---|\n{rows}\n")
