// Binary logistic regression with an L2 penalty on the weights (not the intercept), as scikit-learn's
// LogisticRegression(C=1.0) minimises:  ½‖w‖² + C · Σ_i log(1 + exp(−s_i (w·x_i + b))),  s_i = ±1.
// Fitted by Newton's method, which for the few features of a membership attack converges to the exact optimum.

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// scikit-learn's `LogisticRegression()` for binary labels: L2 on the weights only, fitted exactly by Newton's method.
public struct LogisticRegression: Sendable {
    /// Fitted weights, one per feature.
    public private(set) var weights: [Double]
    /// Fitted intercept (not penalised).
    public private(set) var intercept: Double = 0
    /// Inverse regularisation strength (scikit-learn's C).
    public let c: Double

    /// An unfitted model for rows of `features` values.
    public init(features: Int, c: Double = 1.0) {
        weights = [Double](repeating: 0, count: features)
        self.c = c
    }

    /// x: rows of features; y: labels 0/1.
    public mutating func fit(_ x: [[Double]], _ y: [Int], maxIterations: Int = 100, tolerance: Double = 1e-10) {
        let d = weights.count
        let p = d + 1  // parameters: weights then intercept
        var theta = [Double](repeating: 0, count: p)
        for _ in 0..<maxIterations {
            var gradient = [Double](repeating: 0, count: p)
            var hessian = [Double](repeating: 0, count: p * p)
            for j in 0..<d {
                gradient[j] = theta[j]  // from ½‖w‖²
                hessian[j * p + j] = 1
            }
            for (row, label) in zip(x, y) {
                var z = theta[d]
                for j in 0..<d { z += theta[j] * row[j] }
                let prob = sigmoid(z)
                let residual = c * (prob - Double(label))
                let weight = c * prob * (1 - prob)
                for j in 0..<p {
                    let xj = j < d ? row[j] : 1
                    gradient[j] += residual * xj
                    for k in 0..<p { hessian[j * p + k] += weight * xj * (k < d ? row[k] : 1) }
                }
            }
            // A tiny ridge keeps the system solvable when the data separate perfectly.
            for j in 0..<p { hessian[j * p + j] += 1e-12 }
            guard let step = solve(hessian, gradient, p) else { break }
            var change = 0.0
            for j in 0..<p {
                theta[j] -= step[j]
                change = max(change, abs(step[j]))
            }
            if change < tolerance { break }
        }
        weights = Array(theta[0..<d])
        intercept = theta[d]
    }

    /// P(y = 1) for one row.
    public func probability(_ row: [Double]) -> Double {
        var z = intercept
        for j in 0..<weights.count { z += weights[j] * row[j] }
        return sigmoid(z)
    }

    /// Predicted class: 1 when P(y=1) > 0.5, as scikit-learn's predict.
    public func predict(_ row: [Double]) -> Int { probability(row) > 0.5 ? 1 : 0 }

    private func sigmoid(_ z: Double) -> Double { z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z)) }

    /// Gaussian elimination with partial pivoting for the small Newton system.
    private func solve(_ a: [Double], _ b: [Double], _ n: Int) -> [Double]? {
        var m = a
        var v = b
        for col in 0..<n {
            var pivot = col
            for r in (col + 1)..<max(n, col + 1) where abs(m[r * n + col]) > abs(m[pivot * n + col]) { pivot = r }
            guard abs(m[pivot * n + col]) > 0 else { return nil }
            if pivot != col {
                for k in 0..<n { m.swapAt(col * n + k, pivot * n + k) }
                v.swapAt(col, pivot)
            }
            for r in (col + 1)..<max(n, col + 1) {
                let f = m[r * n + col] / m[col * n + col]
                for k in col..<n { m[r * n + k] -= f * m[col * n + k] }
                v[r] -= f * v[col]
            }
        }
        var out = [Double](repeating: 0, count: n)
        for r in stride(from: n - 1, through: 0, by: -1) {
            var s = v[r]
            for k in (r + 1)..<max(n, r + 1) { s -= m[r * n + k] * out[k] }
            out[r] = s / m[r * n + r]
        }
        return out
    }
}
