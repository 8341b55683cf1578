// The engine's breadth through the daemon: the zoo's architectures, training options, per-job threads, and
// several small models training at once.
import Foundation
import JSONRPC
import XCTest

final class EngineOverSocketTests: XCTestCase {
    var daemon: DaemonProcess!

    override func setUpWithError() throws { daemon = try DaemonProcess() }
    override func tearDown() { daemon.stop() }

    private func ok(_ reply: JSONValue) throws -> JSONValue {
        guard let r = reply.result else { throw HarnessError("expected a result, got \(reply)") }
        return r
    }

    func testZooArchitecturesTrainAndDescribeThemselves() throws {
        let c = try daemon.connect()
        _ = try ok(c.call("dataset/load", ["name": "d", "path": .string(try writeSyntheticIDX(train: 120, test: 30, side: 16)), "classes": 3]))
        let layers: JSONValue = [["type": "conv2d", "out": 4, "kernel": 3, "padding": 1], ["type": "batchnorm2d"], ["type": "leakyrelu"],
                                 ["type": "maxpool2d", "kernel": 2], ["type": "flatten"], ["type": "dropout", "p": 0.2], ["type": "linear", "out": 3]]
        let specs: [(String, JSONValue)] = [
            ("cnn", ["kind": "cnn", "channels": [4, 8], "hidden": [16]]),
            ("resnet", ["kind": "resnet18", "width": 4, "cifarStem": true]),
            ("seq", ["kind": "layers", "layers": layers]),
        ]
        for (name, spec) in specs {
            _ = try ok(c.call("model/create", ["name": .string(name), "architecture": spec, "dataset": "d", "seed": 1]))
            let info = try ok(c.call("model/info", ["model": .string(name)]))
            guard case .array(let rows)? = info["layers"] else { return XCTFail("\(info)") }
            XCTAssertEqual(rows.last?["outputShape"], [3], name)
            XCTAssertGreaterThan(info["flopsPerExample"]!.number, 0)
            XCTAssertEqual(info["trained"], false)
            // The options run through the convolution, BatchNorm and dropout paths here; what each one computes is
            // pinned by testTrainingOptionsMatchAReferenceImplementation.
            let trained = try ok(c.call("model/train", ["model": .string(name), "dataset": "d", "epochs": 6, "batchSize": 16,
                                                        "optimizer": "adamw", "lr": 0.01, "schedule": "cosine", "warmup": 1,
                                                        "clipNorm": 5, "labelSmoothing": 0.05, "threads": 2]))
            XCTAssertGreaterThan(trained["accuracy"]!.number, 0.6, "\(name) learns the synthetic classes: \(trained)")
            XCTAssertNotEqual(trained["fingerprint"], info["fingerprint"], "\(name): training changed the weights")
            let after = try ok(c.call("model/info", ["model": .string(name)]))
            XCTAssertEqual(after["trained"], true)
            XCTAssertEqual(after["fingerprint"], trained["fingerprint"], "\(name): the trained weights are the ones published")
            // In evaluation mode (running statistics, no dropout) the model also tells the classes apart on unseen data.
            let test = try ok(c.call("model/predict", ["model": .string(name), "dataset": "d", "part": "test"]))
            XCTAssertGreaterThan(test["accuracy"]!.number, 0.6, "\(name) on the test part: \(test["accuracy"]!)")
        }
        let resnet = try ok(c.call("model/info", ["model": "resnet"]))
        XCTAssertGreaterThan(resnet["bufferCount"]!.number, 0, "BatchNorm running statistics")
    }

    /// Freezing one layer keeps exactly its weights, bit for bit, weight decay and momentum included, while the
    /// others train — with SGD and with AdamW (separate update loops), by prefix and by a whole tensor name.
    func testFrozenLayersStayFixed() throws {
        let c = try daemon.connect()
        _ = try ok(c.call("dataset/load", ["name": "d", "path": .string(try writeSyntheticIDX(train: 60, test: 30)), "classes": 3]))
        let scratch = NSTemporaryDirectory() + "lethe-frozen-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        func tensors(_ model: String) throws -> [String: (shape: [Int], values: [Float])] {
            let path = "\(scratch)/\(model)-\(UUID().uuidString.prefix(4)).safetensors"
            _ = try ok(c.call("model/save", ["model": .string(model), "path": .string(path)]))
            return try readSafetensors(path)
        }
        let cases: [(name: String, frozen: [String], optimizer: String, kept: Set<String>)] = [
            ("sgd", ["1."], "sgd", ["1.weight", "1.bias"]),
            ("adamw", ["3.weight"], "adamw", ["3.weight"]),
        ]
        for (name, frozen, optimizer, kept) in cases {
            _ = try ok(c.call("model/create", ["name": .string(name), "architecture": ["kind": "mlp", "hidden": [8]], "dataset": "d", "seed": 2]))
            let before = try tensors(name)
            XCTAssertEqual(Set(before.keys), ["1.weight", "1.bias", "3.weight", "3.bias"])
            _ = try ok(c.call("model/train", ["model": .string(name), "dataset": "d", "epochs": 2, "batchSize": 16, "optimizer": .string(optimizer),
                                              "lr": 0.05, "momentum": 0.9, "weightDecay": 0.01, "frozen": .array(frozen.map { .string($0) })]))
            let after = try tensors(name)
            for (tensor, old) in before {
                let new = try XCTUnwrap(after[tensor]).values
                let bitsEqual = zip(old.values, new).filter { $0.bitPattern == $1.bitPattern }.count
                if kept.contains(tensor) {
                    XCTAssertEqual(bitsEqual, old.values.count, "\(name): frozen \(tensor) must keep every bit")
                } else {
                    // Weight decay moves every trained value; a frozen mask applied too widely would keep them.
                    XCTAssertEqual(bitsEqual, 0, "\(name): \(tensor) is not frozen and must train (\(bitsEqual) of \(old.values.count) unchanged)")
                }
            }
        }
        // Freezing everything: training runs but the weights stay as they were.
        let fingerprint = try ok(c.call("model/info", ["model": "sgd"]))["fingerprint"]
        let all = try ok(c.call("model/train", ["model": "sgd", "dataset": "d", "epochs": 1, "frozen": ["1.", "3."]]))
        XCTAssertEqual(all["fingerprint"], fingerprint)
        let bad = try c.call("model/train", ["model": "sgd", "dataset": "d", "frozen": ["layer9."]])
        XCTAssertEqual(bad.errorCode, -32602)
        XCTAssertTrue(bad.errorMessage.contains("layer9."), bad.errorMessage)
    }

    /// Every training option, checked against an independent reference: a 16-6-3 MLP trained full-batch (one step
    /// per epoch, so the shuffle order cannot matter) by the daemon must end with the weights, and report the last
    /// epoch's loss, that a float64 transcription of the documented rules (PyTorch's: SGD with Nesterov momentum and
    /// L2 decay, Adam, AdamW's decoupled decay, clip_grad_norm_, weighted label-smoothed cross-entropy, warm-up then
    /// cosine or step schedules) computes from the same initial weights. Each recipe also proves the comparison can
    /// fail: dropping any one of its options from the reference moves the weights far past the tolerance.
    func testTrainingOptionsMatchAReferenceImplementation() throws {
        let side = 4, d = 16, h = 6, classes = 3, n = 24
        var state: UInt64 = 99
        func byte() -> UInt8 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(state >> 56)
        }
        var pixels: [UInt8] = [], labels: [UInt8] = []
        for i in 0..<n {
            labels.append(UInt8(i % classes))
            // Class-dependent but overlapping, so the loss stays well away from zero.
            for p in 0..<d { pixels.append(p % classes == i % classes ? 96 + byte() / 2 : byte() / 2) }
        }
        let dir = try writeIDX(trainPixels: pixels, trainLabels: labels, testPixels: Array(pixels[0..<(3 * d)]),
                               testLabels: Array(labels[0..<3]), side: side)
        let x = (0..<n).map { i in (0..<d).map { Double(Float(pixels[i * d + $0]) * (1 / 255)) } }
        let y = labels.map(Int.init)

        let c = try daemon.connect()
        _ = try ok(c.call("dataset/load", ["name": "d", "path": .string(dir), "classes": 3]))
        let scratch = NSTemporaryDirectory() + "lethe-reference-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        func weights(_ model: String) throws -> ReferenceMLP {
            let path = "\(scratch)/\(model).safetensors"
            _ = try ok(c.call("model/save", ["model": .string(model), "path": .string(path)]))
            let t = try readSafetensors(path)
            return ReferenceMLP(w1: t["1.weight"]!.values.map(Double.init), b1: t["1.bias"]!.values.map(Double.init),
                                w2: t["3.weight"]!.values.map(Double.init), b2: t["3.bias"]!.values.map(Double.init), d: d, h: h, c: classes)
        }
        _ = try ok(c.call("model/create", ["name": "init", "architecture": ["kind": "mlp", "hidden": [6]], "dataset": "d", "seed": 7]))
        let initial = try weights("init")
        // Clip at half the first step's gradient norm: the first steps are clipped for sure.
        let firstNorm = initial.gradients(x, y, ReferenceRecipe(epochs: 1, lr: 1, optimizer: "sgd")).norm
        let clip = (firstNorm * 0.5 * 1e4).rounded() / 1e4

        let recipes: [(String, ReferenceRecipe)] = [
            ("sgd", ReferenceRecipe(epochs: 6, lr: 0.3, optimizer: "sgd", momentum: 0.9, nesterov: true, weightDecay: 0.01,
                                    schedule: "cosine", warmup: 2, labelSmoothing: 0.1, classWeights: [1, 2, 0.5], clipNorm: clip)),
            ("adamw", ReferenceRecipe(epochs: 5, lr: 0.02, optimizer: "adamw", weightDecay: 0.5, beta1: 0.8, beta2: 0.95,
                                      schedule: "step", warmup: 1, stepSize: 2, gamma: 0.5, labelSmoothing: 0.2, clipNorm: clip)),
            ("adam", ReferenceRecipe(epochs: 4, lr: 0.01, optimizer: "adam", weightDecay: 0.2, schedule: "cosine", classWeights: [0.5, 1, 3])),
        ]
        // float32 in the daemon against float64 here: the weights agree to ~5e-8 on this machine; 2e-6 leaves room
        // for other summation orders (BLAS kernels) and is still 500× below the nearest ablation.
        let tolerance = 2e-6
        for (name, recipe) in recipes {
            _ = try ok(c.call("model/create", ["name": .string(name), "architecture": ["kind": "mlp", "hidden": [6]], "dataset": "d", "seed": 7]))
            let trained = try ok(c.call("model/train", recipe.request(model: name, dataset: "d", batchSize: n)))
            let got = try weights(name)
            let expected = initial.trained(x, y, recipe)
            XCTAssertEqual(got.maxDifference(expected.model), 0, accuracy: tolerance, "\(name): the daemon's weights are the reference's")
            XCTAssertEqual(trained["loss"]!.number, expected.lastLoss, accuracy: 1e-5, "\(name): the last epoch's mean loss")
            if recipe.clipNorm != nil { XCTAssertGreaterThan(expected.clippedSteps, 0, "\(name): clipping was active") }
            var nearest = Double.infinity
            for (option, ablated) in recipe.ablations {
                let distance = got.maxDifference(initial.trained(x, y, ablated).model)
                nearest = min(nearest, distance)
                XCTAssertGreaterThan(distance, 20 * tolerance, "\(name): without \(option) the reference must end elsewhere")
            }
            print("reference \(name): max |daemon − reference| = \(got.maxDifference(expected.model)), nearest ablation \(nearest)")
        }
    }

    /// Shadow-model style: several small models train at once on separate connections, one thread each, and end
    /// with the same bits as when trained one after another.
    func testSmallModelsTrainConcurrentlyOneThreadEach() throws {
        let setup = try daemon.connect()
        _ = try ok(setup.call("dataset/load", ["name": "d", "path": .string(try writeSyntheticIDX(train: 3000, test: 30, side: 16)), "classes": 3]))
        let names = ["a", "b", "c"]
        for n in names + ["serial"] {
            _ = try ok(setup.call("model/create", ["name": .string(n), "architecture": ["kind": "mlp", "hidden": [256]], "dataset": "d", "seed": 3]))
        }
        let params: JSONValue = ["dataset": "d", "epochs": 3, "batchSize": 8, "seed": 5, "threads": 1]
        func withModel(_ name: String) -> JSONValue {
            guard case .object(var o) = params else { return params }
            o["model"] = .string(name)
            return .object(o)
        }
        let serial = try ok(setup.call("model/train", withModel("serial")))["fingerprint"]
        let connections = try names.map { _ in try daemon.connect() }
        let ids = try zip(connections, names).map { try $0.send("model/train", withModel($1)) }
        var sawTwoJobs = false
        for _ in 0..<100 where !sawTwoJobs {
            if case .array(let jobs)? = try ok(setup.call("server/status"))["jobs"], jobs.count >= 2 { sawTwoJobs = true }
            usleep(5_000)
        }
        for (c, id) in zip(connections, ids) {
            XCTAssertEqual(try ok(c.reply(to: id))["fingerprint"], serial)
        }
        XCTAssertTrue(sawTwoJobs, "the jobs ran at the same time")
    }
}

/// A training recipe as the reference applies it, and as the request that asks the daemon for the same.
struct ReferenceRecipe {
    var epochs: Int
    var lr: Double
    var optimizer: String
    var momentum = 0.0
    var nesterov = false
    var weightDecay = 0.0
    var beta1 = 0.9
    var beta2 = 0.999
    var schedule = "constant"
    var warmup = 0
    var stepSize = 30
    var gamma = 0.1
    var labelSmoothing = 0.0
    var classWeights: [Double]? = nil
    var clipNorm: Double? = nil

    func request(model: String, dataset: String, batchSize: Int) -> JSONValue {
        var o: [String: JSONValue] = [
            "model": .string(model), "dataset": .string(dataset), "epochs": .number(Double(epochs)), "batchSize": .number(Double(batchSize)),
            "lr": .number(lr), "optimizer": .string(optimizer), "momentum": .number(momentum), "nesterov": .bool(nesterov),
            "weightDecay": .number(weightDecay), "beta1": .number(beta1), "beta2": .number(beta2), "schedule": .string(schedule),
            "warmup": .number(Double(warmup)), "stepSize": .number(Double(stepSize)), "gamma": .number(gamma),
            "labelSmoothing": .number(labelSmoothing), "seed": 1, "threads": 1,
        ]
        if let classWeights { o["classWeights"] = .array(classWeights.map { .number($0) }) }
        if let clipNorm { o["clipNorm"] = .number(clipNorm) }
        return .object(o)
    }

    /// The same recipe with one of its options taken away, for every option it sets.
    var ablations: [(String, ReferenceRecipe)] {
        var out: [(String, ReferenceRecipe)] = []
        func without(_ name: String, _ change: (inout ReferenceRecipe) -> Void) {
            var r = self
            change(&r)
            out.append((name, r))
        }
        if labelSmoothing > 0 { without("labelSmoothing") { $0.labelSmoothing = 0 } }
        if classWeights != nil { without("classWeights") { $0.classWeights = nil } }
        if clipNorm != nil { without("clipNorm") { $0.clipNorm = nil } }
        if warmup > 0 { without("warmup") { $0.warmup = 0 } }
        if schedule != "constant" { without("schedule \(schedule)") { $0.schedule = "constant" } }
        if schedule == "step" { without("gamma") { $0.gamma = 0.1 } }
        if weightDecay > 0 { without("weightDecay") { $0.weightDecay = 0 } }
        if optimizer == "sgd" && momentum > 0 { without("momentum") { $0.momentum = 0 } }
        if optimizer == "sgd" && nesterov { without("nesterov") { $0.nesterov = false } }
        if optimizer != "sgd" {
            without("\(optimizer)'s weight decay form") { $0.optimizer = $0.optimizer == "adam" ? "adamw" : "adam" }
            if beta1 != 0.9 { without("beta1") { $0.beta1 = 0.9 } }
            if beta2 != 0.999 { without("beta2") { $0.beta2 = 0.999 } }
        }
        return out
    }

    func learningRate(epoch t: Int) -> Double {
        if t < warmup { return lr * Double(t + 1) / Double(warmup) }
        let u = t - warmup, length = max(epochs - warmup, 1)
        switch schedule {
        case "step": return lr * pow(gamma, Double(u / stepSize))
        case "cosine": return lr * (1 + cos(Double.pi * Double(u) / Double(length))) / 2
        default: return lr
        }
    }
}

/// Flatten → Linear(d, h) → ReLU → Linear(h, c) in float64, parameters in PyTorch's layout and state_dict order.
struct ReferenceMLP {
    var w1: [Double], b1: [Double], w2: [Double], b2: [Double]
    let d: Int, h: Int, c: Int

    var flat: [Double] { w1 + b1 + w2 + b2 }

    func with(flat p: [Double]) -> ReferenceMLP {
        let a = h * d, b = a + h, e = b + c * h
        return ReferenceMLP(w1: Array(p[0..<a]), b1: Array(p[a..<b]), w2: Array(p[b..<e]), b2: Array(p[e...]), d: d, h: h, c: c)
    }

    func maxDifference(_ other: ReferenceMLP) -> Double { zip(flat, other.flat).map { abs($0 - $1) }.max() ?? .infinity }

    /// The batch's mean loss, its gradient (flat, in parameter order) and the gradient's L2 norm. Per example the
    /// loss is Σ_k a_k·(−log p_k) with a_k = (1−ε)·w_y·[k=y] + (ε/C)·w_k; the mean divides by Σ w_y (PyTorch's
    /// weighted mean), so ∂l/∂z_j = p_j·Σa − a_j.
    func gradients(_ x: [[Double]], _ y: [Int], _ r: ReferenceRecipe) -> (loss: Double, gradient: [Double], norm: Double) {
        let weights = r.classWeights ?? [Double](repeating: 1, count: c), eps = r.labelSmoothing
        var gw1 = [Double](repeating: 0, count: h * d), gb1 = [Double](repeating: 0, count: h)
        var gw2 = [Double](repeating: 0, count: c * h), gb2 = [Double](repeating: 0, count: c)
        var total = 0.0, normaliser = 0.0
        for (xb, yb) in zip(x, y) {
            let pre = (0..<h).map { j in b1[j] + (0..<d).reduce(0) { $0 + w1[j * d + $1] * xb[$1] } }
            let hidden = pre.map { max($0, 0) }
            let z = (0..<c).map { k in b2[k] + (0..<h).reduce(0) { $0 + w2[k * h + $1] * hidden[$1] } }
            let top = z.max()!
            let lse = top + log(z.reduce(0) { $0 + exp($1 - top) })
            let a = (0..<c).map { k in (k == yb ? (1 - eps) * weights[yb] : 0) + eps / Double(c) * weights[k] }
            let mass = a.reduce(0, +)
            total += (0..<c).reduce(0) { $0 + a[$1] * (lse - z[$1]) }
            normaliser += weights[yb]
            let dz = (0..<c).map { k in exp(z[k] - lse) * mass - a[k] }
            var dh = [Double](repeating: 0, count: h)
            for k in 0..<c {
                gb2[k] += dz[k]
                for j in 0..<h {
                    gw2[k * h + j] += dz[k] * hidden[j]
                    dh[j] += w2[k * h + j] * dz[k]
                }
            }
            for j in 0..<h where pre[j] > 0 {
                gb1[j] += dh[j]
                for i in 0..<d { gw1[j * d + i] += dh[j] * xb[i] }
            }
        }
        let gradient = (gw1 + gb1 + gw2 + gb2).map { $0 / normaliser }
        return (total / normaliser, gradient, gradient.reduce(0) { $0 + $1 * $1 }.squareRoot())
    }

    /// Full-batch training: one optimizer step per epoch.
    func trained(_ x: [[Double]], _ y: [Int], _ r: ReferenceRecipe) -> (model: ReferenceMLP, lastLoss: Double, clippedSteps: Int) {
        var p = flat
        var velocity = [Double](repeating: 0, count: p.count), m = velocity, s = velocity
        var lastLoss = 0.0, clipped = 0
        for epoch in 0..<r.epochs {
            let lr = r.learningRate(epoch: epoch)
            var (loss, g, norm) = with(flat: p).gradients(x, y, r)
            lastLoss = loss
            if let maxNorm = r.clipNorm, maxNorm / (norm + 1e-6) < 1 {  // torch.nn.utils.clip_grad_norm_
                g = g.map { $0 * maxNorm / (norm + 1e-6) }
                clipped += 1
            }
            let t = Double(epoch + 1)
            for i in p.indices {
                switch r.optimizer {
                case "sgd":  // torch.optim.SGD: L2 decay in the gradient, v = g on the first step
                    let grad = g[i] + r.weightDecay * p[i]
                    velocity[i] = epoch == 0 ? grad : r.momentum * velocity[i] + grad
                    p[i] -= lr * (r.nesterov ? grad + r.momentum * velocity[i] : velocity[i])
                default:  // torch.optim.Adam (L2 decay) and AdamW (decoupled decay), ε = 1e-8
                    let decoupled = r.optimizer == "adamw"
                    let grad = g[i] + (decoupled ? 0 : r.weightDecay * p[i])
                    m[i] = r.beta1 * m[i] + (1 - r.beta1) * grad
                    s[i] = r.beta2 * s[i] + (1 - r.beta2) * grad * grad
                    let mHat = m[i] / (1 - pow(r.beta1, t)), sHat = s[i] / (1 - pow(r.beta2, t))
                    p[i] = p[i] * (decoupled ? 1 - lr * r.weightDecay : 1) - lr * mHat / (sHat.squareRoot() + 1e-8)
                }
            }
        }
        return (with(flat: p), lastLoss, clipped)
    }
}
