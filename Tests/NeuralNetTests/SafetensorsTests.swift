// Models in safetensors: a PyTorch-style export (made by Tests/Fixtures/make_fixtures.py with numpy) gives the
// logits numpy computes; dtypes convert on load; Lethe's own files reload without restating the architecture;
// mismatches name the tensor and both shapes.
import Foundation
import NeuralNet
import Tensor
import XCTest

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/byod").path

/// A float32 C-order .npy as written by np.save (the test target does not link the Datasets module).
func readFloat32NPY(_ path: String) throws -> (shape: [Int], values: [Float]) {
    let b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    let headerLength = Int(b[8]) | Int(b[9]) << 8
    let header = String(decoding: b[10..<(10 + headerLength)], as: UTF8.self)
    XCTAssertTrue(header.contains("'<f4'"), header)
    let dims = header.split(separator: "(")[1].split(separator: ")")[0].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    let values = b[(10 + headerLength)...].withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    return (dims, values)
}

func logits(_ model: Model, _ inputs: (shape: [Int], values: [Float])) -> [Float] {
    Network(model: model).forward(Tensor(shape: inputs.shape, values: inputs.values), training: false).array
}

final class SafetensorsTests: XCTestCase {
    let mlp = Architecture(kind: "mlp", hidden: [8, 6])

    func testPyTorchExportReproducesNumpyLogits() throws {
        let file = try SafetensorsFile.read("\(fixtures)/model.safetensors")
        XCTAssertEqual(file.metadata, ["format": "pt"])
        let model = try Model.load(file, architecture: mlp, inputShape: [1, 4, 4], classCount: 3)
        let expected = try readFloat32NPY("\(fixtures)/expected_logits.npy")
        XCTAssertEqual(expected.shape, [5, 3])
        let got = logits(model, try readFloat32NPY("\(fixtures)/inputs.npy"))
        for i in 0..<15 { XCTAssertEqual(got[i], expected.values[i], accuracy: 1e-5, "logit \(i)") }
    }

    func testFloat16BFloat16AndFloat64ConvertOnLoad() throws {
        let expected = try readFloat32NPY("\(fixtures)/dyadic_logits.npy").values
        let inputs = try readFloat32NPY("\(fixtures)/inputs.npy")
        for name in ["model_f16", "model_bf16", "model_f64"] {
            let file = try SafetensorsFile.read("\(fixtures)/\(name).safetensors")
            let got = logits(try Model.load(file, architecture: mlp, inputShape: [1, 4, 4], classCount: 3), inputs)
            for i in 0..<15 { XCTAssertEqual(got[i], expected[i], accuracy: 1e-5, "\(name) logit \(i)") }
        }
    }

    func testSavedFileReloadsWithoutRestatingTheArchitecture() throws {
        let dir = NSTemporaryDirectory() + "lethe-st-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let model = try Model(architecture: mlp, inputShape: [1, 4, 4], classCount: 3, seed: 9)
        let recipe = TrainingRecipe(epochs: 3, learningRate: 0.1, schedule: .cosine)
        let bytes = try model.save(to: "\(dir)/m.safetensors", recipe: recipe)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["m.safetensors"], "no temporary file left")
        XCTAssertEqual(bytes, try FileManager.default.attributesOfItem(atPath: "\(dir)/m.safetensors")[.size] as? Int)
        let file = try SafetensorsFile.read("\(dir)/m.safetensors")
        let again = try Model.load(file, architecture: nil, inputShape: nil, classCount: nil)
        XCTAssertEqual(again.fingerprint, model.fingerprint)
        XCTAssertEqual(again.architecture, mlp)
        XCTAssertEqual(try Model.describe(file).recipe, recipe)
        XCTAssertEqual(file.tensors["1.weight"]?.dtype, "F32")
        XCTAssertEqual(file.tensors["1.weight"]?.shape, [8, 16])
        // A failed save (the target is a directory, so the rename fails) leaves no temporary file behind.
        try FileManager.default.createDirectory(atPath: "\(dir)/occupied/x", withIntermediateDirectories: true)
        XCTAssertThrowsError(try model.save(to: "\(dir)/occupied"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["m.safetensors", "occupied"])
        XCTAssertThrowsError(try model.save(to: "\(dir)/no/such/dir/m.safetensors")) {
            guard case ModelFileError.missing = $0 else { return XCTFail("\($0)") }
        }
    }

    func testMissingExtraAndMisshapenTensorsNameTheTensorAndBothShapes() throws {
        let file = try SafetensorsFile.read("\(fixtures)/model.safetensors")
        XCTAssertThrowsError(try Model.load(file, architecture: Architecture(kind: "mlp", hidden: [8, 5]), inputShape: [1, 4, 4], classCount: 3)) {
            guard case ModelFileError.mismatch(_, let problem) = $0 else { return XCTFail("\($0)") }
            XCTAssertTrue(problem.contains("tensor '3.weight' has shape [6, 8] in the file but the model expects [5, 8]"), problem)
        }
        XCTAssertThrowsError(try Model.load(file, architecture: Architecture(kind: "mlp", hidden: [8]), inputShape: [1, 4, 4], classCount: 3)) {
            XCTAssertTrue("\($0)".contains("tensor '5.weight' of shape [3, 6] in the file is not part of a mlp model"), "\($0)")
        }
        XCTAssertThrowsError(try Model.load(file, architecture: Architecture(kind: "mlp", hidden: [8, 6, 4]), inputShape: [1, 4, 4], classCount: 3)) {
            XCTAssertTrue("\($0)".contains("tensor '7.weight' is missing from the file (the model expects shape [3, 4])"), "\($0)")
        }
        XCTAssertThrowsError(try Model.load(file, architecture: nil, inputShape: nil, classCount: nil)) {
            guard case ModelFileError.needsArchitecture = $0 else { return XCTFail("\($0)") }
        }
    }

    /// nn.Sequential(Conv2d(1, 2, 3, padding=1), BatchNorm2d(2), ReLU(), Flatten(), Linear(32, 3)).
    static let bnArchitecture = Architecture(kind: "layers", layers: [
        LayerSpec(type: "conv2d", out: 2, kernel: 3, padding: 1), LayerSpec(type: "batchnorm2d"), LayerSpec(type: "relu"),
        LayerSpec(type: "flatten"), LayerSpec(type: "linear", out: 3)])

    func testBatchNormBuffersLoadFromPyTorchAndSaveAsPyTorchKeepsThem() throws {
        let file = try SafetensorsFile.read("\(fixtures)/bn_model.safetensors")
        let model = try Model.load(file, architecture: Self.bnArchitecture, inputShape: [1, 4, 4], classCount: 3)
        let tracked = try XCTUnwrap(model.entry(named: "1.num_batches_tracked"))
        XCTAssertTrue(tracked.isBuffer)
        XCTAssertEqual(model.pointer(to: tracked).pointee, 1234)
        XCTAssertEqual(model.bufferCount, 5, "running_mean [2], running_var [2], num_batches_tracked []")
        let expected = try readFloat32NPY("\(fixtures)/bn_logits.npy").values
        let got = logits(model, try readFloat32NPY("\(fixtures)/inputs.npy"))
        for i in 0..<15 { XCTAssertEqual(got[i], expected[i], accuracy: 1e-5, "eval-mode logit \(i)") }

        let path = NSTemporaryDirectory() + "lethe-bn-\(UUID().uuidString).safetensors"
        try model.save(to: path)
        let saved = try SafetensorsFile.read(path)
        XCTAssertEqual(saved.tensors["1.num_batches_tracked"]?.dtype, "I64")
        XCTAssertEqual(saved.tensors["1.num_batches_tracked"]?.shape, [], "0-d, as load_state_dict wants it")
        XCTAssertEqual(saved.tensors["1.running_var"]?.dtype, "F32")
        XCTAssertEqual(Set(saved.tensors.keys), Set(file.tensors.keys))
        let again = try Model.load(saved, architecture: nil, inputShape: nil, classCount: nil)
        XCTAssertEqual(again.fingerprint, model.fingerprint)
        XCTAssertEqual(again.architecture, Self.bnArchitecture)
    }

    func testCorruptFilesAndInt64Buffers() throws {
        let dir = NSTemporaryDirectory() + "lethe-st-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let good = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(fixtures)/model.safetensors")))
        for (name, bytes, message) in [("cut", Array(good.dropLast(9)), "truncated"), ("magic", Array("PK\u{3}\u{4}hello world".utf8), "not a safetensors file"),
                                       ("short", [1, 2], "too short")] {
            try Data(bytes).write(to: URL(fileURLWithPath: "\(dir)/\(name)"))
            XCTAssertThrowsError(try SafetensorsFile.read("\(dir)/\(name)")) {
                guard case ModelFileError.invalid(let f, let p) = $0 else { return XCTFail("\($0)") }
                XCTAssertEqual(f, "\(dir)/\(name)")
                XCTAssertTrue(p.contains(message), "\(name): \(p)")
            }
        }
        // Every proper prefix is refused with an error, never a crash.
        for length in 0..<good.count {
            try Data(good.prefix(length)).write(to: URL(fileURLWithPath: "\(dir)/prefix"))
            XCTAssertThrowsError(try SafetensorsFile.read("\(dir)/prefix"), "cut to \(length) bytes")
        }
        // PyTorch keeps BatchNorm's num_batches_tracked as a 0-d int64; it converts to float on load.
        try SafetensorsFile.write([.init(name: "bn.num_batches_tracked", dtype: "I64", shape: [], bytes: withUnsafeBytes(of: Int64(1234).littleEndian) { Array($0) })],
                                  metadata: [:], to: "\(dir)/i64.safetensors")
        let file = try SafetensorsFile.read("\(dir)/i64.safetensors")
        var value: Float = 0
        file.floats("bn.num_batches_tracked", into: &value)
        XCTAssertEqual(value, 1234)
        XCTAssertEqual(file.tensors["bn.num_batches_tracked"]?.shape, [])
    }
}
