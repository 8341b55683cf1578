import CZlib
import Datasets
import NeuralNet
import Tensor
import XCTest

/// Writes IDX files: header 0,0,0x08,ndim, big-endian dims, bytes.
func idxBytes(_ dims: [Int], _ data: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0, 0, 8, UInt8(dims.count)]
    for d in dims { out += [UInt8(d >> 24 & 255), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] }
    return out + data
}

func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "lethe-tests-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func write(_ bytes: [UInt8], to path: String, gzip: Bool = false) throws {
    if gzip {
        let f = gzopen(path, "wb")!
        _ = bytes.withUnsafeBytes { gzwrite(f, $0.baseAddress, UInt32($0.count)) }
        gzclose(f)
    } else {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }
}

/// A small MNIST-style directory: `train` and `test` examples of side×side pixels.
func writeIDXDataset(train: Int, test: Int, side: Int = 4, gzip: Bool = false) throws -> String {
    let dir = try temporaryDirectory()
    let suffix = gzip ? ".gz" : ""
    for (stem, n) in [("train", train), ("t10k", test)] {
        let labels = (0..<n).map { UInt8($0 % 3) }
        let pixels = (0..<(n * side * side)).map { UInt8(($0 * 37) % 256) }
        try write(idxBytes([n, side, side], pixels), to: "\(dir)/\(stem)-images-idx3-ubyte\(suffix)", gzip: gzip)
        try write(idxBytes([n], labels), to: "\(dir)/\(stem)-labels-idx1-ubyte\(suffix)", gzip: gzip)
    }
    return dir
}

final class IDXTests: XCTestCase {
    func testLoadsPlainAndGzipDirectoriesScaledToUnitRange() throws {
        for gzip in [false, true] {
            let d = try DatasetLoader.loadIDXDirectory(try writeIDXDataset(train: 30, test: 12, gzip: gzip), classCount: 3)
            XCTAssertEqual(d.train.count, 30)
            XCTAssertEqual(d.test.count, 12)
            XCTAssertEqual(d.exampleShape, [1, 4, 4])
            XCTAssertEqual(d.train.labels[4], 1)
            XCTAssertEqual(d.train.features[1], Float(37) / 255, accuracy: 1e-7)
            XCTAssertEqual(d.train.classCounts(), [10, 10, 10])
        }
    }

    func testBadFilesGetInvalidDataErrorsNamingTheFile() throws {
        let dir = try temporaryDirectory()
        let cases: [(String, [UInt8], String)] = [
            ("truncated", Array(idxBytes([5, 2, 2], [UInt8](repeating: 1, count: 20)).dropLast(3)), "truncated"),
            ("magic", [1, 2, 8, 1, 0, 0, 0, 1, 0], "wrong magic"),
            ("type", [0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0], "not supported"),
            ("short", [0, 0], "too short"),
        ]
        for (name, bytes, expected) in cases {
            let path = "\(dir)/\(name)"
            try write(bytes, to: path)
            XCTAssertThrowsError(try IDX.read(path), name) {
                guard case DataError.invalid(let file, let problem) = $0 else { return XCTFail("\($0)") }
                XCTAssertEqual(file, path)
                XCTAssertTrue(problem.contains(expected), "\(name): \(problem)")
            }
        }
        XCTAssertThrowsError(try IDX.read("\(dir)/absent")) {
            guard case DataError.missing = $0 else { return XCTFail("\($0)") }
        }
    }

    func testMismatchedCountsAndOutOfRangeLabelsAreRejected() throws {
        let dir = try temporaryDirectory()
        try write(idxBytes([3, 2, 2], [UInt8](repeating: 0, count: 12)), to: "\(dir)/x")
        try write(idxBytes([2], [0, 1]), to: "\(dir)/y2")
        try write(idxBytes([3], [0, 1, 7]), to: "\(dir)/y7")
        XCTAssertThrowsError(try DatasetLoader.loadIDXPair(images: "\(dir)/x", labels: "\(dir)/y2", classCount: 3)) {
            XCTAssertTrue("\($0)".contains("3 images but 2 labels"), "\($0)")
        }
        XCTAssertThrowsError(try DatasetLoader.loadIDXPair(images: "\(dir)/x", labels: "\(dir)/y7", classCount: 3)) {
            XCTAssertTrue("\($0)".contains("label 7 outside 0..<3"), "\($0)")
        }
        XCTAssertThrowsError(try DatasetLoader.loadIDXDirectory("\(dir)/nowhere")) {
            guard case DataError.missing = $0 else { return XCTFail("\($0)") }
        }
    }

    func testFashionMNISTDefaultLoads() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: DatasetLoader.fashionMNISTDirectory), "dataset-fashion-mnist not installed")
        let d = try DatasetLoader.loadIDXDirectory(DatasetLoader.fashionMNISTDirectory)
        XCTAssertEqual(d.train.count, 60_000)
        XCTAssertEqual(d.test.count, 10_000)
        XCTAssertEqual(d.exampleShape, [1, 28, 28])
        XCTAssertEqual(d.train.classCounts(), [Int](repeating: 6000, count: 10))
    }
}

final class SplitTests: XCTestCase {
    func testRandomFractionPartitionsTrainAndHalvesTest() throws {
        let d = try DatasetLoader.loadIDXDirectory(try writeIDXDataset(train: 200, test: 51), classCount: 3)
        let s = try SplitBuilder.make(dataset: d, forget: .fraction(0.1), seed: 1)
        XCTAssertEqual(s.forget.count, 20)
        XCTAssertEqual(Set(s.forget).union(s.retain), Set(0..<200))
        XCTAssertTrue(Set(s.forget).isDisjoint(with: s.retain))
        XCTAssertEqual(s.validation.count, 26)  // round(25.5)
        XCTAssertEqual(Set(s.validation).union(s.test), Set(0..<51))
        XCTAssertTrue(Set(s.validation).isDisjoint(with: s.test))
        let again = try SplitBuilder.make(dataset: d, forget: .fraction(0.1), seed: 1)
        XCTAssertEqual(s.forget, again.forget)
        XCTAssertEqual(s.test, again.test)
        XCTAssertNotEqual(s.forget, try SplitBuilder.make(dataset: d, forget: .fraction(0.1), seed: 2).forget)
        XCTAssertEqual(try SplitBuilder.make(dataset: d, forget: .count(7), seed: 1).forget.count, 7)
    }

    func testEmptyForgetOrRetainAreErrors() throws {
        let d = try DatasetLoader.loadIDXDirectory(try writeIDXDataset(train: 20, test: 4), classCount: 3)
        for selection in [ForgetSelection.fraction(0), .fraction(1), .fraction(0.01), .count(0), .count(20)] {
            XCTAssertThrowsError(try SplitBuilder.make(dataset: d, forget: selection, seed: 0), "\(selection)")
        }
    }
}
