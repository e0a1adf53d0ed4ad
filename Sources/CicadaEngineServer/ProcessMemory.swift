import Foundation

/// The engine process's own memory, measured (not modelled), for `GET /metrics`: its resident
/// set and, where the process runs under a cgroup (a container, a systemd slice), the cgroup's
/// use, limit and anonymous (RSS) memory, from cgroup v2 or, where the memory controller is on
/// cgroup v1, from v1's files.
///
/// `killed_after_memory_pressure` reads these like any server's process and container gauges.
/// Each figure is absent when its file is unreadable (not Linux, no cgroup mount) or says
/// "no limit" (v2's `memory.max` = `max`; v1's `memory.limit_in_bytes` at its huge
/// page-rounded maximum): absent, never 0.
struct ProcessMemory: Equatable {
    /// Which cgroup hierarchy the figures came from.
    enum CgroupVersion: Int, Equatable {
        case v1 = 1, v2 = 2
    }

    /// Resident set size, bytes (`/proc/self/statm`'s second field times the page size).
    var residentBytes: UInt64?
    /// The cgroup's memory use, bytes: v2 `memory.current`, v1 `memory.usage_in_bytes` (both
    /// count page cache).
    var cgroupCurrentBytes: UInt64?
    /// The cgroup's memory limit, bytes: v2 `memory.max`, v1 `memory.limit_in_bytes`; nil when
    /// unlimited.
    var cgroupMaxBytes: UInt64?
    /// The cgroup's anonymous memory, bytes (no page cache): v1 `memory.stat`'s `total_rss`
    /// (`rss` where the kernel has no hierarchical total), v2 `memory.stat`'s `anon`.
    var cgroupRSSBytes: UInt64? = nil
    /// The hierarchy the cgroup figures came from; nil when none was read.
    var cgroupVersion: CgroupVersion? = nil

    /// A v1 `memory.limit_in_bytes` at or above this is "no limit": the kernel writes its
    /// counter maximum rounded down to the page (9223372036854771712 with 4 KiB pages, less with
    /// larger pages), never a real limit.
    static let v1Unlimited: UInt64 = 1 << 62

    /// Where the files are, relative to a root ("/" in production; a test's fixture folder).
    struct Layout: Equatable {
        /// The process's page counts.
        var statm = "proc/self/statm"
        /// The process's cgroup membership (`0::/path` for v2, `N:memory:/path` for v1).
        var selfCgroup = "proc/self/cgroup"
        /// The cgroup v2 unified mount.
        var v2Mount = "sys/fs/cgroup"
        /// The cgroup v1 memory controller's mount.
        var v1MemoryMount = "sys/fs/cgroup/memory"
        /// The usual Linux layout.
        static let standard = Layout()
    }

    /// Reads the files under `root`: the process's own cgroup (named in `/proc/self/cgroup`)
    /// under the v2 mount, else under the v1 memory mount; in each, the mount's root when the
    /// named folder is not there (in a container the mount shows the container's own cgroup,
    /// while `/proc/self/cgroup` may name the host's path).
    static func read(root: String = "/", layout: Layout = .standard) -> ProcessMemory {
        func path(_ p: String) -> String { (root as NSString).appendingPathComponent(p) }
        func file(_ p: String) -> String? { try? String(contentsOfFile: path(p), encoding: .utf8) }
        let statm = file(layout.statm)
        let pageSize = UInt64(max(sysconf(Int32(_SC_PAGESIZE)), 1))
        let membership = cgroupPaths(file(layout.selfCgroup))
        // The first folder that has the hierarchy's usage file.
        func folder(mount: String, own: String?, probe: String) -> String? {
            let candidates = (own.map { [(mount as NSString).appendingPathComponent($0)] } ?? []) + [mount]
            return candidates.first { FileManager.default.isReadableFile(atPath: path(($0 as NSString).appendingPathComponent(probe))) }
        }
        if let d = folder(mount: layout.v2Mount, own: membership.v2, probe: "memory.current") {
            func f(_ name: String) -> String? { file((d as NSString).appendingPathComponent(name)) }
            return parse(statm: statm, pageSize: pageSize, memoryCurrent: f("memory.current"), memoryMax: f("memory.max"), memoryStat: f("memory.stat"))
        }
        if let d = folder(mount: layout.v1MemoryMount, own: membership.v1Memory, probe: "memory.usage_in_bytes") {
            func f(_ name: String) -> String? { file((d as NSString).appendingPathComponent(name)) }
            return parseV1(statm: statm, pageSize: pageSize, usage: f("memory.usage_in_bytes"), limit: f("memory.limit_in_bytes"), memoryStat: f("memory.stat"))
        }
        return parse(statm: statm, pageSize: pageSize, memoryCurrent: nil, memoryMax: nil)
    }

    /// The process's cgroup paths in `/proc/self/cgroup`'s text: the v2 line's (`0::/path`)
    /// and the v1 memory controller's (`N:memory:/path`, controllers comma-separated).
    static func cgroupPaths(_ text: String?) -> (v2: String?, v1Memory: String?) {
        var v2: String?, v1: String?
        for line in (text ?? "").split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, parts[2].hasPrefix("/") else { continue }
            let path = String(parts[2])
            if parts[0] == "0" && parts[1].isEmpty { v2 = path }
            else if parts[1].split(separator: ",").contains("memory") { v1 = path }
        }
        return (v2, v1)
    }

    /// The figures in cgroup v2's texts; any that is missing or malformed stays nil.
    static func parse(statm: String?, pageSize: UInt64, memoryCurrent: String?, memoryMax: String?, memoryStat: String? = nil) -> ProcessMemory {
        var m = ProcessMemory(residentBytes: resident(statm, pageSize: pageSize), cgroupCurrentBytes: number(memoryCurrent),
                              cgroupMaxBytes: number(memoryMax), cgroupRSSBytes: stat(memoryStat, "anon"))
        if m.cgroupCurrentBytes != nil { m.cgroupVersion = .v2 }
        return m
    }

    /// The figures in cgroup v1's texts: the limit at v1's "unlimited" maximum is no limit.
    static func parseV1(statm: String?, pageSize: UInt64, usage: String?, limit: String?, memoryStat: String?) -> ProcessMemory {
        var m = ProcessMemory(residentBytes: resident(statm, pageSize: pageSize), cgroupCurrentBytes: number(usage),
                              cgroupMaxBytes: number(limit).flatMap { $0 >= v1Unlimited ? nil : $0 },
                              cgroupRSSBytes: stat(memoryStat, "total_rss") ?? stat(memoryStat, "rss"))
        if m.cgroupCurrentBytes != nil { m.cgroupVersion = .v1 }
        return m
    }

    static func number(_ s: String?) -> UInt64? { s.flatMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) } }

    static func resident(_ statm: String?, pageSize: UInt64) -> UInt64? {
        statm.flatMap { $0.split(separator: " ").dropFirst().first.flatMap { UInt64($0) } }.map { $0 &* pageSize }
    }

    /// One `key value` line of a `memory.stat` text.
    static func stat(_ text: String?, _ key: String) -> UInt64? {
        for line in (text ?? "").split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count == 2, f[0] == key { return UInt64(f[1]) }
        }
        return nil
    }

    /// The Prometheus text of the figures that are known.
    var exposition: String {
        var out = ""
        if let r = residentBytes {
            out += "# HELP process_resident_memory_bytes Resident memory size in bytes (measured).\n# TYPE process_resident_memory_bytes gauge\n"
            out += "process_resident_memory_bytes \(r)\n"
        }
        let v1 = cgroupVersion == .v1
        if let c = cgroupCurrentBytes {
            out += "# HELP cicada_engine_cgroup_memory_current_bytes The engine's cgroup memory use (\(v1 ? "memory.usage_in_bytes, cgroup v1" : "memory.current, cgroup v2")), bytes (measured).\n"
            out += "# TYPE cicada_engine_cgroup_memory_current_bytes gauge\ncicada_engine_cgroup_memory_current_bytes \(c)\n"
        }
        if let m = cgroupMaxBytes {
            out += "# HELP cicada_engine_cgroup_memory_max_bytes The engine's cgroup memory limit (\(v1 ? "memory.limit_in_bytes, cgroup v1" : "memory.max, cgroup v2")), bytes; absent when unlimited.\n"
            out += "# TYPE cicada_engine_cgroup_memory_max_bytes gauge\ncicada_engine_cgroup_memory_max_bytes \(m)\n"
        }
        if let a = cgroupRSSBytes {
            out += "# HELP cicada_engine_cgroup_memory_rss_bytes The engine's cgroup anonymous memory, no page cache (\(v1 ? "memory.stat total_rss, cgroup v1" : "memory.stat anon, cgroup v2")), bytes (measured).\n"
            out += "# TYPE cicada_engine_cgroup_memory_rss_bytes gauge\ncicada_engine_cgroup_memory_rss_bytes \(a)\n"
        }
        return out
    }
}
