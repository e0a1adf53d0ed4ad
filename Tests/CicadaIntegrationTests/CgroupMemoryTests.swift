import CicadaTelemetry
import Foundation
import Testing
@testable import CicadaEngineServer

/// The engine's cgroup memory gauges from fixture folders laid out as `/proc` and
/// `/sys/fs/cgroup` are on a cgroup v2 host, a v1 host and inside a container, so the test does
/// not depend on the machine's own cgroup version.
@Suite struct CgroupMemoryTests {
    /// Writes `files` (path relative to the fixture root -> text) into a new folder.
    func fixture(_ files: [String: String]) throws -> URL {
        let root = try tempDir()
        for (path, text) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        return root
    }

    static let statm = "123456 2560 300 10 0 4000 0\n"
    /// A v1 `memory.stat` (the fields around the ones read, as the kernel writes them).
    static let v1Stat = "cache 266240000\nrss 424185856\nrss_huge 0\nmapped_file 1000\ntotal_cache 266240000\ntotal_rss 524185856\ntotal_inactive_file 197849088\n"

    @Test func v1UsageAndLimitOfTheProcessesOwnCgroup() throws {
        let own = "sys/fs/cgroup/memory/process_api/bb57"
        let root = try fixture([
            "proc/self/statm": Self.statm,
            // A hybrid host: the memory controller on v1, an empty v2 hierarchy beside it.
            "proc/self/cgroup": "9:name=systemd:/\n4:memory:/process_api/bb57\n3:cpuset:/\n0::/\n",
            "sys/fs/cgroup/memory/memory.usage_in_bytes": "8579158016\n",        // the whole host: not ours
            "sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n",
            "\(own)/memory.usage_in_bytes": "681013248\n",
            "\(own)/memory.limit_in_bytes": "1073741824\n",
            "\(own)/memory.stat": Self.v1Stat,
        ])
        defer { try? FileManager.default.removeItem(at: root) }
        let m = ProcessMemory.read(root: root.path)
        #expect(m == ProcessMemory(residentBytes: 2560 * UInt64(max(sysconf(Int32(_SC_PAGESIZE)), 1)), cgroupCurrentBytes: 681_013_248,
                                   cgroupMaxBytes: 1_073_741_824, cgroupRSSBytes: 524_185_856, cgroupVersion: .v1))
        #expect(m.exposition.contains("(memory.usage_in_bytes, cgroup v1)"))
        // Cicada's own telemetry mapper judges use and RSS against the v1 limit.
        let gauges = KnownFamilies.memoryGauges(try PrometheusText.parse(m.exposition))
        #expect(gauges.map(\.gauge) == ["process_resident_memory_bytes", "cicada_engine_cgroup_memory_current_bytes", "cicada_engine_cgroup_memory_rss_bytes"])
        #expect(gauges.allSatisfy { $0.limitBytes == 1_073_741_824 && $0.limitGauge == "cicada_engine_cgroup_memory_max_bytes" })
    }

    @Test(arguments: ["9223372036854771712", "9223372036854710272", "4611686018427387904"])
    func v1sHugeMaximumIsNoLimit(_ unlimited: String) throws {
        let root = try fixture([
            "proc/self/cgroup": "4:memory:/\n0::/\n",
            "sys/fs/cgroup/memory/memory.usage_in_bytes": "52428800\n",
            "sys/fs/cgroup/memory/memory.limit_in_bytes": unlimited + "\n",
        ])
        defer { try? FileManager.default.removeItem(at: root) }
        let m = ProcessMemory.read(root: root.path)
        #expect(m.cgroupVersion == .v1 && m.cgroupCurrentBytes == 52_428_800)
        #expect(m.cgroupMaxBytes == nil && m.cgroupRSSBytes == nil && m.residentBytes == nil)
        #expect(!m.exposition.contains("cicada_engine_cgroup_memory_max_bytes"))
        #expect(KnownFamilies.memoryGauges(try PrometheusText.parse(m.exposition)).allSatisfy { $0.limitBytes == nil })
        // Just under the line, a limit is a limit.
        #expect(ProcessMemory.parseV1(statm: nil, pageSize: 4096, usage: "1", limit: "4611686018427387903", memoryStat: nil).cgroupMaxBytes == 4_611_686_018_427_387_903)
    }

    @Test func aContainerSeesItsOwnCgroupAtTheMountsRoot() throws {
        // /proc/self/cgroup names the host's path, which the container's mount does not have.
        let root = try fixture([
            "proc/self/cgroup": "12:memory,hugetlb:/docker/3f2a\n0::/\n",
            "sys/fs/cgroup/memory/memory.usage_in_bytes": "300000000\n",
            "sys/fs/cgroup/memory/memory.limit_in_bytes": "536870912\n",
            "sys/fs/cgroup/memory/memory.stat": "cache 10\nrss 280000000\n",
        ])
        defer { try? FileManager.default.removeItem(at: root) }
        let m = ProcessMemory.read(root: root.path)
        #expect(m.cgroupCurrentBytes == 300_000_000 && m.cgroupMaxBytes == 536_870_912 && m.cgroupVersion == .v1)
        // No hierarchical total in this kernel's file: its own rss.
        #expect(m.cgroupRSSBytes == 280_000_000)
    }

    @Test func v2IsPreferredAndReadFromTheProcessesOwnCgroup() throws {
        let root = try fixture([
            "proc/self/cgroup": "0::/system.slice/vllm.service\n",
            "sys/fs/cgroup/system.slice/vllm.service/memory.current": "2147483648\n",
            "sys/fs/cgroup/system.slice/vllm.service/memory.max": "4294967296\n",
            "sys/fs/cgroup/system.slice/vllm.service/memory.stat": "anon 1610612736\nfile 536870912\n",
            // A v1 memory mount too (never both in practice): v2 wins.
            "sys/fs/cgroup/memory/memory.usage_in_bytes": "1\n",
        ])
        defer { try? FileManager.default.removeItem(at: root) }
        let m = ProcessMemory.read(root: root.path)
        #expect(m == ProcessMemory(residentBytes: nil, cgroupCurrentBytes: 2_147_483_648, cgroupMaxBytes: 4_294_967_296,
                                   cgroupRSSBytes: 1_610_612_736, cgroupVersion: .v2))
        #expect(m.exposition.contains("(memory.current, cgroup v2)") && m.exposition.contains("(memory.stat anon, cgroup v2)"))
        // v2's "max" is no limit.
        let unlimited = try fixture(["proc/self/cgroup": "0::/\n", "sys/fs/cgroup/memory.current": "1000\n", "sys/fs/cgroup/memory.max": "max\n"])
        defer { try? FileManager.default.removeItem(at: unlimited) }
        let u = ProcessMemory.read(root: unlimited.path)
        #expect(u.cgroupCurrentBytes == 1000 && u.cgroupMaxBytes == nil && u.cgroupVersion == .v2)
    }

    @Test func noCgroupFilesLeaveEveryCgroupFigureAbsent() throws {
        let root = try fixture(["proc/self/statm": Self.statm, "proc/self/cgroup": "0::/\n"])
        defer { try? FileManager.default.removeItem(at: root) }
        let m = ProcessMemory.read(root: root.path)
        #expect(m.residentBytes != nil && m.cgroupCurrentBytes == nil && m.cgroupMaxBytes == nil && m.cgroupRSSBytes == nil && m.cgroupVersion == nil)
        #expect(!m.exposition.contains("cgroup"))
    }

    @Test(arguments: [
        ("0::/a/b\n", "/a/b", nil),
        ("4:memory:/x\n0::/\n", "/", "/x"),
        ("12:cpu,memory:/k8s/pod1\n", nil, "/k8s/pod1"),
        ("2:cpu:/y\n", nil, nil),
        ("garbage\n\n", nil, nil),
    ] as [(String, String?, String?)])
    func membershipLines(_ text: String, _ v2: String?, _ v1: String?) {
        let p = ProcessMemory.cgroupPaths(text)
        #expect(p.v2 == v2 && p.v1Memory == v1)
    }
}
