import NeuralNetworks

/// Models and settings the examples share (example-mnist and example-mnist-distributed in `Distributed/`).
public enum ExampleModels {
    /// The CNN of `--model cnn`: two 5×5 convolutions with max-pooling, a dense layer with dropout.
    public static let mnistCNN = "reshape 1×28×28; conv2d 1→16 5×5 padding 2,2; relu; maxpool 2×2; "
        + "conv2d 16→32 5×5 padding 2,2; relu; maxpool 2×2; flatten; dense 1568→128; relu; dropout 0.25; dense 128→10"

    /// The learning rate an example uses when `--lr` is not given: 0.1 for SGD and momentum,
    /// 0.01 for AdaGrad, 0.001 for RMSprop and Adam (0.002 for Adam on a convolutional model).
    public static func defaultLearningRate(_ optimizer: OptimizerKind, convolutional: Bool) -> Double {
        switch optimizer {
        case .sgd, .momentum: 0.1
        case .adaGrad: 0.01
        case .rmsProp: 0.001
        case .adam: convolutional ? 0.002 : 0.001
        }
    }
}
