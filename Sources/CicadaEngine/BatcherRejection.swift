/// Why the batcher refused or dropped a request, with the message Triton returns for it.
public enum BatcherRejection: Sendable, Hashable, CaseIterable {
    /// The queue already held `maxQueueSize` requests when this one arrived (HTTP 503 in Triton).
    case queueFull
    /// The request's queue timeout expired under `timeoutAction == .reject`.
    case timeout

    /// Triton's error text for this rejection, so clients and reports see the same words.
    public var message: String {
        switch self {
        case .queueFull: "Exceeds maximum queue size"
        case .timeout: "Request timeout expired"
        }
    }
}
