/// The one way the engine stops on a programmer error (a shape mismatch, a variable of another
/// tape, an index out of range): a message naming the op, the shapes and the problem, printed in
/// every build. Swift's `precondition` prints nothing under `-O`, so no user-facing stop uses it.
public enum Failure {
    /// Stops the program with `message`.
    @inline(never) @_optimize(none)
    public static func stop(_ message: String) -> Never {
        fatalError(message)
    }

    /// Stops with `message` unless `condition` holds; the message is built only on failure.
    @inlinable @inline(__always)
    public static func check(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { stop(message()) }
    }
}
