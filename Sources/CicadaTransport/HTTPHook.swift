import CCurl
import CicadaCore

/// Sends a scenario's hook requests (`before_run`, `before_each_point`): one blocking request
/// each, off the load path, before the load starts.
public enum HTTPHook {
    /// A hook that failed: its method, URL and what went wrong (transport error or status).
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// Sends `hook` to `base` (a URL with no trailing slash) with the scenario's headers; the
    /// HTTP status on success (any 2xx or 3xx), else throws with the method, URL and reason.
    @discardableResult
    public static func send(_ hook: HookSpec, base: String, headers: [(name: String, value: String)], insecure: Bool,
                            timeout: Duration = .seconds(30)) throws(Failure) -> Int {
        let url = hook.url(base: base)
        let what = "\(hook.method) \(url)"
        let answer: (status: Int, body: [UInt8])
        do {
            answer = try HTTPPost.perform(method: hook.method, url: url, body: hook.body,
                                          headers: headers + (hook.body != nil ? [("Content-Type", "application/json")] : []),
                                          insecure: insecure, timeout: timeout, limit: 64 << 10)
        } catch { throw Failure(description: error.description) }
        guard answer.status < 400 else {
            let excerpt = String(decoding: answer.body.prefix(200), as: UTF8.self)
            throw Failure(description: "\(what): HTTP \(answer.status)" + (excerpt.isEmpty ? "" : " \(excerpt)"))
        }
        return answer.status
    }
}
