import Foundation

/// Which part of a run this process generates: shard `index` of `count` (`--shard I/N`).
///
/// The contract that makes N processes on N machines send exactly what one process would: every
/// shard walks the same seeded global schedule and keeps its own stripe of it. Open model:
/// arrival `k` belongs to shard `k % count`; closed model: global user `i` belongs to shard
/// `i % count` (k6's striping), so the users running on all shards together at any moment are
/// the single-machine ramp's, with the same ids and so the same random streams and weights.
/// Inside a shard the workers split its stripe the same way, which composes into one global
/// grid of `count × workers` slots (``slot(worker:workerCount:)``).
public struct ShardSpec: Sendable, Hashable, Codable, CustomStringConvertible {
    /// This shard's number, `0..<count`.
    public let index: Int
    /// How many shards share the run.
    public let count: Int

    /// The whole run on one process.
    public static let single = ShardSpec(uncheckedIndex: 0, count: 1)

    /// Shard `index` of `count`; nil unless `0 <= index < count`.
    public init?(index: Int, count: Int) {
        guard count >= 1, index >= 0, index < count else { return nil }
        self.index = index; self.count = count
    }

    private init(uncheckedIndex: Int, count: Int) { self.index = uncheckedIndex; self.count = count }

    /// Whether this spec is the whole run.
    public var isSingle: Bool { count == 1 }

    /// `I/N`, as `--shard` takes it.
    public var description: String { "\(index)/\(count)" }

    /// This shard's part of `total` striped users (or slots): users `i % count == index`. The
    /// parts of all shards add up to `total` at every value, so a ramp's target is split exactly.
    public func share(of total: Int) -> Int {
        RunControl.share(of: total, worker: index, workerCount: count)
    }

    /// Worker `worker` of `workerCount` inside this shard as a slot of the run-wide grid of
    /// `count × workerCount` workers: slot `index + count × worker`. Taking arrivals
    /// `k % gridCount == slot` is taking this shard's arrivals (`k % count == index`) and, of
    /// those, the worker's (`(k / count) % workerCount == worker`); a user id
    /// `slot + gridCount × j` is global user `index + count × (worker + workerCount × j)`.
    public func slot(worker: Int, workerCount: Int) -> (index: Int, count: Int) {
        (index + count * worker, count * workerCount)
    }

    /// Whether arrival `k` of the global schedule is this shard's.
    public func owns(arrival k: UInt64) -> Bool { k % UInt64(count) == UInt64(index) }
}

/// Finds the shard a process runs: `--shard I/N` first, else the environment of the engine that
/// started it (Kubernetes Indexed Job, Slurm, Open MPI), else the whole run.
///
/// Pure: the environment comes in as a dictionary, so every case is tested without a cluster.
public enum ShardResolver {
    /// A `--shard` value or shard environment that cannot be used; the message names the flag or
    /// variables and the value (a usage error: exit 2).
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// The environment pairs read, in order of precedence: (index variable, count variable).
    public static let environmentPairs: [(index: String, count: String)] = [
        ("JOB_COMPLETION_INDEX", "CICADA_SHARDS"),
        ("SLURM_PROCID", "SLURM_NTASKS"),
        ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"),
    ]

    /// The shard to run, from `flag` (the text of `--shard`, nil when absent) or `environment`.
    public static func resolve(flag: String?, environment: [String: String]) throws(Problem) -> ShardSpec {
        if let flag { return try parse(flag) }
        for (indexName, countName) in environmentPairs {
            let indexText = environment[indexName], countText = environment[countName]
            if indexText == nil && countText == nil { continue }
            guard let indexText else {
                throw Problem(message: "error: \(countName) is set (\(countText!)) but \(indexName) is not: cannot tell which shard this is")
            }
            guard let countText else {
                throw Problem(message: "error: \(indexName) is set (\(indexText)) but \(countName) is not: set \(countName) to the number of shards")
            }
            guard let i = Int(indexText.trimmingCharacters(in: .whitespaces)) else {
                throw Problem(message: "error: \(indexName)='\(indexText)' is not a whole number")
            }
            guard let n = Int(countText.trimmingCharacters(in: .whitespaces)), n >= 1 else {
                throw Problem(message: "error: \(countName)='\(countText)' is not a shard count (a whole number >= 1)")
            }
            guard n <= ShardArtifact.maxShardCount else {
                throw Problem(message: "error: \(countName)=\(n): at most \(ShardArtifact.maxShardCount) shards (cicada merge reads no more)")
            }
            guard let spec = ShardSpec(index: i, count: n) else {
                throw Problem(message: "error: \(indexName)=\(i) is not a shard of \(countName)=\(n) (0 <= index < count)")
            }
            return spec
        }
        return .single
    }

    /// Parses `I/N` (`--shard`).
    public static func parse(_ text: String) throws(Problem) -> ShardSpec {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
            throw Problem(message: "error: --shard '\(text)' is not I/N (e.g. 0/4: the first of four shards)")
        }
        guard n >= 1 else { throw Problem(message: "error: --shard '\(text)': the shard count must be at least 1") }
        guard n <= ShardArtifact.maxShardCount else {
            throw Problem(message: "error: --shard '\(text)': at most \(ShardArtifact.maxShardCount) shards (cicada merge reads no more)")
        }
        guard let spec = ShardSpec(index: i, count: n) else {
            throw Problem(message: "error: --shard '\(text)': the index must satisfy 0 <= I < N (shards of \(n) are 0...\(n - 1))")
        }
        return spec
    }
}
