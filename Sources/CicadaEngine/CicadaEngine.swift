/// The embedded inference engine's pure core: batcher, cache, device model.
public enum CicadaEngine {}
