import Foundation
import Synchronization

/// Helper threads for splitting one matrix product: each runs one part while the caller runs
/// part 0. After a job a helper spins for a short while before it sleeps, so products that come
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
        nonisolated(unsafe) var part = 0
    }

    private let helpers: [Helper]
    private let busy = Atomic<Bool>(false)

    private init(helpers count: Int) {
        helpers = (0..<count).map { _ in Helper() }
        for helper in helpers {
            let thread = Thread { ProductWorkers.serve(helper) }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// The number of parts a split can have (helpers plus the caller).
    var capacity: Int { helpers.count + 1 }

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
            helper.job?(helper.part)
            helper.job = nil
            helper.state.store(2, ordering: .releasing)
        }
    }

    /// Runs `body(part)` for every part in 0..<parts, part 0 on the calling thread; returns when
    /// all are done. Returns false without running anything when the helpers are in use or too
    /// few, so the caller can split another way.
    func run(parts: Int, _ body: (Int) -> Void) -> Bool {
        guard parts <= capacity, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            return false
        }
        defer { busy.store(false, ordering: .releasing) }
        withoutActuallyEscaping(body) { body in
            for part in 1..<max(parts, 1) {
                let helper = helpers[part - 1]
                helper.job = body
                helper.part = part
                helper.state.store(1, ordering: .releasing)
                // Taking the lock after posting means a helper about to sleep sees the job.
                helper.condition.lock()
                if helper.sleeping { helper.condition.signal() }
                helper.condition.unlock()
            }
            body(0)
            for part in 1..<max(parts, 1) {
                let helper = helpers[part - 1]
                while helper.state.load(ordering: .acquiring) != 2 {}
                helper.state.store(0, ordering: .relaxed)
            }
        }
        return true
    }
}
