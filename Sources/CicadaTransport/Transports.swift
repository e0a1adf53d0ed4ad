import CicadaCore

/// Picks the run's transport from the scenario's ``TransportChoice``.
public enum Transports {
    /// `curl` → libcurl; `fast` → the fast HTTP/1.1 client (a run it cannot carry fails at
    /// its start with the reason); `auto` → fast where ``FastTransport/unsupported(_:)`` finds
    /// nothing against it, libcurl otherwise.
    public static func choose(for plan: RunPlan) -> any LoadTransport {
        switch plan.scenario.transport {
        case .curl: return CurlTransport()
        case .fast:
            if let why = FastTransport.unsupported(plan) { return UnavailableTransport(reason: "--transport fast cannot carry this run: \(why); use --transport curl or auto") }
            return FastTransport()
        case .auto:
            return FastTransport.unsupported(plan) == nil ? FastTransport() : CurlTransport()
        }
    }
}

/// A transport that was asked for but cannot carry the run: it fails the run at its start.
struct UnavailableTransport: LoadTransport {
    struct Refused: Error, CustomStringConvertible { var description: String }
    var reason: String
    var name: String { "fast" }
    func prepare() throws { throw Refused(description: reason) }
    func makeGenerator(_ context: GeneratorContext) throws -> any LoadGenerator { throw Refused(description: reason) }
}
