"""The boundary between the two packages and the shape of the import graph.

``helpers`` is what the notebooks import (the mathematics, measurement,
plots, listings); ``reportbuild`` is the tool that runs and renders them.
The tool imports nothing of helpers or the numerical stack, so it keeps
working, for --help, --check and --render-only, while a helpers module is
broken; helpers imports nothing of the tool's stack; and no two modules of
the project import each other, directly or around a loop.
"""

import ast
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("helpers", "reportbuild")
NUMERICAL = ("helpers", "numpy", "torch", "matplotlib", "mpmath", "IPython")
TOOL_STACK = ("nbconvert", "papermill", "jinja2", "nbclient", "reportbuild")


def module_name(path):
    """'reportbuild.run.stage' for ROOT/reportbuild/run/stage.py ('…' for __init__)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules():
    """{module name: Path} of every Python file of the two packages."""
    return {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))
            if "__pycache__" not in p.parts}


def imports(path, name):
    """Every module ``path`` (module ``name``) imports, at the top or inside a
    function, as absolute names; ``from X import y`` counts as X.y when that
    is a module, else as X."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module
            found.add(origin)
            found.update(f"{origin}.{alias.name}" for alias in node.names)
    return found


def graph():
    """{module: set of project modules it imports}."""
    mods = modules()
    return {name: {m for m in imports(path, name) if m in mods and m != name} for name, path in mods.items()}


def cycles(edges):
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_of_the_project_imports_itself_around_a_loop():
    edges = graph()
    assert "reportbuild.render.stage" in edges["reportbuild.cli"]      # the graph sees lazy imports
    assert cycles(edges) == []


def roots(path, name):
    """The top-level packages ``path`` imports."""
    return {m.split(".")[0] for m in imports(path, name)}


def test_the_tool_imports_nothing_numerical_and_helpers_nothing_of_the_tool():
    mods = modules()
    assert {name.split(".")[0] for name in mods} == set(PACKAGES)     # never an empty loop
    for name, path in mods.items():
        if name.startswith("reportbuild"):
            assert not roots(path, name) & set(NUMERICAL), name
        else:
            assert not roots(path, name) & set(TOOL_STACK), name


def test_loading_every_module_of_the_tool_loads_nothing_numerical():
    names = [n for n in modules() if n.startswith("reportbuild") and not n.endswith("__main__")]
    assert "reportbuild.render.exporters" in names and "reportbuild.cli" in names
    code = ("import importlib, json, sys\n"
            f"for name in {names!r}: importlib.import_module(name)\n"
            f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {NUMERICAL!r})))")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == []


@pytest.fixture
def broken_helpers(tmp_path):
    """A copy of the checkout whose helpers/heron.py has a syntax error, with
    the two fixture notebooks as its notebooks/ and their executed copies in
    build/notebooks (as a build leaves them)."""
    ignore = shutil.ignore_patterns("__pycache__")
    for folder in PACKAGES:
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=ignore)
    for name in ("requirements.txt", "report.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    heron = tmp_path / "helpers" / "heron.py"
    heron.write_text(heron.read_text() + "\ndef broken(:\n")
    for folder in ("notebooks", "build/notebooks"):
        shutil.copytree(ROOT / "tests" / "fixtures", tmp_path / folder)
    (tmp_path / "build" / ".report-folder").write_text("")      # an output folder a build made
    mathjax = importlib.util.find_spec("jupyter_server_mathjax").submodule_search_locations[0]   # not imported: 0.5 s
    (tmp_path / "build" / "mathjax").symlink_to(Path(mathjax) / "static")
    return tmp_path


def test_help_check_and_render_only_work_while_a_helpers_module_is_broken(broken_helpers):
    def tool(*args):
        return subprocess.run([sys.executable, "-m", "reportbuild", *args], cwd=broken_helpers,
                              capture_output=True, text=True, timeout=300)

    heron = broken_helpers / "helpers" / "heron.py"
    with pytest.raises(SyntaxError):                                # the copy's helpers are broken indeed
        compile(heron.read_text(), str(heron), "exec")
    r = subprocess.run([sys.executable, "-c", "import reportbuild; print(reportbuild.__file__)"],
                       cwd=broken_helpers, capture_output=True, text=True)
    assert r.stdout.startswith(str(broken_helpers))                 # and the copy's tool is the one that runs
    r = tool("--help")
    assert r.returncode == 0 and "1a_small.ipynb" in r.stdout, r.stderr
    r = tool("--check")
    assert r.returncode == 0 and "1a_small.ipynb: " in r.stdout, r.stderr
    r = tool("--render-only", "--no-pdf")
    assert r.returncode == 0, r.stderr
    assert "Published the new report in build/: report.html" in r.stdout
    assert "its code or the helpers package changed since it ran" in r.stderr     # and says so


def test_the_readme_quotes_the_one_list_of_system_packages():
    from reportbuild.system_packages import packages

    names = " ".join(p for p, _, _ in packages())
    assert f"sudo apt-get install {names}\n" in (ROOT / "README.md").read_text()
    script = (ROOT / "build_report.sh").read_text()
    assert "reportbuild/system-packages.txt" in script and "texlive" not in script
