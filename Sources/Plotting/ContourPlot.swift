import Foundation

/// A function of two variables drawn as contour lines at several levels (marching squares on a
/// grid of its values), with paths drawn over it, such as the iterates of optimizers.
public struct ContourPlot: Sendable {
    /// The heading.
    public var title: String
    /// The plane shown.
    public let xRange: ClosedRange<Double>, yRange: ClosedRange<Double>
    /// Grid points per side (at least 2), evenly spaced from the lower to the upper bound.
    public let resolution: Int
    /// f at the grid points, row-major with row 0 at the lowest y: `values[row * resolution + column]`
    /// is f(x of column, y of row). Non-finite values leave their cells blank.
    public let values: [Double]
    /// The levels whose contours are drawn, labelled in the legend.
    public let levels: [Double]
    /// Paths over the contours, each in its palette colour, a dot at each end, earlier ones
    /// wider (so paths that run together stay visible); points outside the plane leave gaps. Points closer than half a pixel to the last drawn one are skipped.
    public var paths: [Series]
    /// A point to mark with a cross, such as the minimum.
    public var marker: (x: Double, y: Double)?
    /// Width and height of the plot area in pixels.
    public var width = 640.0, height = 480.0

    /// The grid point (x, y) of a row and column.
    public static func gridPoint(row: Int, column: Int, resolution: Int,
                                 xRange: ClosedRange<Double>, yRange: ClosedRange<Double>) -> (x: Double, y: Double) {
        planePoint(row: Double(row), column: Double(column), resolution: resolution, xRange: xRange, yRange: yRange)
    }

    /// The point of the plane at fractional grid coordinates (a contour crossing between grid points).
    static func planePoint(row: Double, column: Double, resolution: Int,
                           xRange: ClosedRange<Double>, yRange: ClosedRange<Double>) -> (x: Double, y: Double) {
        let step = 1 / Double(resolution - 1)
        return (xRange.lowerBound + column * step * (xRange.upperBound - xRange.lowerBound),
                yRange.lowerBound + row * step * (yRange.upperBound - yRange.lowerBound))
    }

    /// A plot of `values` on a `resolution × resolution` grid over the plane.
    /// - Precondition: `values.count == resolution²`, resolution ≥ 2, non-empty ranges.
    public init(title: String, xRange: ClosedRange<Double>, yRange: ClosedRange<Double>, resolution: Int,
                values: [Double], levels: [Double], paths: [Series] = []) {
        Requirement.check(resolution >= 2 && values.count == resolution * resolution,
                          "ContourPlot: \(values.count) values for a \(resolution)×\(resolution) grid")
        Requirement.check(xRange.upperBound > xRange.lowerBound && yRange.upperBound > yRange.lowerBound,
                          "ContourPlot: empty range")
        self.title = title
        self.xRange = xRange
        self.yRange = yRange
        self.resolution = resolution
        self.values = values
        self.levels = levels
        self.paths = paths
    }

    static let left = 56.0, top = 40.0, legendWidth = 190.0

    /// The pixel of a point of the plane.
    public func pixel(x: Double, y: Double) -> (Double, Double) {
        let fx = (x - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound)
        let fy = (y - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound)
        return (Self.left + fx * width, Self.top + (1 - fy) * height)
    }

    /// The contour segments of one level, in plane coordinates: marching squares, a saddle
    /// cell resolved by the value at its centre.
    public func segments(at level: Double) -> [((Double, Double), (Double, Double))] {
        let n = resolution
        var result: [((Double, Double), (Double, Double))] = []
        func point(_ row: Double, _ column: Double) -> (Double, Double) {
            Self.planePoint(row: row, column: column, resolution: n, xRange: xRange, yRange: yRange)
        }
        for row in 0..<(n - 1) {
            for column in 0..<(n - 1) {
                // Corners counter-clockwise from the bottom left.
                let v = [values[row * n + column], values[row * n + column + 1],
                         values[(row + 1) * n + column + 1], values[(row + 1) * n + column]]
                guard v.allSatisfy(\.isFinite) else { continue }
                let corners = [(Double(row), Double(column)), (Double(row), Double(column + 1)),
                               (Double(row + 1), Double(column + 1)), (Double(row + 1), Double(column))]
                // Where the level crosses edge e (from corner e to corner e+1), if it does.
                // Always from the corner first in grid order, so the two cells sharing an edge
                // compute the same point, bit for bit, and the contour has no hairline gaps.
                func crossing(_ e: Int) -> (Double, Double)? {
                    var (i, j) = (e, (e + 1) % 4)
                    if corners[j] < corners[i] { swap(&i, &j) }
                    let (a, b) = (v[i], v[j])
                    guard (a < level) != (b < level) else { return nil }
                    let t = (level - a) / (b - a)
                    let (p, q) = (corners[i], corners[j])
                    return point(p.0 + t * (q.0 - p.0), p.1 + t * (q.1 - p.1))
                }
                let crossings = (0..<4).compactMap { e in crossing(e).map { (edge: e, at: $0) } }
                if crossings.count == 2 {
                    result.append((crossings[0].at, crossings[1].at))
                } else if crossings.count == 4 {
                    // A saddle: pair the edges so that the centre's side stays connected.
                    let centreAbove = (v[0] + v[1] + v[2] + v[3]) / 4 >= level
                    let firstAbove = v[0] >= level
                    if centreAbove == firstAbove {
                        result.append((crossings[0].at, crossings[1].at))
                        result.append((crossings[2].at, crossings[3].at))
                    } else {
                        result.append((crossings[3].at, crossings[0].at))
                        result.append((crossings[1].at, crossings[2].at))
                    }
                }
            }
        }
        return result
    }

    /// The SVG picture: axes, the contours (darker for lower levels), the paths and the legend.
    public func render() -> RenderedChart {
        var svg = SVGDocument(width: Self.left + width + Self.legendWidth, height: Self.top + height + 48)
        let (left, top) = (Self.left, Self.top)
        svg.text(left + width / 2, 24, title, size: 16, anchor: "middle", weight: "bold")
        let xAxis = Axis(from: xRange.lowerBound, to: xRange.upperBound), yAxis = Axis(from: yRange.lowerBound, to: yRange.upperBound)
        for tick in xAxis.ticks() {
            let (x, _) = pixel(x: tick, y: yRange.lowerBound)
            svg.line(x, top + height, x, top + height + 5, stroke: "#444")
            svg.text(x, top + height + 18, Axis.label(tick), size: 11, anchor: "middle")
        }
        for tick in yAxis.ticks() {
            let (_, y) = pixel(x: xRange.lowerBound, y: tick)
            svg.line(left - 5, y, left, y, stroke: "#444")
            svg.text(left - 8, y + 4, Axis.label(tick), size: 11, anchor: "end")
        }
        svg.text(left + width / 2, top + height + 38, "x", size: 12, anchor: "middle")
        svg.text(16, top + height / 2, "y", size: 12, anchor: "middle")
        svg.raw("<clipPath id=\"plane\"><rect x=\"\(svg.number(left))\" y=\"\(svg.number(top))\" width=\"\(svg.number(width))\" height=\"\(svg.number(height))\"/></clipPath>")
        let sorted = levels.sorted()
        for (index, level) in sorted.enumerated() {
            var d = ""
            for (a, b) in segments(at: level) {
                let (p, q) = (pixel(x: a.0, y: a.1), pixel(x: b.0, y: b.1))
                d += "M\(svg.number(p.0)) \(svg.number(p.1))L\(svg.number(q.0)) \(svg.number(q.1))"
            }
            guard !d.isEmpty else { continue }
            svg.raw("<path d=\"\(d)\" fill=\"none\" stroke=\"\(Self.levelColour(index, of: sorted.count))\" stroke-width=\"1\" clip-path=\"url(#plane)\"/>")
        }
        svg.rect(left, top, width, height, fill: "none", stroke: "#444")
        var gaps = 0
        for (index, path) in paths.enumerated() {
            let colour = Palette.color(index)
            // Earlier paths are drawn wider, so paths that run together all stay visible.
            let strokeWidth = 1.8 + 2.4 * Double(paths.count - 1 - index)
            var segment: [(Double, Double)] = []
            // The last in-plane point, drawn even when it is within half a pixel of the previous one.
            var latest: (Double, Double)?
            var first: (Double, Double)?
            func flush() {
                if let latest, let end = segment.last, end != latest { segment.append(latest) }
                if segment.count > 1 { svg.polyline(segment, stroke: colour, width: strokeWidth) }
                segment = []
            }
            for (x, y) in zip(path.x, path.y) {
                guard x.isFinite, y.isFinite, xRange.contains(x), yRange.contains(y) else {
                    gaps += 1
                    flush()
                    latest = nil
                    continue
                }
                let p = pixel(x: x, y: y)
                first = first ?? p
                latest = p
                if let end = segment.last, abs(end.0 - p.0) < 0.5 && abs(end.1 - p.1) < 0.5 { continue }
                segment.append(p)
            }
            flush()
            if let first { svg.circle(first.0, first.1, 3.5, fill: colour) }
            if let latest { svg.circle(latest.0, latest.1, 3.5, fill: "white", stroke: colour) }
            let legendY = top + 10 + Double(index) * 20
            svg.line(left + width + 14, legendY, left + width + 38, legendY, stroke: colour, width: 2.5)
            svg.text(left + width + 44, legendY + 4, path.name, size: 12)
        }
        if let marker {
            let (x, y) = pixel(x: marker.x, y: marker.y)
            svg.line(x - 6, y - 6, x + 6, y + 6, stroke: "#000", width: 2)
            svg.line(x - 6, y + 6, x + 6, y - 6, stroke: "#000", width: 2)
        }
        let levelsTop = top + 20 + Double(paths.count) * 20
        svg.text(left + width + 14, levelsTop, "contour levels", size: 12, weight: "bold")
        for (index, level) in sorted.enumerated() {
            let y = levelsTop + 16 + Double(index) * 16
            svg.line(left + width + 14, y - 4, left + width + 38, y - 4, stroke: Self.levelColour(index, of: sorted.count), width: 2)
            svg.text(left + width + 44, y, Axis.label(level), size: 11)
        }
        svg.text(left + width + 14, levelsTop + 16 * Double(sorted.count) + 20, "● start  ○ end", size: 11)
        if gaps > 0 {
            svg.text(left + width, top + height + 38, "\(gaps) point\(gaps == 1 ? "" : "s") outside the plane left out",
                     size: 11, anchor: "end", fill: "#b00")
        }
        return RenderedChart(svg: svg.text, gaps: gaps)
    }

    /// Grey-blue, darker for lower levels.
    static func levelColour(_ index: Int, of count: Int) -> String {
        let t = count > 1 ? Double(index) / Double(count - 1) : 0
        let (r, g, b) = (40 + t * 150, 60 + t * 150, 110 + t * 120)
        return String(format: "#%02x%02x%02x", Int(r), Int(g), Int(b))
    }
}
