import Autodiff
import ExampleSupport
import Foundation

/// Lennard-Jones energy and forces of N particles (ε = σ = 1) on the tape: the energy as a plain
/// broadcasting expression (pairwise differences, a mask for the diagonal, squared distances,
/// integer powers r⁻⁶ and r⁻¹², a sum) and the forces as minus its gradient; beside it, in the same run, a
/// hand-written loop over all pairs, whose forces the tape's must match, and the energy as a
/// ``CompiledFunction`` replayed on the positions (fused: within the same tolerance of the loop).
func forcesBenchmark(_ options: CommandLineOptions) {
    let sizes: [Int] = options.list("sizes", "64,512", of: "particle counts") { $0 >= 2 && $0 <= 4096 }
    let runs = options.int("runs", 21, in: 1...10_000)
    for n in sizes {
        forces(Double.self, "Double", n: n, runs: runs, tolerance: 1e-10)
        forces(Float.self, "Float", n: n, runs: runs, tolerance: 1e-3)
    }
}

/// Particles on a jittered cubic lattice of spacing 1.2 (no two closer than ~0.9).
func latticePositions(_ n: Int) -> [Double] {
    var generator = SeededGenerator(seed: 7)
    let side = Int((Double(n)).squareRoot().squareRoot().rounded(.up)) + 1
    var positions: [Double] = []
    var cell = 0
    while positions.count < 3 * n {
        let (i, j, k) = (cell % side, (cell / side) % side, cell / (side * side))
        for c in [i, j, k] { positions.append(1.2 * Double(c) + 0.1 * (generator.nextUnit() - 0.5)) }
        cell += 1
    }
    return positions
}

extension SeededGenerator {
    mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

func forces<S: TensorScalar>(_: S.Type, _ name: String, n: Int, runs: Int, tolerance: Double) {
    let positions = latticePositions(n).map { S($0) }
    let tape = Tape<S>()
    let x = tape.parameter(Tensor(shape: [n, 3], scalars: positions))
    let eye = Tensor<S>.identity(n)
    let diagonal = tape.persistentConstant(eye)
    let offDiagonal = tape.persistentConstant(1 - eye)

    /// The energy: one expression for the reused tape, the compiled function and the functional API.
    func energy(_ x: Variable<S>, diagonal: Variable<S>, offDiagonal: Variable<S>) -> Variable<S> {
        let difference = x.reshaped(to: [n, 1, 3]) - x.reshaped(to: [1, n, 3])
        let squared = (difference * difference).sum(alongAxis: -1) + diagonal
        let inverse6 = pow(squared, -3)
        // 4ε Σ_{i<j}: every pair appears twice in the full matrix.
        return ((inverse6.squared() - inverse6) * offDiagonal).sum() * 2
    }
    func energy(_ x: Variable<S>) -> Variable<S> {
        energy(x, diagonal: x.tape.constant(eye), offDiagonal: x.tape.constant(1 - eye))
    }

    func tapeForces() -> (S, [S]) {
        tape.reset()
        let e = energy(x, diagonal: diagonal, offDiagonal: offDiagonal)
        tape.backward(e)
        return (e.scalar, tape.withGradient(of: x) { $0.map { -$0 } })
    }

    // The same energy compiled: recorded once, then replayed on the positions each call.
    let compiled = CompiledFunction(at: Tensor(shape: [n, 3], scalars: positions), energy)
    // The functional API: a new tape per call (on warm arenas kept from the last call).
    let start = Tensor(shape: [n, 3], scalars: positions)
    func functionalForces() -> S { valueWithGradient(at: start, of: energy).value }
    var compiledGradient = [S](repeating: 0, count: 3 * n)
    func compiledForces() -> S {
        positions.withUnsafeBufferPointer { p in
            compiledGradient.withUnsafeMutableBufferPointer { compiled.valueWithGradient(at: p, into: $0) }
        }
    }

    var handForces = [S](repeating: 0, count: 3 * n)
    func loopForces() -> S {
        var energy: S = 0
        for i in 0..<(3 * n) { handForces[i] = 0 }
        positions.withUnsafeBufferPointer { p in
            handForces.withUnsafeMutableBufferPointer { f in
                for i in 0..<n {
                    for j in (i + 1)..<n {
                        let (dx, dy, dz) = (p[3 * i] - p[3 * j], p[3 * i + 1] - p[3 * j + 1], p[3 * i + 2] - p[3 * j + 2])
                        let inverse2 = 1 / (dx * dx + dy * dy + dz * dz)
                        let inverse6 = inverse2 * inverse2 * inverse2
                        energy += 4 * (inverse6 * inverse6 - inverse6)
                        let scale = 24 * (2 * inverse6 * inverse6 - inverse6) * inverse2
                        f[3 * i] += scale * dx; f[3 * i + 1] += scale * dy; f[3 * i + 2] += scale * dz
                        f[3 * j] -= scale * dx; f[3 * j + 1] -= scale * dy; f[3 * j + 2] -= scale * dz
                    }
                }
            }
        }
        return energy
    }

    let (energy, onTape) = tapeForces()
    let loopEnergy = loopForces()
    let largest = handForces.map { Double(Swift.abs($0)) }.max() ?? 1
    let worst = zip(onTape, handForces).map { Double(Swift.abs($0 - $1)) }.max() ?? 0
    let energyError = Double(Swift.abs(energy - loopEnergy)) / Swift.max(1, Double(Swift.abs(loopEnergy)))
    guard worst / largest < tolerance && energyError < tolerance else {
        fail("forces N=\(n) \(name): the tape and the loop disagree (force error \(worst / largest), energy error \(energyError))")
    }
    let compiledEnergy = compiledForces()
    let compiledWorst = zip(compiledGradient, handForces).map { Double(Swift.abs(-$0 - $1)) }.max() ?? 0
    let compiledEnergyError = Double(Swift.abs(compiledEnergy - loopEnergy)) / Swift.max(1, Double(Swift.abs(loopEnergy)))
    guard compiledWorst / largest < tolerance && compiledEnergyError < tolerance else {
        fail("forces N=\(n) \(name): the compiled function and the loop disagree (force error \(compiledWorst / largest), energy error \(compiledEnergyError))")
    }
    // Enough evaluations per sample for ~20 ms.
    let once = seconds { _ = tapeForces() }
    let repeats = Swift.max(1, Int(0.02 / Swift.max(once, 1e-7)))
    var tapeSample = Sample(), loopSample = Sample(), compiledSample = Sample(), ratios = Sample(), compiledRatios = Sample()
    var functionalRatios = Sample()
    var sink: S = 0
    for _ in 0..<runs {
        let t = seconds { for _ in 0..<repeats { sink += tapeForces().0 } } / Double(repeats) * 1e6
        let l = seconds { for _ in 0..<repeats { sink += loopForces() } } / Double(repeats) * 1e6
        let c = seconds { for _ in 0..<repeats { sink += compiledForces() } } / Double(repeats) * 1e6
        let f = seconds { for _ in 0..<repeats { sink += functionalForces() } } / Double(repeats) * 1e6
        functionalRatios.add(f / t)
        tapeSample.add(t)
        loopSample.add(l)
        compiledSample.add(c)
        ratios.add(t / l)
        compiledRatios.add(c / l)
    }
    if sink.isNaN { fail("forces: NaN energy") }
    print(tapeSample.line("forces N=\(n) \(name) tape", unit: "µs"))
    print(loopSample.line("forces N=\(n) \(name) loop", unit: "µs"))
    print(compiledSample.line("forces N=\(n) \(name) compiled", unit: "µs"))
    print(ratios.line("forces N=\(n) \(name) tape/loop", unit: "×", digits: 2))
    print(compiledRatios.line("forces N=\(n) \(name) compiled/loop", unit: "×", digits: 2))
    print(functionalRatios.line("forces N=\(n) \(name) functional/tape", unit: "×", digits: 2))
}
