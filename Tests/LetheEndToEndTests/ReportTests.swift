// `lethe report` rendered in a real browser: headless Chromium (Debian's `chromium`, installed by `make deps`) loads
// each report, and the DOM it built must hold every expected table and chart (axes, ticks, legends, the ROC's TPR
// markers, the ε histogram's bars), with nothing fetched from elsewhere; its screenshot must not be blank.
import Foundation
import JSONRPC
import XCTest

final class ReportTests: XCTestCase {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: FileManager.default.isExecutableFile)

    /// Runs Chromium headless with `arguments` and returns its standard output.
    static func chromium(_ arguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: chromium!)
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run"] + arguments
        p.environment = ["HOME": NSTemporaryDirectory(), "PATH": "/usr/bin:/bin"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        DispatchQueue.global().asyncAfter(deadline: .now() + 90) { if p.isRunning { p.terminate() } }
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return text
    }

    static func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    func testReportsRenderInChromium() throws {
        guard Self.chromium != nil else {
            if ProcessInfo.processInfo.environment["CI"] != nil { return XCTFail("chromium is missing; `make deps` installs it") }
            throw XCTSkip("chromium is not installed (make deps installs it)")
        }
        let d = try CLITests.daemonWithModel()
        defer { d.stop() }
        let c = try d.connect()
        XCTAssertNotNil(try c.call("split/create", .object(["name": "s", "dataset": "tiny", "forget": .object(["count": 30]), "seed": 1])).result)
        XCTAssertNotNil(try c.call("model/train", .object(["model": "m", "dataset": "tiny", "epochs": 4])).result)
        let lira = try XCTUnwrap(try c.call("attack", .object(["model": "m", "split": "s", "kind": "lira", "shadows": 4])).result)
        XCTAssertNotNil(try c.call("attack", .object(["model": "m", "split": "s", "kind": "epsilon", "models": 4, "method": "finetune"])).result)
        XCTAssertNotNil(try c.call("compare", .object(["model": "m", "split": "s", "methods": ["finetune", "gradient-ascent"], "epsilonModels": 2])).result)
        guard case .array(let runs)? = try c.call("run/list").result?["runs"] else { return XCTFail("run/list") }
        func id(_ kind: String, _ method: String?) -> Int? {
            runs.first { $0["kind"]?.stringValue == kind && (method == nil || $0["method"]?.stringValue == method) }?["id"]?.doubleValue.map { Int($0) }
        }
        let dir = NSTemporaryDirectory() + "lethe-report-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        func report(_ arguments: [String]) throws -> String {
            let r = try CLITests.run(["report"] + arguments + ["--socket", d.socketPath, "--no-autostart"])
            XCTAssertEqual(r.status, 0, r.stderr)
            return r.stdout
        }
        // The default is the latest compare.
        XCTAssertTrue(try report(["-o", dir + "/latest.html"]).contains("(run \(try XCTUnwrap(id("compare", nil))), compare)"))
        _ = try report(["\(try XCTUnwrap(id("attack", "lira")))", "-o", dir + "/lira.html"])
        _ = try report(["\(try XCTUnwrap(id("attack", "finetune")))", "-o", dir + "/epsilon.html"])
        _ = try report(["\(try XCTUnwrap(id("model/train", nil)))", "-o", dir + "/train.html"])

        for page in ["latest", "lira", "epsilon", "train"] {
            let html = try String(contentsOfFile: dir + "/\(page).html", encoding: .utf8)
            XCTAssertFalse(html.contains("<script") || html.contains("src=") || html.contains("href="), "\(page): self-contained, no script")
            let dom = try Self.chromium(["--dump-dom", "file://\(dir)/\(page).html"])
            XCTAssertTrue(dom.contains("<h1>Lethe report: run"), "\(page): Chromium built the page: \(dom.prefix(300))")
            XCTAssertTrue(dom.contains("<table class=\"reproduce\""), "\(page): the parameters and fingerprints")
            XCTAssertTrue(dom.contains("<pre class=\"params\">"), "\(page): the request as sent")
            let charts = Self.count("class=\"chart ", in: dom)
            XCTAssertGreaterThanOrEqual(Self.count("class=\"tick ", in: dom), 8 * charts, "\(page): every chart has ticks on both axes")
            XCTAssertEqual(Self.count("class=\"axis-title\"", in: dom), 2 * charts, "\(page): every chart names both axes")
            XCTAssertGreaterThanOrEqual(Self.count("class=\"legend-item\"", in: dom), charts, "\(page): every chart has a legend")
        }
        let compare = try Self.chromium(["--dump-dom", "file://\(dir)/latest.html"])
        XCTAssertTrue(compare.contains("<table class=\"compare\""))
        for method in ["none", "retrain", "finetune", "gradient-ascent"] { XCTAssertTrue(compare.contains("<td>\(method)</td>"), method) }
        XCTAssertTrue(compare.contains("id=\"compare-forget-vs-test\""))
        for method in ["none", "retrain", "finetune", "gradient-ascent"] {
            XCTAssertTrue(compare.contains("id=\"loss-\(method)\" class=\"chart histogram\""), "the loss histogram of \(method)")
        }
        XCTAssertTrue(compare.contains("id=\"compare-loss-roc\" class=\"chart roc\""), "the loss-threshold attack's ROC curves")
        XCTAssertEqual(Self.count("class=\"series\"", in: compare.components(separatedBy: "id=\"compare-loss-roc\"")[1].components(separatedBy: "</svg>")[0]),
                       4 + 3, "one curve per model, chance, and the two FPR marks")
        XCTAssertTrue(compare.contains("<table class=\"loss-attack\""))
        XCTAssertTrue(compare.contains("id=\"compare-epsilon\" class=\"chart histogram\""), "the ε histograms of the methods")

        let roc = try Self.chromium(["--dump-dom", "file://\(dir)/lira.html"])
        XCTAssertTrue(roc.contains("id=\"roc\" class=\"chart roc\""), "the ROC chart")
        XCTAssertTrue(roc.contains("1e-1") && roc.contains(">1<"), "log ticks")
        XCTAssertEqual(Self.count("class=\"marker\"", in: roc), 2, "TPR at 0.1% and 1% FPR marked")
        // The curve has one vertex per recorded ROC point with both rates positive (log axes cannot show zero).
        guard case .array(let fpr)? = lira["roc"]?["fpr"], case .array(let tpr)? = lira["roc"]?["tpr"] else { return XCTFail("roc") }
        let positive = zip(fpr, tpr).filter { ($0.0.doubleValue ?? 0) > 0 && ($0.1.doubleValue ?? 0) > 0 }.count
        let path = try XCTUnwrap(roc.components(separatedBy: "data-name=\"attack").dropFirst().first?.components(separatedBy: "d=\"").dropFirst().first?
            .components(separatedBy: "\"").first)
        XCTAssertEqual(Self.count("L", in: path) + 1, positive, "every ROC point drawn")

        let epsilon = try Self.chromium(["--dump-dom", "file://\(dir)/epsilon.html"])
        XCTAssertTrue(epsilon.contains("id=\"epsilon-histogram\""), "the ε histogram")
        XCTAssertGreaterThan(Self.count("class=\"bar\"", in: epsilon), 0, "with bars")
        XCTAssertTrue(try String(contentsOfFile: dir + "/train.html", encoding: .utf8).contains("id=\"progress-loss\""), "per-epoch loss")

        // The screenshot is not blank: charts and tables put ink on a good share of the page.
        let png = dir + "/lira.png"
        _ = try Self.chromium(["--window-size=1200,1400", "--screenshot=\(png)", "file://\(dir)/lira.html"])
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", CLITests.root.path + "/Tests/report/png_ink.py", png]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let ink = Double(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        p.waitUntilExit()
        XCTAssertGreaterThan(ink, 0.01, "the screenshot shows the report (\(ink) of the pixels inked)")
        XCTAssertLessThan(ink, 0.9, "and is not a solid block")
    }
}
