import Testing
@testable import CicadaCore

@Suite struct ShardSpecTests {
    @Test(arguments: [
        ("0/1", 0, 1), ("0/4", 0, 4), ("3/4", 3, 4), ("63/64", 63, 64),
    ])
    func parsesIOverN(_ text: String, _ i: Int, _ n: Int) throws {
        let s = try ShardResolver.parse(text)
        #expect(s.index == i && s.count == n)
        #expect(s.description == text)
    }

    @Test(arguments: ["4/4", "-1/4", "1/0", "0/-2", "1", "a/4", "1/4/2", "", "/4", "2/", "0/100001"])
    func refusesWhatIsNotAShard(_ text: String) {
        #expect(throws: ShardResolver.Problem.self) { try ShardResolver.parse(text) }
        do { _ = try ShardResolver.parse(text) } catch { #expect(error.message.contains("--shard '\(text)'")) }
    }

    @Test func theFlagWinsOverTheEnvironment() throws {
        let s = try ShardResolver.resolve(flag: "1/2", environment: ["SLURM_PROCID": "3", "SLURM_NTASKS": "8"])
        #expect(s == ShardSpec(index: 1, count: 2))
    }

    @Test(arguments: [
        (["JOB_COMPLETION_INDEX": "2", "CICADA_SHARDS": "5"], 2, 5),
        (["SLURM_PROCID": "3", "SLURM_NTASKS": "8"], 3, 8),
        (["OMPI_COMM_WORLD_RANK": "0", "OMPI_COMM_WORLD_SIZE": "2"], 0, 2),
        // Kubernetes before Slurm before Open MPI.
        (["JOB_COMPLETION_INDEX": "1", "CICADA_SHARDS": "3", "SLURM_PROCID": "0", "SLURM_NTASKS": "9"], 1, 3),
        (["SLURM_PROCID": "5", "SLURM_NTASKS": "6", "OMPI_COMM_WORLD_RANK": "0", "OMPI_COMM_WORLD_SIZE": "2"], 5, 6),
        (["JOB_COMPLETION_INDEX": "99999", "CICADA_SHARDS": "100000"], 99999, 100000),
        ([:], 0, 1),
        (["HOME": "/root"], 0, 1),
    ])
    func theEnvironmentNamesTheShard(_ env: [String: String], _ i: Int, _ n: Int) throws {
        let s = try ShardResolver.resolve(flag: nil, environment: env)
        #expect(s.index == i && s.count == n)
    }

    @Test(arguments: [
        (["JOB_COMPLETION_INDEX": "2"], "CICADA_SHARDS"),
        (["CICADA_SHARDS": "4"], "JOB_COMPLETION_INDEX"),
        (["SLURM_PROCID": "x", "SLURM_NTASKS": "4"], "SLURM_PROCID='x'"),
        (["SLURM_PROCID": "1", "SLURM_NTASKS": "0"], "SLURM_NTASKS='0'"),
        (["OMPI_COMM_WORLD_RANK": "4", "OMPI_COMM_WORLD_SIZE": "4"], "OMPI_COMM_WORLD_RANK=4"),
        // As many shards as --shard takes, and no more: merge would refuse the artifacts.
        (["JOB_COMPLETION_INDEX": "0", "CICADA_SHARDS": "100001"], "CICADA_SHARDS=100001: at most 100000 shards"),
        (["SLURM_PROCID": "7", "SLURM_NTASKS": "9999999"], "SLURM_NTASKS=9999999"),
    ])
    func aBrokenEnvironmentIsAClearError(_ env: [String: String], _ named: String) {
        do {
            _ = try ShardResolver.resolve(flag: nil, environment: env)
            Issue.record("accepted \(env)")
        } catch { #expect(error.message.contains(named), "\(error.message)") }
    }

    /// The arrivals every (shard, worker) slot takes, as the workers take them.
    func arrivals(_ load: OpenLoad, seed: UInt64, shards: Int, workers: Int) -> [[UInt64]] {
        var out: [[UInt64]] = []
        for i in 0..<shards {
            let shard = ShardSpec(index: i, count: shards)!
            for w in 0..<workers {
                let slot = shard.slot(worker: w, workerCount: workers)
                var s = ArrivalSchedule(load: load, seed: seed)
                var mine: [UInt64] = []
                while let a = s.next() {
                    if a.index % UInt64(slot.count) == UInt64(slot.index) {
                        #expect(shard.owns(arrival: a.index))
                        mine.append(a.offsetNanos)
                    }
                }
                out.append(mine)
            }
        }
        return out
    }

    static let loads: [(String, OpenLoad)] = [
        ("constant", .constant(rate: 300, duration: .seconds(4))),
        ("poisson", .constant(rate: 300, duration: .seconds(4), process: .gamma(burstiness: 1))),
        ("gamma", .constant(rate: 300, duration: .seconds(4), process: .gamma(burstiness: 0.5))),
        ("ramp", OpenLoad(startRate: 10, stages: [RateStage(duration: .seconds(2), rate: 400), RateStage(duration: .seconds(2), rate: 50, ramp: .exponential)],
                          process: .gamma(burstiness: 1), maxInFlight: 100, maxQueue: nil)),
    ]

    @Test(arguments: [0, 1, 2, 3])
    func fourShardsSendExactlyTheSingleMachineSchedule(_ which: Int) {
        let (name, load) = Self.loads[which]
        let single = arrivals(load, seed: 11, shards: 1, workers: 1).flatMap { $0 }
        let parts = arrivals(load, seed: 11, shards: 4, workers: 3)
        #expect(single.count > 500, "\(name)")
        #expect(parts.flatMap { $0 }.sorted() == single.sorted(), "\(name): the union differs from the single-machine schedule")
        #expect(parts.map(\.count).reduce(0, +) == single.count, "\(name): an arrival taken twice")
        // Every slot has work (striping spreads the load evenly).
        #expect(parts.allSatisfy { abs($0.count - single.count / 12) <= 1 }, "\(name): \(parts.map(\.count))")
    }

    @Test func theClosedModelSplitSumsToTheTargetAtEveryMoment() {
        let ramp = ClosedLoad(stages: [UserStage(duration: .seconds(10), users: 37, spawnRate: 5), UserStage(duration: .seconds(5), users: 3, spawnRate: 10)],
                              waitTime: .constant(.zero))
        for tenth in 0...150 {
            let target = ramp.users(at: .milliseconds(tenth * 100))
            for n in [1, 2, 3, 4, 7] {
                let parts = (0..<n).map { ShardSpec(index: $0, count: n)!.share(of: target) }
                #expect(parts.reduce(0, +) == target, "t=\(tenth)/10 s, N=\(n): \(parts) vs \(target)")
                #expect((parts.max() ?? 0) - (parts.min() ?? 0) <= 1)
            }
        }
    }

    @Test func globalUserIdsAreTheSingleMachineOnes() {
        // Worker w of shard I makes users slot + gridCount * j: the union over every shard and
        // worker of the first `share` ids is users 0..<target, each once.
        for target in [0, 1, 5, 37, 100] {
            var ids: [Int] = []
            for i in 0..<4 {
                let shard = ShardSpec(index: i, count: 4)!
                let shardUsers = shard.share(of: target)
                for w in 0..<3 {
                    let slot = shard.slot(worker: w, workerCount: 3)
                    let mine = RunControl.share(of: shardUsers, worker: w, workerCount: 3)
                    ids += (0..<mine).map { slot.index + slot.count * $0 }
                }
            }
            #expect(ids.sorted() == Array(0..<target), "target \(target)")
        }
    }
}
