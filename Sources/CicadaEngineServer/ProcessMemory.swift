import Foundation

/// The engine process's own memory, measured (not modelled), for `GET /metrics`: its resident
/// set and, where the process runs under a cgroup v2 (a container), the cgroup's use and limit.
///
/// `killed_after_memory_pressure` reads these like any server's process and container gauges.
/// Each figure is absent when its file is unreadable (not Linux, no cgroup v2 mount) or says
/// "no limit" (`memory.max` = `max`): absent, never 0.
struct ProcessMemory: Equatable {
    /// Resident set size, bytes (`/proc/self/statm`'s second field times the page size).
    var residentBytes: UInt64?
    /// The cgroup's memory use (`memory.current`), bytes.
    var cgroupCurrentBytes: UInt64?
    /// The cgroup's memory limit (`memory.max`), bytes; nil when unlimited.
    var cgroupMaxBytes: UInt64?

    /// Reads the files under `root` ("/" in production; a test's folder in tests).
    static func read(root: String = "/") -> ProcessMemory {
        func file(_ path: String) -> String? {
            (try? String(contentsOfFile: (root as NSString).appendingPathComponent(path), encoding: .utf8))
        }
        return parse(statm: file("proc/self/statm"), pageSize: UInt64(max(sysconf(Int32(_SC_PAGESIZE)), 1)),
                     memoryCurrent: file("sys/fs/cgroup/memory.current"), memoryMax: file("sys/fs/cgroup/memory.max"))
    }

    /// The figures in the files' texts; any that is missing or malformed stays nil.
    static func parse(statm: String?, pageSize: UInt64, memoryCurrent: String?, memoryMax: String?) -> ProcessMemory {
        func number(_ s: String?) -> UInt64? { s.flatMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) } }
        let pages = statm.flatMap { $0.split(separator: " ").dropFirst().first.flatMap { UInt64($0) } }
        return ProcessMemory(residentBytes: pages.map { $0 &* pageSize }, cgroupCurrentBytes: number(memoryCurrent), cgroupMaxBytes: number(memoryMax))
    }

    /// The Prometheus text of the figures that are known.
    var exposition: String {
        var out = ""
        if let r = residentBytes {
            out += "# HELP process_resident_memory_bytes Resident memory size in bytes (measured).\n# TYPE process_resident_memory_bytes gauge\n"
            out += "process_resident_memory_bytes \(r)\n"
        }
        if let c = cgroupCurrentBytes {
            out += "# HELP cicada_engine_cgroup_memory_current_bytes The engine's cgroup memory use (memory.current), bytes (measured).\n"
            out += "# TYPE cicada_engine_cgroup_memory_current_bytes gauge\ncicada_engine_cgroup_memory_current_bytes \(c)\n"
        }
        if let m = cgroupMaxBytes {
            out += "# HELP cicada_engine_cgroup_memory_max_bytes The engine's cgroup memory limit (memory.max), bytes; absent when unlimited.\n"
            out += "# TYPE cicada_engine_cgroup_memory_max_bytes gauge\ncicada_engine_cgroup_memory_max_bytes \(m)\n"
        }
        return out
    }
}
