#!/usr/bin/env bash
# Loads a dataset, makes a forget split, creates a small MLP and trains it with progress on stderr.
# Usage: train.sh [DATA_DIR]
#   DATA_DIR: an MNIST-style IDX directory (default: a tiny synthetic one, written by tiny-idx.sh)
#   NAME (env, default "tiny"): the dataset is NAME, the split NAME-split, the model NAME-mlp
#   CLASSES (env): the dataset's classes (default 3 for the tiny dataset, else 10); EPOCHS (env, default 5)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v lethe-rpc >/dev/null || PATH="$here/..:$PATH"
name=${NAME:-tiny}
epochs=${EPOCHS:-5}
data=${1:-}
if [[ -z $data ]]; then
    data=$(mktemp -d)
    trap 'rm -rf "$data"' EXIT
    "$here/tiny-idx.sh" "$data"
    classes=${CLASSES:-3}
else
    classes=${CLASSES:-10}
fi

# key=value params: numbers, true/false and [arrays] go as JSON, anything else as a string.
lethe-rpc dataset/load name="$name" path="$data" classes="$classes" | jq -c '{name, trainCount, testCount, exampleShape}'

# A dotted key builds a nested object: forget.count=20 sends {"forget": {"count": 20}}.
lethe-rpc split/create dataset="$name" forget.count=20 | jq -c '{name, retain, forget, validation, test}'

# Re-runnable: drop the model an earlier run left (error 1, ignored, when there is none).
lethe-rpc model/delete name="$name-mlp" >/dev/null 2>&1 || true

# Params as one JSON object on stdin, built by jq.
jq -n --arg n "$name" '{name: "\($n)-mlp", dataset: $n, architecture: {kind: "mlp", hidden: [32]}}' |
    lethe-rpc model/create - | jq -c '{name, parameterCount}'

# --progress prints each $/progress value to stderr as one JSON line as it arrives; here jq makes them readable
# (lines that are not JSON, such as an error message, pass through unchanged).
lethe-rpc --progress model/train model="$name-mlp" dataset="$name" epochs="$epochs" lr=0.1 \
    2> >(jq -Rr --unbuffered '(fromjson? | "  epoch \(.epoch)/\(.epochs)  loss \(.loss * 1e4 | round / 1e4)  accuracy \(.accuracy)") // .' >&2) |
    jq -c '{model, epochs, accuracy, fingerprint}'
