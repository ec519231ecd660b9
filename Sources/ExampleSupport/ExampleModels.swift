/// Models the examples share (example-mnist and example-mnist-distributed in `Distributed/`).
public enum ExampleModels {
    /// The CNN of `--model cnn`: two 5×5 convolutions with max-pooling, a dense layer with dropout.
    public static let mnistCNN = "reshape 1×28×28; conv2d 1→16 5×5 padding 2,2; relu; maxpool 2×2; "
        + "conv2d 16→32 5×5 padding 2,2; relu; maxpool 2×2; flatten; dense 1568→128; relu; dropout 0.25; dense 128→10"
}
