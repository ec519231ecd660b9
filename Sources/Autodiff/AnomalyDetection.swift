/// What a tape does about NaN and ±Inf made from finite numbers (see ``Tape/anomalyDetection``).
public enum AnomalyDetection: UInt8, Sendable {
    /// No checks (the default; costs one branch per op).
    case off
    /// Stop the program at the first anomaly with ``Anomaly/description``.
    case stop
    /// Keep the first anomaly in ``Tape/anomaly`` and go on (for library users).
    case record
}

/// Where a public op was called: `#fileID` and `#line` of the caller.
public struct SourceSite: Sendable, CustomStringConvertible {
    /// `Module/File.swift`.
    public let file: StaticString
    /// The line, from 1; 0 when unknown.
    public let line: UInt

    @inlinable public init(file: StaticString, line: UInt) {
        self.file = file
        self.line = line
    }

    /// `file:line`.
    public var description: String { "\(file):\(line)" }
}

/// The first op that turned finite numbers into NaN or ±Inf: in its forward value, or in the
/// gradient its pullback sent to an input.
public struct Anomaly: Sendable, CustomStringConvertible {
    /// Forward (the op's value) or backward (a gradient from its pullback).
    public enum Phase: String, Sendable {
        /// The op's value.
        case forward
        /// A gradient from the op's pullback.
        case backward
    }
    /// The op's name.
    public let op: String
    /// Which pass.
    public let phase: Phase
    /// The shapes of the op's inputs, then of its output.
    public let inputShapes: [[Int]], outputShape: [Int]
    /// The largest magnitude in each input's value (what produced the overflow), and in the
    /// output's gradient for a backward anomaly.
    public let inputMagnitudes: [Double]
    /// The input whose gradient became non-finite (backward), or nil.
    public let input: Int?
    /// The first bad element (flat index) and its value.
    public let element: Int, value: Double
    /// Where the op was called, when it was called through a public function (operators take
    /// no call site).
    public let site: SourceSite?
    /// For an op without a site: the last op recorded before it that has one.
    public let nearestSite: (op: String, site: SourceSite)?
    /// When the op's input ``input`` is a leaf that already held the bad value: "parameter"
    /// or "constant" (nil when the op itself made it).
    public var leaf: String? = nil

    /// One line: the pass, the op and its call site, the bad element, the inputs' shapes and magnitudes.
    public var description: String {
        func shape(_ s: [Int]) -> String { ShapeMath.describe(s) }
        let inputs = zip(inputShapes, inputMagnitudes).enumerated()
            .map { "input \($0) \(shape($1.0)) (largest |x| \(formatted($1.1)))" }.joined(separator: ", ")
        let what = leaf.map { "its input \(input ?? 0), a \($0) \(shape(inputShapes[input ?? 0])), already holds \(value) at element \(element)" }
            ?? (phase == .forward
            ? "its value \(shape(outputShape)) is \(value) at element \(element)"
            : "the gradient it sent to input \(input ?? 0) \(shape(inputShapes[input ?? 0])) is \(value) at element \(element)")
        let place = site.map { "at \($0)" }
            ?? nearestSite.map { "by an operator (no call site); the op before it was \($0.op) at \($0.site)" }
            ?? "by an operator (no call site)"
        return "anomaly in the \(phase.rawValue) pass: \(op) recorded \(place): \(what)" + (leaf == nil ? ", from finite numbers" : "") + ": \(inputs)"
    }

    func formatted(_ x: Double) -> String { x.isFinite ? String(describing: Float(x)) : "\(x)" }
}

extension TapeStorage {
    /// The entry's op name (rank-0 rule results by their code).
    func opName(_ index: Int) -> String {
        let entry = entries[index]
        return entry.isScalarOp ? "\(entry.rule)" : "\(names[index])"
    }

    /// The first non-finite element of `count` scalars, or nil.
    func firstNonFinite(_ p: UnsafeMutablePointer<Scalar>, count: Int) -> (Int, Double)? {
        for i in 0..<count where !p[i].isFinite { return (i, Double(p[i])) }
        return nil
    }

    func largestMagnitude(_ p: UnsafeMutablePointer<Scalar>, count: Int) -> Double {
        var m = 0.0
        for i in 0..<count { m = Swift.max(m, Swift.abs(Double(p[i]))) }
        return m
    }

    /// Keeps the call site of entry `index` (while detection is on).
    mutating func noteSite(_ index: Int) {
        while sites.count < index { sites.append(SourceSite(file: "", line: 0)) }
        if sites.count == index { sites.append(currentSite) } else { sites[index] = currentSite }
    }

    /// After entry `index`'s forward: an anomaly when its value is not finite and its inputs are.
    @usableFromInline @inline(never)
    mutating func checkForward(_ index: Int) {
        noteSite(index)
        let entry = entries[index]
        guard let (element, value) = firstNonFinite(values + entry.valueOffset, count: entry.count) else { return }
        let inputs = inputIndices(index)
        guard !inputs.isEmpty else { return }
        let bad = inputs.indices.filter { firstNonFinite(values + entries[inputs[$0]].valueOffset, count: entries[inputs[$0]].count) != nil }
        // Non-finite inputs made by ops were reported there; a leaf (a parameter, data) that
        // holds NaN or ±Inf is reported at its first use.
        if let leaf = bad.first(where: { inputIndices(inputs[$0]).isEmpty }) {
            let e = entries[inputs[leaf]]
            let (element, value) = firstNonFinite(values + e.valueOffset, count: e.count)!
            report(anomaly(at: index, inputs, .forward, input: leaf, element: element, value: value,
                           leaf: e.requiresGradient ? "parameter" : "constant"))
            return
        }
        guard bad.isEmpty else { return }
        report(anomaly(at: index, inputs, .forward, input: nil, element: element, value: value))
    }

    /// After entry `index`'s pullback: an anomaly when it sent a non-finite gradient to an input
    /// while its own gradient and its inputs' values were finite.
    @usableFromInline @inline(never)
    mutating func checkBackward(_ index: Int) {
        guard let gradients else { return }
        let entry = entries[index]
        // A gradient still pending was written by no pullback: it is zero, not what it holds.
        guard entry.isGradientPending || firstNonFinite(gradients + entry.valueOffset, count: entry.count) == nil else { return }
        let inputs = inputIndices(index)
        guard inputs.allSatisfy({ firstNonFinite(values + entries[$0].valueOffset, count: entries[$0].count) == nil }) else { return }
        for (k, input) in inputs.enumerated() where entries[input].requiresGradient && !entries[input].isGradientPending {
            guard let (element, value) = firstNonFinite(gradients + entries[input].valueOffset, count: entries[input].count) else { continue }
            report(anomaly(at: index, inputs, .backward, input: k, element: element, value: value))
            return
        }
    }

    /// The report on entry `index` (whose inputs are `inputs`), with their shapes, magnitudes
    /// and the call site.
    func anomaly(at index: Int, _ inputs: [Int], _ phase: Anomaly.Phase, input: Int?, element: Int, value: Double,
                 leaf: String? = nil) -> Anomaly {
        Anomaly(op: opName(index), phase: phase, inputShapes: inputs.map { shape($0) }, outputShape: shape(index),
                inputMagnitudes: inputs.map { largestMagnitude(values + entries[$0].valueOffset, count: entries[$0].count) },
                input: input, element: element, value: value, site: site(of: index), nearestSite: nearestSite(before: index),
                leaf: leaf)
    }

    func site(of index: Int) -> SourceSite? {
        index < sites.count && sites[index].line > 0 ? sites[index] : nil
    }

    func nearestSite(before index: Int) -> (op: String, site: SourceSite)? {
        guard site(of: index) == nil else { return nil }
        for i in stride(from: Swift.min(index, sites.count) - 1, through: 0, by: -1) {
            if let s = site(of: i) { return (opName(i), s) }
        }
        return nil
    }

    mutating func report(_ found: Anomaly) {
        if anomalyDetection == .stop { Failure.stop(found.description) }
        if anomaly == nil { anomaly = found }
    }
}

extension Tape {
    /// NaN/±Inf detection: `.stop` or `.record` checks every op's value after its forward and
    /// every gradient its pullback sends, and names the first op that made NaN or ±Inf from
    /// finite numbers, its shapes, the inputs' magnitudes and its call site (``Anomaly``). Off
    /// by default; on, each op also scans its value and its inputs'.
    public var anomalyDetection: AnomalyDetection {
        get { storage.pointee.anomalyDetection }
        set { storage.pointee.anomalyDetection = newValue }
    }

    /// The first anomaly found with ``AnomalyDetection/record``, or nil. Cleared by assigning nil.
    public var anomaly: Anomaly? {
        get { storage.pointee.anomaly }
        set { storage.pointee.anomaly = newValue }
    }
}

extension Variable {
    /// Runs `body` (which records this public op) with `file:line` as the call site of what
    /// it records, unless an outer public op already set one; free when detection is off.
    @inlinable @inline(__always)
    func at<R>(_ file: StaticString, _ line: UInt, _ body: () -> R) -> R {
        let s = storage
        guard s.pointee.anomalyDetection != .off, s.pointee.currentSite.line == 0 else { return body() }
        s.pointee.currentSite = SourceSite(file: file, line: line)
        defer { s.pointee.currentSite = SourceSite(file: "", line: 0) }
        return body()
    }
}
