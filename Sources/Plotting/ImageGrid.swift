/// Small grey images (digits, say) in a grid, each with a caption underneath.
public struct ImageGrid: Sendable {
    /// The heading.
    public let title: String
    /// Each image's pixels in [0, 1] (1 drawn black, as ink), row-major, `side × side`.
    public let images: [[Double]]
    /// One caption per image, e.g. "7 → 2".
    public let captions: [String]
    /// Pixels per side of each image.
    public let side: Int
    /// Images per row.
    public var columns = 8
    /// Screen pixels per image pixel.
    public var scale = 3.0

    /// A grid. - Precondition: one caption per image, each image `side × side`.
    public init(title: String, images: [[Double]], captions: [String], side: Int = 28) {
        Requirement.check(images.count == captions.count, "ImageGrid: \(images.count) images, \(captions.count) captions")
        Requirement.check(images.allSatisfy { $0.count == side * side }, "ImageGrid: every image needs \(side)×\(side) pixels")
        self.title = title
        self.images = images
        self.captions = captions
        self.side = side
    }

    /// Draws the grid (non-finite pixels are drawn white and counted in `gaps`).
    public func render() -> RenderedChart {
        let cellWidth = Double(side) * scale + 16, cellHeight = Double(side) * scale + 30
        let rows = (images.count + columns - 1) / columns
        var svg = SVGDocument(width: max(Double(min(columns, images.count)) * cellWidth + 20, 240),
                              height: Double(rows) * cellHeight + 50)
        svg.text(10, 24, title, size: 16, weight: "bold")
        var gaps = 0
        for (index, image) in images.enumerated() {
            let x = 10 + Double(index % columns) * cellWidth + 8, y = 40 + Double(index / columns) * cellHeight
            let pixels = image.map { v -> UInt8 in
                guard v.isFinite else { gaps += 1; return 255 }
                return UInt8(255 - min(max(v, 0), 1) * 255)
            }
            svg.image(x, y, Double(side) * scale, Double(side) * scale, png: PNGEncoder.encode(width: side, height: side, channels: 1, pixels: pixels))
            svg.rect(x, y, Double(side) * scale, Double(side) * scale, fill: "none", stroke: "#bbb")
            svg.text(x + Double(side) * scale / 2, y + Double(side) * scale + 16, captions[index], size: 12, anchor: "middle")
        }
        return RenderedChart(svg: svg.text, gaps: gaps)
    }
}

/// Counts of (true class, predicted class), drawn as a shaded table.
public struct ConfusionMatrixPlot: Sendable {
    /// The heading.
    public let title: String
    /// `counts[true][predicted]`.
    public let counts: [[Int]]
    /// Class names, e.g. "0" … "9".
    public let labels: [String]

    /// A plot of `counts`. - Precondition: square, one label per class.
    public init(title: String, counts: [[Int]], labels: [String]) {
        Requirement.check(counts.count == labels.count && counts.allSatisfy { $0.count == labels.count },
                     "ConfusionMatrixPlot: counts must be \(labels.count)×\(labels.count)")
        self.title = title
        self.counts = counts
        self.labels = labels
    }

    /// Counts from true and predicted class indices.
    public static func counts(truth: [Int], predicted: [Int], classes: Int) -> [[Int]] {
        var counts = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        for (t, p) in zip(truth, predicted) where (0..<classes).contains(t) && (0..<classes).contains(p) { counts[t][p] += 1 }
        return counts
    }

    /// Draws the table. A correct cell is shaded green by its share of its row; an error red,
    /// relative to the largest error share in the table, so that the few errors of a 98%
    /// classifier show as clearly as the many of a poor one. Long class names get room: the
    /// margin grows with the longest, and column names stand upright when wider than a cell.
    public func render() -> RenderedChart {
        let n = labels.count
        let cell = 44.0
        let longest = Double(labels.map(\.count).max() ?? 1) * 7
        let upright = longest > cell - 6
        let left = max(70, 48 + longest), top = upright ? 60 + longest : 70
        var svg = SVGDocument(width: left + Double(n) * cell + 30, height: top + Double(n) * cell + 30)
        svg.text(10, 24, title, size: 16, weight: "bold")
        svg.text(left + Double(n) * cell / 2, 44, "predicted", size: 12, anchor: "middle")
        svg.text(18, top + Double(n) * cell / 2, "true", size: 12, anchor: "middle", rotate: true)
        let shares = (0..<n).map { i in counts[i].map { Double($0) / Double(max(counts[i].reduce(0, +), 1)) } }
        var largestError = 0.0
        for i in 0..<n { for j in 0..<n where i != j { largestError = max(largestError, shares[i][j]) } }
        for i in 0..<n {
            svg.text(left - 8, top + (Double(i) + 0.6) * cell, labels[i], size: 12, anchor: "end")
            if upright {
                svg.text(left + (Double(i) + 0.6) * cell, top - 8, labels[i], size: 12, anchor: "start", rotate: true)
            } else {
                svg.text(left + (Double(i) + 0.5) * cell, top - 8, labels[i], size: 12, anchor: "middle")
            }
            for j in 0..<n {
                let share = shares[i][j]
                let shade = i == j ? "rgba(44,160,44,\(svg.number(0.15 + 0.85 * share)))"
                    : "rgba(214,39,40,\(svg.number(0.12 + 0.78 * share / max(largestError, 1e-12))))"
                svg.rect(left + Double(j) * cell, top + Double(i) * cell, cell, cell, fill: counts[i][j] == 0 ? "white" : shade, stroke: "#ddd")
                if counts[i][j] > 0 {
                    svg.text(left + (Double(j) + 0.5) * cell, top + (Double(i) + 0.6) * cell, String(counts[i][j]), size: 11, anchor: "middle")
                }
            }
        }
        return RenderedChart(svg: svg.text, gaps: 0)
    }
}

/// An HTML page that shows a set of pictures, one after another with captions.
public enum HTMLIndex {
    /// The page for `entries` (file name relative to the page, caption).
    public static func page(title: String, entries: [(file: String, caption: String)]) -> String {
        let items = entries.map { entry in
            "<figure><img src=\"\(SVGDocument.escape(entry.file))\" alt=\"\(SVGDocument.escape(entry.caption))\"><figcaption>\(SVGDocument.escape(entry.caption))</figcaption></figure>"
        }.joined(separator: "\n")
        return """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>\(SVGDocument.escape(title))</title>
            <style>body{font-family:Helvetica,Arial,sans-serif;margin:24px;background:#fafafa}figure{display:inline-block;margin:12px;vertical-align:top;background:white;padding:8px;border:1px solid #ddd}figcaption{color:#444;font-size:14px}</style>
            </head><body><h1>\(SVGDocument.escape(title))</h1>
            \(items)
            </body></html>

            """
    }
}
