#!/usr/bin/env bash
# Build the report: run the notebooks in notebooks/ that changed since their
# last run and write build/report.pdf and build/report.html.
#
# The first run sets things up: it creates .venv and installs requirements.txt
# and this checkout's packages (helpers, reportbuild) into it, and at the same
# time (as root, with apt-get) the system packages listed in
# reportbuild/system-packages.txt: TeX and pandoc for the PDF, poppler-utils
# and chromium for the tests.  Later runs reuse .venv and reinstall only when
# requirements.txt or pyproject.toml changed.  Each setup step prints one line
# with its time when it ends; its full output goes to build/setup.log (a
# section of its own), which is printed only when the step fails.  While steps
# run, a line shows each one's seconds so far ("==> Setting up: pip 41 s,
# apt-get 41 s", on a terminal), or a line every 15 s says what still runs and
# its latest output (in a log or pipe; REPORT_PROGRESS_EVERY=N makes that
# every N seconds, here and for the notebooks).  Ctrl-C during setup stops
# every step with one line and exit status 130.
#
# In a git clone of the project, setup also makes nbstripout this clone's git
# filter for notebooks (named in .gitattributes), so that outputs and execution
# metadata stay out of commits; and it points the venv's Jupyter at the project
# folder, opening on notebooks/ (see jupyter_config below).  All options go to
# `python -m reportbuild`, which checks them; see ./build_report.sh --help.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT=$(pwd -P)
VENV=.venv
STAMP=$VENV/.installed-hash
LOG=build/setup.log
SYSTEM_PACKAGES=reportbuild/system-packages.txt

die() { printf 'error: %s\n' "$*" >&2; exit 1; }
can_apt() { [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; }
logged() { printf '$ %s\n' "$*"; "$@"; }     # a command, shown first in its step's log
apt_install() { logged apt-get update && DEBIAN_FRONTEND=noninteractive logged apt-get install -y "$@"; }

# The setup steps (functions run by `steps`).
make_venv() { logged python3 -m venv --clear "$VENV"; }
install_venv_module() { apt_install python3-venv; }
install_requirements() {
    logged "$VENV/bin/python" -m pip install --disable-pip-version-check -r requirements.txt -e .
}
install_system_packages() { apt_install "${packages[@]}"; }

EVERY=${REPORT_PROGRESS_EVERY:-15}
EVERY=${EVERY%%.*}                  # whole seconds, at least 1
[[ $EVERY =~ ^[0-9]+$ ]] || EVERY=15
((EVERY > 0)) || EVERY=1

# steps NAME WHAT FUNCTION [NAME WHAT FUNCTION]...: run the functions at the
# same time, each in a process group of its own (so that Ctrl-C stops it and
# all it started) with its output in a log of its own, which becomes a
# section "### WHAT" of $LOG when the step ends.  Each step prints
# "==> WHAT ... done (N s)" (or failed) when it ends; while they run, see
# progress.  Sets NAMES, WHATS, STATUS (exit statuses), FROM and TO (their
# lines in $LOG) and FAILED (indices); returns 1 when a step failed.
steps() {
    NAMES=() WHATS=() PIDS=() STATUS=() FROM=() TO=() FAILED=() OPEN=0
    local i running
    mkdir -p "$(dirname "$LOG")"
    : >> "$LOG"
    T0=$SECONDS
    while (($# >= 3)); do
        i=${#NAMES[@]}
        NAMES+=("$1") WHATS+=("$2")
        set -m                          # the step's own process group
        "$3" > "$(step_log "$i")" 2>&1 < /dev/null &
        PIDS+=($!)
        set +m
        shift 3
    done
    progress_start
    while :; do
        running=0
        for i in "${!PIDS[@]}"; do
            [[ -n ${PIDS[i]} ]] || continue
            if kill -0 "${PIDS[i]}" 2>/dev/null; then running=1; else end_step "$i"; fi
        done
        ((running)) || break
        progress
        sleep 0.2                       # in the foreground: Ctrl-C stops it, and the trap runs
    done
    ((${#FAILED[@]} == 0))
}

# step_log I: step I's own log while it runs, build/.setup.log.NAME (a name
# that reportbuild's output folder takes for a leftover of a killed setup).
step_log() { local name=${NAMES[$1]}; printf '%s' "${LOG%/*}/.${LOG##*/}.${name//-/_}"; }

# end_step I: step I has ended: its status, its log into $LOG, its line.
end_step() {
    local i=$1 status=0 t=$((SECONDS - T0)) outcome=done
    wait "${PIDS[i]}" || status=$?
    PIDS[i]=
    STATUS[i]=$status
    ((status == 0)) || { outcome=failed; FAILED+=("$i"); }
    append_log "$i" ""
    if [[ -t 1 ]]; then
        printf '\r\033[K==> %s ... %s (%d s)\n' "${WHATS[i]}" "$outcome" "$t"
        status_line
    elif ((OPEN)); then                  # a step alone, whose line nothing ended
        printf '%s (%d s)\n' "$outcome" "$t"
        OPEN=0
    else
        printf '==> %s ... %s (%d s)\n' "${WHATS[i]}" "$outcome" "$t"
    fi
}

# append_log I NOTE: step I's log, as a section of $LOG; FROM/TO its lines there.
append_log() {
    local i=$1 file
    file=$(step_log "$1")
    FROM[i]=$(($(wc -l < "$LOG") + 1))
    { printf '### %s%s\n' "${WHATS[i]}" "$2"; cat "$file" 2>/dev/null || true; } >> "$LOG"
    [[ -z $(tail -c 1 "$LOG") ]] || echo >> "$LOG"      # (output that did not end its last line)
    TO[i]=$(($(wc -l < "$LOG")))
    rm -f "$file"
}

# The line of the steps that still run.  On a terminal it is rewritten in
# place every second with each step's seconds so far: "==> WHAT ... 41 s" for
# a step alone, "==> Setting up: pip 41 s, apt-get 41 s" for several.  In a
# log or pipe, a step alone starts its line "==> WHAT ... ", which ends when
# it does; several start with "==> Setting up at the same time: pip, apt-get";
# every $EVERY seconds a line names what still runs and its latest output.
progress_start() {
    NEXT=$EVERY SHOWN=-1
    if [[ -t 1 ]]; then
        # A line that fits, since a wrapped one cannot be rewritten in place.
        WIDTH=100
        { WIDTH=$(stty size <&3 2>/dev/null || true); } 3>&1
        WIDTH=${WIDTH#* }
        [[ $WIDTH =~ ^[0-9]+$ ]] && ((WIDTH >= 40 && WIDTH <= 100)) || WIDTH=100
        HEAD="==> ${WHATS[0]% (*}"         # without its "(a minute or two)"
        ((${#HEAD} <= WIDTH - 20)) || { HEAD=${HEAD:0:WIDTH-19}; HEAD=${HEAD% *}; }   # whole words
        HEAD="$HEAD ... "
        status_line
    elif ((${#NAMES[@]} == 1)); then
        printf '==> %s ... ' "${WHATS[0]}"
        OPEN=1
    else
        local names
        printf -v names '%s, ' "${NAMES[@]}"
        printf '==> Setting up at the same time: %s\n' "${names%, }"
    fi
}
status_line() {
    local t=$((SECONDS - T0)) i line parts=""
    for i in "${!PIDS[@]}"; do
        [[ -n ${PIDS[i]} ]] && parts+="${NAMES[i]} $t s, "
    done
    [[ -n $parts ]] || return 0
    if ((${#NAMES[@]} == 1)); then
        line=$HEAD
        ((t < 2)) || line+="$t s"
    else
        line="==> Setting up: ${parts%, }"
    fi
    printf '\r%s\033[K' "${line:0:WIDTH-1}"
    SHOWN=$t
}
progress() {
    local t=$((SECONDS - T0)) i latest line
    if [[ -t 1 ]]; then
        ((t == SHOWN)) || status_line
        return 0
    fi
    ((t >= NEXT)) || return 0
    ((OPEN)) && printf '\n'             # ends the step's line
    OPEN=0
    for i in "${!PIDS[@]}"; do
        [[ -n ${PIDS[i]} ]] || continue
        # The step's latest line of output (after the command), in one line of printable text.
        latest=$(tail -n +2 "$(step_log "$i")" 2>/dev/null | tr '\r' '\n' | grep -v '^[[:space:]]*$' \
                 | tail -n 1 | tr -s '[:space:]' ' ' | tr -cd '[:print:]' || true)
        latest=${latest# } latest=${latest% }
        line="    still running after $t s"
        ((${#NAMES[@]} == 1)) || line+=" (${NAMES[i]})"
        line+="${latest:+: $latest}"
        printf '%s\n' "${line:0:99}"
    done
    NEXT=$((t - t % EVERY + EVERY))    # (the step's line follows, whole, when it ends)
}

# The output of each failed step (FAILED), from $LOG.
show_failed() {
    local i
    for i in "${FAILED[@]}"; do
        printf -- '--- the output of %s (the last 80 lines; all of it is in %s) ---\n' "${NAMES[i]}" "$LOG" >&2
        sed -n "${FROM[i]},${TO[i]}p" "$LOG" | tail -n 80 >&2
    done
}
# Show the failed steps' output and stop the build.
fail() {
    local i whats=""
    show_failed
    for i in "${FAILED[@]}"; do whats+="${WHATS[i]} and "; done
    die "${whats% and } failed (full log: $LOG); fix the problem above and build again"
}
succeeded() {                       # succeeded NAME: the step NAME ran and succeeded
    local i
    for i in "${!NAMES[@]}"; do [[ ${NAMES[i]} == "$1" && ${STATUS[i]:-} == 0 ]] && return 0; done
    return 1
}

# Stop the steps that still run, as Ctrl-C would (each has a process group of
# its own, which a terminal's Ctrl-C does not reach), and wait for them: 5 s,
# then they are killed.  Their output so far goes into $LOG.  STOPPED: the
# steps it stopped (WHAT without its "(...)"), joined by " and ".
stop_steps() {
    local i n
    STOPPED=""
    ((${#PIDS[@]})) || return 0
    for i in "${!PIDS[@]}"; do
        [[ -z ${PIDS[i]} ]] || kill -INT -- "-${PIDS[i]}" 2>/dev/null || true
    done
    for i in "${!PIDS[@]}"; do
        [[ -n ${PIDS[i]} ]] || continue
        for ((n = 0; n < 50; n++)); do
            kill -0 -- "-${PIDS[i]}" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-${PIDS[i]}" 2>/dev/null || true
        wait "${PIDS[i]}" 2>/dev/null || true
        PIDS[i]=
        append_log "$i" " (stopped)"
        STOPPED+="${WHATS[i]% (*} and "
    done
    STOPPED=${STOPPED% and }
}
# Ctrl-C during setup: stop the steps; say so in one line instead of their logs.
interrupted() {
    stop_steps
    if [[ -n $STOPPED ]]; then
        if [[ -t 1 ]]; then printf '\r\033[K'; elif ((OPEN)); then printf '\n'; fi
    fi
    printf 'interrupted during setup%s; nothing was built; run ./build_report.sh again\n' \
        "${STOPPED:+ ($STOPPED)}" >&2
    exit 130
}
PIDS=() OPEN=0
trap interrupted INT
trap 'stop_steps; exit 143' TERM
trap 'stop_steps; exit 129' HUP

command -v python3 >/dev/null || die "python3 not found; install Python 3.10 or newer and build again"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
    || die "$(python3 -V 2>&1) is too old; install Python 3.10 or newer and build again"

# The virtual environment: created once, reinstalled when the requirements change.
if ! { [[ -x $VENV/bin/python ]] && "$VENV/bin/python" -c 'import pip' >/dev/null 2>&1; }; then
    if ! steps venv "Creating the virtual environment $VENV" make_venv; then
        can_apt || { show_failed; die "python3 cannot create a virtual environment; install the venv module (Debian/Ubuntu: apt-get install python3-venv) and build again"; }
        steps apt-get "Installing python3-venv with apt-get" install_venv_module || fail
        steps venv "Creating the virtual environment $VENV" make_venv || fail
    fi
fi
todo=()
want=$(python3 -c 'import hashlib, sys; print(hashlib.sha256(b"".join(open(f, "rb").read() for f in sys.argv[1:])).hexdigest())' \
    requirements.txt pyproject.toml)
if [[ $(cat "$STAMP" 2>/dev/null || true) != "$want" ]]; then
    todo+=(pip "Installing requirements.txt, helpers and reportbuild into $VENV (a minute or two)" install_requirements)
fi

# The system packages (one list: package, the command it provides, what
# for).  When a command is missing and this runs as root with apt-get, all
# of them are installed in one step, at the same time as pip; otherwise the
# build writes what it can (the HTML without TeX) and says what to install,
# and the tests that need a missing command skip, saying so.
packages=() missing=()
while read -r package command _; do
    [[ -z $package || $package == \#* ]] && continue
    packages+=("$package")
    [[ $command == - ]] || command -v "$command" >/dev/null || missing+=("$command")
done < "$SYSTEM_PACKAGES"
if ((${#missing[@]})) && can_apt && [[ " $* " != *" --no-pdf "* && " $* " != *" --check "* \
        && " $* " != *" --help "* && " $* " != *" -h "* ]]; then
    todo+=(apt-get "Installing the system packages with apt-get (${missing[*]} not found; a minute or two)"
           install_system_packages)
fi
if ((${#todo[@]})); then
    steps "${todo[@]}" || true
    if succeeded pip; then echo "$want" > "$STAMP"; fi      # even when apt-get failed
    ((${#FAILED[@]} == 0)) || fail
fi

# Notebooks are committed without outputs or execution metadata: .gitattributes
# names the filter "nbstripout" for *.ipynb, and this clone's git config
# defines it: nbstripout with this venv's python (so that it works from any
# shell), started through reportbuild.git_filter, which imports it faster.
# --keep-id keeps the cell ids (without it, nbstripout renumbers them); the
# extra keys are what a Jupyter save or a copy of an executed notebook in
# build/notebooks adds beyond outputs and execution times (which nbstripout
# strips anyway).  Set when missing or different, and only in a clone whose
# top folder is this one; a failure is shown but does not stop the build.
NBSTRIPOUT="\"$ROOT/$VENV/bin/python\" -m reportbuild.git_filter --keep-id --drop-tagged-cells injected-parameters"
EXTRA_KEYS=(metadata.papermill cell.metadata.papermill metadata.report_run cell.metadata.jp-MarkdownHeadingCollapsed
            metadata.language_info.{codemirror_mode,file_extension,mimetype,nbconvert_exporter,pygments_lexer,version})
FILTER=(
    filter.nbstripout.clean "$NBSTRIPOUT"
    filter.nbstripout.smudge cat
    filter.nbstripout.required true
    filter.nbstripout.extrakeys "${EXTRA_KEYS[*]}"
    diff.ipynb.textconv "$NBSTRIPOUT -t"
)
git_filter_is_set() {
    local i
    for ((i = 0; i < ${#FILTER[@]}; i += 2)); do
        [[ $(git config --local --get "${FILTER[i]}" || true) == "${FILTER[i+1]}" ]] || return 1
    done
}
set_git_filter() {
    local i
    for ((i = 0; i < ${#FILTER[@]}; i += 2)); do logged git config --local "${FILTER[i]}" "${FILTER[i+1]}"; done
}
if command -v git >/dev/null && [[ $(git rev-parse --show-toplevel 2>/dev/null || true) == "$ROOT" ]] \
        && ! git_filter_is_set; then
    if ! steps nbstripout "Keeping notebook outputs out of git commits (nbstripout)" set_git_filter; then
        show_failed
        printf 'warning: notebooks may be committed with their outputs; the build goes on\n' >&2
    fi
fi

# Jupyter (README: .venv/bin/jupyter lab) opens at the project folder, on
# notebooks/, so that helpers/, report.toml and build/ are a click away (and
# pip's *.egg-info folder is hidden, beside Jupyter's usual hidden names).
# Jupyter reads no settings from the folder it starts in, so they go into
# the venv's own config folder (which only this venv's Jupyter reads).
jupyter_config() {
    local file=$VENV/etc/jupyter/jupyter_server_config.json root=${ROOT//\\/\\\\} text
    root=${root//\"/\\\"}
    text=$(printf '{\n  "ServerApp": {"root_dir": "%s"},\n  %s,\n  %s,\n  %s\n}' "$root" \
           '"ContentsManager": {"hide_globs": ["__pycache__", "*.pyc", "*.pyo", ".DS_Store", "*~", "*.egg-info"]}' \
           '"LabApp": {"default_url": "/lab/tree/notebooks"}' '"JupyterNotebookApp": {"default_url": "/tree/notebooks"}')
    [[ $(cat "$file" 2>/dev/null || true) == "$text" ]] && return 0
    mkdir -p "$(dirname "$file")" && printf '%s\n' "$text" > "$file"
}
jupyter_config
mkdir -p scratch                    # notebooks of one's own: git-ignored, never read by the build

exec "$VENV/bin/python" -m reportbuild "$@"
