// A float32 tensor on one unsafe buffer, row-major (NCHW for images).
//
// Tensors are reference types so layers can keep their activation buffers between batches: `resize`
// reuses the allocation whenever the new shape fits, so a training loop allocates nothing per batch.

/// A float32 tensor on one unsafe buffer, row-major (NCHW for images); a class so layers can reuse buffers across batches.
public final class Tensor: @unchecked Sendable {
    /// Dimensions, outermost first.
    public private(set) var shape: [Int]
    /// The elements, row-major; valid for `count` of them (the buffer holds `capacity`).
    public private(set) var data: UnsafeMutablePointer<Float>
    /// Elements the buffer can hold without reallocating.
    public private(set) var capacity: Int

    /// Number of elements in the current shape.
    public var count: Int { shape.reduce(1, *) }
    /// Size of the leading (batch) dimension.
    public var rows: Int { shape.first ?? 1 }
    /// Elements per row: the product of every dimension but the first.
    public var rowSize: Int { shape.dropFirst().reduce(1, *) }

    public init(shape: [Int], zeroed: Bool = true) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.capacity = max(1, shape.reduce(1, *))
        self.data = .allocate(capacity: capacity)
        TensorMemory.add(capacity)
        if zeroed { data.initialize(repeating: 0, count: capacity) }
    }

    /// A tensor of `shape` holding a copy of `values` (which must fill it exactly).
    public convenience init(shape: [Int], values: [Float]) {
        precondition(values.count == shape.reduce(1, *), "\(values.count) values do not fill shape \(shape)")
        self.init(shape: shape, zeroed: false)
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit {
        data.deallocate()
        TensorMemory.add(-capacity)
    }

    /// Changes the shape, reallocating only when the new shape needs more room. Contents are unspecified after a
    /// resize that grows past the capacity.
    public func resize(_ newShape: [Int]) {
        let needed = newShape.reduce(1, *)
        if needed > capacity {
            data.deallocate()
            TensorMemory.add(needed - capacity)
            capacity = needed
            data = .allocate(capacity: needed)
        }
        shape = newShape
    }

    /// Reinterprets the same elements with another shape of equal size.
    public func reshape(_ newShape: [Int]) {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        shape = newShape
    }

    /// Sets every element of the current shape to 0.
    public func zero() { data.update(repeating: 0, count: count) }

    /// The elements as a Swift array (a copy).
    public var array: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    /// Element `index` in row-major order; unchecked.
    public subscript(index: Int) -> Float {
        get { data[index] }
        set { data[index] = newValue }
    }

    /// A new tensor with the same shape and elements.
    public func copy() -> Tensor {
        let t = Tensor(shape: shape, zeroed: false)
        t.data.update(from: data, count: count)
        return t
    }
}

/// Bytes held by every live tensor of the process, for tests and benchmarks that check a memory bound (the
/// inference batch rule). Updated only when a tensor is made, grows or goes away, never per batch once warm.
public enum TensorMemory {
    private static let lock: UnsafeMutablePointer<pthread_mutex_t> = {
        let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        m.initialize(to: pthread_mutex_t())
        pthread_mutex_init(m, nil)
        return m
    }()
    nonisolated(unsafe) private static var elements = 0

    static func add(_ count: Int) {
        pthread_mutex_lock(lock)
        elements += count
        pthread_mutex_unlock(lock)
    }

    /// Bytes of float storage held by live tensors now.
    public static var liveBytes: Int {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return elements * MemoryLayout<Float>.stride
    }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
