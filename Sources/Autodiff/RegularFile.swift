import Foundation

/// Reading whole files from outside (data sets, checkpoints, pictures) without surprises: only
/// regular files (a directory, FIFO or device gets a clear refusal instead of a hang or a
/// cryptic error), at most `limit` bytes, read straight into the returned array.
public enum RegularFile {
    /// Why a file could not be read: a sentence naming the problem (the caller names the file).
    public struct ReadError: Error, CustomStringConvertible, Sendable {
        /// What went wrong.
        public let description: String
    }

    /// The size of the regular file at `path` (following symbolic links).
    public static func size(_ path: String) throws(ReadError) -> Int {
        var info = stat()
        guard stat(path, &info) == 0 else { throw ReadError(description: String(cString: strerror(errno))) }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return Int(info.st_size)
        case S_IFDIR: throw ReadError(description: "is a directory, not a file")
        case S_IFIFO: throw ReadError(description: "is a FIFO (named pipe), not a regular file")
        case S_IFCHR, S_IFBLK: throw ReadError(description: "is a device, not a regular file")
        case S_IFSOCK: throw ReadError(description: "is a socket, not a regular file")
        default: throw ReadError(description: "is not a regular file")
        }
    }

    /// The bytes of the regular file at `path`, refused when larger than `limit`.
    public static func read(_ path: String, limit: Int = Int.max) throws(ReadError) -> [UInt8] {
        let expected = try size(path)
        guard expected <= limit else {
            throw ReadError(description: "\(expected) bytes, more than the \(limit) allowed")
        }
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw ReadError(description: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var failure: ReadError?
        let bytes = [UInt8](unsafeUninitializedCapacity: expected) { buffer, initialized in
            while initialized < expected {
                let n = Foundation.read(descriptor, buffer.baseAddress! + initialized, expected - initialized)
                if n < 0 && errno == EINTR { continue }
                if n < 0 { failure = ReadError(description: String(cString: strerror(errno))); return }
                if n == 0 { failure = ReadError(description: "changed size while being read"); return }
                initialized += n
            }
        }
        if let failure { throw failure }
        return bytes
    }
}
