import Autodiff

/// The processes of a data-parallel job as a trainer sees them: each holds a replica of the
/// model, trains on its share of every batch, and takes the same update from the gradients
/// summed over all of them.
///
/// The Distributed package's MPI communicator is one; a test may provide another.
public protocol ReplicaGroup<Scalar>: AnyObject {
    /// The scalar type of the gradients summed.
    associatedtype Scalar: TensorScalar
    /// This process's number, `0..<count`.
    var rank: Int { get }
    /// The number of processes.
    var count: Int { get }
    /// Where this process writes its part of the next ``sumAddends(count:)``: `count` elements
    /// (memory the processes share, when they can). Every process asks for the same count.
    func addend(count: Int) -> UnsafeMutableBufferPointer<Scalar>
    /// The element-wise sum over all processes of what each wrote into its ``addend(count:)``,
    /// added in rank order `((b₀ + b₁) + b₂) + …`: every process gets the same bits, run after
    /// run. Valid until the sum after next. Failures end the job with a message.
    func sumAddends(count: Int) -> UnsafeBufferPointer<Scalar>
}
