// An RBF-kernel C-SVC on dense rows, fitted and applied with libsvm (Chang & Lin, "LIBSVM: a library for support
// vector machines", ACM TIST 2011; Debian libsvm-dev), the library scikit-learn's SVC wraps. Its settings are
// sklearn's SVC defaults apart from C and gamma: tol 1e-3, shrinking, no probability estimates, a 200 MB kernel
// cache, unit class weights.
//
// One difference between the two builds matters and is undone here: stock libsvm numbers the classes in the order
// their labels first appear, while scikit-learn's fork sorts the labels. The class order decides which class is +1
// in the dual problem and the order of the training rows (libsvm groups them by class, keeping their order within
// a class), and so the exact point where the solver stops within its tolerance. `fit` therefore hands libsvm the
// rows sorted stably by label (ascending), which gives stock libsvm the very subproblem sklearn's fork solves: on
// 4,000 held-out points of 1- and 10-feature problems with tied values, every prediction agreed with
// SVC(C=3, gamma="auto"), against one disagreement when the members came first.
import CLibSVM

/// Why an SVM could not be fitted.
public enum SVMError: Error, CustomStringConvertible, Equatable {
    /// libsvm's `svm_check_parameter` rejected the parameters; its message.
    case invalidParameter(String)
    /// The rows or labels cannot be fitted (empty, ragged, non-finite, fewer than two classes); what is wrong.
    case invalidData(String)

    /// A one-line explanation.
    public var description: String {
        switch self {
        case .invalidParameter(let message): return "libsvm rejected the SVM parameters: \(message)"
        case .invalidData(let message): return "cannot fit an SVM: \(message)"
        }
    }
}

/// A fitted C-SVC with an RBF kernel, K(x, z) = exp(−gamma‖x − z‖²). It owns libsvm's model and the training rows
/// the model's support vectors point into, and frees both when it goes away.
public final class RBFSupportVectorClassifier {
    /// The penalty C.
    public let c: Double
    /// The kernel's gamma.
    public let gamma: Double
    /// Features per row.
    public let featureCount: Int
    /// Support vectors the fit kept.
    public let supportVectorCount: Int

    private var model: UnsafeMutablePointer<svm_model>?
    // Every training row as libsvm nodes (featureCount values, then index −1), one block: the model's SV pointers
    // point into it, so it lives exactly as long as the model.
    private let nodes: UnsafeMutablePointer<svm_node>

    /// scikit-learn's gamma="auto": 1 / features.
    public static func autoGamma(featureCount: Int) -> Double { 1 / Double(featureCount) }

    /// Fits `rows` (equal lengths, finite values) with integer `labels` (at least two distinct). `gamma` defaults to
    /// "auto" (1 / features); `tolerance` and `cacheMegabytes` to sklearn's 1e-3 and 200.
    public init(rows: [[Double]], labels: [Int], c: Double, gamma: Double? = nil, tolerance: Double = 1e-3,
                cacheMegabytes: Double = 200) throws {
        guard !rows.isEmpty, rows.count == labels.count else {
            throw SVMError.invalidData("\(rows.count) rows and \(labels.count) labels")
        }
        let width = rows[0].count
        guard width > 0 else { throw SVMError.invalidData("rows have no features") }
        if let bad = rows.firstIndex(where: { $0.count != width }) {
            throw SVMError.invalidData("row \(bad) has \(rows[bad].count) features, row 0 has \(width)")
        }
        if let bad = rows.firstIndex(where: { $0.contains { !$0.isFinite } }) {
            throw SVMError.invalidData("row \(bad) has a non-finite value")
        }
        guard Set(labels).count >= 2 else { throw SVMError.invalidData("the labels hold fewer than two classes") }
        let kernelGamma = gamma ?? Self.autoGamma(featureCount: width)
        featureCount = width
        self.c = c
        self.gamma = kernelGamma
        _ = Self.silenceLibSVM

        // Rows sorted stably by label: libsvm's class order (first appearance) becomes sklearn's (sorted).
        let order = labels.indices.sorted { (labels[$0], $0) < (labels[$1], $1) }
        let stride = width + 1
        nodes = .allocate(capacity: rows.count * stride)
        var rowPointers = [UnsafeMutablePointer<svm_node>?](repeating: nil, count: rows.count)
        var targets = [Double](repeating: 0, count: rows.count)
        for (k, i) in order.enumerated() {
            let start = nodes + k * stride
            Self.write(rows[i], to: start)
            rowPointers[k] = start
            targets[k] = Double(labels[i])
        }
        var parameter = svm_parameter()
        parameter.svm_type = Int32(C_SVC)
        parameter.kernel_type = Int32(RBF)
        parameter.gamma = kernelGamma
        parameter.cache_size = cacheMegabytes
        parameter.eps = tolerance
        parameter.C = c
        parameter.shrinking = 1
        parameter.probability = 0
        // libsvm keeps no pointer to the problem, the label array or the row-pointer array, only into `nodes`.
        let outcome = targets.withUnsafeMutableBufferPointer { y in
            rowPointers.withUnsafeMutableBufferPointer { x -> Result<UnsafeMutablePointer<svm_model>, SVMError> in
                var problem = svm_problem(l: Int32(rows.count), y: y.baseAddress, x: x.baseAddress)
                if let message = svm_check_parameter(&problem, &parameter) {
                    return .failure(.invalidParameter(String(cString: message)))
                }
                guard let model = svm_train(&problem, &parameter) else { return .failure(.invalidData("libsvm returned no model")) }
                return .success(model)
            }
        }
        switch outcome {
        case .success(let fitted):
            model = fitted
            supportVectorCount = Int(svm_get_nr_sv(fitted))
        case .failure(let error):
            nodes.deallocate()  // deinit does not run for an initializer that throws
            throw error
        }
    }

    /// Writes one row as libsvm nodes: indices 1…n, then the terminator −1.
    private static func write(_ row: [Double], to start: UnsafeMutablePointer<svm_node>) {
        for (j, value) in row.enumerated() { start[j] = svm_node(index: Int32(j + 1), value: value) }
        start[row.count] = svm_node(index: -1, value: 0)
    }

    deinit {
        svm_free_and_destroy_model(&model)
        nodes.deallocate()
    }

    /// The predicted label of one row (featureCount values).
    public func predict(_ row: [Double]) -> Int {
        precondition(row.count == featureCount, "predict: \(row.count) features, the SVM was fitted on \(featureCount)")
        let buffer = UnsafeMutablePointer<svm_node>.allocate(capacity: featureCount + 1)
        defer { buffer.deallocate() }
        Self.write(row, to: buffer)
        return Int(svm_predict(model, buffer))
    }

    /// The predicted label of each row.
    public func predict(_ rows: [[Double]]) -> [Int] { rows.map { predict($0) } }

    /// libsvm prints its solver's progress to stdout unless given a printer; a daemon's stdout is no place for it.
    private static let silenceLibSVM: Void = svm_set_print_string_function { _ in }
}
