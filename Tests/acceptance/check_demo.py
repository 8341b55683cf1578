#!/usr/bin/env python3
"""Acceptance check of `lethe demo --json` (issues 2, 8 and 9): the rows keep their documented fields (with
MIA-efficacy since issue 9); the original,
finetune and retrain rows are there, with one row per compared method; the retrained model's forget accuracy is
within 2 points of its test accuracy; and in the memorising scenario the original's forget accuracy is at least 5
points above retrain's, so unlearning is measurable. Reads the demo's JSON on stdin."""
import json
import sys

report = json.load(sys.stdin)
rows = {r["model"]: r for r in report["rows"]}
checks = []
keys = {"model", "retainAccuracy", "forgetAccuracy", "testAccuracy", "mia", "miaEfficacy", "seconds"}
names = [r["model"] for r in report["rows"]]
checks.append((f"rows original, retrain, finetune first, then the methods ({', '.join(names)})",
               names[:3] == ["original", "retrain", "finetune"] and len(names) == len(set(names))))
checks.append(("every row has exactly the documented fields", all(set(r) == keys for r in report["rows"])))
re = rows.get("retrain", {})
orig = rows.get("original", {})
gap = abs(re.get("forgetAccuracy", 0) - re.get("testAccuracy", 1))
checks.append((f"retrain: |forget acc - test acc| = {gap * 100:.2f} points <= 2", gap <= 0.02))
lead = orig.get("forgetAccuracy", 0) - re.get("forgetAccuracy", 1)
checks.append((f"original forget acc {orig.get('forgetAccuracy', 0):.4f} is {lead * 100:.2f} points above retrain's "
               f"{re.get('forgetAccuracy', 1):.4f} (>= 5: the original memorises)", lead >= 0.05))
checks.append(("accuracies and MIA scores are in [0, 1]",
               all(0 <= r[k] <= 1 for r in report["rows"] for k in ("retainAccuracy", "forgetAccuracy", "testAccuracy", "mia", "miaEfficacy"))))
failed = 0
for name, ok in checks:
    print(("ok   " if ok else "FAIL ") + name)
    failed += not ok
print(f"{len(checks) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
