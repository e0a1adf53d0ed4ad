import CicadaCore
import Foundation
import Synchronization

/// Several runs of one scenario at the same time, one per variant of a `compare:` block, each
/// on its own thread with its own workers, aggregator and controls.
///
/// Every run has the same plan but for its target, so each variant gets the same arrival
/// schedule and the same request sequence (both come from the scenario's seed, not from
/// timing). Load changes from the dashboard are applied to every run's ``RunControl`` so the
/// variants keep seeing the same load; batching changes go to one variant's engine only.
public final class CompareRun: @unchecked Sendable {
    /// One variant's run.
    public struct Lane: Sendable {
        public var name: String
        public var run: LoadRun
        public init(name: String, run: LoadRun) { self.name = name; self.run = run }
    }

    public let lanes: [Lane]

    public init(lanes: [Lane]) { self.lanes = lanes }

    /// Runs every lane to its end (or until `shouldStop`); blocking. A lane that cannot run
    /// (e.g. curl cannot initialise) stops the others, and its error is thrown.
    public func run(shouldStop: @escaping @Sendable () -> Bool = { false }) throws -> [RunResult] {
        final class Shared: Sendable {
            let results = Mutex<[Int: Result<RunResult, any Error>]>([:])
            let failed = Atomic<Bool>(false)
        }
        let shared = Shared()
        let group = DispatchGroup()
        for (i, lane) in lanes.enumerated() {
            group.enter()
            let t = Thread {
                let r = Result { try lane.run.run(shouldStop: { shouldStop() || shared.failed.load(ordering: .relaxed) }) }
                if case .failure = r { shared.failed.store(true, ordering: .relaxed) }
                shared.results.withLock { $0[i] = r }
                group.leave()
            }
            t.name = "cicada-compare-\(i)"
            t.start()
        }
        group.wait()
        let all = shared.results.withLock { $0 }
        return try lanes.indices.map { try all[$0]!.get() }
    }
}
