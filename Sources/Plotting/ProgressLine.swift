import Foundation

/// A progress line for a training loop. On a terminal it rewrites one line in place
/// (`\r`, throttled to ~10 updates a second), cut to the terminal's width so it never wraps;
/// when output goes to a file or pipe it prints only the final line of each stage (one line per
/// epoch), so logs stay readable.
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
            // The final line stays, whole (it may wrap once; nothing rewrites it).
            draw(text, truncate: false)
            print("")
        } else {
            print(text)
        }
        lastLength = 0
        lastDraw = 0
    }

    private mutating func draw(_ text: String, truncate: Bool = true) {
        // A line longer than the terminal wraps, and `\r` then rewrites only its last part:
        // updates are cut to the width (read each time, so resizing the window works).
        let width = Self.terminalWidth()
        var shown = text
        if truncate, let width, shown.count > width - 1 { shown = String(shown.prefix(max(1, width - 2))) + "…" }
        let padding = max(0, min(lastLength, (width ?? Int.max) - 1) - shown.count)
        print("\r" + shown + String(repeating: " ", count: padding), terminator: "")
        fflush(nil)  // all output streams; naming `stdout` is a data race in Swift 6
        lastLength = shown.count
    }

    /// The width of the terminal on standard output, or nil when it cannot be told.
    static func terminalWidth() -> Int? {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init)
    }

    /// `1m05s`, `42s`, the form the progress lines use for times.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }
}
