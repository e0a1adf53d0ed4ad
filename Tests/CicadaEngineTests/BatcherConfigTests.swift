import Foundation
import Testing

import CicadaEngine

@Suite("BatcherConfig")
struct BatcherConfigTests {
    @Test("the defaults and every preset validate")
    func presetsValidate() {
        #expect(BatcherConfig().validate().isEmpty)
        for preset in BatcherConfig.presets {
            #expect(preset.config.validate().isEmpty, "preset \(preset.name)")
        }
    }

    @Test("presets come in a fixed order with the documented settings")
    func presetOrderAndValues() {
        #expect(BatcherConfig.presets.map(\.name) == ["no-batching", "seed", "low-latency", "throughput"])
        #expect(BatcherConfig.noBatching.maxBatchSize == 1)
        #expect(BatcherConfig.noBatching.maxQueueDelayMicros == 0)
        #expect(BatcherConfig.seed.maxBatchSize == 64)
        #expect(BatcherConfig.seed.preferredBatchSizes == [16, 32, 64])
        #expect(BatcherConfig.seed.maxQueueDelayMicros == 10_000)
        #expect(BatcherConfig.preset(named: "low-latency") == BatcherConfig.lowLatency)
        #expect(BatcherConfig.lowLatency.preferredBatchSizes == [4, 8])
        #expect(BatcherConfig.throughput.maxQueueDelayMicros == 50_000)
        #expect(BatcherConfig.preset(named: "nope") == nil)
    }

    @Test("empty preferred sizes mean [maxBatchSize]")
    func effectivePreferred() {
        #expect(BatcherConfig(maxBatchSize: 12).effectivePreferredBatchSizes == [12])
        #expect(BatcherConfig.seed.effectivePreferredBatchSizes == [16, 32, 64])
    }

    @Test("validate lists every problem at once")
    func validateListsEverything() {
        let config = BatcherConfig(
            maxBatchSize: 0, preferredBatchSizes: [0, 3, 3], maxQueueSize: -1,
            priorityLevels: 3, defaultPriorityLevel: 4, instanceCount: 0)
        let problems = config.validate()
        // max batch, preferred 0, preferred 3 twice (above the max), the duplicate, queue size,
        // default level, instance count.
        #expect(problems.count == 8)
        #expect(problems.contains { $0.contains("maxBatchSize must be at least 1") })
        #expect(problems.contains { $0.contains("instanceCount") })
        #expect(problems.contains { $0.contains("defaultPriorityLevel") })
        #expect(problems.contains { $0.contains("repeat") })
        #expect(problems.contains { $0.contains("maxQueueSize") })
    }

    static let invalidCases: [(String, BatcherConfig)] = [
        ("maxBatchSize", BatcherConfig(maxBatchSize: 0)),
        ("preferredBatchSizes", BatcherConfig(maxBatchSize: 8, preferredBatchSizes: [16])),
        ("preferredBatchSizes", BatcherConfig(maxBatchSize: 8, preferredBatchSizes: [-1])),
        ("instanceCount", BatcherConfig(instanceCount: 0)),
        ("maxQueueSize", BatcherConfig(maxQueueSize: -5)),
        ("priorityLevels", BatcherConfig(priorityLevels: -1)),
        ("defaultPriorityLevel", BatcherConfig(priorityLevels: 2, defaultPriorityLevel: 0)),
        ("defaultPriorityLevel", BatcherConfig(priorityLevels: 0, defaultPriorityLevel: 2)),
        // Past these the engine overflowed or allocated without end (a scenario, /admin/batching).
        ("maxBatchSize", BatcherConfig(maxBatchSize: 4_097)),
        ("instanceCount", BatcherConfig(instanceCount: 1_025)),
        ("priorityLevels", BatcherConfig(priorityLevels: 1_001, defaultPriorityLevel: 1)),
    ]

    @Test("each invalid field is named", arguments: invalidCases)
    func invalidField(field: String, config: BatcherConfig) {
        let problems = config.validate()
        #expect(problems.count == 1)
        #expect(problems.first?.hasPrefix(field) == true, "\(problems)")
    }

    @Test(
        "queue delay scales and 0 stays 0",
        arguments: [
            (10_000 as UInt64, 2.0, 20_000 as UInt64), (10_000, 0.5, 5_000), (0, 4.0, 0),
            (1_000, -1.0, 1_000), (1_000, Double.nan, 1_000), (3, 0.5, 2),
        ])
    func scaleDelay(start: UInt64, factor: Double, expected: UInt64) {
        let config = BatcherConfig(maxBatchSize: 8, maxQueueDelayMicros: start)
        #expect(config.withQueueDelay(scaledBy: factor).maxQueueDelayMicros == expected)
    }

    @Test("queue delay scaling is capped")
    func scaleDelayCap() {
        let config = BatcherConfig(maxQueueDelayMicros: 1_000_000)
        #expect(config.withQueueDelay(scaledBy: 1e30).maxQueueDelayMicros == 3_600_000_000)
    }

    @Test(
        "changing the max batch size keeps preferred sizes valid",
        arguments: [
            (BatcherConfig.seed, 32, [16, 32]), (BatcherConfig.seed, 8, [8]),
            (BatcherConfig.seed, 128, [16, 32, 64]), (BatcherConfig.noBatching, 16, []),
            (BatcherConfig.lowLatency, 0, [1]),
        ])
    func changeMaxBatch(start: BatcherConfig, size: Int, preferred: [Int]) {
        let changed = start.withMaxBatchSize(size)
        #expect(changed.maxBatchSize == max(1, size))
        #expect(changed.preferredBatchSizes == preferred)
        #expect(changed.validate().isEmpty)
    }

    @Test("JSON round-trips and partial objects take defaults")
    func codable() throws {
        let original = BatcherConfig(
            maxBatchSize: 32, preferredBatchSizes: [8, 32], maxQueueDelayMicros: 500, maxQueueSize: 100,
            defaultTimeoutMicros: 2_000, timeoutAction: .delay, allowTimeoutOverride: true,
            priorityLevels: 3, defaultPriorityLevel: 2, preserveOrdering: true, instanceCount: 2)
        let data = try JSONEncoder().encode(original)
        #expect(try JSONDecoder().decode(BatcherConfig.self, from: data) == original)

        let partial = Data(#"{"maxBatchSize": 16, "timeoutAction": "delay"}"#.utf8)
        let decoded = try JSONDecoder().decode(BatcherConfig.self, from: partial)
        var expected = BatcherConfig(maxBatchSize: 16)
        expected.timeoutAction = .delay
        #expect(decoded == expected)
    }

    @Test("an unknown timeout action fails to decode")
    func badTimeoutAction() {
        let bad = Data(#"{"timeoutAction": "drop"}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(BatcherConfig.self, from: bad) }
    }
}
