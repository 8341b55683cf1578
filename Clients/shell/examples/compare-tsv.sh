#!/usr/bin/env bash
# Compares unlearning methods against retrain and prints the table as TSV (jq's @tsv), one row per method:
# means over the seeds (time: seconds as a fraction of retrain's).
# Usage: compare-tsv.sh [MODEL [SPLIT]]   (default: tiny-mlp and tiny-split, as train.sh makes them)
#   METHODS (env, JSON array, default ["finetune","neggrad+","random-labels"]); SEEDS (env, default [0,1])
#   Align the columns with:  compare-tsv.sh | column -t -s $'\t'
set -euo pipefail
command -v lethe-rpc >/dev/null || PATH="$(cd "$(dirname "$0")/.." && pwd):$PATH"
model=${1:-tiny-mlp}
split=${2:-tiny-split}
methods=${METHODS:-'["finetune","neggrad+","random-labels"]'}

# key:=json sends the value as JSON; one epoch per method keeps it quick.
lethe-rpc compare model="$model" split="$split" methods:="$methods" seeds:="${SEEDS:-[0,1]}" \
    hyperparameters:="$(jq -cn --argjson m "$methods" '[$m[], "retrain"] | map({(.): {epochs: 1}}) | add')" |
    jq -r '
        def r: if type == "object" then .mean else . end | if type == "number" then . * 1000 | round / 1000 else . end;
        ["method", "retain", "forget", "test", "UA", "MIA", "gap", "time"],
        (.rows[] | [.method, .retainAccuracy, .forgetAccuracy, .testAccuracy, .unlearningAccuracy, .mia, .averageGap,
                    .timeFraction] | map(r))
        | @tsv'
