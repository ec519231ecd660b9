import Foundation

/// The learning rate as a function of the iteration (0-based).
public enum LearningRateSchedule: Sendable, Equatable {
    /// The same rate throughout.
    case constant(Double)
    /// `initial · factor^⌊iteration / every⌋` (the tutorial: ×0.9 every 5000 iterations).
    case stepDecay(initial: Double, factor: Double, every: Int)
    /// Cosine from `initial` down to `minimum` over `total` iterations, then `minimum`.
    case cosine(initial: Double, minimum: Double, total: Int)

    /// The rate at `iteration`.
    public func rate(at iteration: Int) -> Double {
        switch self {
        case let .constant(rate):
            return rate
        case let .stepDecay(initial, factor, every):
            return initial * pow(factor, Double(iteration / max(every, 1)))
        case let .cosine(initial, minimum, total):
            let t = min(Double(iteration) / Double(max(total, 1)), 1)
            return minimum + (initial - minimum) * (1 + cos(Double.pi * t)) / 2
        }
    }
}
