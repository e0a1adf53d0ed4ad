/// Why a session could not run: a problem with the user's input, or Cicada failing at its job.
///
/// The executable maps ``Kind-swift.enum/usage`` to exit code 2 (the text printed as it is) and
/// ``Kind-swift.enum/tool`` to exit code 1 (printed after `error: `), so every message keeps the
/// wording and the exit code it had when the executable raised it itself.
public struct SessionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Whose fault it is.
    public enum Kind: Sendable, Equatable {
        /// The scenario, a flag or an override is wrong: exit code 2.
        case usage
        /// Cicada could not do its job (a server would not start, curl failed): exit code 1.
        case tool
    }

    /// Whose fault it is.
    public var kind: Kind
    /// The message, without the `error: ` prefix that the executable adds to tool failures.
    public var description: String

    /// An input problem: exit code 2.
    public static func usage(_ description: String) -> SessionError { SessionError(kind: .usage, description: description) }
    /// A tool failure: exit code 1.
    public static func tool(_ description: String) -> SessionError { SessionError(kind: .tool, description: description) }
}

/// Cicada's exit codes (k6's where they overlap), chosen by the session and used by `exit`.
public enum ExitStatus {
    /// Every threshold passed and every report was written.
    public static let ok: Int32 = 0
    /// Cicada could not do its job, or a report could not be written.
    public static let toolError: Int32 = 1
    /// The scenario or the flags are wrong.
    public static let usage: Int32 = 2
    /// A threshold failed.
    public static let thresholdsFailed: Int32 = 99
    /// Stopped by SIGINT, SIGTERM or SIGHUP; what was measured so far is still reported.
    public static let signal: Int32 = 105
}
