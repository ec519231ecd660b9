import Autodiff
import Foundation
import NeuralNetworks
import Plotting

extension LayeredGraphPlot {
    /// The picture of a tape's graph (see `Tape.graph(of:smallValues:)`): parameters in red,
    /// constants in grey, folded runs dashed.
    public init(title: String, graph: TapeGraph) {
        let styles: [Style] = graph.nodes.map { node in
            switch node.kind {
            case .parameter: .highlighted
            case .constant: .muted
            case .op: .plain
            case .folded: .folded
            }
        }
        self.init(title: title, nodes: zip(graph.nodeLabels, styles).map { ($0, $1) }, edges: graph.edgeList)
    }
}

extension PictureFolder {
    /// Writes a tape's graph as `NAME.svg` (drawn by Plotting) and `NAME.dot` (for Graphviz),
    /// summarised to at most 40 nodes.
    public mutating func writeGraph(_ graph: TapeGraph, as name: String, title: String) {
        let summary = graph.summarized(maxNodes: 40)
        write(LayeredGraphPlot(title: title, graph: summary).render(), as: "\(name).svg",
              caption: "\(title) (\(graph.nodes.count) entries\(summary.nodes.count < graph.nodes.count ? ", folded to \(summary.nodes.count)" : ""))")
        let file = "\(path)/\(name).dot"
        do {
            try AtomicFile.write(Array(summary.dot.utf8), to: file)
        } catch {
            exitWithError(program, "\(error)")
        }
        print("graph:   \(file)")
    }
}
