// A model: an architecture, its input shape and class count, and one contiguous parameter buffer laid out in
// PyTorch state_dict order. Models are immutable once published; training works on a clone (copy-on-write at
// the workspace level), so any number of readers can run networks over the same parameters.
import Tensor

/// One named tensor of a model: where its values sit in `parameters` or `buffers`.
public struct ParameterEntry: Sendable, Equatable {
    /// PyTorch state_dict name, e.g. "1.weight".
    public let name: String  // PyTorch state_dict name, e.g. "1.weight"
    /// The tensor's shape, PyTorch layout.
    public let shape: [Int]
    /// Into `parameters`, or into `buffers` when `isBuffer`.
    public let offset: Int
    /// Non-trained state (BatchNorm running statistics), saved with the model but never optimised.
    public let isBuffer: Bool
    /// Number of floats (the product of `shape`).
    public var count: Int { shape.reduce(1, *) }
}

/// A model: architecture, input shape, class count and one contiguous parameter buffer in PyTorch state_dict order.
public final class Model: @unchecked Sendable {
    /// The specification the layers are built from.
    public let architecture: Architecture
    /// Per-example input shape, e.g. [1, 28, 28].
    public let inputShape: [Int]  // per example, e.g. [1, 28, 28]
    /// Number of output classes (logits per example).
    public let classCount: Int
    /// Every parameter and buffer tensor, in state_dict order.
    public let entries: [ParameterEntry]
    /// Number of trainable float32 parameters (the length of `parameters`).
    public let parameterCount: Int
    /// The trainable values, [parameterCount], in `entries` order.
    public let parameters: UnsafeMutablePointer<Float>  // [parameterCount]
    /// Number of non-trained floats (the length of `buffers`).
    public let bufferCount: Int
    /// The non-trained state (BatchNorm running statistics), [bufferCount].
    public let buffers: UnsafeMutablePointer<Float>  // [bufferCount]

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
        var offset = 0, bufferOffset = 0
        for (name, layer) in layers {
            for (local, shape) in layer.parameterShapes {
                entries.append(ParameterEntry(name: "\(name).\(local)", shape: shape, offset: offset, isBuffer: false))
                offset += shape.reduce(1, *)
            }
            for (local, shape) in layer.bufferShapes {
                entries.append(ParameterEntry(name: "\(name).\(local)", shape: shape, offset: bufferOffset, isBuffer: true))
                bufferOffset += shape.reduce(1, *)
            }
        }
        // Refuse what cannot be allocated instead of aborting the process (1G parameters = 4 GiB per copy).
        guard offset + bufferOffset <= Model.maximumParameters else {
            throw ArchitectureError("the model would have \(offset + bufferOffset) parameters; the limit is \(Model.maximumParameters)")
        }
        self.architecture = architecture
        self.inputShape = inputShape
        self.classCount = classCount
        self.entries = entries
        self.parameterCount = offset
        self.parameters = .allocate(capacity: max(1, offset))
        self.parameters.initialize(repeating: 0, count: max(1, offset))
        self.bufferCount = bufferOffset
        self.buffers = .allocate(capacity: max(1, bufferOffset))
        self.buffers.initialize(repeating: 0, count: max(1, bufferOffset))
    }

    /// The most parameters plus buffers a model may have (2^30, 4 GiB per copy); larger architectures are refused.
    public static let maximumParameters = 1 << 30

    deinit {
        parameters.deallocate()
        buffers.deallocate()
    }

    /// Pointer to an entry's values (in `parameters` or `buffers`).
    public func pointer(to entry: ParameterEntry) -> UnsafeMutablePointer<Float> {
        (entry.isBuffer ? buffers : parameters) + entry.offset
    }

    /// An independent copy: one memcpy of the parameter buffer.
    public func clone() -> Model {
        // The architecture was validated when self was made, so this cannot throw.
        let copy = try! Model(architecture: architecture, inputShape: inputShape, classCount: classCount)
        copy.parameters.update(from: parameters, count: parameterCount)
        copy.buffers.update(from: buffers, count: bufferCount)
        return copy
    }

    /// The entry with this state_dict name, if any.
    public func entry(named name: String) -> ParameterEntry? { entries.first { $0.name == name } }

    /// FNV-1a over the parameter and buffer bytes: identifies exactly which weights a run read or wrote.
    public var fingerprint: String {
        var hash = FNV1a()
        hash.mix(bytes: UnsafeRawBufferPointer(start: parameters, count: parameterCount * 4))
        hash.mix(bytes: UnsafeRawBufferPointer(start: buffers, count: bufferCount * 4))
        return hash.hex
    }
}
