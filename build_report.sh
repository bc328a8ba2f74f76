#!/usr/bin/env bash
# Build the report: run every notebook in notebooks/ and write
# build/report.pdf and build/report.html.
#
# The first run sets things up: it creates .venv, installs requirements.txt
# and the helpers package, and (as root, with apt-get) installs TeX and
# pandoc for the PDF.  Later runs reuse .venv and reinstall only when
# requirements.txt or pyproject.toml changed.  All options go to
# `python -m helpers.report`; see ./build_report.sh --help.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
VENV=.venv
STAMP=$VENV/.installed-hash
TEX_PACKAGES=(texlive-xetex texlive-fonts-recommended texlive-plain-generic texlive-latex-extra pandoc)

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
can_apt() { [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; }
apt_install() {
    say "Installing $* with apt-get"
    apt-get update -qq || die "apt-get update failed; check the network and try again"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null \
        || die "apt-get could not install $*; install them by hand and build again"
}

command -v python3 >/dev/null || die "python3 not found; install Python 3.10 or newer and build again"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
    || die "$(python3 -V 2>&1) is too old; install Python 3.10 or newer and build again"

# Options and notebook parameters are checked before any setup, with the
# system Python (that part of helpers.report needs only the standard library).
precheck() { PYTHONPATH="helpers${PYTHONPATH:+:$PYTHONPATH}" python3 -m report "$@"; }
for arg in "$@"; do
    if [[ $arg == -h || $arg == --help ]]; then precheck --help; exit 0; fi
done
precheck --validate "$@" || exit $?

# The virtual environment: created once, reinstalled when the requirements change.
if ! { [[ -x $VENV/bin/python ]] && "$VENV/bin/python" -m pip --version >/dev/null 2>&1; }; then
    say "Creating the virtual environment $VENV"
    if ! python3 -m venv --clear "$VENV"; then
        can_apt || die "python3 cannot create a virtual environment; install the venv module (Debian/Ubuntu: apt-get install python3-venv) and build again"
        apt_install python3-venv
        python3 -m venv --clear "$VENV" || die "python3 -m venv failed even with python3-venv installed"
    fi
fi
want=$(python3 -c 'import hashlib, sys; print(hashlib.sha256(b"".join(open(f, "rb").read() for f in sys.argv[1:])).hexdigest())' \
    requirements.txt pyproject.toml)
if [[ $(cat "$STAMP" 2>/dev/null || true) != "$want" ]]; then
    say "Installing requirements.txt and the helpers package into $VENV (the first time takes a minute or two)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt -e . \
        || die "pip install failed (see above); fix the problem and build again (or delete $VENV to start afresh)"
    echo "$want" > "$STAMP"
else
    say "Using the virtual environment $VENV (up to date)"
fi

# TeX and pandoc, for the PDF.  Installed here when possible; otherwise the
# build writes the HTML only and says what to install for the PDF.
missing=()
for tool in xelatex pandoc; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if ((${#missing[@]})) && [[ " $* " != *" --no-pdf "* ]] && can_apt; then
    say "${missing[*]} not found: installing TeX and pandoc for the PDF (about a minute)"
    apt_install "${TEX_PACKAGES[@]}"
fi

exec "$VENV/bin/python" -m helpers.report "$@"
