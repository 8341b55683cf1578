// Forget sets by class, explicit indices (inline or forget_idx.npy), groups and random groups, and their errors.
import Datasets
import XCTest

final class ForgetSetTests: XCTestCase {
    func dataset() throws -> Dataset { try DatasetLoader.load(DatasetSource(format: .npy, path: fixtures)) }

    func testClassesIndicesAndGroups() throws {
        let d = try dataset()
        let byClass = try SplitBuilder.make(dataset: d, forget: .classes([1]), seed: 0)
        XCTAssertEqual(byClass.forget, Array(stride(from: 1, to: 30, by: 3)))
        XCTAssertEqual(d.train.classCounts(of: byClass.retain), [10, 0, 10])

        let file = try ForgetIndexFile.read("\(fixtures)/forget_idx.npy")
        XCTAssertEqual(file, [3, 1, 4, 15, 9, 26])
        let byIndex = try SplitBuilder.make(dataset: d, forget: .indices(file), seed: 0)
        XCTAssertEqual(byIndex.forget, [1, 3, 4, 9, 15, 26])
        XCTAssertEqual(byIndex.retain.count, 24)

        let byGroup = try SplitBuilder.make(dataset: d, forget: .groups([0, 5]), seed: 0)
        XCTAssertEqual(byGroup.forget, [0, 1, 2, 3, 4, 25, 26, 27, 28, 29])

        let random = try SplitBuilder.make(dataset: d, forget: .randomGroups(2), seed: 7)
        XCTAssertEqual(random.forget.count, 10)
        XCTAssertEqual(Set(random.forget.map { d.trainGroups![$0] }).count, 2, "whole groups only")
        XCTAssertEqual(random.forget, try SplitBuilder.make(dataset: d, forget: .randomGroups(2), seed: 7).forget)
        XCTAssertEqual(random.validation.count, 6)
    }

    func testBadSelectionsAreClearErrors() throws {
        let d = try dataset()
        let cases: [(ForgetSelection, String)] = [
            (.indices([1, 30]), "index 30 outside 0..<30"),
            (.indices([-1]), "index -1 outside"),
            (.indices([2, 5, 2]), "2 is listed twice"),
            (.indices([]), "empty"),
            (.indices(Array(0..<30)), "retain set would be empty"),
            (.classes([3]), "class 3 outside 0..<3"),
            (.classes([0, 1, 2]), "retain set would be empty"),
            (.groups([9]), "no training example has group id 9"),
            (.randomGroups(6), "must be in 1..<6"),
            (.fraction(0.01), "forget set would be empty"),
        ]
        for (selection, message) in cases {
            XCTAssertThrowsError(try SplitBuilder.make(dataset: d, forget: selection, seed: 0), "\(selection)") {
                XCTAssertTrue("\($0)".contains(message), "\(selection): \($0)")
            }
        }
        let noGroups = try DatasetLoader.load(DatasetSource(format: .cifar10, path: "\(fixtures)/cifar"))
        XCTAssertThrowsError(try SplitBuilder.make(dataset: noGroups, forget: .groups([1]), seed: 0)) {
            XCTAssertTrue("\($0)".contains("has no group ids"), "\($0)")
        }
    }
}
