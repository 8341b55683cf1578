"""call(): results, parameter names, helpers."""

import unittest

import lethe
from support import DaemonTestCase, unique


class NamingTests(unittest.TestCase):
    def test_camel_case(self):
        self.assertEqual(lethe.camel_case("batch_size"), "batchSize")
        self.assertEqual(lethe.camel_case("work_done_token"), "workDoneToken")
        self.assertEqual(lethe.camel_case("threads_per_model"), "threadsPerModel")
        self.assertEqual(lethe.camel_case("batchSize"), "batchSize")
        self.assertEqual(lethe.camel_case("epochs"), "epochs")
        self.assertEqual(lethe.camel_case("_private"), "_private")


class CallTests(DaemonTestCase):
    def test_call_returns_the_result(self):
        status = self.client.call("server/status")
        self.assertIsInstance(status, dict)
        self.assertIn(self.dataset, status["datasets"])
        self.assertGreaterEqual(status["threads"], 1)
        info = self.client.initialize()
        self.assertEqual(info["serverInfo"]["name"], "lethed")
        self.assertEqual(info["serverInfo"]["version"], status["version"])
        self.assertIn("model/train", info["capabilities"]["methods"])

    def test_results_of_the_main_helpers(self):
        split = unique("s")
        made = self.client.create_split(self.dataset, name=split, fraction=0.1, seed=3)
        self.assertEqual((made["name"], made["forget"], made["retain"], made["seed"]), (split, 20, 180, 3))
        model = unique("m")
        created = self.client.create_model(model, "mlp", self.dataset, hidden=[8])
        self.assertEqual(created["architecture"], {"kind": "mlp", "hidden": [8]})
        self.assertEqual(created["inputShape"], [1, 8, 8])
        trained = self.client.train(model, self.dataset, epochs=2)
        self.assertEqual(trained["epochs"], 2)
        self.assertEqual(self.client.model_info(model)["fingerprint"], trained["fingerprint"])
        forgot = self.client.forget(model, split, "finetune", hyperparameters={"epochs": 1})
        self.assertEqual(forgot["model"], model + "-finetune")
        self.assertEqual(forgot["hyperparameters"]["epochs"], 1)
        evaluated = self.client.evaluate(forgot["model"], split, reference=model)
        self.assertEqual(evaluated["forget"]["count"], 20)
        self.assertAlmostEqual(evaluated["unlearningAccuracy"], 1 - evaluated["forget"]["accuracy"])
        attacked = self.client.attack(forgot["model"], split)
        self.assertEqual(attacked["kind"], "simple")
        self.assertEqual(attacked["chanceLevel"], 0.5)
        runs = self.client.runs(model=model, kind="forget")
        self.assertEqual(runs["total"], 1)
        shown = self.client.run(runs["runs"][0]["id"])
        self.assertEqual(shown["status"], "succeeded")
        self.assertEqual(shown["result"]["fingerprint"], forgot["fingerprint"])

    def test_a_fleet_share_exported_and_imported_back(self):
        model, split = self.trained_model(epochs=1), self.split()
        share = self.client.train_fleet("retrained", model, split, 3, members=[2, 0])
        self.assertEqual((share["trained"], share["fleet"]["seeds"]), (2, [0, 2]))
        bundle = self.client.export_fleet(share["fleet"]["id"], members=[2])
        self.assertEqual([m["seed"] for m in bundle["members"]], [2])
        self.assertEqual(bundle["splitFingerprint"], self.client.split_info(split)["fingerprint"])
        back = self.client.import_fleet(model, split, bundle)
        self.assertEqual((back["imported"], back["duplicates"]), (0, 1))
        with self.assertRaises(lethe.InvalidParams) as raised:
            self.client.import_fleet(model, split, dict(bundle, version="0.0.0"))
        self.assertIn("version", str(raised.exception))
        self.client.delete_fleet(share["fleet"]["id"])

    def test_snake_case_params_are_sent_as_camel_case(self):
        model = unique("m")
        self.client.create_model(model, "mlp", self.dataset, hidden=[4])
        self.client.call("model/train", model=model, dataset=self.dataset, epochs=1, batch_size=7, weight_decay=0)
        # The run store keeps the params as the daemon received them.
        run = self.client.runs(model=model, kind="model/train")["runs"][0]
        self.assertEqual(run["params"]["batchSize"], 7)
        self.assertEqual(run["params"]["weightDecay"], 0)
        self.assertNotIn("batch_size", run["params"])

    def test_params_dict_is_sent_verbatim(self):
        model = self.trained_model(epochs=1)
        with self.assertRaises(lethe.InvalidParams) as caught:
            self.client.call("model/train", params={"model": model, "dataset": self.dataset, "batch_size": 5})
        self.assertEqual(caught.exception.message, "unknown parameter 'batch_size'")
        # params and keyword arguments merge
        result = self.client.call("model/train", params={"model": model}, dataset=self.dataset, epochs=1)
        self.assertEqual(result["model"], model)

    def test_a_field_given_twice_is_a_type_error(self):
        with self.assertRaises(TypeError):
            self.client.call("model/train", batch_size=1, batchSize=2)
        with self.assertRaises(TypeError):
            self.client.call("model/train", params={"batchSize": 1}, batch_size=2)

    def test_create_split_needs_exactly_one_selector(self):
        with self.assertRaises(TypeError):
            self.client.create_split(self.dataset, fraction=0.1, count=3)
        with self.assertRaises(TypeError):
            self.client.create_split(self.dataset)
        made = self.client.create_split(self.dataset, name=unique("s"), indices=[0, 1, 2])
        self.assertEqual(made["forget"], 3)


if __name__ == "__main__":
    unittest.main()
