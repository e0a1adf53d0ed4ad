#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a whole file so that readers see either the old content or the new, never a part.
///
/// Reports are often read by CI steps or watched by dashboards while a run rewrites them; the
/// text goes to `path + ".tmp-<pid>"` first and is then `rename(2)`d over `path`, which is
/// atomic on one file system. This is the only file I/O in the report module.
public enum AtomicFile {
    /// Why a write failed: the step, the file and the system's reason.
    ///
    /// Carries the step and `errno` so the CLI can say which report could not be written and
    /// why, while still printing the summary and exiting with the run's own verdict.
    public struct WriteError: Error, Sendable, Equatable, CustomStringConvertible {
        /// The step that failed: `open`, `write`, `fsync`, `close` or `rename`.
        public var operation: String
        /// The file the step acted on.
        public var path: String
        /// The `errno` value.
        public var code: Int32
        public var description: String { "cannot \(operation) \(path): \(String(cString: strerror(code)))" }
    }

    /// Replaces the file at `path` with `text` (UTF-8), atomically.
    ///
    /// - Throws: ``WriteError``; the temporary file is removed on failure.
    public static func write(_ text: String, to path: String) throws(WriteError) {
        let tmp = path + ".tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw WriteError(operation: "open", path: tmp, code: errno) }
        func fail(_ op: String, _ p: String) -> WriteError {
            let e = WriteError(operation: op, path: p, code: errno)
            unlink(tmp)
            return e
        }
        let bytes = Array(text.utf8)
        let failure: WriteError? = bytes.withUnsafeBytes { buf -> WriteError? in
            var done = 0
            while done < buf.count {
                let n = posixWrite(fd, buf.baseAddress! + done, buf.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    return WriteError(operation: "write", path: tmp, code: errno)
                }
                done += n
            }
            return nil
        }
        if let f = failure { close(fd); unlink(tmp); throw f }
        if fsync(fd) != 0 { let e = fail("fsync", tmp); close(fd); throw e }
        if close(fd) != 0 { throw fail("close", tmp) }
        if rename(tmp, path) != 0 { throw fail("rename", path) }
    }
}

/// `write(2)`, named apart from ``AtomicFile/write(_:to:)``.
private func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, p, n)
    #else
    return Darwin.write(fd, p, n)
    #endif
}
