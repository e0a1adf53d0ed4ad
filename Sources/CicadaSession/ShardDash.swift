import CicadaTelemetry
import CicadaTransport
import Foundation
import Synchronization

/// `cicada dash --shards URL...`, headless: polls each shard's `--status-port` `/metrics`
/// once an interval and prints one line of the merged live figures (``MergedLiveFigures``).
public enum ShardDash {
    /// The scrape URLs: each given URL and each line of `file` (blank lines and `#` comments
    /// skipped); a URL with no path gets `/metrics`.
    ///
    /// - Throws: ``SessionError`` (usage) naming the file and line of a bad URL, or when there is none.
    public static func urls(_ given: [String], file: String?) throws(SessionError) -> [String] {
        var entries = given.map { ($0, "--shards") }
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else { throw .usage("error: --shards-file \(file): cannot be read") }
            for (i, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let t = line.trimmingCharacters(in: .whitespaces)
                if t.isEmpty || t.hasPrefix("#") { continue }
                entries.append((t, "\(file):\(i + 1)"))
            }
        }
        guard !entries.isEmpty else { throw .usage("error: no shard URLs: give --shards URL... or --shards-file FILE") }
        return try entries.map { (url, origin) throws(SessionError) in
            guard let u = URLComponents(string: url), u.scheme == "http" || u.scheme == "https", u.host?.isEmpty == false else {
                throw .usage("error: \(origin): '\(url)' is not an http(s) URL of a shard's --status-port")
            }
            return (u.path.isEmpty || u.path == "/") ? url.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/metrics" : url
        }
    }

    /// One poll: each shard's figures, nil for a shard that did not answer or sent no Prometheus text.
    public static func poll(_ urls: [String], timeout: Duration) -> [ShardLiveFigures?] {
        let out = Mutex([ShardLiveFigures?](repeating: nil, count: urls.count))
        DispatchQueue.concurrentPerform(iterations: urls.count) { i in
            guard let body = try? HTTPGet.fetch(urls[i], timeout: timeout), let scrape = try? PrometheusText.parse(bytes: body) else { return }
            let f = ShardLiveFigures(scrape)
            out.withLock { $0[i] = f }
        }
        return out.withLock { $0 }
    }

    /// Polls every `interval` and prints a line each time; stops after `count` lines, or once
    /// shards that answered have all stopped answering for three polls in a row (their runs
    /// ended). Returns the exit status: 0, or 1 when no shard ever answered.
    public static func run(urls: [String], interval: Duration, count: Int?, output: SessionOutput) -> Int32 {
        var previous: MergedLiveFigures?
        var lines = 0, silent = 0, everAnswered = false
        let clock = ContinuousClock()
        var last = clock.now
        while count.map({ lines < $0 }) ?? true {
            let started = clock.now
            let merged = MergedLiveFigures(poll(urls, timeout: .seconds(2)))
            let seconds = Double((started - last).components.attoseconds) / 1e18 + Double((started - last).components.seconds)
            output.summary(merged.line(previous: previous, seconds: seconds) + "\n")
            lines += 1
            if merged.answered > 0 { everAnswered = true; silent = 0; previous = merged; last = started } else { silent += 1 }
            if everAnswered && silent >= 3 && count == nil { break }
            if count.map({ lines >= $0 }) ?? false { break }
            let next = started + interval
            if next > clock.now { Thread.sleep(forTimeInterval: Double((next - clock.now).components.attoseconds) / 1e18 + Double((next - clock.now).components.seconds)) }
        }
        if !everAnswered { output.log("error: no shard answered (\(urls.joined(separator: ", ")))"); return ExitStatus.toolError }
        return ExitStatus.ok
    }
}
