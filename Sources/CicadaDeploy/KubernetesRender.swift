import Foundation

/// What `cicada k8s render` turns into manifests: a scenario, its data files, the shard count,
/// where results go and the image to run.
///
/// The renderer is pure: the caller reads the files and the clock; tests give it values.
public struct KubernetesJobSpec: Sendable, Equatable {
    /// The run's name, a DNS-1123 label (lower-case letters, digits, '-'; at most 52 characters
    /// so the `-merge` Job and the pods' names still fit in 63).
    public var name: String
    /// Namespace for every object; nil leaves it to `kubectl apply -n`.
    public var namespace: String?
    /// The container image; it must have `cicada` on its PATH and `/bin/sh` (the merge step waits in a shell loop).
    public var image: String
    /// How many shards: the Indexed Job's `completions` and `parallelism`.
    public var shards: Int
    /// The scenario's file name inside the ConfigMap mount, e.g. `chat.yaml`.
    public var scenarioFileName: String
    /// The scenario's text, byte for byte.
    public var scenarioText: String
    /// The files the scenario names, with their paths as written (relative to the scenario).
    public var dataFiles: [DeployFile]
    /// The common wall-clock start every shard waits for (RFC 3339), the Job's `START_AT`.
    public var startAt: String
    /// The scenario's run time in seconds, plus its stop timeout: how long the merge step waits
    /// for the shards past `startAt` before it merges what is there.
    public var runSeconds: Int
    /// Extra seconds the merge step waits past `startAt + runSeconds` (pods scheduled late, image pulls).
    public var graceSeconds: Int
    /// Fewest shard artifacts for a passing merge (`cicada merge --min-shards`).
    public var minShards: Int
    /// An existing ReadWriteMany PersistentVolumeClaim for results; nil renders one.
    public var resultsClaim: String?
    /// The size of the rendered claim.
    public var claimSize: String
    /// The rendered claim's storage class; nil leaves the cluster's default.
    public var storageClass: String?
    /// Per-pod CPU and memory requests (and memory limit), e.g. `2` and `2Gi`; nil renders none.
    public var cpu: String?
    public var memory: String?
    /// Spread the shards over nodes strictly (`requiredDuringScheduling...`) rather than preferably.
    public var strictSpread: Bool
    /// More flags for every shard's `cicada run`, e.g. `--workers 4`.
    public var extraRunArgs: [String]

    public init(name: String, namespace: String? = nil, image: String, shards: Int, scenarioFileName: String, scenarioText: String,
                dataFiles: [DeployFile] = [], startAt: String, runSeconds: Int, graceSeconds: Int = 600, minShards: Int? = nil,
                resultsClaim: String? = nil, claimSize: String = "1Gi", storageClass: String? = nil, cpu: String? = nil, memory: String? = nil,
                strictSpread: Bool = false, extraRunArgs: [String] = []) {
        self.name = name; self.namespace = namespace; self.image = image; self.shards = shards
        self.scenarioFileName = scenarioFileName; self.scenarioText = scenarioText; self.dataFiles = dataFiles
        self.startAt = startAt; self.runSeconds = runSeconds; self.graceSeconds = graceSeconds; self.minShards = minShards ?? shards
        self.resultsClaim = resultsClaim; self.claimSize = claimSize; self.storageClass = storageClass
        self.cpu = cpu; self.memory = memory; self.strictSpread = strictSpread; self.extraRunArgs = extraRunArgs
    }
}

/// A file shipped in the scenario's ConfigMap: its path relative to the scenario's folder, and its bytes.
public struct DeployFile: Sendable, Equatable {
    public var path: String
    public var bytes: [UInt8]
    public init(path: String, bytes: [UInt8]) { self.path = path; self.bytes = bytes }
}

/// Why a spec cannot be rendered; each message says what to change.
public struct DeployError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Renders a ``KubernetesJobSpec`` as Kubernetes manifests (one multi-document YAML text):
/// a ConfigMap with the scenario and its data files, a results PersistentVolumeClaim (unless one
/// is named), an Indexed Job that runs one shard per index, and a merge Job that waits for the
/// shard artifacts and merges them into one verdict.
///
/// Where the paths live in the pods is fixed: the scenario under ``scenarioMount``, the shared
/// results under ``resultsMount``; docs/DISTRIBUTED.md explains each field.
public enum KubernetesRender {
    /// Where the ConfigMap (scenario and data files) is mounted in every pod.
    public static let scenarioMount = "/cicada/scenario"
    /// Where the shared results volume is mounted in every pod.
    public static let resultsMount = "/cicada/results"
    /// The ConfigMap size limit the API server enforces (1 MiB), less room for the object's own fields.
    public static let configMapLimit = 1_000_000

    /// The manifests, or why they cannot be made.
    public static func render(_ spec: KubernetesJobSpec) throws(DeployError) -> String {
        try validate(spec)
        var docs: [YAMLValue] = [configMap(spec)]
        if spec.resultsClaim == nil { docs.append(claim(spec)) }
        docs.append(shardJob(spec))
        docs.append(mergeJob(spec))
        var out = "# Rendered by `cicada k8s render`: run \(spec.name), \(spec.shards) shard(s) of \(spec.scenarioFileName).\n"
        out += "# Apply: kubectl apply -f THIS_FILE; wait: kubectl wait --for=condition=complete --timeout=\(spec.runSeconds + spec.graceSeconds + 120)s job/\(spec.name)-merge\n"
        for d in docs { out += "---\n" + d.yaml(indent: 0) }
        return out
    }

    /// The ConfigMap key of the scenario itself.
    static let scenarioKey = "scenario.yaml"

    static func validate(_ s: KubernetesJobSpec) throws(DeployError) {
        if !isLabel(s.name) || s.name.count > 52 {
            throw DeployError("name '\(s.name)' is not a Kubernetes name: use at most 52 lower-case letters, digits and '-', starting and ending with a letter or digit (--name)")
        }
        if let ns = s.namespace, !isLabel(ns) { throw DeployError("namespace '\(ns)' is not a Kubernetes name") }
        if s.shards < 1 || s.shards > 10_000 { throw DeployError("--shards must be between 1 and 10000, not \(s.shards)") }
        if s.minShards < 1 || s.minShards > s.shards { throw DeployError("--min-shards must be between 1 and --shards (\(s.shards)), not \(s.minShards)") }
        if s.image.isEmpty || s.image.contains(where: { $0 == " " || $0 == "\n" }) { throw DeployError("--image '\(s.image)' is not an image reference") }
        if let c = s.resultsClaim, !isLabel(c) && !isSubdomain(c) { throw DeployError("--results-claim '\(c)' is not a Kubernetes name") }
        if !isItemPath(s.scenarioFileName) || s.scenarioFileName.contains("/") { throw DeployError("scenario file name '\(s.scenarioFileName)' cannot be mounted") }
        var seen: Set<String> = [s.scenarioFileName]
        for f in s.dataFiles {
            if f.path.hasPrefix("/") {
                throw DeployError("data file '\(f.path)' is an absolute path; a pod cannot see this machine's files: give it relative to the scenario's folder")
            }
            if !isItemPath(f.path) {
                throw DeployError("data file '\(f.path)' is outside the scenario's folder (or its path cannot be mounted): move it under the scenario's folder and name it relative to it")
            }
            if !seen.insert(f.path).inserted { throw DeployError("data file '\(f.path)' is named twice") }
        }
        let total = s.scenarioText.utf8.count + s.dataFiles.reduce(0) { $0 + ($1.isText ? $1.bytes.count : ($1.bytes.count + 2) / 3 * 4) }
        if total > configMapLimit {
            throw DeployError("the scenario and its data files come to \(total) bytes; a ConfigMap holds at most about 1 MiB: ship large data files in the image or a volume and name them by absolute path in a copy of the scenario")
        }
    }

    // MARK: objects

    static func metadata(_ s: KubernetesJobSpec, name: String, component: String) -> YAMLValue {
        var m: [(String, YAMLValue)] = [("name", .string(name))]
        if let ns = s.namespace { m.append(("namespace", .string(ns))) }
        m.append(("labels", .map(labels(s, component: component))))
        return .map(m)
    }

    static func labels(_ s: KubernetesJobSpec, component: String) -> [(String, YAMLValue)] {
        [("app.kubernetes.io/name", .string("cicada")), ("app.kubernetes.io/instance", .string(s.name)),
         ("app.kubernetes.io/component", .string(component))]
    }

    static func configMap(_ s: KubernetesJobSpec) -> YAMLValue {
        var data: [(String, YAMLValue)] = [(scenarioKey, .string(s.scenarioText))]
        var binary: [(String, YAMLValue)] = []
        for (i, f) in s.dataFiles.enumerated() {
            if f.isText { data.append((fileKey(i, f), .string(String(decoding: f.bytes, as: UTF8.self)))) }
            else { binary.append((fileKey(i, f), .string(Data(f.bytes).base64EncodedString()))) }
        }
        var m: [(String, YAMLValue)] = [("apiVersion", .string("v1")), ("kind", .string("ConfigMap")),
                                        ("metadata", metadata(s, name: "\(s.name)-scenario", component: "scenario")), ("data", .map(data))]
        if !binary.isEmpty { m.append(("binaryData", .map(binary))) }
        return .map(m)
    }

    /// The ConfigMap key of data file `i`: a prefix that keeps keys apart, then the file's
    /// name with every character a key may not hold replaced.
    static func fileKey(_ i: Int, _ f: DeployFile) -> String {
        let safe = String(f.path.map { c -> Character in
            c.isASCII && (c.isLetter || c.isNumber || c == "-" || c == "_" || c == ".") ? c : "_"
        })
        return "f\(i)-" + String(safe.suffix(200))
    }

    static func claimName(_ s: KubernetesJobSpec) -> String { s.resultsClaim ?? "\(s.name)-results" }

    static func claim(_ s: KubernetesJobSpec) -> YAMLValue {
        var spec: [(String, YAMLValue)] = [("accessModes", .list([.string("ReadWriteMany")])),
                                           ("resources", .map([("requests", .map([("storage", .string(s.claimSize))]))]))]
        if let sc = s.storageClass { spec.append(("storageClassName", .string(sc))) }
        return .map([("apiVersion", .string("v1")), ("kind", .string("PersistentVolumeClaim")),
                     ("metadata", metadata(s, name: claimName(s), component: "results")), ("spec", .map(spec))])
    }

    static func volumes(_ s: KubernetesJobSpec) -> YAMLValue {
        var items: [YAMLValue] = [.map([("key", .string(scenarioKey)), ("path", .string(s.scenarioFileName))])]
        for (i, f) in s.dataFiles.enumerated() { items.append(.map([("key", .string(fileKey(i, f))), ("path", .string(f.path))])) }
        return .list([
            .map([("name", .string("scenario")), ("configMap", .map([("name", .string("\(s.name)-scenario")), ("items", .list(items))]))]),
            .map([("name", .string("results")), ("persistentVolumeClaim", .map([("claimName", .string(claimName(s)))]))]),
        ])
    }

    static let mounts: YAMLValue = .list([
        .map([("name", .string("scenario")), ("mountPath", .string(scenarioMount)), ("readOnly", .bool(true))]),
        .map([("name", .string("results")), ("mountPath", .string(resultsMount))]),
    ])

    static func resources(_ s: KubernetesJobSpec) -> YAMLValue? {
        var requests: [(String, YAMLValue)] = []
        if let c = s.cpu { requests.append(("cpu", .string(c))) }
        if let m = s.memory { requests.append(("memory", .string(m))) }
        if requests.isEmpty { return nil }
        var r: [(String, YAMLValue)] = [("requests", .map(requests))]
        if let m = s.memory { r.append(("limits", .map([("memory", .string(m))]))) }
        return .map(r)
    }

    static func container(_ s: KubernetesJobSpec, command: [String], env: [(String, String)]) -> YAMLValue {
        var c: [(String, YAMLValue)] = [("name", .string("cicada")), ("image", .string(s.image)),
                                        ("command", .list(command.map { .string($0) }))]
        c.append(("env", .list(env.map { .map([("name", .string($0.0)), ("value", .string($0.1))]) })))
        c.append(("volumeMounts", mounts))
        if let r = resources(s) { c.append(("resources", r)) }
        return .map(c)
    }

    /// The shard command: `cicada run` of the mounted scenario, artifacts to the shared volume,
    /// every shard started at `START_AT`; the index comes from `JOB_COMPLETION_INDEX`, the count from `CICADA_SHARDS`.
    public static func shardCommand(_ s: KubernetesJobSpec) -> [String] {
        ["cicada", "run", "\(scenarioMount)/\(s.scenarioFileName)", "--headless", "--out", resultsMount, "--start-at", "$(START_AT)"] + s.extraRunArgs
    }

    static func shardJob(_ s: KubernetesJobSpec) -> YAMLValue {
        let selector: YAMLValue = .map([("matchLabels", .map(labels(s, component: "shard")))])
        let term: YAMLValue = .map([("labelSelector", selector), ("topologyKey", .string("kubernetes.io/hostname"))])
        let affinity: YAMLValue = s.strictSpread
            ? .map([("podAntiAffinity", .map([("requiredDuringSchedulingIgnoredDuringExecution", .list([term]))]))])
            : .map([("podAntiAffinity", .map([("preferredDuringSchedulingIgnoredDuringExecution",
                                                .list([.map([("weight", .int(100)), ("podAffinityTerm", term)])]))]))])
        let pod: YAMLValue = .map([
            ("metadata", .map([("labels", .map(labels(s, component: "shard")))])),
            ("spec", .map([
                ("restartPolicy", .string("Never")),
                ("affinity", affinity),
                ("containers", .list([container(s, command: shardCommand(s),
                                                env: [("CICADA_SHARDS", String(s.shards)), ("START_AT", s.startAt)])])),
                ("volumes", volumes(s)),
            ])),
        ])
        let failurePolicy: YAMLValue = .map([("rules", .list([
            // Exit 2 is a usage error (a bad scenario or flag): every shard would fail alike.
            .map([("action", .string("FailJob")),
                  ("onExitCodes", .map([("containerName", .string("cicada")), ("operator", .string("In")), ("values", .list([.int(2)]))]))]),
        ]))])
        return .map([
            ("apiVersion", .string("batch/v1")), ("kind", .string("Job")),
            ("metadata", metadata(s, name: s.name, component: "shard")),
            ("spec", .map([
                ("completionMode", .string("Indexed")),
                ("completions", .int(s.shards)),
                ("parallelism", .int(s.shards)),
                ("backoffLimitPerIndex", .int(0)),
                ("podFailurePolicy", failurePolicy),
                ("template", pod),
            ])),
        ])
    }

    /// The merge step's shell script: wait until every shard's artifact is on the shared volume
    /// or the run's deadline (`START_AT` + run time + grace) has passed, then merge what is there.
    public static func mergeScript(_ s: KubernetesJobSpec) -> String {
        let r = resultsMount
        return """
        set -u
        deadline=$(( $(date -d "$START_AT" +%s) + \(s.runSeconds + s.graceSeconds) ))
        while [ "$(ls \(r)/shard-*.json 2>/dev/null | wc -l)" -lt \(s.shards) ] && [ "$(date +%s)" -lt "$deadline" ]; do sleep 5; done
        mkdir -p \(r)/merged
        exec cicada merge \(r) --min-shards \(s.minShards) --json \(r)/merged/report.json --junit \(r)/merged/junit.xml --summary-md \(r)/merged/summary.md

        """
    }

    static func mergeJob(_ s: KubernetesJobSpec) -> YAMLValue {
        let pod: YAMLValue = .map([
            ("metadata", .map([("labels", .map(labels(s, component: "merge")))])),
            ("spec", .map([
                ("restartPolicy", .string("Never")),
                ("containers", .list([container(s, command: ["/bin/sh", "-c", mergeScript(s)], env: [("START_AT", s.startAt)])])),
                ("volumes", volumes(s)),
            ])),
        ])
        return .map([
            ("apiVersion", .string("batch/v1")), ("kind", .string("Job")),
            ("metadata", metadata(s, name: "\(s.name)-merge", component: "merge")),
            ("spec", .map([("backoffLimit", .int(0)), ("template", pod)])),
        ])
    }

    // MARK: names

    static func isLabel(_ s: String) -> Bool {
        guard let f = s.first, let l = s.last, s.count <= 63 else { return false }
        func ok(_ c: Character) -> Bool { c.isASCII && (c.isLowercase || c.isNumber) }
        return ok(f) && ok(l) && s.allSatisfy { ok($0) || $0 == "-" }
    }

    static func isSubdomain(_ s: String) -> Bool {
        s.count <= 253 && s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isLabel(String($0)) }
    }

    /// A ConfigMap item path: relative, no `..` element, no empty element.
    static func isItemPath(_ p: String) -> Bool {
        if p.isEmpty || p.hasPrefix("/") { return false }
        let parts = p.split(separator: "/", omittingEmptySubsequences: false)
        return !parts.contains { $0.isEmpty || $0 == ".." || $0 == "." }
    }

    /// A name for the run from a scenario's file name: lower-cased, other characters as '-'.
    public static func defaultName(fromFile file: String) -> String {
        var base = Substring(file.split(separator: "/").last ?? "run")
        if let dot = base.lastIndex(of: ".") { base = base[..<dot] }
        var out = ""
        for c in base.lowercased() {
            let ok = c.isASCII && (c.isLetter || c.isNumber)
            if ok { out.append(c) } else if !out.isEmpty, out.last != "-" { out.append("-") }
        }
        while out.last == "-" { out.removeLast() }
        out = String(("cicada-" + out).prefix(52))
        while out.last == "-" { out.removeLast() }
        return out == "cicada" ? "cicada-run" : out
    }
}

extension DeployFile {
    /// Whether the bytes are UTF-8 text that a ConfigMap's `data` may hold.
    var isText: Bool {
        guard let s = String(validating: bytes, as: UTF8.self) else { return false }
        return !s.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" && $0 != "\t" && $0 != "\r" || $0.value == 0x7f }
    }
}
