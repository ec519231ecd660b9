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
    /// Replaces `buffer` in every process by the element-wise sum over all processes, added in
    /// rank order `((b₀ + b₁) + b₂) + …`: every process gets the same bits, run after run.
    /// Every process calls it with the same count. Failures end the job with a message.
    func sumInRankOrder(_ buffer: UnsafeMutableBufferPointer<Scalar>)
}
