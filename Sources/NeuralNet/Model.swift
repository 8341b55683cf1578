// A model: an architecture, its input shape and class count, and one contiguous parameter buffer laid out in
// PyTorch state_dict order. Models are immutable once published; training works on a clone (copy-on-write at
// the workspace level), so any number of readers can run networks over the same parameters.
import Tensor

public struct ParameterEntry: Sendable, Equatable {
    public let name: String  // PyTorch state_dict name, e.g. "1.weight"
    public let shape: [Int]
    public let offset: Int  // into the flat buffer
    public var count: Int { shape.reduce(1, *) }
}

public final class Model: @unchecked Sendable {
    public let architecture: Architecture
    public let inputShape: [Int]  // per example, e.g. [1, 28, 28]
    public let classCount: Int
    public let entries: [ParameterEntry]
    public let parameterCount: Int
    public let parameters: UnsafeMutablePointer<Float>  // [parameterCount]

    /// A freshly initialised model (PyTorch's default initialisation, drawn from `seed`).
    public convenience init(architecture: Architecture, inputShape: [Int], classCount: Int, seed: UInt64) throws {
        try self.init(architecture: architecture, inputShape: inputShape, classCount: classCount)
        var rng = SeededGenerator(seed: seed)
        let network = Network(model: self)
        for layer in network.layers { layer.initialize(using: &rng) }
    }

    /// A model with zeroed parameters; `parameters` is to be filled by the caller.
    public init(architecture: Architecture, inputShape: [Int], classCount: Int) throws {
        let layers = try architecture.makeLayers(inputShape: inputShape, classCount: classCount)
        var entries: [ParameterEntry] = []
        var offset = 0
        for (name, layer) in layers {
            for (local, shape) in layer.parameterShapes {
                entries.append(ParameterEntry(name: "\(name).\(local)", shape: shape, offset: offset))
                offset += shape.reduce(1, *)
            }
        }
        self.architecture = architecture
        self.inputShape = inputShape
        self.classCount = classCount
        self.entries = entries
        self.parameterCount = offset
        self.parameters = .allocate(capacity: max(1, offset))
        self.parameters.initialize(repeating: 0, count: max(1, offset))
    }

    deinit { parameters.deallocate() }

    /// An independent copy: one memcpy of the parameter buffer.
    public func clone() -> Model {
        // The architecture was validated when self was made, so this cannot throw.
        let copy = try! Model(architecture: architecture, inputShape: inputShape, classCount: classCount)
        copy.parameters.update(from: parameters, count: parameterCount)
        return copy
    }

    public func entry(named name: String) -> ParameterEntry? { entries.first { $0.name == name } }

    /// FNV-1a over the parameter bytes: identifies exactly which weights a run read or wrote.
    public var fingerprint: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        let bytes = UnsafeRawBufferPointer(start: parameters, count: parameterCount * 4)
        for b in bytes {
            hash ^= UInt64(b)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
