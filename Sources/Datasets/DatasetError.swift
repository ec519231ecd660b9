/// Why a data file could not be read. Every case names the file and what is wrong with it.
public enum DatasetError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file does not exist or cannot be opened.
    case unreadable(path: String, reason: String)
    /// The gzip stream is corrupt or ends early.
    case corruptGzip(path: String, reason: String)
    /// The IDX header is malformed (magic number, element type, rank).
    case badHeader(path: String, reason: String)
    /// The data is shorter or longer than the header's dimensions say.
    case sizeMismatch(path: String, expectedBytes: Int, actualBytes: Int)
    /// A label is outside the expected class range.
    case labelOutOfRange(path: String, index: Int, label: Int, classes: Int)
    /// Two files that belong together disagree (image and label counts, image sizes).
    case mismatch(reason: String)
    /// An image file (PNG/PGM) could not be decoded.
    case badImage(path: String, reason: String)

    /// A one-line message naming the file and the problem.
    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "\(path): cannot read: \(reason)"
        case let .corruptGzip(path, reason): return "\(path): corrupt gzip data: \(reason)"
        case let .badHeader(path, reason): return "\(path): not a valid IDX file: \(reason)"
        case let .sizeMismatch(path, expected, actual):
            return "\(path): the header describes \(expected) bytes but the file holds \(actual)"
                + (actual < expected ? " (truncated)" : " (trailing data)")
        case let .labelOutOfRange(path, index, label, classes):
            return "\(path): label \(label) at index \(index) is outside 0..<\(classes)"
        case let .mismatch(reason): return reason
        case let .badImage(path, reason): return "\(path): cannot decode image: \(reason)"
        }
    }
}
