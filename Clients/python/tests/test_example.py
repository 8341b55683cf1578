"""The example script and the python -m lethe command line, run as a user would."""

import json
import os
import subprocess
import sys

import lethe
from support import DaemonTestCase, socket_path

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.dirname(HERE)
EXAMPLE = os.path.join(PACKAGE, "examples", "compare_table.py")


def run(args, **kwargs):
    env = dict(os.environ, PYTHONPATH=PACKAGE)
    return subprocess.run([sys.executable] + args, capture_output=True, text=True, timeout=120, env=env, **kwargs)


class ExampleTests(DaemonTestCase):
    def test_compare_table_runs_to_completion(self):
        done = run([EXAMPLE, "--socket", socket_path(), "--data", self.data_dir, "--classes", "3",
                    "--epochs", "1", "--hidden", "8", "--methods", "finetune,ssd"])
        self.assertEqual(done.returncode, 0, done.stderr)
        lines = done.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["method", "retain", "acc", "forget", "acc", "test", "acc", "MIA",
                                            "MIA-efficacy", "avg", "gap", "seconds"])
        self.assertTrue(set(lines[1]) <= {"-", " "})
        rows = [line.split() for line in lines[2:6]]
        self.assertEqual([row[0] for row in rows], ["none", "retrain", "finetune", "ssd"])
        for row in rows:
            self.assertEqual(len(row), 8)
            for cell in row[1:4] + row[5:6]:
                self.assertTrue(cell.endswith("%") and 0 <= float(cell[:-1]) <= 100, cell)
        self.assertEqual(rows[1][6], "0.00")  # retrain's gap to itself
        # columns are aligned: every line as wide as the header
        self.assertEqual({len(line) for line in lines[:6]}, {len(lines[0])})
        self.assertIn("train", done.stderr)  # progress went to standard error
        # it cleaned up after itself
        status = self.client.status()
        self.assertFalse([m for m in status["models"] if m.startswith("example-")])
        self.assertFalse([d for d in status["datasets"] if d.startswith("example-")])


class CommandLineTests(DaemonTestCase):
    def test_python_m_lethe(self):
        done = run(["-m", "lethe", "--socket", socket_path(), "split/create",
                    json.dumps({"dataset": self.dataset, "forget": {"count": 5}, "name": "cli-split"})])
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(json.loads(done.stdout)["forget"], 5)
        failed = run(["-m", "lethe", "--socket", socket_path(), "model/info", '{"model": "no-such"}'])
        self.assertEqual(failed.returncode, 1)
        self.assertEqual(json.loads(failed.stderr)["code"], 1)
        self.client.delete_split("cli-split")
