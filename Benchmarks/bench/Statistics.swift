import Foundation

/// Repeated measurements of one figure, reported as median with min and max.
struct Sample {
    var values: [Double] = []

    mutating func add(_ value: Double) { values.append(value) }

    var median: Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// `name: median X unit (min A, max B, n=N)`, the one line format every figure uses.
    func line(_ name: String, unit: String, digits: Int = 1) -> String {
        let f = "%.\(digits)f"
        return "\(name): median \(String(format: f, median)) \(unit) (min \(String(format: f, values.min() ?? .nan)), max \(String(format: f, values.max() ?? .nan)), n=\(values.count))"
    }
}

/// Seconds of wall time taken by `body`.
func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}
