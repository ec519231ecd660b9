import Foundation

/// A directed acyclic graph drawn left to right in layers: each node one column after its
/// latest input (a source just before its first user), nodes within a column ordered by the
/// positions of their inputs, edges as curves labelled at their middle. For computational
/// graphs: nodes labelled with op and shape, edges with the value forward and the gradient back.
public struct LayeredGraphPlot: Sendable {
    /// How a node is drawn.
    public enum Style: Sendable {
        /// A computed value (an op).
        case plain
        /// A trainable input (red outline).
        case highlighted
        /// A constant input (grey).
        case muted
        /// Several nodes folded into one (dashed outline).
        case folded
    }

    /// The heading.
    public var title: String
    /// Each node's label lines (the first in bold) and style.
    public let nodes: [(label: [String], style: Style)]
    /// Edges between node positions, each with label lines (may be empty).
    public let edges: [(from: Int, to: Int, label: [String])]

    /// A plot of `nodes` and `edges`. - Precondition: every edge joins two nodes, from an earlier
    /// position to a later one (the graph is acyclic in node order).
    public init(title: String, nodes: [(label: [String], style: Style)], edges: [(from: Int, to: Int, label: [String])]) {
        for edge in edges {
            Requirement.check(edge.from >= 0 && edge.to < nodes.count && edge.from < edge.to,
                              "LayeredGraphPlot: edge \(edge.from) → \(edge.to) for \(nodes.count) nodes (inputs must come first)")
        }
        self.title = title
        self.nodes = nodes
        self.edges = edges
    }

    static let lineHeight = 14.0, characterWidth = 6.6, columnGap = 120.0, rowGap = 18.0, margin = 24.0, top = 48.0

    /// Each node's column: one after its latest input; a source sits just before its first user.
    public func columns() -> [Int] {
        var column = [Int](repeating: 0, count: nodes.count)
        var inputs = [[Int]](repeating: [], count: nodes.count)
        var users = [[Int]](repeating: [], count: nodes.count)
        for edge in edges {
            inputs[edge.to].append(edge.from)
            users[edge.from].append(edge.to)
        }
        for i in nodes.indices where !inputs[i].isEmpty { column[i] = inputs[i].map { column[$0] + 1 }.max()! }
        for i in nodes.indices where inputs[i].isEmpty && !users[i].isEmpty {
            column[i] = max(0, users[i].map { column[$0] }.min()! - 1)
        }
        return column
    }

    /// The SVG picture.
    public func render() -> RenderedChart {
        let column = columns()
        let columnCount = (column.max() ?? 0) + 1
        var members = [[Int]](repeating: [], count: columnCount)
        for i in nodes.indices { members[column[i]].append(i) }
        var inputs = [[Int]](repeating: [], count: nodes.count)
        for edge in edges { inputs[edge.to].append(edge.from) }
        // Order each column by the mean rank of its inputs (sources keep their order), twice.
        var rank = [Double](repeating: 0, count: nodes.count)
        for c in 0..<columnCount { for (r, i) in members[c].enumerated() { rank[i] = Double(r) } }
        for _ in 0..<2 {
            for c in 0..<columnCount {
                let key = Dictionary(uniqueKeysWithValues: members[c].map { i in
                    (i, inputs[i].isEmpty ? rank[i] : inputs[i].map { rank[$0] }.reduce(0, +) / Double(inputs[i].count))
                })
                members[c].sort { a, b in key[a]! == key[b]! ? a < b : key[a]! < key[b]! }
                for (r, i) in members[c].enumerated() { rank[i] = Double(r) }
            }
        }
        let sizes = nodes.map { node -> (w: Double, h: Double) in
            let longest = node.label.map(\.count).max() ?? 1
            return (Double(longest) * Self.characterWidth + 16, Double(node.label.count) * Self.lineHeight + 10)
        }
        let columnWidth = (0..<columnCount).map { c in members[c].map { sizes[$0].w }.max() ?? 0 }
        let columnHeight = (0..<columnCount).map { c in
            members[c].map { sizes[$0].h }.reduce(0, +) + Self.rowGap * Double(max(0, members[c].count - 1))
        }
        let tallest = columnHeight.max() ?? 0
        var x = [Double](repeating: 0, count: columnCount)
        var left = Self.margin
        for c in 0..<columnCount { x[c] = left; left += columnWidth[c] + Self.columnGap }
        var position = [(x: Double, y: Double)](repeating: (0, 0), count: nodes.count)
        for c in 0..<columnCount {
            var y = Self.top + (tallest - columnHeight[c]) / 2
            for i in members[c] {
                position[i] = (x[c] + (columnWidth[c] - sizes[i].w) / 2, y)
                y += sizes[i].h + Self.rowGap
            }
        }
        let width = max(left - Self.columnGap + Self.margin, 320)
        var svg = SVGDocument(width: width, height: Self.top + tallest + Self.margin + 8)
        svg.text(Self.margin, 26, title, size: 15, weight: "bold")
        // Edges first, under the nodes; labels after, on top of everything.
        var labels: [(Double, Double, [String])] = []
        for edge in edges {
            let (a, b) = (position[edge.from], position[edge.to])
            let start = (a.x + sizes[edge.from].w, a.y + sizes[edge.from].h / 2)
            let end = (b.x, b.y + sizes[edge.to].h / 2)
            let bend = max(30, (end.0 - start.0) / 2)
            svg.raw("<path d=\"M\(svg.number(start.0)) \(svg.number(start.1)) C\(svg.number(start.0 + bend)) \(svg.number(start.1)) \(svg.number(end.0 - bend)) \(svg.number(end.1)) \(svg.number(end.0 - 6)) \(svg.number(end.1))\" fill=\"none\" stroke=\"#777\" stroke-width=\"1.2\"/>")
            svg.raw("<path d=\"M\(svg.number(end.0 - 7)) \(svg.number(end.1 - 4)) L\(svg.number(end.0)) \(svg.number(end.1)) L\(svg.number(end.0 - 7)) \(svg.number(end.1 + 4)) Z\" fill=\"#777\"/>")
            if !edge.label.isEmpty {
                // Near the consumer, where edges into one node have fanned apart.
                let t = 0.7
                let mx = start.0 + t * (end.0 - start.0), my = start.1 + (3 * t * t - 2 * t * t * t) * (end.1 - start.1)
                labels.append((mx, my - Double(edge.label.count) * 6 + 9, edge.label))
            }
        }
        for (i, node) in nodes.enumerated() {
            let (p, size) = (position[i], sizes[i])
            let (fill, stroke, dash): (String, String, String) = switch node.style {
            case .plain: ("#eef3fb", "#1f5fa8", "")
            case .highlighted: ("#fdeeee", "#d62728", "")
            case .muted: ("#f4f4f4", "#8a8a8a", "")
            case .folded: ("#ffffff", "#1f5fa8", " stroke-dasharray=\"5 3\"")
            }
            svg.rect(p.x, p.y, size.w, size.h, fill: fill, stroke: stroke, extra: " rx=\"6\"\(dash)")
            for (k, line) in node.label.enumerated() {
                svg.text(p.x + size.w / 2, p.y + 17 + Double(k) * Self.lineHeight, line, size: 11.5, anchor: "middle",
                         weight: k == 0 ? "bold" : "normal")
            }
        }
        for (lx, ly, lines) in labels {
            for (k, line) in lines.enumerated() {
                svg.raw("<text x=\"\(svg.number(lx))\" y=\"\(svg.number(ly + Double(k) * 12))\" font-size=\"10.5\" text-anchor=\"middle\" fill=\"\(line.hasPrefix("∂") ? "#b03030" : "#205020")\" stroke=\"white\" stroke-width=\"3\" paint-order=\"stroke\">\(SVGDocument.escape(line))</text>")
            }
        }
        return RenderedChart(svg: svg.text, gaps: svg.nonFiniteCount)
    }
}
