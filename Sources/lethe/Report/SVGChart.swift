// Charts as inline SVG for `lethe report`: real axes with ticks and labels, a legend, linear or log scales. No
// JavaScript and no network: the page is one file that prints as it shows.
import Foundation

/// One line of a line chart.
struct Series {
    /// The legend's name.
    let name: String
    /// (x, y) points in data units.
    let points: [(Double, Double)]
    /// Draw as a dashed line (reference lines such as chance).
    var dashed = false
    /// A fixed colour instead of the palette's (reference lines).
    var colour: String? = nil
}

/// A point marked on a chart with a label (e.g. TPR at 1% FPR).
struct Marker {
    /// Where, in data units.
    let x: Double, y: Double
    /// What the marker says.
    let label: String
}

/// One axis: its range, scale and title.
struct Axis {
    /// The axis title.
    let title: String
    /// The range shown, in data units.
    var low: Double, high: Double
    /// Logarithmic (base 10) instead of linear.
    var log = false

    /// Maps a data value to 0…1 along the axis (clamped).
    func unit(_ v: Double) -> Double {
        let (a, b, x) = log ? (Foundation.log10(low), Foundation.log10(high), Foundation.log10(max(v, low))) : (low, high, v)
        return b > a ? min(1, max(0, (x - a) / (b - a))) : 0
    }

    /// Tick positions: powers of ten on a log axis, about five round numbers on a linear one.
    var ticks: [Double] {
        if log {
            let first = Int(Foundation.log10(low).rounded(.up)), last = Int(Foundation.log10(high).rounded(.down))
            return first <= last ? (first...last).map { pow(10, Double($0)) } : [low, high]
        }
        let span = high - low
        guard span > 0 else { return [low] }
        let raw = span / 5, magnitude = pow(10, (Foundation.log10(raw)).rounded(.down))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var t = (low / step).rounded(.up) * step, out: [Double] = []
        while t <= high + step * 1e-9 { out.append(t); t += step }
        return out
    }

    /// A tick's text: 1e-3 style on log axes, short decimals on linear ones.
    func label(_ v: Double) -> String {
        if log { return v >= 1 ? String(format: "%g", v) : String(format: "1e%d", Int(Foundation.log10(v).rounded())) }
        return String(format: "%g", (v * 1e6).rounded() / 1e6)
    }
}

/// Chart drawing: one function per chart kind, returning an `<svg>` element.
enum SVGChart {
    static let width = 560.0, height = 360.0
    static let margin = (left: 64.0, right: 16.0, top: 36.0, bottom: 52.0)
    /// Colour-blind-safe palette (Okabe–Ito).
    static let colours = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]

    /// Escapes text for HTML and SVG.
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    private static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    /// The frame: title, plot box, ticks, grid and axis titles; `body` draws inside, given the data → pixel maps.
    private static func frame(id: String, kind: String, title: String, x: Axis, y: Axis, legend: [(String, String, Bool)],
                              body: ((Double) -> Double, (Double) -> Double) -> String) -> String {
        let plotW = width - margin.left - margin.right, plotH = height - margin.top - margin.bottom
        let px = { (v: Double) in margin.left + x.unit(v) * plotW }
        let py = { (v: Double) in margin.top + (1 - y.unit(v)) * plotH }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"\(escape(id))\" class=\"chart \(kind)\" role=\"img\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\">"
        s += "<title>\(escape(title))</title>"
        s += "<text class=\"chart-title\" x=\"\(f(width / 2))\" y=\"20\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">\(escape(title))</text>"
        s += "<rect x=\"\(f(margin.left))\" y=\"\(f(margin.top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#333\"/>"
        for t in x.ticks {
            let X = px(t)
            s += "<line class=\"grid\" x1=\"\(f(X))\" y1=\"\(f(margin.top))\" x2=\"\(f(X))\" y2=\"\(f(margin.top + plotH))\" stroke=\"#ddd\"/>"
            s += "<text class=\"tick x-tick\" x=\"\(f(X))\" y=\"\(f(margin.top + plotH + 16))\" text-anchor=\"middle\" font-size=\"11\">\(x.label(t))</text>"
        }
        for t in y.ticks {
            let Y = py(t)
            s += "<line class=\"grid\" x1=\"\(f(margin.left))\" y1=\"\(f(Y))\" x2=\"\(f(margin.left + plotW))\" y2=\"\(f(Y))\" stroke=\"#ddd\"/>"
            s += "<text class=\"tick y-tick\" x=\"\(f(margin.left - 6))\" y=\"\(f(Y + 4))\" text-anchor=\"end\" font-size=\"11\">\(y.label(t))</text>"
        }
        s += "<text class=\"axis-title\" x=\"\(f(margin.left + plotW / 2))\" y=\"\(f(height - 12))\" text-anchor=\"middle\" font-size=\"12\">\(escape(x.title))</text>"
        s += "<text class=\"axis-title\" transform=\"translate(16 \(f(margin.top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">\(escape(y.title))</text>"
        s += body(px, py)
        // The legend, top left inside the plot.
        for (i, (name, colour, dashed)) in legend.enumerated() {
            let Y = margin.top + 14 + Double(i) * 16, X = margin.left + 10
            s += "<g class=\"legend-item\"><line x1=\"\(f(X))\" y1=\"\(f(Y - 4))\" x2=\"\(f(X + 18))\" y2=\"\(f(Y - 4))\" stroke=\"\(colour)\" stroke-width=\"3\"\(dashed ? " stroke-dasharray=\"5 4\"" : "")/>"
            s += "<text x=\"\(f(X + 24))\" y=\"\(f(Y))\" font-size=\"11\">\(escape(name))</text></g>"
        }
        return s + "</svg>"
    }

    /// Lines over two axes, with optional labelled markers.
    static func lines(id: String, kind: String, title: String, x: Axis, y: Axis, series: [Series], markers: [Marker] = []) -> String {
        let colour = { (i: Int, s: Series) in s.colour ?? colours[i % colours.count] }
        let legend = series.enumerated().filter { !$1.name.isEmpty }.map { ($1.name, colour($0, $1), $1.dashed) }
        return frame(id: id, kind: kind, title: title, x: x, y: y, legend: legend) { px, py in
            var s = ""
            for (i, line) in series.enumerated() where !line.points.isEmpty {
                let d = line.points.enumerated().map { ($0 == 0 ? "M" : "L") + f(px($1.0)) + " " + f(py($1.1)) }.joined(separator: " ")
                s += "<path class=\"series\" data-name=\"\(escape(line.name))\" d=\"\(d)\" fill=\"none\" stroke=\"\(colour(i, line))\" stroke-width=\"2\"\(line.dashed ? " stroke-dasharray=\"5 4\"" : "")/>"
            }
            for m in markers {
                s += "<g class=\"marker\"><circle cx=\"\(f(px(m.x)))\" cy=\"\(f(py(m.y)))\" r=\"4\" fill=\"#000\"/>"
                s += "<text x=\"\(f(px(m.x) + 7))\" y=\"\(f(py(m.y) + 14))\" font-size=\"11\">\(escape(m.label))</text></g>"
            }
            return s
        }
    }

    /// Overlaid histograms over shared bin edges (counts normalised to fractions when `normalise`).
    static func histogram(id: String, title: String, xTitle: String, edges: [Double], series: [(String, [Double])], normalise: Bool,
                          logX: Bool = false) -> String {
        let shown = series.map { name, counts -> (String, [Double]) in
            let total = counts.reduce(0, +)
            return (name, normalise && total > 0 ? counts.map { $0 / total } : counts)
        }
        let top = max(shown.flatMap(\.1).max() ?? 1, 1e-12)
        let x = Axis(title: xTitle, low: edges.first ?? 0, high: edges.last ?? 1, log: logX && (edges.first ?? 0) > 0)
        let y = Axis(title: normalise ? "fraction of examples" : "count", low: 0, high: top * 1.1)
        let legend = shown.enumerated().map { ($1.0, colours[$0 % colours.count], false) }
        return frame(id: id, kind: "histogram", title: title, x: x, y: y, legend: legend) { px, py in
            var s = ""
            for (i, (name, values)) in shown.enumerated() {
                let colour = colours[i % colours.count]
                for (b, v) in values.enumerated() where b + 1 < edges.count && v > 0 {
                    let x0 = px(edges[b]), x1 = px(edges[b + 1]), y0 = py(v), base = py(0)
                    s += "<rect class=\"bar\" data-series=\"\(escape(name))\" x=\"\(f(x0))\" y=\"\(f(y0))\" width=\"\(f(max(0.5, x1 - x0)))\" height=\"\(f(base - y0))\" fill=\"\(colour)\" fill-opacity=\"0.45\" stroke=\"\(colour)\"/>"
                }
            }
            return s
        }
    }
}
