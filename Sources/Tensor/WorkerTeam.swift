// The helper threads behind `Parallel`: each calling thread owns a team of `threads - 1` helpers that spin between
// parallel regions and park only after a quiet spell. GCD's concurrentPerform woke a sleeping worker for every
// region, and on this kind of VM waking an idle vCPU costs 50–100 µs, as long as a whole small matrix product:
// the `mlp` runs about ten regions per batch. Chunking is unchanged, so results are the same bits.
import Synchronization

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

final class WorkerTeam: @unchecked Sendable {
    /// Workers including the calling thread.
    let size: Int
    /// Bumped once per region; helpers wait for it to change.
    private let generation = Atomic<Int>(0)
    /// Helpers that have not finished the current region.
    private let pending = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    /// The current region's body and worker count, written before `generation` is bumped (release/acquire).
    private var body: ((Int) -> Void)?
    private var active = 0
    // On the heap: a pthread mutex or condition must not move, and `&storedProperty` promises no fixed address.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wakeUp = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var parked = 0  // under mutex

    /// How long a helper spins for the next region before parking: 2 ms, or not at all when the team has more
    /// threads than the machine has cores (spinning would then take a core from a thread with work).
    private let spinNanoseconds: UInt64

    init(size: Int) {
        self.size = size
        spinNanoseconds = size <= sysconf(Int32(_SC_NPROCESSORS_ONLN)) ? 2_000_000 : 0
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wakeUp, nil)
        for index in 1..<size { startHelper(index) }
    }

    deinit {
        pthread_cond_destroy(wakeUp)
        pthread_mutex_destroy(mutex)
        wakeUp.deallocate()
        mutex.deallocate()
    }

    /// Runs body(0) on the caller and body(1..<workers) on helpers, returning when all are done.
    func run(workers: Int, _ body: (Int) -> Void) {
        precondition(workers <= size)
        withoutActuallyEscaping(body) { escapable in
            self.body = escapable
            active = workers
            pending.store(size - 1, ordering: .relaxed)
            generation.add(1, ordering: .releasing)
            wakeParked()
            body(0)
            while pending.load(ordering: .acquiring) > 0 {}
            self.body = nil
        }
    }

    /// Stops the helpers once they finish; called when the owning thread exits.
    func stop() {
        stopping.store(true, ordering: .relaxed)
        generation.add(1, ordering: .releasing)
        wakeParked()
    }

    private func wakeParked() {
        pthread_mutex_lock(mutex)
        if parked > 0 { pthread_cond_broadcast(wakeUp) }
        pthread_mutex_unlock(mutex)
    }

    private func helperLoop(index: Int) {
        Parallel.threads = 1  // a helper's share never nests
        var seen = 0
        while true {
            seen = waitForRegion(after: seen)
            if stopping.load(ordering: .relaxed) { return }
            if index < active { body!(index) }
            pending.subtract(1, ordering: .releasing)
        }
    }

    /// Spins until the generation moves past `seen`, parking after a quiet spell; returns the new generation.
    private func waitForRegion(after seen: Int) -> Int {
        var spins = 0
        var deadline: UInt64 = 0
        while true {
            let now = generation.load(ordering: .acquiring)
            if now != seen { return now }
            spins += 1
            if spins & 1023 == 0 {
                let t = monotonicNanoseconds()
                if deadline == 0 {
                    deadline = t + spinNanoseconds
                } else if t > deadline {
                    pthread_mutex_lock(mutex)
                    parked += 1
                    while generation.load(ordering: .acquiring) == seen { pthread_cond_wait(wakeUp, mutex) }
                    parked -= 1
                    pthread_mutex_unlock(mutex)
                    deadline = 0
                }
            }
        }
    }

    private func startHelper(_ index: Int) {
        let context = Unmanaged.passRetained(HelperContext(team: self, index: index)).toOpaque()
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { raw in
            let context = Unmanaged<HelperContext>.fromOpaque(raw!).takeRetainedValue()
            context.team.helperLoop(index: context.index)
            return nil
        }, context)
        precondition(started == 0, "could not start a worker thread (\(started))")
        pthread_detach(thread)
    }
}

private final class HelperContext {
    let team: WorkerTeam
    let index: Int
    init(team: WorkerTeam, index: Int) { self.team = team; self.index = index }
}

func monotonicNanoseconds() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
}
