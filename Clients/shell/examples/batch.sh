#!/usr/bin/env bash
# The whole load, split, create, train, evaluate workflow as one --batch: jq writes one request per line, lethe-rpc
# sends them one after the other over one connection and prints one result line per request, in order.
# Usage: batch.sh [DATA_DIR] (default: a tiny synthetic dataset; CLASSES env as in train.sh)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v lethe-rpc >/dev/null || PATH="$here/..:$PATH"
data=${1:-}
if [[ -z $data ]]; then
    data=$(mktemp -d)
    trap 'rm -rf "$data"' EXIT
    "$here/tiny-idx.sh" "$data" 120 60 7
    classes=${CLASSES:-3}
else
    classes=${CLASSES:-10}
fi

lethe-rpc model/delete name=batch-mlp >/dev/null 2>&1 || true # re-runnable

jq -nc --arg data "$data" --argjson classes "$classes" '
    {method: "dataset/load", params: {name: "batch", path: $data, classes: $classes}},
    {method: "split/create", params: {dataset: "batch", forget: {fraction: 0.1}}},
    {method: "model/create", params: {name: "batch-mlp", dataset: "batch", architecture: {kind: "mlp", hidden: [16]}}},
    {method: "model/train", params: {model: "batch-mlp", dataset: "batch", epochs: 3}},
    {method: "evaluate", params: {model: "batch-mlp", split: "batch-split"}}' |
    lethe-rpc --batch --stop-on-error |
    jq -sr '"loaded \(.[0].trainCount) examples, forget set \(.[1].forget), \(.[2].parameterCount) parameters, trained to \(.[3].accuracy), test accuracy \(.[4].test.accuracy)"'
