import Foundation
import Testing

/// A tiny tmpfs mounted for one test (needs root, as in CI's container); nil when mounting is
/// not allowed here, and the tests that need one are then not run.
final class TinyDisk {
    let path: String

    init?(kib: Int) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cicada-tiny-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        guard (try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)) != nil else { return nil }
        guard runProcess(["mount", "-t", "tmpfs", "-o", "size=\(kib)k", "tmpfs", dir]) == 0 else {
            try? FileManager.default.removeItem(atPath: dir)
            return nil
        }
        path = dir
    }

    /// Fills the disk until `leaveKiB` (rounded to pages) are left.
    func fill(leaving leaveKiB: Int) throws {
        var s = statvfs()
        statvfs(path, &s)
        let free = Int(s.f_bavail) * Int(s.f_frsize)
        let size = max(0, free - leaveKiB * 1024)
        try Data(count: size).write(to: URL(fileURLWithPath: path + "/filler"))
    }

    deinit {
        _ = runProcess(["umount", path])
        try? FileManager.default.removeItem(atPath: path)
    }
}

let canMountTmpfs: Bool = TinyDisk(kib: 64) != nil

/// Reports on a disk that is full before the run, or fills at the end of it (issue 12): never
/// a crash, never results lost silently.
@Suite(.serialized, .enabled(if: canMountTmpfs, "mounting a tmpfs needs root")) struct DiskFullTests {
    func scenario(tasks: Int) throws -> URL {
        let file = try tempDir().appendingPathComponent("disk.yaml")
        let list = (0..<tasks).map { "  - {name: task-with-a-long-name-\($0), path: /health}" }.joined(separator: "\n")
        try "name: disk-full\ntarget: http://127.0.0.1:1\nusers: 4\nspawn_rate: 100\nrun_time: 1s\ntelemetry: {gpu: none}\ntasks:\n\(list)\n"
            .write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    @Test func aFullDiskIsRefusedBeforeTheLoad() throws {
        guard let disk = TinyDisk(kib: 256) else { return }
        try disk.fill(leaving: 0)
        let file = try scenario(tasks: 1)
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let r = try cicada(["run", file.path, "--local-target", "--json", disk.path + "/r.json"])
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains("--json: cannot write \(disk.path)/r.json: the disk holding \(disk.path) is full"), "\(r.stderr)")
        #expect(!r.stderr.contains("cicada: running"), "no load started")
    }

    /// Room for the check before the load but not for every report at the end: the summary
    /// prints, each report that did not fit is named with the reason, the ones that fit are
    /// whole, no temporary file is left, exit 1.
    @Test func aDiskThatFillsAtTheEndNamesTheFileAndKeepsTheSummary() throws {
        guard let disk = TinyDisk(kib: 512) else { return }
        try disk.fill(leaving: 96)
        let file = try scenario(tasks: 100)
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let junit = disk.path + "/j.xml", json = disk.path + "/r.json"
        let r = try cicada(["run", file.path, "--local-target", "--junit", junit, "--json", json, "--csv", disk.path + "/r"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stdout.contains("Aggregated"), "the summary still prints")
        #expect(r.stderr.contains("No space left on device"), "\(r.stderr)")
        let named = r.stderr.split(separator: "\n").filter { $0.hasPrefix("error: cannot write report \(disk.path)/") }
        #expect(!named.isEmpty, "\(r.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: disk.path)
        #expect(!left.contains { $0.contains(".tmp-") }, "temporary files left: \(left)")
        // Whatever was written is whole.
        if left.contains("r.json") {
            #expect((try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json)))) != nil)
        }
        if left.contains("j.xml") {
            #expect((try? String(contentsOfFile: junit, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("</testsuites>") == true)
        }
    }
}
