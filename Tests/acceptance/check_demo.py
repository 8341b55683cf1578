#!/usr/bin/env python3
"""Acceptance check of `lethe demo --json` (issue 2's done-when):
the retrained model's forget accuracy is within 2 points of its test accuracy, and the original model's forget
accuracy is higher than the retrained one's. Reads the demo's JSON on stdin."""
import json
import sys

report = json.load(sys.stdin)
rows = {r["model"]: r for r in report["rows"]}
checks = []
keys = {"model", "retainAccuracy", "forgetAccuracy", "testAccuracy", "mia", "seconds"}
checks.append(("three rows: original, finetune, retrain", sorted(rows) == ["finetune", "original", "retrain"]))
checks.append(("every row has exactly the documented fields", all(set(r) == keys for r in report["rows"])))
re = rows.get("retrain", {})
orig = rows.get("original", {})
gap = abs(re.get("forgetAccuracy", 0) - re.get("testAccuracy", 1))
checks.append((f"retrain: |forget acc - test acc| = {gap * 100:.2f} points <= 2", gap <= 0.02))
checks.append((f"original forget acc {orig.get('forgetAccuracy', 0):.4f} > retrain forget acc {re.get('forgetAccuracy', 1):.4f}",
               orig.get("forgetAccuracy", 0) > re.get("forgetAccuracy", 1)))
checks.append(("accuracies and MIA scores are in [0, 1]",
               all(0 <= r[k] <= 1 for r in report["rows"] for k in ("retainAccuracy", "forgetAccuracy", "testAccuracy", "mia"))))
failed = 0
for name, ok in checks:
    print(("ok   " if ok else "FAIL ") + name)
    failed += not ok
print(f"{len(checks) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
