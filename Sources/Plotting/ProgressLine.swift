import Foundation

/// A progress line for a training loop. On a terminal it rewrites one line in place
/// (`\r`, throttled to ~10 updates a second); when output goes to a file or pipe it prints
/// only the final line of each stage, so logs stay readable.
public struct ProgressLine {
    private let interactive: Bool
    private var lastDraw: UInt64 = 0
    private var lastLength = 0

    /// A progress line on standard output; `interactive` defaults to whether it is a terminal.
    public init(interactive: Bool? = nil) {
        self.interactive = interactive ?? (isatty(STDOUT_FILENO) != 0)
    }

    /// Shows `text` as the current state (only on a terminal, at most ~10 times a second).
    public mutating func update(_ text: String) {
        guard interactive else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard now - lastDraw > 100_000_000 else { return }
        lastDraw = now
        draw(text)
    }

    /// Shows `text` as the final state of this stage and moves to a new line.
    public mutating func finish(_ text: String) {
        if interactive {
            draw(text)
            print("")
        } else {
            print(text)
        }
        lastLength = 0
        lastDraw = 0
    }

    private mutating func draw(_ text: String) {
        let padding = max(0, lastLength - text.count)
        print("\r" + text + String(repeating: " ", count: padding), terminator: "")
        fflush(nil)  // all output streams; naming `stdout` is a data race in Swift 6
        lastLength = text.count
    }

    /// `1m05s`, `42s`, the form the progress lines use for times.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }
}
