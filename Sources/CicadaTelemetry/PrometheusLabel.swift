/// One `name="value"` pair of a Prometheus sample, with the value unescaped.
///
/// Labels keep the order they had in the text, because exporters (DCGM, vLLM) use a stable
/// order that makes dumps and golden tests readable; lookups go through ``PrometheusSample/label(_:)``.
public struct PrometheusLabel: Sendable, Hashable {
    /// The label name, `[a-zA-Z_][a-zA-Z0-9_]*`.
    public var name: String
    /// The label value after `\\`, `\"` and `\n` escapes were resolved.
    public var value: String

    /// Creates a label.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
