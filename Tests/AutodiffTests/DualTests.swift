import Autodiff
import Foundation
import Testing

@Suite("Dual numbers")
struct DualTests {
    @Test("arithmetic carries the derivative: product, quotient, square root, magnitude, remainder")
    func arithmetic() {
        let x = Dual(3.0, tangent: 1), y = Dual(-2.0, tangent: 0.5)
        #expect(x * y == Dual(-6, tangent: 3 * 0.5 + 1 * -2), "d(xy) = x dy + y dx, got \(x * y)")
        #expect((x / y).tangent == (1 - (3 / -2.0) * 0.5) / -2, "d(x/y), got \(x / y)")
        #expect(x.squareRoot() == Dual(3.0.squareRoot(), tangent: 1 / (2 * 3.0.squareRoot())))
        #expect(y.magnitude == Dual(2.0, tangent: -0.5) && abs(y) == Dual(2.0, tangent: -0.5), "|y| flips the tangent where y < 0, got \(abs(y))")
        #expect(Dual(7.5, tangent: 1).truncatingRemainder(dividingBy: Dual(2, tangent: 1)) == Dual(1.5, tangent: 1 - 3))
        var z = x
        z.addProduct(x, y)
        #expect(z == x + x * y)
    }

    @Test("elementary functions against central differences of the base type", arguments: [
        "exp", "log", "log1p", "tanh", "expm1", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "pow", "atan2"])
    func functions(_ name: String) {
        func f<T: TensorScalar>(_ x: T) -> T {
            switch name {
            case "exp": T.exp(x)
            case "log": T.log(x)
            case "log1p": T.log1p(x)
            case "tanh": T.tanh(x)
            case "expm1": T.expm1(x)
            case "sin": T.sin(x)
            case "cos": T.cos(x)
            case "tan": T.tan(x)
            case "asin": T.asin(x)
            case "acos": T.acos(x)
            case "atan": T.atan(x)
            case "sinh": T.sinh(x)
            case "cosh": T.cosh(x)
            case "pow": T.pow(x, x + 1)
            default: T.atan2(x, 1 - x)
            }
        }
        for x0 in [0.3, 0.7] {
            let d = f(Dual(x0, tangent: 1))
            let h = 1e-6
            let numeric = (f(x0 + h) - f(x0 - h)) / (2 * h)
            #expect(d.value == f(x0), "\(name)(\(x0)): the value is the base function's")
            #expect(abs(d.tangent - numeric) < 1e-8, "\(name)'(\(x0)): expected \(numeric), got \(d.tangent)")
        }
    }

    @Test("conversions keep the value; comparisons, equality and hashing look at the value only")
    func conversionsAndComparisons() {
        let x = Dual(2.5, tangent: 4)
        #expect(Double(x) == 2.5 && Float(x) == 2.5 && Int(x) == 2)
        #expect(Dual<Double>(x).tangent == 4, "a dual converted to its own type keeps its tangent")
        #expect(Dual<Double>(Float(1.5)).tangent == 0)
        #expect(x < Dual(3.0, tangent: -9) && !(x < Dual(2.5, tangent: 9)))
        #expect(x == Dual<Double>(2.5) && x != Dual(2.6, tangent: 4), "equality looks at the value, as < does")
        #expect(x.hashValue == Dual<Double>(2.5).hashValue)
        #expect(max(x, Dual(1.0, tangent: 7)).tangent == 4)
        #expect(x.description == "2.5 + 4.0ε" && Dual<Double>(1.0).description == "1.0")
        #expect(Dual<Double>.infinity.isInfinite && Dual<Double>.nan.isNaN && Dual(1.0, tangent: .nan).isFinite)
        #expect(!Dual(0.0, tangent: 1).isZero && Dual<Double>(0).isZero, "isZero: a constant zero")
        #expect(MemoryLayout<Dual<Double>>.stride == 16 && MemoryLayout<Dual<Float>>.stride == 8)
    }

    @Test("matrix products of duals, strided and split across threads, match the product rule")
    func matrixProducts() {
        let (m, k, n) = (64, 128, 160)  // 1.3M multiply-adds: above the threshold for splitting
        let a = randomTensor([m, k], seed: 101), at = randomTensor([m, k], seed: 102)
        let b = randomTensor([k, n], seed: 103), bt = randomTensor([k, n], seed: 104)
        let da = Tensor(shape: [m, k], scalars: zip(a.scalars, at.scalars).map { Dual($0, tangent: $1) })
        let db = Tensor(shape: [k, n], scalars: zip(b.scalars, bt.scalars).map { Dual($0, tangent: $1) })
        for threads in [1, 2] {
            let saved = ComputeSettings.maxThreads
            ComputeSettings.maxThreads = threads
            defer { ComputeSettings.maxThreads = saved }
            let c = Tensor.matmul(da, db)
            let value = Tensor.matmul(a, b), tangent = Tensor.matmul(at, b) + Tensor.matmul(a, bt)
            #expect(c.values().maxAbsoluteDifference(value) < 1e-12, "\(threads) threads: values")
            #expect(c.tangents().maxAbsoluteDifference(tangent) < 1e-12, "\(threads) threads: tangents")
            let transposed = Tensor.matmul(db.transposed(), da.transposed())
            #expect(transposed.tangents().maxAbsoluteDifference(tangent.transposed()) < 1e-12, "\(threads) threads: transposed operands")
        }
    }
}
