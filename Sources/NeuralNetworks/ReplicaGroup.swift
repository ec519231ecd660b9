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
    /// Half of ``sumAddends(count:)``: the rank-order sum of every process's addend, of which this
    /// process gets only its share (elements ``share(of:)``), to read and overwrite with its part
    /// of a result that ``gatherShares(count:)`` hands to all (a data-parallel step updates its
    /// share of the parameters there, so that each process runs the optimizer on 1/p of them).
    func sumShare(count: Int) -> UnsafeMutableBufferPointer<Scalar>
    /// Every process's share (written into the buffer ``sumShare(count:)`` returned), in every
    /// process: `count` elements, valid until the sum after next.
    func gatherShares(count: Int) -> UnsafeBufferPointer<Scalar>
}

extension ReplicaGroup {
    /// The elements of a buffer of `count` this process owns in ``sumShare(count:)``.
    @inlinable
    public func share(of count: Int) -> Range<Int> { (rank * count / self.count)..<((rank + 1) * count / self.count) }
}
