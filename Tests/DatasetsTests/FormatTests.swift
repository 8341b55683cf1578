// The "bring your own data" formats, on the committed fixtures of Tests/Fixtures/make_fixtures.py, and every bad
// input of issue 4 point 2 getting an invalid-data error that names the file and the problem.
import Datasets
import Foundation
import NeuralNet
import Tensor
import XCTest

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/byod").path

/// The fixtures' pixel formula: value(i, h, w, c) = (7i + 5h + 3w + 11c) mod 256.
func pixel(_ i: Int, _ h: Int, _ w: Int, _ c: Int) -> Float { Float((7 * i + 5 * h + 3 * w + 11 * c) % 256) / 255 }

final class FormatTests: XCTestCase {
    func testNPYDirectoryOfNHWImagesWithGroups() throws {
        let d = try DatasetLoader.load(DatasetSource(format: .npy, path: fixtures))
        XCTAssertEqual(d.train.count, 30)
        XCTAssertEqual(d.test.count, 12)
        XCTAssertEqual(d.exampleShape, [1, 4, 4])
        XCTAssertEqual(d.classCount, 3, "inferred from the largest label")
        XCTAssertEqual(d.train.features[9 * 16 + 2 * 4 + 3], pixel(9, 2, 3, 0), accuracy: 1e-7)
        XCTAssertEqual(d.train.labels[7], 1)
        XCTAssertEqual(d.trainGroups?[17], 3)
    }

    func testNPZCompressedAndStoredChannelsLastBecomeNCHW() throws {
        for file in ["data.npz", "data_stored.npz"] {
            let d = try DatasetLoader.load(DatasetSource(format: .npz, path: "\(fixtures)/\(file)", layout: .nhwc))
            XCTAssertEqual(d.exampleShape, [3, 4, 4], file)
            XCTAssertEqual(d.train.count, 20)
            XCTAssertEqual(d.test.count, 8)
            XCTAssertEqual(d.classCount, 4)
            XCTAssertNil(d.trainGroups)
            // features[i, c, h, w] = x_train[i, h, w, c]
            XCTAssertEqual(d.train.features[5 * 48 + 2 * 16 + 1 * 4 + 3], pixel(5, 1, 3, 2), accuracy: 1e-7, file)
            XCTAssertEqual(d.test.features[7 * 48 + 1 * 16 + 3 * 4 + 0], pixel(7, 3, 0, 1), accuracy: 1e-7, file)
        }
    }

    func testFourDimensionalImagesNeedAStatedLayout() throws {
        XCTAssertThrowsError(try DatasetLoader.load(DatasetSource(format: .npz, path: "\(fixtures)/data.npz"))) {
            XCTAssertTrue("\($0)".contains("need a stated layout"), "\($0)")
        }
    }

    func testCIFAR10BinaryBatches() throws {
        let d = try DatasetLoader.load(DatasetSource(format: .cifar10, path: "\(fixtures)/cifar"))
        XCTAssertEqual(d.exampleShape, [3, 32, 32])
        XCTAssertEqual(d.train.count, 8)
        XCTAssertEqual(d.test.count, 4)
        XCTAssertEqual(d.classCount, 10)
        XCTAssertEqual(d.train.labels[6], 6)
        XCTAssertEqual(d.train.features[6 * 3072 + 2 * 1024 + 31 * 32 + 5], pixel(6, 31, 5, 2), accuracy: 1e-7)
    }

    func testCSVWithLabelAndGroupColumns() throws {
        let d = try DatasetLoader.load(DatasetSource(format: .csv, path: fixtures, groupColumn: "person"))
        XCTAssertEqual(d.exampleShape, [3])
        XCTAssertEqual(d.train.count, 12)
        XCTAssertEqual(d.test.count, 6)
        XCTAssertEqual(d.classCount, 2)
        // Row 5: f1 = 2.5, f2 = -5, f3 = 25 (quoted), label 1, person 1.
        XCTAssertEqual(Array(UnsafeBufferPointer(start: d.train.features + 15, count: 3)), [2.5, -5, 25])
        XCTAssertEqual(d.train.labels[5], 1)
        XCTAssertEqual(d.trainGroups?[5], 1)
    }

    /// The fixtures' raw pixel value(i, h, w, c) = (7i + 5h + 3w + 11c) mod 256, unscaled.
    private func raw(_ i: Int, _ h: Int, _ w: Int, _ c: Int) -> Double {
        let v: Int = (7 * i + 5 * h + 3 * w + 11 * c) % 256
        return Double(v)
    }

    /// Every value of both parts of data.npz (NHWC, 20 + 8 examples of [3, 4, 4]) against the pixel formula scaled
    /// as Lethe scales pixels (x/255) and normalised per channel, (x/255 − mean_c)/std_c; `what` names the case.
    private func assertNormalised(_ d: Dataset, mean: [Double], std: [Double], _ what: String, line: UInt = #line) {
        for (part, examples) in [("train", d.train), ("test", d.test)] {
            var misses = 0, first = ""
            for i in 0..<examples.count { for c in 0..<3 { for h in 0..<4 { for w in 0..<4 {
                let r = raw(i, h, w, c)
                let expected: Double = (r / 255 - mean[c]) / std[c]
                let got = Double(examples.features[i * 48 + c * 16 + h * 4 + w])
                if !(abs(got - expected) <= 2e-6 * max(1, abs(expected))) {
                    misses += 1
                    if first.isEmpty { first = "\(part)[\(i), c\(c), \(h), \(w)]: got \(got), expected (\(r)/255 − \(mean[c]))/\(std[c]) = \(expected)" }
                }
            } } } }
            XCTAssertEqual(misses, 0, "\(what): \(misses) of \(examples.count * 48) \(part) values off; first \(first)", line: line)
        }
    }

    func testGivenAndComputedNormalisation() throws {
        // Distinct means and stds per channel, so a swapped or shared channel statistic shows.
        let mean: [Float] = [0.2, 0.45, 0.7], std: [Float] = [0.15, 0.3, 0.6]
        let given = try DatasetLoader.load(DatasetSource(format: .npz, path: "\(fixtures)/data.npz", layout: .nhwc,
                                                         normalization: Normalization(mean: mean, std: std)))
        assertNormalised(given, mean: mean.map(Double.init), std: std.map(Double.init), "given statistics")
        // Spot values worked by hand: x_train[5, h=1, w=3, c] = 7·5 + 5 + 9 + 11c = 49, 60, 71.
        XCTAssertEqual(given.train.features[5 * 48 + 0 * 16 + 1 * 4 + 3], (49.0 / 255 - 0.2) / 0.15, accuracy: 1e-5)
        XCTAssertEqual(given.train.features[5 * 48 + 1 * 16 + 1 * 4 + 3], (60.0 / 255 - 0.45) / 0.3, accuracy: 1e-5)
        XCTAssertEqual(given.train.features[5 * 48 + 2 * 16 + 1 * 4 + 3], (71.0 / 255 - 0.7) / 0.6, accuracy: 1e-5)

        // Computed statistics: the training part's per-channel mean and population std of x/255, worked out from the
        // pixel formula here, are what the dataset records and applies, to the test part too.
        var trainMean = [Double](repeating: 0, count: 3), trainStd = [Double](repeating: 0, count: 3)
        for c in 0..<3 {
            var values: [Double] = []
            for i in 0..<20 { for h in 0..<4 { for w in 0..<4 { values.append(raw(i, h, w, c) / 255) } } }
            let n = Double(values.count)
            let m = values.reduce(0, +) / n
            var q = 0.0
            for v in values { q += (v - m) * (v - m) }
            trainMean[c] = m
            trainStd[c] = (q / n).squareRoot()
        }
        XCTAssertEqual(Set(trainMean.map { ($0 * 1e6).rounded() }).count, 3, "the channels' means differ: \(trainMean)")
        let computed = try DatasetLoader.load(DatasetSource(format: .npz, path: "\(fixtures)/data.npz", layout: .nhwc, computeNormalization: true))
        let recorded = try XCTUnwrap(computed.normalization)
        for c in 0..<3 {
            XCTAssertEqual(Double(recorded.mean[c]), trainMean[c], accuracy: 1e-6, "mean of channel \(c)")
            XCTAssertEqual(Double(recorded.std[c]), trainStd[c], accuracy: 1e-6, "std of channel \(c)")
        }
        assertNormalised(computed, mean: trainMean, std: trainStd, "computed statistics")
        let stats = Normalization.computed(on: computed.train)
        for c in 0..<3 {
            XCTAssertEqual(stats.mean[c], 0, accuracy: 1e-5)
            XCTAssertEqual(stats.std[c], 1, accuracy: 1e-4)
        }
        XCTAssertThrowsError(try DatasetLoader.load(DatasetSource(format: .npz, path: "\(fixtures)/data.npz", layout: .nhwc,
                                                                  normalization: Normalization(mean: [0], std: [1])))) {
            XCTAssertTrue("\($0)".contains("1 means and 1 stds for 3 channels"), "\($0)")
        }
    }

    /// One crop-and-flip draw: `shift` is the crop window's offset (dy, dx) in the image padded by one pixel on each side
    /// ((1, 1) is no shift).
    struct CropDraw: Hashable { let shift: [Int]; let flipped: Bool }

    /// For each augmented example of `x` (examples 0..<20 of data.npz, [3, 4, 4]), the crops of the padded original —
    /// a 4×4 window at offset (oy, ox) ∈ 0...2 of the 6×6 image whose border holds `pad(c)`, then mirrored or not,
    /// as torchvision's RandomCrop(4, padding=1) then RandomHorizontalFlip — that it equals, with pixel values
    /// `value(i, h, w, c)` from the fixture's formula. Fails for an example that equals none of them.
    private func cropDraws(_ x: [Float], value: (Int, Int, Int, Int) -> Double, pad: (Int) -> Double,
                           line: UInt = #line) -> [CropDraw] {
        var draws: [CropDraw] = []
        for i in 0..<20 {
            let got = x[(i * 48)..<((i + 1) * 48)].map(Double.init)
            var matches: [CropDraw] = []
            for oy in 0...2 { for ox in 0...2 { for flipped in [false, true] {
                var same = true
                for c in 0..<3 { for h in 0..<4 { for w in 0..<4 where same {
                    let cw = flipped ? 3 - w : w  // column in the crop before the flip
                    let ph = h + oy, pw = cw + ox  // in the padded 6×6 image
                    let expected = (1...4).contains(ph) && (1...4).contains(pw) ? value(i, ph - 1, pw - 1, c) : pad(c)
                    same = abs(got[c * 16 + h * 4 + w] - expected) <= 1e-6 * max(1, abs(expected))
                } } }
                if same { matches.append(CropDraw(shift: [oy, ox], flipped: flipped)) }
            } } }
            XCTAssertFalse(matches.isEmpty, "example \(i) is no crop of the padded original, flipped or not; it starts \(got.prefix(8))", line: line)
            if matches.count == 1 { draws.append(matches[0]) }
        }
        return draws
    }

    func testAugmentationIsSeededCropAndFlip() throws {
        let d = try DatasetLoader.load(DatasetSource(format: .npz, path: "\(fixtures)/data.npz", layout: .nhwc,
                                                     augmentation: Augmentation(cropPadding: 1, horizontalFlip: true)))
        func batch(_ d: Dataset, _ seed: UInt64) -> [Float] {
            let x = Tensor(shape: [20, 3, 4, 4])
            var labels = [Int32](repeating: -1, count: 20)
            labels.withUnsafeMutableBufferPointer { d.trainingSource(seed: seed).gather(Array(0..<20)[...], into: x, labels: $0.baseAddress!) }
            XCTAssertEqual(labels, (0..<20).map { Int32($0 % 4) })
            return x.array
        }
        XCTAssertEqual(batch(d, 1), batch(d, 1), "same seed, same bits")
        XCTAssertNotEqual(batch(d, 1), batch(d, 2))

        // The cropped pixels: every augmented example is a shift of the zero-padded original, mirrored or not, and
        // over three seeds several shifts and both mirrorings occur.
        var draws: [CropDraw] = []
        for seed: UInt64 in [1, 2, 3] {
            draws += cropDraws(batch(d, seed), value: { i, h, w, c in self.raw(i, h, w, c) / 255 }, pad: { _ in 0 })
        }
        let shifts = Set(draws.map(\.shift))
        XCTAssertGreaterThan(shifts.count, 1, "crops from several offsets, not one: \(shifts)")
        XCTAssertTrue(shifts.contains { $0 != [1, 1] }, "some crops shift the image, letting padding in: \(shifts)")
        XCTAssertEqual(Set(draws.map(\.flipped)), [false, true], "both mirrored and unmirrored crops")

        // With normalisation the padding is a raw 0 normalised, −mean_c/std_c, as RandomCrop before Normalize gives.
        let mean: [Double] = [0.2, 0.45, 0.7], std: [Double] = [0.15, 0.3, 0.6]
        let normalised = try DatasetLoader.load(DatasetSource(format: .npz, path: "\(fixtures)/data.npz", layout: .nhwc,
                                                              normalization: Normalization(mean: mean.map(Float.init), std: std.map(Float.init)),
                                                              augmentation: Augmentation(cropPadding: 1, horizontalFlip: true)))
        let normalisedDraws = cropDraws(batch(normalised, 4), value: { i, h, w, c in
            (self.raw(i, h, w, c) / 255 - mean[c]) / std[c]
        }, pad: { c in -mean[c] / std[c] })
        XCTAssertTrue(normalisedDraws.contains { $0.shift != [1, 1] }, "some normalised crops let padding in")

        // Flip alone: every example is the original or its mirror, and both occur.
        let flipOnly = AugmentedSource(d.train, augmentation: Augmentation(horizontalFlip: true), seed: 3)
        let x = Tensor(shape: [20, 3, 4, 4])
        var labels = [Int32](repeating: 0, count: 20)
        labels.withUnsafeMutableBufferPointer { flipOnly.gather(Array(0..<20)[...], into: x, labels: $0.baseAddress!) }
        var flipped = 0
        for i in 0..<20 {
            let original = (0..<48).map { d.train.features[i * 48 + $0] }
            let mirror = (0..<48).map { j in d.train.features[i * 48 + (j / 4) * 4 + 3 - j % 4] }
            let got = Array(x.array[(i * 48)..<((i + 1) * 48)])
            XCTAssertTrue(got == original || got == mirror, "example \(i)")
            if got == mirror && got != original { flipped += 1 }
        }
        XCTAssertTrue(flipped > 0 && flipped < 20, "\(flipped) of 20 flipped")
        XCTAssertThrowsError(try DatasetLoader.load(DatasetSource(format: .csv, path: fixtures, augmentation: Augmentation(cropPadding: 2))))
    }
}

/// Every bad input of issue 4 point 2: DataError.invalid naming the file and the problem.
final class BadDataTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "lethe-bad-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for f in ["x_train.npy", "y_train.npy", "x_test.npy", "y_test.npy"] {
            try FileManager.default.copyItem(atPath: "\(fixtures)/\(f)", toPath: "\(dir)/\(f)")
        }
    }

    func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }
    func put(_ b: [UInt8], _ name: String) throws -> String {
        try Data(b).write(to: URL(fileURLWithPath: "\(dir)/\(name)"))
        return "\(dir)/\(name)"
    }

    func assertInvalid(_ source: DatasetSource, file: String, _ problem: String, line: UInt = #line) {
        XCTAssertThrowsError(try DatasetLoader.load(source), line: line) {
            guard case DataError.invalid(let f, let p) = $0 else { return XCTFail("\($0)", line: line) }
            XCTAssertTrue(f.contains(file), "file \(f) should name \(file)", line: line)
            XCTAssertTrue(p.contains(problem), "problem '\(p)' should contain '\(problem)'", line: line)
        }
    }

    func npy(_ files: [String: String]) -> DatasetSource { DatasetSource(format: .npy, path: dir, files: files) }

    func testNPYProblems() throws {
        let good = try bytes("\(fixtures)/x_train.npy")
        let truncated = try put(Array(good.dropLast(5)), "truncated.npy")
        assertInvalid(npy(["trainImages": truncated]), file: "truncated.npy", "truncated")
        let magic = try put([0x50, 0x4B] + Array(good.dropFirst(2)), "magic.npy")
        assertInvalid(npy(["trainImages": magic]), file: "magic.npy", "wrong magic")
        assertInvalid(npy(["trainImages": "\(fixtures)/bad/fortran.npy"]), file: "fortran.npy", "Fortran-order")
        assertInvalid(npy(["trainImages": "\(fixtures)/bad/pickled.npy"]), file: "pickled.npy", "pickled")
        assertInvalid(DatasetSource(format: .npy, path: dir, files: ["trainLabels": "\(fixtures)/bad/y_train_out_of_range.npy"], classCount: 3), file: "y_train_out_of_range.npy", "label 7 outside")
        assertInvalid(DatasetSource(format: .npy, path: dir, classCount: 2), file: "y_train.npy", "label 2 outside 0..<2")
        assertInvalid(npy(["trainLabels": "y_test.npy"]), file: "x_train.npy", "30 examples but 12 labels")
        assertInvalid(npy(["trainImages": "\(fixtures)/bad/x_train_nan.npy"]), file: "x_train_nan.npy", "non-finite value nan in example 7")
        assertInvalid(npy(["trainLabels": "\(fixtures)/bad/y_train_float.npy"]), file: "y_train_float.npy", "must be an integer array")
        XCTAssertThrowsError(try DatasetLoader.load(npy(["testImages": "absent.npy"]))) {
            guard case DataError.missing(let f) = $0 else { return XCTFail("\($0)") }
            XCTAssertTrue(f.hasSuffix("absent.npy"))
        }
    }

    func testNPZProblems() throws {
        let good = try bytes("\(fixtures)/data.npz")
        let cut = try put(Array(good.prefix(good.count - 30)), "cut.npz")
        assertInvalid(DatasetSource(format: .npz, path: cut, layout: .nhwc), file: "cut.npz", "truncated")
        let notZip = try put(Array(repeating: 7, count: 100), "plain.npz")
        assertInvalid(DatasetSource(format: .npz, path: notZip, layout: .nhwc), file: "plain.npz", "wrong magic")
        var flipped = good
        flipped[100] ^= 0xFF  // inside the first member's deflate stream (its header ends at byte 61)
        let corrupt = try put(flipped, "corrupt.npz")
        assertInvalid(DatasetSource(format: .npz, path: corrupt, layout: .nhwc), file: "corrupt.npz:x_train", "corrupt")
        assertInvalid(DatasetSource(format: .npz, path: "\(fixtures)/data.npz", files: ["trainImages": "images"], layout: .nhwc),
                      file: "data.npz", "no array 'images'")
    }

    /// Every proper prefix of an archive and of an NPY file is refused with an error, never a crash or a load.
    func testEveryTruncationIsRefused() throws {
        for name in ["data.npz", "data_stored.npz", "x_train.npy"] {
            let good = try bytes("\(fixtures)/\(name)")
            for length in 0..<good.count {
                let path = try put(Array(good.prefix(length)), "cut-\(name)")
                XCTAssertThrowsError(name.hasSuffix(".npz") ? try NPZ.read(path) : ["x": try NPY.read(path)], "\(name) cut to \(length) bytes")
            }
        }
    }

    func testCIFARProblems() throws {
        let cifar = "\(dir)/cifar"
        try FileManager.default.createDirectory(atPath: cifar, withIntermediateDirectories: true)
        let batch = try bytes("\(fixtures)/cifar/data_batch_1.bin")
        try Data(batch.dropLast(100)).write(to: URL(fileURLWithPath: "\(cifar)/data_batch_1.bin"))
        try FileManager.default.copyItem(atPath: "\(fixtures)/cifar/test_batch.bin", toPath: "\(cifar)/test_batch.bin")
        assertInvalid(DatasetSource(format: .cifar10, path: cifar), file: "data_batch_1.bin", "truncated")
        var relabelled = batch
        relabelled[3073 * 2] = 12
        try Data(relabelled).write(to: URL(fileURLWithPath: "\(cifar)/data_batch_1.bin"))
        assertInvalid(DatasetSource(format: .cifar10, path: cifar), file: "data_batch_1.bin", "label 12 of record 2 outside 0..<10")
    }

    func testCSVProblems() throws {
        let header = "f1,label,f2\n"
        try (header + "1,0,2\n3,1\n").write(toFile: "\(dir)/train.csv", atomically: true, encoding: .utf8)
        try (header + "1,0,2\n").write(toFile: "\(dir)/test.csv", atomically: true, encoding: .utf8)
        assertInvalid(DatasetSource(format: .csv, path: dir), file: "train.csv", "line 3 has 2 fields, the header has 3")
        try (header + "1,0,2\n3,1,inf\n").write(toFile: "\(dir)/train.csv", atomically: true, encoding: .utf8)
        assertInvalid(DatasetSource(format: .csv, path: dir), file: "train.csv", "non-finite")
        try (header + "1,0,x\n").write(toFile: "\(dir)/train.csv", atomically: true, encoding: .utf8)
        assertInvalid(DatasetSource(format: .csv, path: dir), file: "train.csv", "'x' is not a number")
        try (header + "1,5,2\n").write(toFile: "\(dir)/train.csv", atomically: true, encoding: .utf8)
        assertInvalid(DatasetSource(format: .csv, path: dir, classCount: 3), file: "train.csv", "label 5 outside 0..<3")
        assertInvalid(DatasetSource(format: .csv, path: dir, labelColumn: "y"), file: "train.csv", "no label column 'y'")
    }
}
