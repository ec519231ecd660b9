@testable import Autodiff
import Testing

/// One right answer in every mode: reverse mode on a real tape, the real part of the gradient on
/// a dual tape (the H·v call), forward mode (jvp) and the functional API give the same first
/// derivative at every class of point — generic points, ties, kinks, exact zeros, domain edges,
/// tiny and huge magnitudes, ±∞ and NaN — for every rule of the table (through the compiler's
/// enumeration) and every op outside it.
@Suite("Forward, reverse and second-order modes agree at every kind of point")
struct ModeAgreementTests {
    /// Points of every class: zeros of both signs, the ties of the exercised ops' constants
    /// (clamp's -0.55 and 0.65, 3, 1.5, atan2's shift 1.4), domain edges (±1, -1 for log1p),
    /// magnitudes that underflow or overflow when squared, ±∞ and NaN.
    static let unaryPoints: [Double] = [
        0, -0.0, 1, -1, 0.5, -0.5, 2, -2, -0.55, 0.65, 3, 1.5, 1.4, 1e-200, -1e-200, 1e200, -1e200,
        .infinity, -.infinity, .nan,
    ]
    static let binaryValues: [Double] = [0, -0.0, 1, -1, 2, 1.4, 1e-200, 1e200, .infinity, -.infinity, .nan]

    /// Equal, both NaN, or within 1e-13 relative (a chain of constants may multiply in another order).
    static func agree(_ a: Double, _ b: Double) -> Bool {
        if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
        if a == b { return true }
        return a.isFinite && b.isFinite && Swift.abs(a - b) <= 1e-13 * Swift.max(Swift.abs(a), Swift.abs(b))
    }

    static func firstDisagreement(_ a: [Double], _ b: [Double], at points: [[Double]]) -> String? {
        for i in a.indices where !agree(a[i], b[i]) {
            return "at \(points.map { $0[i] }): \(a[i]) against \(b[i])"
        }
        return nil
    }

    /// The gradients of Σ op(inputs) by reverse mode on Double, by the real part of the dual
    /// backward pass (the H·v call), and by forward mode with a unit direction for one input
    /// at a time; all must agree element by element.
    static func expectAgreement(
        _ name: String, _ points: [[Double]], sourceLocation: SourceLocation = #_sourceLocation,
        real: ([Variable<Double>]) -> Variable<Double>, dual: @escaping ([Variable<Dual<Double>>]) -> Variable<Dual<Double>>
    ) {
        let inputs = points.map { Tensor(shape: [$0.count], scalars: $0) }
        let reverse = gradient(at: inputs) { real($0).sum() }
        let ones = inputs.map { Tensor<Double>(repeating: 1, shape: $0.shape) }
        let secondOrder = valueGradientAndHessianVectorProduct(at: inputs, directions: ones) { dual($0).sum() }.gradients
        for k in inputs.indices {
            if let wrong = firstDisagreement(reverse[k].scalars, secondOrder[k].scalars, at: points) {
                Issue.record("\(name), input \(k): reverse on Double and on duals disagree \(wrong)", sourceLocation: sourceLocation)
            }
            let directions = inputs.indices.map { $0 == k ? ones[$0] : .zeros(inputs[$0].shape) }
            let forward = jvp(at: inputs, directions: directions) { dual($0) }.differential
            if let wrong = firstDisagreement(forward.scalars, reverse[k].scalars, at: points) {
                Issue.record("\(name), input \(k): forward (jvp) and reverse disagree \(wrong)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test("every rule: reverse, dual reverse and forward mode at zeros, ties, kinks, edges, ±∞ and NaN",
          arguments: RuleTableTests.codes)
    func rules(_ code: RuleCode) {
        let real = RuleTableTests.exercise(code)!
        let dual = RuleTableTests.exercise(code, Dual<Double>.self)!
        let points: [[Double]]
        if real.binary {
            let pairs = Self.binaryValues.flatMap { a in Self.binaryValues.map { (a, $0) } }
            points = [pairs.map(\.0), pairs.map(\.1)]
        } else {
            points = [Self.unaryPoints]
        }
        Self.expectAgreement("\(code)", points, real: real.op, dual: dual.op)
        // The lean rank-0 path takes the same derivative as the tensor path, point by point.
        let tensorGradients = gradient(at: points.map { Tensor(shape: [$0.count], scalars: $0) }) { real.op($0).sum() }
        for i in points[0].indices {
            let scalarGradients = gradient(at: points.map { Tensor($0[i]) }) { real.op($0) }
            for k in points.indices where !Self.agree(scalarGradients[k].scalar, tensorGradients[k].scalars[i]) {
                Issue.record("\(code) at \(points.map { $0[i] }): rank 0 gives \(scalarGradients[k].scalar), a tensor \(tensorGradients[k].scalars[i])")
            }
        }
    }

    /// The one NaN rule: a NaN input gets a NaN derivative from every op whose derivative
    /// depends on that input (piecewise ops never hide it behind a branch's constant); an op
    /// whose derivative is the same at every point (x + c, -x, a·b with respect to a) passes
    /// the gradient through, as in PyTorch and JAX.
    @Test("a NaN input gets a NaN derivative unless the derivative does not depend on it",
          arguments: RuleTableTests.codes)
    func nanConvention(_ code: RuleCode) {
        let c = RuleTableTests.exercise(code)!
        let generic: [Double] = [-1.7, -0.3, 0.45, 0.9, 2.2]
        let operands = c.binary ? 2 : 1
        for k in 0..<operands {
            // The partial with respect to operand k at generic points (the other operand fixed).
            func partials(_ values: [Double]) -> [Double] {
                let inputs = (0..<operands).map { $0 == k ? Tensor(shape: [values.count], scalars: values)
                                                          : Tensor(repeating: 0.8, shape: [values.count]) }
                return gradient(at: inputs) { c.op($0).sum() }[k].scalars
            }
            let atGeneric = partials(generic)
            let atNaN = partials([.nan])[0]
            if atGeneric.allSatisfy({ $0 == atGeneric[0] }) {
                #expect(atNaN == atGeneric[0], "\(code): a constant partial \(atGeneric[0]) for operand \(k), got \(atNaN) at NaN")
            } else {
                #expect(atNaN.isNaN, "\(code): operand \(k) is NaN, so its partial must be NaN, got \(atNaN)")
            }
        }
    }

    @Test("every op outside the table: reverse, dual reverse and forward mode at ties and zeros",
          arguments: SecondOrderOpTests.Op.allCases.filter { $0 != .stopGradient })
    func opsOutsideTheTable(_ op: SecondOrderOpTests.Op) {
        let (shapes, range) = SecondOrderOpTests.inputs(op)
        // All zeros (every maximum a tie, σ = 0, logits at 0) and a point of repeated values.
        let low = range.lowerBound < 0 ? 0.0 : range.lowerBound
        for fill in [low, 0.5] {
            let points = shapes.map { [Double](repeating: fill, count: $0.reduce(1, *)) }
            let inputs = zip(points, shapes).map { Tensor(shape: $1, scalars: $0) }
            let reverse = gradient(at: inputs) { SecondOrderOpTests.apply(op, $0).sum() }
            let ones = inputs.map { Tensor<Double>(repeating: 1, shape: $0.shape) }
            let dualReverse = valueGradientAndHessianVectorProduct(at: inputs, directions: ones) {
                SecondOrderOpTests.apply(op, $0).sum()
            }.gradients
            for k in inputs.indices {
                let same = zip(reverse[k].scalars, dualReverse[k].scalars).allSatisfy { Self.agree($0, $1) }
                #expect(same, "\(op) at \(fill), input \(k): reverse \(reverse[k]) and dual reverse \(dualReverse[k])")
                // jvp of the sum along eₖ·1 is Σ of the gradient's elements.
                let directions = inputs.indices.map { $0 == k ? ones[$0] : .zeros(inputs[$0].shape) }
                let forward = jvp(at: inputs, directions: directions) { SecondOrderOpTests.apply(op, $0).sum() }
                let (expected, got) = (reverse[k].scalars.reduce(0, +), forward.differential.scalar)
                #expect(Self.agree(got, expected) || Swift.abs(got - expected) < 1e-12,
                        "\(op) at \(fill), input \(k): jvp \(got), gradient·v \(expected)")
            }
        }
    }
}

/// The defects of issue 22, each as it was reported.
@Suite("Edge points: the same derivative whichever API asks")
struct EdgePointTests {
    @Test("binaryCrossEntropy(logits:) at a logit of exactly 0: jvp is gradient·v, H·v is σ'(0)·v/n")
    func logisticAtZero() {
        let z = Tensor<Double>.zeros([10]), t = Tensor<Double>(shape: [10], scalars: (0..<10).map { Double($0 % 2) })
        let v = Tensor<Double>(shape: [10], scalars: (0..<10).map { Double($0) / 10 - 0.3 })
        func loss<T: TensorScalar>(_ x: Variable<T>) -> Variable<T> {
            binaryCrossEntropy(logits: x, targets: x.tape.constant(t.converted(to: T.self)))
        }
        let g = gradient(at: z, of: loss)
        let forward = jvp(at: z, direction: v, of: loss).differential.scalar
        let dot = zip(g.scalars, v.scalars).map(*).reduce(0, +)
        #expect(Swift.abs(forward - dot) < 1e-15, "jvp \(forward), gradient·v \(dot)")
        let hv = hessianVectorProduct(at: z, direction: v, of: loss)
        for (h, d) in zip(hv.scalars, v.scalars) {
            #expect(Swift.abs(h - 0.25 * d / 10) < 1e-15, "H·v: expected \(0.25 * d / 10), got \(h)")
        }
    }

    @Test("ties and equality masks mean the same on dual tapes: maximum, select(x .== 1), pow at (0, 2)")
    func tiesOnDuals() {
        func tie<T: TensorScalar>(_ x: Variable<T>) -> Variable<T> { maximum(x[0], x[1]) }
        let x = Tensor<Double>([1, 1])
        let reverse = gradient(at: x, of: tie)
        let fromSecondOrder = valueGradientAndHessianVectorProduct(at: [x], directions: [Tensor([1, 0])]) { tie($0[0]) }
        #expect(reverse.scalars == [0.5, 0.5] && fromSecondOrder.gradients[0].scalars == [0.5, 0.5],
                "maximum at a tie: \(reverse) and \(fromSecondOrder.gradients[0])")

        func branch<T: TensorScalar>(_ x: Variable<T>) -> Variable<T> { select(x .== 1, x * 2, x * 3).sum() }
        let one = Tensor<Double>([1])
        #expect(gradient(at: one, of: branch).scalars == [2])
        #expect(jvp(at: one, direction: Tensor([1]), of: branch).differential.scalar == 2, "select takes x .== 1 at x = 1")
        #expect(valueGradientAndHessianVectorProduct(at: [one], directions: [Tensor([1])]) { branch($0[0]) }
            .gradients[0].scalars == [2])

        func power<T: TensorScalar>(_ v: [Variable<T>]) -> Variable<T> { pow(v[0], v[1]) }
        let point = [Tensor<Double>(0), Tensor<Double>(2)]
        let g = gradient(at: point, of: power)
        let second = valueGradientAndHessianVectorProduct(at: point, directions: [Tensor(1), Tensor(1)], of: power)
        #expect(g.map(\.scalar) == [0, 0] && second.gradients.map(\.scalar) == [0, 0],
                "pow at (0, 2): gradients \(g) and \(second.gradients)")
        // d²(x^y)/dx² = y(y-1)x^(y-2) = 2 at (0, 2); the mixed terms are 0 there (x^(y-1)(1 + y ln x) → 0).
        #expect(second.hessianVectorProducts.map(\.scalar) == [2, 0], "H·v of pow at (0, 2): \(second.hessianVectorProducts)")
    }

    @Test("stopGradient stops tangents too: jvp, both Jacobians and the Hessian treat it as a constant")
    func stopGradientInEveryMode() {
        let x = Tensor<Double>([0.5, -1.5])
        func doubled<T: TensorScalar>(_ v: Variable<T>) -> Variable<T> { stopGradient(v) * 2 }
        #expect(jvp(at: x, direction: Tensor([1, 1]), of: doubled).differential.scalars == [0, 0])
        func mixed<T: TensorScalar>(_ v: Variable<T>) -> Variable<T> { stopGradient(v) * 2 + v }
        let identity = Tensor<Double>(shape: [2, 2], scalars: [1, 0, 0, 1])
        #expect(jacobian(at: x, mode: .forward, of: mixed) == identity)
        #expect(jacobian(at: x, mode: .reverse, of: mixed) == identity)
        func product<T: TensorScalar>(_ v: Variable<T>) -> Variable<T> { (v * stopGradient(v)).sum() }
        #expect(hessian(at: x, of: product) == .zeros([2, 2]), "JAX gives 0: the stopped factor is a constant")
        #expect(gradient(at: x, of: product) == x)
    }

    @Test("a function that ignores its input has zero derivatives in every API")
    func independentOfInput() {
        let x = Tensor<Double>([1, 2, 3])
        let constant = Tensor<Double>([4, 5])
        #expect(gradient(at: x) { $0.tape.constant(7.0) } == .zeros([3]))
        #expect(gradient(at: [x, x]) { $0[0].tape.constant(7.0) } == [.zeros([3]), .zeros([3])])
        #expect(jacobian(at: x) { $0.tape.constant(constant) } == .zeros([2, 3]))
        #expect(jacobian(at: x, mode: .reverse) { $0.tape.constant(constant.converted(to: Dual<Double>.self)) } == .zeros([2, 3]))
        #expect(jacobian(at: x, mode: .forward) { $0.tape.constant(constant.converted(to: Dual<Double>.self)) } == .zeros([2, 3]))
        #expect(vjp(at: x) { $0.tape.constant(constant) }.pullback(Tensor([1, 1])) == .zeros([3]))
        #expect(hessianVectorProduct(at: x, direction: x) { $0.tape.constant(Dual<Double>(7)) } == .zeros([3]))
        #expect(hessian(at: x) { stopGradient($0).sum() } == .zeros([3, 3]))
    }

    @Test("standardDeviation at σ = 0 (constant data, an axis of length 1) has zero gradients, as in PyTorch")
    func standardDeviationAtZero() {
        let constant = Tensor<Double>(repeating: 4, shape: [2, 3])
        #expect(gradient(at: constant) { $0.standardDeviation() } == .zeros([2, 3]))
        #expect(gradient(at: constant) { $0.standardDeviation(alongAxis: 1).sum() } == .zeros([2, 3]))
        let column = Tensor<Double>(shape: [1, 3], scalars: [1, 2, 3])
        #expect(gradient(at: column) { $0.standardDeviation(alongAxis: 0).sum() } == .zeros([1, 3]))
        #expect(jvp(at: constant, direction: constant, of: { $0.standardDeviation() }).differential.scalar == 0)
        // Away from σ = 0 it is still (x - mean)/(n·σ).
        expectGradients(at: [randomTensor([3, 4], seed: 3)]) { _, v in v[0].standardDeviation(alongAxis: 1).sum() }
    }

    @Test("abs at 0: forward and reverse both take the subgradient 0; H·v of Σ|x|·x at 0 is 0")
    func absoluteValueAtZero() {
        let zero = Tensor<Double>.zeros([3])
        let v = Tensor<Double>([1, -2, 0.5])
        #expect(jvp(at: zero, direction: v) { abs($0) }.differential == .zeros([3]))
        #expect(gradient(at: zero) { abs($0).sum() } == .zeros([3]))
        #expect(hessianVectorProduct(at: zero, direction: v) { (abs($0) * $0).sum() } == .zeros([3]), "PyTorch gives 0")
    }

    @Test("atan2: 0 at the origin, finite where x² + y² underflows or overflows")
    func arctangent2Edges() {
        func angle<T: TensorScalar>(_ v: [Variable<T>]) -> Variable<T> { atan2(v[0], v[1]) }
        let origin = gradient(at: [Tensor<Double>(0), Tensor<Double>(0)], of: angle).map(\.scalar)
        #expect(origin == [0, 0], "atan2 at (0, 0): \(origin)")
        let tiny = gradient(at: [Tensor<Double>(1e-200), Tensor<Double>(1e-200)], of: angle).map(\.scalar)
        #expect(Swift.abs(tiny[0] - 5e199) < 1e185 && Swift.abs(tiny[1] + 5e199) < 1e185, "atan2 at (1e-200, 1e-200): \(tiny)")
        let huge = gradient(at: [Tensor<Double>(3e200), Tensor<Double>(4e200)], of: angle).map(\.scalar)
        // x/(x² + y²) = 4e200/25e400 and -y/(x² + y²) = -3e200/25e400, though 25e400 overflows.
        #expect(Swift.abs(huge[0] - 1.6e-201) < 1e-215 && Swift.abs(huge[1] + 1.2e-201) < 1e-215,
                "atan2 at (3e200, 4e200): \(huge)")
        let forward = jvp(at: [Tensor<Double>(1e-200), Tensor<Double>(1e-200)], directions: [Tensor(1), Tensor(0)], of: angle)
        #expect(forward.differential.scalar == tiny[0])
    }

    @Test("NaN: clamp, relu and maximum give a NaN operand a NaN gradient, the other operand 0")
    func nanGradients() {
        let x = Tensor<Double>([.nan, 0.3])
        #expect(gradient(at: x) { clamp($0, min: -1, max: 1).sum() }.scalars[0].isNaN)
        #expect(gradient(at: x) { relu($0).sum() }.scalars[0].isNaN)
        #expect(gradient(at: x) { $0.max() }.scalars[0].isNaN)
        let g = gradient(at: [Tensor<Double>(.nan), Tensor<Double>(2)]) { maximum($0[0], $0[1]) }
        #expect(g[0].scalar.isNaN && g[1].scalar == 0, "maximum(NaN, 2): \(g)")
    }

    @Test("the mean losses of empty tensors are NaN, as mean() is")
    func emptyLosses() {
        let tape = Tape<Double>()
        let empty = tape.variable(.zeros([0]))
        #expect(empty.mean().scalar.isNaN)
        #expect(meanSquaredError(empty, empty).scalar.isNaN)
        #expect(binaryCrossEntropy(empty, empty).scalar.isNaN)
        #expect(binaryCrossEntropy(logits: empty, targets: empty).scalar.isNaN)
        let noRows = tape.variable(.zeros([0, 3]))
        #expect(crossEntropy(noRows, noRows).scalar.isNaN)
        #expect(softmaxCrossEntropy(logits: noRows, labels: []).scalar.isNaN)
    }
}
