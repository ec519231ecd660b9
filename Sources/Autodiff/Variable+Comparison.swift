/// A comparison of one-element values that code branched on (`if x < 0`), kept while a
/// ``CompiledFunction`` records so that each replay checks its result again.
@usableFromInline
struct RecordedComparison<Scalar: TensorScalar> {
    @usableFromInline enum Kind { case less, lessOrEqual, greater, greaterOrEqual }
    /// The entries compared (`rhs` -1: the constant).
    @usableFromInline let lhs: Int, rhs: Int
    @usableFromInline let constant: Scalar
    @usableFromInline let kind: Kind
    /// The result while recording.
    @usableFromInline let result: Bool
    /// The entry count when the comparison ran (where in the code it was).
    @usableFromInline let after: Int

    @inlinable
    init(lhs: Int, rhs: Int, constant: Scalar, kind: Kind, result: Bool, after: Int) {
        (self.lhs, self.rhs, self.constant, self.kind, self.result, self.after) = (lhs, rhs, constant, kind, result, after)
    }

    /// The comparison on the values now in `storage`.
    @inlinable
    func evaluate(_ storage: UnsafeMutablePointer<TapeStorage<Scalar>>) -> Bool {
        let values = storage.pointee.values
        let a = values[storage.pointee.entries[lhs].valueOffset]
        let b = rhs < 0 ? constant : values[storage.pointee.entries[rhs].valueOffset]
        return kind.holds(a, b)
    }
}

extension RecordedComparison.Kind {
    /// The comparison as Swift's operators make it (false whenever a NaN is involved).
    @inlinable
    func holds(_ a: Scalar, _ b: Scalar) -> Bool {
        switch self {
        case .less: a < b
        case .lessOrEqual: a <= b
        case .greater: a > b
        case .greaterOrEqual: a >= b
        }
    }
}

extension Variable {
    /// Compares one-element values as Swift's `<` does; while a ``CompiledFunction`` records,
    /// the comparison is kept and each replay checks that it comes out the same.
    @inlinable
    static func compare(_ op: StaticString, _ kind: RecordedComparison<Scalar>.Kind, _ lhs: Variable, _ rhs: Variable?,
                        constant: Scalar) -> Bool {
        func value(_ v: Variable) -> Scalar {
            v.checkUsable(op)
            let entry = v.storage.pointee.entries[Int(v.index)]
            Failure.check(entry.count == 1, "\(op): compares one-element values, not \(ShapeMath.describe(v.shape)); the masks .< .> … compare elementwise")
            return v.storage.pointee.values[entry.valueOffset]
        }
        let a = value(lhs)
        var b = constant
        if let rhs {
            if !lhs.isOnSameTape(as: rhs) { rhs.checkTapeExists(op); Variable.onAnotherTape(op) }
            b = value(rhs)
        }
        let result = kind.holds(a, b)
        let s = lhs.storage
        if s.pointee.compiling {
            s.pointee.comparisons.append(RecordedComparison(
                lhs: Int(lhs.index), rhs: rhs.map { Int($0.index) } ?? -1, constant: constant, kind: kind, result: result,
                after: s.pointee.count))
        }
        return result
    }

    /// Whether the one-element `lhs` is less than `rhs` (a branch on traced values; kept and
    /// re-checked by a ``CompiledFunction``). The mask operators (`.<`, `.>`, …) compare elementwise.
    @inlinable public static func < (lhs: Variable, rhs: Variable) -> Bool { compare("<", .less, lhs, rhs, constant: 0) }
    /// Whether the one-element `lhs` is at most `rhs`.
    @inlinable public static func <= (lhs: Variable, rhs: Variable) -> Bool { compare("<=", .lessOrEqual, lhs, rhs, constant: 0) }
    /// Whether the one-element `lhs` is greater than `rhs`.
    @inlinable public static func > (lhs: Variable, rhs: Variable) -> Bool { compare(">", .greater, lhs, rhs, constant: 0) }
    /// Whether the one-element `lhs` is at least `rhs`.
    @inlinable public static func >= (lhs: Variable, rhs: Variable) -> Bool { compare(">=", .greaterOrEqual, lhs, rhs, constant: 0) }
    /// Whether the one-element `lhs` is less than the constant `rhs`.
    @inlinable public static func < (lhs: Variable, rhs: Scalar) -> Bool { compare("<", .less, lhs, nil, constant: rhs) }
    /// Whether the one-element `lhs` is at most the constant `rhs`.
    @inlinable public static func <= (lhs: Variable, rhs: Scalar) -> Bool { compare("<=", .lessOrEqual, lhs, nil, constant: rhs) }
    /// Whether the one-element `lhs` is greater than the constant `rhs`.
    @inlinable public static func > (lhs: Variable, rhs: Scalar) -> Bool { compare(">", .greater, lhs, nil, constant: rhs) }
    /// Whether the one-element `lhs` is at least the constant `rhs`.
    @inlinable public static func >= (lhs: Variable, rhs: Scalar) -> Bool { compare(">=", .greaterOrEqual, lhs, nil, constant: rhs) }
}
