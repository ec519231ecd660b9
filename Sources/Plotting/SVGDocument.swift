import Foundation

/// SVG text built element by element. Numbers are written with a fixed precision and a
/// non-finite number never reaches the text: it is replaced by 0 and counted in
/// ``nonFiniteCount``, so a caller can report it (charts leave gaps instead and never write one).
public struct SVGDocument {
    /// Width and height in pixels.
    public let width: Double, height: Double
    private var body: [String] = []
    /// How many non-finite numbers were replaced.
    public private(set) var nonFiniteCount = 0

    /// An empty canvas.
    public init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    /// A number as SVG text (at most 2 decimals, no exponent).
    public mutating func number(_ value: Double) -> String {
        guard value.isFinite else {
            nonFiniteCount += 1
            return "0"
        }
        let rounded = (value * 100).rounded() / 100
        if rounded == rounded.rounded() && abs(rounded) < 1e15 { return String(Int(rounded)) }
        return String(format: "%.2f", rounded)
    }

    /// Text with the XML special characters escaped.
    public static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(c)
            }
        }
        return out
    }

    /// Appends raw SVG markup (already escaped).
    public mutating func raw(_ markup: String) { body.append(markup) }

    /// A line segment.
    public mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String, width: Double = 1, dash: String? = nil) {
        let d = dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
        raw("<line x1=\"\(number(x1))\" y1=\"\(number(y1))\" x2=\"\(number(x2))\" y2=\"\(number(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(number(width))\"\(d)/>")
    }

    /// A rectangle.
    public mutating func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, fill: String, stroke: String? = nil, extra: String = "") {
        let s = stroke.map { " stroke=\"\($0)\"" } ?? ""
        raw("<rect x=\"\(number(x))\" y=\"\(number(y))\" width=\"\(number(w))\" height=\"\(number(h))\" fill=\"\(fill)\"\(s)\(extra)/>")
    }

    /// A circle.
    public mutating func circle(_ cx: Double, _ cy: Double, _ r: Double, fill: String, stroke: String? = nil, extra: String = "") {
        let s = stroke.map { " stroke=\"\($0)\" stroke-width=\"0.5\"" } ?? ""
        raw("<circle cx=\"\(number(cx))\" cy=\"\(number(cy))\" r=\"\(number(r))\" fill=\"\(fill)\"\(s)\(extra)/>")
    }

    /// A polyline through finite points (the caller splits at gaps).
    public mutating func polyline(_ points: [(Double, Double)], stroke: String, width: Double = 1.5, extra: String = "") {
        let text = points.map { "\(number($0.0)),\(number($0.1))" }.joined(separator: " ")
        raw("<polyline points=\"\(text)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(number(width))\" stroke-linejoin=\"round\"\(extra)/>")
    }

    /// Text; `anchor` is start, middle or end.
    public mutating func text(_ x: Double, _ y: Double, _ content: String, size: Double = 12, anchor: String = "start",
                              weight: String = "normal", rotate: Bool = false, fill: String = "#222") {
        let r = rotate ? " transform=\"rotate(-90 \(number(x)) \(number(y)))\"" : ""
        raw("<text x=\"\(number(x))\" y=\"\(number(y))\" font-size=\"\(number(size))\" text-anchor=\"\(anchor)\" font-weight=\"\(weight)\" fill=\"\(fill)\"\(r)>\(Self.escape(content))</text>")
    }

    /// An embedded PNG image stretched over a rectangle (pixels stay sharp).
    public mutating func image(_ x: Double, _ y: Double, _ w: Double, _ h: Double, png: [UInt8], extra: String = "") {
        raw("<image x=\"\(number(x))\" y=\"\(number(y))\" width=\"\(number(w))\" height=\"\(number(h))\" preserveAspectRatio=\"none\" style=\"image-rendering:pixelated\" href=\"data:image/png;base64,\(Data(png).base64EncodedString())\"\(extra)/>")
    }

    /// The whole document.
    public var text: String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"Helvetica, Arial, sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
            + body.joined(separator: "\n") + "\n</svg>\n"
    }
}
