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

final class OpenRPCMethodListTests: XCTestCase {
    /// The document's lists of unlearning methods are the registry's, in its order: forget's `method` param and
    /// result, and nothing written by hand that could go stale.
    func testOpenRPCListsTheRegisteredMethods() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/LetheDaemon/Resources/lethe.openrpc.json").standardized
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as! [String: Any]
        let methods = document["methods"] as! [[String: Any]]
        let forget = try XCTUnwrap(methods.first { $0["name"] as? String == "forget" })
        let param = try XCTUnwrap((forget["params"] as! [[String: Any]]).first { $0["name"] as? String == "method" })
        XCTAssertEqual((param["schema"] as! [String: Any])["enum"] as? [String], UnlearningRegistry.names, "forget's method param")
        let result = ((forget["result"] as! [String: Any])["schema"] as! [String: Any])["properties"] as! [String: Any]
        XCTAssertEqual((result["method"] as! [String: Any])["enum"] as? [String], UnlearningRegistry.names, "forget's result method")
    }
}
