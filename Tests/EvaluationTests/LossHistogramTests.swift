// Loss histogram bins, against values worked out by hand.
import Evaluation
import XCTest

final class LossHistogramTests: XCTestCase {
    func testEdgesAreGeometricFromThe1stToThe99thPercentile() {
        // 0.001, 0.002, …, 0.101: the 1st percentile is the 2nd value (0.002), the 99th the 100th (0.1).
        let losses = (1...101).map { Double($0) / 1000 }
        let edges = LossHistogram.edges(for: losses, bins: 2)
        XCTAssertEqual(edges.count, 3)
        XCTAssertEqual(edges[0], 0.002)
        XCTAssertEqual(edges[1], (0.002 * 0.1).squareRoot(), accuracy: 1e-12, "the geometric mean")
        XCTAssertEqual(edges[2], 0.1)
        XCTAssertEqual(LossHistogram.edges(for: [0, 0], bins: 1), [1e-7, 1e-6], "zeros: the floor, a decade wide")
    }

    func testCountsUseHalfOpenBinsAndKeepBothTailsInTheEndBins() {
        let edges = [0.01, 0.1, 1, 10]
        // 0 and 0.005 below the first edge; 0.01 (an edge) and 0.05 in [0.01,0.1); 0.1 in [0.1,1); 1, 9.99 in [1,10);
        // 10, 70, inf and nan in the last bin too.
        XCTAssertEqual(LossHistogram.counts([0, 0.005, 0.01, 0.05, 0.1, 1, 9.99, 10, 70, .infinity, .nan], edges: edges), [4, 1, 6])
    }
}
