import Foundation

/// A numeric axis: maps data values to pixels and chooses readable ticks (1, 2, 5 × 10^k).
public struct Axis: Sendable {
    /// The data range shown.
    public let lower: Double, upper: Double
    /// Whether values are placed by their logarithm (all must be positive).
    public let logarithmic: Bool

    /// An axis over the finite values of `values` (padded a little; a single value gets a unit
    /// range). On a log axis, values ≤ 0 are left out.
    public init(covering values: [Double], logarithmic: Bool = false, includeZero: Bool = false) {
        var finite = values.filter { $0.isFinite && (!logarithmic || $0 > 0) }
        if includeZero && !logarithmic { finite.append(0) }
        var low = finite.min() ?? 0, high = finite.max() ?? 1
        if logarithmic {
            if finite.isEmpty { (low, high) = (1, 10) }
            low = pow(10, floor(log10(low)))
            high = pow(10, ceil(log10(high)))
            if low == high { high = low * 10 }
        } else if low == high {
            (low, high) = (low - 1, high + 1)
        }
        self.lower = low
        self.upper = high
        self.logarithmic = logarithmic
    }

    /// An axis over a fixed range.
    public init(from lower: Double, to upper: Double, logarithmic: Bool = false) {
        Requirement.check(lower < upper && lower.isFinite && upper.isFinite, "Axis: need a finite range with lower < upper")
        self.lower = lower
        self.upper = upper
        self.logarithmic = logarithmic
    }

    /// Where `value` falls between 0 (lower) and 1 (upper); nil when it cannot be placed
    /// (non-finite, or ≤ 0 on a log axis).
    public func fraction(_ value: Double) -> Double? {
        guard value.isFinite else { return nil }
        if logarithmic {
            guard value > 0 else { return nil }
            return (log10(value) - log10(lower)) / (log10(upper) - log10(lower))
        }
        return (value - lower) / (upper - lower)
    }

    /// About `count` round tick values inside the range.
    public func ticks(count: Int = 6) -> [Double] {
        if logarithmic {
            let first = Int(log10(lower).rounded()), last = Int(log10(upper).rounded())
            let step = max(1, (last - first) / max(count - 1, 1))
            return stride(from: first, through: last, by: step).map { pow(10, Double($0)) }
        }
        let raw = (upper - lower) / Double(max(count - 1, 1))
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var ticks: [Double] = []
        var index = ceil(lower / step)
        while index * step <= upper + step * 1e-9 {
            // Rounded to the step's precision, so 3 × 0.2 reads 0.6, not 0.6000000000000001.
            let digits = pow(10, max(0, -floor(log10(step))) + 1)
            ticks.append((index * step * digits).rounded() / digits + 0)  // + 0 turns -0 into 0
            index += 1
        }
        return ticks
    }

    /// A tick label: integers plainly, small or large numbers in exponent form.
    public static func label(_ value: Double) -> String {
        if value == 0 { return "0" }
        let magnitude = abs(value)
        if magnitude >= 1e5 || magnitude < 1e-3 { return String(format: "%.0e", value) }
        if value == value.rounded() { return String(Int(value)) }
        return String(format: "%g", (value * 1e6).rounded() / 1e6)
    }
}
