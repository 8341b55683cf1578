// Docs/BringYourOwnData.md's tested shell block, run command by command with the real `lethe` CLI against a real
// lethed, in a copy of the fixture directory (the files its PyTorch snippet writes), so the README's example and
// the test are the same commands.
import Foundation
import JSONRPC
import LetheProtocol
import XCTest

final class DocsTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The `lethe …` lines of the first ```sh block after `<!-- tested -->`.
    static func testedCommands(_ markdown: String) -> [[String]] {
        guard let marker = markdown.range(of: "<!-- tested -->") else { return [] }
        let after = markdown[marker.upperBound...]
        guard let open = after.range(of: "```sh\n"), let close = after[open.upperBound...].range(of: "```") else { return [] }
        var commands: [[String]] = []
        for line in after[open.upperBound..<close.lowerBound].split(separator: "\n") {
            let code = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words: [String] = code.split(separator: " ").map { String($0) }
            if words.first == "lethe" { commands.append(words) }
        }
        return commands
    }

    /// Runs `commands` with the real CLI against `daemon`, in `work`; each must exit 0.
    static func run(_ commands: [[String]], daemon: DaemonProcess, in work: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let lethe = DaemonProcess.binary.deletingLastPathComponent().appendingPathComponent("lethe")
        for command in commands {
            let p = Process()
            p.executableURL = lethe
            p.arguments = Array(command.dropFirst())
            p.currentDirectoryURL = URL(fileURLWithPath: work)
            p.environment = ["LETHE_SOCKET": daemon.socketPath, "PATH": "/usr/bin:/bin"]
            let err = Pipe()
            p.standardError = err
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(p.terminationStatus, 0, "\(command.joined(separator: " ")): \(message)", file: file, line: line)
        }
    }

    func testBringYourOwnDataSessionRunsAsWritten() throws {
        let doc = try String(contentsOf: Self.root.appendingPathComponent("Docs/BringYourOwnData.md"), encoding: .utf8)
        let commands = Self.testedCommands(doc)
        XCTAssertGreaterThanOrEqual(commands.count, 8, "the tested block was found")

        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let work = NSTemporaryDirectory() + "lethe-docs-\(UUID().uuidString.prefix(8))"
        try FileManager.default.copyItem(atPath: Self.root.appendingPathComponent("Tests/Fixtures/byod").path, toPath: work)
        try Self.run(commands, daemon: daemon, in: work)
        // What section 3 reads back.
        func npyShape(_ name: String) throws -> String {
            let b = try Data(contentsOf: URL(fileURLWithPath: "\(work)/\(name)"))
            return String(decoding: b[10..<(10 + Int(b[8]) + Int(b[9]) << 8)], as: UTF8.self)
        }
        let forgetHeader = try npyShape("forget_probs.npy"), testHeader = try npyShape("test_logits.npy")
        XCTAssertTrue(forgetHeader.contains("'shape': (6, 3)"), forgetHeader)
        XCTAssertTrue(testHeader.contains("'shape': (12, 3)"), testHeader)
        let c = try daemon.connect()
        let reloaded = try c.call("model/load", ["name": "back", "path": .string("\(work)/unlearned.safetensors")])
        XCTAssertEqual(reloaded.result?["architecture"]?["hidden"], [8, 6], "\(reloaded)")
    }

    /// Docs/Attacks.md's session: every attack kind, a reference evaluation and compare with epsilon, as written.
    func testAttacksSessionRunsAsWritten() throws {
        let doc = try String(contentsOf: Self.root.appendingPathComponent("Docs/Attacks.md"), encoding: .utf8)
        let commands = Self.testedCommands(doc)
        XCTAssertGreaterThanOrEqual(commands.count, 15, "the tested block was found")
        let kinds = Set(commands.filter { $0[1] == "attack" }.compactMap { c in c.firstIndex(of: "--kind").map { c[$0 + 1] } })
        XCTAssertEqual(kinds, Set(Attack.kinds.filter { $0 != "simple" }), "the session runs every kind beyond simple")
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let work = NSTemporaryDirectory() + "lethe-docs-\(UUID().uuidString.prefix(8))"
        try FileManager.default.copyItem(atPath: Self.root.appendingPathComponent("Tests/Fixtures/byod").path, toPath: work)
        try Self.run(commands, daemon: daemon, in: work)
        let csv = try String(contentsOfFile: "\(work)/runs.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.count, 1 + 8, "a header and the session's eight runs: forget, five attacks, evaluate, compare")
        for file in ["eps/epsilons.npy", "eps/unlearned_confidences.npy", "eps/retrained_confidences.npy", "lira/scores.npy", "lira/labels.npy"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(work)/\(file)"), file)
        }
        let c = try daemon.connect()
        guard case .array(let fleets)? = try c.call("fleet/list").result?["fleets"] else { return XCTFail() }
        XCTAssertEqual(fleets.compactMap { $0["kind"]?.stringValue }.sorted(), ["retrained", "shadow", "unlearned"],
                       "one fleet of each kind: ulira and compare reused epsilon's")
    }
}
