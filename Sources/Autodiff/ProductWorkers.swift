import Foundation
import Synchronization

/// Helper threads for splitting one matrix product: the caller and the helpers take its parts
/// in turn from a shared counter, so a thread that starts late (waking up) or runs slower (its
/// operands in the other core's cache) takes fewer parts instead of holding everyone up. After a job a helper spins for a short while before it sleeps, so products that come
/// back to back (the GEMMs of one training step) do not each wait for a thread to wake, which
/// costs more than a mid-sized product here. One split runs at a time; a caller that finds the
/// helpers busy runs its parts through Dispatch instead.
final class ProductWorkers: @unchecked Sendable {
    /// The helpers of the process, one per core beyond the first.
    static let shared = ProductWorkers(helpers: max(0, ComputeSettings.defaultThreads - 1))

    private final class Helper: @unchecked Sendable {
        // 0 idle, 1 job posted, 2 job done.
        let state = Atomic<Int>(0)
        let condition = NSCondition()
        var sleeping = false
        nonisolated(unsafe) var job: ((Int) -> Void)?
    }

    private let helpers: [Helper]
    private let busy = Atomic<Bool>(false)
    // The next part to take in the running split.
    private let next = Atomic<Int>(0)

    private init(helpers count: Int) {
        helpers = (0..<count).map { _ in Helper() }
        for helper in helpers {
            let thread = Thread { ProductWorkers.serve(helper) }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    private static func serve(_ helper: Helper) {
        while true {
            var spins = 0
            // ~50 µs of polling before sleeping.
            while helper.state.load(ordering: .acquiring) != 1 && spins < 20_000 { spins += 1 }
            if helper.state.load(ordering: .acquiring) != 1 {
                helper.condition.lock()
                helper.sleeping = true
                while helper.state.load(ordering: .acquiring) != 1 { helper.condition.wait() }
                helper.sleeping = false
                helper.condition.unlock()
            }
            helper.job?(0)
            helper.job = nil
            helper.state.store(2, ordering: .releasing)
        }
    }

    /// Runs `body(part)` for every part in 0..<parts, on the calling thread and up to
    /// `threads - 1` helpers, each taking the next part not yet taken; returns when all are
    /// done. Returns false without running anything when the helpers are in use, so the caller
    /// can split another way.
    func run(parts: Int, threads: Int, _ body: (Int) -> Void) -> Bool {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            return false
        }
        defer { busy.store(false, ordering: .releasing) }
        let helping = min(helpers.count, threads - 1, parts - 1)
        next.store(0, ordering: .relaxed)
        withoutActuallyEscaping(body) { body in
            let take: (Int) -> Void = { _ in
                while true {
                    let part = self.next.wrappingAdd(1, ordering: .relaxed).oldValue
                    if part >= parts { return }
                    body(part)
                }
            }
            withoutActuallyEscaping(take) { take in
                for helper in helpers.prefix(max(helping, 0)) {
                    helper.job = take
                    helper.state.store(1, ordering: .releasing)
                    // Taking the lock after posting means a helper about to sleep sees the job.
                    helper.condition.lock()
                    if helper.sleeping { helper.condition.signal() }
                    helper.condition.unlock()
                }
                take(0)
                for helper in helpers.prefix(max(helping, 0)) {
                    while helper.state.load(ordering: .acquiring) != 2 {}
                    helper.state.store(0, ordering: .relaxed)
                }
            }
        }
        return true
    }
}
