import Autodiff
import Foundation

/// The MNIST digits (or any set in the same four IDX files, such as Fashion-MNIST): 28×28
/// grey images flattened to 784 features scaled to [0, 1], with labels 0-9.
public struct MNIST<Scalar: TensorScalar>: Sendable {
    /// 60,000 training samples in MNIST itself.
    public let training: LabeledSet<Scalar>
    /// 10,000 test samples in MNIST itself.
    public let test: LabeledSet<Scalar>

    /// The four standard file names, looked up in the data folder.
    public static var fileNames: [String] {
        ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    }

    /// Loads the four files from `directory`, each as `NAME.gz` or `NAME`.
    @inlinable
    public init(directory: String) throws(DatasetError) {
        let names = Self.fileNames
        let (trainingImages, testImages) = (try Self.path(names[0], in: directory), try Self.path(names[2], in: directory))
        training = try Self.load(images: trainingImages, labels: try Self.path(names[1], in: directory))
        test = try Self.load(images: testImages, labels: try Self.path(names[3], in: directory))
        guard training.features.shape[1] == test.features.shape[1] else {
            throw .mismatch(reason: "\(trainingImages) holds images of \(training.features.shape[1]) pixels but \(testImages) of \(test.features.shape[1])")
        }
    }

    /// `directory/NAME.gz`, or `directory/NAME` uncompressed, whichever exists.
    @inlinable
    static func path(_ name: String, in directory: String) throws(DatasetError) -> String {
        for candidate in ["\(directory)/\(name).gz", "\(directory)/\(name)"] where FileManager.default.fileExists(atPath: candidate) {
            return candidate
        }
        throw .unreadable(path: "\(directory)/\(name).gz", reason: "no such file (nor \(name) uncompressed)")
    }

    /// The number of training samples in `directory`, from the training labels alone (a small
    /// file), so that flags can be checked against it before the images are read.
    public static func trainingCount(directory: String) throws(DatasetError) -> Int {
        let labelPath = try path(fileNames[1], in: directory)
        let labels = try IDXFile(contentsOf: labelPath)
        guard labels.dimensions.count == 1 else {
            throw .badHeader(path: labelPath, reason: "labels have rank \(labels.dimensions.count), expected 1")
        }
        return labels.dimensions[0]
    }

    /// The number of pixels of each image (rows × columns; 784 for MNIST).
    @inlinable public var imageSize: Int { training.features.shape[1] }

    /// Reads one image file and its label file and checks that they belong together. The
    /// images are decoded straight into their features (x / 255), so loading holds no more
    /// than the features and the labels.
    @inlinable
    public static func load(images imagePath: String, labels labelPath: String) throws(DatasetError) -> LabeledSet<Scalar> {
        let labels = try IDXFile(contentsOf: labelPath)
        guard labels.dimensions.count == 1 else {
            throw .badHeader(path: labelPath, reason: "labels have rank \(labels.dimensions.count), expected 1")
        }
        for (index, label) in labels.bytes.enumerated() where label > 9 {
            throw .labelOutOfRange(path: labelPath, index: index, label: Int(label), classes: 10)
        }
        let features: Tensor<Scalar> = try IDXFile.features(contentsOf: imagePath) { dimensions throws(DatasetError) in
            guard dimensions.count == 3 else {
                throw .badHeader(path: imagePath, reason: "images have rank \(dimensions.count), expected 3 (count, rows, columns)")
            }
            guard dimensions[0] > 0 else { throw .badHeader(path: imagePath, reason: "the file holds no images") }
            guard dimensions[1] > 0, dimensions[2] > 0 else {
                throw .badHeader(path: imagePath, reason: "images of \(dimensions[1])×\(dimensions[2]) pixels hold nothing")
            }
            guard dimensions[0] == labels.dimensions[0] else {
                throw .mismatch(reason: "\(imagePath) holds \(dimensions[0]) images but \(labelPath) holds \(labels.dimensions[0]) labels")
            }
        }
        return LabeledSet(features: features, labels: labels.bytes.map(Int.init), classes: 10)
    }
}

/// Grey bytes to features.
public enum PixelScaling {
    /// Bytes 0...255 as scalars in [0, 1] (x / 255).
    @inlinable
    public static func unitInterval<S: TensorScalar>(_ bytes: [UInt8], shape: [Int]) -> Tensor<S> {
        Tensor<S>(shape: shape) { out in
            bytes.withUnsafeBufferPointer { source in
                let scale = 1 / S(255)
                for i in 0..<source.count { out[i] = S(source[i]) * scale }
            }
        }
    }
}
