// Issue 4 end to end, on the files Docs/BringYourOwnData.md's snippets write (made here by
// Tests/Fixtures/make_fixtures.py with numpy): a PyTorch-style safetensors export predicts what numpy computes;
// each data format loads; forget sets from forget_idx.npy and groups; bad data is refused and nothing stays.
import Foundation
import JSONRPC
import XCTest

private let byod = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/byod").path

/// A float32 C-order .npy (as np.save writes it, and as model/predict writes its output).
private func readNPY(_ path: String) throws -> (shape: [Int], values: [Float]) {
    let b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    let n = Int(b[8]) | Int(b[9]) << 8
    let header = String(decoding: b[10..<(10 + n)], as: UTF8.self)
    guard header.contains("'<f4'") else { throw HarnessError("\(path) is not float32: \(header)") }
    let dims = header.split(separator: "(")[1].split(separator: ")")[0].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    return (dims, b[(10 + n)...].withUnsafeBytes { Array($0.bindMemory(to: Float.self)) })
}

final class BringYourOwnDataTests: XCTestCase {
    var daemon: DaemonProcess!
    var c: RawConnection!
    var scratch = ""

    override func setUpWithError() throws {
        daemon = try DaemonProcess()
        c = try daemon.connect()
        scratch = NSTemporaryDirectory() + "lethe-byod-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    override func tearDown() { daemon.stop() }

    private func ok(_ reply: JSONValue, line: UInt = #line) throws -> JSONValue {
        guard let r = reply.result else { throw HarnessError("line \(line): expected a result, got \(reply)") }
        return r
    }

    private func values(_ v: JSONValue?) -> [Float] {
        guard case .array(let rows)? = v else { return [] }
        return rows.flatMap { row -> [Float] in
            guard case .array(let xs) = row else { return [] }
            return xs.map { Float($0.number) }
        }
    }

    func testPyTorchExportPredictsWhatNumpyComputesAndRoundTrips() throws {
        let loaded = try ok(c.call("model/load", ["name": "torch", "path": .string("\(byod)/model.safetensors"),
                                                  "architecture": ["kind": "mlp", "hidden": [8, 6]], "inputShape": [1, 4, 4], "classes": 3]))
        XCTAssertEqual(loaded["tensors"], 6)
        XCTAssertEqual(loaded["parameterCount"], .number(Double(16 * 8 + 8 + 8 * 6 + 6 + 6 * 3 + 3)))

        let inputs = try readNPY("\(byod)/inputs.npy")
        let expected = try readNPY("\(byod)/expected_logits.npy").values
        let rows = JSONValue.array((0..<5).map { i in .array(inputs.values[(i * 16)..<((i + 1) * 16)].map { .number(Double($0)) }) })
        let logits = try ok(c.call("model/predict", ["model": "torch", "inputs": rows]))
        let got = values(logits["values"])
        XCTAssertEqual(got.count, 15)
        for i in 0..<15 { XCTAssertEqual(got[i], expected[i], accuracy: 1e-5, "logit \(i)") }
        guard case .array(let predictions)? = logits["predictions"] else { return XCTFail("\(logits)") }
        XCTAssertEqual(predictions.first?.number, Double((0..<3).max { expected[$0] < expected[$1] }!))

        let probabilities = values(try ok(c.call("model/predict", ["model": "torch", "inputs": rows, "output": "probabilities"]))["values"])
        for i in 0..<5 { XCTAssertEqual(probabilities[(i * 3)..<(i * 3 + 3)].reduce(0, +), 1, accuracy: 1e-6) }

        // Saved by Lethe, the file reloads without restating the architecture and predicts the same, into an .npy.
        let saved = try ok(c.call("model/save", ["model": "torch", "path": .string("\(scratch)/lethe.safetensors")]))
        XCTAssertEqual(saved["fingerprint"], loaded["fingerprint"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch), ["lethe.safetensors"], "no temporary file left")
        let reloaded = try ok(c.call("model/load", ["name": "again", "path": .string("\(scratch)/lethe.safetensors")]))
        XCTAssertEqual(reloaded["fingerprint"], loaded["fingerprint"])
        XCTAssertEqual(reloaded["architecture"]?["hidden"], [8, 6])
        let written = try ok(c.call("model/predict", ["model": "again", "inputs": rows, "path": .string("\(scratch)/logits.npy")]))
        XCTAssertEqual(written["values"], nil)
        let file = try readNPY("\(scratch)/logits.npy")
        XCTAssertEqual(file.shape, [5, 3])
        for i in 0..<15 { XCTAssertEqual(file.values[i], expected[i], accuracy: 1e-5) }

        // A PyTorch export with BatchNorm buffers (running statistics, int64 num_batches_tracked), in eval mode.
        let layers: JSONValue = [["type": "conv2d", "out": 2, "kernel": 3, "padding": 1], ["type": "batchnorm2d"], ["type": "relu"],
                                 ["type": "flatten"], ["type": "linear", "out": 3]]
        _ = try ok(c.call("model/load", ["name": "bn", "path": .string("\(byod)/bn_model.safetensors"),
                                         "architecture": ["kind": "layers", "layers": layers], "inputShape": [1, 4, 4], "classes": 3]))
        let bnExpected = try readNPY("\(byod)/bn_logits.npy").values
        let bnGot = values(try ok(c.call("model/predict", ["model": "bn", "inputs": rows]))["values"])
        for i in 0..<15 { XCTAssertEqual(bnGot[i], bnExpected[i], accuracy: 1e-5, "batchnorm logit \(i)") }

        // Every dtype PyTorch may export converts on load.
        for dtype in ["f16", "bf16", "f64"] {
            _ = try ok(c.call("model/load", ["name": .string(dtype), "path": .string("\(byod)/model_\(dtype).safetensors"),
                                             "architecture": ["kind": "mlp", "hidden": [8, 6]], "inputShape": [1, 4, 4], "classes": 3]))
            let dyadic = try readNPY("\(byod)/dyadic_logits.npy").values
            let v = values(try ok(c.call("model/predict", ["model": .string(dtype), "inputs": rows]))["values"])
            for i in 0..<15 { XCTAssertEqual(v[i], dyadic[i], accuracy: 1e-5, "\(dtype) logit \(i)") }
        }
    }

    func testModelFileErrors() throws {
        var r = try c.call("model/load", ["name": "m", "path": .string("\(byod)/model.safetensors"),
                                          "architecture": ["kind": "mlp", "hidden": [8, 5]], "inputShape": [1, 4, 4], "classes": 3])
        XCTAssertEqual(r.errorCode, 4)
        XCTAssertTrue(r.errorMessage.contains("tensor '3.weight' has shape [6, 8] in the file but the model expects [5, 8]"), r.errorMessage)
        r = try c.call("model/load", ["name": "m", "path": .string("\(byod)/model.safetensors")])
        XCTAssertEqual(r.errorCode, -32602)
        XCTAssertTrue(r.errorMessage.contains("give the architecture"), r.errorMessage)
        r = try c.call("model/load", ["name": "m", "path": .string("\(byod)/x_train.npy"), "architecture": ["kind": "mlp"], "inputShape": [16], "classes": 3])
        XCTAssertEqual(r.errorCode, 3)
        XCTAssertTrue(r.errorMessage.contains("x_train.npy") && r.errorMessage.contains("not a safetensors file"), r.errorMessage)
        r = try c.call("model/load", ["name": "m", "path": "/nonexistent/m.safetensors", "architecture": ["kind": "mlp"], "inputShape": [16], "classes": 3])
        XCTAssertEqual(r.errorCode, 1)
        r = try c.call("model/save", ["model": "ghost", "path": .string("\(scratch)/x.safetensors")])
        XCTAssertEqual(r.errorCode, 1)
        let status = try ok(c.call("server/status"))
        XCTAssertEqual(status["models"], [], "no failed load left a model behind")
        _ = try ok(c.call("model/load", ["name": "m", "path": .string("\(byod)/model.safetensors"),
                                         "architecture": ["kind": "mlp", "hidden": [8, 6]], "inputShape": [1, 4, 4], "classes": 3]))
        r = try c.call("model/predict", ["model": "m", "inputs": [[1, 2, 3]]])
        XCTAssertEqual(r.errorCode, 4)
        XCTAssertTrue(r.errorMessage.contains("'inputs[0]' has 3 values but the model takes inputs [1, 4, 4]"), r.errorMessage)
    }

    /// Docs/BringYourOwnData.md's session: NPY arrays, forget_idx.npy, split/info, train, predict, save.
    func testNPYDatasetWithForgetIndexFileAndGroups() throws {
        let d = try ok(c.call("dataset/load", ["name": "mine", "format": "npy", "path": .string(byod)]))
        XCTAssertEqual(d["trainCount"], 30)
        XCTAssertEqual(d["exampleShape"], [1, 4, 4])
        XCTAssertEqual(d["classCount"], 3)
        XCTAssertEqual(d["groupCount"], 6)
        let s = try ok(c.call("split/create", ["name": "kit", "dataset": "mine", "forget": ["indicesFile": .string("\(byod)/forget_idx.npy")], "seed": 1]))
        XCTAssertEqual(s["forget"], 6)
        XCTAssertEqual(s["retain"], 24)
        let info = try ok(c.call("split/info", ["name": "kit"]))
        XCTAssertEqual(info["forget"]?["classCounts"], [3, 2, 1], "indices 1 3 4 9 15 26 have labels 1 0 1 0 0 2")
        XCTAssertEqual(info["retain"]?["classCounts"], [7, 8, 9])
        XCTAssertEqual(info["forget"]?["groups"], 4)
        XCTAssertEqual(info["validation"]!["count"]!.number + info["test"]!["count"]!.number, 12)

        let people = try ok(c.call("split/create", ["name": "people", "dataset": "mine", "forget": ["randomGroups": 2], "seed": 3]))
        XCTAssertEqual(people["forget"], 10)
        XCTAssertEqual(try ok(c.call("split/info", ["name": "people"]))["forget"]?["groups"], 2)
        XCTAssertEqual(try ok(c.call("split/create", ["name": "g", "dataset": "mine", "forget": ["groups": [0, 5]]]))["forget"], 10)
        XCTAssertEqual(try ok(c.call("split/create", ["name": "c", "dataset": "mine", "forget": ["classes": [2]]]))["forget"], 10)

        for (forget, message) in [(["indices": [1, 1]] as JSONValue, "1 is listed twice"), (["indices": [30]], "index 30 outside 0..<30"),
                                  (["classes": [0, 1, 2]], "retain set would be empty"), (["fraction": 0.1, "classes": [1]], "exactly one of")] {
            let r = try c.call("split/create", ["name": "bad", "dataset": "mine", "forget": forget])
            XCTAssertEqual(r.errorCode, -32602, "\(forget)")
            XCTAssertTrue(r.errorMessage.contains(message), r.errorMessage)
        }

        _ = try ok(c.call("model/create", ["name": "m", "architecture": ["kind": "mlp", "hidden": [16]], "dataset": "mine"]))
        _ = try ok(c.call("model/train", ["model": "m", "dataset": "mine", "split": "kit", "subset": "retain", "epochs": 2, "batchSize": 8]))
        let forget = try ok(c.call("model/predict", ["model": "m", "split": "kit", "subset": "forget", "output": "probabilities",
                                                     "path": .string("\(scratch)/forget_probs.npy")]))
        XCTAssertEqual(forget["count"], 6)
        XCTAssertNotNil(forget["accuracy"]?.doubleValue)
        XCTAssertEqual(try readNPY("\(scratch)/forget_probs.npy").shape, [6, 3])
        // Indices pick rows of the part, in the order given: the same logits as those rows of the whole part.
        let whole = try ok(c.call("model/predict", ["model": "m", "dataset": "mine", "part": "test", "path": .string("\(scratch)/test_logits.npy")]))
        XCTAssertEqual(whole["count"], 12)
        let all = try readNPY("\(scratch)/test_logits.npy")
        XCTAssertEqual(all.shape, [12, 3])
        let rows = [5, 0, 11, 5]
        let test = try ok(c.call("model/predict", ["model": "m", "dataset": "mine", "part": "test", "indices": .array(rows.map { .number(Double($0)) })]))
        XCTAssertEqual(test["count"], 4)
        let picked = values(test["values"])
        XCTAssertEqual(picked, rows.flatMap { Array(all.values[($0 * 3)..<($0 * 3 + 3)]) })
        XCTAssertNotEqual(all.values[0..<3], all.values[15..<18], "rows 0 and 5 differ, so a wrong row would show")
        guard case .array(let wholePredictions)? = whole["predictions"], case .array(let pickedPredictions)? = test["predictions"] else {
            return XCTFail("\(test)")
        }
        XCTAssertEqual(pickedPredictions, rows.map { wholePredictions[$0] })
        XCTAssertEqual(try ok(c.call("model/save", ["model": "m", "path": .string("\(scratch)/unlearned.safetensors")]))["tensors"], 4)
    }

    func testNPZCIFARAndCSVLoadWithNormalisationAndAugmentation() throws {
        let npz = try ok(c.call("dataset/load", ["name": "z", "format": "npz", "path": .string("\(byod)/data.npz"), "layout": "NHWC",
                                                 "normalize": ["compute": true], "augment": ["cropPadding": 1, "horizontalFlip": true]]))
        XCTAssertEqual(npz["exampleShape"], [3, 4, 4])
        XCTAssertEqual(npz["classCount"], 4)
        guard case .array(let means)? = npz["normalization"]?["mean"] else { return XCTFail("\(npz)") }
        XCTAssertEqual(means.count, 3)
        XCTAssertEqual(npz["augmentation"]?["cropPadding"], 1)
        // Augmented training is deterministic: the same seed gives the same weights.
        var fingerprints: [JSONValue] = []
        for name in ["a", "b"] {
            _ = try ok(c.call("model/create", ["name": .string(name), "architecture": ["kind": "mlp", "hidden": [8]], "dataset": "z", "seed": 4]))
            fingerprints.append(try ok(c.call("model/train", ["model": .string(name), "dataset": "z", "epochs": 2, "batchSize": 4, "seed": 5]))["fingerprint"]!)
        }
        XCTAssertEqual(fingerprints[0], fingerprints[1])

        let cifar = try ok(c.call("dataset/load", ["name": "cifar", "format": "cifar10", "path": .string("\(byod)/cifar"),
                                                   "normalize": ["mean": [0.4914, 0.4822, 0.4465], "std": [0.247, 0.243, 0.261]]]))
        XCTAssertEqual(cifar["exampleShape"], [3, 32, 32])
        XCTAssertEqual(cifar["trainCount"], 8)
        let csv = try ok(c.call("dataset/load", ["name": "tab", "format": "csv", "path": .string(byod), "labelColumn": "label", "groupColumn": "person"]))
        XCTAssertEqual(csv["exampleShape"], [3])
        XCTAssertEqual(csv["groupCount"], 4)

        let r = try c.call("dataset/load", ["name": "x", "format": "parquet", "path": .string(byod)])
        XCTAssertEqual(r.errorCode, -32602)
        XCTAssertTrue(r.errorMessage.contains("'format'"), r.errorMessage)
    }

    func testBadDataIsInvalidDataAndAFailedReloadKeepsTheResidentDataset() throws {
        _ = try ok(c.call("dataset/load", ["name": "d", "format": "npy", "path": .string(byod)]))
        let cases: [(JSONValue, String, String)] = [
            (["trainImages": .string("\(byod)/bad/fortran.npy")], "fortran.npy", "Fortran-order"),
            (["trainImages": .string("\(byod)/bad/pickled.npy")], "pickled.npy", "pickled"),
            (["trainImages": .string("\(byod)/bad/x_train_nan.npy")], "x_train_nan.npy", "non-finite"),
            (["trainLabels": "y_test.npy"], "x_train.npy", "30 examples but 12 labels"),
        ]
        for (files, file, problem) in cases {
            let r = try c.call("dataset/load", ["name": "d", "format": "npy", "path": .string(byod), "files": files])
            XCTAssertEqual(r.errorCode, 3, "\(files)")
            XCTAssertTrue(r.errorMessage.contains(file) && r.errorMessage.contains(problem), r.errorMessage)
        }
        let r = try c.call("dataset/load", ["name": "d", "format": "npy", "path": .string(byod), "classes": 2])
        XCTAssertEqual(r.errorCode, 3)
        XCTAssertTrue(r.errorMessage.contains("label 2 outside 0..<2"), r.errorMessage)
        let bad = try c.call("dataset/load", ["name": "other", "format": "npy", "path": .string(byod), "files": ["trainImages": .string("\(byod)/bad/fortran.npy")]])
        XCTAssertEqual(bad.errorCode, 3)
        XCTAssertEqual(try ok(c.call("server/status"))["datasets"], ["d"], "nothing half-loaded stays resident")
        XCTAssertEqual(try ok(c.call("split/create", ["name": "s", "dataset": "d", "forget": ["count": 3]]))["retain"], 27, "the first load is intact")
    }
}
