import Foundation

/// A two-class model's probability over a 2-D plane: a heat map of p(class 1) on a grid, the
/// 0.5 contour, and the data points coloured by class. With several frames it is animated
/// (SVG SMIL, played by any browser), like a live window redrawn as the model learns.
public struct DecisionBoundaryPlot: Sendable {
    /// One snapshot of the model.
    public struct Frame: Sendable {
        /// A caption such as "iteration 300 · accuracy 91.2%".
        public let caption: String
        /// p(class 1) on the grid, `resolution × resolution`, row 0 at the top (largest y).
        public let probabilities: [Double]

        /// A frame. - Precondition: `probabilities` is square.
        public init(caption: String, probabilities: [Double]) {
            self.caption = caption
            self.probabilities = probabilities
        }
    }

    /// The plane shown.
    public let xRange: ClosedRange<Double>, yRange: ClosedRange<Double>
    /// Grid cells per side.
    public let resolution: Int
    /// The data: coordinates and class (0 or 1).
    public let points: [(x: Double, y: Double, label: Int)]
    /// The snapshots, in order.
    public let frames: [Frame]
    /// The heading.
    public let title: String
    /// Size in pixels of the square plot.
    public var size = 480.0

    /// A plot of `frames` over the plane. - Precondition: every frame has resolution² values.
    public init(title: String, xRange: ClosedRange<Double>, yRange: ClosedRange<Double>, resolution: Int,
                points: [(x: Double, y: Double, label: Int)], frames: [Frame]) {
        Requirement.check(!frames.isEmpty && frames.allSatisfy { $0.probabilities.count == resolution * resolution },
                     "DecisionBoundaryPlot: every frame needs \(resolution)×\(resolution) probabilities")
        self.title = title
        self.xRange = xRange
        self.yRange = yRange
        self.resolution = resolution
        self.points = points
        self.frames = frames
    }

    /// The grid point (x, y) of cell (row, column), for evaluating the model: cell centres,
    /// row 0 at the top.
    public static func gridPoint(row: Int, column: Int, resolution: Int,
                                 xRange: ClosedRange<Double>, yRange: ClosedRange<Double>) -> (Double, Double) {
        let fx = (Double(column) + 0.5) / Double(resolution), fy = (Double(row) + 0.5) / Double(resolution)
        return (xRange.lowerBound + fx * (xRange.upperBound - xRange.lowerBound),
                yRange.upperBound - fy * (yRange.upperBound - yRange.lowerBound))
    }

    /// Where the square plot starts: room for the y axis's numbers on the left, the title on top.
    static let left = 56.0, top = 40.0

    /// The pixel of a data point.
    public func pixel(x: Double, y: Double) -> (Double, Double) {
        let (left, top) = (Self.left, Self.top)
        return (left + (x - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * size,
                top + (yRange.upperBound - y) / (yRange.upperBound - yRange.lowerBound) * size)
    }

    /// Draws the plot; animated when there is more than one frame, `secondsPerFrame` each,
    /// looping. Non-finite probabilities are drawn grey and counted in `gaps`.
    public func render(secondsPerFrame: Double = 0.4) -> RenderedChart {
        // The plot, its axes below and left, and a legend on the right.
        let (left, top) = (Self.left, Self.top)
        var svg = SVGDocument(width: left + size + 130, height: top + size + 72)
        svg.text((left + size + 130) / 2, 24, title, size: 16, anchor: "middle", weight: "bold")
        drawAxes(&svg)
        drawLegend(&svg)
        var gaps = 0
        let total = Double(frames.count) * secondsPerFrame
        for (index, frame) in frames.enumerated() {
            var extra = ""
            if frames.count > 1 {
                // Discrete opacity keyframes: frame i shows during [i, i+1) of every loop. The
                // static opacity makes the last frame what a viewer without SMIL sees.
                let values = (0..<frames.count).map { $0 == index ? "1" : "0" }.joined(separator: ";")
                let times = (0..<frames.count).map { String(format: "%.4f", Double($0) / Double(frames.count)) }.joined(separator: ";")
                extra = "<animate attributeName=\"opacity\" values=\"\(values)\" keyTimes=\"\(times)\" calcMode=\"discrete\" dur=\"\(svg.number(total))s\" repeatCount=\"indefinite\"/>"
            }
            svg.raw("<g class=\"frame\" opacity=\"\(index == frames.count - 1 ? 1 : 0)\">" + extra)
            var rgb: [UInt8] = []
            rgb.reserveCapacity(resolution * resolution * 3)
            for p in frame.probabilities {
                guard p.isFinite else {
                    gaps += 1
                    rgb += [200, 200, 200]
                    continue
                }
                let (r, g, b) = Self.colour(p)
                rgb += [UInt8(r), UInt8(g), UInt8(b)]
            }
            svg.image(left, top, size, size, png: PNGEncoder.encode(width: resolution, height: resolution, channels: 3, pixels: rgb))
            for segment in contour(frame.probabilities, level: 0.5) {
                svg.line(segment.0, segment.1, segment.2, segment.3, stroke: "#222", width: 1.5)
            }
            svg.text(left + size / 2, top + size + 58, frame.caption, size: 12, anchor: "middle")
            svg.raw("</g>")
        }
        for point in points {
            let (x, y) = pixel(x: point.x, y: point.y)
            guard x.isFinite && y.isFinite else {
                gaps += 1
                continue
            }
            svg.circle(x, y, 2.6, fill: point.label == 1 ? "#d62728" : "#1f77b4", stroke: "white", extra: " class=\"point\"")
        }
        svg.rect(left, top, size, size, fill: "none", stroke: "#444")
        return RenderedChart(svg: svg.text, gaps: gaps)
    }

    /// Ticks with their numbers along the bottom (x) and the left (y) of the plot.
    func drawAxes(_ svg: inout SVGDocument) {
        let (left, top) = (Self.left, Self.top)
        let xAxis = Axis(from: xRange.lowerBound, to: xRange.upperBound)
        for tick in xAxis.ticks(count: 6) {
            guard let f = xAxis.fraction(tick), (0...1).contains(f) else { continue }
            let x = left + f * size
            svg.line(x, top + size, x, top + size + 5, stroke: "#444", width: 1)
            svg.text(x, top + size + 18, Axis.label(tick), size: 11, anchor: "middle")
        }
        let yAxis = Axis(from: yRange.lowerBound, to: yRange.upperBound)
        for tick in yAxis.ticks(count: 6) {
            guard let f = yAxis.fraction(tick), (0...1).contains(f) else { continue }
            let y = top + (1 - f) * size
            svg.line(left - 5, y, left, y, stroke: "#444", width: 1)
            svg.text(left - 8, y + 4, Axis.label(tick), size: 11, anchor: "end")
        }
        svg.text(left + size / 2, top + size + 36, "x₁", size: 12, anchor: "middle")
        svg.text(16, top + size / 2, "x₂", size: 12, anchor: "middle", rotate: true)
    }

    /// The colour scale of P(class 1), the 0.5 boundary line, and the two classes' dots.
    func drawLegend(_ svg: inout SVGDocument) {
        let x = Self.left + size + 22, top = Self.top + 10, height = 160.0
        svg.text(x, top - 2, "P(class 1)", size: 11)
        let steps = 20
        for i in 0..<steps {
            let q = 1 - (Double(i) + 0.5) / Double(steps)
            let (r, g, b) = Self.colour(q)
            svg.rect(x, top + 8 + Double(i) * height / Double(steps), 16, height / Double(steps) + 0.5,
                     fill: "rgb(\(Int(r)),\(Int(g)),\(Int(b)))", stroke: "none")
        }
        for (label, q) in [("1", 1.0), ("0.5", 0.5), ("0", 0.0)] {
            svg.text(x + 22, top + 12 + (1 - q) * height, label, size: 11)
        }
        let legend = top + height + 36
        svg.line(x, legend, x + 16, legend, stroke: "#222", width: 1.5)
        svg.text(x + 22, legend + 4, "P = 0.5", size: 11)
        svg.circle(x + 8, legend + 20, 3.5, fill: "#1f77b4", stroke: "white")
        svg.text(x + 22, legend + 24, "class 0", size: 11)
        svg.circle(x + 8, legend + 38, 3.5, fill: "#d62728", stroke: "white")
        svg.text(x + 22, legend + 42, "class 1", size: 11)
    }

    /// Blue for class 0, red for class 1, pale near 0.5.
    static func colour(_ p: Double) -> (Double, Double, Double) {
        let q = min(max(p, 0), 1)
        return q < 0.5
            ? (255 - (0.5 - q) * 2 * 130, 255 - (0.5 - q) * 2 * 80, 255.0)
            : (255.0, 255 - (q - 0.5) * 2 * 110, 255 - (q - 0.5) * 2 * 130)
    }

    /// Marching squares on the grid of cell centres: segments (x1, y1, x2, y2) in pixels where
    /// the probability crosses `level`.
    func contour(_ values: [Double], level: Double) -> [(Double, Double, Double, Double)] {
        let n = resolution
        let cell = size / Double(n)
        func position(_ row: Double, _ column: Double) -> (Double, Double) {
            (Self.left + (column + 0.5) * cell, Self.top + (row + 0.5) * cell)
        }
        var segments: [(Double, Double, Double, Double)] = []
        for row in 0..<(n - 1) {
            for column in 0..<(n - 1) {
                let corners = [values[row * n + column], values[row * n + column + 1],
                               values[(row + 1) * n + column + 1], values[(row + 1) * n + column]]
                guard corners.allSatisfy(\.isFinite) else { continue }
                let offsets: [(Double, Double)] = [(0, 0), (0, 1), (1, 1), (1, 0)]
                var crossings: [(Double, Double)] = []
                for edge in 0..<4 {
                    let (a, b) = (corners[edge], corners[(edge + 1) % 4])
                    if (a < level) != (b < level) {
                        let t = (level - a) / (b - a)
                        let (r0, c0) = offsets[edge], (r1, c1) = offsets[(edge + 1) % 4]
                        crossings.append(position(Double(row) + r0 + t * (r1 - r0), Double(column) + c0 + t * (c1 - c0)))
                    }
                }
                for pair in stride(from: 0, to: crossings.count - 1, by: 2) {
                    segments.append((crossings[pair].0, crossings[pair].1, crossings[pair + 1].0, crossings[pair + 1].1))
                }
            }
        }
        return segments
    }
}
