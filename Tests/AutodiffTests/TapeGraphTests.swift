import Autodiff
import Testing

@Suite("The tape as a graph")
struct TapeGraphTests {
    @Test("seed 2's chain rule on example-sqrt's step: values forward, upstream × local derivative back on each edge")
    func chainRule() {
        let tape = Tape<Double>()
        let x = tape.parameter(Tensor(3.0))
        let y = tape.parameter(Tensor(-2.0))
        let loss = sigmoid(x * y + 1)
        tape.backward(loss)
        let graph = tape.graph(of: loss)
        #expect(graph.nodes.map(\.op) == ["parameter", "parameter", "multiply", "addConstant 1", "sigmoid"], "ops \(graph.nodes.map(\.op))")
        let s = 1 / (1 + Double.exp(5.0))  // sigmoid(-5)
        let upstream = s * (1 - s)   // ∂loss/∂(xy + 1)
        func close(_ a: [Double]?, _ b: Double) -> Bool { a.map { $0.count == 1 && abs($0[0] - b) <= 1e-15 } ?? false }
        #expect(close(graph.nodes[4].value, s) && graph.nodes[4].gradient == [1])
        #expect(close(graph.nodes[3].gradient, upstream))
        // multiply sends upstream·y to x and upstream·x to y: each edge carries its own share.
        let intoMultiply = graph.edges.filter { $0.to == 2 }
        #expect(intoMultiply.count == 2)
        #expect(close(intoMultiply.first { $0.from == 0 }?.gradient, upstream * -2), "x's share: upstream × y")
        #expect(close(intoMultiply.first { $0.from == 1 }?.gradient, upstream * 3), "y's share: upstream × x")
        #expect(intoMultiply.first { $0.from == 0 }?.gradient == x.gradient.scalars, "x's only user sent all of x's gradient")
        #expect(graph.nodeLabels[3] == ["addConstant 1", "scalar", "= -5", "∂ " + TapeGraph.format(graph.nodes[3].gradient!)])
        let before = x.gradient.scalars + y.gradient.scalars
        _ = tape.graph(of: loss)
        #expect(x.gradient.scalars + y.gradient.scalars == before, "drawing the graph must leave the gradients as they were")
        let dot = graph.dot
        #expect(dot.hasPrefix("digraph tape {") && dot.contains("n0 -> n2") && dot.contains("rankdir=LR"))
    }

    @Test("an input used twice is one edge carrying both shares; large values are left out of the labels")
    func sharedInputsAndLargeValues() {
        let tape = Tape<Double>()
        let x = tape.parameter(Tensor(1.0))
        let loss = (x * x - 2).squared()
        tape.backward(loss)
        let square = tape.graph(of: loss).edges.first { $0.to == 1 }!
        #expect(square.multiplicity == 2 && square.gradient == [-4], "x·x: both shares (-2 each) on one edge, got \(square)")
        let big = Tape<Float>()
        let w = big.parameter(.zeros([100, 3]))
        let out = matmul(big.constant(.ones([5, 100])), w).sum()
        big.backward(out)
        let graph = big.graph(of: out)
        #expect(graph.nodes[0].value == nil && graph.nodes[0].gradient == nil && graph.nodes.last!.value == [0])
    }

    @Test("a long graph is folded to at most maxNodes nodes, chains first")
    func folding() {
        let tape = Tape<Double>()
        var h = tape.parameter(Tensor([0.5, 0.25]))
        for _ in 0..<30 { h = tanh(h * 1.1) }
        let loss = h.sum()
        let graph = tape.graph(of: loss)
        #expect(graph.nodes.count == 62)
        let folded = graph.summarized(maxNodes: 10)
        #expect(folded.nodes.count <= 10, "folded to \(folded.nodes.count) nodes")
        #expect(folded.nodes.contains { $0.kind == .folded && $0.op == "61 ops: multiply 1.1 → tanh → multiply 1.1 → … → tanh → sum" }, "\(folded.nodes.map(\.op))")
        #expect(folded.nodes.reduce(0) { $0 + $1.foldedCount } == 62, "every entry is in exactly one node")
        #expect(folded.edges.allSatisfy { $0.from < $0.to })
        let wide = Tape<Double>()
        let leaves = (0..<60).map { wide.parameter(Tensor(Double($0))) }
        let total = leaves.dropFirst().reduce(leaves[0]) { $0 + $1 }
        let summary = wide.graph(of: total).summarized(maxNodes: 12)
        #expect(summary.nodes.count <= 12 && summary.nodes[0].op.hasSuffix("earlier entries"))
    }
}
