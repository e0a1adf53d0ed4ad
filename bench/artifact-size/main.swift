// A shard artifact's size against run length (bench/artifact-size.sh builds and runs this).
//
// A synthetic open-model run through the real code path: requests recorded into IntervalStats
// (four 250 ms intervals a second, as a worker posts them), ingested by the Aggregator, a
// snapshot a second handed to ShardTimelineRecorder (the per-second corrected histograms that
// make the artifact grow), then ShardArtifact(result:...) and its JSON, as `--out DIR` writes it.
// No network and no clock: simulated time, so a 3,600 s run takes seconds.
//
// usage: artifact-size SECONDS RATE OUT.json
// prints: seconds rate requests bytes bytes_with_uncompressed_histograms histograms
import CicadaCore
import Foundation

let args = CommandLine.arguments
guard args.count == 4, let seconds = Int(args[1]), seconds > 0, let rate = Int(args[2]), rate >= 4 else {
    FileHandle.standardError.write(Data("usage: artifact-size SECONDS RATE OUT.json\n".utf8))
    exit(2)
}
let out = args[3]
let names = ["chat", "embed", "slow"], methods = ["POST", "POST", "GET"], weights = [3, 2, 1]
let agg = Aggregator(names: names, methods: methods, startNanos: 0, windowSeconds: 10)
var recorder = ShardTimelineRecorder()
var rng = SeededRandom(seed: 13, stream: 0)
let startUnix = 1_780_000_000.0
let perInterval = rate / 4
var requests: UInt64 = 0
for s in 0..<seconds {
    for q in 0..<4 {
        var interval = IntervalStats(statCount: names.count)
        let base = UInt64(s) * 1_000_000_000 + UInt64(q) * 250_000_000
        for k in 0..<perInterval {
            let pick = Int(rng.next() % 6)
            let task = pick < weights[0] ? 0 : (pick < weights[0] + weights[1] ? 1 : 2)
            // Log-normal service time around 20 ms (slow: 80 ms), 1 % from a 0.2-2 s tail.
            let median = task == 2 ? 80_000.0 : 20_000.0
            var micros = median * exp(0.5 * rng.normal())
            if rng.unit() < 0.01 { micros = 200_000 + rng.unit() * 1_800_000 }
            let intended = base + UInt64(k) * (250_000_000 / UInt64(perInterval))
            let end = intended + UInt64(micros * 1000)
            let failed = rng.unit() < 0.005
            var o = RequestOutcome(statIndex: task, intendedNanos: intended, sentNanos: intended + 20_000, endNanos: end,
                                   ttfbMicros: UInt64(micros * 0.9), status: failed ? 503 : 200, failure: nil, error: nil,
                                   bytesIn: 512, bytesOut: 256)
            if failed { o.failure = .http5xx }
            interval.record(o, method: methods[task], name: names[task])
            requests += 1
        }
        agg.ingest(interval, worker: 0, gauges: WorkerGauges(users: 0, inFlight: 8), atNanos: base + 250_000_000)
    }
    // The runner's once-a-second snapshot, handed to the artifact sink's recorder.
    let snap = agg.snapshot(atNanos: UInt64(s + 1) * 1_000_000_000, targetRate: Double(rate))
    recorder.add(snap, atUnix: startUnix + Double(s) + 0.999)
}
let final = agg.snapshot(atNanos: UInt64(seconds) * 1_000_000_000, targetRate: Double(rate))
let result = RunResult(scenarioName: "artifact-size", target: "http://127.0.0.1:1", snapshot: final, thresholds: [], stopReason: .completed,
                       timeline: Timeline(), events: [], startedAtUnix: startUnix, cpuSeconds: 0, workers: 1,
                       modelDescription: "open model, \(rate)/s")
let identity = ShardArtifact.RunIdentity(scenario: "artifact-size", scenarioHash: String(repeating: "0", count: 64), seed: 13, scheduleHash: "bench")
let artifact = ShardArtifact(result: result, shard: ShardSpec(index: 0, count: 4)!, identity: identity,
                             thresholds: [ThresholdSpec("p(99)<2s"), ThresholdSpec("error_rate<1%")], timeline: recorder.records,
                             startAtUnix: nil, writtenAtUnix: startUnix + Double(seconds))
let text = artifact.json()
do { try text.write(toFile: out, atomically: true, encoding: .utf8) } catch {
    FileHandle.standardError.write(Data("artifact-size: cannot write \(out): \(error)\n".utf8))
    exit(1)
}

// The same file with every histogram in HdrHistogram's uncompressed V2 encoding instead of the
// zlib-compressed one: what the per-histogram compression saves.
var uncompressed = text.utf8.count
var histograms = 0
func walk(_ v: Any) {
    if let d = v as? [String: Any] {
        if let hdr = d["hdr"] as? String, let h = try? HdrHistogramCodec.decodeBase64(hdr) {
            histograms += 1
            uncompressed += Data(HdrHistogramCodec.encode(h, compressed: false)).base64EncodedString().utf8.count - hdr.utf8.count
        }
        for (_, x) in d { walk(x) }
    } else if let a = v as? [Any] {
        for x in a { walk(x) }
    }
}
walk(try JSONSerialization.jsonObject(with: Data(text.utf8)))
// The artifact reads back (the bench measures a valid file).
guard (try? ShardArtifact.read(Data(text.utf8))) != nil else {
    FileHandle.standardError.write(Data("artifact-size: the artifact does not read back\n".utf8))
    exit(1)
}
print(seconds, rate, requests, text.utf8.count, uncompressed, histograms)
