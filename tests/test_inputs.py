"""No input ends in a traceback: every odd option value, parameter value,
settings file, quick.json or environment variable is refused before
anything runs with exit status 2 and one line ``error: ...`` naming the
value and what was expected.

(a) a table of such inputs, each with the words its message must hold;
(b) generated inputs (hypothesis): random -p pairs, --name, --parts,
    settings files, quick.json files and environment values, through
    ``main([..., '--check'])`` in-process, which must return 0 or 2 and
    never raise.

Both read the real notebooks/ (their parameters are not written down
here: the cases pick parameters by kind), and run nothing: --check.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reportbuild import cli
from reportbuild.exit_status import OK, USAGE
from reportbuild.parameters import MAX_DIGITS, ParamError, read_params
from reportbuild.parts import part_label
from reportbuild.render import title

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
ENVIRONMENT = ("SOURCE_DATE_EPOCH", "REPORT_PROGRESS_EVERY")


def declared():
    """{name: Param} of every parameter the real notebooks declare (the
    first declaration of each name)."""
    found = {}
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        try:
            params = read_params(path)
        except ParamError:      # a notebook being edited: the tests say so, not the collection
            continue
        for p in params:
            found.setdefault(p.name, p)
    return found


PARAMS = declared()
LABELS = [part_label(p.stem) for p in sorted(NOTEBOOKS.glob("*.ipynb"))]


def pick(test, prefer=()):
    """The name of a parameter that ``test(p)`` accepts, one of ``prefer``
    where the notebooks declare it; None when none does."""
    names = [n for n in prefer if n in PARAMS and test(PARAMS[n])]
    names += [n for n, p in PARAMS.items() if test(p) and not p.is_folder]
    return names[0] if names else None


KIND = {
    "int": pick(lambda p: p.kind == "int" and p.lo == 1 and not p.nullable, ("d0",)),
    "float": pick(lambda p: p.kind == "float" and not p.nullable, ("x_min",)),
    "int list": pick(lambda p: p.is_list and p.item_kind == "int" and p.non_empty, ("sat_scales",)),
    "float list": pick(lambda p: p.is_list and p.item_kind == "float", ("x_history",)),
    "choices": pick(lambda p: bool(p.choices), ("device",)),
}


@pytest.fixture
def build(tmp_path, monkeypatch, capsys):
    """``build(*args, env={...})`` runs ``main(['--check', ...args])`` in
    this process, on a copy of the notebooks (whose quick.json the test may
    replace: ``tmp_path/'notebooks'/'quick.json'``), with the variables of
    ENVIRONMENT unset unless ``env`` sets them; returns (status, stdout,
    stderr)."""
    notebooks = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, notebooks)

    def run(*args, env=None):
        for key in ENVIRONMENT:
            monkeypatch.delenv(key, raising=False)
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        capsys.readouterr()
        status = cli.main(["--check", "--notebooks", str(notebooks), "--out", str(tmp_path / "b"), *args])
        out, err = capsys.readouterr()
        return status, out, err

    run.tmp, run.notebooks, run.output = tmp_path, notebooks, capsys.readouterr
    return run


def refused(result, *words):
    """Assert that the build was refused with one ``error:`` line holding
    ``words`` (and the line saying nothing ran), with no traceback."""
    status, out, err = result
    assert "Traceback" not in out + err, err
    lines = err.splitlines()
    assert status == USAGE, (status, err)
    assert len(lines) == 2 and lines[0].startswith("error: ") and lines[1].startswith("(nothing was run"), err
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


# ---------------------------------------------------------------- (a) the table

BIG = "1" * 5000        # past Python's int-string limit (4300 digits)


def p_cases():
    """(kind of parameter, value, words the message holds), for -p NAME VALUE."""
    return [
        ("int", "1__0", ["-p {name} 1__0:", "expected an integer"]),
        ("int", "1_", ["-p {name} 1_:", "expected an integer"]),
        ("int", BIG, ["-p {name} 11111", "(5000 characters)", f"expected an integer of at most {MAX_DIGITS} digits"]),
        ("int", "1e999", ["-p {name} 1e999:", "expected an integer"]),
        ("int", "nan", ["-p {name} nan:", "expected an integer"]),
        ("int", "0x10", ["-p {name} 0x10:", "expected an integer"]),
        ("int", "[1]", ["-p {name} [1]:", "expected an integer"]),
        ("int", "true", ["-p {name} true:", "expected an integer"]),
        ("int", "1.5", ["-p {name} 1.5:", "expected an integer"]),
        ("int", "", ["-p {name} '':", "expected an integer"]),
        ("int", "4\n5", [r"-p {name} '4\n5':", "expected an integer"]),
        ("int", "٤", ["-p {name} ٤:", "expected an integer"]),          # an Arabic-Indic digit
        ("int", "0", ["{name} = 0 is out of range: allowed >= 1"]),
        ("float", "1e999", ["{name} = inf is not a finite number"]),
        ("float", "nan", ["{name} = nan is not a finite number"]),
        ("float", "+inf", ["{name} = inf is not a finite number"]),
        ("float", "9" * 5000, ["{name} = inf is not a finite number"]),
        ("float", "0x10", ["-p {name} 0x10:", "expected a number (float)"]),
        ("float", "1,5", ["-p {name} 1,5:", "expected a number (float)"]),
        ("float", "[1.0]", ["-p {name} [1.0]:", "expected a number (float)"]),
        ("int list", "[1e999]", ["holds inf", "expected integers only"]),
        ("int list", "[True]", ["holds True", "expected integers only"]),
        ("int list", "[]", ["{name} = [] is empty", "expected at least one item"]),
        ("int list", "[1, 2", ["-p {name} [1, 2:", "expected a Python list literal"]),
        ("int list", "{1: 2}", ["{name} = {1: 2} has the wrong type: expected list, got dict"]),
        ("int list", f"[{BIG}]", [f"expected a Python list literal (with numbers of at most {MAX_DIGITS} digits)"]),
        ("int list", "[" + "-" * 100000 + "1]", ["(100003 characters)", "expected a Python list literal"]),
        ("int list", "[" + "1+" * 50000 + "1]", ["expected a Python list literal"]),
        ("int list", "[" * 5000 + "]" * 5000, ["expected a Python list literal"]),
        ("int list", "[1]\x00", [r"-p {name} '[1]\x00':", "expected a Python list literal"]),
        ("int list", "1,x", ["-p {name} 1,x: item 2 (x) is not an integer", "expected integers separated by commas"]),
        ("int list", "1,,2", ["-p {name} 1,,2: item 2 of 3 is empty", "expected integers separated by commas"]),
        ("int list", f"{BIG},1", ["-p {name} 11111", "item 1 (1111", f"is not an integer of at most {MAX_DIGITS} digits"]),
        ("int list", ",", ["-p {name} ,: item 1 of 1 is empty"]),
        ("float list", "1e-3,x", ["-p {name} 1e-3,x: item 2 (x) is not a number", "expected numbers separated by commas"]),
        ("float list", "1,1e999", ["holds inf: expected finite numbers"]),
        ("float list", "[1e999]", ["holds inf: expected finite numbers"]),
        ("float list", "[1" + "0" * 400 + "]", ["too large for a float: expected finite numbers"]),
        ("float list", "[nan]", ["-p {name} [nan]:", "expected a Python list literal"]),
        ("choices", "c\x00pu", [r"{name} = 'c\x00pu' cannot be used", "control character U+0000",
                                "expected one line of printable text"]),
        ("choices", "cpu\udcff", [r"{name} = 'cpu\udcff' cannot be used", "not UTF-8"]),
        ("choices", "cpu\u2028", ["line break (U+2028)"]),
        ("choices", "gpu", ["{name} = 'gpu' is not one of the choices"]),
    ]


@pytest.mark.parametrize("kind, value, words", p_cases(), ids=lambda v: repr(v)[:30])
def test_an_odd_parameter_value_is_refused_in_one_line(build, kind, value, words):
    name = KIND[kind]
    if name is None:
        pytest.skip(f"no notebook declares a parameter of kind {kind!r} now")
    refused(build("-p", name, value), *(w.replace("{name}", name) for w in words))


def test_a_list_may_be_written_with_commas(build):
    """``-p NAME 10,100`` for a list parameter: --check prints the list."""
    name = KIND["int list"]
    p = PARAMS[name]
    items = [p.default[0], p.default[-1]]
    status, out, err = build("-p", name, ",".join(map(str, items)))
    assert status == OK, err
    assert f"{name}={items}" in out


def test_an_odd_parameter_name_is_refused_in_one_line(build):
    refused(build("-p", "x\ny", "1"), r"-p 'x\ny': no notebook declares a parameter 'x\ny'")
    refused(build("-p", "q" * 5000, "1"), "(5000 characters)", "no notebook declares")


def settings_file(build, content, name="settings.toml"):
    path = build.tmp / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return str(path)


CONFIG_CASES = [   # (contents of the --config file, words of the message)
    (b'name = "Ada \xff"\n', ["is not UTF-8 text (byte 0xff on line 1)", "expected a UTF-8 TOML file"]),
    (b'\xfe\xffname = "Ada"\n', ["is not UTF-8 text (byte 0xfe on line 1)"]),
    ('name = "Ada\\nLovelace"\n', [r"name = 'Ada\nLovelace': it holds a line break (U+000A)",
                                   "expected one line of printable text, at most 100 characters"]),
    ('name = "Ada\\u0007"\n', [r"name = 'Ada\x07': it holds the control character U+0007"]),
    (f'name = "{"A" * 101}"\n', ["name = AAAA", "it is 101 characters long", "at most 100 characters"]),
    (f'course = "{"C" * 300}"\n', ["course = CCCC", "it is 300 characters long", "at most 200 characters"]),
    ('assignment = """Homework\n4"""\n', [r"assignment = 'Homework\n4': it holds a line break"]),
    ('date = "May\\t1"\n', [r"date = 'May\t1': it holds the control character U+0009"]),
    ("date = 2024-12-01\n", ["date must be a string in quotes, got datetime.date(2024, 12, 1)"]),
    ("name = 5\n", ["name must be a string in quotes, got 5"]),
    ('"x\\ny" = "1"\n', [r"unknown setting(s) 'x\ny'; allowed: name, date, assignment, course"]),
    ('name = "Ada\n', ["is not valid TOML"]),
    ("name = 'Ada'\ncourse 'APPM'\n", ["is not valid TOML: Expected '=' after a key", "(at line 2, column 8)",
                                       'expected a UTF-8 TOML file of settings such as name = "Ada Lovelace"']),
    ("x = " + "[" * 5000 + "]" * 5000 + "\n", ["is not valid TOML: it nests too deeply"]),
    (f"name = {BIG}\n", ["is not valid TOML"]),
]


@pytest.mark.parametrize("content, words", CONFIG_CASES, ids=lambda v: repr(v)[:30])
def test_an_odd_config_file_is_refused_in_one_line(build, content, words):
    refused(build("--config", settings_file(build, content)), *words)


def test_single_quoted_toml_strings_are_read(build):
    """TOML's literal strings ('...', no escapes) are as valid as "..." ones."""
    path = settings_file(build, "name = 'Ada Lovelace'\ncourse = 'APPM\\4720'  # a comment\n"
                                "assignment = '''Homework 4'''\n")
    assert title.read_settings(path) == {"name": "Ada Lovelace", "course": "APPM\\4720", "assignment": "Homework 4"}
    assert build("--config", path)[0] == OK


@pytest.mark.parametrize("content, words", CONFIG_CASES[:3], ids=lambda v: repr(v)[:30])
def test_an_odd_report_toml_is_refused_in_one_line(build, monkeypatch, content, words):
    monkeypatch.setattr(title, "SETTINGS", Path(settings_file(build, content, "report.toml")))
    line = refused(build(), *words)
    assert "report.toml" in line


def test_a_config_that_is_no_file_is_refused_in_one_line(build):
    refused(build("--config", str(build.tmp)), f"config file {build.tmp} is a folder",
            "expected a UTF-8 TOML file")
    refused(build("--config", str(build.tmp / "none.toml")), "none.toml does not exist")
    if Path("/dev/zero").exists():      # never read: it has no end
        refused(build("--config", "/dev/zero"), "config file /dev/zero is not a regular file")


def test_a_blank_or_empty_name_in_a_config_means_not_set(build):
    for content in ('name = ""\n', 'name = "   "\n', 'name = "Ada Lovelace"\ncourse = "APPM 4720"\n',
                    '\ufeffname = "Ada"\n'):         # a byte-order mark, as Notepad writes
        status, _, err = build("--config", settings_file(build, content))
        assert status == OK, err


@pytest.mark.parametrize("name, words", [
    ("   ", ["--name '   ': it is blank", "expected your name"]),
    ("", ["--name '': it is blank"]),
    ("Ada\nLovelace", [r"--name 'Ada\nLovelace': it holds a line break (U+000A)",
                       "expected one line of printable text, at most 100 characters"]),
    ("Ada\tLovelace", [r"--name 'Ada\tLovelace': it holds the control character U+0009"]),
    ("Ada\u2028", ["line break (U+2028)"]),
    ("Ada\x1b[31m", [r"control character U+001B"]),
    ("Ada\udcff", [r"--name 'Ada\udcff': it holds a byte that is not UTF-8 (U+DCFF)"]),
    ("A" * 101, ["--name AAAA", "(101 characters)", "it is 101 characters long", "at most 100 characters"]),
], ids=lambda v: repr(v)[:30])
def test_an_odd_name_is_refused_in_one_line(build, name, words):
    refused(build(f"--name={name}"), *words)


def test_a_good_name_passes(build):
    for name in ("Ada Lovelace", "Zoë Ngô-Đặng", "José\u200dMaría", "A" * 100, "李小龙"):
        status, _, err = build("--name", name)
        assert status == OK, (name, err)


@pytest.mark.parametrize("epoch, words", [
    ("abc", ["SOURCE_DATE_EPOCH=abc: expected a whole number of seconds since 1970"]),
    ("1.5", ["SOURCE_DATE_EPOCH=1.5: expected a whole number of seconds since 1970"]),
    ("-5", ["SOURCE_DATE_EPOCH=-5: expected a whole number of seconds since 1970"]),
    ("1e9", ["SOURCE_DATE_EPOCH=1e9: expected a whole number"]),
    ("99999999999999999", ["SOURCE_DATE_EPOCH=99999999999999999 is out of range",
                           f"from 0 to {title.LAST_EPOCH}"]),
    (str(title.LAST_EPOCH + 1), ["is out of range"]),
    ("9" * 5000, ["(5000 characters) is out of range"]),
], ids=lambda v: repr(v)[:30])
def test_an_odd_source_date_epoch_is_refused_before_anything_runs(build, epoch, words):
    refused(build(env={"SOURCE_DATE_EPOCH": epoch}), *words)


def test_a_good_source_date_epoch_fixes_the_date(build):
    for epoch, day in [("0", "January 1, 1970"), (" 1733011200 ", "December 1, 2024"),
                       (str(title.LAST_EPOCH), "December 31, 9999")]:
        assert build(env={"SOURCE_DATE_EPOCH": epoch})[0] == OK
        assert title.today() == day
    assert build(env={"SOURCE_DATE_EPOCH": ""})[0] == OK      # empty: unset


QUICK_CASES = [   # (kind of the parameter named, contents of quick.json with {name} for it, words)
    (None, b'{"x": "\xff"}', ["quick.json is not UTF-8 text (byte 0xff at position 7)", "expected a JSON object"]),
    (None, "[1, 2]", ["quick.json must hold a JSON object", "not [1, 2]"]),
    (None, '{"a": 1', ["quick.json is not valid JSON"]),
    (None, "[" * 100000 + "]" * 100000, ["quick.json: its JSON nests too deeply"]),
    ("int", f'{{"{{name}}": {BIG}}}', [f"quick.json holds an integer of more than {MAX_DIGITS} digits"]),
    ("int", '{"{name}": "600"}', ["quick.json: {name} = '600' has the wrong type: expected int, got str"]),
    ("int", '{"{name}": 1.5}', ["quick.json: {name} = 1.5 has the wrong type: expected int, got float"]),
    ("int", '{"{name}": true}', ["quick.json: {name} = True has the wrong type: expected int, got bool"]),
    ("int", '{"{name}": null}', ["quick.json: {name} = None is not allowed"]),
    ("int", '{"{name}": 0}', ["quick.json: {name} = 0 is out of range"]),
    ("float", '{"{name}": NaN}', ["quick.json: {name} = nan is not a finite number"]),
    ("float", '{"{name}": 1e999}', ["quick.json: {name} = inf is not a finite number"]),
    ("float", f'{{"{{name}}": 1{"0" * 400}}}', ["quick.json: {name} = 1000", "is too large: expected a finite number"]),
    ("float", '{"{name}": "1e-3"}', ["quick.json: {name} = '1e-3' has the wrong type: expected float, got str"]),
    ("int list", '{"{name}": [[1]]}', ["holds [1]: expected integers only"]),
    ("int list", '{"{name}": {"a": 1}}', ["has the wrong type: expected list, got dict"]),
    ("choices", '{"{name}": "cpu\\n"}', [r"quick.json: {name} = 'cpu\n' cannot be used: it holds a line break"]),
]


@pytest.mark.parametrize("kind, content, words", QUICK_CASES, ids=lambda v: repr(v)[:30])
def test_an_odd_quick_json_is_refused_in_one_line(build, kind, content, words):
    name = KIND[kind] if kind else "x"
    if name is None:
        pytest.skip(f"no notebook declares a parameter of kind {kind!r} now")
    data = content if isinstance(content, bytes) else content.replace("{name}", name).encode()
    (build.notebooks / "quick.json").write_bytes(data)
    refused(build("--quick"), *(w.replace("{name}", name) for w in words))


def test_a_quick_json_that_is_no_file_is_refused_in_one_line(build):
    (build.notebooks / "quick.json").unlink()
    (build.notebooks / "quick.json").mkdir()
    refused(build("--quick"), "quick.json is not a file: expected a JSON object")


@pytest.mark.parametrize("args, env, words", [
    ([b"--name", b"Ada \xff"], {}, [r"--name 'Ada \udcff': it holds a byte that is not UTF-8 (U+DCFF)"]),
    ([], {"SOURCE_DATE_EPOCH": "abc"}, ["SOURCE_DATE_EPOCH=abc: expected a whole number of seconds since 1970"]),
], ids=["name-not-utf8", "source-date-epoch"])
def test_the_command_itself_refuses_without_a_traceback(tmp_path, args, env, words):
    """As typed in a shell (bytes that are not UTF-8 included), through
    ``python -m reportbuild``: exit 2 and the one line, nothing else."""
    r = subprocess.run([sys.executable, "-m", "reportbuild", "--check", "--notebooks", str(NOTEBOOKS),
                        "--out", str(tmp_path / "b"), *args], cwd=ROOT, capture_output=True, timeout=120, check=False,
                       env={**{k: v for k, v in os.environ.items() if k not in ENVIRONMENT}, **env})
    err = r.stderr.decode("utf-8", "backslashreplace")
    assert r.returncode == USAGE and "Traceback" not in err, err
    refused((r.returncode, r.stdout.decode(), err), *words)


# ---------------------------------------------------------------- (b) generated inputs

ODD = ["\x00", "\n", "\r", "\t", "\x1b", "\x7f", "\x85", "\u2028", "\u200d", "\ufeff", "\udcff", "\U0010ffff",
       "é", "李", " ", "_", "-", "+", ".", "e", "[", "]", "(", ")", "{", "}", ",", ":", "'", '"', "\\", "#", "="]
text = st.text(st.one_of(st.characters(), st.sampled_from(ODD)), max_size=20)
numbers = st.one_of(st.integers(), st.integers(min_value=-10**400, max_value=10**400),
                    st.floats(allow_nan=True, allow_infinity=True))
int_like = st.one_of(st.from_regex(r"\A[+-]?[0-9_]{0,6}\Z"), st.integers().map(str))
float_like = st.one_of(st.from_regex(r"\A[+-]?[0-9_]{0,3}\.?[0-9_]{0,3}([eE][+-]?[0-9_]{0,4})?\Z"),
                       st.floats().map(repr), st.sampled_from(["inf", "+inf", "nan", "NaN", "infinity", "1e999"]))
huge = st.one_of(st.integers(MAX_DIGITS - 5, MAX_DIGITS + 5).map(lambda n: "9" * n),
                 st.integers(300, 330).map(lambda n: "1" + "0" * n))     # float: 1e309 and up overflow
odd_words = st.sampled_from(["0x10", "0o7", "0b1", "1j", "None", "null", "true", "False", "yes", "()", "{}",
                             "{1: 2}", "'a'", "٤", "１", "cpu", "cuda", "CPU", "build/results", "../x", "/etc",
                             "~nobody/x", "", " ", "\x00", "a\nb"])
item = st.one_of(int_like, float_like, huge, odd_words)
list_like = st.one_of(
    st.lists(item, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
    st.lists(item, min_size=1, max_size=4).map(",".join),                           # -p NAME 10,100
    st.lists(item, min_size=1, max_size=3).map(lambda xs: "(" + ", ".join(xs) + ",)"),
    st.lists(item, max_size=3).map(lambda xs: "[" + ", ".join(xs)),                  # unclosed
    st.lists(numbers, max_size=4).map(repr),
    st.integers(90, 3000).map(lambda n: "[" * n + "]" * n),
    st.integers(1000, 60000).map(lambda n: "[" + "-" * n + "1]"),
    st.integers(1000, 60000).map(lambda n: "[" + "1+" * n + "1]"))
values = st.one_of(int_like, float_like, huge, list_like, odd_words, text)
param_names = st.one_of(st.sampled_from(sorted(PARAMS)), st.sampled_from(sorted(PARAMS)), text)
BY_KIND = {"int": st.one_of(int_like, huge), "float": st.one_of(float_like, huge),
           "list": list_like, "tuple": list_like}


def value_for(name):
    """Values for parameter ``name``: mostly of the text its kind reads, some any."""
    return BY_KIND.get(PARAMS[name].kind, st.one_of(odd_words, text)) if name in PARAMS else values


pairs = st.lists(st.one_of(st.sampled_from(sorted(PARAMS)).flatmap(lambda n: st.tuples(st.just(n), value_for(n))),
                           st.tuples(param_names, values)), min_size=1, max_size=3)
parts = st.one_of(text, st.lists(st.sampled_from(LABELS + ["", "-", ",", " ", "9z", "1a-", "-2c"]), max_size=4)
                  .flatmap(lambda ls: st.sampled_from([",".join(ls), "-".join(ls), "".join(ls)])))
environment = st.one_of(
    st.none(), st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=12),
    int_like, float_like, huge, st.sampled_from(["0", "1733011200", "253402300799", "253402300800",
                                                 "99999999999999999", "-1", "1e9", " 5 "]))

json_values = st.recursive(st.one_of(st.none(), st.booleans(), numbers, text),
                           lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                   st.dictionaries(text, inner, max_size=3)), max_leaves=6)
quick_json = st.one_of(
    st.binary(max_size=40),
    st.dictionaries(param_names, json_values, max_size=4).map(lambda d: json.dumps(d).encode()),
    st.dictionaries(st.sampled_from(sorted(PARAMS)), st.one_of(numbers, st.lists(numbers, max_size=3)), max_size=4)
    .map(lambda d: json.dumps(d).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.integers(90, 3000).map(lambda n: ("[" * n + "]" * n).encode()))


def toml_value(v):
    """A TOML value for ``v``: strings quoted (JSON's escapes are TOML's), others as written."""
    return json.dumps(v) if isinstance(v, str) else str(v).lower()


toml_lines = st.lists(st.one_of(
    st.tuples(st.sampled_from(title.KEYS + ("nme", "x")), st.one_of(text, text, numbers, st.booleans()))
    .map(lambda kv: f"{kv[0]} = {toml_value(kv[1])}"),
    st.integers(90, 3000).map(lambda n: f"x = {'[' * n}{']' * n}"),
    st.sampled_from(['name = """A\nB"""', "date = 2024-12-01", "[name]", "name = [1, 2]", 'name = "\\u0000"',
                     'name = "\\ud800"', "course = 'x'", "= 1", "name = {a = 1}", 'name = "   "',
                     f'name = "{"n" * 101}"', f'course = "{"c" * 201}"', "name = " + "9" * (MAX_DIGITS + 1)]),
    text), max_size=4).map(lambda lines: "\n".join(lines).encode())
config = st.one_of(st.binary(max_size=60), toml_lines, toml_lines)
SETTINGS = {"deadline": None, "database": None, "derandomize": True,
            "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]}


@pytest.fixture
def fast_build(build, monkeypatch):
    """``build``, each notebook's parameters read once (the notebooks do not
    change during a test), so that many inputs fit in a few seconds."""
    cache = {}
    read = cli.read_params
    monkeypatch.setattr(cli, "read_params", lambda path: cache[path] if path in cache
                        else cache.setdefault(path, read(path)))
    return build


def exits_cleanly(build, args, env=None):
    """Run ``build(*args)``: it returns 0 or 2 (argparse's SystemExit(2) for
    a NAME or VALUE that looks like an option counts as 2), with no
    traceback, and a refusal ends with the line saying nothing ran."""
    try:
        status, out, err = build(*args, env=env)
    except SystemExit as e:
        status, (out, err) = e.code, build.output()
        assert status == USAGE and ": error:" in err, err
        return status
    assert status in (OK, USAGE), (status, err)
    assert "Traceback" not in out + err
    if status == USAGE:
        assert err.startswith("error: ") and err.splitlines()[-1].startswith("(nothing was run"), err
    return status


@settings(max_examples=140, **SETTINGS)
@given(pairs=pairs, quick=st.one_of(st.none(), st.none(), quick_json))
def test_generated_parameters_never_raise(fast_build, pairs, quick):
    args = [a for n, v in pairs for a in ("-p", n, v)]
    if quick is not None:
        (fast_build.notebooks / "quick.json").write_bytes(quick)
        args.append("--quick")
    exits_cleanly(fast_build, args)


@settings(max_examples=140, **SETTINGS)
@given(name=st.one_of(st.none(), text), parts=st.one_of(st.none(), parts), config=st.one_of(st.none(), config),
       epoch=environment, every=environment)
def test_generated_settings_never_raise(fast_build, name, parts, config, epoch, every):
    args = [f"--name={name}"] * (name is not None) + [f"--parts={parts}"] * (parts is not None)
    if config is not None:
        args += ["--config", settings_file(fast_build, config)]
    env = {k: v for k, v in zip(ENVIRONMENT, (epoch, every)) if v is not None}
    if exits_cleanly(fast_build, args, env) == OK:
        title.today()           # a SOURCE_DATE_EPOCH the build took gives the title page its date
