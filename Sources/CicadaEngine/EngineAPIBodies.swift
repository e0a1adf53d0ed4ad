import CicadaCore
import Foundation

/// Which API's error body an error answer gets: the Messages API answers in Anthropic's shape,
/// every other endpoint in OpenAI's (as vLLM sends it).
public enum ErrorShape: Sendable, Equatable {
    /// `{"error": {"message", "type", "param", "code"}}`.
    case openAI
    /// `{"type": "error", "error": {"type", "message"}}`.
    case anthropic

    /// Anthropic's shape for `/v1/messages` and the paths under it, OpenAI's for any other.
    /// `uri` may carry a query string.
    public static func of(path uri: String) -> ErrorShape {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
        return path == "/v1/messages" || path.hasPrefix("/v1/messages/") ? .anthropic : .openAI
    }
}

/// The JSON of an error answer, in the API's own shape, so a client library raises its own
/// typed error with the engine's message (the `openai` package reads `error.message`, the
/// `anthropic` package `error.type` and `error.message`).
public enum ErrorBody {
    /// The body for `status` and `message` in `shape`.
    public static func json(status: Int, message: String, shape: ErrorShape) -> String {
        switch shape {
        case .openAI: return openAI(status: status, message: message)
        case .anthropic: return anthropic(status: status, message: message)
        }
    }

    /// OpenAI's error body as vLLM sends it: `type` a class-like name for the status
    /// (``openAIType(status:)``), `param` null, `code` the HTTP status as a number (vLLM's
    /// choice; OpenAI's own API puts a string code or null there, and the `openai` client reads
    /// neither to decide what to raise: it goes by the HTTP status).
    public static func openAI(status: Int, message: String) -> String {
        "{\"error\":{\"message\":\(JSONText.quoted(message)),\"type\":\"\(openAIType(status: status))\",\"param\":null,\"code\":\(status)}}"
    }

    /// vLLM's `type` for an HTTP status: the reason phrase as a class name (`BadRequestError`,
    /// `NotFoundError`, `InternalServerError`), for the statuses the engine answers with.
    public static func openAIType(status: Int) -> String {
        switch status {
        case 400: return "BadRequestError"
        case 401: return "UnauthorizedError"
        case 403: return "ForbiddenError"
        case 404: return "NotFoundError"
        case 405: return "MethodNotAllowedError"
        case 413: return "RequestEntityTooLargeError"
        case 429: return "TooManyRequestsError"
        case 503: return "ServiceUnavailableError"
        case 504: return "GatewayTimeoutError"
        case 507: return "InsufficientStorageError"
        case 400..<500: return "BadRequestError"
        default: return "InternalServerError"
        }
    }

    /// Anthropic's error body: `{"type": "error", "error": {"type": ..., "message": ...}}`.
    public static func anthropic(status: Int, message: String) -> String {
        "{\"type\":\"error\",\"error\":{\"type\":\"\(anthropicType(status: status))\",\"message\":\(JSONText.quoted(message))}}"
    }

    /// Anthropic's error `type` for an HTTP status, from its API's table (400
    /// `invalid_request_error`, 401 `authentication_error`, 403 `permission_error`, 404
    /// `not_found_error`, 413 `request_too_large`, 429 `rate_limit_error`, 500 `api_error`,
    /// 504 `timeout_error`, 529 `overloaded_error`). The engine's 503 (overloaded, queue full)
    /// is `overloaded_error` too, though Anthropic sends that as 529.
    public static func anthropicType(status: Int) -> String {
        switch status {
        case 401: return "authentication_error"
        case 403: return "permission_error"
        case 404: return "not_found_error"
        case 413: return "request_too_large"
        case 429: return "rate_limit_error"
        case 503, 529: return "overloaded_error"
        case 504: return "timeout_error"
        case 400..<500: return "invalid_request_error"
        default: return "api_error"
        }
    }
}

/// The bodies of `GET /v1/models`, `GET /v1/models/{id}` and `GET /version`.
///
/// A model entry has vLLM's fields (`id`, `object: "model"`, `created`, `owned_by`, `root`,
/// `parent`, `max_model_len`) and Anthropic's (`type: "model"`, `display_name`, `created_at`),
/// and the list has both APIs' (`object: "list"`, `data`; `has_more`, `first_id`, `last_id`),
/// so the `openai` and the `anthropic` packages' `models.list()` both read it. Each client
/// ignores the other's fields.
public enum ModelsBody {
    /// One model entry. `created` is seconds since 1970 (the server's start).
    public static func model(id: String, created: Int, maxModelLen: Int) -> String {
        let q = JSONText.quoted(id)
        return "{\"id\":\(q),\"object\":\"model\",\"created\":\(created),\"owned_by\":\"cicada\",\"root\":\(q),\"parent\":null,"
            + "\"max_model_len\":\(maxModelLen),\"type\":\"model\",\"display_name\":\(q),\"created_at\":\"\(rfc3339(created))\"}"
    }

    /// The list of the served models (the engine serves one).
    public static func list(ids: [String], created: Int, maxModelLen: Int) -> String {
        let data = ids.map { model(id: $0, created: created, maxModelLen: maxModelLen) }.joined(separator: ",")
        let first = ids.first.map(JSONText.quoted) ?? "null", last = ids.last.map(JSONText.quoted) ?? "null"
        return "{\"object\":\"list\",\"data\":[\(data)],\"has_more\":false,\"first_id\":\(first),\"last_id\":\(last)}"
    }

    /// The 404 message for a model id the engine does not serve (vLLM's words).
    public static func unknownModel(_ id: String) -> String { "The model `\(id)` does not exist." }

    /// `{"version": "..."}`.
    public static func version(_ version: String) -> String { "{\"version\":\(JSONText.quoted(version))}" }

    /// Seconds since 1970 as an RFC 3339 UTC time (`2026-01-02T03:04:05Z`).
    static func rfc3339(_ seconds: Int) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secs = Int64(seconds - days * 86_400)
        let (y, m, d) = CivilDate.ymd(daysSince1970: Int64(days))
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(y)-\(two(m))-\(two(d))T\(two(secs / 3600)):\(two(secs % 3600 / 60)):\(two(secs % 60))Z"
    }
}

/// OpenAI's `usage` object, with `prompt_tokens_details.cached_tokens`: the prompt tokens the
/// result cache answered for (all of them on a hit, else 0), as OpenAI and vLLM (with
/// `--enable-prompt-tokens-details`) report prefix-cache hits.
public enum OpenAIUsage {
    public static func json(promptTokens: Int, completionTokens: Int, cachedTokens: Int) -> String {
        "{\"prompt_tokens\":\(promptTokens),\"completion_tokens\":\(completionTokens),\"total_tokens\":\(promptTokens + completionTokens),"
            + "\"prompt_tokens_details\":{\"cached_tokens\":\(cachedTokens)}}"
    }
}

/// The bodies and stream events of Anthropic's Messages API (`POST /v1/messages`).
///
/// The engine always generates `max_tokens` tokens, so `stop_reason` is `max_tokens`. Usage is
/// counted as Anthropic counts it: `input_tokens` excludes the tokens read from cache, which
/// are in `cache_read_input_tokens` (all of the prompt when the result cache answered).
public enum AnthropicBody {
    /// The stop reason of every answer: the engine generates exactly `max_tokens` tokens.
    public static let stopReason = "max_tokens"

    /// Anthropic's `usage` object.
    public static func usage(inputTokens: Int, cachedTokens: Int, outputTokens: Int) -> String {
        let cached = min(max(cachedTokens, 0), inputTokens)
        return "{\"input_tokens\":\(inputTokens - cached),\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":\(cached),\"output_tokens\":\(outputTokens)}"
    }

    /// A whole (non-streamed) message.
    public static func message(id: String, model: String, text: String, inputTokens: Int, cachedTokens: Int, outputTokens: Int) -> String {
        "{\"id\":\(JSONText.quoted(id)),\"type\":\"message\",\"role\":\"assistant\",\"model\":\(JSONText.quoted(model)),"
            + "\"content\":[{\"type\":\"text\",\"text\":\(JSONText.quoted(text))}],\"stop_reason\":\"\(stopReason)\",\"stop_sequence\":null,"
            + "\"usage\":\(usage(inputTokens: inputTokens, cachedTokens: cachedTokens, outputTokens: outputTokens))}"
    }

    /// One SSE event: `event: NAME` and its `data:` line.
    public static func event(_ name: String, _ json: String) -> String { "event: \(name)\ndata: \(json)\n\n" }

    /// What a stream opens with, sent with its first token: `message_start` (an empty message
    /// with the input usage), `content_block_start` (an empty text block) and a `ping`.
    public static func streamStart(id: String, model: String, inputTokens: Int) -> String {
        let message = "{\"id\":\(JSONText.quoted(id)),\"type\":\"message\",\"role\":\"assistant\",\"model\":\(JSONText.quoted(model)),"
            + "\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":\(usage(inputTokens: inputTokens, cachedTokens: 0, outputTokens: 0))}"
        return event("message_start", "{\"type\":\"message_start\",\"message\":\(message)}")
            + event("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}")
            + event("ping", "{\"type\":\"ping\"}")
    }

    /// One token: a `content_block_delta` with a `text_delta`.
    public static func textDelta(_ text: String) -> String {
        event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\(JSONText.quoted(text))}}")
    }

    /// What a stream ends with: `content_block_stop`, `message_delta` (stop reason and the
    /// final usage) and `message_stop`.
    public static func streamEnd(inputTokens: Int, outputTokens: Int) -> String {
        event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}")
            + event("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"\(stopReason)\",\"stop_sequence\":null},"
                + "\"usage\":\(usage(inputTokens: inputTokens, cachedTokens: 0, outputTokens: outputTokens))}")
            + event("message_stop", "{\"type\":\"message_stop\"}")
    }

    /// An error inside a stream that already answered 200: `event: error` with the error body.
    public static func streamError(status: Int, message: String) -> String {
        event("error", ErrorBody.anthropic(status: status, message: message))
    }
}
