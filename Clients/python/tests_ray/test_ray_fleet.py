"""lethe.ray on a local Ray cluster (ray.init(num_cpus=2)): fleets trained through Ray tasks, each on a daemon the task
starts, are bit for bit the fleets one daemon trains with the same seeds at one thread per member, and epsilon and
LiRA on them give the same numbers without training anything; a task lost after its work is retried by Ray and its
members are counted once; a node whose data differs is refused before it trains.

Run through Clients/python/ray-check.sh (``make scale-check``), which provides a Python with Ray, exports LETHED and
puts this package on PYTHONPATH.
"""

import os
import shutil
import sys
import tempfile
import unittest

import ray

import lethe
import lethe.ray

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from support import write_tiny_dataset  # noqa: E402

LETHED = os.environ["LETHED"]
SPLIT = {"forget": {"count": 24}, "seed": 2}
UNLEARN = {"method": "finetune", "hyperparameters": {"epochs": 1}}


def start(directory, name):
    """A private daemon (two threads, as the local Ray cluster has) and a client on it."""
    path = os.path.join(directory, name, "lethed.sock")
    lethe.start_daemon(path, lethed=LETHED, args=["--threads", "2", "--state-dir", os.path.join(directory, name, "state")])
    return lethe.Client(path, timeout=300)


def set_up(client, data_dir, model_seed=1):
    """The same dataset files, split and trained model as on every other daemon here."""
    client.load_dataset("d", data_dir, classes=3)
    client.create_split("d", name="s", count=24, seed=2)
    client.create_model("m", "mlp", "d", hidden=[16], seed=model_seed)
    client.train("m", "d", epochs=2, batch_size=16, lr=0.05)


def stop(client):
    try:
        client.shutdown()
    except lethe.LetheError:
        pass
    client.close()


class RayFleetTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="lethe-ray-test-")
        cls.data = os.path.join(cls.tmp, "data")
        os.mkdir(cls.data)
        write_tiny_dataset(cls.data, train=240, test=120)
        cls.lost = os.path.join(cls.tmp, "lost")
        os.mkdir(cls.lost)
        # Workers import this package from PYTHONPATH.
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                 runtime_env={"env_vars": {"PYTHONPATH": os.environ.get("PYTHONPATH", ""), "LETHED": LETHED}})
        cls.worker_socket = os.path.join(cls.tmp, "worker", "lethed.sock")
        cls.worker_args = ["--state-dir", os.path.join(cls.tmp, "worker", "state")]

    @classmethod
    def tearDownClass(cls):
        try:
            stopped = lethe.ray.stop_daemons(cls.worker_socket)
            assert stopped == 1, "stop_daemons stopped {} daemons, not the node's one".format(stopped)
            assert lethe.ray.stop_daemons(cls.worker_socket) == 0, "a second stop_daemons finds none"
        finally:
            ray.shutdown()
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def train_over_ray(self, client, kind, count, **options):
        return lethe.ray.train_fleet(client, kind, "m", "s", count, dataset={"path": self.data, "classes": 3},
                                     split_params=SPLIT, worker_socket=self.worker_socket, lethed=LETHED,
                                     lethed_args=self.worker_args, **options)

    def test_a_fleet_trained_through_ray_is_the_fleet_one_daemon_trains(self):
        reference = start(self.tmp, "reference")
        coordinator = start(self.tmp, "coordinator")
        try:
            for c in (reference, coordinator):
                set_up(c, self.data)
            eps_params = dict(kind="epsilon", models=4, **UNLEARN)
            expected_eps = reference.attack("m", "s", **eps_params)
            expected_lira = reference.attack("m", "s", kind="lira", shadows=4)

            seen = []
            results = {
                "retrained": self.train_over_ray(coordinator, "retrained", 4, progress=lambda done, n: seen.append((done, n))),
                "unlearned": self.train_over_ray(coordinator, "unlearned", 4, members_per_task=2, **UNLEARN),
                "shadow": self.train_over_ray(coordinator, "shadow", 4),
            }
            self.assertEqual(seen[-1], (4, 4))
            for kind, r in results.items():
                self.assertEqual((r["imported"], r["duplicates"], r["held"], r["fleet"]["members"]), (4, 0, 0, 4), kind)
            self.assertEqual(results["unlearned"]["tasks"], 2)

            # Member by member, bit for bit (the bundles carry the float32 bits in base64).
            for kind in ("retrained", "unlearned", "shadow"):
                ref_fleet = next(f for f in reference.fleets() if f["kind"] == kind)
                got = coordinator.call("fleet/export", id=results[kind]["fleet"]["id"])
                want = reference.call("fleet/export", id=ref_fleet["id"])
                self.assertEqual([m["seed"] for m in got["members"]], [0, 1, 2, 3], kind)
                for g, w in zip(got["members"], want["members"]):
                    self.assertEqual(g["logits"], w["logits"], "{} member {}".format(kind, w["seed"]))
                    self.assertEqual(g.get("inMask"), w.get("inMask"))
                    self.assertEqual(g.get("retainAccuracy"), w.get("retainAccuracy"))
                self.assertEqual(got["recipe"], want["recipe"])

            # The attacks read the Ray-trained fleets: nothing trains and the numbers are the same.
            eps = coordinator.attack("m", "s", **eps_params)
            self.assertEqual([f["trained"] for f in eps["fleets"]], [0, 0])
            self.assertEqual(eps["epsilon"], expected_eps["epsilon"])  # F, the per-example epsilons' histogram, the ratios
            self.assertEqual(eps["score"], expected_eps["score"])
            lira = coordinator.attack("m", "s", kind="lira", shadows=4)
            self.assertEqual([f["trained"] for f in lira["fleets"]], [0])
            self.assertEqual(lira["score"], expected_lira["score"])
            self.assertEqual(lira["roc"], expected_lira["roc"])

            # Training the fleet again through Ray sends nothing: the coordinator holds every member. Sent anyway
            # (skip_held=False), every member comes back as a duplicate and is counted once.
            again = self.train_over_ray(coordinator, "retrained", 4, members_per_task=2)
            self.assertEqual((again["tasks"], again["held"], again["imported"], again["fleet"]["members"]), (0, 4, 0, 4))
            resent = self.train_over_ray(coordinator, "retrained", 4, members_per_task=2, skip_held=False)
            self.assertEqual((resent["tasks"], resent["imported"], resent["duplicates"], resent["fleet"]["members"]), (2, 0, 4, 4))
            more = self.train_over_ray(coordinator, "shadow", 4, members_per_task=2)
            self.assertEqual((more["tasks"], more["held"]), (0, 4))
        finally:
            stop(reference)
            stop(coordinator)

    def test_a_task_lost_after_its_work_is_retried_and_counted_once(self):
        coordinator = start(self.tmp, "coordinator-retry")
        try:
            set_up(coordinator, self.data)
            env = {"PYTHONPATH": os.environ.get("PYTHONPATH", ""), "LETHE_RAY_LOSE_FIRST_ATTEMPT": self.lost}
            r = self.train_over_ray(coordinator, "retrained", 4, seed=10, members_per_task=2, runtime_env={"env_vars": env})
            self.assertEqual(sorted(os.listdir(self.lost)), ["share-10-11", "share-12-13"], "both first attempts were lost")
            self.assertEqual((r["imported"], r["duplicates"], r["fleet"]["members"]), (4, 0, 4))
            self.assertEqual(r["fleet"]["seeds"], [10, 11, 12, 13])
        finally:
            stop(coordinator)

    def test_a_share_no_node_can_hold_is_refused_at_once(self):
        # Four members side by side at one thread each need 4 CPUs on one node; this cluster's node has 2. Ray would
        # wait for such a node for ever; train_fleet says so before it asks the coordinator anything (client None).
        with self.assertRaises(ValueError) as raised:
            lethe.ray.train_fleet(None, "retrained", "m", "s", 8, dataset={}, split_params={}, members_per_task=4)
        self.assertIn("4 CPUs", str(raised.exception))

    def test_a_node_with_other_data_is_refused_before_it_trains(self):
        coordinator = start(self.tmp, "coordinator-foreign")
        other = os.path.join(self.tmp, "other-data")
        os.mkdir(other)
        write_tiny_dataset(other, train=240, test=120, seed=7)
        try:
            set_up(coordinator, self.data)
            with self.assertRaises(ray.exceptions.RayTaskError) as raised:
                lethe.ray.train_fleet(coordinator, "retrained", "m", "s", 2, dataset={"path": other, "classes": 3},
                                      split_params=SPLIT, worker_socket=os.path.join(self.tmp, "foreign", "lethed.sock"),
                                      lethed=LETHED, lethed_args=["--state-dir", os.path.join(self.tmp, "foreign", "state")])
            self.assertIn("same dataset files", str(raised.exception))
            self.assertEqual(coordinator.fleets(), [], "nothing imported")
            with lethe.Client(os.path.join(self.tmp, "foreign", "lethed.sock")) as node:
                self.assertEqual(node.fleets(), [], "the node trained nothing")
                node.shutdown()
        finally:
            stop(coordinator)


if __name__ == "__main__":
    unittest.main()
