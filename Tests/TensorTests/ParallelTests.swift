// Parallel's worker teams: every index once, fixed chunks, nesting that stays serial, and teams that follow the
// calling thread's thread count.
import Foundation
import XCTest
import Tensor

final class ParallelTests: XCTestCase {
    override func tearDown() { Parallel.threads = 1 }

    func testEveryIndexRunsOnceInFixedChunksForEachThreadCount() {
        for threads in [1, 2, 3, 5] {
            Parallel.threads = threads
            for count in [0, 1, 2, 7, 64, 1000] {
                let hits = UnsafeMutablePointer<Int>.allocate(capacity: max(1, count))
                hits.initialize(repeating: 0, count: max(1, count))
                let owners = UnsafeMutablePointer<Int>.allocate(capacity: max(1, count))
                Parallel.forEachWorker(count) { worker, range in
                    for i in range { hits[i] += 1; owners[i] = worker }
                }
                let t = max(1, min(threads, count)), chunk = count == 0 ? 1 : (count + t - 1) / t
                for i in 0..<count {
                    XCTAssertEqual(hits[i], 1, "index \(i) of \(count) with \(threads) threads")
                    XCTAssertEqual(owners[i], i / chunk, "index \(i) went to another chunk")
                }
                hits.deallocate()
                owners.deallocate()
            }
        }
    }

    func testNestedLoopsRunSeriallyInsideAWorker() {
        Parallel.threads = 2
        let inner = UnsafeMutablePointer<Int>.allocate(capacity: 2)
        inner.initialize(repeating: 0, count: 2)
        Parallel.forEachWorker(2) { worker, _ in
            XCTAssertEqual(Parallel.threads, 1)
            var calls = 0
            Parallel.forEachChunk(100) { range in calls += 1; XCTAssertEqual(range, 0..<100) }
            inner[worker] = calls
        }
        XCTAssertEqual(Parallel.threads, 2, "the caller's thread count is restored")
        XCTAssertEqual([inner[0], inner[1]], [1, 1])
        inner.deallocate()
    }

    func testManyRegionsAndChangingThreadCounts() {
        // Thousands of back-to-back regions (the helpers spin between them) and teams rebuilt when the count changes.
        var total = 0
        for round in 0..<3000 {
            Parallel.threads = round % 1000 == 999 ? 3 : 2
            let sums = UnsafeMutablePointer<Int>.allocate(capacity: 3)
            sums.initialize(repeating: 0, count: 3)
            Parallel.forEachWorker(30) { worker, range in sums[worker] = range.reduce(0, +) }
            total += sums[0] + sums[1] + sums[2]
            sums.deallocate()
        }
        XCTAssertEqual(total, 3000 * (0..<30).reduce(0, +))
    }

    func testThreadsOfDifferentJobsHaveTheirOwnTeams() {
        let group = DispatchGroup()
        nonisolated(unsafe) let results = UnsafeMutablePointer<Int>.allocate(capacity: 4)
        for job in 0..<4 {
            group.enter()
            Thread.detachNewThread {
                Parallel.threads = 2
                var sum = 0
                for _ in 0..<500 {
                    let parts = UnsafeMutablePointer<Int>.allocate(capacity: 2)
                    Parallel.forEachWorker(1000) { worker, range in parts[worker] = range.reduce(0, +) }
                    sum += parts[0] + parts[1]
                    parts.deallocate()
                }
                results[job] = sum
                group.leave()
            }
        }
        group.wait()
        for job in 0..<4 { XCTAssertEqual(results[job], 500 * 999 * 1000 / 2) }
        results.deallocate()
    }
}
