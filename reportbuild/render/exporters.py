"""The merged notebook as HTML and (through XeLaTeX) as PDF, with the
templates in templates/.

Every file is written atomically (``atomic``), so an interrupted or failed
render never leaves a broken or half-written report: the previous one stays
until the new one is complete.

XeLaTeX and pandoc run under a time limit (``limits``).  The render's
temporary folders (nbconvert's LaTeX folder among them) are made
in the output folder, in one named ``.render-*`` that is removed on every
way out; one left by a killed build goes with the next build's leftovers.
"""

import os
import re
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from ..atomic import replace_folder, write_atomic
from ..system_packages import install_hint, missing_commands
from .limits import TooLong, latex_limit, pandoc_limit, run

TEMPLATES = Path(__file__).resolve().parent / "templates"


class RenderFailed(RuntimeError):
    """LaTeX (or pandoc) failed or ran past its time limit; the message
    points to the log."""


def missing_tex():
    """The PDF tools (XeLaTeX, pandoc) not on PATH: empty when the PDF can be made."""
    return missing_commands("pdf")


def tex_hint():
    """What to do to get the PDF, for messages."""
    return f"install TeX and pandoc to get the PDF ({install_hint('pdf')}), then build again"


LONGTABLE = re.compile(r"\\begin\{longtable\}\[\]\{(@\{\}[lcr]+@\{\})\}(.*?)\\end\{longtable\}", re.DOTALL)
ROW_MARKS = re.compile(r"^\\(endhead|endfirsthead|endfoot|endlastfoot|bottomrule)\b.*\n", re.MULTILINE)


def fit_tables(latex):
    """Pandoc's longtables as tabulars of natural width, scaled down (never
    up) to the line width, so that wide tables of results stay readable
    instead of squeezing numbers into overlapping columns."""
    def tabular(m):
        body = ROW_MARKS.sub("", m.group(2))
        return ("\\begin{center}\\adjustbox{max width=\\linewidth}{%\n"
                f"\\begin{{tabular}}{{{m.group(1)}}}{body}\\bottomrule\n\\end{{tabular}}}}\\end{{center}}")
    return LONGTABLE.sub(tabular, latex)


MATHJAX_DIR = "mathjax"
MATHJAX_CONFIG = "MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"


def install_mathjax(out_dir):
    """Copy MathJax (from the jupyter-server-mathjax package) to out_dir/mathjax
    unless already there, so the HTML report renders its math offline."""
    import jupyter_server_mathjax

    src = Path(jupyter_server_mathjax.__file__).resolve().parent / "static"
    dest = Path(out_dir) / MATHJAX_DIR
    if not (dest / "MathJax.js").exists():
        tmp = Path(tempfile.mkdtemp(prefix=".mathjax-", dir=out_dir))
        shutil.copytree(src, tmp / MATHJAX_DIR)
        replace_folder(tmp / MATHJAX_DIR, dest)
        tmp.rmdir()
    return f"{MATHJAX_DIR}/{MATHJAX_CONFIG}"


def write_html(nb, dest, notebooks_dir, assets=None):
    """``dest`` (one HTML file) from notebook ``nb``; it loads nothing from
    the network: MathJax comes from mathjax/ beside it, installed in
    ``assets`` (default: the folder of ``dest``), where the page will be
    published."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_file="homework.html.j2", extra_template_paths=[str(TEMPLATES)],
                            exclude_input_prompt=True, exclude_output_prompt=True,
                            mathjax_url=install_mathjax(assets or Path(dest).parent))
    with _template_errors():
        body, _ = exporter.from_notebook_node(nb, resources=_resources(notebooks_dir))
    write_atomic(dest, body)


def write_pdf(nb, dest, notebooks_dir, log_path, workdir=None):
    """``dest`` from notebook ``nb`` with the report template; returns
    {label: page} for the LaTeX labels of the document.

    Relative image paths resolve against ``notebooks_dir``.  On failure the
    LaTeX log goes to ``log_path`` and RenderFailed says so.  Temporary
    files go to a ``.render-*`` folder in ``workdir`` (default: the folder
    of ``log_path``, the output folder), removed on the way out.
    """
    from jinja2 import TemplateNotFound
    from nbconvert.exporters.pdf import LatexFailed
    from nbconvert.utils.pandoc import PandocMissing

    exporter = _labelled_pdf()(
        template_file="homework.tex.j2", extra_template_paths=[str(TEMPLATES)],
        raw_mimetypes=["text/latex"],       # keep the page-break cells (default: none)
        exclude_input_prompt=True, exclude_output_prompt=True)
    exporter.register_filter("fit_tables", fit_tables)
    exporter.register_filter("convert_pandoc", convert_pandoc)     # the same, under a time limit
    try:
        with _template_errors(), render_folder(Path(workdir or Path(log_path).parent)):
            pdf, _ = exporter.from_notebook_node(nb, resources=_resources(notebooks_dir))
    except TooLong as e:
        if e.output is not None:
            write_atomic(log_path, e.output)
        where = f"; the LaTeX log so far is in {log_path}" if e.output is not None else ""
        raise RenderFailed(f"{e}{where}") from None
    except LatexFailed as e:
        log = e.output or ""
        write_atomic(log_path, log)
        first = next((ln for ln in log.splitlines() if ln.startswith("! ")), "")
        raise RenderFailed(f"LaTeX failed to build the PDF ({first or 'see the log'}); "
                           f"the full log is in {log_path}") from None
    except (OSError, PandocMissing) as e:   # pandoc or xelatex not runnable
        if isinstance(e, TemplateNotFound):
            raise
        raise RenderFailed(f"could not run the PDF tools ({e}); {tex_hint()}") from None
    write_atomic(dest, pdf)
    return exporter.labels


def _labelled_pdf():
    """The PDF exporter class (nbconvert's, imported on first use)."""
    from nbconvert import PDFExporter
    from nbconvert.exporters.pdf import LatexFailed

    class LabelledPDF(PDFExporter):
        """nbconvert's PDF exporter that runs XeLaTeX until the cross-references
        settle (its log asks for no rerun; at most ``latex_count`` passes, where
        nbconvert always runs that many), all passes together within the time
        limit of ``latex_limit``, and keeps the page of every LaTeX label
        (read from the .aux file of the last pass)."""
        labels = {}
        limit = None                # XeLaTeX's Limit, for this document (latex_limit)
        deadline = None             # time.monotonic() by which XeLaTeX must be done

        def run_latex(self, filename, raise_on_failure=LatexFailed):
            def log_error(command, out):
                self.log.critical("%s failed: %s\n%s", command[0], command, out)

            self.limit = latex_limit(Path(filename).read_text(encoding="utf-8", errors="replace"))
            self.deadline = time.monotonic() + self.limit.seconds
            log = Path(filename).with_suffix(".log")
            for done in range(1, self.latex_count + 1):
                if not self.run_command(self.latex_command, filename, 1, log_error, raise_on_failure):
                    return False
                if done >= 2 and not RERUN.search(log.read_text(encoding="utf-8", errors="replace")):
                    break
            aux = Path(filename).with_suffix(".aux")
            if aux.exists():
                self.labels = read_labels(aux.read_text(encoding="utf-8", errors="replace"))
            return True

        def run_bib(self, filename, raise_on_failure=False):
            return False                # the report cites nothing: no BibTeX run

        def run_command(self, command_list, filename, count, log_function, raise_on_failure=None):
            """nbconvert's run_command (one run each time: ``run_latex``
            counts the passes), with what is left of the time limit; past
            it, XeLaTeX and its children are killed and TooLong
            carries its output so far."""
            command = [c.format(filename=filename) for c in command_list]
            if shutil.which(command[0]) is None:
                raise OSError(f"{command[0]} not found on PATH")
            env = _tex_environment(self.texinputs)
            for _ in range(count):
                status, out = run(command, self.limit, self.deadline, env=env)
                if status:
                    text = out.decode("utf-8", "replace")
                    log_function(command, out)
                    self._captured_output.append(text)
                    if raise_on_failure:
                        raise raise_on_failure(f'Failed to run "{command}" command:\n{text}')
                    return False
            return True

    return LabelledPDF


@contextmanager
def render_folder(parent):
    """A folder ``parent/.render-*`` where the temporary files of the
    render go (Python's ``tempfile`` default, within the block: nbconvert
    makes its LaTeX folder with it); removed on the way out, however the
    block ends.  A build killed meanwhile leaves it for the next build to
    remove (``outfolder.LEFTOVER``)."""
    folder = tempfile.mkdtemp(prefix=".render-", dir=parent)
    saved = tempfile.tempdir
    tempfile.tempdir = folder
    try:
        yield Path(folder)
    finally:
        tempfile.tempdir = saved
        shutil.rmtree(folder, ignore_errors=True)


RERUN = re.compile(r"Warning: .*Rerun|Rerun to get")     # what LaTeX and its packages log then
LABEL = re.compile(r"\\newlabel\{([^}]*)\}\{\{[^}]*\}\{(\d+)\}")


def read_labels(aux):
    """{label: page} from the text of a LaTeX .aux file (pages as printed,
    which are the PDF's 1-based page numbers: the report never resets them)."""
    return {name: int(page) for name, page in LABEL.findall(aux)}


def _tex_environment(texinputs):
    """nbconvert's environment for XeLaTeX: the notebooks' folder first on
    the TeX search paths."""
    from nbconvert.exporters.pdf import prepend_to_env_search_path

    env = os.environ.copy()
    for name in ("TEXINPUTS", "BIBINPUTS", "BSTINPUTS"):
        prepend_to_env_search_path(name, texinputs, env)
    return env


def convert_pandoc(source, from_format, to_format, extra_args=None):
    """nbconvert's ``convert_pandoc`` filter (``nbconvert.utils.pandoc.pandoc``),
    under ``pandoc_limit``; pandoc's warnings go to stderr, as there.  The
    LaTeX templates call pandoc through this filter alone."""
    from nbconvert.utils.pandoc import check_pandoc_version

    check_pandoc_version()                  # PandocMissing when there is none
    command = ["pandoc", "-f", from_format, "-t", to_format, *(extra_args or [])]
    limit = pandoc_limit(source)
    _, out = run(command, limit, time.monotonic() + limit.seconds, input=source.encode(), stderr=None)
    return out.decode("utf-8", "replace").rstrip("\n")


@contextmanager
def _template_errors():
    """A broken template (a Jinja syntax or runtime error) as RenderFailed,
    naming the file and line."""
    from jinja2 import TemplateError, TemplateNotFound

    try:
        yield
    except TemplateNotFound as e:
        raise RenderFailed(f"template {e.name} not found in {TEMPLATES} or nbconvert's templates") from None
    except TemplateError as e:
        where = f"{Path(e.filename).name}, line {e.lineno}" if getattr(e, "filename", None) else "a template"
        raise RenderFailed(f"the report template is broken ({where}): {e.message or e}") from None


def _resources(notebooks_dir):
    """nbconvert resources: the name and the folder relative paths start from."""
    return {"metadata": {"name": "report", "path": str(notebooks_dir)}}
