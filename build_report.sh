#!/usr/bin/env bash
# Build the report: run the notebooks in notebooks/ that changed since their
# last run and write build/report.pdf and build/report.html.
#
# The first run sets things up: it creates .venv, installs requirements.txt
# and this checkout's packages (helpers, reportbuild), and (as root, with
# apt-get) the system packages listed in reportbuild/system-packages.txt:
# TeX and pandoc for the PDF, poppler-utils and chromium for the tests.
# Later runs reuse .venv and reinstall only when requirements.txt or
# pyproject.toml changed.  Each setup step prints one line with its time;
# its full output goes to build/setup.log, which is printed only when the
# step fails.  All options go to `python -m reportbuild`, which checks
# them; see ./build_report.sh --help.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
VENV=.venv
STAMP=$VENV/.installed-hash
LOG=build/setup.log
SYSTEM_PACKAGES=reportbuild/system-packages.txt

die() { printf 'error: %s\n' "$*" >&2; exit 1; }
can_apt() { [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; }
apt_install() { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "$@"; }

# step "what it does" command...: one line with the time taken; the output
# goes to $LOG, shown (and the build stopped) only if the command fails.
step() { try_step "$@" || { show_log; die "$1 failed (full log: $LOG); fix the problem above and build again"; }; }
try_step() {
    local what=$1 t0=$SECONDS
    shift
    mkdir -p "$(dirname "$LOG")"
    LOG_START=$(( $(wc -l 2>/dev/null < "$LOG" || echo 0) + 1 ))
    printf '### %s: %s\n' "$what" "$*" >> "$LOG"
    printf '==> %s ... ' "$what"
    if "$@" >> "$LOG" 2>&1; then
        printf 'done (%d s)\n' $((SECONDS - t0))
    else
        printf 'failed (%d s)\n' $((SECONDS - t0))
        return 1
    fi
}
show_log() {
    printf -- '--- the output of that step (the last 80 lines; all of it is in %s) ---\n' "$LOG" >&2
    tail -n +"$LOG_START" "$LOG" | tail -n 80 >&2
}

command -v python3 >/dev/null || die "python3 not found; install Python 3.10 or newer and build again"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
    || die "$(python3 -V 2>&1) is too old; install Python 3.10 or newer and build again"

# The virtual environment: created once, reinstalled when the requirements change.
if ! { [[ -x $VENV/bin/python ]] && "$VENV/bin/python" -c 'import pip' >/dev/null 2>&1; }; then
    if ! try_step "Creating the virtual environment $VENV" python3 -m venv --clear "$VENV"; then
        can_apt || { show_log; die "python3 cannot create a virtual environment; install the venv module (Debian/Ubuntu: apt-get install python3-venv) and build again"; }
        step "Installing python3-venv with apt-get" apt_install python3-venv
        step "Creating the virtual environment $VENV" python3 -m venv --clear "$VENV"
    fi
fi
want=$(python3 -c 'import hashlib, sys; print(hashlib.sha256(b"".join(open(f, "rb").read() for f in sys.argv[1:])).hexdigest())' \
    requirements.txt pyproject.toml)
if [[ $(cat "$STAMP" 2>/dev/null || true) != "$want" ]]; then
    step "Installing requirements.txt, helpers and reportbuild into $VENV (a minute or two)" \
        "$VENV/bin/python" -m pip install --disable-pip-version-check -r requirements.txt -e .
    echo "$want" > "$STAMP"
fi

# The system packages (one list: package, the command it provides, what
# for).  When a command is missing and this runs as root with apt-get, all
# of them are installed in one step; otherwise the build writes what it can
# (the HTML without TeX) and says what to install, and the tests that need
# a missing command skip, saying so.
packages=() missing=()
while read -r package command _; do
    [[ -z $package || $package == \#* ]] && continue
    packages+=("$package")
    [[ $command == - ]] || command -v "$command" >/dev/null || missing+=("$command")
done < "$SYSTEM_PACKAGES"
if ((${#missing[@]})) && can_apt && [[ " $* " != *" --no-pdf "* && " $* " != *" --check "* \
        && " $* " != *" --help "* && " $* " != *" -h "* ]]; then
    step "Installing the system packages with apt-get (${missing[*]} not found; a minute or two)" \
        apt_install "${packages[@]}"
fi

exec "$VENV/bin/python" -m reportbuild "$@"
