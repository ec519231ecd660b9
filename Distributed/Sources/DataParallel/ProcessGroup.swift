import Autodiff
import MessagePassing
import NeuralNetworks

import Foundation

/// The processes of an MPI job as replicas of one model with parameters of type `Scalar`: the
/// ``ReplicaGroup`` a ``ClassifierTrainer`` sums its gradients through, and the calls that keep
/// a user's own parameters identical across processes (``broadcast(_:)``, ``sumGradients(of:)``).
///
/// A failed MPI call inside a training step cannot be thrown from there: it is printed with
/// this process's rank and the whole job is ended (MPI_Abort), so that no process waits forever.
public final class ProcessGroup<Scalar: TensorScalar & MessageElement>: ReplicaGroup, @unchecked Sendable {
    /// The MPI processes.
    public let communicator: Communicator

    /// This process's number, `0..<count`.
    public var rank: Int { communicator.rank }
    /// The number of processes.
    public var count: Int { communicator.size }

    /// The group of all processes of `communicator`.
    public init(_ communicator: Communicator) { self.communicator = communicator }

    /// This process's part of the next sum (``Communicator/addend(count:of:)``).
    public func addend(count: Int) -> UnsafeMutableBufferPointer<Scalar> {
        do { return try communicator.addend(count: count, of: Scalar.self) } catch { stop("\(error)") }
    }

    /// The rank-order sum of every process's addend (``Communicator/sumAddends(count:of:)``).
    public func sumAddends(count: Int) -> UnsafeBufferPointer<Scalar> {
        do { return try communicator.sumAddends(count: count, of: Scalar.self) } catch { stop("\(error)") }
    }

    /// This process's share of the next sum (``Communicator/sumShare(count:of:)``).
    public func sumShare(count: Int) -> UnsafeMutableBufferPointer<Scalar> {
        do { return try communicator.sumShare(count: count, of: Scalar.self) } catch { stop("\(error)") }
    }

    /// Every process's share (``Communicator/gatherShares(count:of:)``).
    public func gatherShares(count: Int) -> UnsafeBufferPointer<Scalar> {
        do { return try communicator.gatherShares(count: count, of: Scalar.self) } catch { stop("\(error)") }
    }

    /// Prints `message` naming this rank, and ends every process of the job.
    public func stop(_ message: String) -> Never {
        FileHandle.standardError.write(Data("rank \(rank) of \(count): \(message)\n".utf8))
        communicator.abort(code: 1)
    }

    /// Copies the values of `parameters` in process 0 to the same parameters of every other
    /// process, so that replicas start identical (as PyTorch DDP and Horovod's
    /// `broadcast_parameters` do).
    public func broadcast(_ parameters: [Variable<Scalar>]) throws(MessagePassingError) {
        for parameter in parameters {
            // The value stays where it is in the tape's arena until the next op is recorded.
            let value = parameter.tape.withMutableValue(of: parameter) { $0 }
            try communicator.broadcast(value, root: 0)
        }
    }

    /// Copies process 0's buffers (``BatchNorm``'s running statistics) to every other process.
    public func broadcast(buffers: [LayerBuffer<Scalar>]) throws(MessagePassingError) {
        for buffer in buffers {
            var scalars = buffer.value.scalars
            try scalars.withUnsafeMutableBufferPointer { b throws(MessagePassingError) in try communicator.broadcast(b, root: 0) }
            buffer.value = Tensor(shape: buffer.value.shape, scalars: scalars)
        }
    }

    /// After `backward`: replaces the gradient of every parameter in every process by the sum of
    /// all processes' gradients, added in rank order (the same bits everywhere), in buckets of
    /// at most `bucketElements` scalars. For a user's own loss on the tape, e.g. a
    /// log-likelihood summed over data shards: the sum of the shards' gradients is the gradient
    /// of the whole sum. Every process passes the same parameters in the same order.
    public func sumGradients(of parameters: [Variable<Scalar>], bucketElements: Int = 1 << 22) throws(MessagePassingError) {
        let bucket = max(1, bucketElements)
        var start = 0
        while start < parameters.count {
            // Whole parameters into one bucket while they fit (a larger one goes alone).
            var end = start, elements = 0
            while end < parameters.count {
                let count = parameters[end].shape.reduce(1, *)
                if end > start && elements + count > bucket { break }
                elements += count
                end += 1
            }
            let buffer = try communicator.addend(count: elements, of: Scalar.self)
            var offset = 0
            for parameter in parameters[start..<end] {
                parameter.tape.withGradient(of: parameter) { g in
                    (buffer.baseAddress! + offset).update(from: g.baseAddress!, count: g.count)
                    offset += g.count
                }
            }
            let sum = try communicator.sumAddends(count: elements, of: Scalar.self)
            offset = 0
            for parameter in parameters[start..<end] {
                parameter.tape.withMutableGradient(of: parameter) { g in
                    g.baseAddress!.update(from: sum.baseAddress! + offset, count: g.count)
                    offset += g.count
                }
            }
            start = end
        }
    }

    /// Stops with an error naming the first rank whose `description` of its settings (model,
    /// data, flags) differs from rank 0's: replicas that would silently train different things
    /// are refused at start. Every process learns of the mismatch and throws.
    public func checkSameSettings(_ description: String) throws(SettingsMismatch) {
        // Each rank's description, hashed to a fixed width so every rank sends the same count.
        var digest = Int64(bitPattern: Self.fingerprint(description))
        var all = [Int64](repeating: 0, count: count)
        do {
            try withUnsafeMutablePointer(to: &digest) { mine throws(MessagePassingError) in
                try all.withUnsafeMutableBufferPointer { all throws(MessagePassingError) in
                    try communicator.gather(UnsafeBufferPointer(start: mine, count: 1), into: all)
                }
            }
        } catch {
            stop("\(error)")
        }
        if let other = all.firstIndex(where: { $0 != all[0] }) {
            throw SettingsMismatch(rank: other, ranks: count, settings: description, thisRank: rank)
        }
    }

    /// FNV-1a of the UTF-8 bytes: the same on every machine (Swift's `Hasher` is seeded per process).
    static func fingerprint(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }
}

/// Processes of one job that were started with different settings.
public struct SettingsMismatch: Error, CustomStringConvertible, Sendable {
    /// The first rank whose settings differ from rank 0's.
    public let rank: Int
    /// The number of processes.
    public let ranks: Int
    /// This process's settings.
    public let settings: String
    /// This process's rank.
    public let thisRank: Int

    /// One line naming the rank that differs, and this process's own settings.
    public var description: String {
        "rank \(rank) of \(ranks) was started with other settings than rank 0 (a different model, data or flags); "
            + "rank \(thisRank) has: \(settings)"
    }
}
