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
# step fails.  While a step runs, its line shows the seconds so far and
# the step's latest line of output (on a terminal), or a line every 15 s
# says it is still running (in a log or pipe; REPORT_PROGRESS_EVERY=N
# makes that every N seconds, here and for the notebooks).  Ctrl-C during
# setup stops it with one line and exit status 130.  All options go to
# `python -m reportbuild`, which checks them; see ./build_report.sh --help.
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
    local what=$1 t0=$SECONDS outcome=done shown=0
    shift
    mkdir -p "$(dirname "$LOG")"
    LOG_START=$(( $(wc -l 2>/dev/null < "$LOG" || echo 0) + 1 ))
    printf '### %s: %s\n' "$what" "$*" >> "$LOG"
    if [[ -t 1 ]]; then
        # A line that fits, since a wrapped one cannot be rewritten in place.
        local width=100
        { width=$(stty size <&3 2>/dev/null || true); } 3>&1
        width=${width#* }
        [[ $width =~ ^[0-9]+$ ]] && ((width >= 40 && width <= 100)) || width=100
        HEAD="==> ${what% (*}"          # without its "(a minute or two)"
        ((${#HEAD} <= width - 20)) || { HEAD=${HEAD:0:width-19}; HEAD=${HEAD% *}; }   # whole words
        HEAD="$HEAD ... " WIDTH=$width
    else
        HEAD="==> $what ... "
    fi
    printf '%s' "$HEAD"
    STEP=$what
    show_progress "$t0" &
    TICKER=$!
    # In the foreground, so that Ctrl-C reaches the command (and the trap below runs after it).
    "$@" >> "$LOG" 2>&1 || outcome=failed
    stop_progress || shown=1
    STEP=
    if [[ -t 1 ]]; then
        printf '\r\033[K==> %s ... ' "$what"    # the whole line, now that nothing rewrites it
    elif ((shown)); then
        printf '%s' "$HEAD"                    # the progress lines ended the first one
    fi
    printf '%s (%d s)\n' "$outcome" $((SECONDS - t0))
    [[ $outcome == done ]]
}
# show_progress T0 (in the background while a step runs): on a terminal,
# rewrite the step's line ($HEAD) every second with the seconds so far and
# the latest line of its output, cut to $WIDTH columns; in a log, a line
# every $EVERY seconds.  Exits 1 when it wrote anything.
EVERY=${REPORT_PROGRESS_EVERY:-15}
EVERY=${EVERY%%.*}                  # whole seconds, at least 1
[[ $EVERY =~ ^[0-9]+$ ]] || EVERY=15
((EVERY > 0)) || EVERY=1
show_progress() {
    local t0=$1 stop=0 shown=0 next=$EVERY t latest line
    trap 'stop=1' TERM
    while ((!stop)); do
        sleep 1 &
        wait $! || true         # returns at once when stop_progress signals
        ((stop)) && break
        t=$((SECONDS - t0))
        latest=$(tail -n +"$((LOG_START + 1))" "$LOG" 2>/dev/null | tr '\r' '\n' | grep -v '^[[:space:]]*$' \
                 | tail -n 1 | tr -s '[:space:]' ' ' | tr -cd '[:print:]' || true)
        latest=${latest# } latest=${latest% }
        if [[ -t 1 ]]; then
            ((t >= 2)) || continue
            line="$HEAD$t s${latest:+: $latest}"
            printf '\r%s\033[K' "${line:0:WIDTH-1}"
            shown=1
        elif ((t >= next)); then
            ((shown)) || printf '\n'    # ends the step's line
            line="    still running after $t s${latest:+: $latest}"
            printf '%s\n' "${line:0:99}"
            shown=1 next=$((t - t % EVERY + EVERY))
        fi
    done
    kill $! 2>/dev/null || true     # the last sleep
    exit $shown
}
# Stop the progress of the step (if any); false when it wrote anything.
stop_progress() {
    [[ -n ${TICKER:-} ]] || return 0
    local ticker=$TICKER status=0
    TICKER=
    kill -TERM "$ticker" 2>/dev/null || true
    wait "$ticker" || status=$?
    ((status != 1))             # (143: stopped before it set its trap, having written nothing)
}
show_log() {
    printf -- '--- the output of that step (the last 80 lines; all of it is in %s) ---\n' "$LOG" >&2
    tail -n +"$LOG_START" "$LOG" | tail -n 80 >&2
}
# Ctrl-C during setup: the command in the foreground has stopped (it got
# the Ctrl-C too); say so in one line instead of the step's log.
interrupted() {
    local shown=0
    stop_progress || shown=1
    if [[ -n ${STEP:-} ]]; then
        if [[ -t 1 ]]; then printf '\r\033[K'; elif ((!shown)); then printf '\n'; fi
    fi
    printf 'interrupted during setup%s; nothing was built; run ./build_report.sh again\n' \
        "${STEP:+ (${STEP% (*})}" >&2
    exit 130
}
trap interrupted INT
STEP=

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
