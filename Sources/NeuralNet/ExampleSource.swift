// What training and inference read: labelled examples addressed by index. Datasets conform to it, so the
// engine does not depend on how data is stored or loaded.
import Tensor

/// Labelled examples addressed by index.
public protocol ExampleSource: AnyObject {
    /// Per-example shape, e.g. [1, 28, 28].
    var exampleShape: [Int] { get }
    var classCount: Int { get }
    var count: Int { get }
    /// Copies the examples at `indices` into `x` ([indices.count, exampleShape…], already sized) and their
    /// labels into `labels`.
    func gather(_ indices: ArraySlice<Int>, into x: Tensor, labels: UnsafeMutablePointer<Int32>)
    /// Whether `gather` gives the same values for an index every time (false for random augmentation), so
    /// what a frozen prefix of the network makes of them can be computed once (FrozenPrefix).
    var gathersSameValues: Bool { get }
}

extension ExampleSource {
    /// Default: not promised, so nothing is computed once from it.
    public var gathersSameValues: Bool { false }
}

/// Cooperative control of a long job: cancellation checked at every batch, and progress reports.
public final class JobControl: @unchecked Sendable {
    private let lock = NSLockLike()
    private var cancelled = false
    /// Called on the job's thread; must be cheap and thread-safe.
    public let progress: (@Sendable (Progress) -> Void)?

    /// A job that is part of a larger one (a method of `compare`): cancelling the parent cancels it too.
    public let parent: JobControl?

    public init(progress: (@Sendable (Progress) -> Void)? = nil, parent: JobControl? = nil) {
        self.progress = progress
        self.parent = parent
    }

    /// Asks the job to stop at its next check.
    public func cancel() { lock.withLock { cancelled = true } }
    /// Whether this job or its parent was cancelled.
    public var isCancelled: Bool { lock.withLock { cancelled } || (parent?.isCancelled ?? false) }

    /// Throws `JobCancelled` when the job has been cancelled.
    public func checkCancellation() throws { if isCancelled { throw JobCancelled() } }

    /// One progress report: `step` of `steps` units of a stage are done.
    public struct Progress: Sendable {
        /// What a step counts: a pass over the training examples, or a batch of a pass that is not training
        /// (an importance or statistics pass).
        public enum Unit: String, Sendable { case epoch, batch }
        /// Which part of the job: "train", "finetune", "importance", …
        public var stage: String
        /// Whether `step` and `steps` count epochs or batches.
        public var unit: Unit
        /// Units done so far.
        public var step: Int
        /// Units in the stage.
        public var steps: Int
        /// Mean loss and accuracy over the examples of the units done in this report's unit.
        public var loss: Double
        /// Mean accuracy over those examples, in [0, 1].
        public var accuracy: Double
        /// Throughput over this report's units, in examples per second.
        public var examplesPerSecond: Double
        public init(stage: String, unit: Unit, step: Int, steps: Int, loss: Double, accuracy: Double, examplesPerSecond: Double) {
            self.stage = stage
            self.unit = unit
            self.step = step
            self.steps = steps
            self.loss = loss
            self.accuracy = accuracy
            self.examplesPerSecond = examplesPerSecond
        }
    }
}

/// Thrown by a job that stops because it was cancelled.
public struct JobCancelled: Error, CustomStringConvertible {
    public init() {}
    /// "the job was cancelled".
    public var description: String { "the job was cancelled" }
}

/// A tiny mutex over pthread_mutex, so the engine needs no Foundation.
final class NSLockLike: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
