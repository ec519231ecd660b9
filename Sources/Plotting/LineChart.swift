import Foundation

/// The palette every chart uses (colour-blind-friendly, distinct in grey).
public enum Palette {
    /// Series colours, cycled.
    public static let colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
    /// The colour of series `index`.
    public static func color(_ index: Int) -> String { colors[index % colors.count] }
}

/// One named line of a ``LineChart``.
public struct Series: Sendable {
    /// The legend entry.
    public let name: String
    /// The x values.
    public let x: [Double]
    /// The y values; a non-finite y (a NaN loss, say) leaves a gap in the line.
    public let y: [Double]
    /// Dashed instead of solid.
    public let dashed: Bool

    /// A series of points; `x` defaults to 0, 1, 2, ….
    public init(_ name: String, x: [Double]? = nil, y: [Double], dashed: Bool = false) {
        let xs = x ?? y.indices.map(Double.init)
        Requirement.check(xs.count == y.count, "Series '\(name)': \(xs.count) x values for \(y.count) y values")
        self.name = name
        self.x = xs
        self.y = y
        self.dashed = dashed
    }
}

/// A rendered chart: the SVG text and how many points could not be drawn.
public struct RenderedChart: Sendable {
    /// The SVG document.
    public let svg: String
    /// Points left out because x or y was not finite (or ≤ 0 on a log axis); drawn as gaps.
    public let gaps: Int
}

/// Several series on shared axes with a legend, readable ticks, an optional logarithmic y
/// axis, a title and axis labels.
public struct LineChart: Sendable {
    /// The heading.
    public var title: String
    /// The x axis label.
    public var xLabel: String
    /// The y axis label.
    public var yLabel: String
    /// Whether y is logarithmic.
    public var logarithmicY: Bool
    /// The lines.
    public var series: [Series]
    /// Size in pixels.
    public var width = 760.0, height = 440.0

    /// A chart of `series`.
    public init(title: String, xLabel: String, yLabel: String, logarithmicY: Bool = false, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.logarithmicY = logarithmicY
        self.series = series
    }

    /// The plot area: left, top, right, bottom in pixels.
    public var plotArea: (left: Double, top: Double, right: Double, bottom: Double) {
        (70, 40, width - 170, height - 55)
    }

    /// The x axis for the data.
    public var xAxis: Axis { Axis(covering: series.flatMap(\.x)) }
    /// The y axis for the data.
    public var yAxis: Axis { Axis(covering: series.flatMap(\.y), logarithmic: logarithmicY) }

    /// The pixel position of a data point, nil when it cannot be drawn.
    public func pixel(x: Double, y: Double) -> (Double, Double)? {
        let area = plotArea
        guard let fx = xAxis.fraction(x), let fy = yAxis.fraction(y) else { return nil }
        return (area.left + fx * (area.right - area.left), area.bottom - fy * (area.bottom - area.top))
    }

    /// Draws the chart.
    public func render() -> RenderedChart {
        var svg = SVGDocument(width: width, height: height)
        let area = plotArea
        let (xAxis, yAxis) = (self.xAxis, self.yAxis)
        svg.text(width / 2 - 50, 24, title, size: 16, anchor: "middle", weight: "bold")
        for tick in yAxis.ticks() {
            guard let f = yAxis.fraction(tick) else { continue }
            let y = area.bottom - f * (area.bottom - area.top)
            svg.line(area.left, y, area.right, y, stroke: "#e6e6e6")
            svg.text(area.left - 6, y + 4, Axis.label(tick), size: 11, anchor: "end")
        }
        for tick in xAxis.ticks() {
            guard let f = xAxis.fraction(tick) else { continue }
            let x = area.left + f * (area.right - area.left)
            svg.line(x, area.top, x, area.bottom, stroke: "#f0f0f0")
            svg.text(x, area.bottom + 16, Axis.label(tick), size: 11, anchor: "middle")
        }
        svg.rect(area.left, area.top, area.right - area.left, area.bottom - area.top, fill: "none", stroke: "#444")
        svg.text((area.left + area.right) / 2, height - 14, xLabel, size: 12, anchor: "middle")
        svg.text(18, (area.top + area.bottom) / 2, yLabel + (logarithmicY ? " (log)" : ""), size: 12, anchor: "middle", rotate: true)
        var gaps = 0
        for (index, line) in series.enumerated() {
            var segment: [(Double, Double)] = []
            func flush() {
                if segment.count == 1 {
                    svg.circle(segment[0].0, segment[0].1, 2, fill: Palette.color(index))
                } else if segment.count > 1 {
                    svg.polyline(segment, stroke: Palette.color(index), extra: line.dashed ? " stroke-dasharray=\"6 4\"" : "")
                }
                segment = []
            }
            for (x, y) in zip(line.x, line.y) {
                if let p = pixel(x: x, y: y) {
                    segment.append(p)
                } else {
                    gaps += 1
                    flush()
                }
            }
            flush()
            let legendY = area.top + 10 + Double(index) * 20
            svg.line(area.right + 14, legendY, area.right + 38, legendY, stroke: Palette.color(index), width: 2.5,
                     dash: line.dashed ? "6 4" : nil)
            svg.text(area.right + 44, legendY + 4, line.name, size: 12)
        }
        if gaps > 0 {
            svg.text(area.right, area.bottom + 34, "\(gaps) non-finite point\(gaps == 1 ? "" : "s") left out", size: 11, anchor: "end", fill: "#b00")
        }
        return RenderedChart(svg: svg.text, gaps: gaps)
    }
}

/// Smoothing for noisy curves such as minibatch losses.
public enum Smoothing {
    /// The mean of each value and the `window - 1` before it (fewer at the start); non-finite
    /// values are skipped, and a window with none finite stays non-finite (a gap).
    public static func movingAverage(_ values: [Double], window: Int) -> [Double] {
        Requirement.check(window >= 1, "movingAverage: window must be at least 1")
        var result: [Double] = []
        result.reserveCapacity(values.count)
        var total = 0.0, finite = 0
        for i in values.indices {
            if values[i].isFinite { total += values[i]; finite += 1 }
            if i >= window, values[i - window].isFinite { total -= values[i - window]; finite -= 1 }
            result.append(finite > 0 ? total / Double(finite) : .nan)
        }
        return result
    }
}
