// Docs/Methods.md's tables are rendered from the method registry; this test fails when the file has drifted.
// LETHE_WRITE_DOCS=1 swift test --filter MethodsDocTests rewrites them in place.
import Foundation
import Unlearning
import XCTest

final class MethodsDocTests: XCTestCase {
    func testMethodsDocumentMatchesTheRegistry() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Docs/Methods.md").standardized.path
        var text = try String(contentsOfFile: path, encoding: .utf8)
        var drifted: [String] = []
        for (marker, generated) in [("methods table", UnlearningRegistry.markdownTable()),
                                    ("hyperparameters", UnlearningRegistry.markdownHyperparameters())] {
            let begin = "<!-- BEGIN GENERATED: \(marker) -->\n", end = "<!-- END GENERATED: \(marker) -->"
            guard let b = text.range(of: begin), let e = text.range(of: end, range: b.upperBound..<text.endIndex) else {
                return XCTFail("Docs/Methods.md has no '\(marker)' markers")
            }
            if String(text[b.upperBound..<e.lowerBound]) != generated {
                drifted.append(marker)
                text.replaceSubrange(b.upperBound..<e.lowerBound, with: generated)
            }
        }
        if !drifted.isEmpty, ProcessInfo.processInfo.environment["LETHE_WRITE_DOCS"] != nil {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        XCTAssertTrue(drifted.isEmpty, "Docs/Methods.md differs from the registry in: \(drifted.joined(separator: ", ")); "
                      + "run LETHE_WRITE_DOCS=1 swift test -c release --filter MethodsDocTests")
    }
}
