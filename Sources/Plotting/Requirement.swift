/// Plotting's stop on a programmer error (mismatched series, an empty range), printed in every
/// build. Plotting depends on nothing, so it has this twin of `Autodiff.Failure` (Swift's
/// `precondition` prints nothing under `-O`).
enum Requirement {
    @inline(never)
    static func stop(_ message: String) -> Never { fatalError(message) }

    @inline(__always)
    static func check(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { stop(message()) }
    }
}
