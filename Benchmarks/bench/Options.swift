import Foundation

/// `--name value` flags of one benchmark, with defaults; an unknown flag or a bad value stops
/// with a message and exit code 2.
struct Options {
    private var values: [String: String] = [:]

    init(_ arguments: [String], allowed: [String]) {
        var i = 0
        while i < arguments.count {
            let flag = arguments[i]
            guard flag.hasPrefix("--"), allowed.contains(String(flag.dropFirst(2))), i + 1 < arguments.count else {
                fail("unknown flag or missing value: \(flag) (allowed: \(allowed.map { "--" + $0 }.joined(separator: " ")))")
            }
            values[String(flag.dropFirst(2))] = arguments[i + 1]
            i += 2
        }
    }

    func string(_ name: String, _ fallback: String) -> String { values[name] ?? fallback }

    func int(_ name: String, _ fallback: Int) -> Int {
        guard let text = values[name] else { return fallback }
        guard let value = Int(text), value > 0 else { fail("--\(name) needs a positive integer, got '\(text)'") }
        return value
    }

    func double(_ name: String, _ fallback: Double) -> Double {
        guard let text = values[name] else { return fallback }
        guard let value = Double(text), value.isFinite, value > 0 else { fail("--\(name) needs a positive number, got '\(text)'") }
        return value
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("bench: \(message)\n".utf8))
    exit(2)
}

/// Peak resident memory of this process so far, in MiB (VmHWM from /proc), or nil elsewhere.
func peakResidentMiB() -> Double? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kilobytes = line.split(separator: " ").compactMap { Double($0) }.first
        return kilobytes.map { $0 / 1024 }
    }
    return nil
}
