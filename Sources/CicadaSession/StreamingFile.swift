@preconcurrency import Foundation
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// A file written line by line during a run, made visible under its name only when finished
/// (written to a temporary name, then renamed), so readers never see half a file.
public final class StreamingFile: @unchecked Sendable {
    /// Where the file appears when finished.
    public let path: String
    /// Where it is written until then.
    public let tmp: String
    let handle: FileHandle

    /// Creates `path + ".partial"` for writing.
    public init(path: String) throws(SessionError) {
        self.path = path
        self.tmp = path + ".partial"
        guard FileManager.default.createFile(atPath: tmp, contents: nil) else { throw .tool("cannot create \(tmp)") }
        guard let h = FileHandle(forWritingAtPath: tmp) else { throw .tool("cannot open \(tmp)") }
        handle = h
    }

    /// Appends `s` (UTF-8).
    public func write(_ s: String) { handle.write(Data(s.utf8)) }

    /// Closes the file and renames it to its name.
    public func finish() throws {
        try handle.close()
        guard rename(tmp, path) == 0 else { throw SessionError.tool("rename to \(path) failed: errno \(errno)") }
    }
}
