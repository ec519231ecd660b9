import Foundation

/// The recorded computation as a graph: one node per tape entry (op name, shape, and the value
/// and gradient when small), one edge per input, labelled with the gradient that flowed back
/// along it (upstream gradient × local derivative). Export it as DOT text (``dot``) or draw it
/// with Plotting's `LayeredGraphPlot` from ``nodeLabels`` and ``edgeList``.
public struct TapeGraph: Sendable {
    /// What an entry is.
    public enum Kind: String, Sendable {
        /// A trainable leaf (``Tape/parameter(_:)`` or ``Tape/variable(_:)``).
        case parameter
        /// A constant leaf (inputs, labels).
        case constant
        /// The result of an op.
        case op
        /// Several entries folded into one by ``summarized(maxNodes:)``.
        case folded
    }

    /// One entry, or a run of entries folded together.
    public struct Node: Sendable {
        /// The entry's index on the tape (the last one, for a folded run).
        public let entry: Int
        /// The op name (`multiply`, `linear`, `parameter`, …), or a folded run's summary.
        public let op: String
        /// The value's shape.
        public let shape: [Int]
        /// See ``Kind``.
        public let kind: Kind
        /// The value, when it has at most the graph's `smallValues` elements.
        public let value: [Double]?
        /// The gradient after ``Tape/backward(_:seed:)``, when small and the entry takes one.
        public let gradient: [Double]?
        /// How many entries this node stands for (1 unless folded).
        public let foldedCount: Int
    }

    /// An input of a node: `from` feeds `to` (positions in ``nodes``).
    public struct Edge: Sendable {
        /// The input's node.
        public let from: Int
        /// The consuming node.
        public let to: Int
        /// The gradient this consumer sent back to the input (its share of the input's
        /// gradient), when small and known; for an input used several times, the sum.
        public let gradient: [Double]?
        /// How many times `to` uses `from` (2 for x·x).
        public let multiplicity: Int
    }

    /// Nodes in recording order (inputs before the ops that use them).
    public let nodes: [Node]
    /// Every input relation.
    public let edges: [Edge]

    /// Numbers as the labels write them: 4 significant digits, one list per value.
    public static func format(_ values: [Double]) -> String {
        let text = values.map { v in
            v == v.rounded() && abs(v) < 1e6 ? String(format: "%.0f", v) : String(format: "%.4g", v)
        }
        return values.count == 1 ? text[0] : "[" + text.joined(separator: ", ") + "]"
    }

    /// The lines of each node's label: op, shape, then `= value` and `∂ gradient` when known.
    public var nodeLabels: [[String]] {
        nodes.map { node in
            var lines = [node.op, node.shape.isEmpty ? "scalar" : ShapeMath.describe(node.shape)]
            if let value = node.value { lines.append("= " + Self.format(value)) }
            if let gradient = node.gradient { lines.append("∂ " + Self.format(gradient)) }
            return lines
        }
    }

    /// Each edge with its label lines: the forward value it carries and the gradient it
    /// carried back, when small.
    public var edgeList: [(from: Int, to: Int, label: [String])] {
        edges.map { edge in
            var label: [String] = []
            if let value = nodes[edge.from].value { label.append(Self.format(value)) }
            if let gradient = edge.gradient { label.append("∂ " + Self.format(gradient)) }
            if edge.multiplicity > 1 { label.append("(used \(edge.multiplicity)×)") }
            return (edge.from, edge.to, label)
        }
    }

    /// The graph in Graphviz's DOT language, left to right (`dot -Tsvg`).
    public var dot: String {
        func quoted(_ lines: [String]) -> String {
            "\"" + lines.map { $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") }
                .joined(separator: "\\n") + "\""
        }
        var text = "digraph tape {\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n"
        for (i, lines) in nodeLabels.enumerated() {
            let style: String = switch nodes[i].kind {
            case .parameter: ", color=\"#d62728\""
            case .constant: ", color=\"#7f7f7f\""
            case .folded: ", style=\"rounded,dashed\""
            case .op: ""
            }
            text += "  n\(i) [label=\(quoted(lines))\(style)];\n"
        }
        for edge in edgeList {
            text += "  n\(edge.from) -> n\(edge.to)" + (edge.label.isEmpty ? "" : " [label=\(quoted(edge.label))]") + ";\n"
        }
        return text + "}\n"
    }

    /// A graph of at most `maxNodes` nodes: runs of ops that each have one input and one user
    /// are folded into one node ("3 ops: relu → linear → relu"), then, if that is not enough,
    /// every entry before the last `maxNodes - 1` into a single node.
    public func summarized(maxNodes: Int = 40) -> TapeGraph {
        guard nodes.count > maxNodes else { return self }
        var users = [Int](repeating: 0, count: nodes.count)
        var inputsOf = [[Int]](repeating: [], count: nodes.count)
        for edge in edges {
            users[edge.from] += 1
            inputsOf[edge.to].append(edge.from)
        }
        // A node joins its input's run when both are ops, it has one input, and that input has one user.
        var run = Array(nodes.indices)
        for i in nodes.indices where nodes[i].kind == .op && inputsOf[i].count == 1 {
            let input = inputsOf[i][0]
            if nodes[input].kind == .op && users[input] == 1 { run[i] = run[input] }
        }
        var groups: [Int: [Int]] = [:]
        for i in nodes.indices { groups[run[i], default: []].append(i) }
        var representative = [Int](repeating: 0, count: nodes.count)
        var folded: [Node] = []
        var position: [Int: Int] = [:]
        for i in nodes.indices where run[i] == i || groups[run[i]]!.last == i {
            let members = groups[run[i]]!
            guard members.last == i else { continue }
            let last = nodes[i]
            if members.count == 1 {
                folded.append(last)
            } else {
                let ops = members.map { nodes[$0].op }
                let shown = ops.count <= 6 ? ops : ops.prefix(3) + ["…"] + ops.suffix(2)
                folded.append(Node(entry: last.entry, op: "\(members.count) ops: " + shown.joined(separator: " → "), shape: last.shape,
                                   kind: .folded, value: last.value, gradient: last.gradient, foldedCount: members.count))
            }
            position[i] = folded.count - 1
        }
        for i in nodes.indices { representative[i] = position[groups[run[i]]!.last!]! }
        var foldedEdges: [Edge] = []
        for edge in edges where representative[edge.from] != representative[edge.to] {
            foldedEdges.append(Edge(from: representative[edge.from], to: representative[edge.to], gradient: edge.gradient,
                                    multiplicity: edge.multiplicity))
        }
        let chains = TapeGraph(nodes: folded, edges: foldedEdges)
        guard chains.nodes.count > maxNodes else { return chains }
        // Still too many: everything before the last maxNodes - 1 nodes becomes one node.
        let cut = chains.nodes.count - (maxNodes - 1)
        let earlier = chains.nodes[0..<cut]
        let head = Node(entry: earlier.last!.entry, op: "\(earlier.reduce(0) { $0 + $1.foldedCount }) earlier entries",
                        shape: [], kind: .folded, value: nil, gradient: nil, foldedCount: earlier.reduce(0) { $0 + $1.foldedCount })
        var tailEdges: [Edge] = []
        var seen = Set<[Int]>()
        for edge in chains.edges where edge.to >= cut {
            let from = edge.from < cut ? 0 : edge.from - cut + 1
            if edge.from < cut && !seen.insert([from, edge.to]).inserted { continue }
            tailEdges.append(Edge(from: from, to: edge.to - cut + 1, gradient: edge.from < cut ? nil : edge.gradient,
                                  multiplicity: edge.from < cut ? 1 : edge.multiplicity))
        }
        return TapeGraph(nodes: [head] + chains.nodes[cut...], edges: tailEdges)
    }
}

extension RuleCode {
    /// Whether the rule takes the op's constant (shown beside the op's name in a graph).
    var hasConstant: Bool {
        switch self {
        case .addConstant, .subtractFromConstant, .multiplyByConstant, .divideConstant, .clampBelow, .clampAbove,
             .powerConstant, .leakyRelu: true
        case .none, .storedClosure, .add, .subtract, .multiply, .divide, .power, .arctangent2, .maximum, .minimum,
             .negate, .square, .absoluteValue, .exp, .expMinusOne, .log, .logOnePlus, .squareRoot, .rootOfSquares,
             .sine, .cosine,
             .tangent, .arcsine, .arccosine, .arctangent, .hyperbolicSine, .hyperbolicCosine, .tanh, .sigmoid,
             .softplus, .relu: false
        }
    }
}

extension Tape {
    /// The graph of the entries `output` depends on (every entry when nil), with values and
    /// gradients of at most `smallValues` elements in the labels. After ``backward(_:seed:)``
    /// each edge also carries the gradient its consumer sent back, found by running each
    /// small op's pullback once more on its own.
    public func graph(of output: Variable<Scalar>? = nil, smallValues: Int = 4) -> TapeGraph {
        let s = storage
        let last = output.map { validate($0, "graph"); return Int($0.index) } ?? s.pointee.count - 1
        guard last >= 0 else { return TapeGraph(nodes: [], edges: []) }
        func inputs(_ i: Int) -> [Int] { s.pointee.inputIndices(i) }
        var needed = [Bool](repeating: output == nil, count: last + 1)
        needed[last] = true
        for i in stride(from: last, through: 0, by: -1) where needed[i] {
            for input in inputs(i) { needed[input] = true }
        }
        let hasGradients = s.pointee.gradientGeneration == s.pointee.generation && s.pointee.gradients != nil
        func scalars(_ pointer: UnsafeMutablePointer<Scalar>, _ entry: TapeEntry<Scalar>) -> [Double]? {
            entry.count <= smallValues ? (0..<entry.count).map { Double(pointer[entry.valueOffset + $0]) } : nil
        }
        func gradientKnown(_ i: Int) -> Bool {
            hasGradients && i <= s.pointee.gradientLimit && s.pointee.entries[i].requiresGradient
        }
        var position = [Int](repeating: -1, count: last + 1)
        var nodes: [TapeGraph.Node] = []
        var edges: [TapeGraph.Edge] = []
        for i in 0...last where needed[i] {
            let entry = s.pointee.entries[i]
            let from = inputs(i)
            let kind: TapeGraph.Kind = from.isEmpty ? (entry.requiresGradient ? .parameter : .constant) : .op
            var name = s.pointee.opName(i)
            if entry.rule.hasConstant { name += " \(TapeGraph.format([Double(entry.auxScalar)]))" }
            nodes.append(TapeGraph.Node(
                entry: i, op: name, shape: s.pointee.shape(i), kind: kind, value: scalars(s.pointee.values, entry),
                gradient: gradientKnown(i) ? scalars(s.pointee.gradients!, entry) : nil, foldedCount: 1))
            position[i] = nodes.count - 1
            let shares = gradientKnown(i) ? edgeGradients(i, inputs: from, smallValues: smallValues) : nil
            for (k, input) in from.enumerated() where !from[..<k].contains(input) {
                edges.append(TapeGraph.Edge(from: position[input], to: position[i], gradient: shares?[k],
                                            multiplicity: from.filter { $0 == input }.count))
            }
        }
        return TapeGraph(nodes: nodes, edges: edges)
    }

    /// What entry `i`'s pullback sends to each of its inputs, by running it alone on zeroed input
    /// gradients and putting them back; nil unless the entry and all its inputs are small. An
    /// input used twice gets the sum of both shares at both places.
    func edgeGradients(_ i: Int, inputs: [Int], smallValues: Int) -> [[Double]?]? {
        let s = storage
        let entry = s.pointee.entries[i]
        guard entry.rule != .none, entry.count <= smallValues,
              inputs.allSatisfy({ s.pointee.entries[$0].count <= smallValues }),
              let gradients = s.pointee.gradients else { return nil }
        let saved = inputs.map { input in
            let e = s.pointee.entries[input]
            return (0..<e.count).map { gradients[e.valueOffset + $0] }
        }
        for input in inputs {
            let e = s.pointee.entries[input]
            for k in 0..<e.count { gradients[e.valueOffset + k] = 0 }
        }
        s.pointee.inBackward = true
        if entry.isScalarOp {
            var last = LastGradient<Scalar>()
            entry.rule.runScalar(entry, entries: s.pointee.entries, values: s.pointee.values, gradients: gradients, last: &last)
        } else {
            runTensorPullback(i, entry)
        }
        s.pointee.inBackward = false
        let shares: [[Double]?] = inputs.map { input in
            let e = s.pointee.entries[input]
            return e.requiresGradient ? (0..<e.count).map { Double(gradients[e.valueOffset + $0]) } : nil
        }
        for (k, input) in inputs.enumerated() {
            let e = s.pointee.entries[input]
            for j in 0..<e.count { gradients[e.valueOffset + j] = saved[k][j] }
        }
        return shares
    }
}
