import Autodiff
import Foundation

/// The 2-D toy sets of the tutorials, generated from a seed (the same points on every
/// platform): features `[count, 2]`, labels 0 or 1.
public enum SyntheticSets {
    /// Two interleaving half circles (scikit-learn's make_moons): the upper one centred at
    /// (0, 0), the lower at (1, 0.5), plus Gaussian noise of standard deviation `noise`.
    public static func moons<S: TensorScalar>(count: Int, noise: Double, seed: UInt64) -> LabeledSet<S> {
        var generator = SeededGenerator(seed: seed)
        let outer = count / 2, inner = count - outer
        var points: [(Double, Double, Int)] = []
        for i in 0..<outer {
            let t = Double.pi * Double(i) / Double(max(outer - 1, 1))
            points.append((cos(t), sin(t), 0))
        }
        for i in 0..<inner {
            let t = Double.pi * Double(i) / Double(max(inner - 1, 1))
            points.append((1 - cos(t), 0.5 - sin(t), 1))
        }
        return shuffled(points, noise: noise, generator: &generator)
    }

    /// Two concentric circles (make_circles): the outer of radius 1 is class 0, the inner of
    /// radius `factor` class 1, plus Gaussian noise.
    public static func circles<S: TensorScalar>(count: Int, noise: Double, factor: Double = 0.5, seed: UInt64) -> LabeledSet<S> {
        var generator = SeededGenerator(seed: seed)
        let outer = count / 2, inner = count - outer
        var points: [(Double, Double, Int)] = []
        for i in 0..<outer {
            let t = 2 * Double.pi * Double(i) / Double(outer)
            points.append((cos(t), sin(t), 0))
        }
        for i in 0..<inner {
            let t = 2 * Double.pi * Double(i) / Double(inner)
            points.append((factor * cos(t), factor * sin(t), 1))
        }
        return shuffled(points, noise: noise, generator: &generator)
    }

    /// The planar "flower" of the tutorials: `petals` petals r = 4·sin(petals·t) with angular
    /// and radial noise 0.2; alternate petals belong to the two classes.
    public static func flower<S: TensorScalar>(count: Int, petals: Double = 4, seed: UInt64) -> LabeledSet<S> {
        var generator = SeededGenerator(seed: seed)
        let perClass = count / 2
        var points: [(Double, Double, Int)] = []
        for label in 0..<2 {
            for i in 0..<perClass {
                let base = Double(label) * 3.12 + 3.12 * Double(i) / Double(max(perClass - 1, 1))
                let t = base + generator.nextNormal() * 0.2
                let r = 4 * sin(petals * t) + generator.nextNormal() * 0.2
                points.append((r * sin(t), r * cos(t), label))
            }
        }
        return shuffled(points, noise: 0, generator: &generator)
    }

    static func shuffled<S: TensorScalar>(
        _ points: [(Double, Double, Int)], noise: Double, generator: inout SeededGenerator
    ) -> LabeledSet<S> {
        var points = points
        Shuffle.shuffle(&points, using: &generator)
        var features: [S] = []
        features.reserveCapacity(points.count * 2)
        for (x, y, _) in points {
            features.append(S(x + noise * generator.nextNormal()))
            features.append(S(y + noise * generator.nextNormal()))
        }
        return LabeledSet(features: Tensor(shape: [points.count, 2], scalars: features), labels: points.map(\.2), classes: 2)
    }
}
