import Autodiff
import Testing

@Suite("Tensor")
struct TensorTests {
    @Test("broadcasting arithmetic, worked by hand")
    func arithmetic() {
        let m = Tensor<Double>([[1, 2, 3], [4, 5, 6]])
        #expect(m + Tensor([10, 20, 30]) == Tensor([[11, 22, 33], [14, 25, 36]]))
        #expect(m * Tensor(shape: [2, 1], scalars: [2, 3]) == Tensor([[2, 4, 6], [12, 15, 18]]))
        #expect(1 - m / 2 == Tensor([[0.5, 0, -0.5], [-1, -1.5, -2]]))
    }

    @Test("reshape with an inferred axis, transpose, identity, argmax")
    func shapes() {
        let t = Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(t.reshaped(to: [3, -1]).shape == [3, 2])
        #expect(t.transposed() == Tensor([[1, 4], [2, 5], [3, 6]]))
        #expect(Tensor.matmul(Tensor<Float>.identity(2), t) == t)
        #expect(Tensor<Float>([[0, 9, 1], [7, 2, 3]]).argmaxRows() == [1, 0])
        #expect(t.description == "[[1.0, 2.0, 3.0],\n [4.0, 5.0, 6.0]]")
    }

    @Test("copies are values: writing one leaves the other alone")
    func copyOnWrite() {
        let a = Tensor<Double>([1, 2, 3])
        var b = a
        b[1] = 20
        #expect(a[1] == 2 && b[1] == 20)
    }

    @Test("the same seed gives the same numbers; normal samples have mean 0 and variance 1")
    func random() {
        var g1 = SeededGenerator(seed: 99), g2 = SeededGenerator(seed: 99), g3 = SeededGenerator(seed: 100)
        let a = Tensor<Double>.randomNormal([20_000], using: &g1)
        #expect(a == Tensor<Double>.randomNormal([20_000], using: &g2))
        #expect(a != Tensor<Double>.randomNormal([20_000], using: &g3))
        let mean = a.mean()
        let variance = a.scalars.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(a.count)
        #expect(abs(mean) < 0.03 && abs(variance - 1) < 0.03, "mean \(mean), variance \(variance)")
        var g4 = SeededGenerator(seed: 1)
        let u = Tensor<Float>.randomUniform([10_000], in: -2..<3, using: &g4)
        #expect(u.scalars.allSatisfy { $0 >= -2 && $0 < 3 } && abs(u.mean() - 0.5) < 0.05)
    }
}
