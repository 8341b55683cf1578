// Softmax cross-entropy over logits, with per-example values (membership-inference attacks need them).
import Tensor

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

public enum CrossEntropy {
    /// Mean loss over the batch. Writes ∂(mean loss)/∂logits into `dLogits` when given, and the per-example
    /// losses into `perExample` when given.
    /// logits: [B, C]; labels: [B] in 0..<C; dLogits: [B, C]; perExample: [B]
    @discardableResult
    public static func forward(
        logits: Tensor, labels: UnsafePointer<Int32>, dLogits: Tensor? = nil,
        perExample: UnsafeMutablePointer<Float>? = nil
    ) -> Float {
        let batch = logits.rows
        let classes = logits.rowSize
        dLogits?.resize(logits.shape)
        var total: Double = 0
        let scale = 1 / Float(batch)
        for b in 0..<batch {
            let row = logits.data + b * classes
            let y = Int(labels[b])
            let lse = Kernels.logSumExp(row, classes)
            let loss = lse - row[y]
            total += Double(loss)
            perExample?[b] = loss
            if let d = dLogits {
                let drow = d.data + b * classes
                for c in 0..<classes { drow[c] = expf(row[c] - lse) * scale }
                drow[y] -= scale
            }
        }
        return Float(total / Double(max(batch, 1)))
    }
}
