import Foundation

/// Points drawn as discs on equal-scaled axes, shaded by a value (a depth, say: light for small
/// values, dark for large), in panels side by side (a structure before and after).
public struct ScatterPlot: Sendable {
    /// One panel: its caption and its points (x, y, shade).
    public struct Panel: Sendable {
        /// The caption above the panel.
        public let caption: String
        /// The points.
        public let points: [(x: Double, y: Double, shade: Double)]

        /// A panel of points; a point with a non-finite coordinate is left out.
        public init(_ caption: String, points: [(x: Double, y: Double, shade: Double)]) {
            self.caption = caption
            self.points = points
        }
    }

    /// The title.
    public var title: String
    /// The panels, left to right.
    public var panels: [Panel]
    /// The disc radius in data units.
    public var radius: Double
    /// The size of each panel in pixels.
    public var panelSize = 360.0

    /// A plot of `panels`; `radius` is in the data's units.
    public init(title: String, panels: [Panel], radius: Double) {
        self.title = title
        self.panels = panels
        self.radius = radius
    }

    /// Draws the panels, each scaled to fit its points (the same scale for x and y), points
    /// with a larger shade drawn last.
    public func render() -> RenderedChart {
        let margin = 20.0
        var svg = SVGDocument(width: Double(max(panels.count, 1)) * (panelSize + margin) + margin, height: panelSize + 70)
        svg.text(svg.width / 2, 24, title, size: 16, anchor: "middle", weight: "bold")
        var gaps = 0
        for (index, panel) in panels.enumerated() {
            let left = margin + Double(index) * (panelSize + margin), top = 50.0
            svg.rect(left, top, panelSize, panelSize, fill: "none", stroke: "#ccc")
            svg.text(left + panelSize / 2, top + panelSize + 16, panel.caption, size: 12, anchor: "middle")
            let finite = panel.points.filter { $0.x.isFinite && $0.y.isFinite && $0.shade.isFinite }
            gaps += panel.points.count - finite.count
            guard let minX = finite.map(\.x).min(), let maxX = finite.map(\.x).max(),
                  let minY = finite.map(\.y).min(), let maxY = finite.map(\.y).max(),
                  let low = finite.map(\.shade).min(), let high = finite.map(\.shade).max() else { continue }
            let span = max(maxX - minX, maxY - minY) + 2 * radius
            let scale = (panelSize - 20) / max(span, 1e-12)
            let (centerX, centerY) = ((minX + maxX) / 2, (minY + maxY) / 2)
            for point in finite.sorted(by: { $0.shade < $1.shade }) {
                let t = high > low ? (point.shade - low) / (high - low) : 0.5
                let level = Int(200 - 150 * t)
                let fill = String(format: "#%02x%02x%02x", level / 3, level / 2 + 20, min(255, level + 40))
                svg.circle(left + panelSize / 2 + (point.x - centerX) * scale, top + panelSize / 2 - (point.y - centerY) * scale,
                           radius * scale, fill: fill, stroke: "#222")
            }
        }
        return RenderedChart(svg: svg.text, gaps: gaps)
    }
}
