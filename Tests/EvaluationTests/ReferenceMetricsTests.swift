// Reference-model metrics against values worked out by hand.
import Evaluation
import NeuralNet
import XCTest

final class ReferenceMetricsTests: XCTestCase {
    /// Two examples, two classes. Logits 100 vs 0 give exactly [1, 0] in float32 (e^-100 underflows).
    ///   example 1: p = [½, ½], q = [1, 0]: m = [¾, ¼]; KL(p‖m) = ½ ln(⅔) + ½ ln 2 = 0.1438410362,
    ///              KL(q‖m) = ln(4/3) = 0.2876820725, JS = 0.2157615543; ‖p − q‖ = √½; argmax 0 and 0: agree.
    ///   example 2: p = [1, 0], q = [0, 1]: JS = ln 2 = 0.6931471806; ‖p − q‖ = √2; disagree.
    func testWorkedExample() throws {
        let p = try MIAEfficacyTests.predictions(logits: [[0, 0], [100, 0]], labels: [0, 0])
        let q = try MIAEfficacyTests.predictions(logits: [[100, 0], [0, 100]], labels: [0, 0])
        let r = ReferenceComparison.compare(p, to: q)
        XCTAssertEqual(r.jsDivergence, (0.2157615543 + 0.6931471806) / 2, accuracy: 1e-9)
        XCTAssertEqual(r.l2Distance, (0.5.squareRoot() + 2.0.squareRoot()) / 2, accuracy: 1e-12)
        XCTAssertEqual(r.agreement, 0.5)
        XCTAssertEqual(r.count, 2)
        let same = ReferenceComparison.compare(p, to: p)
        XCTAssertEqual(same, ReferenceMetrics(jsDivergence: 0, l2Distance: 0, agreement: 1, count: 2))
        XCTAssertEqual(ReferenceComparison.compare(q, to: p).jsDivergence, r.jsDivergence, accuracy: 1e-15, "JS is symmetric")
    }
}
