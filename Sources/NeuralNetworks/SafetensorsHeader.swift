/// The JSON header of a safetensors file, parsed by a reader that accepts exactly what the
/// format needs: an object of tensor entries `{"dtype": "F32", "shape": [...], "data_offsets":
/// [begin, end]}` and an optional `"__metadata__"` object of strings. Numbers must be
/// non-negative integers that fit in `Int` (a fraction, an exponent or 2^64 is refused, as
/// Python's reader does), keys may not repeat, and nothing is built beyond one small record per
/// tensor, so a 100 MB header of a million entries stays well under a gigabyte.
struct SafetensorsHeader {
    /// One tensor's entry.
    struct Entry {
        let name: String
        let dtype: String
        let shape: [Int]
        let begin: Int
        let end: Int
    }

    /// The largest header accepted, as Python's `safetensors` (100 MB).
    static let maximumLength = 100_000_000

    var entries: [Entry] = []
    var metadata: [String: String] = [:]

    /// Parses `bytes`; an error is a sentence saying what is wrong and where.
    init(_ bytes: UnsafeBufferPointer<UInt8>) throws(SafetensorsHeader.Problem) {
        var parser = Parser(bytes: bytes)
        var names = Set<String>()
        try parser.expect(UInt8(ascii: "{"), "the header is not a JSON object")
        if try !parser.consume(UInt8(ascii: "}")) {
            repeat {
                let key = try parser.string()
                guard names.insert(key).inserted else { throw parser.problem("key '\(key)' appears twice") }
                try parser.expect(UInt8(ascii: ":"), "expected ':' after '\(key)'")
                if key == "__metadata__" {
                    metadata = try parser.stringMap(key)
                } else {
                    entries.append(try parser.entry(key))
                }
            } while try parser.consume(UInt8(ascii: ","))
            try parser.expect(UInt8(ascii: "}"), "expected ',' or '}' in the header object")
        }
        parser.skipSpace()
        guard parser.position == bytes.count else { throw parser.problem("text after the header object") }
    }

    /// What is wrong with a header.
    struct Problem: Error { let reason: String }

    struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0

        func problem(_ reason: String) -> Problem { Problem(reason: "\(reason) (at byte \(position) of the header)") }

        mutating func skipSpace() {
            while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
        }

        mutating func consume(_ byte: UInt8) throws(Problem) -> Bool {
            skipSpace()
            guard position < bytes.count else { throw problem("the header ends early") }
            if bytes[position] == byte { position += 1; return true }
            return false
        }

        mutating func expect(_ byte: UInt8, _ message: String) throws(Problem) {
            guard try consume(byte) else { throw problem(message) }
        }

        mutating func string() throws(Problem) -> String {
            try expect(UInt8(ascii: "\""), "expected a string")
            var utf8: [UInt8] = []
            while true {
                guard position < bytes.count else { throw problem("a string does not end") }
                let c = bytes[position]
                position += 1
                if c == UInt8(ascii: "\"") { break }
                if c < 0x20 { throw problem("a control character inside a string") }
                if c != UInt8(ascii: "\\") { utf8.append(c); continue }
                guard position < bytes.count else { throw problem("a string does not end") }
                let e = bytes[position]
                position += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(e)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code) {
                        guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u")
                        else { throw problem("an unpaired surrogate in a string") }
                        position += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw problem("an unpaired surrogate in a string") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw problem("an invalid \\u escape") }
                    utf8.append(contentsOf: Array(String(Character(scalar)).utf8))
                default: throw problem("an invalid escape in a string")
                }
            }
            guard let text = String(validating: utf8, as: UTF8.self) else { throw problem("a string is not valid UTF-8") }
            return text
        }

        mutating func hex4() throws(Problem) -> UInt32 {
            guard position + 4 <= bytes.count else { throw problem("a \\u escape ends early") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[position]
                position += 1
                let digit: UInt32
                switch c {
                case 0x30...0x39: digit = UInt32(c - 0x30)
                case 0x41...0x46: digit = UInt32(c - 0x41 + 10)
                case 0x61...0x66: digit = UInt32(c - 0x61 + 10)
                default: throw problem("a \\u escape with a non-hex digit")
                }
                value = value << 4 | digit
            }
            return value
        }

        /// A non-negative integer that fits in Int: digits only.
        mutating func integer(_ what: String) throws(Problem) -> Int {
            skipSpace()
            var value = 0
            var digits = 0
            while position < bytes.count, (0x30...0x39).contains(bytes[position]) {
                let (times10, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(Int(bytes[position] - 0x30))
                guard !o1, !o2 else { throw problem("\(what) is larger than \(Int.max)") }
                value = sum
                digits += 1
                position += 1
            }
            guard digits > 0 else { throw problem("\(what) is not a non-negative integer") }
            if position < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[position]) {
                throw problem("\(what) is not an integer")
            }
            return value
        }

        mutating func integers(_ what: String) throws(Problem) -> [Int] {
            try expect(UInt8(ascii: "["), "\(what) is not an array")
            var values: [Int] = []
            if try consume(UInt8(ascii: "]")) { return values }
            repeat { values.append(try integer("an entry of \(what)")) } while try consume(UInt8(ascii: ","))
            try expect(UInt8(ascii: "]"), "expected ',' or ']' in \(what)")
            return values
        }

        mutating func stringMap(_ key: String) throws(Problem) -> [String: String] {
            try expect(UInt8(ascii: "{"), "\(key) is not an object")
            var map: [String: String] = [:]
            if try consume(UInt8(ascii: "}")) { return map }
            repeat {
                let name = try string()
                try expect(UInt8(ascii: ":"), "expected ':' in \(key)")
                guard map[name] == nil else { throw problem("\(key) key '\(name)' appears twice") }
                map[name] = try string()
            } while try consume(UInt8(ascii: ","))
            try expect(UInt8(ascii: "}"), "expected ',' or '}' in \(key)")
            return map
        }

        mutating func entry(_ name: String) throws(Problem) -> Entry {
            try expect(UInt8(ascii: "{"), "entry '\(name)' is not an object")
            var dtype: String?
            var shape: [Int]?
            var offsets: [Int]?
            if try !consume(UInt8(ascii: "}")) {
                repeat {
                    let field = try string()
                    try expect(UInt8(ascii: ":"), "expected ':' in entry '\(name)'")
                    switch field {
                    case "dtype" where dtype == nil: dtype = try string()
                    case "shape" where shape == nil: shape = try integers("the shape of '\(name)'")
                    case "data_offsets" where offsets == nil: offsets = try integers("the data offsets of '\(name)'")
                    default: throw problem("entry '\(name)' has an unknown or repeated field '\(field)'")
                    }
                } while try consume(UInt8(ascii: ","))
                try expect(UInt8(ascii: "}"), "expected ',' or '}' in entry '\(name)'")
            }
            guard let dtype, let shape, let offsets else { throw problem("entry '\(name)' lacks dtype, shape or data_offsets") }
            guard offsets.count == 2 else { throw problem("entry '\(name)' has \(offsets.count) data offsets, not 2") }
            return Entry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1])
        }
    }
}
