import Foundation

/// A seedable random number generator (xoshiro256**, seeded through SplitMix64) that gives
/// the same sequence for the same seed on every platform, so that initial weights, shuffles
/// and synthetic data are reproducible.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    @usableFromInline var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) {
        var s = seed
        func splitMix() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// The next 64 random bits.
    @inlinable
    public mutating func next() -> UInt64 {
        let result = ((state.1 &* 5) << 7 | (state.1 &* 5) >> 57) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = state.3 << 45 | state.3 >> 19
        return result
    }

    /// Uniform in [0, 1), with 53 random bits.
    @inlinable
    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// A standard normal sample (Box-Muller), computed in Double on every platform.
    @inlinable
    public mutating func nextNormal() -> Double {
        var u = nextUnitDouble()
        while u == 0 { u = nextUnitDouble() }
        let v = nextUnitDouble()
        return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * v)
    }

    /// A uniform integer in 0..<bound, without modulo bias.
    @inlinable
    public mutating func nextIndex(below bound: Int) -> Int {
        Failure.check(bound > 0, "nextIndex: bound must be positive")
        let limit = UInt64.max - UInt64.max % UInt64(bound)
        var x = next()
        while x >= limit { x = next() }
        return Int(x % UInt64(bound))
    }
}

extension Tensor {
    /// Samples from N(mean, standardDeviation²).
    public static func randomNormal(
        _ shape: [Int], mean: Scalar = 0, standardDeviation: Scalar = 1, using generator: inout SeededGenerator
    ) -> Tensor {
        Tensor(shape: shape) { out in
            for i in out.indices { out[i] = mean + standardDeviation * Scalar(generator.nextNormal()) }
        }
    }

    /// Samples uniformly from [low, high).
    public static func randomUniform(
        _ shape: [Int], in range: Range<Scalar> = 0..<1, using generator: inout SeededGenerator
    ) -> Tensor {
        Tensor(shape: shape) { out in
            let width = Double(range.upperBound - range.lowerBound)
            for i in out.indices { out[i] = range.lowerBound + Scalar(generator.nextUnitDouble() * width) }
        }
    }
}
