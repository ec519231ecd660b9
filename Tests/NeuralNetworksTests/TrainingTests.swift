import NeuralNetworks
import Testing

@Suite("Optimizers, schedules, initializers, layers")
struct TrainingTests {
    /// One step of `kind` on f(w) = Σ w²/2 (gradient w) from w = [1, -2].
    func oneStep(_ kind: OptimizerKind, lr: Float = 0.1, steps: Int = 1, decay: Double = 0) -> [Float] {
        let tape = Tape<Float>()
        let w = tape.parameter(Tensor([[1, -2]]))
        var optimizer = kind.make(for: [w], weightDecay: decay)
        for _ in 0..<steps {
            tape.reset()
            tape.backward((w * w).sum() * 0.5)
            optimizer.step([w], learningRate: lr)
        }
        return w.value.scalars
    }

    @Test("one step of each rule, worked by hand")
    func firstSteps() {
        #expect(oneStep(.sgd) == [0.9, -1.8])
        #expect(oneStep(.sgd, decay: 1) == [0.8, -1.6], "L2 doubles the gradient with λ = 1")
        // Momentum: v1 = -0.1·g; v2 = 0.9·v1 - 0.1·g(w1) → w2 = w1 + v2.
        let m = oneStep(.momentum(0.9), steps: 2)
        #expect(abs(m[0] - (0.9 + (0.9 * -0.1 - 0.1 * 0.9))) < 1e-6, "got \(m)")
        // AdaGrad and RMSprop's first steps and Adam's are lr·sign(g) (up to ε), whatever |g|.
        let adagrad = oneStep(.adaGrad)
        #expect(abs(adagrad[0] - 0.9) < 1e-5 && abs(adagrad[1] + 1.9) < 1e-5, "got \(adagrad)")
        let adam = oneStep(.adam(beta1: 0.9, beta2: 0.999))
        #expect(abs(adam[0] - 0.9) < 1e-5 && abs(adam[1] + 1.9) < 1e-5, "got \(adam)")
        let rms = oneStep(.rmsProp(decay: 0.99))
        #expect(abs(rms[0] - (1 - 0.1 / 0.1)) < 1e-4, "h = 0.01·g² so the step is lr·g/(0.1·|g|) = 1, got \(rms)")
    }

    @Test("every optimizer drives the quadratic toward zero", arguments: ["sgd", "momentum", "adagrad", "rmsprop", "adam"])
    func converges(name: String) {
        // AdaGrad's steps shrink like 1/√t, so it needs a larger rate to cover the distance.
        let w = oneStep(OptimizerKind(name: name)!, lr: name == "adagrad" ? 0.5 : 0.05, steps: 300)
        #expect(w.allSatisfy { abs($0) < 0.1 }, "\(name) ended at \(w)")
    }

    @Test("schedules: step decay and cosine endpoints")
    func schedules() {
        let step = LearningRateSchedule.stepDecay(initial: 1, factor: 0.9, every: 5000)
        #expect(step.rate(at: 4999) == 1 && abs(step.rate(at: 10_000) - 0.81) < 1e-12)
        let cosine = LearningRateSchedule.cosine(initial: 1, minimum: 0.01, total: 100)
        #expect(cosine.rate(at: 0) == 1 && abs(cosine.rate(at: 50) - 0.505) < 1e-12 && cosine.rate(at: 100) == 0.01 && cosine.rate(at: 500) == 0.01)
    }

    @Test("initializers have the variance they promise", arguments: [Initializer.he, .xavier, .normal(standardDeviation: 0.01)])
    func initializers(_ initializer: Initializer) {
        var generator = SeededGenerator(seed: 4)
        let w: Tensor<Double> = initializer.weights(fanIn: 400, fanOut: 200, using: &generator)
        let variance = w.scalars.map { $0 * $0 }.reduce(0, +) / Double(w.count)
        let expected: Double = switch initializer {
        case .he: 2.0 / 400
        case .xavier: 2.0 / 600
        default: 1e-4
        }
        #expect(abs(variance / expected - 1) < 0.05, "variance \(variance), expected \(expected)")
        #expect(abs(w.mean()) < 0.01 * expected.squareRoot() * 10)
    }

    @Test("an MLP learns XOR; parsing names of activations and optimizers")
    func xor() {
        let tape = Tape<Double>()
        let model = MLP<Double>(sizes: [2, 8, 2], activation: .tanh, initializer: .xavier, on: tape, seed: 3)
        var trainer = ClassifierTrainer(model: model, tape: tape, optimizer: .adam(beta1: 0.9, beta2: 0.999))
        let x: [Double] = [0, 0, 0, 1, 1, 0, 1, 1]
        let y = [0, 1, 1, 0]
        for _ in 0..<500 {
            x.withUnsafeBufferPointer { f in y.withUnsafeBufferPointer { l in _ = trainer.step(features: f, labels: l, learningRate: 0.05) } }
        }
        #expect(trainer.predictions(Tensor(shape: [4, 2], scalars: x)) == y)
        #expect(trainer.evaluate(Tensor(shape: [4, 2], scalars: x), labels: y).loss < 0.05)
        #expect(Activation(name: "leaky-relu:0.2") == .leakyRelu(alpha: 0.2))
        #expect(Activation(name: "swish") == nil && OptimizerKind(name: "lbfgs") == nil && Initializer(name: "normal:x") == nil)
    }
}

@Suite("Data-parallel training")
struct DataParallelTests {
    @Test("three workers take the same steps as one (the gradient is the row-weighted mean)")
    func workersAgree() {
        func train(workers: Int) -> [Tensor<Double>] {
            var trainer = ClassifierTrainer(workers: workers, optimizer: .momentum(0.9)) { tape in
                MLP<Double>(sizes: [5, 7, 3], activation: .tanh, initializer: .xavier, on: tape, seed: 8)
            }
            var generator = SeededGenerator(seed: 2)
            for _ in 0..<5 {
                let x = Tensor<Double>.randomNormal([10, 5], using: &generator)
                let labels = (0..<10).map { _ in generator.nextIndex(below: 3) }
                x.withUnsafeBufferPointer { f in labels.withUnsafeBufferPointer { l in _ = trainer.step(features: f, labels: l, learningRate: 0.1) } }
            }
            return trainer.model.parameters.map(\.value)
        }
        let single = train(workers: 1)
        let parallel = train(workers: 3)
        for (a, b) in zip(single, parallel) {
            #expect(a.maxAbsoluteDifference(b) < 1e-12, "parameters differ by \(a.maxAbsoluteDifference(b))")
        }
    }
}

@Suite("Deterministic training")
struct DeterministicTrainingTests {
    @Test("Float training with its products split across 1, 2 or 3 threads ends with the same weights, bit for bit")
    func sameBitsForAnyThreadCount() {
        // 128 × 600 · 600 × 130 (10M multiply-adds) is split by columns into blocks narrower than the
        // whole, which once changed its depth blocking (k·n above 65536, each block's below).
        func train(threads: Int) -> [[Float]] {
            let tape = Tape<Float>()
            tape.matrixThreads = threads
            let model = MLP<Float>(sizes: [600, 130, 10], activation: .relu, initializer: .he, on: tape, seed: 4)
            var trainer = ClassifierTrainer(model: model, tape: tape, optimizer: .adam(beta1: 0.9, beta2: 0.999))
            var generator = SeededGenerator(seed: 6)
            for _ in 0..<4 {
                let x = Tensor<Float>.randomNormal([128, 600], using: &generator)
                let labels = (0..<128).map { _ in generator.nextIndex(below: 10) }
                x.withUnsafeBufferPointer { f in labels.withUnsafeBufferPointer { l in _ = trainer.step(features: f, labels: l, learningRate: 0.01) } }
            }
            return model.parameters.map(\.value.scalars)
        }
        let one = train(threads: 1)
        for threads in [2, 3] {
            let other = train(threads: threads)
            #expect(other == one, "\(threads) threads: the weights differ from one thread's (largest difference \(zip(one.joined(), other.joined()).map { abs($0 - $1) }.max() ?? 0))")
        }
    }
}

@Suite("The squared-error loss")
struct SquaredErrorLossTests {
    @Test("a step of --loss mse is the gradient of mean((softmax(z) - onehot)²), on one worker and on three")
    func meanSquaredErrorStep() {
        let x = Tensor<Double>(shape: [6, 2], scalars: [0.5, -1, 1, 0.25, -0.5, 2, 1.5, 1, -2, 0.5, 0, 1])
        let labels = [0, 2, 1, 2, 1, 0]
        func trained(workers: Int) -> [Tensor<Double>] {
            var trainer = ClassifierTrainer(workers: workers, optimizer: .sgd) { tape in
                MLP<Double>(sizes: [2, 3], activation: .identity, initializer: .xavier, on: tape, seed: 5)
            }
            trainer.loss = .meanSquaredError
            x.withUnsafeBufferPointer { f in labels.withUnsafeBufferPointer { l in _ = trainer.step(features: f, labels: l, learningRate: 1) } }
            return trainer.model.parameters.map(\.value)
        }
        // The same step by hand: one gradient of the loss written out with ops, then w -= g.
        let tape = Tape<Double>()
        let model = MLP<Double>(sizes: [2, 3], activation: .identity, initializer: .xavier, on: tape, seed: 5)
        let onehot = Tensor<Double>(shape: [6, 3], scalars: labels.flatMap { l in (0..<3).map { $0 == l ? 1 : 0 } })
        tape.backward(meanSquaredError(model(tape.constant(x)).softmax(), tape.constant(onehot)))
        let expected = model.parameters.map { $0.value - $0.gradient }
        for workers in [1, 3] {
            for (got, want) in zip(trained(workers: workers), expected) {
                #expect(got.maxAbsoluteDifference(want) < 1e-12, "\(workers) workers: parameters differ by \(got.maxAbsoluteDifference(want))")
            }
        }
    }
}

@Suite("Optimizer state in checkpoints")
struct OptimizerStateTests {
    @Test("Adam saved after 3 steps and restored takes the steps an uninterrupted Adam takes", arguments: ["adam", "momentum", "rmsprop", "adagrad", "sgd"])
    func resume(_ name: String) throws {
        let kind = try #require(OptimizerKind(name: name))
        let x = Tensor<Double>(shape: [4, 2], scalars: [0.5, -1, 1, 0.25, -0.5, 2, 1.5, 1])
        let labels = [0, 2, 1, 2]
        func trainer() -> ClassifierTrainer<MLP<Double>> {
            let tape = Tape<Double>()
            return ClassifierTrainer(model: MLP<Double>(sizes: [2, 3], activation: .identity, initializer: .xavier, on: tape, seed: 5),
                                     tape: tape, optimizer: kind)
        }
        func step(_ t: inout ClassifierTrainer<MLP<Double>>) {
            x.withUnsafeBufferPointer { f in labels.withUnsafeBufferPointer { l in _ = t.step(features: f, labels: l, learningRate: 0.1) } }
        }
        var straight = trainer()
        for _ in 0..<6 { step(&straight) }
        var first = trainer()
        for _ in 0..<3 { step(&first) }
        let names = first.model.namedParameters.map(\.name)
        let state = first.optimizer.state(names: names, shapes: first.model.parameters.map(\.shape))
        let bytes = Checkpoint.encode(first.model.namedParameters.map { ($0.name, $0.parameter.value) } + state.tensors, metadata: state.metadata)
        let contents: CheckpointContents<Double> = try Checkpoint.decode(bytes, path: "resume")
        var second = trainer()
        try Checkpoint.apply(contents, to: second.model.namedParameters, path: "resume")
        let shapes = first.model.parameters.map(\.shape)
        let restored = try second.optimizer.restore(contents, names: names, shapes: shapes, path: "resume")
        #expect(restored, "the state of \(name) is restored")
        #expect(second.optimizer.stepCount == 3)
        for _ in 0..<3 { step(&second) }
        for (a, b) in zip(straight.model.parameters, second.model.parameters) {
            #expect(a.value == b.value, "\(name): resumed training differs by \(a.value.maxAbsoluteDifference(b.value))")
        }
        var other = trainer()
        if name != "sgd" {
            let otherKind: OptimizerKind = name == "adam" ? .sgd : .adam(beta1: 0.9, beta2: 0.999)
            other = ClassifierTrainer(model: other.model, tape: other.tape, optimizer: otherKind)
            let refused = try !other.optimizer.restore(contents, names: names, shapes: shapes, path: "resume")
            #expect(refused, "another rule's state is not restored")
        }
    }
}
