@preconcurrency import Foundation
import CicadaCore
import Synchronization
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// `--requests-out FILE.jsonl`: one JSON line per request, written by a thread of its own.
///
/// The runner hands over the records it drains from the workers' intervals (``accept(_:droppedUpstream:)``,
/// a short lock and an append); the writer thread takes the whole queue at once, formats the
/// lines and writes them. The queue holds at most ``capacity`` records: when the disk is slower
/// than the load, the records that do not fit are dropped and counted (the summary says how
/// many), so memory stays flat and neither the workers nor the runner ever wait on the disk.
/// The file is written under `FILE.partial` and renamed when finished, as the CSV history is.
public final class RequestLogWriter: RequestRecordSink, @unchecked Sendable {
    public let path: String
    /// Records the queue holds at most.
    public let capacity: Int
    let names: [String]
    /// The model of each stat name, when its task's body names one.
    let models: [String?]
    /// The run's breakdown groups: a record's turn and picked model.
    let groups: [BreakdownKey]
    let fraction: Double
    /// Where the run started on the run's clock (read when formatting: set before any request).
    let runStartNanos: @Sendable () -> UInt64
    /// One instant on both clocks, to turn the run's monotonic nanoseconds into wall-clock time.
    let originNanos: UInt64
    let originUnixMicros: Int64

    private struct State {
        var queue: [RequestRecord] = []
        var dropped: UInt64 = 0
        var finishing = false
    }
    private let state = Mutex(State())
    private let ready = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private let fd: Int32
    private let tmp: String
    // Touched only by the writer thread until `finish` has joined it.
    private var written: UInt64 = 0
    private var writeError: String?

    /// Creates `path + ".partial"`; the thread starts at once and waits for records.
    ///
    /// - Parameters:
    ///   - plan: the run's plan (stat names, tasks' models, sampling).
    ///   - clock: the run's clock; now on it and the wall clock now make the origin.
    ///   - runStartNanos: the run's start on `clock`, read when the first line is formatted.
    public init(path: String, plan: RunPlan, clock: any TimeSource = MonotonicTimeSource(), capacity: Int = 200_000,
                runStartNanos: @escaping @Sendable () -> UInt64) throws(SessionError) {
        self.path = path
        self.capacity = max(1, capacity)
        self.names = plan.statNames
        var models = [String?](repeating: nil, count: plan.statNames.count)
        for (i, task) in plan.scenario.tasks.enumerated() where models[plan.taskStat[i]] == nil {
            models[plan.taskStat[i]] = task.body.flatMap(Self.model(in:))
        }
        self.models = models
        self.groups = plan.breakdown.keys
        self.fraction = plan.requestSampling?.fraction ?? 1
        self.runStartNanos = runStartNanos
        self.originNanos = clock.nowNanos()
        self.originUnixMicros = Int64((Date().timeIntervalSince1970 * 1e6).rounded())
        tmp = path + ".partial"
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .usage("error: --requests-out: cannot create \(tmp): \(String(cString: strerror(errno)))") }
        let t = Thread { [self] in loop() }
        t.name = "cicada-requests-out"
        t.start()
    }

    /// The model a task's body names as a literal `"model": "..."`, if any.
    static func model(in body: Template) -> String? {
        var text = ""
        for seg in body.segments { if case .literal(let s) = seg.part { text += s } else { text += "\u{0}" } }
        guard let key = text.range(of: "\"model\"") else { return nil }
        var rest = text[key.upperBound...].drop(while: { $0 == " " })
        guard rest.first == ":" else { return nil }
        rest = rest.dropFirst().drop(while: { $0 == " " })
        guard rest.first == "\"" else { return nil }
        rest = rest.dropFirst()
        guard let end = rest.firstIndex(where: { $0 == "\"" || $0 == "\\" || $0 == "\u{0}" }), rest[end] == "\"" else { return nil }
        return String(rest[..<end])
    }

    public func accept(_ records: [RequestRecord], droppedUpstream: UInt64) {
        state.withLock { s in
            s.dropped += droppedUpstream
            let room = max(0, capacity - s.queue.count)
            if records.count <= room { s.queue += records } else {
                s.queue += records.prefix(room)
                s.dropped += UInt64(records.count - room)
            }
        }
        ready.signal()
    }

    /// Writes what is queued, stops the thread, renames the file; what was written and lost.
    public func finish() -> RequestLogSummary {
        state.withLock { $0.finishing = true }
        ready.signal()
        done.wait()
        if close(fd) != 0, writeError == nil { writeError = "close: \(String(cString: strerror(errno)))" }
        if writeError == nil, rename(tmp, path) != 0 { writeError = "rename to \(path): \(String(cString: strerror(errno)))" }
        let dropped = state.withLock { $0.dropped }
        return RequestLogSummary(path: path, written: written, dropped: dropped, fraction: fraction, error: writeError)
    }

    private func loop() {
        while true {
            ready.wait()
            let (batch, finishing) = state.withLock { s -> ([RequestRecord], Bool) in
                defer { s.queue = [] }
                return (s.queue, s.finishing)
            }
            if !batch.isEmpty { write(batch) }
            if finishing {
                // Anything accepted after the last take (none once the run is over) goes too.
                let rest = state.withLock { s -> [RequestRecord] in defer { s.queue = [] }; return s.queue }
                if !rest.isEmpty { write(rest) }
                done.signal()
                return
            }
        }
    }

    private func write(_ batch: [RequestRecord]) {
        guard writeError == nil else {
            state.withLock { $0.dropped += UInt64(batch.count) }
            return
        }
        let start = runStartNanos()
        var text = ""
        text.reserveCapacity(batch.count * 420)
        for r in batch { text += line(r, start: start); text += "\n" }
        var bytes = Array(text.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + off, $0.count - off) }
            if n < 0 {
                if errno == EINTR { continue }
                writeError = String(cString: strerror(errno))
                // The lines of this batch are lost: counted as dropped, never as written.
                state.withLock { $0.dropped += UInt64(batch.count) }
                return
            }
            off += n
        }
        bytes.removeAll()
        written += UInt64(batch.count)
    }

    /// One request's line (keys in docs/REPORT-SCHEMA.md, "Per-request export").
    func line(_ r: RequestRecord, start: UInt64) -> String {
        func wall(_ n: UInt64) -> String { String(originUnixMicros + (Int64(bitPattern: n) - Int64(bitPattern: originNanos)) / 1000) }
        func offset(_ n: UInt64) -> String { String((Int64(bitPattern: n) - Int64(bitPattern: start)) / 1000) }
        var s = "{\"worker\":\(r.worker),\"seq\":\(r.sequence),\"task\":\(JSONText.quoted(names[r.statIndex]))"
        func group(_ i: Int) -> BreakdownKey? { i >= 0 && i < groups.count ? groups[i] : nil }
        var model = models[r.statIndex]
        if case .model(let m)? = group(r.modelGroup) { model = m }
        s += ",\"model\":" + (model.map(JSONText.quoted) ?? "null")
        if case .turn(let t)? = group(r.turnGroup) { s += ",\"turn\":\(t)" } else { s += ",\"turn\":null" }
        s += ",\"window\":\"\(r.phase.rawValue)\""
        for (key, n) in [("intended", r.intendedNanos), ("sent", r.sentNanos), ("first_byte", r.firstByteNanos), ("first_token", r.firstTokenNanos),
                         ("first_reasoning", r.firstReasoningNanos), ("first_answer", r.firstAnswerNanos), ("end", r.endNanos)] as [(String, UInt64?)] {
            if let n { s += ",\"\(key)_unix_us\":\(wall(n)),\"\(key)_offset_us\":\(offset(n))" }
            else { s += ",\"\(key)_unix_us\":null,\"\(key)_offset_us\":null" }
        }
        s += ",\"status\":\(r.status),\"failure\":" + (r.failure.map { "\"\($0.rawValue)\"" } ?? "null")
        func count(_ v: Int?) -> String { v.map(String.init) ?? "null" }
        s += ",\"tokens_in\":\(count(r.inputTokens)),\"tokens_out\":\(count(r.outputTokens)),\"reasoning_tokens\":\(count(r.reasoningTokens))"
        s += ",\"token_method\":" + (r.tokenMethod.map { "\"\($0.rawValue)\"" } ?? "null") + "}"
        return s
    }
}
