/// A Prometheus text that cannot be parsed, with the 1-based line where parsing stopped.
///
/// Scraped text comes from servers the user points Cicada at; a message naming the line and
/// what was expected there (`line 12: unterminated label value`) lets them find the fault in
/// `curl host:port/metrics` output without reading the parser.
public struct PrometheusParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The 1-based line number.
    public var line: Int
    /// What is wrong there.
    public var message: String

    /// Creates an error.
    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }

    /// `PrometheusParseError: line N: message`.
    public var description: String { "PrometheusParseError: line \(line): \(message)" }
}
