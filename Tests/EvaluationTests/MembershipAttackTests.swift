import Evaluation
import Foundation
import XCTest

/// LiRA, RMIA and U-LiRA: synthetic φ worlds whose optimal AUC is known in closed form, the reference fixture written
/// by Tests/Fixtures/make_attack_fixtures.py (numpy/scipy implementations of tensorflow/privacy mi_lira_2021 and
/// ml_privacy_meter's RMIA; regenerate with `/tmp/torch-venv/bin/python Tests/Fixtures/make_attack_fixtures.py`),
/// and brute-force checks.
final class MembershipAttackTests: XCTestCase {
    // MARK: - Helpers (test-local: AUC by Mann–Whitney, a seeded generator, the normal CDF)

    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
        mutating func normal(_ mean: Double = 0, _ std: Double = 1) -> Double {
            let u1 = max(uniform(), 1e-300), u2 = uniform()
            return mean + std * (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
        }
    }

    /// AUC = P(score of a positive > score of a negative) + ½ P(tie), by average ranks.
    func auc(_ scores: [Double], _ labels: [Int]) -> Double {
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var ranks = [Double](repeating: 0, count: scores.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            for t in i...j { ranks[order[t]] = Double(i + j) / 2 + 1 }
            i = j + 1
        }
        let pos = labels.filter { $0 == 1 }.count, neg = labels.count - pos
        let rankSum = zip(ranks, labels).filter { $0.1 == 1 }.map(\.0).reduce(0, +)
        return (rankSum - Double(pos * (pos + 1)) / 2) / Double(pos * neg)
    }

    func normalCDF(_ x: Double) -> Double { 0.5 * erfc(-x / 2.squareRoot()) }

    /// The LiRA reference's keep construction: each example IN for exactly k/2 of the k models.
    func balancedMask(k: Int, n: Int, rng: inout SplitMix) -> [[Bool]] {
        var mask = [[Bool]](repeating: [Bool](repeating: false, count: n), count: k)
        for j in 0..<n {
            var models = Array(0..<k)
            models.shuffle(using: &rng)
            for i in models.prefix(k / 2) { mask[i][j] = true }
        }
        return mask
    }

    /// Two-class logits whose φ (label 1) is exactly `phi`: logits (0, φ).
    func twoClassLogits(_ phi: [Double]) -> [Float] { phi.flatMap { [0, Float($0)] } }

    /// A φ world: per-example difficulty b ~ N(0, 1.5²); IN φ ~ N(b + Δ, σ²), OUT φ ~ N(b, σ²); K shadows with the
    /// balanced mask; a target IN on a random half (or drawn from OUT for every example when `nullTarget`).
    struct World {
        var shadows: [[Double]]
        var mask: [[Bool]]
        var target: [Double]
        var targetIn: [Int]
    }

    func makeWorld(n: Int, k: Int, delta: Double, sigma: Double, nullTarget: Bool, seed: UInt64) -> World {
        var rng = SplitMix(state: seed)
        let b = (0..<n).map { _ in rng.normal(0, 1.5) }
        let mask = balancedMask(k: k, n: n, rng: &rng)
        let shadows = (0..<k).map { i in (0..<n).map { j in rng.normal(b[j] + (mask[i][j] ? delta : 0), sigma) } }
        let targetIn = (0..<n).map { _ in rng.uniform() < 0.5 ? 1 : 0 }
        let target = (0..<n).map { j in
            rng.normal(b[j] + (targetIn[j] == 1 && !nullTarget ? delta : 0), sigma)
        }
        return World(shadows: shadows, mask: mask, target: target, targetIn: targetIn)
    }

    // MARK: - φ

    /// Two classes with logits (0, d): φ = d exactly; C classes: φ = z_y − log Σ_{k≠y} e^{z_k}; a logit gap of 1000
    /// gives ±1000, not ±inf or NaN.
    func testLogitScaledConfidence() {
        let d: [Double] = [-30, -2.5, 0, 0.125, 7, 30]
        let phi = LiRA.logitScaledConfidence(logits: twoClassLogits(d), labels: [Int32](repeating: 1, count: d.count),
                                             classes: 2)
        for (a, b) in zip(phi, d) { XCTAssertEqual(a, b, accuracy: 1e-12 * max(1, abs(b))) }
        let logits: [Float] = [1.5, -0.25, 3, 0.5, 2, 2, -1, 0]
        let labels: [Int32] = [2, 0]
        let got = LiRA.logitScaledConfidence(logits: logits, labels: labels, classes: 4)
        for i in 0..<2 {
            let row = (0..<4).map { Double(logits[i * 4 + $0]) }, y = Int(labels[i])
            let p = row.map { exp($0) }.map { $0 / row.map { exp($0) }.reduce(0, +) }
            let expected = log(p[y]) - log(p.enumerated().filter { $0.offset != y }.map(\.element).reduce(0, +))
            XCTAssertEqual(got[i], expected, accuracy: 1e-12)
        }
        let extreme = LiRA.logitScaledConfidence(logits: [0, 1000, 0, 1000], labels: [1, 0], classes: 2)
        XCTAssertEqual(extreme, [1000, -1000])
    }

    // MARK: - LiRA on synthetic worlds

    /// IN ~ N(b+1, 0.5²), OUT ~ N(b, 0.5²), 64 shadows: the optimal per-example test has AUC Φ(Δ/(σ√2)) = Φ(√2)
    /// = 0.921; online LiRA (from logits) gets within 0.015 with the fixed variance and 0.03 per example; offline's
    /// one-sided test reaches the same optimum, and the reference's two-sided test P(|X + d| > |Y|), d = Δ/σ = 2.
    func testLiRANearGaussianOptimum() {
        let w = makeWorld(n: 4000, k: 64, delta: 1, sigma: 0.5, nullTarget: false, seed: 7)
        let optimal = normalCDF(1 / (0.5 * 2.squareRoot()))
        let labels = [Int32](repeating: 1, count: w.target.count)
        let fixed = LiRA.onlineScores(targetLogits: twoClassLogits(w.target),
                                      shadowLogits: w.shadows.map(twoClassLogits), labels: labels, classes: 2,
                                      inMask: w.mask)
        let perExample = LiRA.onlineScores(target: w.target, shadows: w.shadows, inMask: w.mask, fixVariance: false)
        let aFixed = auc(fixed, w.targetIn), aPer = auc(perExample, w.targetIn)
        XCTAssertEqual(aFixed, optimal, accuracy: 0.015, "online, fixed variance")
        XCTAssertEqual(aPer, optimal, accuracy: 0.03, "online, per-example variance")

        let oneSided = LiRA.offlineScores(target: w.target, shadows: w.shadows, inMask: w.mask, test: .paperOneSided)
        XCTAssertEqual(auc(oneSided, w.targetIn), optimal, accuracy: 0.015, "offline, paper's one-sided")
        // P(|X + d| > |Y|) = E_X[2Φ(|X + d|) − 1], by the midpoint rule on [−10, 10].
        let dd = 2.0, h = 1e-3
        var twoSidedOptimal = 0.0
        for i in 0..<20000 {
            let x = -10 + (Double(i) + 0.5) * h
            twoSidedOptimal += exp(-x * x / 2) / (2 * Double.pi).squareRoot() * (2 * normalCDF(abs(x + dd)) - 1) * h
        }
        let twoSided = LiRA.offlineScores(target: w.target, shadows: w.shadows, inMask: w.mask)
        XCTAssertEqual(auc(twoSided, w.targetIn), twoSidedOptimal, accuracy: 0.015, "offline, reference two-sided")
        XCTAssertLessThan(twoSidedOptimal, optimal - 0.02, "the two tests are told apart")
        print("LiRA synthetic: optimal \(optimal), online fixed \(aFixed), online per-example \(aPer), "
              + "offline one-sided \(auc(oneSided, w.targetIn)), offline two-sided \(auc(twoSided, w.targetIn)) "
              + "(optimal \(twoSidedOptimal))")
    }

    /// A target whose φ comes from the OUT distribution on every example: every variant scores chance (±0.04; the
    /// AUC's standard deviation here is about 0.013).
    func testLiRANullTargetIsChance() {
        let w = makeWorld(n: 2000, k: 32, delta: 1, sigma: 0.5, nullTarget: true, seed: 11)
        for fix in [true, false] {
            XCTAssertEqual(auc(LiRA.onlineScores(target: w.target, shadows: w.shadows, inMask: w.mask,
                                                 fixVariance: fix), w.targetIn), 0.5, accuracy: 0.04)
            for test in LiRAOfflineTest.allCases {
                XCTAssertEqual(auc(LiRA.offlineScores(target: w.target, shadows: w.shadows, inMask: w.mask,
                                                      fixVariance: fix, test: test), w.targetIn), 0.5, accuracy: 0.04)
            }
        }
    }

    /// An example no shadow trained on gets NaN online and a score offline; one every shadow trained on gets NaN in
    /// both.
    func testLiRAExamplesWithoutShadowsAreNaN() {
        let shadows: [[Double]] = [[1, 2, 3], [1.5, 2.5, 3.5], [0.5, 1, 2], [2, 0, 1]]
        let mask: [[Bool]] = [[true, false, true], [true, false, false], [true, false, true], [true, false, false]]
        let target: [Double] = [1, 2, 3]
        for fix in [true, false] {
            let on = LiRA.onlineScores(target: target, shadows: shadows, inMask: mask, fixVariance: fix)
            let off = LiRA.offlineScores(target: target, shadows: shadows, inMask: mask, fixVariance: fix)
            XCTAssertTrue(on[0].isNaN && on[1].isNaN && on[2].isFinite)
            XCTAssertTrue(off[0].isNaN && off[1].isFinite && off[2].isFinite)
        }
    }

    // MARK: - Reference fixture (numpy/scipy)

    struct Fixture: Decodable {
        struct RMIACase: Decodable {
            let mode: String
            let offline_a: Double
            let gamma: Double
            let proportiontocut: Double
            let scores: [Double]
        }
        let classes: Int
        let labels: [Int32]
        let population_labels: [Int32]
        let in_mask: [[Int]]
        let target_logits: [Float]
        let shadow_logits: [[Float]]
        let population_target_logits: [Float]
        let population_shadow_logits: [[Float]]
        let phi_target: [Double]
        let lira: [String: [Double]]
        let rmia: [RMIACase]
    }

    func fixture() throws -> Fixture {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/reference/attacks.json")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    func assertClose(_ got: [Double], _ expected: [Double], _ what: String, rel: Double = 1e-9) {
        XCTAssertEqual(got.count, expected.count, what)
        var worst = 0.0
        for (i, (g, e)) in zip(got, expected).enumerated() {
            let err = abs(g - e) / max(1, abs(e))
            worst = max(worst, err)
            XCTAssertLessThanOrEqual(err, rel, "\(what)[\(i)]: Lethe \(g) vs reference \(e)")
        }
        print("\(what): worst relative difference \(worst) over \(got.count) values")
    }

    /// φ, LiRA online and offline (fixed and per-example variance) match score.py + plot.py's formulas to 1e-9.
    func testLiRAMatchesReferenceFixture() throws {
        let f = try fixture()
        let mask = f.in_mask.map { $0.map { $0 == 1 } }
        let phi = LiRA.logitScaledConfidence(logits: f.target_logits, labels: f.labels, classes: f.classes)
        assertClose(phi, f.phi_target, "phi")
        for fix in [false, true] {
            let tag = fix ? "fixed" : "per_example"
            let on = LiRA.onlineScores(targetLogits: f.target_logits, shadowLogits: f.shadow_logits, labels: f.labels,
                                       classes: f.classes, inMask: mask, fixVariance: fix)
            let off = LiRA.offlineScores(targetLogits: f.target_logits, shadowLogits: f.shadow_logits,
                                         labels: f.labels, classes: f.classes, inMask: mask, fixVariance: fix)
            assertClose(on, try XCTUnwrap(f.lira["online_\(tag)"]), "LiRA online \(tag)")
            assertClose(off, try XCTUnwrap(f.lira["offline_\(tag)"]), "LiRA offline \(tag)")
        }
    }

    /// RMIA online/offline, several a, γ and trimmed means, match the numpy implementation of the reference's
    /// formulas (brute-force outer comparison) exactly.
    func testRMIAMatchesReferenceFixture() throws {
        let f = try fixture()
        let mask = f.in_mask.map { $0.map { $0 == 1 } }
        XCTAssertEqual(f.rmia.count, 5)
        for c in f.rmia {
            let got = RMIA.scores(targetLogits: f.target_logits, referenceLogits: f.shadow_logits, labels: f.labels,
                                  inMask: mask, populationTargetLogits: f.population_target_logits,
                                  populationReferenceLogits: f.population_shadow_logits,
                                  populationLabels: f.population_labels, classes: f.classes,
                                  mode: c.mode == "online" ? .online : .offline, offlineA: c.offline_a,
                                  gamma: c.gamma, proportionToCut: c.proportiontocut)
            assertClose(got, c.scores, "RMIA \(c.mode) a=\(c.offline_a) γ=\(c.gamma) cut=\(c.proportiontocut)",
                        rel: 1e-12)
        }
    }

    // MARK: - RMIA

    /// The binary search counts exactly what the O(n·m) comparison counts, ties included (probabilities on a grid of
    /// eighths, so many ratios coincide), for γ below, at and above 1.
    func testRMIABinarySearchMatchesBruteForce() {
        var rng = SplitMix(state: 3)
        func grid() -> Double { Double(1 + Int(rng.uniform() * 7)) / 8 }
        let n = 300, m = 211
        let tx = (0..<n).map { _ in grid() }, rx = (0..<n).map { _ in grid() }
        let tz = (0..<m).map { _ in grid() }, rz = (0..<m).map { _ in grid() }
        for gamma in [0.5, 1, 1.75, 2] {
            // One reference model, online: Pr(x) is that model's probability.
            let got = RMIA.scores(target: tx, references: [rx], inMask: [[Bool](repeating: true, count: n)],
                                  populationTarget: tz, populationReferences: [rz], mode: .online, gamma: gamma)
            for j in 0..<n {
                let ratio = tx[j] / rx[j]
                let count = (0..<m).filter { ratio / (tz[$0] / rz[$0]) > gamma }.count
                XCTAssertEqual(got[j], Double(count) / Double(m), "γ=\(gamma) x=\(j)")
            }
        }
    }

    /// With γ = 1 and the population identical to the targets, x's score is the fraction of the others it beats:
    /// the scores are exactly {0, 1/m, …, (m−1)/m}, uniform.
    func testRMIAPopulationEqualToTargetsIsUniform() {
        var rng = SplitMix(state: 5)
        let n = 500, k = 4
        let target = (0..<n).map { _ in 0.05 + 0.9 * rng.uniform() }
        let refs = (0..<k).map { _ in (0..<n).map { _ in 0.05 + 0.9 * rng.uniform() } }
        let mask = balancedMask(k: k, n: n, rng: &rng)
        for mode in RMIAMode.allCases {
            let s = RMIA.scores(target: target, references: refs, inMask: mask, populationTarget: target,
                                populationReferences: refs, populationInMask: mask, mode: mode)
            XCTAssertEqual(s.sorted(), (0..<n).map { Double($0) / Double(n) }, "\(mode)")
        }
    }

    /// Two-class models whose logit on the label is b + 1.5·member + noise (b ~ N(1, 1.5²) per example): a target
    /// more confident on its members ranks them higher (AUC > 0.8, and well above the target's raw confidence, which
    /// the per-example difficulty blurs); a target drawn like a non-member everywhere scores chance.
    func testRMIARanksConfidentMembersHigher() {
        var rng = SplitMix(state: 13)
        let n = 1000, m = 1000, k = 16
        let b = (0..<n).map { _ in rng.normal(1, 1.5) }, bz = (0..<m).map { _ in rng.normal(1, 1.5) }
        let mask = balancedMask(k: k, n: n, rng: &rng)
        let targetIn = (0..<n).map { _ in rng.uniform() < 0.5 ? 1 : 0 }
        func model(_ base: [Double], _ member: (Int) -> Bool) -> [Float] {
            twoClassLogits(base.indices.map { base[$0] + (member($0) ? 1.5 : 0) + rng.normal(0, 0.5) })
        }
        let refs = (0..<k).map { i in model(b, { mask[i][$0] }) }
        let popRefs = (0..<k).map { _ in model(bz, { _ in false }) }
        let labels = [Int32](repeating: 1, count: n), popLabels = [Int32](repeating: 1, count: m)
        let target = model(b, { targetIn[$0] == 1 }), nullTarget = model(b, { _ in false })
        let popTarget = model(bz, { _ in false })
        let raw = auc(RMIA.trueLabelProbability(logits: target, labels: labels, classes: 2), targetIn)
        for mode in RMIAMode.allCases {
            func run(_ t: [Float]) -> Double {
                auc(RMIA.scores(targetLogits: t, referenceLogits: refs, labels: labels, inMask: mask,
                                populationTargetLogits: popTarget, populationReferenceLogits: popRefs,
                                populationLabels: popLabels, classes: 2, mode: mode), targetIn)
            }
            let a = run(target), null = run(nullTarget)
            print("RMIA \(mode): AUC \(a) (raw confidence \(raw)), null target \(null)")
            XCTAssertGreaterThan(a, 0.8, "\(mode)")
            XCTAssertGreaterThan(a, raw + 0.1, "\(mode): the reference models must help")
            XCTAssertEqual(null, 0.5, accuracy: 0.05, "\(mode) null")
        }
    }

    // MARK: - U-LiRA

    /// Leave-one-pair-out by hand on three models per kind, per-example variance: fold 0 holds out unlearned φ = 1
    /// and retrained φ = 0 and fits the other unlearned (2, 4: median 3, std 1) and retrained (0.5, 3: median 1.75,
    /// std 1.25) models.
    func testULiRALeaveOnePairOutByHand() {
        let r = ULiRA.run(unlearned: [[1], [2], [4]], retrained: [[0], [0.5], [3]], fixVariance: false)
        func logpdf(_ x: Double, _ mu: Double, _ s: Double) -> Double {
            log(exp(-(x - mu) * (x - mu) / (2 * s * s)) / (s * (2 * Double.pi).squareRoot()))
        }
        XCTAssertEqual(r.scores[0][0], logpdf(1, 3, 1) - logpdf(1, 1.75, 1.25), accuracy: 1e-12)
        XCTAssertEqual(r.scores[3][0], logpdf(0, 3, 1) - logpdf(0, 1.75, 1.25), accuracy: 1e-12)
        XCTAssertEqual(r.modelLabels, [1, 1, 1, 0, 0, 0])
        XCTAssertEqual(r.pairLabels, r.modelLabels)
        XCTAssertEqual(r.pairScores, r.scores.map { $0[0] })
        XCTAssertEqual(r.modelScores, r.pairScores)
    }

    /// Retrained φ ~ N(b, 0.5²), unlearned φ ~ N(b + 0.5, 0.5²) on 400 forget examples, 12 models of each kind: the
    /// per-(model, example) AUC approaches the Gaussian optimum Φ(0.5/(0.5√2)) = 0.760 (within 0.05; each fit sees
    /// only 11–12 models) and the model-level aggregate separates the fleets; with one distribution for both, chance.
    func testULiRASeparatesShiftedUnlearningAndNotIdenticalOnes() {
        var rng = SplitMix(state: 17)
        let n = 400, count = 12
        let b = (0..<n).map { _ in rng.normal(0, 1.5) }
        func fleet(_ shift: Double) -> [[Double]] { (0..<count).map { _ in b.map { rng.normal($0 + shift, 0.5) } } }
        let optimal = normalCDF(0.5 / (0.5 * 2.squareRoot()))
        let retrained = fleet(0)
        let shifted = ULiRA.run(unlearnedLogits: fleet(0.5).map(twoClassLogits),
                                retrainedLogits: retrained.map(twoClassLogits),
                                labels: [Int32](repeating: 1, count: n), classes: 2)
        let pairAUC = auc(shifted.pairScores, shifted.pairLabels)
        let modelAUC = auc(shifted.modelScores, shifted.modelLabels)
        XCTAssertEqual(pairAUC, optimal, accuracy: 0.05)
        XCTAssertEqual(modelAUC, 1)
        XCTAssertGreaterThan(shifted.pairBalancedAccuracyAtZero, 0.6)

        let same = ULiRA.run(unlearned: fleet(0), retrained: retrained)
        let nullAUC = auc(same.pairScores, same.pairLabels)
        XCTAssertEqual(nullAUC, 0.5, accuracy: 0.05)
        XCTAssertEqual(same.pairBalancedAccuracyAtZero, 0.5, accuracy: 0.05)
        // No systematic lean under the null: the model-level AUC, averaged over 8 seeds of identical fleets, is
        // chance (its spread per seed is about 0.12; a fit-size imbalance drove it to 0.08 in one seed).
        var modelNull = [Double]()
        for seed in 0..<8 {
            var g = SplitMix(state: 1000 + UInt64(seed))
            let bb = (0..<n).map { _ in g.normal(0, 1.5) }
            let fleets = (0..<2).map { _ in (0..<count).map { _ in bb.map { g.normal($0, 0.5) } } }
            let r = ULiRA.run(unlearned: fleets[0], retrained: fleets[1])
            modelNull.append(auc(r.modelScores, r.modelLabels))
        }
        let meanModelNull = modelNull.reduce(0, +) / Double(modelNull.count)
        XCTAssertEqual(meanModelNull, 0.5, accuracy: 0.12, "\(modelNull)")
        let perExample = ULiRA.run(unlearned: fleet(0.5), retrained: retrained, fixVariance: false)
        print("U-LiRA: pair AUC \(pairAUC) (optimal \(optimal)), model AUC \(modelAUC), balanced accuracy "
              + "\(shifted.pairBalancedAccuracyAtZero); per-example variance pair AUC "
              + "\(auc(perExample.pairScores, perExample.pairLabels)); identical fleets pair AUC \(nullAUC), "
              + "balanced accuracy \(same.pairBalancedAccuracyAtZero), model AUC \(auc(same.modelScores, same.modelLabels)); "
              + "null model AUC over 8 seeds \(modelNull) (mean \(meanModelNull))")
    }
}
