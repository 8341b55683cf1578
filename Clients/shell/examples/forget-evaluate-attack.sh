#!/usr/bin/env bash
# Unlearns the forget set, evaluates the model before and after, and attacks the result, picking numbers out
# of the JSON results with jq.
# Usage: forget-evaluate-attack.sh [MODEL [SPLIT]]   (default: tiny-mlp and tiny-split, as train.sh makes them)
#   METHOD (env, default finetune): the unlearning method; EPOCHS (env, default 2)
set -euo pipefail
command -v lethe-rpc >/dev/null || PATH="$(cd "$(dirname "$0")/.." && pwd):$PATH"
model=${1:-tiny-mlp}
split=${2:-tiny-split}
method=${METHOD:-finetune}
out=$model-$method

lethe-rpc model/delete name="$out" >/dev/null 2>&1 || true # re-runnable
lethe-rpc forget model="$model" split="$split" method="$method" hyperparameters.epochs="${EPOCHS:-2}" |
    jq -r '"\(.method): \(.source) -> \(.model) in \(.seconds * 1000 | round) ms, fingerprint \(.fingerprint)"'

# Accuracies of the original and the unlearned model, side by side.
for m in "$model" "$out"; do
    lethe-rpc evaluate model="$m" split="$split" |
        jq -r '"\(.model): retain \(.retain.accuracy)  forget \(.forget.accuracy)  test \(.test.accuracy)  UA \(.unlearningAccuracy)"'
done

# Numbers into shell variables: the attack's score and its chance level.
read -r score chance < <(lethe-rpc attack model="$out" split="$split" kind=simple | jq -r '"\(.score) \(.chanceLevel)"')
verdict=$(awk -v s="$score" -v c="$chance" 'BEGIN { d = s - c; if (d < 0) d = -d; print (d <= 0.1 ? "close to chance" : "away from chance") }')
echo "simple MIA on $out: score $score, chance level $chance ($verdict)"
