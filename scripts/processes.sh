# Bounded waits on processes, for the scripts that start brokers, servers
# and test suites. Source it.
#
# stop_pids GRACE PID...: sends SIGTERM to each PID (-PGID: a whole process
# group), gives them GRACE seconds (all together) to exit, then sends
# SIGKILL to the ones left and reaps them. A process stuck in its own signal
# handler cannot hold the caller up for longer than GRACE seconds.
stop_pids() {
    local grace=$1 pid deadline
    shift
    (($#)) || return 0
    kill -TERM -- "$@" 2>/dev/null || true
    deadline=$(($(_now_us) + grace * 1000000))
    for pid in "$@"; do
        while _alive "$pid" && (($(_now_us) < deadline)); do
            sleep 0.1
        done
        kill -KILL -- "$pid" 2>/dev/null || true
        # Dead now, so this returns at once (`wait` ignores what is not our
        # own child).
        [[ $pid == -* ]] || wait "$pid" 2>/dev/null || true
    done
}

# within SECONDS COMMAND...: runs COMMAND (a program, not a function) under
# timeout(1), in its own process group: SIGTERM to the group after SECONDS,
# SIGKILL WASMQTT_KILL_AFTER (default 30) seconds later. With WASMQTT_DEADLINE (seconds since the epoch) set,
# never past that. A timeout is reported with WASMQTT_STEP, the name of the
# running step, if set.
# Ctrl-C (SIGINT) or SIGTERM stops COMMAND's group too; so does COMMAND
# ending with processes of its group still running. Returns COMMAND's
# status: 124 when it timed out, 137 when it needed SIGKILL.
within() {
    local secs=$1 status=0 start pid traps
    shift
    if [[ -n ${WASMQTT_DEADLINE:-} ]]; then
        local left=$((WASMQTT_DEADLINE - $(date +%s)))
        ((left < secs)) && secs=$left
        if ((secs <= 0)); then
            echo "TIMED OUT: no time left for ${WASMQTT_STEP:-$1}" >&2
            return 124
        fi
    fi
    start=$(date +%s)
    timeout --kill-after="${WASMQTT_KILL_AFTER:-30}s" "$secs" "$@" &
    pid=$!
    traps=$(trap -p INT TERM)
    # timeout(1) passes a signal it gets on to COMMAND's group.
    trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid"; exit 130' INT TERM
    wait "$pid" || status=$?
    trap - INT TERM
    eval "$traps"
    # What COMMAND left behind in its group (a child that ignored SIGTERM,
    # or a server it forgot to stop) goes too.
    stop_pids "${WASMQTT_KILL_AFTER:-30}" "-$pid"
    if ((status == 124 || (status == 137 && $(date +%s) - start >= secs))); then
        echo "TIMED OUT: ${WASMQTT_STEP:-$*} did not finish within ${secs}s" >&2
    fi
    return "$status"
}

# _alive PID|-PGID: whether the process, or any process of the group, is
# still running (a zombie only waits to be reaped).
_alive() {
    if [[ $1 == -* ]]; then
        ps -e -o pgid=,stat= | awk -v g="${1#-}" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
    else
        kill -0 "$1" 2>/dev/null && [[ $(ps -o stat= -p "$1") != Z* ]]
    fi
}

# Microseconds since the epoch ($SECONDS counts whole seconds only).
_now_us() { echo "${EPOCHREALTIME//[!0-9]/}"; }
