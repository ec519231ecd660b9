import Datasets
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Plotting
import Testing

/// Parses SVG text as XML (failing the test if it is not well-formed).
func parse(_ svg: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> XMLDocument {
    try XMLDocument(data: Data(svg.utf8))
}

func elements(_ document: XMLDocument, _ name: String) throws -> [XMLElement] {
    try document.nodes(forXPath: "//*[local-name()='\(name)']").compactMap { $0 as? XMLElement }
}

/// An attribute by name (attribute(forName:) misses attributes of elements in the SVG
/// namespace in swift-corelibs-foundation).
func attribute(_ element: XMLElement, _ name: String) -> String? {
    element.attributes?.first { $0.name == name || $0.localName == name }?.stringValue
}

func points(_ polyline: XMLElement) -> [(Double, Double)] {
    (attribute(polyline, "points") ?? "").split(separator: " ").map { pair in
        let xy = pair.split(separator: ",").map { Double($0)! }
        return (xy[0], xy[1])
    }
}

@Suite("Line charts")
struct LineChartTests {
    let chart = LineChart(title: "Loss & accuracy", xLabel: "iteration", yLabel: "loss", series: [
        Series("train", x: [0, 10, 20], y: [1, 0.5, 0.25]),
        Series("test", x: [0, 10, 20], y: [1.2, 0.7, 0.4], dashed: true),
    ])

    @Test("parses as XML, with one line per series, the legend and the escaped title")
    func structure() throws {
        let rendered = chart.render()
        let document = try parse(rendered.svg)
        #expect(try elements(document, "polyline").count == 2)
        let texts = try elements(document, "text").compactMap(\.stringValue)
        #expect(texts.contains("train") && texts.contains("test") && texts.contains("Loss & accuracy"))
        #expect(rendered.svg.contains("Loss &amp; accuracy"))
        #expect(rendered.gaps == 0)
    }

    @Test("data map to the right pixels: axis corners and every vertex of the line")
    func coordinates() throws {
        let area = chart.plotArea
        let (x0, y0) = chart.pixel(x: chart.xAxis.lower, y: chart.yAxis.lower)!
        let (x1, y1) = chart.pixel(x: chart.xAxis.upper, y: chart.yAxis.upper)!
        #expect(x0 == area.left && y0 == area.bottom && x1 == area.right && y1 == area.top)
        let line = try elements(try parse(chart.render().svg), "polyline")[0]
        #expect(points(line).count == 3)
        for (drawn, (x, y)) in zip(points(line), [(0.0, 1.0), (10, 0.5), (20, 0.25)]) {
            let expected = chart.pixel(x: x, y: y)!
            #expect(abs(drawn.0 - expected.0) < 0.01 && abs(drawn.1 - expected.1) < 0.01, "point (\(x), \(y)) at \(drawn), expected \(expected)")
        }
        // Halfway along x is halfway across the plot area.
        #expect(abs(chart.pixel(x: (chart.xAxis.lower + chart.xAxis.upper) / 2, y: 1)!.0 - (area.left + area.right) / 2) < 1e-9)
    }

    @Test("a NaN or infinite value is a gap, reported, and never written")
    func gaps() throws {
        let broken = LineChart(title: "t", xLabel: "x", yLabel: "y", logarithmicY: true,
                               series: [Series("loss", y: [1, 0.5, .nan, 0.2, .infinity, 0.1, 0])])
        let rendered = broken.render()
        #expect(rendered.gaps == 3, "NaN, ∞ and 0 on a log axis")
        let document = try parse(rendered.svg)
        #expect(try elements(document, "polyline").count == 1, "only [1, 0.5] is a line")
        #expect(try elements(document, "circle").count == 2, "the lone points 0.2 and 0.1 are drawn as dots")
        let lower = rendered.svg.lowercased()
        #expect(!lower.contains("nan") && !lower.contains("inf"))
    }

    @Test("ticks are round numbers inside the range; moving average by hand")
    func ticksAndSmoothing() {
        #expect(Axis(from: 0, to: 1).ticks() == [0, 0.2, 0.4, 0.6, 0.8, 1])
        #expect(Axis(from: -3, to: 12).ticks() == [0, 5, 10])
        #expect(Axis(from: -3, to: 12).ticks().allSatisfy { $0.sign == .plus || $0 != 0 }, "no -0 label")
        #expect(Axis(from: 1e-3, to: 10, logarithmic: true).ticks().count >= 4)
        #expect(Axis.label(0.001) == "0.001" && Axis.label(250_000) == "2e+05" && Axis.label(3) == "3")
        let smoothed = Smoothing.movingAverage([1, 3, .nan, 5, 7], window: 2)
        #expect(smoothed[0] == 1 && smoothed[1] == 2 && smoothed[2] == 3 && smoothed[3] == 5 && smoothed[4] == 6)
    }
}

@Suite("Decision boundaries, image grids, confusion matrices, PNG")
struct PictureTests {
    @Test("an animated decision boundary: one frame group each, animated, with the points on top")
    func decisionBoundary() throws {
        let n = 8
        let frames = (0..<3).map { f in
            DecisionBoundaryPlot.Frame(caption: "frame \(f)", probabilities: (0..<(n * n)).map { Double($0 % n) / Double(n - 1) })
        }
        let plot = DecisionBoundaryPlot(title: "moons", xRange: -1...1, yRange: -1...1, resolution: n,
                                        points: [(x: 0, y: 0, label: 0), (x: 1, y: -1, label: 1)], frames: frames)
        let rendered = plot.render()
        let document = try parse(rendered.svg)
        #expect(try elements(document, "g").count == 3)
        #expect(try elements(document, "animate").count == 3)
        #expect(try elements(document, "image").count == 3)
        // The data points (the legend has two dots of its own).
        let circles = try elements(document, "circle").filter { attribute($0, "class") == "point" }
        #expect(circles.count == 2)
        #expect(rendered.svg.contains(">P(class 1)<") && rendered.svg.contains(">class 0<") && rendered.svg.contains(">x₁<"),
                "the map has a legend and axis labels")
        // (1, -1) is the bottom-right corner of the plot.
        let corner = plot.pixel(x: 1, y: -1)
        #expect(attribute(circles[1], "cx") == String(Int(corner.0)))
        #expect(attribute(circles[1], "cy") == String(Int(corner.1)))
        // Probability rises left to right, so the 0.5 contour is a vertical line in the middle.
        // The contour of the last frame (axis ticks and the legend's line are outside the frames).
        let contour = try document.nodes(forXPath: "//*[local-name()='g'][last()]//*[local-name()='line']").compactMap { $0 as? XMLElement }
        #expect(!contour.isEmpty)
        let middle = plot.pixel(x: 0, y: 0).0
        #expect(contour.allSatisfy { abs((Double(attribute($0, "x1") ?? "") ?? .infinity) - middle) < 480.0 / Double(n) })
    }

    @Test("image grid and confusion matrix")
    func gridAndMatrix() throws {
        let grid = ImageGrid(title: "misclassified", images: [[Double](repeating: 0.5, count: 784), [Double](repeating: .nan, count: 784)],
                             captions: ["7 → 1", "3 → 5"])
        let rendered = grid.render()
        #expect(try elements(try parse(rendered.svg), "image").count == 2)
        #expect(rendered.gaps == 784)
        let counts = ConfusionMatrixPlot.counts(truth: [0, 1, 1, 2], predicted: [0, 1, 2, 2], classes: 3)
        #expect(counts == [[1, 0, 0], [0, 1, 1], [0, 0, 1]])
        let matrix = try parse(ConfusionMatrixPlot(title: "c", counts: counts, labels: ["0", "1", "2"]).render().svg)
        #expect(try elements(matrix, "rect").count == 1 + 9, "background plus one cell per pair")
    }

    @Test("embedded PNGs decode to the pixels that were encoded")
    func png() throws {
        let pixels: [UInt8] = (0..<(7 * 5)).map { UInt8($0 * 7) }
        let image = try GrayImage(fileBytes: PNGEncoder.encode(width: 7, height: 5, channels: 1, pixels: pixels), path: "p.png")
        #expect(image.width == 7 && image.height == 5)
        #expect(image.pixels == pixels.map { Double($0) / 255 })
    }
}

@Suite("Contour plots")
struct ContourPlotTests {
    /// f(x, y) = x² + y² on [-2, 2]², whose contours are circles.
    static func bowl(resolution: Int, hole: Bool = false) -> ContourPlot {
        var values = [Double](repeating: 0, count: resolution * resolution)
        for row in 0..<resolution {
            for column in 0..<resolution {
                let (x, y) = ContourPlot.gridPoint(row: row, column: column, resolution: resolution, xRange: -2...2, yRange: -2...2)
                values[row * resolution + column] = hole && abs(x) < 0.3 && y > 0 ? .nan : x * x + y * y
            }
        }
        return ContourPlot(title: "bowl", xRange: -2...2, yRange: -2...2, resolution: resolution, values: values,
                           levels: [1, 2], paths: [Series("path", x: [1.5, 0.5, 0, 9], y: [1.5, 0.5, 0, 9])])
    }

    @Test("contour segments lie on the level set and close around it")
    func segmentsOnTheLevel() {
        let plot = Self.bowl(resolution: 81)
        // Levels through no grid point (a corner exactly on the level touches the contour twice).
        for level in [1.1, 2.3] {
            let segments = plot.segments(at: level)
            let radius = level.squareRoot()
            func distance(_ p: (Double, Double)) -> Double { abs(hypot(p.0, p.1) - radius) }
            let worst = segments.map { max(distance($0.0), distance($0.1)) }.max() ?? 1
            #expect(worst < 2e-3, "level \(level): every end should be on the circle of radius \(radius), off by \(worst)")
            let length = segments.map { hypot($0.1.0 - $0.0.0, $0.1.1 - $0.0.1) }.reduce(0, +)
            #expect(abs(length - 2 * .pi * radius) < 0.01 * radius, "level \(level): the contour's length should be 2πr, got \(length)")
            // Closed: every end point is shared by exactly two segments.
            var ends: [String: Int] = [:]
            for (a, b) in segments { for p in [a, b] { ends[String(format: "%.9f,%.9f", p.0, p.1), default: 0] += 1 } }
            #expect(ends.values.allSatisfy { $0 == 2 }, "level \(level): the contour should be one closed loop, \(ends.filter { $0.value != 2 })")
        }
        #expect(plot.segments(at: 100).isEmpty, "a level above every value has no contour")
    }

    @Test("a saddle cell joins the crossings on the centre's side")
    func saddle() {
        // Corners 1, 0, 1, 0 around the cell (bottom left, bottom right, top right, top left): the centre is 0.5.
        let plot = ContourPlot(title: "saddle", xRange: 0...1, yRange: 0...1, resolution: 2, values: [1, 0, 0, 1], levels: [0.4])
        let segments = plot.segments(at: 0.4)
        #expect(segments.count == 2, "a saddle cell crosses the level on all four edges: two segments, got \(segments)")
        // Centre 0.5 ≥ 0.4 like the corners at 1: the low corners (0, 1)→(1,0)… are cut off, each by its own segment.
        for (a, b) in segments {
            let middle = ((a.0 + b.0) / 2, (a.1 + b.1) / 2)
            #expect(abs(middle.0 - 0.5) > 0.2 && abs(middle.1 - 0.5) > 0.2, "segment \(a)–\(b) should cut off a corner, not cross the centre")
        }
    }

    @Test("renders as XML: one path per level, the paths with start and end dots, a blank hole, points outside as gaps")
    func rendering() throws {
        let rendered = Self.bowl(resolution: 41, hole: true).render()
        let document = try parse(rendered.svg)
        #expect(try elements(document, "path").count == 2, "one path element per level")
        #expect(try elements(document, "polyline").count == 1)
        #expect(rendered.gaps == 1, "the point (9, 9) is outside the plane")
        #expect(!rendered.svg.contains("nan") && !rendered.svg.contains("inf"))
        let texts = try elements(document, "text").compactMap(\.stringValue)
        #expect(texts.contains("path") && texts.contains("contour levels") && texts.contains("1") && texts.contains("2"))
        let full = Self.bowl(resolution: 41).segments(at: 2).count, holed = Self.bowl(resolution: 41, hole: true).segments(at: 2).count
        #expect(holed < full, "cells with a NaN corner are left blank (\(holed) segments against \(full))")
    }
}

@Suite("Layered graphs")
struct LayeredGraphTests {
    @Test("renders as XML: a box per node, a curve and an arrow per edge, labels escaped; sources sit before their first user")
    func rendering() throws {
        let plot = LayeredGraphPlot(title: "a < b", nodes: [
            (["parameter", "[2]"], .highlighted), (["constant", "[2]"], .muted), (["multiply", "[2]"], .plain),
            (["late input", "[]"], .muted), (["add", "[2]"], .plain), (["3 ops", "[]"], .folded),
        ], edges: [(0, 2, ["1", "∂ 2"]), (1, 2, []), (2, 4, ["x"]), (3, 4, []), (4, 5, [])])
        #expect(plot.columns() == [0, 0, 1, 1, 2, 3], "the late input goes just before its user, got \(plot.columns())")
        let rendered = plot.render()
        let document = try parse(rendered.svg)
        #expect(try elements(document, "rect").count == 1 + 6, "the background and one box per node")
        #expect(try elements(document, "path").count == 2 * 5, "a curve and an arrow head per edge")
        let texts = try elements(document, "text").compactMap(\.stringValue)
        #expect(texts.contains("a < b") && texts.contains("∂ 2") && texts.contains("late input"))
        #expect(rendered.gaps == 0)
    }
}
