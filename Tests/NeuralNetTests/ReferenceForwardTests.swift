// Forward passes against independent reference values: Tests/Fixtures/make_fixtures.py writes each layer's
// formula out in numpy (float64, PyTorch's semantics) on float32 inputs and parameters, and Lethe's layers must
// reproduce the results in evaluation mode. Nothing here derives the expected values from Lethe's own code.
import Foundation
import NeuralNet
import Tensor
import XCTest

let referenceFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/reference").path

struct ReferenceFixtureError: Error, CustomStringConvertible { let description: String }

/// A little-endian float32 or float64 C-order .npy as np.save writes it, as Doubles (float32 values convert exactly).
func readReferenceNPY(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> (shape: [Int], values: [Double]) {
    let b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(referenceFixtures)/\(name)")))
    XCTAssertEqual(Array(b[0..<8]), [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0], "\(name): NPY version 1.0", file: file, line: line)
    let headerLength = Int(b[8]) | Int(b[9]) << 8
    let header = String(decoding: b[10..<(10 + headerLength)], as: UTF8.self)
    XCTAssertTrue(header.contains("'fortran_order': False"), "\(name): \(header)", file: file, line: line)
    let dims = header.split(separator: "(")[1].split(separator: ")")[0].split(separator: ",")
        .compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    let body = b[(10 + headerLength)...]
    let values: [Double]
    if header.contains("'<f4'") {
        values = body.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }.map(Double.init)
    } else if header.contains("'<f8'") {
        values = body.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
    } else {
        throw ReferenceFixtureError(description: "\(name): expected float32 or float64, found \(header)")
    }
    XCTAssertEqual(values.count, dims.reduce(1, *), "\(name): element count", file: file, line: line)
    return (dims, values)
}

/// A float32 tensor of a fixture (exact: the fixture's values are float32).
func referenceTensor(_ name: String) throws -> Tensor {
    let a = try readReferenceNPY(name)
    return Tensor(shape: a.shape, values: a.values.map { Float($0) })
}

/// Every element within 1e-6 of the reference, relative to max(floor, |expected|): floor 1 for layers that sum
/// (float32 rounding of a sum near 0 is absolute), 0 (purely relative) for element-wise functions. On failure one
/// message names the number of misses, the worst element and both values.
func assertMatchesReference(_ got: Tensor, _ expectedName: String, _ what: String, floor: Double = 1,
                            file: StaticString = #filePath, line: UInt = #line) throws {
    let expected = try readReferenceNPY(expectedName, file: file, line: line)
    XCTAssertEqual(got.shape, expected.shape, "\(what): output shape", file: file, line: line)
    guard got.count == expected.values.count else { return }
    var misses = 0, worst = 0, worstRatio = 0.0
    for i in 0..<got.count {
        let e = expected.values[i], g = Double(got[i])
        let allowed = 1e-6 * max(floor, abs(e))
        var ratio = allowed > 0 ? abs(g - e) / allowed : (g == e ? 0 : .infinity)
        if ratio.isNaN { ratio = .infinity }  // a NaN output is the worst miss there is
        if ratio > 1 { misses += 1 }
        if ratio > worstRatio { worstRatio = ratio; worst = i }
    }
    XCTAssertEqual(misses, 0, "\(what): \(misses) of \(got.count) elements off the reference; worst at flat index \(worst): "
                   + "Lethe \(got[worst]) vs reference \(expected.values[worst])", file: file, line: line)
}

final class ReferenceForwardTests: XCTestCase {
    // MARK: activations (purely relative tolerance: tiny and saturated values must keep their digits)

    /// nn.LeakyReLU()'s default slope 0.01, through the `layers` spec a user writes ({"type": "leakyrelu"}).
    func testLeakyReLUDefaultSlopeFromTheLayerSpec() throws {
        let x = try referenceTensor("activation_input.npy")  // [3, 4, 5, 7]
        let layers = try Architecture(kind: "layers", layers: [LayerSpec(type: "flatten"), LayerSpec(type: "leakyrelu")])
            .makeLayers(inputShape: [4, 5, 7], classCount: 140).map(\.layer)
        let y = layers[1].forward(layers[0].forward(x, training: false), training: false)  // [3, 140], same order
        try assertMatchesReference(Tensor(shape: x.shape, values: y.array), "leaky_relu_0.01.npy", "LeakyReLU() from the spec", floor: 0)
    }

    func testLeakyReLUWithAGivenSlope() throws {
        let x = try referenceTensor("activation_input.npy")
        try assertMatchesReference(Activation(.leakyReLU(slope: 0.2)).forward(x, training: false), "leaky_relu_0.2.npy", "LeakyReLU(0.2)", floor: 0)
        let spec = try Architecture(kind: "layers", layers: [LayerSpec(type: "flatten"), LayerSpec(type: "leakyrelu", slope: 0.2)])
            .makeLayers(inputShape: [4, 5, 7], classCount: 140).map(\.layer)
        let y = spec[1].forward(spec[0].forward(x, training: false), training: false)
        try assertMatchesReference(Tensor(shape: x.shape, values: y.array), "leaky_relu_0.2.npy", "LeakyReLU from {slope: 0.2}", floor: 0)
    }

    func testTanh() throws {
        try assertMatchesReference(Activation(.tanh).forward(try referenceTensor("activation_input.npy"), training: false), "tanh.npy", "Tanh", floor: 0)
    }

    func testSigmoid() throws {
        try assertMatchesReference(Activation(.sigmoid).forward(try referenceTensor("activation_input.npy"), training: false), "sigmoid.npy", "Sigmoid", floor: 0)
    }

    // MARK: pooling

    /// PyTorch's AvgPool2d defaults (count_include_pad=True): padded zeros count in the divisor, on odd sizes where
    /// windows hang over the top/left border and, for some configurations, the bottom border.
    func testAvgPool2dWithPaddingCountsPaddedZeros() throws {
        let x = try referenceTensor("pool_input.npy")  // [2, 3, 7, 9]
        for (k, s, p) in [(3, 2, 1), (2, 2, 1), (3, 1, 1), (3, 2, 0)] {
            let pool = AvgPool2d(kernel: k, stride: s, padding: p)
            let name = "avgpool_k\(k)_s\(s)_p\(p).npy"
            let expectedShape = try readReferenceNPY(name).shape
            XCTAssertEqual(try pool.outputShape(for: [3, 7, 9]), Array(expectedShape.dropFirst()), "AvgPool2d(\(k), \(s), \(p)) per-example shape")
            try assertMatchesReference(pool.forward(x, training: false), name, "AvgPool2d(\(k), \(s), \(p))")
        }
    }

    func testGlobalAveragePooling() throws {
        let x = try referenceTensor("globalavgpool_input.npy")  // [3, 5, 6, 7]
        let pool = GlobalAvgPool()
        XCTAssertEqual(try pool.outputShape(for: [5, 6, 7]), [5, 1, 1])
        try assertMatchesReference(pool.forward(x, training: false), "globalavgpool.npy", "AdaptiveAvgPool2d(1)")
    }

    // MARK: BatchNorm in evaluation mode

    /// Binds weight/bias and the running statistics of the fixture, runs an evaluation-mode forward, and checks the
    /// running statistics are left as they were.
    private func checkBatchNormEval(_ name: String, spatialDims: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let x = try referenceTensor("\(name)_input.npy")
        let c = x.shape[1]
        let bn = BatchNorm(features: c, spatialDims: spatialDims)
        func load(_ part: String) throws -> [Float] { try readReferenceNPY("\(name)_\(part).npy").values.map { Float($0) } }
        var parameters = try load("weight") + load("bias")
        var gradients = [Float](repeating: 0, count: 2 * c)
        let statistics = try load("running_mean") + load("running_var")
        var buffers = statistics + [1234]  // num_batches_tracked
        try parameters.withUnsafeMutableBufferPointer { p in try gradients.withUnsafeMutableBufferPointer { g in
            try buffers.withUnsafeMutableBufferPointer { b in
                bn.bind(parameters: p.baseAddress!, gradients: g.baseAddress!, buffers: b.baseAddress!)
                try assertMatchesReference(bn.forward(x, training: false), "\(name).npy", "\(name) in evaluation mode", file: file, line: line)
            }
        } }
        XCTAssertEqual(Array(buffers[0..<(2 * c)]), statistics, "evaluation leaves the running statistics alone", file: file, line: line)
        XCTAssertEqual(buffers[2 * c], 1234, "and num_batches_tracked", file: file, line: line)
    }

    /// Running statistics, eps 1e-5 (one channel's running variance is 1e-4, where eps moves the output by 5%), affine.
    func testBatchNorm2dInEvaluationMode() throws { try checkBatchNormEval("batchnorm2d", spatialDims: 2) }

    func testBatchNorm1dInEvaluationMode() throws { try checkBatchNormEval("batchnorm1d", spatialDims: 0) }
}
