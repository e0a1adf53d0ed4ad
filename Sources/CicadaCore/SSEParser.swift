/// One Server-Sent Event, as an `EventSource` would dispatch it.
///
/// Only what a load generator needs of the WHATWG event: its type, its data and the last
/// event ID; the origin and the `retry` reconnection time play no part in measurement.
public struct SSEEvent: Sendable, Equatable {
    /// The event type from an `event:` field; nil for the default type (the spec's "message").
    public var event: String?
    /// The `data:` lines of the event joined by "\n", without the final line feed.
    public var data: String
    /// The last event ID in force when the event was dispatched (per spec it persists from one
    /// event to the next until another `id:` field changes it); nil when empty.
    public var id: String?

    /// Makes an event; the parser makes them, tests compare against them.
    public init(event: String? = nil, data: String, id: String? = nil) {
        self.event = event
        self.data = data
        self.id = id
    }
}

/// An incremental SSE parser (WHATWG EventSource rules) fed arbitrary byte chunks from the network.
///
/// The network splits a stream anywhere: inside a line, between the CR and LF of one line
/// ending, inside a multi-byte UTF-8 character. So the parser works on bytes and decodes only
/// whole events: the current line lives in one reusable byte buffer and the event's data in
/// another, both keeping their capacity from line to line, so the hot path makes no per-byte
/// String appends and, once warm, no allocations except the dispatched event's strings.
///
/// Rules (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
/// lines end in CRLF, LF or CR; a UTF-8 BOM at stream start is skipped; `:` starts a comment;
/// `field: value` strips one space after the colon; a line without a colon is a field with an
/// empty value; `data` lines accumulate joined by "\n"; `event` sets the type; `id` sets the last
/// event ID (ignored when it contains NUL); other fields (`retry` included) are ignored; an empty
/// line dispatches the event unless its data buffer is empty; an event still open at the end of
/// the stream is discarded.
///
/// Memory is bounded: a non-comment line longer than ``maxLineBytes`` is dropped (counted in
/// ``oversizedLines``), and so is the event it belongs to, as is an event whose data grows past
/// ``maxLineBytes`` (both counted in ``droppedEvents``): dispatching truncated JSON would only
/// turn into a confusing parse failure later. Comment lines are skipped without being buffered,
/// so keep-alive padding of any length costs nothing.
public struct SSEParser: Sendable {
    /// The default bound on one line and on one event's data: 8 MiB.
    public static let defaultMaxLineBytes = 8 * 1024 * 1024

    /// The longest line (and the largest event data) kept, in bytes.
    public let maxLineBytes: Int
    /// Whether ``finish(_:)`` found an event that had data but never got its final blank line.
    ///
    /// Per spec such an event is not dispatched; a stream cut off mid-event is a failure the
    /// caller may want to report, so it is recorded rather than silently lost.
    public private(set) var discardedIncompleteEvent = false
    /// Lines longer than ``maxLineBytes`` that were dropped.
    public private(set) var oversizedLines = 0
    /// Events not dispatched because one of their lines, or their data, exceeded ``maxLineBytes``.
    public private(set) var droppedEvents = 0

    /// What the bytes of the current line are being used for.
    private enum LineState: Sendable { case empty, buffering, comment, oversized }

    private var line: [UInt8] = []
    private var lineState = LineState.empty
    private var data: [UInt8] = []
    private var eventType: [UInt8] = []
    private var lastEventID: String?
    private var eventDropped = false
    /// The previous chunk ended in CR, so an LF opening the next chunk ends no second line.
    private var skipLeadingLF = false
    /// The next line processed is the stream's first, where a BOM may stand.
    private var atStreamStart = true

    /// Buffers that grew past this are released rather than kept, so one huge event does not
    /// pin megabytes for the rest of a long-lived connection.
    private static let keptCapacity = 64 * 1024

    /// Makes a parser for one stream; `maxLineBytes` bounds a line and an event's data.
    public init(maxLineBytes: Int = SSEParser.defaultMaxLineBytes) {
        self.maxLineBytes = max(1, maxLineBytes)
    }

    /// Feeds bytes; calls `onEvent` for each complete event (dispatched on a blank line).
    ///
    /// The chunk may end anywhere; whatever is left of an unfinished line is kept for the next call.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ onEvent: (SSEEvent) -> Void) {
        guard !bytes.isEmpty else { return }
        bytes.withMemoryRebound(to: UInt8.self) { buf in
            let n = buf.count
            var i = 0
            if skipLeadingLF {
                skipLeadingLF = false
                if buf[0] == Self.lf { i = 1 }
            }
            while i < n {
                var j = i
                while j < n, buf[j] != Self.lf, buf[j] != Self.cr { j += 1 }
                if j > i { append(UnsafeBufferPointer(rebasing: buf[i..<j])) }
                if j == n { break }
                if buf[j] == Self.cr {
                    // CRLF is one line ending, even when the chunk boundary falls between them.
                    if j + 1 < n {
                        if buf[j + 1] == Self.lf { j += 1 }
                    } else {
                        skipLeadingLF = true
                    }
                }
                endLine(onEvent)
                i = j + 1
            }
        }
    }

    /// Feeds bytes from an array; the convenience form of the raw-buffer `feed`.
    public mutating func feed(_ bytes: [UInt8], _ onEvent: (SSEEvent) -> Void) {
        bytes.withUnsafeBytes { feed($0, onEvent) }
    }

    /// Ends the stream: an event without its final blank line is not dispatched but recorded.
    ///
    /// Per spec the pending data at end of stream is discarded, so `onEvent` is never called;
    /// it is taken so a caller's end-of-body path reads like its chunk path. Sets
    /// ``discardedIncompleteEvent`` when the pending event had data, or was already being dropped
    /// as oversized (a trailing line without its line ending counts as the line it would have been). Afterwards the parser starts a new
    /// stream; ``reset()`` also clears the counters.
    public mutating func finish(_ onEvent: (SSEEvent) -> Void) {
        if lineState == .buffering { processLine() }
        if !data.isEmpty || eventDropped { discardedIncompleteEvent = true }
        clearLine()
        clearEvent()
        lastEventID = nil
        skipLeadingLF = false
        atStreamStart = true
    }

    /// Forgets the stream and the counters, keeping the buffers' capacity for the next stream.
    public mutating func reset() {
        clearLine()
        clearEvent()
        lastEventID = nil
        skipLeadingLF = false
        atStreamStart = true
        discardedIncompleteEvent = false
        oversizedLines = 0
        droppedEvents = 0
    }

    // MARK: - Lines

    private static let lf = UInt8(ascii: "\n")
    private static let cr = UInt8(ascii: "\r")
    private static let colon = UInt8(ascii: ":")
    private static let space = UInt8(ascii: " ")

    /// Adds a run of bytes (no CR or LF) to the current line.
    private mutating func append(_ run: UnsafeBufferPointer<UInt8>) {
        switch lineState {
        case .empty:
            // A comment is never needed, so it is never buffered. (A comment behind a BOM on the
            // first line is buffered and recognised in `processLine` instead.)
            if run[0] == Self.colon {
                lineState = .comment
                return
            }
            lineState = .buffering
            appendBuffered(run)
        case .buffering:
            appendBuffered(run)
        case .comment, .oversized:
            return
        }
    }

    private mutating func appendBuffered(_ run: UnsafeBufferPointer<UInt8>) {
        if line.count + run.count > maxLineBytes {
            lineState = .oversized
            oversizedLines += 1
            eventDropped = true
            line = []
            return
        }
        line.append(contentsOf: run)
    }

    /// Handles a line ending: an empty line dispatches, any other line is interpreted.
    private mutating func endLine(_ onEvent: (SSEEvent) -> Void) {
        switch lineState {
        case .empty:
            atStreamStart = false
            dispatch(onEvent)
        case .buffering:
            if processLine() { dispatch(onEvent) }
        case .comment, .oversized:
            atStreamStart = false
        }
        clearLine()
    }

    /// Interprets the buffered line; returns true when it turned out empty (a lone BOM).
    @discardableResult
    private mutating func processLine() -> Bool {
        var start = 0
        if atStreamStart {
            atStreamStart = false
            if line.count >= 3, line[0] == 0xEF, line[1] == 0xBB, line[2] == 0xBF { start = 3 }
        }
        let end = line.count
        if start == end { return true }
        if line[start] == Self.colon { return false }
        var colonAt = start
        while colonAt < end, line[colonAt] != Self.colon { colonAt += 1 }
        var valueStart = min(colonAt + 1, end)
        if valueStart < end, line[valueStart] == Self.space { valueStart += 1 }
        let name = line[start..<colonAt]
        if name.elementsEqual("data".utf8) {
            guard !eventDropped else { return false }
            if data.count + (end - valueStart) + 1 > maxLineBytes {
                eventDropped = true
                data.removeAll(keepingCapacity: data.capacity <= Self.keptCapacity)
                return false
            }
            data.append(contentsOf: line[valueStart..<end])
            data.append(Self.lf)
        } else if name.elementsEqual("event".utf8) {
            eventType.removeAll(keepingCapacity: true)
            eventType.append(contentsOf: line[valueStart..<end])
        } else if name.elementsEqual("id".utf8) {
            let value = line[valueStart..<end]
            if !value.contains(0) {
                lastEventID = value.isEmpty ? nil : String(decoding: value, as: UTF8.self)
            }
        }
        return false
    }

    /// Dispatches the pending event (if it has data) and starts the next one.
    private mutating func dispatch(_ onEvent: (SSEEvent) -> Void) {
        defer { clearEvent() }
        if eventDropped {
            droppedEvents += 1
            return
        }
        guard !data.isEmpty else { return }
        // Invalid UTF-8 becomes U+FFFD, as the spec's UTF-8 decode does.
        let text = String(decoding: data[0..<(data.count - 1)], as: UTF8.self)
        let type = eventType.isEmpty ? nil : String(decoding: eventType, as: UTF8.self)
        onEvent(SSEEvent(event: type, data: text, id: lastEventID))
    }

    private mutating func clearLine() {
        lineState = .empty
        line.removeAll(keepingCapacity: line.capacity <= Self.keptCapacity)
    }

    private mutating func clearEvent() {
        data.removeAll(keepingCapacity: data.capacity <= Self.keptCapacity)
        eventType.removeAll(keepingCapacity: true)
        eventDropped = false
    }
}
