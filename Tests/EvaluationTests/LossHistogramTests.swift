// Loss histogram bins, against values worked out by hand.
import Evaluation
import XCTest

final class LossHistogramTests: XCTestCase {
    func testEdgesRunFromZeroToThe99thPercentile() {
        let losses = (0..<101).map(Double.init)  // 0…100: the 99th percentile is 99
        let edges = LossHistogram.edges(for: losses, bins: 4)
        XCTAssertEqual(edges, [0, 24.75, 49.5, 74.25, 99])
        XCTAssertEqual(LossHistogram.edges(for: [], bins: 2), [0, 0.5, 1], "no losses: the unit interval")
        XCTAssertEqual(LossHistogram.edges(for: [0, 0], bins: 1), [0, 1e-6], "never zero width")
    }

    func testCountsUseHalfOpenBinsAndKeepTheTailInTheLastBin() {
        let edges = [0.0, 1, 2, 3]
        // 0 and 0.5 in [0,1); 1 (an edge) in [1,2); 2.999 in [2,3); 3, 7, inf and nan in the last bin; -1 in the first.
        XCTAssertEqual(LossHistogram.counts([0, 0.5, 1, 2.999, 3, 7, .infinity, .nan, -1], edges: edges), [3, 1, 5])
        // Edges that are not exact in binary still bin by comparison with the edges themselves.
        let tenths = (0...10).map { Double($0) / 10 }
        XCTAssertEqual(LossHistogram.counts(tenths, edges: LossHistogram.edges(for: [1.0], bins: 10)), [1, 1, 1, 1, 1, 1, 1, 1, 1, 2])
    }
}
