#!/usr/bin/env bash
# Tests lethe-rpc against a real, private lethed.
#
#   Clients/shell/tests/run-tests.sh LETHED_DIR     (the directory holding lethed, e.g. .build/release;
#                                                    a path to the lethed binary itself works too)
#
# Starts lethed --threads 1 on a socket in a fresh temporary directory (removed, and lethed stopped, on exit),
# writes a tiny IDX dataset, and runs the cases below; every case talks to the daemon and checks what it did.
# LETHE_RPC=path tests another copy of lethe-rpc (the examples then use it too).
# Prints PASS/FAIL lines, then "N passed, M failed"; exits 1 when a case failed.
# shellcheck disable=SC2016,SC2034 # conditions are single-quoted bash code, eval'd by check with these variables
set -u

here=$(cd "$(dirname "$0")" && pwd)
shell_dir=$(dirname "$here")
rpc=${LETHE_RPC:-$shell_dir/lethe-rpc}
arg=${1:-}
if [[ -z $arg ]]; then
    echo "usage: $0 LETHED_DIR" >&2
    exit 64
fi
if [[ -d $arg ]]; then lethed=$arg/lethed; else lethed=$arg; fi
if [[ ! -x $lethed ]]; then
    echo "$0: no lethed executable at $lethed" >&2
    exit 64
fi
for tool in socat jq; do
    command -v "$tool" >/dev/null || { echo "$0: needs $tool" >&2; exit 1; }
done
exec </dev/null # lethe-rpc reads params from a non-terminal stdin: give it an empty one

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lethe-rpc-tests.XXXXXX")
sock=$tmp/lethed.sock
daemon_pid="" bg_pids=()
cleanup() {
    local p
    for p in "${bg_pids[@]}"; do kill -KILL -- "-$p" 2>/dev/null; done
    if [[ -n $daemon_pid ]]; then
        kill -TERM "$daemon_pid" 2>/dev/null
        wait "$daemon_pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

started=$(date +%s.%N)
"$lethed" --socket "$sock" --state-dir "$tmp/state" --threads 1 2>"$tmp/lethed.log" &
daemon_pid=$!
for _ in $(seq 100); do [[ -S $sock ]] && break; sleep 0.1; done
if [[ ! -S $sock ]]; then
    echo "FAIL  lethed did not create its socket $sock within 10 s:"
    cat "$tmp/lethed.log"
    echo "0 passed, 1 failed"
    exit 1
fi
export LETHE_SOCKET=$sock
mkdir -p "$tmp/bin"
ln -s "$rpc" "$tmp/bin/lethe-rpc"
export PATH="$tmp/bin:$PATH" # the examples find the lethe-rpc under test first
"$shell_dir/examples/tiny-idx.sh" "$tmp/tiny" 200 100 1

# ---------------------------------------------------------------------------------------------- helpers

passed=0 failed=0
out="" err="" rc=0

# run ARGS...: runs lethe-rpc ARGS, capturing out, err and rc (a lethe-rpc that hangs is stopped after 30 s).
run() {
    timeout --preserve-status -k 2 30 "$rpc" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    out=$(<"$tmp/out") err=$(<"$tmp/err")
}

# check NAME CONDITION: CONDITION is bash code (eval'd); on failure, shows rc, stdout and stderr.
check() {
    if eval "$2"; then
        passed=$((passed + 1))
        printf 'PASS  %s\n' "$1"
    else
        failed=$((failed + 1))
        printf 'FAIL  %s\n      condition: %s\n      rc=%s\n      stdout: %s\n      stderr: %s\n' \
            "$1" "$2" "$rc" "${out:0:400}" "${err:0:400}"
    fi
}

# jqt FILTER: the last stdout is JSON for which FILTER is true.
jqt() { jq -e "$1" >/dev/null 2>&1 <<<"$out"; }

one_line() { [[ -n $out && $(wc -l <<<"$out") -eq 1 ]]; }

# status_field FILTER: FILTER applied to a fresh server/status (compact).
status_field() { "$rpc" -n server/status | jq -c "$1"; }

# wait_for_job METHOD: waits (10 s at most) until server/status lists a running METHOD job.
wait_for_job() {
    local _
    for _ in $(seq 100); do
        [[ $(status_field "[.jobs[] | select(.method == \"$1\")] | length") -gt 0 ]] && return 0
        sleep 0.1
    done
    return 1
}

# bg COMMAND...: starts COMMAND in the background in a process group of its own, as a terminal runs a job (so
# `kill -INT -- -$pg` is Ctrl-C, and SIGINT is not ignored as it is for plain `&` jobs of a script); sets pg.
bg() {
    set -m
    "$@" &
    pg=$!
    set +m
    bg_pids+=("$pg")
}

# finish PID SECONDS: waits until the background job PID has exited and sets rc to its status; after SECONDS,
# kills its process group (rc 137 then).
finish() {
    local i
    for ((i = 0; i < $2 * 20; i++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$1" 2>/dev/null && kill -KILL -- "-$1" 2>/dev/null
    wait "$1"
    rc=$?
}

# ---------------------------------------------------------------------------------------------- cases

# Default socket resolution, as the lethe CLI does it: --socket, $LETHE_SOCKET, $XDG_RUNTIME_DIR, /tmp/lethe-<uid>.
uid=$(id -u)
run --print-socket --socket /x/given.sock
check "socket: --socket wins" '[[ $out == /x/given.sock ]]'
out=$(LETHE_SOCKET=/x/env.sock XDG_RUNTIME_DIR=/x/run "$rpc" --print-socket)
check "socket: \$LETHE_SOCKET before \$XDG_RUNTIME_DIR" '[[ $out == /x/env.sock ]]'
out=$(LETHE_SOCKET='' XDG_RUNTIME_DIR=/x/run "$rpc" --print-socket)
check "socket: \$XDG_RUNTIME_DIR/lethe/lethed.sock when LETHE_SOCKET is empty" '[[ $out == /x/run/lethe/lethed.sock ]]'
out=$(env -u LETHE_SOCKET -u XDG_RUNTIME_DIR "$rpc" --print-socket)
check "socket: /tmp/lethe-<uid>/lethed.sock when neither is set" '[[ $out == /tmp/lethe-$uid/lethed.sock ]]'
out=$(env -u LETHE_SOCKET XDG_RUNTIME_DIR= "$rpc" --print-socket)
check "socket: an empty XDG_RUNTIME_DIR counts as unset" '[[ $out == /tmp/lethe-$uid/lethed.sock ]]'
mkdir -p "$tmp/xdg/lethe"
ln -s "$sock" "$tmp/xdg/lethe/lethed.sock"
out=$(env -u LETHE_SOCKET XDG_RUNTIME_DIR="$tmp/xdg" "$rpc" -n server/status | jq -r .pid)
check "socket: without --socket or LETHE_SOCKET it reaches the daemon at \$XDG_RUNTIME_DIR/lethe/lethed.sock" \
    '[[ $out == "$daemon_pid" ]]'

# The result on stdout.
run server/status
check "server/status: exit 0, the result on stdout as one line of JSON (stdout is not a terminal), stderr empty" \
    '[[ $rc == 0 && -z $err ]] && one_line && jqt ".version == \"0.1.0\" and .pid == $daemon_pid and .threads == 1"'
run -p server/status
check "--pretty: indented over several lines" '[[ $rc == 0 && $(wc -l <<<"$out") -gt 5 ]] && jqt ".jobs == []"'

# Params as key=value pairs, JSON, stdin.
run dataset/load name=tiny path="$tmp/tiny" classes=3
check "key=value params: dataset/load reads the tiny dataset (numbers sent as numbers)" \
    '[[ $rc == 0 ]] && jqt ".name == \"tiny\" and .trainCount == 200 and .testCount == 100 and .classCount == 3"'
run split/create '{"dataset": "tiny", "forget": {"count": 20}}'
check "JSON object params: split/create" '[[ $rc == 0 ]] && jqt ".name == \"tiny-split\" and .forget == 20 and .retain == 180"'
run split/create dataset=tiny forget.fraction=0.25 name==s2
check "dotted key=value builds a nested object (forget.fraction)" '[[ $rc == 0 ]] && jqt ".name == \"s2\" and .forget == 50"'
run model/create name=m dataset=tiny architecture.kind=mlp architecture.hidden:='[16]'
check "key:=json and dotted keys: model/create of an mlp [16]" \
    '[[ $rc == 0 ]] && jqt ".name == \"m\" and .architecture.hidden == [16] and .parameterCount == 1091"'
out=$(jq -n '{model: "m"}' | "$rpc" model/info -)
check "stdin params with '-': jq -n ... | lethe-rpc model/info -" '[[ $(jq -r .name <<<"$out") == m ]]'
out=$(printf '{\n  "model": "m"\n}\n' | "$rpc" model/info)
check "stdin params without '-' when stdin is not a terminal (pretty-printed JSON is fine)" \
    '[[ $(jq -r .parameterCount <<<"$out") == 1091 ]]'
out=$(printf '{"model": "nope"}' | "$rpc" model/info - model=m)
check "key=value after '-' overrides stdin's fields" '[[ $(jq -r .name <<<"$out") == m ]]'
out=$(printf '{"model": "m"}' | "$rpc" -n server/status 2>&1)
check "-n: stdin is not read" '[[ $(jq -r .version <<<"$out") == 0.1.0 ]]'
run model/info model=123
check "key=value guesses JSON: model=123 is a number, which the daemon refuses (-32602)" \
    '[[ $rc == 2 && $err == *"-32602"* && $err == *"'"'"'model'"'"'"* ]]'
run model/info model==123
check "key==string forces a string: model==123 is the model named \"123\" (error 1, not found)" \
    '[[ $rc == 2 && $err == *"error 1 (not found)"* && $err == *"no model named '"'"'123'"'"'"* ]]'

# JSON-RPC errors: message and code on stderr, exit 2, nothing on stdout unless --error-json.
run lethe/no-such-method
check "unknown method: exit 2, 'error -32601' and the message on stderr, stdout empty" \
    '[[ $rc == 2 && -z $out && $err == *"lethe/no-such-method: error -32601 (method not found): unknown method"* ]]'
run model/train model=m dataset=tiny epochs=2.5
check "bad params: exit 2, -32602 naming the field 'epochs'" \
    '[[ $rc == 2 && -z $out && $err == *"error -32602 (invalid params)"* && $err == *"parameter '"'"'epochs'"'"'"* ]]'
run evaluate model=m
check "missing param: -32602 naming 'split'" '[[ $rc == 2 && $err == *"-32602"* && $err == *"'"'"'split'"'"'"* ]]'
run -e model/train model=m dataset=tiny bogus=1
check "--error-json: the error object on stdout too" \
    '[[ $rc == 2 ]] && jqt ".code == -32602 and .message == \"unknown parameter '"'"'bogus'"'"'\""'
run -e evaluate model=nope split=tiny-split
check "error 1 with data: exit 2, data shown on stderr and in the error object" \
    '[[ $rc == 2 && $err == *"error 1 (not found)"* && $err == *"\"kind\":\"model\""* ]] && jqt ".data.name == \"nope\""'

# Usage errors: 64.
run
check "usage: no METHOD is exit 64" '[[ $rc == 64 && $err == *"no METHOD"* ]]'
run --no-such-option server/status
check "usage: an unknown option is exit 64" '[[ $rc == 64 && $err == *"unknown option"* ]]'
run model/info '[1, 2]'
check "usage: params that are not a JSON object are exit 64" '[[ $rc == 64 && $err == *"JSON object"* ]]'
run model/info model
check "usage: a PARAMS word without = is exit 64" '[[ $rc == 64 && $err == *"key=value"* ]]'
run model/info 'model:={'
check "usage: key:= with bad JSON is exit 64" '[[ $rc == 64 && $err == *"not JSON"* ]]'
out=$(printf '{"model": "m"} {"model": "m"}' | "$rpc" model/info 2>"$tmp/err")
rc=$? err=$(<"$tmp/err")
check "usage: several JSON values on stdin are exit 64" '[[ $rc == 64 && $err == *"several"* ]]'
run --timeout soon server/status
check "usage: a --timeout that is not a number is exit 64" '[[ $rc == 64 ]]'
run --help
check "--help: exit 0, documents the exit statuses" '[[ $rc == 0 && $out == *"Exit status"* && $out == *"130"* ]]'
run --version
check "--version" '[[ $rc == 0 && $out == "lethe-rpc 0.1.0" ]]'

# Daemon unavailable: 3, with the socket and how to start lethed; closed connection: 4.
run --socket "$tmp/nobody/lethed.sock" server/status
check "no daemon (no socket file): exit 69, names the socket and how to start lethed" \
    '[[ $rc == 69 && -z $out && $err == *"cannot reach lethed at $tmp/nobody/lethed.sock"* && $err == *"lethed --socket $tmp/nobody/lethed.sock"* ]]'
: >"$tmp/not-a-socket"
run --socket "$tmp/not-a-socket" server/status
check "no daemon (a file that nobody listens on): exit 69" '[[ $rc == 69 && $err == *"cannot reach lethed"* ]]'
# A "daemon" that reads the request and hangs up without answering.
socat "UNIX-LISTEN:$tmp/rude.sock" SYSTEM:'head -n 1 >/dev/null' 2>/dev/null &
rude=$!
for _ in $(seq 50); do [[ -S $tmp/rude.sock ]] && break; sleep 0.05; done
run --socket "$tmp/rude.sock" server/status
check "connection closed before the reply: exit 74, says so" '[[ $rc == 74 && $err == *"closed the connection"* ]]'
kill "$rude" 2>/dev/null
wait "$rude" 2>/dev/null

# --progress: progress values on stderr, one JSON line each, while the job runs.
run --progress model/train model=m dataset=tiny epochs=3
check "--progress: model/train prints 3 progress values (stage train, epochs 1..3) on stderr, the result on stdout" \
    '[[ $rc == 0 ]] && jqt ".epochs == 3" && [[ $(jq -sc "map(select(.stage == \"train\") | .epoch)" <<<"$err") == "[1,2,3]" ]]'
run model/train model=m dataset=tiny epochs=2
check "without --progress: nothing on stderr" '[[ $rc == 0 && -z $err ]]'
run --progress evaluate model=m split=tiny-split
check "--progress with a method that takes no workDoneToken: says so, sends none, succeeds" \
    '[[ $rc == 0 && $err == *"takes no workDoneToken"* ]] && jqt ".test.count == 50"'
# Streaming: progress shows up while the request is still running (a slow, long train), then Ctrl-C.
bg "$rpc" --progress model/train model=m dataset=tiny epochs=100000 batchSize=4 >"$tmp/p.out" 2>"$tmp/p.err"
lines=0
for _ in $(seq 100); do
    lines=$(grep -c '"stage":"train"' "$tmp/p.err")
    ((lines >= 2)) && break
    sleep 0.05
done
alive=no
kill -0 "$pg" 2>/dev/null && alive=yes
out="" err=$(<"$tmp/p.err") rc=""
check "--progress: values reach stderr as they arrive, while model/train still runs" '[[ $lines -ge 2 && $alive == yes ]]'
kill -INT -- "-$pg" 2>/dev/null
finish "$pg" 10
check "--progress then Ctrl-C: exit 130" '[[ $rc == 130 ]]'

# Ctrl-C (SIGINT to the process group, as a terminal sends it) during a long model/train without progress: only
# $/cancelRequest can stop it (the daemon would not notice a closed connection without progress to send).
before=$("$rpc" model/info model=m | jq -r .fingerprint)
bg "$rpc" model/train model=m dataset=tiny epochs=100000 >"$tmp/int.out" 2>"$tmp/int.err"
running=no
wait_for_job model/train && running=yes
check "SIGINT: the long model/train is running (server/status lists it)" '[[ $running == yes ]]'
t0=$(date +%s%N)
kill -INT -- "-$pg"
finish "$pg" 10
ms=$((($(date +%s%N) - t0) / 1000000))
out=$(<"$tmp/int.out") err=$(<"$tmp/int.err")
check "SIGINT: exit 130 within 5 s, says the request was cancelled (-32800 reply seen)" \
    '[[ $rc == 130 && $ms -lt 5000 && $err == *"cancelling model/train"* && $err == *"was cancelled"* && -z $out ]]'
check "SIGINT: the daemon then reports no running job in server/status" '[[ $(status_field .jobs) == "[]" ]]'
after=$("$rpc" model/info model=m | jq -r .fingerprint)
check "SIGINT: the cancelled train changed nothing (same fingerprint) and the daemon keeps serving" \
    '[[ -n $before && $after == "$before" ]]'
run model/train model=m dataset=tiny epochs=1
check "SIGINT: the model is not left busy: a new model/train succeeds" '[[ $rc == 0 ]] && jqt ".epochs == 1"'

# SIGTERM also cancels before leaving, even sent to the whole process group (as `timeout` and `kill -- -PGID` do).
bg "$rpc" model/train model=m dataset=tiny epochs=100000 >/dev/null 2>"$tmp/term.err"
wait_for_job model/train
kill -TERM -- "-$pg"
finish "$pg" 10
gone=no
for _ in $(seq 50); do [[ $(status_field .jobs) == "[]" ]] && { gone=yes; break; }; sleep 0.1; done
err=$(<"$tmp/term.err")
check "SIGTERM to the process group: exit 143 and the job is cancelled in the daemon" '[[ $rc == 143 && $gone == yes ]]'

# --timeout cancels.
t0=$(date +%s%N)
run --timeout 0.5 model/train model=m dataset=tiny epochs=100000
ms=$((($(date +%s%N) - t0) / 1000000))
check "--timeout 0.5: exit 124 after about 0.5 s, the request cancelled" \
    '[[ $rc == 124 && $ms -ge 450 && $ms -lt 5000 && $err == *"timed out"* && $err == *"cancelled"* ]]'
check "--timeout: no job left running" '[[ $(status_field .jobs) == "[]" ]]'
run --timeout 30 model/info model=m
check "--timeout that does not expire: the result as usual" '[[ $rc == 0 ]] && jqt ".name == \"m\""'

# --batch: one connection, results in order.
batch_in=$(jq -nc '
    {method: "server/status"},
    {method: "model/create", params: {name: "b", dataset: "tiny", architecture: {kind: "mlp", hidden: [8]}}},
    {method: "model/train", params: {model: "b", dataset: "tiny", epochs: 2}},
    {method: "lethe/nope"},
    {method: "model/info", params: {model: "b"}}')
out=$("$rpc" --batch <<<"$batch_in" 2>"$tmp/err")
rc=$? err=$(<"$tmp/err")
check "--batch: one result line per request, in order, an error as {\"error\": ...}; exit 2 as one failed" \
    '[[ $rc == 2 && $(wc -l <<<"$out") == 5 ]] && jq -se ".[0].version == \"0.1.0\" and .[1].name == \"b\" and .[2].epochs == 2 and .[3].error.code == -32601 and .[4].trained == true and .[4].fingerprint == .[2].fingerprint" >/dev/null <<<"$out"'
check "--batch: the failed request is named on stderr" '[[ $err == *"request 4 (lethe/nope): error -32601"* ]]'
out=$("$rpc" --batch --stop-on-error <<<"$batch_in" 2>/dev/null)
rc=$?
check "--batch --stop-on-error: stops at the first error (model/create of an existing 'b')" \
    '[[ $rc == 2 && $(wc -l <<<"$out") == 2 ]] && jq -se ".[1].error.code == 2" >/dev/null <<<"$out"'
out=$(printf '%s\n' '{"method":"model/train","params":{"model":"b","dataset":"tiny","epochs":2}}' '{"method":"server/status"}' |
    "$rpc" --batch --progress 2>"$tmp/err")
rc=$? err=$(<"$tmp/err")
check "--batch --progress: progress of the train on stderr, 2 result lines" \
    '[[ $rc == 0 && $(wc -l <<<"$out") == 2 && $(grep -c "\"stage\":\"train\"" <<<"$err") == 2 ]]'
out=$(echo '{"method": "server/status", "id": 3}' | "$rpc" --batch 2>"$tmp/err")
rc=$? err=$(<"$tmp/err")
check "--batch: a malformed request line is a usage error (64) before anything is sent" '[[ $rc == 64 && $err == *"line 1"* ]]'

# The examples run (in order: train.sh makes what the next ones use).
for example in status train forget-evaluate-attack compare-tsv batch; do
    timeout -k 2 60 "$shell_dir/examples/$example.sh" >"$tmp/ex.out" 2>"$tmp/ex.err"
    rc=$?
    out=$(<"$tmp/ex.out") err=$(<"$tmp/ex.err")
    case $example in
        status) cond='[[ $out == *"lethed 0.1.0, pid $daemon_pid"* ]]' ;;
        train) cond='[[ $(grep -c "epoch [1-5]/5" <<<"$err") == 5 ]] && grep -q "\"model\":\"tiny-mlp\",\"epochs\":5" <<<"$out"' ;;
        forget-evaluate-attack) cond='[[ $out == *"tiny-mlp-finetune: retain"* && $out == *"simple MIA on tiny-mlp-finetune: score"* ]]' ;;
        compare-tsv) cond='[[ $(head -n 1 <<<"$out") == $'"'"'method\tretain\tforget\ttest\tUA\tMIA\tgap\ttime'"'"' ]] && [[ $(cut -f 1 <<<"$out" | tr "\n" " ") == "method none retrain finetune neggrad+ random-labels " ]] && [[ $(awk -F "\t" "{ print NF }" <<<"$out" | sort -u) == 8 ]]' ;;
        batch) cond='[[ $out == "loaded 120 examples, forget set 12, 1091 parameters, trained to "* ]]' ;;
    esac
    check "examples/$example.sh runs" "[[ \$rc == 0 ]] && $cond"
done

# After all that, the daemon still serves and nothing runs.
check "the daemon is still up, with no job running" '[[ $(status_field .jobs) == "[]" ]]'

seconds=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
echo "$passed passed, $failed failed ($seconds s)"
((failed == 0))
