import Foundation

/// The flags of an example: `--name value` options and `--name` switches, each declared with a
/// help line. Unknown flags, missing values and bad values print a message and exit with
/// code 2; `--help` prints the usage and exits with 0.
public struct CommandLineOptions: Sendable {
    /// One declared flag.
    public struct Flag: Sendable {
        let name: String
        let valueName: String?
        let help: String
    }

    private let program: String
    private let summary: String
    private var flags: [Flag] = []
    private var values: [String: String] = [:]
    private var switches: Set<String> = []
    private var positional: [String] = []

    /// Options for `program`; `summary` heads the usage text.
    public init(program: String, summary: String) {
        self.program = program
        self.summary = summary
    }

    /// Declares `--name VALUE`.
    public mutating func option(_ name: String, _ valueName: String, _ help: String) {
        flags.append(Flag(name: name, valueName: valueName, help: help))
    }

    /// Declares the switch `--name`.
    public mutating func flag(_ name: String, _ help: String) {
        flags.append(Flag(name: name, valueName: nil, help: help))
    }

    /// The usage text.
    public var usage: String {
        var text = "\(summary)\n\nusage: \(program) [options]\n\noptions:\n"
        for flag in flags {
            let left = "  --\(flag.name)" + (flag.valueName.map { " \($0)" } ?? "")
            text += left.padding(toLength: max(left.count + 2, 28), withPad: " ", startingAt: 0) + flag.help + "\n"
        }
        return text + "  --help".padding(toLength: 28, withPad: " ", startingAt: 0) + "show this text\n"
    }

    /// Reads the process arguments (or `arguments`).
    public mutating func parse(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) {
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            if argument == "--help" || argument == "-h" {
                print(usage)
                exit(0)
            }
            guard argument.hasPrefix("--") else { fail("unexpected argument '\(argument)'") }
            var name = String(argument.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let flag = flags.first(where: { $0.name == name }) else { fail("unknown flag --\(name)") }
            if flag.valueName == nil {
                guard inlineValue == nil else { fail("--\(name) takes no value") }
                switches.insert(name)
                i += 1
            } else if let inlineValue {
                values[name] = inlineValue
                i += 1
            } else {
                guard i + 1 < arguments.count, !(arguments[i + 1].hasPrefix("--") && Double(arguments[i + 1]) == nil) else {
                    fail("--\(name) needs a value (\(flag.valueName!))")
                }
                values[name] = arguments[i + 1]
                i += 2
            }
        }
    }

    /// Whether `--name` (a switch) or `--name VALUE` was given.
    public func isSet(_ name: String) -> Bool { switches.contains(name) || values[name] != nil }

    /// The text of `--name`, or `fallback`.
    public func string(_ name: String, _ fallback: String) -> String { values[name] ?? fallback }

    /// The text of `--name` if given.
    public func string(_ name: String) -> String? { values[name] }

    /// `--name` as an integer in `range`.
    public func int(_ name: String, _ fallback: Int, in range: ClosedRange<Int> = 1...Int.max) -> Int {
        guard let text = values[name] else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            fail("--\(name) must be an integer in \(range.lowerBound)...\(range.upperBound == Int.max ? "" : String(range.upperBound)), got '\(text)'")
        }
        return value
    }

    /// `--name` as a seed: any integer from 0 to 2⁶⁴ - 1.
    public func seed(_ fallback: UInt64, name: String = "seed") -> UInt64 {
        guard let text = values[name] else { return fallback }
        guard let value = UInt64(text) else { fail("--\(name) needs an integer from 0 to \(UInt64.max), got '\(text)'") }
        return value
    }

    /// `--name` as a finite number in `range`.
    public func double(_ name: String, _ fallback: Double, in range: ClosedRange<Double> = 0...Double.greatestFiniteMagnitude) -> Double {
        guard let text = values[name] else { return fallback }
        guard let value = Double(text), value.isFinite, range.contains(value) else {
            fail("--\(name) must be a number in [\(range.lowerBound), \(range.upperBound)], got '\(text)'")
        }
        return value
    }

    /// `--name` as a comma-separated list of numbers, each accepted by `valid` (e.g. layer
    /// widths `256,128`, learning rates `0.01,0.001`), or a message.
    public func list<T: LosslessStringConvertible>(
        _ name: String, _ fallback: String, of kind: String, _ valid: (T) -> Bool
    ) -> [T] {
        let text = values[name] ?? fallback
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        let items = parts.compactMap { T(String($0).trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, items.count == parts.count, items.allSatisfy(valid) else {
            fail("--\(name) must be \(kind) separated by commas, got '\(text)'")
        }
        return items
    }

    /// The MNIST folder: `--data DIR`, else `Data/mnist` in the working directory, else the
    /// repository's `Data/mnist` found from the example's source file (`#filePath`).
    public func mnistDirectory(sourceFile: String = #filePath) -> String {
        if let given = values["data"] { return given }
        if FileManager.default.fileExists(atPath: "Data/mnist") { return "Data/mnist" }
        return URL(fileURLWithPath: sourceFile).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Data/mnist").path
    }

    /// `--name` parsed by `parse`, or a message naming the accepted forms.
    public func parsed<T>(_ name: String, _ fallback: String, accepted: String, _ parse: (String) -> T?) -> T {
        let text = values[name] ?? fallback
        guard let value = parse(text) else { fail("--\(name): '\(text)' is not one of \(accepted)") }
        return value
    }

    /// Prints `message` and the hint to use --help, then exits with code 2.
    public func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("\(program): \(message)\nrun '\(program) --help' for the options\n".utf8))
        exit(2)
    }
}

/// Prints an error for the user and exits with code 1.
public func exitWithError(_ program: String, _ message: String) -> Never {
    FileHandle.standardError.write(Data("\(program): \(message)\n".utf8))
    exit(1)
}
