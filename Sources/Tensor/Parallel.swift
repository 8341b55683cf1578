// Work split over the job's threads. Chunks are fixed by the count and the thread count alone, so results that
// combine per-chunk partial sums are the same bits for the same thread count (DESIGN.md §2, determinism).
import Dispatch

public enum Parallel {
    /// Threads the engine's own kernels may use on the calling thread: each job sets its own, so jobs with
    /// different thread counts can run side by side (BLAS is set separately through `BLAS.setThreads`).
    public static var threads: Int {
        get { Int(bitPattern: pthread_getspecific(threadsKey)).clamped(1, 1024, default: defaultThreads) }
        set { pthread_setspecific(threadsKey, UnsafeRawPointer(bitPattern: max(1, newValue))) }
    }

    /// Used by threads that never set their own (the process's cores unless changed).
    nonisolated(unsafe) public static var defaultThreads = 1

    private static let threadsKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// Calls `body(range)` for `threads` contiguous chunks of 0..<count, concurrently when worthwhile.
    @inline(__always)
    public static func forEachChunk(_ count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        let t = max(1, min(threads, count / max(1, minimumChunk)))
        if t <= 1 {
            if count > 0 { body(0..<count) }
            return
        }
        let chunk = (count + t - 1) / t
        DispatchQueue.concurrentPerform(iterations: t) { i in
            let start = i * chunk
            let end = min(count, start + chunk)
            if start < end { body(start..<end) }
        }
    }

    /// Like forEachChunk, also passing the chunk's index (0..<threads), so each worker can own scratch buffers.
    /// Inside a chunk, nested parallel loops run serially: the outer split already uses every thread.
    @inline(__always)
    public static func forEachWorker(_ count: Int, _ body: (_ worker: Int, Range<Int>) -> Void) {
        let t = max(1, min(threads, count))
        let chunk = (count + t - 1) / max(t, 1)
        DispatchQueue.concurrentPerform(iterations: t) { i in
            let start = i * chunk, end = min(count, start + chunk)
            guard start < end else { return }
            let saved = threads
            threads = 1
            body(i, start..<end)
            threads = saved
        }
    }

    /// Workers forEachWorker will use for `count` items.
    public static func workers(for count: Int) -> Int { max(1, min(threads, count)) }

    /// Calls `body(i)` for each i in 0..<count, split into contiguous chunks over the threads.
    @inline(__always)
    public static func forEach(_ count: Int, minimumChunk: Int = 1, _ body: (Int) -> Void) {
        forEachChunk(count, minimumChunk: minimumChunk) { range in for i in range { body(i) } }
    }
}

extension Int {
    fileprivate func clamped(_ low: Int, _ high: Int, default value: Int) -> Int { self == 0 ? value : Swift.min(Swift.max(self, low), high) }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
