import CicadaReport
import Foundation
import Testing

@Suite struct AtomicFileTests {
    func scratchDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cicada-report-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func writesReplacesAndLeavesNoTemporaryFile() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/report.json"
        try AtomicFile.write("first\n", to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "first\n")
        try AtomicFile.write("second ✓\n", to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "second ✓\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["report.json"])
    }

    @Test func writesAnEmptyFile() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try AtomicFile.write("", to: dir + "/empty.csv")
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/empty.csv")).isEmpty)
    }

    @Test func failureThrowsAndLeavesNothing() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: AtomicFile.WriteError.self) { try AtomicFile.write("x", to: dir + "/missing/report.json") }
        // Renaming over a directory fails after the temporary file was written: it must be removed.
        try FileManager.default.createDirectory(atPath: dir + "/taken", withIntermediateDirectories: false)
        try FileManager.default.createDirectory(atPath: dir + "/taken/inner", withIntermediateDirectories: false)
        do {
            try AtomicFile.write("x", to: dir + "/taken")
            Issue.record("expected the rename to fail")
        } catch {
            #expect(error.operation == "rename")
            #expect(error.description.hasPrefix("cannot rename \(dir)/taken: "))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["taken"])
    }
}
