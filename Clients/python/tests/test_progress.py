"""$/progress callbacks."""

import lethe
from support import DaemonTestCase, unique


class ProgressTests(DaemonTestCase):
    def test_train_reports_every_epoch(self):
        model = unique("m")
        self.client.create_model(model, "mlp", self.dataset, hidden=[8])
        values = []
        result = self.client.train(model, self.dataset, epochs=3, progress=values.append)
        self.assertEqual([v["step"] for v in values], [1, 2, 3])
        for value in values:
            self.assertEqual(value["stage"], "train")
            self.assertEqual(value["unit"], "epoch")
            self.assertEqual(value["steps"], 3)
            self.assertEqual(value["epochs"], 3)
            self.assertIsInstance(value["loss"], float)
            self.assertGreaterEqual(value["examplesPerSecond"], 0)
        self.assertEqual(values[-1]["loss"], result["loss"])
        self.assertEqual(values[-1]["accuracy"], result["accuracy"])

    def test_forget_reports_its_stages(self):
        model = self.trained_model(epochs=1)
        split = self.split()
        values = []
        self.client.forget(model, split, "finetune", hyperparameters={"epochs": 2}, progress=values.append)
        self.assertEqual([(v["stage"], v["step"], v["steps"]) for v in values],
                         [("finetune", 1, 2), ("finetune", 2, 2)])

    def test_a_token_given_in_params_is_used(self):
        model = self.trained_model(epochs=1)
        values = []
        self.client.call("model/train", progress=values.append,
                         params={"model": model, "dataset": self.dataset, "epochs": 2, "workDoneToken": 42})
        self.assertEqual(len(values), 2)
        run = self.client.runs(model=model, kind="model/train", limit=1)["runs"][0]
        self.assertEqual(run["params"]["workDoneToken"], 42)

    def test_no_progress_no_token(self):
        model = self.trained_model(epochs=1)
        run = self.client.runs(model=model, kind="model/train", limit=1)["runs"][0]
        self.assertNotIn("workDoneToken", run["params"])

    def test_method_without_progress_refuses_a_callback(self):
        model = self.trained_model(epochs=1)
        split = self.split()
        with self.assertRaises(lethe.InvalidParams) as caught:
            self.client.call("evaluate", model=model, split=split, progress=print)
        self.assertEqual(caught.exception.message, "unknown parameter 'workDoneToken'")
        with self.assertRaises(TypeError):  # the helper has no progress argument
            self.client.evaluate(model, split, progress=print)

    def test_progress_must_be_callable(self):
        with self.assertRaises(TypeError):
            self.client.call("model/train", progress="yes")

    def test_a_failing_callback_cancels_the_job_and_is_re_raised(self):
        model = self.trained_model(epochs=1)
        before = self.client.model_info(model)["fingerprint"]
        seen = []

        def explode(value):
            seen.append(value)
            raise ValueError("boom at step {}".format(value["step"]))

        with self.assertRaises(ValueError) as caught:
            self.client.train(model, self.dataset, epochs=100000, progress=explode)
        self.assertEqual(str(caught.exception), "boom at step 1")
        self.assertEqual(len(seen), 1)  # not called again once it failed
        self.assertNoJobs()
        self.assertEqual(self.client.model_info(model)["fingerprint"], before)
        run = self.client.runs(model=model, kind="model/train", limit=1)["runs"][0]
        self.assertEqual(run["status"], "cancelled")

    def test_a_callback_may_call_the_same_client(self):
        model = self.trained_model(epochs=1)
        jobs = []
        self.client.train(model, self.dataset, epochs=2,
                          progress=lambda value: jobs.append(self.client.status()["jobs"]))
        self.assertEqual(len(jobs), 2)
        self.assertEqual([j["method"] for j in jobs[0]], ["model/train"])
        self.assertEqual(jobs[0][0]["target"], model)

    def test_a_callback_waiting_on_a_queued_call_is_not_re_entered(self):
        model = self.trained_model(epochs=1)
        steps, fingerprints, depth = [], [], [0, 0]  # current, deepest

        def watch(value):
            depth[0] += 1
            depth[1] = max(depth)
            steps.append(value["step"])
            if value["step"] == 1:
                # not answered at once: the daemon runs it after the training
                fingerprints.append(self.client.model_info(model)["fingerprint"])
            depth[0] -= 1

        result = self.client.train(model, self.dataset, epochs=3, progress=watch)
        self.assertEqual(steps, [1, 2, 3])
        self.assertEqual(depth[1], 1)
        self.assertEqual(fingerprints, [result["fingerprint"]])
