// Work split over the job's threads. Chunks are fixed by the count and the thread count alone, so results that
// combine per-chunk partial sums are the same bits for the same thread count (Docs/Architecture.md §2.4).

/// The engine's split of work over the job's threads, with chunks fixed by the count and thread count (same bits per thread count).
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
        run(count, workers: t) { _, range in body(range) }
    }

    /// Like forEachChunk, also passing the chunk's index (0..<threads), so each worker can own scratch buffers.
    /// Inside a chunk, nested parallel loops run serially: the outer split already uses every thread.
    @inline(__always)
    public static func forEachWorker(_ count: Int, _ body: (_ worker: Int, Range<Int>) -> Void) {
        let t = max(1, min(threads, count))
        if t <= 1 {
            if count > 0 { withThreads(1) { body(0, 0..<count) } }
            return
        }
        run(count, workers: t) { worker, range in body(worker, range) }
    }

    /// `workers` contiguous chunks of 0..<count on the calling thread's team; nested loops inside run serially.
    private static func run(_ count: Int, workers t: Int, _ body: (_ worker: Int, Range<Int>) -> Void) {
        let chunk = (count + t - 1) / t
        let saved = threads
        team(size: saved).run(workers: t) { i in
            let start = i * chunk, end = min(count, start + chunk)
            guard start < end else { return }
            withThreads(1) { body(i, start..<end) }  // helpers run at 1 already; the caller's chunk must too
        }
    }

    @inline(__always)
    private static func withThreads(_ n: Int, _ body: () -> Void) {
        let saved = threads
        threads = n
        body()
        threads = saved
    }

    /// The calling thread's helpers, created on first use and replaced when its thread count changes; they stop
    /// when the thread exits.
    private static func team(size: Int) -> WorkerTeam {
        if let raw = pthread_getspecific(teamKey) {
            let team = Unmanaged<WorkerTeam>.fromOpaque(raw).takeUnretainedValue()
            if team.size == size { return team }
            team.stop()
            Unmanaged<WorkerTeam>.fromOpaque(raw).release()
        }
        let team = WorkerTeam(size: size)
        pthread_setspecific(teamKey, Unmanaged.passRetained(team).toOpaque())
        return team
    }

    private static let teamKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { raw in
            guard let raw else { return }
            let team = Unmanaged<WorkerTeam>.fromOpaque(raw).takeRetainedValue()
            team.stop()
        }
        return key
    }()

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
