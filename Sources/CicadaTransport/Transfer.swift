import CCurl
import CicadaCore

/// One reusable curl easy handle and the state of the request it carries.
///
/// Transfers are pooled per worker: a handle keeps its connection in the multi handle's cache
/// between requests (keep-alive), and the object doubles as the write callback's context, so
/// no closure captures anything (see docs/DECISIONS.md on C callbacks).
final class Transfer {
    let easy: UnsafeMutableRawPointer
    /// Whether the response body is kept for checks (else only counted).
    var keepBody = false
    /// Whether the handle is in the multi handle now.
    var active = false
    var body: [UInt8] = []
    var bytesIn: UInt64 = 0
    var bytesOut: UInt64 = 0
    /// Headers owned by this request (templated ones), freed when it completes.
    var ownedHeaders: UnsafeMutablePointer<curl_slist>?
    // What the request is, for recording its outcome.
    var statIndex = 0
    var task: TaskRef = .task(0)
    /// Local user slot, or -1 for an open-model arrival.
    var userSlot = -1
    var intendedNanos: UInt64 = 0
    /// The part of the run it started in (warm-up, measured, cool-down).
    var phase = MeasurementPhase.measured
    var sentNanos: UInt64 = 0
    /// OpenAI and Anthropic kinds: look at the Content-Type on the first body bytes and, for an
    /// SSE stream, time every chunk as it arrives (in the write callback, not after the body is complete).
    var measureStream = false
    /// Whose stream it is: how its events are classified.
    var streamDialect = StreamTiming.Dialect.openAI
    /// Keep the stream's text for the scenario's tokenizer.
    var keepsStreamText = false
    var streamChecked = false
    var sse: SSEParser?
    var timing: StreamTiming?
    var clock: (any TimeSource)?
    /// Keep the body for checks even when it is a stream.
    var checksNeedBody = false
    /// The task whose constant request the handle's options are set up for, and the target
    /// generation they were set for; nil after a reset or a transport error.
    var setupKey: Int?
    var setupGeneration = 0
    /// How many times libcurl was about to send this request (its pre-request callback); more
    /// than one is a re-send libcurl chose by itself after a connection died.
    var attempts = 0
    /// When a re-send was refused: the request ends there as a `connection_reset` (its
    /// connection, or its HTTP/2 stream, died before the response), never sent twice.
    var refusedResendNanos: UInt64?
    /// Breakdown groups of the request (turn, model); -1 for none.
    var turnGroup = -1
    var modelGroup = -1
    var splitGroup = -1
    var splitStepSlot = -1
    /// Multi-turn chat: the conversation's key in the worker (-1 for none), the user's text of
    /// this turn, and the answer's text as it streams in (captured only for conversations).
    var chatKey = -1
    var chatUserText = ""
    var captureAnswer = false
    var answer = ""

    /// A task or an on_start step, by index.
    enum TaskRef { case task(Int), onStart(Int) }

    /// The most body bytes kept for checks; the rest is counted but not stored.
    static let bodyLimit = 1 << 20

    init?() {
        guard let h = curl_easy_init() else { return nil }
        easy = h
    }

    deinit {
        if let l = ownedHeaders { curl_slist_free_all(l) }
        curl_easy_cleanup(easy)
    }

    /// For an OpenAI or Anthropic kind, once per response (on its first body bytes, or at its end when it had
    /// none): a `text/event-stream` response gets a parser and a timing, so it is judged as a
    /// stream even when its body is empty.
    func checkForEventStream() {
        guard measureStream, !streamChecked else { return }
        streamChecked = true
        var ct: UnsafePointer<CChar>?
        if ccurl_easy_getinfo_string(easy, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK, let ct,
           String(cString: ct).lowercased().hasPrefix("text/event-stream") {
            sse = SSEParser()
            timing = StreamTiming(sentNanos: sentNanos, dialect: streamDialect)
            timing?.keepsText = keepsStreamText
            keepBody = checksNeedBody
        }
    }

    func prepareForReuse() {
        body.removeAll(keepingCapacity: body.capacity <= 64 * 1024)
        streamChecked = false
        sse = nil
        timing = nil
        bytesIn = 0
        bytesOut = 0
        turnGroup = -1; modelGroup = -1; splitGroup = -1; splitStepSlot = -1
        chatKey = -1; captureAnswer = false
        if !answer.isEmpty { answer = "" }
        if let l = ownedHeaders { curl_slist_free_all(l); ownedHeaders = nil }
    }
}

/// curl's write callback: counts (and, for checks, keeps) response bytes.
let transferWriteCallback: ccurl_write_callback = { ptr, size, nmemb, userdata in
    let n = size * nmemb
    guard let userdata else { return n }
    let t = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
    t.bytesIn += UInt64(n)
    if t.measureStream {
        t.checkForEventStream()
        if t.sse != nil, let ptr, let clock = t.clock {
            let now = clock.nowNanos()
            t.sse!.feed(UnsafeRawBufferPointer(start: ptr, count: n)) { event in
                let c = t.streamDialect.classify(event)
                if t.captureAnswer, case .choices(let content, _, _, _) = c { t.answer += content }
                t.timing?.record(c, atNanos: now)
            }
        }
    }
    if t.keepBody, let ptr, t.body.count < Transfer.bodyLimit {
        let take = min(n, Transfer.bodyLimit - t.body.count)
        ptr.withMemoryRebound(to: UInt8.self, capacity: take) { p in
            t.body.append(contentsOf: UnsafeBufferPointer(start: p, count: take))
        }
    }
    return n
}

/// curl's pre-request callback: called each time libcurl is about to send this transfer's
/// request on a connection. libcurl re-sends a request on its own when a reused connection
/// dies before the first response byte (and an HTTP/2 stream that was refused, or whose
/// connection closed, before any byte); a load tester that let that happen would report one
/// healthy request where the server saw two, one of them failed. So a second call refuses the
/// re-send: the request ends as `connection_reset`. Over HTTP/2 libcurl 7.88 gives no way to
/// tell a stream the server refused unprocessed (GOAWAY) from one whose connection died, so
/// both count; see docs/DECISIONS.md and RELIABILITY.md.
let transferPrereqCallback: ccurl_prereq_callback = { clientp, _, _, _, _ in
    guard let clientp else { return 0 }
    let t = Unmanaged<Transfer>.fromOpaque(clientp).takeUnretainedValue()
    t.attempts += 1
    guard t.attempts > 1 else { return 0 }
    t.refusedResendNanos = t.clock?.nowNanos()
    return 1   // CURL_PREREQFUNC_ABORT
}
