import Evaluation
import Foundation
import XCTest

/// ROC analysis against scikit-learn's roc_curve / roc_auc_score and LiRA's plot.py conventions, recorded by
/// Tests/Fixtures/make_roc_epsilon_fixtures.py in Tests/Fixtures/reference/roc.json.
final class ROCTests: XCTestCase {
    struct Case: Decodable {
        let scores: [Double]
        let labels: [Int]
        let fpr: [Double]
        let tpr: [Double]
        let thresholds: [Double]
        let auc: Double
        let tpr_at_0_1_percent: Double
        let tpr_at_1_percent: Double
        let best_accuracy: Double
    }
    struct File: Decodable { let cases: [String: Case] }

    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/reference/roc.json")

    func cases() throws -> [String: Case] {
        try JSONDecoder().decode(File.self, from: Data(contentsOf: Self.fixture)).cases
    }

    /// Curve (exactly: same points, same divisions), AUC (1e-12: Mann–Whitney from integer counts vs sklearn's
    /// trapezoids), LiRA's TPR at 0.1% / 1% FPR and best accuracy, on distinct scores, heavy ties, runs of
    /// member/non-member ties (where drop_intermediate changes which point LiRA reads) and a larger case.
    func testMatchesScikitLearnAndLiRA() throws {
        let all = try cases()
        XCTAssertEqual(all.keys.sorted(), ["continuous", "large", "small", "tie_runs", "ties"])
        for (name, c) in all.sorted(by: { $0.key < $1.key }) {
            let labels = c.labels.map { $0 == 1 }
            let curve = ROC.curve(scores: c.scores, labels: labels)
            XCTAssertEqual(curve.fpr, c.fpr, "\(name) fpr")
            XCTAssertEqual(curve.tpr, c.tpr, "\(name) tpr")
            XCTAssertEqual(Array(curve.thresholds.dropFirst()), c.thresholds, "\(name) thresholds")
            XCTAssertEqual(curve.thresholds.first, .infinity)
            let s = ROC.summary(scores: c.scores, labels: labels)
            XCTAssertEqual(s.auc, c.auc, accuracy: 1e-12, name)
            XCTAssertEqual(s.tprAt0_1PercentFPR, c.tpr_at_0_1_percent, name)
            XCTAssertEqual(s.tprAt1PercentFPR, c.tpr_at_1_percent, name)
            XCTAssertEqual(s.bestAccuracy, c.best_accuracy, accuracy: 1e-15, name)
            XCTAssertEqual(s.curvePoints, c.fpr.count, name)
            XCTAssertEqual(s.members + s.nonMembers, c.labels.count)
        }
    }

    /// The tie-run case is built so that sklearn's drop_intermediate removes the diagonal's middle points: the
    /// full (undropped) curve would give a different LiRA TPR at 1% FPR, so reading the dropped curve matters.
    func testDropIntermediateChangesLiRAsReading() throws {
        let c = try XCTUnwrap(try cases()["tie_runs"])
        let labels = c.labels.map { $0 == 1 }
        // Undropped curve: one point per distinct score.
        let order = c.scores.indices.sorted { c.scores[$0] > c.scores[$1] }
        let p = Double(labels.filter { $0 }.count), n = Double(labels.count) - p
        var fpr = [0.0], tpr = [0.0], tp = 0.0, fp = 0.0
        for (k, i) in order.enumerated() {
            if labels[i] { tp += 1 } else { fp += 1 }
            if k == order.count - 1 || c.scores[order[k + 1]] != c.scores[i] { fpr.append(fp / n); tpr.append(tp / p) }
        }
        XCTAssertGreaterThan(fpr.count, c.fpr.count)
        XCTAssertNotEqual(ROC.tpr(atFPR: 0.01, fpr: fpr, tpr: tpr), c.tpr_at_1_percent)
    }

    /// Downsampled curve: at most 200 points, a subsequence of the full curve starting at (0, 0) and ending at
    /// (1, 1), containing the points LiRA's TPRs were read from.
    func testDownsampledCurve() throws {
        let c = try XCTUnwrap(try cases()["large"])
        XCTAssertGreaterThan(c.fpr.count, 200)
        let s = ROC.summary(scores: c.scores, labels: c.labels.map { $0 == 1 })
        XCTAssertLessThanOrEqual(s.fpr.count, 200)
        XCTAssertGreaterThan(s.fpr.count, 100)
        XCTAssertEqual(s.fpr.count, s.tpr.count)
        XCTAssertEqual(s.fpr.first, 0); XCTAssertEqual(s.tpr.first, 0)
        XCTAssertEqual(s.fpr.last, 1); XCTAssertEqual(s.tpr.last, 1)
        var j = 0
        for (f, t) in zip(s.fpr, s.tpr) {
            while j < c.fpr.count && !(c.fpr[j] == f && c.tpr[j] == t) { j += 1 }
            XCTAssertLessThan(j, c.fpr.count, "(\(f), \(t)) is not on the curve in order")
            j += 1
        }
        XCTAssertEqual(ROC.tpr(atFPR: 0.001, fpr: s.fpr, tpr: s.tpr), s.tprAt0_1PercentFPR)
        XCTAssertEqual(ROC.tpr(atFPR: 0.01, fpr: s.fpr, tpr: s.tpr), s.tprAt1PercentFPR)
        // Short curves are sent whole.
        let small = try XCTUnwrap(try cases()["small"])
        XCTAssertEqual(ROC.summary(scores: small.scores, labels: small.labels.map { $0 == 1 }).fpr, small.fpr)
    }

    /// Hand-checked: perfect separation, perfect inversion, all tied.
    func testHandCases() {
        let sep = ROC.summary(scores: [0.9, 0.8, 0.2, 0.1], labels: [true, true, false, false])
        XCTAssertEqual(sep.auc, 1); XCTAssertEqual(sep.tprAt0_1PercentFPR, 1); XCTAssertEqual(sep.bestAccuracy, 1)
        XCTAssertEqual(sep.fpr, [0, 0, 0, 1]); XCTAssertEqual(sep.tpr, [0, 0.5, 1, 1])
        let inv = ROC.summary(scores: [0.1, 0.2, 0.8, 0.9], labels: [true, true, false, false])
        XCTAssertEqual(inv.auc, 0); XCTAssertEqual(inv.tprAt1PercentFPR, 0); XCTAssertEqual(inv.bestAccuracy, 0.5)
        let tied = ROC.summary(scores: [1, 1, 1, 1], labels: [true, false, true, false])
        XCTAssertEqual(tied.auc, 0.5); XCTAssertEqual(tied.fpr, [0, 1]); XCTAssertEqual(tied.tpr, [0, 1])
        // One member tied with one of two non-members, above the other: U = 1·(1 + 0.5) = 1.5 of 2.
        XCTAssertEqual(ROC.auc(scores: [2, 2, 1], labels: [true, false, false]), 0.75)
    }

    /// One class only, no examples, or a NaN score: every number NaN, no curve (sklearn raises).
    func testDegenerateInputs() {
        for (scores, labels) in [([0.3, 0.5], [true, true]), ([0.3, 0.5], [false, false]), ([], []),
                                 ([0.3, .nan], [true, false])] as [([Double], [Bool])] {
            let s = ROC.summary(scores: scores, labels: labels)
            XCTAssertFalse(s.isDefined)
            XCTAssertTrue(s.auc.isNaN && s.tprAt0_1PercentFPR.isNaN && s.tprAt1PercentFPR.isNaN
                          && s.bestAccuracy.isNaN)
            XCTAssertTrue(s.fpr.isEmpty && s.tpr.isEmpty)
        }
    }
}
