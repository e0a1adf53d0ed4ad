import CicadaCore
import Foundation

/// What one HTTP request asks of the embedded engine, read from its method, path and body
/// before anything runs: the engine server's routing and validation without any I/O, so it is
/// tested and fuzzed on its own (`fuzz/Sources/FuzzEngineRequest`).
///
/// ``read(method:uri:body:)`` either gives a request the server can act on or an
/// ``EngineRequestError`` with the status and message to answer with.
public enum EngineRequest: Sendable, Equatable {
    /// `GET /health`: the process is up.
    case health
    /// `GET /health/ready`: ready unless draining.
    case ready
    /// `GET /metrics`: Prometheus text.
    case metrics
    /// `POST /predict {"input": ..., "priority"?: n, "timeout_us"?: n}` (the seed service's API).
    case predict(input: String, priority: Int?, timeoutMicros: UInt64?)
    /// `POST /v1/completions` or `POST /v1/chat/completions`.
    case completion(CompletionRequest)
    /// `GET /admin/batching` (`put` nil) or `PUT /admin/batching` with its body. The body is
    /// read by ``batching(from:)`` only after the caller is allowed in, so a refused client
    /// learns nothing about the body it sent.
    case admin(put: [UInt8]?)
    /// `GET /v1/models`: the served model, as vLLM lists it.
    case models
    /// `GET /v1/models/{id}`: one model (the server answers 404 for an id it does not serve).
    /// The id is the rest of the path, percent-decoded, so `org/name` ids work unescaped too.
    case model(id: String)
    /// `GET /version`: the engine's version, as vLLM's `/version`.
    case version
    /// `POST /v1/messages`: Anthropic's Messages API.
    /// `POST /reset_prefix_cache` (vLLM's name): empty the result cache, so a run that
    /// follows is not answered from an earlier run's entries.
    case resetPrefixCache
    case messages(MessagesRequest)

    /// An OpenAI-compatible completion or chat completion request.
    public struct CompletionRequest: Sendable, Equatable {
        /// Chat (`messages`) rather than plain completion (`prompt`).
        public var chat: Bool
        /// The prompt, or every message's content, each followed by a newline.
        public var input: String
        /// `max_tokens` (or `max_completion_tokens`); 16 when absent, as OpenAI's default.
        public var maxTokens: Int
        /// Server-sent events rather than one JSON body.
        public var stream: Bool
        /// `stream_options.include_usage`: a last chunk with token counts.
        public var includeUsage: Bool
        /// The `model` asked for; nil means the engine's own.
        public var model: String?
        /// Sampling parameters that change the answer, as text, for the result cache's key
        /// (`max_tokens` always; `temperature`, `top_p`, `seed`, `stop` when given).
        public var parameters: [String: String]
    }

    /// An Anthropic Messages API request (`POST /v1/messages`).
    ///
    /// Read as Anthropic's API defines it: `model`, `max_tokens` and `messages` are required;
    /// `x-api-key` and `anthropic-version` headers are accepted and not required (the engine
    /// reads no header of this endpoint).
    public struct MessagesRequest: Sendable, Equatable {
        /// The `model` asked for, echoed in the answer.
        public var model: String
        /// `system` and every message's text, each followed by a newline.
        public var input: String
        /// `max_tokens`: the answer has exactly this many tokens (the engine never stops early).
        public var maxTokens: Int
        /// Server-sent events (`message_start` ... `message_stop`) rather than one JSON body.
        public var stream: Bool
        /// Sampling parameters that change the answer, as text, for the result cache's key
        /// (`max_tokens` always; `temperature`, `top_p`, `top_k`, `stop_sequences` when given).
        public var parameters: [String: String]
    }

    /// The largest `max_tokens` accepted.
    public static let maxTokensLimit = 1_000_000

    /// Reads a request. `uri` may carry a query string (ignored). Throws the answer for a path
    /// that does not exist (404), a method the path does not take (405) or a body that does not
    /// say what the endpoint needs (400).
    public static func read(method: String, uri: String, body: [UInt8]) throws(EngineRequestError) -> EngineRequest {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
        switch (method, path) {
        case ("GET", "/health"): return .health
        case ("GET", "/health/ready"): return .ready
        case ("GET", "/metrics"): return .metrics
        case ("POST", "/predict"): return try predict(body)
        case ("POST", "/v1/completions"): return .completion(try completion(body, chat: false))
        case ("POST", "/v1/chat/completions"): return .completion(try completion(body, chat: true))
        case ("GET", "/admin/batching"): return .admin(put: nil)
        case ("PUT", "/admin/batching"): return .admin(put: body)
        case ("GET", "/v1/models"): return .models
        case ("GET", "/version"): return .version
        case ("POST", "/v1/messages"): return .messages(try messages(body))
        case ("POST", "/reset_prefix_cache"): return .resetPrefixCache
        case (_, "/health"), (_, "/health/ready"), (_, "/metrics"), (_, "/predict"), (_, "/v1/completions"),
             (_, "/v1/chat/completions"), (_, "/admin/batching"), (_, "/v1/models"), (_, "/version"), (_, "/reset_prefix_cache"):
            throw EngineRequestError(status: 405, message: "\(method) is not allowed on \(path)")
        case (_, "/v1/messages"):
            throw EngineRequestError(status: 405, message: "\(method) is not allowed on \(path)", shape: .anthropic)
        default:
            let modelsPrefix = "/v1/models/"
            if path.hasPrefix(modelsPrefix), path.utf8.count > modelsPrefix.utf8.count {
                guard method == "GET" else { throw EngineRequestError(status: 405, message: "\(method) is not allowed on \(path)") }
                let raw = String(path.dropFirst(modelsPrefix.count))
                return .model(id: raw.removingPercentEncoding ?? raw)
            }
            throw EngineRequestError(status: 404, message: "no route for \(method) \(path)", shape: ErrorShape.of(path: path))
        }
    }

    /// A batching configuration from a `PUT /admin/batching` body, validated.
    public static func batching(from body: [UInt8]) throws(EngineRequestError) -> BatcherConfig {
        guard let config = try? JSONDecoder().decode(BatcherConfig.self, from: Data(body)) else {
            throw EngineRequestError(status: 400, message: "body is not a batching configuration (see GET /admin/batching)")
        }
        let problems = config.validate()
        guard problems.isEmpty else { throw EngineRequestError(status: 400, message: problems.joined(separator: "; ")) }
        return config
    }

    /// Who may read or change batching: a loopback client, with the bearer token when one is
    /// set; any other client only with the token (no token set: loopback only). Nil when allowed,
    /// else the status and message to answer with.
    public static func adminRefusal(remoteIP: String?, authorization: String?, token: String?) -> (status: Int, message: String)? {
        let loopback = remoteIP.map(isLoopback) ?? false
        guard let token else {
            return loopback ? nil : (403, "the admin API answers loopback clients only (set an admin token to allow others)")
        }
        // Compare in constant time: the token is a secret and the endpoint may be reachable.
        let given = Array((authorization ?? "").utf8), wanted = Array("Bearer \(token)".utf8)
        var diff = given.count ^ wanted.count
        for i in wanted.indices { diff |= Int(wanted[i] ^ (i < given.count ? given[i] : 0)) }
        return diff == 0 ? nil : (401, "missing or wrong bearer token")
    }

    /// Whether a textual IP address is a loopback one (127/8, ::1, IPv4-mapped 127/8).
    public static func isLoopback(_ ip: String) -> Bool {
        ip.hasPrefix("127.") || ip == "::1" || ip.hasPrefix("::ffff:127.")
    }

    static func object(_ body: [UInt8]) throws(EngineRequestError) -> [String: JSONValue] {
        guard case .object(let o)? = JSONValue.parse(body) else { throw EngineRequestError(status: 400, message: "body is not a JSON object") }
        return o
    }

    /// A whole number in `0...limit` (JSON has only doubles: 3.0 is 3, 3.5 is not).
    static func wholeNumber(_ v: JSONValue, min: Double, limit: Double) -> Double? {
        guard case .number(let n) = v, n >= min, n <= limit, n == n.rounded() else { return nil }
        return n
    }

    static func predict(_ body: [UInt8]) throws(EngineRequestError) -> EngineRequest {
        let o = try object(body)
        guard case .string(let input)? = o["input"] else { throw EngineRequestError(status: 400, message: "missing string field 'input'") }
        var priority: Int?
        if let p = o["priority"] {
            // Priority levels are small; the bound keeps Int(n) from trapping on 1e300.
            guard let n = wholeNumber(p, min: 0, limit: 1_000_000) else { throw EngineRequestError(status: 400, message: "'priority' must be a non-negative integer") }
            priority = Int(n)
        }
        var timeoutMicros: UInt64?
        if let t = o["timeout_us"] {
            // Up to a day: any longer is no timeout, and UInt64(n) must not trap.
            guard let n = wholeNumber(t, min: 0, limit: 86_400_000_000) else { throw EngineRequestError(status: 400, message: "'timeout_us' must be a non-negative integer (at most a day)") }
            timeoutMicros = UInt64(n)
        }
        return .predict(input: input, priority: priority, timeoutMicros: timeoutMicros)
    }

    static func completion(_ body: [UInt8], chat: Bool) throws(EngineRequestError) -> CompletionRequest {
        let o = try object(body)
        var input = ""
        if chat {
            guard case .array(let messages)? = o["messages"], !messages.isEmpty else {
                throw EngineRequestError(status: 400, message: "missing 'messages' (a non-empty array)")
            }
            for m in messages {
                guard case .object(let mo) = m, case .string(let content)? = mo["content"] else {
                    throw EngineRequestError(status: 400, message: "each message needs a string 'content'")
                }
                input += content + "\n"
            }
        } else {
            switch o["prompt"] {
            case .string(let p)?: input = p
            case .array(let a)? where a.count == 1:
                guard case .string(let p) = a[0] else { throw EngineRequestError(status: 400, message: "missing string 'prompt'") }
                input = p
            default: throw EngineRequestError(status: 400, message: "missing string 'prompt'")
            }
        }
        var maxTokens = 16
        if let m = o["max_tokens"] ?? o["max_completion_tokens"] {
            guard let n = wholeNumber(m, min: 1, limit: Double(maxTokensLimit)) else {
                throw EngineRequestError(status: 400, message: "'max_tokens' must be a positive integer (at most \(maxTokensLimit))")
            }
            maxTokens = Int(n)
        }
        var stream = false
        if case .bool(let b)? = o["stream"] { stream = b }
        var includeUsage = false
        if case .object(let so)? = o["stream_options"], case .bool(let b)? = so["include_usage"] { includeUsage = b }
        var model: String?
        if case .string(let m)? = o["model"] { model = m }
        var parameters: [String: String] = ["max_tokens": String(maxTokens)]
        for k in ["temperature", "top_p", "seed", "stop"] { if let v = o[k] { parameters[k] = v.text } }
        return CompletionRequest(chat: chat, input: input, maxTokens: maxTokens, stream: stream, includeUsage: includeUsage,
                                 model: model, parameters: parameters)
    }
}

extension EngineRequest {
    /// Reads an Anthropic Messages API body. Errors are 400s in Anthropic's words
    /// (`max_tokens: Field required`) and get Anthropic's error body.
    static func messages(_ body: [UInt8]) throws(EngineRequestError) -> MessagesRequest {
        func invalid(_ message: String) -> EngineRequestError { EngineRequestError(status: 400, message: message, shape: .anthropic) }
        guard case .object(let o)? = JSONValue.parse(body) else { throw invalid("body is not a JSON object") }
        guard let m = o["model"] else { throw invalid("model: Field required") }
        guard case .string(let model) = m else { throw invalid("model: Input should be a valid string") }
        guard let mt = o["max_tokens"] else { throw invalid("max_tokens: Field required") }
        guard let n = wholeNumber(mt, min: 1, limit: Double(maxTokensLimit)) else {
            throw invalid("max_tokens: must be a positive integer (at most \(maxTokensLimit))")
        }
        var input = ""
        switch o["system"] {
        case nil, .null?: break
        case .string(let s)?: input += s + "\n"
        case .array(let blocks)?:
            for (i, b) in blocks.enumerated() {
                guard case .object(let bo) = b, case .string("text")? = bo["type"], case .string(let t)? = bo["text"] else {
                    throw invalid("system.\(i): Input should be a text block ({\"type\": \"text\", \"text\": ...})")
                }
                input += t + "\n"
            }
        default: throw invalid("system: Input should be a valid string or a list of text blocks")
        }
        guard let ms = o["messages"] else { throw invalid("messages: Field required") }
        guard case .array(let messages) = ms, !messages.isEmpty else { throw invalid("messages: Input should be a non-empty list") }
        for (i, msg) in messages.enumerated() {
            guard case .object(let mo) = msg else { throw invalid("messages.\(i): Input should be an object") }
            guard case .string(let role)? = mo["role"], role == "user" || role == "assistant" else {
                throw invalid("messages.\(i).role: Input should be 'user' or 'assistant'")
            }
            switch mo["content"] {
            case .string(let c)?: input += c + "\n"
            case .array(let blocks)?:
                for (j, b) in blocks.enumerated() {
                    guard case .object(let bo) = b, case .string(let type)? = bo["type"] else {
                        throw invalid("messages.\(i).content.\(j): Input should be a content block with a 'type'")
                    }
                    switch type {
                    case "text":
                        guard case .string(let t)? = bo["text"] else { throw invalid("messages.\(i).content.\(j).text: Field required") }
                        input += t + "\n"
                    case "image", "document":
                        // Their tokens depend on the media; the modelled device sees only text.
                        break
                    default:
                        // Tool use and results, thinking: their JSON stands in for their tokens.
                        input += b.text + "\n"
                    }
                }
            case nil: throw invalid("messages.\(i).content: Field required")
            default: throw invalid("messages.\(i).content: Input should be a valid string or a list of content blocks")
            }
        }
        var stream = false
        if let st = o["stream"] {
            guard case .bool(let b) = st else { throw invalid("stream: Input should be a valid boolean") }
            stream = b
        }
        var parameters: [String: String] = ["max_tokens": String(Int(n))]
        for k in ["temperature", "top_p", "top_k", "stop_sequences"] { if let v = o[k] { parameters[k] = v.text } }
        return MessagesRequest(model: model, input: input, maxTokens: Int(n), stream: stream, parameters: parameters)
    }
}

/// A request the engine answers with an error: the HTTP status, the message, and the API whose
/// error body it gets (``ErrorBody``).
public struct EngineRequestError: Error, Sendable, Equatable {
    /// The HTTP status (400, 404, 405, 413 ...).
    public var status: Int
    /// What was wrong, for the client.
    public var message: String
    /// OpenAI's error body, or Anthropic's for the Messages API.
    public var shape: ErrorShape
    public init(status: Int, message: String, shape: ErrorShape = .openAI) {
        self.status = status; self.message = message; self.shape = shape
    }
}
