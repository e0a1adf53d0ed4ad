/// A failure to run `nvidia-smi` or to understand its output.
///
/// nvidia-smi is the fallback when NVML cannot be loaded, so its failures must say which step
/// failed: not on PATH, did not finish, exited non-zero (with what it printed), or printed a line
/// the parser does not understand (with the line number).
public enum NvidiaSMIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No executable of that name on the PATH searched.
    case notFound(executable: String, searchPath: String)
    /// The process could not be started.
    case launchFailed(executable: String, reason: String)
    /// The process did not finish within the timeout and was killed.
    case timedOut(after: Duration)
    /// The process exited with a non-zero status; `output` is what it printed (trimmed).
    case failed(status: Int32, output: String)
    /// A line of output is not the expected CSV.
    case malformed(line: Int, message: String)

    /// One line naming the failing step.
    public var description: String {
        switch self {
        case .notFound(let executable, let searchPath):
            return "NvidiaSMIError: \(executable) not found on PATH (\(searchPath))"
        case .launchFailed(let executable, let reason):
            return "NvidiaSMIError: cannot start \(executable): \(reason)"
        case .timedOut(let after):
            return "NvidiaSMIError: nvidia-smi did not finish within \(after) and was killed"
        case .failed(let status, let output):
            return "NvidiaSMIError: nvidia-smi exited with status \(status): \(output)"
        case .malformed(let line, let message):
            return "NvidiaSMIError: line \(line): \(message)"
        }
    }
}
