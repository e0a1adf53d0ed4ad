import CicadaCore
import Foundation
import Synchronization

/// Runs a command with a deadline and collects its output: the seam between readers and processes.
///
/// Both pipes are drained while the child runs, so a chatty child cannot fill a pipe and stall
/// until the deadline; on the deadline the child gets SIGTERM, then SIGKILL a second later.
enum ProcessRunner {
    struct Output {
        var status: Int32
        var stdout: Data
        var stderr: Data
    }

    enum Failure: Error {
        case launch(String)
        case timedOut
    }

    /// The first executable file called `name` on `environment["PATH"]` (or `name` itself when it has a slash).
    static func find(_ name: String, environment: [String: String]) -> String? {
        let files = FileManager.default
        func usable(_ path: String) -> Bool {
            var isDirectory: ObjCBool = false
            return files.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue && files.isExecutableFile(atPath: path)
        }
        if name.contains("/") { return usable(name) ? name : nil }
        let searchPath = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in searchPath.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + name
            if usable(candidate) { return candidate }
        }
        return nil
    }

    static func run(_ executable: String, arguments: [String], environment: [String: String], timeout: Duration) throws(Failure) -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        do {
            try process.run()
        } catch {
            throw .launch("\(error)")
        }
        let stdout = Collected()
        let stderr = Collected()
        let drained = DispatchGroup()
        for (pipe, sink) in [(out, stdout), (err, stderr)] {
            let handle = pipe.fileHandleForReading
            drained.enter()
            DispatchQueue.global().async {
                sink.set(handle.readDataToEndOfFile())
                drained.leave()
            }
        }
        let nanos = Int(clamping: timeout.nanos)
        if exited.wait(timeout: .now() + .nanoseconds(nanos)) == .timedOut {
            process.terminate()
            if exited.wait(timeout: .now() + .seconds(1)) == .timedOut {
                kill(process.processIdentifier, SIGKILL)
                _ = exited.wait(timeout: .now() + .seconds(1))
            }
            throw .timedOut
        }
        // The pipes close when the child exits, unless a grandchild inherited them: wait a
        // little for the tail of the output, never for ever.
        _ = drained.wait(timeout: .now() + .seconds(2))
        return Output(status: process.terminationStatus, stdout: stdout.get(), stderr: stderr.get())
    }

    /// Output collected on a reader thread.
    private final class Collected: Sendable {
        private let data = Mutex(Data())
        func set(_ value: Data) { data.withLock { $0 = value } }
        func get() -> Data { data.withLock { $0 } }
    }
}
