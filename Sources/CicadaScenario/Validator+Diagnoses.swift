import CicadaCore
import Yams

/// `diagnoses:`: the diagnosis rules' thresholds, and the rules to turn off.
extension Validator {
    static let diagnosisKeys = ["gpu_memory", "memory", "inconsistent", "fit", "gpu_spread", "p99_over_p50", "lag_p99", "generator_cpu", "corrected_over_raw", "off"]

    func diagnosisLimits(_ n: Node) -> DiagnosisLimits {
        var limits = DiagnosisLimits()
        let p = "diagnoses"
        guard let m = mapping(n, p, allowed: Self.diagnosisKeys) else { return limits }
        /// A fraction given as 0.9 or "90%".
        func fraction(_ key: String) -> Double? {
            guard let v = m[key] else { return nil }
            let text = v.value.scalar?.string ?? ""
            let number = text.hasSuffix("%") ? Double(text.dropLast()).map { $0 / 100 } : Double(text)
            guard let f = number, f > 0, f <= 1 else { fail(v.value, "\(p).\(key)", "expected a fraction such as 0.9 or 90%, found '\(text)'"); return nil }
            return f
        }
        func ratio(_ key: String) -> Double? {
            guard let v = m[key], let r = double(v.value, "\(p).\(key)", positive: true) else { return nil }
            if r < 1 { fail(v.value, "\(p).\(key)", "a ratio of at least 1, found \(r)"); return nil }
            return r
        }
        if let f = fraction("gpu_memory") { limits.gpuMemoryFraction = f }
        if let f = fraction("memory") { limits.memoryFraction = f }
        if let v = m["inconsistent"], let f = self.fraction(v.value, "\(p).inconsistent") { limits.inconsistentFraction = f }
        if let f = fraction("fit") { limits.fitFraction = f }
        if let f = fraction("gpu_spread") { limits.gpuSpread = f }
        if let f = fraction("generator_cpu") { limits.generatorCPU = f }
        if let r = ratio("p99_over_p50") { limits.p99OverP50 = r }
        if let r = ratio("corrected_over_raw") { limits.correctedOverRaw = r }
        if let v = m["lag_p99"], let sv = v.value.scalar?.string {
            if let d = DurationText.parse(sv, defaultUnit: .milliseconds) { limits.lagP99Millis = d.seconds * 1000 } else {
                fail(v.value, "\(p).lag_p99", "expected a duration such as 10ms (a bare number is ms)")
            }
        }
        if let v = m["off"], let items = list(v.value, "\(p).off") {
            for (i, item) in items.enumerated() {
                guard let name = string(item, "\(p).off[\(i)]") else { continue }
                if DiagnosisRules.names.contains(name) { limits.off.insert(name) } else {
                    fail(item, "\(p).off[\(i)]", "unknown diagnosis '\(name)'",
                         hint: Suggest.closest(name, in: DiagnosisRules.names).map { "did you mean '\($0)'?" } ?? "one of \(DiagnosisRules.names.joined(separator: ", "))")
                }
            }
        }
        return limits
    }
}

/// `baseline:`: a stored JSON report and the regressions the run may not exceed.
extension Validator {
    func baselineSpec(_ n: Node) -> BaselineSpec? {
        let p = "baseline"
        guard let m = mapping(n, p, allowed: ["file", "max_regression"]) else { return nil }
        guard let f = m["file"], let file = string(f.value, "\(p).file") else { fail(n, p, "needs 'file' (a JSON report written by cicada run --json)"); return nil }
        guard let r = m["max_regression"], let items = list(r.value, "\(p).max_regression"), !items.isEmpty else {
            fail(n, p, "needs 'max_regression': a list such as [\"p(99)=+10%\", \"error_rate=+0.5%\"]"); return nil
        }
        var bounds: [RegressionBound] = []
        for (i, item) in items.enumerated() {
            guard let text = string(item, "\(p).max_regression[\(i)]") else { continue }
            do { bounds.append(try RegressionBound(parsing: text)) } catch {
                fail(item, "\(p).max_regression[\(i)]", error.description.replacingOccurrences(of: "--max-regression ", with: ""))
            }
        }
        let full = dataFile(file, key: "\(p).file")
        return BaselineSpec(file: full, bounds: bounds)
    }
}
