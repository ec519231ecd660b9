// Relaxes a Lennard-Jones cluster (ε = σ = 1) with FIRE: the energy is a plain broadcasting
// expression, recorded once as a CompiledFunction and replayed at every step for the forces
// (minus its gradient); prints the energy as it falls, draws the energy curve and the cluster
// before and after, and times the compiled replay against a fresh tape on the same positions.
import Autodiff
import ExampleSupport
import Foundation
import Plotting

let program = "example-molecules"
let options: CommandLineOptions = {
    var options = CommandLineOptions(
        program: program,
        summary: "Relax a Lennard-Jones cluster with FIRE, forces from a compiled (record once, replay) energy.")
    options.option("atoms", "N", "atoms, 2-2000 (default 256)")
    options.option("steps", "N", "most FIRE steps (default 3000)")
    options.option("tolerance", "F", "stop when the largest force is below this (default 1e-4)")
    options.option("seed", "N", "seed of the lattice's jitter (default 1)")
    options.option("out", "DIR", "where the pictures go (default example-molecules-output)")
    options.parse()
    return options
}()
let atoms = options.int("atoms", 256, in: 2...2000)
let maxSteps = options.int("steps", 3000, in: 1...10_000_000)
let tolerance = options.double("tolerance", 1e-4, in: 1e-12...1)
let seed = options.seed(1)
var pictures = PictureFolder(options.string("out", "example-molecules-output"), program: program)

/// Atoms on a simple cubic lattice of spacing 1.15 (near the pair minimum 2^(1/6) ≈ 1.12),
/// filled in order of distance from the centre, each jittered by up to ±0.05.
func startingPositions(atoms: Int, seed: UInt64) -> [Double] {
    var generator = SeededGenerator(seed: seed)
    let side = Int(Double(atoms).squareRoot().squareRoot().rounded(.up)) + 3
    var sites: [(Double, [Double])] = []
    for i in 0..<side { for j in 0..<side { for k in 0..<side {
        let p = [i, j, k].map { 1.15 * (Double($0) - Double(side - 1) / 2) }
        sites.append((p.reduce(0) { $0 + $1 * $1 }, p))
    } } }
    sites.sort { $0.0 < $1.0 }
    return sites.prefix(atoms).flatMap { site in
        site.1.map { $0 + 0.1 * (Double(generator.next() >> 11) / Double(1 << 53) - 0.5) }
    }
}

/// 4 Σ_{i<j} (r⁻¹² - r⁻⁶) over all pairs, as broadcasting ops on the [N, 3] positions.
func energy(_ x: Variable<Double>) -> Variable<Double> {
    let atoms = x.shape[0]
    let eye = Tensor<Double>.identity(atoms)
    let difference = x.reshaped(to: [atoms, 1, 3]) - x.reshaped(to: [1, atoms, 3])
    let squared = (difference * difference).sum(alongAxis: -1) + eye
    let inverse6 = pow(squared, -3)
    // Every pair appears twice in the full matrix: 4ε Σ_{i<j} = 2 Σ_{i≠j}.
    return ((inverse6.squared() - inverse6) * (1 - eye)).sum() * 2
}

var x = startingPositions(atoms: atoms, seed: seed)
let start = x
let compiled = CompiledFunction(at: Tensor(shape: [atoms, 3], scalars: x), energy)
var gradient = [Double](repeating: 0, count: 3 * atoms)
let evaluate = { (point: [Double]) -> Double in
    point.withUnsafeBufferPointer { p in gradient.withUnsafeMutableBufferPointer { compiled.valueWithGradient(at: p, into: $0) } }
}

// FIRE (Bitzek et al., 2006): velocity Verlet with the velocity turned towards the force while
// the power F·v stays positive, and stopped (with a smaller step) when it turns negative.
var velocity = [Double](repeating: 0, count: 3 * atoms)
var (dt, alpha, positiveSteps) = (0.005, 0.1, 0)
let (dtMax, alphaStart, nMin, fIncrease, fDecrease, fAlpha) = (0.02, 0.1, 5, 1.1, 0.5, 0.99)
/// The most an atom's coordinate moves in one step: a close pair's r⁻¹³ force would otherwise
/// throw atoms out of the cluster.
let maxMove = 0.05
var e = evaluate(x)
var history: [(step: Int, energy: Double)] = [(0, e / Double(atoms))]
let started = Date()
var step = 0
var largestForce = gradient.map(abs).max() ?? 0
print("step      0  energy per atom \(String(format: "%.6f", e / Double(atoms)))  largest force \(String(format: "%.3e", largestForce))")
while step < maxSteps && largestForce > tolerance {
    step += 1
    // Half kick, drift, forces, half kick (unit masses; the force is -∇E).
    for i in 0..<(3 * atoms) { velocity[i] -= 0.5 * dt * gradient[i] }
    for i in 0..<(3 * atoms) { x[i] += max(-maxMove, min(maxMove, dt * velocity[i])) }
    e = evaluate(x)
    for i in 0..<(3 * atoms) { velocity[i] -= 0.5 * dt * gradient[i] }
    let power = zip(gradient, velocity).reduce(0.0) { $0 - $1.0 * $1.1 }
    let (vNorm, fNorm) = (velocity.reduce(0) { $0 + $1 * $1 }.squareRoot(), gradient.reduce(0) { $0 + $1 * $1 }.squareRoot())
    if power > 0 {
        for i in 0..<(3 * atoms) { velocity[i] = (1 - alpha) * velocity[i] - alpha * gradient[i] / max(fNorm, 1e-300) * vNorm }
        positiveSteps += 1
        if positiveSteps > nMin { (dt, alpha) = (min(dt * fIncrease, dtMax), alpha * fAlpha) }
    } else {
        for i in 0..<(3 * atoms) { velocity[i] = 0 }
        (dt, alpha, positiveSteps) = (dt * fDecrease, alphaStart, 0)
    }
    largestForce = gradient.map(abs).max() ?? 0
    history.append((step, e / Double(atoms)))
    if step % 250 == 0 || largestForce <= tolerance || step == maxSteps {
        print("step \(String(format: "%6d", step))  energy per atom \(String(format: "%.6f", e / Double(atoms)))  largest force \(String(format: "%.3e", largestForce))")
    }
}
let seconds = Date().timeIntervalSince(started)
guard e.isFinite else { exitWithError(program, "the energy became \(e): the step was too large for these positions") }
print(largestForce <= tolerance
      ? "relaxed in \(step) steps (\(String(format: "%.2f", seconds)) s): largest force \(String(format: "%.1e", largestForce)) ≤ \(tolerance)"
      : "stopped after \(step) steps (\(String(format: "%.2f", seconds)) s): largest force \(String(format: "%.1e", largestForce)) > \(tolerance)")

// What the recording bought: the same forces from a fresh tape each call, alternated.
var ratios: [Double] = []
var sink = 0.0
for _ in 0..<5 {
    let t0 = Date()
    for _ in 0..<5 { sink += valueWithGradient(at: Tensor(shape: [atoms, 3], scalars: x), of: energy).value }
    let fresh = Date().timeIntervalSince(t0)
    let t1 = Date()
    for _ in 0..<5 { sink += evaluate(x) }
    ratios.append(fresh / max(Date().timeIntervalSince(t1), 1e-9))
}
ratios.sort()
print("forces from a fresh tape take \(String(format: "%.2f", ratios[2]))× the compiled replay (median of 5 alternated rounds of 5 calls, \(String(format: "%.2f", ratios[0]))-\(String(format: "%.2f", ratios[4]))); \(compiled.recordings) recording, \(compiled.replays) replays")
if sink.isNaN { exitWithError(program, "NaN energy") }

let curve = LineChart(title: "\(atoms) Lennard-Jones atoms relaxed by FIRE", xLabel: "step", yLabel: "energy per atom (ε)",
                      series: [Series("energy per atom", x: history.map { Double($0.step) }, y: history.map(\.energy))])
pictures.write(curve.render(), as: "energy.svg", caption: "energy per atom at each FIRE step")
func panel(_ caption: String, _ p: [Double]) -> ScatterPlot.Panel {
    ScatterPlot.Panel(caption, points: (0..<(p.count / 3)).map { (x: p[3 * $0], y: p[3 * $0 + 1], shade: p[3 * $0 + 2]) })
}
let structure = ScatterPlot(title: "the cluster seen along z (darker: larger z)", panels: [panel("start (jittered lattice)", start), panel("relaxed", x)],
                            radius: 0.5)
pictures.write(structure.render(), as: "structure.svg", caption: "the atoms before and after, projected on the x-y plane")
pictures.writeIndex(title: program)
