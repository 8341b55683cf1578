// Losses over logits, with per-example values (membership-inference attacks need them).
import Tensor

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Cross-entropy options, PyTorch's nn.CrossEntropyLoss(weight=, label_smoothing=).
public struct CrossEntropyOptions: Codable, Sendable, Equatable {
    /// Per-class weights; the mean is Σ w_y·l / Σ w_y, as PyTorch's weighted mean.
    public var classWeights: [Float]?
    /// ε: the target is (1−ε)·onehot + ε/C.
    public var labelSmoothing: Float

    public init(classWeights: [Float]? = nil, labelSmoothing: Float = 0) {
        self.classWeights = classWeights
        self.labelSmoothing = labelSmoothing
    }

    /// No class weights, no label smoothing: nn.CrossEntropyLoss().
    public static let plain = CrossEntropyOptions()
}

/// Cross-entropy over logits, with PyTorch's class weights and label smoothing.
public enum CrossEntropy {
    /// Mean loss over the batch. Writes ∂(mean loss)/∂logits into `dLogits` when given, and the per-example
    /// (unnormalised, weighted) losses into `perExample` when given.
    /// logits: [B, C]; labels: [B] in 0..<C; dLogits: [B, C]; perExample: [B]
    /// Per example: l = (1−ε)·w_y·(−log p_y) + (ε/C)·Σ_c w_c·(−log p_c); mean = Σ l / Σ w_y.
    @discardableResult
    public static func forward(
        logits: Tensor, labels: UnsafePointer<Int32>, options: CrossEntropyOptions = .plain, dLogits: Tensor? = nil,
        perExample: UnsafeMutablePointer<Float>? = nil
    ) -> Float {
        let batch = logits.rows, classes = logits.rowSize
        let eps = options.labelSmoothing
        let w = options.classWeights
        dLogits?.resize(logits.shape)
        var total = 0.0, normaliser = 0.0
        for b in 0..<batch { normaliser += Double(w?[Int(labels[b])] ?? 1) }
        let scale = Float(1 / max(normaliser, 1e-30))
        for b in 0..<batch {
            let row = logits.data + b * classes
            let y = Int(labels[b])
            let lse = Kernels.logSumExp(row, classes)
            let wy = w?[y] ?? 1
            var loss = (1 - eps) * wy * (lse - row[y])
            var smoothWeight: Float = 0  // Σ_c w_c
            if eps > 0 {
                var s: Float = 0
                for c in 0..<classes {
                    let wc = w?[c] ?? 1
                    s += wc * (lse - row[c])
                    smoothWeight += wc
                }
                loss += eps / Float(classes) * s
            }
            total += Double(loss)
            perExample?[b] = loss
            if let d = dLogits {
                // ∂l/∂z_c = p_c·((1−ε)·w_y + (ε/C)·Σw) − (1−ε)·w_y·[c=y] − (ε/C)·w_c
                let drow = d.data + b * classes
                let mass = (1 - eps) * wy + eps / Float(classes) * smoothWeight
                for c in 0..<classes {
                    var g = expf(row[c] - lse) * mass
                    if eps > 0 { g -= eps / Float(classes) * (w?[c] ?? 1) }
                    drow[c] = g * scale
                }
                drow[y] -= (1 - eps) * wy * scale
            }
        }
        return Float(total) * scale
    }
}

/// KL(teacher ‖ student) on temperature-softened distributions, as distillation methods (SCRUB, bad-teacher) use:
/// T² · (1/B) · Σ_b Σ_c p_t·(log p_t − log p_s), with p = softmax(z/T). PyTorch: F.kl_div(log_softmax(s/T),
/// softmax(t/T), reduction="batchmean") · T².
public enum KLDivergence {
    /// Mean T²·KL over the batch (student, teacher: [B, C]); writes its gradient into `dStudent` and each row's value into `perExample`.
    @discardableResult
    public static func forward(student: Tensor, teacher: Tensor, temperature t: Float, dStudent: Tensor? = nil,
                               perExample: UnsafeMutablePointer<Float>? = nil) -> Float {
        let batch = student.rows, classes = student.rowSize
        dStudent?.resize(student.shape)
        var total = 0.0
        var ps = [Float](repeating: 0, count: classes), pt = [Float](repeating: 0, count: classes)
        for b in 0..<batch {
            let s = student.data + b * classes, q = teacher.data + b * classes
            var ms = -Float.infinity, mt = -Float.infinity
            for c in 0..<classes { ms = max(ms, s[c] / t); mt = max(mt, q[c] / t) }
            var zs: Float = 0, zt: Float = 0
            for c in 0..<classes { ps[c] = expf(s[c] / t - ms); zs += ps[c]; pt[c] = expf(q[c] / t - mt); zt += pt[c] }
            let lzs = logf(zs), lzt = logf(zt)
            var kl: Float = 0
            for c in 0..<classes {
                ps[c] /= zs
                pt[c] /= zt
                if pt[c] > 0 { kl += pt[c] * ((q[c] / t - mt - lzt) - (s[c] / t - ms - lzs)) }
            }
            kl *= t * t
            total += Double(kl)
            perExample?[b] = kl
            if let d = dStudent {
                let drow = d.data + b * classes
                for c in 0..<classes { drow[c] = t * (ps[c] - pt[c]) / Float(batch) }
            }
        }
        return Float(total / Double(max(batch, 1)))
    }
}

/// Mean squared error over all elements: (1/N)·Σ (y − target)².
public enum MeanSquaredError {
    /// Mean of (y − target)² over all elements; writes its gradient into `dY` and each row's mean into `perExample`.
    @discardableResult
    public static func forward(_ y: Tensor, target: UnsafePointer<Float>, dY: Tensor? = nil,
                               perExample: UnsafeMutablePointer<Float>? = nil) -> Float {
        let n = y.count, rowSize = y.rowSize
        dY?.resize(y.shape)
        var total = 0.0
        for b in 0..<y.rows {
            var rowSum: Float = 0
            for i in (b * rowSize)..<((b + 1) * rowSize) {
                let diff = y[i] - target[i]
                rowSum += diff * diff
                dY?[i] = 2 * diff / Float(n)
            }
            perExample?[b] = rowSum / Float(rowSize)
            total += Double(rowSum)
        }
        return Float(total / Double(max(n, 1)))
    }
}
