// The HTML page of `lethe report`: one self-contained file (inline CSS and SVG, no script, no network) for one
// recorded run: what ran and how to reproduce it (params as sent, seed, threads, the dataset's, split's and models'
// fingerprints), its result as tables, and its charts — a compare's table, an attack's ROC curve on log–log axes
// with TPR at 0.1% and 1% FPR marked, the epsilon metric's histogram, per-epoch loss and accuracy.
import Foundation
import JSONRPC
import LetheProtocol

enum ReportPage {
    /// The whole page for `run`.
    static func html(_ run: RunInfo) -> String {
        let e = SVGChart.escape
        var body = "<h1>Lethe report: run \(run.id), \(e(run.kind))\(run.method.map { " (\(e($0)))" } ?? "")</h1>"
        body += "<p class=\"status status-\(e(run.status))\">\(e(run.status)), started \(e(run.startedAt))"
            + (run.seconds.map { ", \(String(format: "%.2f", $0)) s" } ?? "") + (run.error.map { ": \(e($0))" } ?? "") + "</p>"
        body += section("Result", result(run))
        body += progress(run)
        body += section("Reproduce", reproduce(run))
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>Lethe report: run \(run.id) \(e(run.kind))</title>
        <style>
        body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1180px; color: #111; }
        h1 { font-size: 1.5em; } h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 1.6em; }
        table { border-collapse: collapse; margin: .6em 0; font-variant-numeric: tabular-nums; }
        th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; } th { background: #f3f3f3; }
        td:first-child, th:first-child { text-align: left; }
        .charts { display: flex; flex-wrap: wrap; gap: 1em; } svg.chart { background: #fff; border: 1px solid #eee; }
        pre { background: #f7f7f7; padding: .6em; overflow-x: auto; font-size: .85em; }
        .note { color: #555; font-size: .9em; }
        @media print { .charts { display: block; } svg.chart { page-break-inside: avoid; } }
        </style></head>
        <body>\(body)
        <p class="note">Written by <code>lethe report</code> from the daemon's run store; every number is the run's recorded result.</p>
        </body></html>

        """
    }

    private static func section(_ title: String, _ content: String) -> String {
        content.isEmpty ? "" : "<section class=\"\(title.lowercased())\"><h2>\(title)</h2>\(content)</section>"
    }

    /// A table from a header and rows of cells (already escaped).
    static func table(_ cls: String, _ header: [String], _ rows: [[String]]) -> String {
        "<table class=\"\(cls)\"><thead><tr>" + header.map { "<th>\($0)</th>" }.joined() + "</tr></thead><tbody>"
            + rows.map { "<tr>" + $0.map { "<td>\($0)</td>" }.joined() + "</tr>" }.joined() + "</tbody></table>"
    }

    /// The numbers of a JSON array (empty when it is not one).
    private static func numbers(_ v: JSONValue?) -> [Double] {
        if case .array(let items)? = v { return items.compactMap(\.doubleValue) }
        return []
    }
    private static func pct(_ v: JSONValue?) -> String { v?.doubleValue.map { String(format: "%.2f%%", $0 * 100) } ?? "" }
    private static func num(_ v: JSONValue?, _ digits: Int = 4) -> String { v?.doubleValue.map { String(format: "%.\(digits)f", $0) } ?? "" }
    /// A compare statistic `{mean, std}` as "mean ± std" (percent or plain).
    private static func stat(_ v: JSONValue?, percent: Bool, several: Bool) -> String {
        guard let mean = v?["mean"]?.doubleValue else { return "" }
        let std = v?["std"]?.doubleValue ?? 0
        let scale = percent ? 100.0 : 1
        let text = String(format: percent ? "%.2f%%" : "%.3f", mean * scale)
        return several ? text + String(format: " ± %.2f", std * scale) : text
    }

    private static func result(_ run: RunInfo) -> String {
        guard let r = run.result, r != .null else { return "<p class=\"note\">No result was recorded (the run \(SVGChart.escape(run.status))).</p>" }
        switch run.kind {
        case Compare.name: return compare(r)
        case Attack.name: return attack(r, run: run)
        case Evaluate.name: return evaluate(r)
        default: return "<pre>\(SVGChart.escape(r.prettyText))</pre>"
        }
    }

    private static func compare(_ r: JSONValue) -> String {
        guard case .array(let rows)? = r["rows"] else { return "" }
        let several = (r["seeds"].flatMap { if case .array(let s) = $0 { return s.count } else { return nil } } ?? 1) > 1
        let hasQuality = rows.contains { $0["forgetQuality"]?.doubleValue != nil }
        var header = ["method", "retain acc", "forget acc", "test acc", "UA", "MIA", "MIA-efficacy", "avg gap", "seconds", "time / retrain"]
        if hasQuality { header.append("forget quality F") }
        let cells = rows.map { row -> [String] in
            var c = [SVGChart.escape(row["method"]?.stringValue ?? ""),
                     stat(row["retainAccuracy"], percent: true, several: several), stat(row["forgetAccuracy"], percent: true, several: several),
                     stat(row["testAccuracy"], percent: true, several: several), stat(row["unlearningAccuracy"], percent: true, several: several),
                     stat(row["mia"], percent: false, several: several), stat(row["miaEfficacy"], percent: true, several: several),
                     stat(row["averageGap"], percent: false, several: several), stat(row["seconds"], percent: false, several: several),
                     num(row["timeFraction"], 2)]
            if hasQuality { c.append(num(row["forgetQuality"])) }
            return c
        }
        var s = table("compare", header, cells)
        if let notes = r["notes"]?.stringValue { s += "<p class=\"note\">\(SVGChart.escape(notes))</p>" }
        // Each method's distance from retrain, as bars would hide: its forget accuracy against its test accuracy.
        let points = rows.compactMap { row -> (String, Double, Double)? in
            guard let m = row["method"]?.stringValue, let f = row["forgetAccuracy"]?["mean"]?.doubleValue,
                  let t = row["testAccuracy"]?["mean"]?.doubleValue else { return nil }
            return (m, t, f)
        }
        if !points.isEmpty {
            let all = points.flatMap { [$0.1, $0.2] }
            let lo = max(0, (all.min() ?? 0) - 0.02), hi = min(1, (all.max() ?? 1) + 0.02)
            s += "<div class=\"charts\">" + SVGChart.lines(
                id: "compare-forget-vs-test", kind: "scatter", title: "Forget accuracy against test accuracy",
                x: Axis(title: "test accuracy", low: lo, high: hi), y: Axis(title: "forget accuracy", low: lo, high: hi),
                series: [Series(name: "forget = test (never seen)", points: [(lo, lo), (hi, hi)], dashed: true)],
                markers: points.map { Marker(x: $0.1, y: $0.2, label: $0.0) }) + "</div>"
        }
        // The loss-threshold attack on every model, one ROC each, on log–log axes with 0.1% and 1% FPR marked.
        let attacked = rows.prefix(6).compactMap { row -> (String, JSONValue)? in
            guard let m = row["method"]?.stringValue, let a = row["lossAttack"] else { return nil }
            return (m == "none" ? "original" : m, a)
        }
        if !attacked.isEmpty {
            let curves = attacked.map { name, a -> Series in
                let f: [Double] = numbers(a["roc"]?["fpr"]), t: [Double] = numbers(a["roc"]?["tpr"])
                let points: [(Double, Double)] = zip(f, t).filter { $0.0 > 0 && $0.1 > 0 }
                return Series(name: "\(name) (AUC \(num(a["auc"], 3)))", points: points)
            }
            let low = max(1e-5, min(1e-3, curves.flatMap { series in series.points.map { $0.0 } }.min() ?? 1e-3))
            let marks = [Series(name: "0.1% and 1% FPR", points: [(0.001, low), (0.001, 1)], dashed: true, colour: "#888"),
                         Series(name: "", points: [(0.01, low), (0.01, 1)], dashed: true, colour: "#888")]
            s += "<h3>Loss-threshold attack</h3><div class=\"charts\">" + SVGChart.lines(
                id: "compare-loss-roc", kind: "roc", title: "ROC of the loss-threshold attack, forget vs test (log–log)",
                x: Axis(title: "false positive rate", low: low, high: 1, log: true), y: Axis(title: "true positive rate", low: low, high: 1, log: true),
                series: curves + [Series(name: "chance", points: [(low, low), (1, 1)], dashed: true, colour: "#000")] + marks) + "</div>"
            s += table("loss-attack", ["model", "AUC", "TPR at 0.1% FPR", "TPR at 1% FPR"], attacked.map { name, a in
                [SVGChart.escape(name), num(a["auc"]), num(a["tprAt0_1PercentFPR"]), num(a["tprAt1PercentFPR"])]
            })
        }
        // The challenge's ε per method, when the compare measured it.
        let epsilons = rows.compactMap { row -> (String, [Double], [Double])? in
            guard let m = row["method"]?.stringValue, let h = row["epsilonHistogram"] else { return nil }
            return ("\(m) (F \(num(row["forgetQuality"])))", numbers(h["edges"]), numbers(h["counts"]))
        }
        if let first = epsilons.first {
            s += "<h3>Forget quality (NeurIPS 2023)</h3><div class=\"charts\">" + SVGChart.histogram(
                id: "compare-epsilon", title: "Per-example ε of each method", xTitle: "ε", edges: first.1,
                series: epsilons.map { ($0.0, $0.2) },
                normalise: false) + "</div>"
        }
        // Per-example losses, forget against test, one chart per model (the first seed's), on shared bins.
        let histograms = rows.compactMap { row -> String? in
            guard let method = row["method"]?.stringValue, let h = row["lossHistogram"] else { return nil }
            let title = method == "none" ? "original" : method
            return SVGChart.histogram(id: "loss-\(method)", title: "\(title): per-example loss, forget vs test", xTitle: "cross-entropy loss",
                                      edges: numbers(h["edges"]), series: [("forget", numbers(h["forget"])), ("test", numbers(h["test"]))],
                                      normalise: true, logX: true)
        }
        if !histograms.isEmpty {
            s += "<h3>Loss distributions</h3><p class=\"note\">A model that still remembers the forget set has lower losses there than on "
                + "test, which it never saw; retrain shows how the two look when the forget set was never trained on. Bins are equal in "
                + "log(loss) from the 1st to the 99th percentile; the end bins also hold the losses beyond them.</p><div class=\"charts\">" + histograms.joined() + "</div>"
        }
        return s
    }

    private static func attack(_ r: JSONValue, run: RunInfo) -> String {
        let e = SVGChart.escape
        var rows: [[String]] = [[e(r["scoreName"]?.stringValue ?? "score"), num(r["score"])]]
        if let c = r["chanceLevel"] { rows.append(["chance level", num(c)]) }
        if let a = r["auc"], r["scoreName"]?.stringValue != "auc" { rows.append(["AUC", num(a)]) }
        if let t = r["tprAt0_1PercentFPR"] { rows.append(["TPR at 0.1% FPR", num(t)]) }
        if let t = r["tprAt1PercentFPR"] { rows.append(["TPR at 1% FPR", num(t)]) }
        if let b = r["bestAccuracy"] { rows.append(["best accuracy", num(b)]) }
        if let eps = r["epsilon"] {
            rows += [["forget quality F", num(eps["forgetQuality"])], ["final score", num(eps["score"])],
                     ["RA_U / RA_R", num(eps["retainRatio"])], ["TA_U / TA_R", num(eps["testRatio"])],
                     ["models", "\(Int(eps["unlearnedModels"]?.doubleValue ?? 0)) unlearned + \(Int(eps["retrainedModels"]?.doubleValue ?? 0)) retrained"]]
        }
        rows.append(["members / non-members", "\(Int(r["members"]?.doubleValue ?? 0)) / \(Int(r["nonMembers"]?.doubleValue ?? 0))"])
        var s = table("attack-summary", ["", e(r["kind"]?.stringValue ?? "attack")], rows)
        var charts: [String] = []
        if r["roc"] != nil {
            let points = zip(numbers(r["roc"]?["fpr"]), numbers(r["roc"]?["tpr"])).filter { $0.0 > 0 && $0.1 > 0 }
            let nonMembers = max(1, r["nonMembers"]?.doubleValue ?? 1000)
            // Down to 0.1% FPR at least, so both marked rates show; lower when the curve resolves lower rates.
            let low = max(1e-5, min(1e-3, points.map(\.0).min() ?? 1e-3, 1 / nonMembers))
            var markers: [Marker] = []
            for (key, at) in [("tprAt0_1PercentFPR", 0.001), ("tprAt1PercentFPR", 0.01)] {
                if let t = r[key]?.doubleValue, at >= low { markers.append(Marker(x: at, y: max(t, low), label: String(format: "TPR %.3f at %g%% FPR", t, at * 100))) }
            }
            charts.append(SVGChart.lines(
                id: "roc", kind: "roc", title: "ROC of the \(r["kind"]?.stringValue ?? "") attack (log–log)",
                x: Axis(title: "false positive rate", low: low, high: 1, log: true), y: Axis(title: "true positive rate", low: low, high: 1, log: true),
                series: [Series(name: "attack (AUC \(num(r["auc"], 3)))", points: points), Series(name: "chance", points: [(low, low), (1, 1)], dashed: true)],
                markers: markers))
        }
        if let eps = r["epsilon"], eps["histogramEdges"] != nil {
            charts.append(SVGChart.histogram(id: "epsilon-histogram", title: "Per-example ε (NeurIPS 2023 metric)", xTitle: "ε",
                                             edges: numbers(eps["histogramEdges"]), series: [("forget examples", numbers(eps["histogramCounts"]))],
                                             normalise: false))
        }
        if !charts.isEmpty { s += "<div class=\"charts\">" + charts.joined() + "</div>" }
        if let note = r["note"]?.stringValue { s += "<p class=\"note\">\(e(note))</p>" }
        return s
    }

    private static func evaluate(_ r: JSONValue) -> String {
        let rows = ["retain", "forget", "validation", "test"].map { set -> [String] in
            [set, "\(Int(r[set]?["count"]?.doubleValue ?? 0))", pct(r[set]?["accuracy"]), num(r[set]?["loss"])]
        }
        return table("evaluate", ["set", "examples", "accuracy", "mean loss"], rows)
            + "<p>unlearning accuracy (1 − forget accuracy): \(pct(r["unlearningAccuracy"]))</p>"
    }

    /// Loss and accuracy per step for each stage (at most eight stages, the first ones).
    private static func progress(_ run: RunInfo) -> String {
        guard let progress = run.progress, !progress.isEmpty else { return "" }
        var stages: [String] = []
        for p in progress where !stages.contains(p.stage) { stages.append(p.stage) }
        stages = Array(stages.prefix(8))
        func series(_ value: (RunProgress) -> Double?) -> [Series] {
            stages.map { stage in Series(name: stage, points: progress.filter { $0.stage == stage }.compactMap { p in value(p).map { (Double(p.step), $0) } }) }
        }
        let steps = Double(progress.map(\.steps).max() ?? 1)
        let losses = progress.compactMap(\.loss)
        let loss = SVGChart.lines(id: "progress-loss", kind: "progress", title: "Loss per \(progress[0].unit)",
                                  x: Axis(title: progress[0].unit, low: 1, high: max(2, steps)),
                                  y: Axis(title: "mean loss", low: 0, high: max(1e-6, (losses.max() ?? 1) * 1.1)), series: series(\.loss))
        let accuracy = SVGChart.lines(id: "progress-accuracy", kind: "progress", title: "Accuracy per \(progress[0].unit)",
                                      x: Axis(title: progress[0].unit, low: 1, high: max(2, steps)),
                                      y: Axis(title: "accuracy", low: 0, high: 1), series: series(\.accuracy))
        return section("Progress", "<div class=\"charts\">\(loss)\(accuracy)</div>")
    }

    private static func reproduce(_ run: RunInfo) -> String {
        let e = SVGChart.escape
        var rows: [[String]] = [["kind", e(run.kind)]]
        for (name, value) in [("method", run.method), ("model", run.model), ("split", run.split), ("dataset", run.dataset),
                              ("split fingerprint", run.splitFingerprint), ("dataset fingerprint", run.datasetFingerprint),
                              ("seed", run.seed.map(String.init)), ("threads", run.threads.map(String.init)),
                              ("started", run.startedAt), ("ended", run.endedAt)] {
            if let value { rows.append([name, "<code>\(e(value))</code>"]) }
        }
        var s = table("reproduce", ["", "value"], rows)
        if case .array(let models) = run.models, !models.isEmpty {
            s += table("models", ["model", "role", "fingerprint"], models.map {
                [e($0["name"]?.stringValue ?? ""), e($0["role"]?.stringValue ?? ""), "<code>\(e($0["fingerprint"]?.stringValue ?? ""))</code>"]
            })
        }
        s += "<p>The request as sent (<code>\(e(run.kind))</code>):</p><pre class=\"params\">\(e(run.params.prettyText))</pre>"
        return s
    }
}
