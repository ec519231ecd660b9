import CMPI

/// An MPI call that failed: the call, MPI's error code and MPI's own description of it.
public struct MessagePassingError: Error, CustomStringConvertible, Sendable {
    /// The MPI function, e.g. `MPI_Allreduce`.
    public let call: String
    /// MPI's error code.
    public let code: Int32
    /// MPI's description of the code.
    public let message: String

    /// The failure as one line: `MPI_Allreduce failed: <MPI's message> (error 5)`.
    public var description: String { "\(call) failed: \(message) (error \(code))" }

    /// Throws when `code` is not MPI_SUCCESS.
    static func check(_ code: Int32, _ call: String) throws(MessagePassingError) {
        guard code != cmpi_success() else { return }
        var text = [CChar](repeating: 0, count: Int(cmpi_max_error_string()) + 1)
        var length: Int32 = 0
        let described = MPI_Error_string(code, &text, &length) == cmpi_success()
        throw MessagePassingError(
            call: call, code: code,
            message: described ? String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self) : "unknown error")
    }
}
