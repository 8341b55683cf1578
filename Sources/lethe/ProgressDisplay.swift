// `$/progress` for a person. On a terminal: one live line with a bar, the step, loss, accuracy and an ETA, redrawn in
// place; a stage's line stays once it completes, so concurrent units (compare, fleets) leave one line each. Piped:
// one plain line per report, which logs and `grep` read well.
import Foundation
import LetheProtocol

final class ProgressDisplay {
    private let live: Bool
    /// When each stage (stage + unit) was first seen, and at which step: the ETA's baseline.
    private var started: [String: (time: Double, step: Int)] = [:]
    private var drawn = false
    /// The time of the last report, or of the display's creation (when the request was sent).
    private var lastReport = Date().timeIntervalSince1970

    /// `live` draws in place; otherwise prints lines. The default asks whether standard error is a terminal.
    init(live: Bool = isatty(2) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb") { self.live = live }

    /// Shows one report.
    func show(_ p: ProgressValue) {
        let summary = "loss \(Output.number(p.loss)), accuracy \(Output.percent(p.accuracy)), \(Int(p.examplesPerSecond)) examples/s"
        guard live else {
            Output.progress("  \(p.stage) \(p.unit) \(p.step)/\(p.steps): \(summary)")
            return
        }
        let key = "\(p.stage)\u{0}\(p.unit)"
        let now = Date().timeIntervalSince1970
        // A stage's baseline is the report before its first one (or the request's start): one report gives an ETA.
        if started[key] == nil { started[key] = (lastReport, p.step - 1) }
        lastReport = now
        var eta = ""
        if let first = started[key], p.step > first.step, p.step < p.steps {
            let perStep = (now - first.time) / Double(p.step - first.step)
            eta = "  ETA \(Self.clock(perStep * Double(p.steps - p.step)))"
        }
        let fraction = p.steps > 0 ? min(1, Double(p.step) / Double(p.steps)) : 0
        let width = 24
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let line = "  \(p.stage) [\(bar)] \(p.unit) \(p.step)/\(p.steps)  \(summary)\(eta)"
        FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
        drawn = true
        if p.step >= p.steps {
            FileHandle.standardError.write(Data("\n".utf8))
            drawn = false
            started[key] = nil
        }
    }

    /// Ends a live line left open (the request ended or was cancelled before its last step).
    func finish() {
        if drawn { FileHandle.standardError.write(Data("\n".utf8)) }
        drawn = false
    }

    /// 75 → "1:15", 3700 → "1:01:40".
    static func clock(_ seconds: Double) -> String {
        let s = max(0, Int(seconds.rounded()))
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
