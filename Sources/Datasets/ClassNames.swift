import Autodiff
import Foundation

/// What to call the classes of a data set in the IDX layout of MNIST, and the data set itself,
/// so outputs name what they show (Fashion-MNIST's pictures are not "digits").
public enum ClassNames {
    /// Fashion-MNIST's ten classes, in label order.
    public static let fashion = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    /// The names of `classes` classes: `given` (a `--classes` list) if any, else the lines of
    /// `classes.txt` in `directory`, else Fashion-MNIST's when the folder's name says
    /// "fashion", else the digits "0", "1", ….
    public static func names(forDataIn directory: String, classes: Int, given: [String]? = nil) throws(DatasetError) -> [String] {
        if let given {
            guard given.count == classes else {
                throw .mismatch(reason: "--classes names \(given.count) classes; the data has \(classes)")
            }
            return given
        }
        let file = "\(directory)/classes.txt"
        if FileManager.default.fileExists(atPath: file) {
            let bytes: [UInt8]
            do { bytes = try RegularFile.read(file, limit: 1 << 20) } catch { throw .unreadable(path: file, reason: "\(error)") }
            let lines = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard lines.count == classes else {
                throw .mismatch(reason: "\(file) names \(lines.count) classes; the data has \(classes)")
            }
            return lines
        }
        if datasetName(directory).lowercased().contains("fashion") && classes == fashion.count { return fashion }
        return (0..<classes).map(String.init)
    }

    /// The data set's name: its folder's name ("mnist" for Data/mnist).
    public static func datasetName(_ directory: String) -> String {
        let name = URL(fileURLWithPath: directory).standardizedFileURL.lastPathComponent
        return name.isEmpty ? "data" : name
    }
}
