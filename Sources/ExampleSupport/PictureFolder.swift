import Foundation
import NeuralNetworks
import Plotting

/// The folder an example writes its pictures into (`--out DIR`), with an `index.html` that
/// shows them all. Every file is written atomically; the paths are printed.
public struct PictureFolder {
    /// The folder.
    public let path: String
    let program: String
    private var entries: [(file: String, caption: String)] = []

    /// Creates the folder if needed; exits with a message if it cannot.
    public init(_ path: String, program: String) {
        self.path = path
        self.program = program
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            exitWithError(program, "cannot create the output folder \(path): \(error.localizedDescription)")
        }
    }

    /// Writes `chart` as `name` (an .svg file) and notes it for the index. Points that could
    /// not be drawn (NaN or infinite values) are reported.
    public mutating func write(_ chart: RenderedChart, as name: String, caption: String) {
        let file = "\(path)/\(name)"
        do {
            try AtomicFile.write(Array(chart.svg.utf8), to: file)
        } catch {
            exitWithError(program, "\(error)")
        }
        entries.append((name, caption))
        print("picture: \(file)" + (chart.gaps > 0 ? "  (\(chart.gaps) non-finite values drawn as gaps)" : ""))
    }

    /// Writes `index.html` showing every picture written so far.
    public func writeIndex(title: String) {
        let file = "\(path)/index.html"
        do {
            try AtomicFile.write(Array(HTMLIndex.page(title: title, entries: entries).utf8), to: file)
        } catch {
            exitWithError(program, "\(error)")
        }
        print("index:   \(file)")
    }
}
