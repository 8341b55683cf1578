import Datasets
import Evaluation
import NeuralNet
import Tensor
import XCTest

final class LogisticRegressionTests: XCTestCase {
    /// scikit-learn's LogisticRegression() fitted on asymmetric data (unequal class sizes, class means not symmetric
    /// about 0), written by Tests/Fixtures/make_sklearn_fixtures.py.
    struct SklearnFit: Decodable {
        let x: [[Double]]
        let y: [Int]
        let coef: [Double]
        let intercept: Double
        let points: [[Double]]
        let proba: [Double]
    }

    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/reference/logistic_regression.json")

    func sklearnFits() throws -> [String: SklearnFit] {
        struct File: Decodable { let datasets: [String: SklearnFit] }
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: Self.fixture)).datasets
    }

    /// The weights, the unpenalised intercept and predict_proba match scikit-learn's to 1e-6 (relative to
    /// max(1, |value|)), on 1-D losses as the simple MIA sees them, shifted 1-D data, two correlated features and
    /// perfectly separable data.
    func testMatchesScikitLearnOnAsymmetricData() throws {
        let fits = try sklearnFits()
        XCTAssertEqual(fits.keys.sorted(), ["losses_1d", "separable_1d", "shifted_1d", "two_features"])
        for (name, fit) in fits.sorted(by: { $0.key < $1.key }) {
            var model = LogisticRegression(features: fit.coef.count)
            model.fit(fit.x, fit.y)
            func close(_ got: Double, _ expected: Double, _ what: String) {
                XCTAssertLessThanOrEqual(abs(got - expected), 1e-6 * max(1, abs(expected)),
                                         "\(name) \(what): Lethe \(got) vs scikit-learn \(expected)")
            }
            for (j, w) in fit.coef.enumerated() { close(model.weights[j], w, "coef[\(j)]") }
            close(model.intercept, fit.intercept, "intercept")
            for (point, p) in zip(fit.points, fit.proba) { close(model.probability(point), p, "P(y=1 | \(point))") }
        }
    }

    /// A known closed form: with x = ±1 for labels 1/0 (n each), symmetry gives b = 0 and
    /// w = n·(1 − σ(w))·2 … i.e. w solves w = 2n·σ(−w) (C = 1).
    func testSymmetricProblemMatchesItsClosedForm() {
        let n = 10
        let x = [[Double]](repeating: [1], count: n) + [[Double]](repeating: [-1], count: n)
        let y = [Int](repeating: 1, count: n) + [Int](repeating: 0, count: n)
        var model = LogisticRegression(features: 1)
        model.fit(x, y)
        let w = model.weights[0]
        XCTAssertEqual(model.intercept, 0, accuracy: 1e-9)
        XCTAssertEqual(w, 2 * Double(n) / (1 + exp(w)), accuracy: 1e-9)
    }
}

final class SimpleMIATests: XCTestCase {
    func testStratifiedFoldsHoldOutTenPercentPerClass() {
        var rng = SeededGenerator(seed: 0)
        let labels = [Int](repeating: 0, count: 50) + [Int](repeating: 1, count: 50)
        let folds = StratifiedShuffleSplit.folds(labels: labels, splits: 10, testSize: 0.1, rng: &rng)
        XCTAssertEqual(folds.count, 10)
        for f in folds {
            XCTAssertEqual(f.test.count, 10)
            XCTAssertEqual(f.test.filter { labels[$0] == 1 }.count, 5)
            XCTAssertEqual(Set(f.train).union(f.test), Set(0..<100))
            XCTAssertTrue(Set(f.train).isDisjoint(with: f.test))
        }
        XCTAssertNotEqual(folds[0].test, folds[1].test)
    }

    func testIndistinguishableLossesScoreAboutOneHalfAndSeparatedOnesAboutOne() {
        var rng = SeededGenerator(seed: 2)
        let test = (0..<2000).map { _ in abs(rng.normal()) }
        let same = (0..<3000).map { _ in abs(rng.normal()) }
        let chance = SimpleMIA.run(forgetLosses: same, testLosses: test)
        XCTAssertEqual(chance.accuracy, 0.5, accuracy: 0.04)
        XCTAssertEqual(chance.members, 2000, "forget is cut to the test size")
        XCTAssertEqual(chance.foldAccuracies.count, 10)
        let memorised = (0..<3000).map { _ in abs(rng.normal()) * 0.01 }
        XCTAssertGreaterThan(SimpleMIA.run(forgetLosses: memorised, testLosses: test).accuracy, 0.9)
        XCTAssertEqual(SimpleMIA.run(forgetLosses: same, testLosses: test, seed: 5).accuracy,
                       SimpleMIA.run(forgetLosses: same, testLosses: test, seed: 5).accuracy, "seeded")
    }
}

final class SetMetricsTests: XCTestCase {
    /// A 2-feature linear model with hand-set weights: predictions and losses are computable by hand.
    func testAccuracyAndLossMatchHandComputation() throws {
        let model = try Model(architecture: Architecture(kind: "mlp", hidden: []), inputShape: [2], classCount: 2)
        // Single Linear(2, 2) at index 1: weight [[1, 0], [0, 1]], bias [0, 0]: logits = x.
        for (i, v) in [Float(1), 0, 0, 1, 0, 0].enumerated() { model.parameters[i] = v }
        let data = try LabeledExamples(exampleShape: [2], classCount: 2, features: [2, 0, 0, 1, 3, 1, 0, 0], labels: [0, 1, 1, 0])
        let p = try Inference.predict(Network(model: model), on: data, indices: [0, 1, 2, 3])
        XCTAssertEqual(p.correct, [true, true, false, true], "ties go to the first class")
        XCTAssertEqual(p.accuracy, 0.75)
        let expected = [log(1 + exp(-2.0)), log(1 + exp(-1.0)), log(1 + exp(2.0)), log(2.0)]
        for (a, b) in zip(p.losses, expected) { XCTAssertEqual(Double(a), b, accuracy: 1e-6) }
        XCTAssertEqual(Evaluator.metrics(p).meanLoss, expected.reduce(0, +) / 4, accuracy: 1e-6)
    }
}
