// The simple attack read against its chance level (issue 15): balanced by default, the kit's procedure on request.
import Evaluation
import Tensor
import XCTest

final class BalancedMIATests: XCTestCase {
    /// Losses of one distribution for both sides: what a model that never saw the forget set produces.
    private func losses(_ n: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<n).map { _ in abs(rng.normal()) }
    }

    /// A forget set 5 times smaller than the test set, from the same distribution as the test set.
    func testASmallForgetSetScoresChanceBalancedAndTheMajorityRateWithTheKit() {
        let forget = losses(1000, seed: 1), test = losses(5000, seed: 2)
        let balanced = SimpleMIA.run(forgetLosses: forget, testLosses: test, seed: 3)
        XCTAssertEqual(balanced.members, 1000)
        XCTAssertEqual(balanced.nonMembers, 1000, "the test side is sampled down to the forget set's size")
        XCTAssertEqual(balanced.chanceLevel, 0.5)
        XCTAssertEqual(balanced.accuracy, 0.5, accuracy: 0.03)

        let kit = SimpleMIA.run(forgetLosses: forget, testLosses: test, balance: .kit, seed: 3)
        XCTAssertEqual(kit.members, 1000)
        XCTAssertEqual(kit.nonMembers, 5000, "the kit never cuts the test side")
        // Every held-out fold has 600 examples, 500 of them non-members (stratified): chance is 500/600.
        XCTAssertEqual(kit.chanceLevel, 500.0 / 600.0, accuracy: 1e-12)
        XCTAssertEqual(kit.accuracy, kit.chanceLevel, accuracy: 1e-12, "the kit's attack always answers non-member")
    }

    /// When the forget set is at least the test set's size, the balanced and the kit procedures are one
    /// computation with the same draws, so they agree bit for bit.
    func testBalancedAndKitAgreeWhenForgetIsTheLargerSide() {
        for (f, t, seed) in [(3000, 2000, UInt64(0)), (2000, 2000, 7), (2500, 900, 11)] {
            let forget = losses(f, seed: seed + 100).map { $0 * 0.7 }, test = losses(t, seed: seed + 200)
            let a = SimpleMIA.run(forgetLosses: forget, testLosses: test, balance: .both, seed: seed)
            let b = SimpleMIA.run(forgetLosses: forget, testLosses: test, balance: .kit, seed: seed)
            XCTAssertEqual(a.accuracy, b.accuracy)
            XCTAssertEqual(a.foldAccuracies, b.foldAccuracies)
            XCTAssertEqual(a.members, t)
            XCTAssertEqual(a.nonMembers, t)
            XCTAssertEqual(a.chanceLevel, b.chanceLevel)
        }
    }

    /// The balanced score still sees memorisation when the forget set is the smaller side.
    func testBalancedScoreSeesMemorisedForgetExamples() {
        let memorised = losses(300, seed: 4).map { $0 * 0.05 }, test = losses(4000, seed: 5)
        let r = SimpleMIA.run(forgetLosses: memorised, testLosses: test, seed: 1)
        XCTAssertEqual(r.chanceLevel, 0.5)
        XCTAssertGreaterThan(r.accuracy, 0.85)
    }
}
