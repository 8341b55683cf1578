// Model specifications of the zoo (Docs/Architecture.md §2.5). Layers carry PyTorch's module names, which fix the state_dict
// names: `mlp`, `cnn` and `layers` are nn.Sequential (layers named by index: "1.weight"); `resnet18` uses
// torchvision's names ("conv1.weight", "layer1.0.bn1.running_mean", "fc.bias").

/// A model specification of the zoo (mlp, cnn, resnet18, or a `layers` list), built into layers with PyTorch's module names.
public struct Architecture: Codable, Sendable, Equatable {
    /// "mlp", "cnn", "resnet18" or "layers".
    public var kind: String
    /// mlp: hidden widths (default [512, 256]). cnn: widths of the hidden fully-connected layers (default [128]).
    public var hidden: [Int]?
    /// cnn: channels of the two convolutions (default [32, 64]).
    public var channels: [Int]?
    /// resnet18: width of the first stage (default 64; stages are ×1, ×2, ×4, ×8).
    public var width: Int?
    /// resnet18: the CIFAR stem — 3×3 stride-1 first convolution and no max-pool (default false).
    public var cifarStem: Bool?
    /// layers: the layer list, named by index like nn.Sequential.
    public var layers: [LayerSpec]?

    public init(kind: String, hidden: [Int]? = nil, channels: [Int]? = nil, width: Int? = nil, cifarStem: Bool? = nil,
                layers: [LayerSpec]? = nil) {
        self.kind = kind
        self.hidden = hidden
        self.channels = channels
        self.width = width
        self.cifarStem = cifarStem
        self.layers = layers
    }

    /// The architecture kinds `kind` may name.
    public static let kinds = ["mlp", "cnn", "resnet18", "layers"]

    /// The layers of this architecture for a per-example input shape and a class count, checked end to end: the
    /// first layer that cannot take its input is named with both shapes.
    public func makeLayers(inputShape: [Int], classCount: Int) throws -> [(name: String, layer: Layer)] {
        guard classCount >= 2 else { throw ArchitectureError("a classifier needs at least 2 classes, got \(classCount)") }
        guard !inputShape.isEmpty, inputShape.allSatisfy({ $0 > 0 }) else {
            throw ArchitectureError("input shape \(inputShape) must have positive dimensions")
        }
        let named: [(String, Layer)]
        switch kind {
        case "mlp": named = try Self.sequential(mlp(inputShape: inputShape, classCount: classCount))
        case "cnn": named = try Self.sequential(cnn(inputShape: inputShape, classCount: classCount))
        case "resnet18": named = try resnet18(inputShape: inputShape, classCount: classCount)
        case "layers":
            guard let specs = layers, !specs.isEmpty else { throw ArchitectureError("architecture 'layers' needs a non-empty 'layers' list") }
            named = try Self.sequential(LayerSpec.build(specs, inputShape: inputShape))
        default:
            throw ArchitectureError("unknown architecture '\(kind)'; known: \(Architecture.kinds.joined(separator: ", "))")
        }
        var shape = inputShape
        for (name, layer) in named {
            do { shape = try layer.outputShape(for: shape) } catch let error as ShapeError {
                throw ArchitectureError("layer \(name.isEmpty ? "(unnamed)" : name) (\(error.layer)) expects input \(error.expected) but gets \(error.got)")
            }
        }
        guard shape == [classCount] else {
            throw ArchitectureError("the last layer outputs \(shape) but the model needs [\(classCount)] (one logit per class)")
        }
        return named
    }

    /// Per-layer output shapes and multiply-adds per example, for `model/info`.
    public func describe(inputShape: [Int], classCount: Int) throws -> [(name: String, type: String, outputShape: [Int], parameters: Int, multiplyAdds: Int)] {
        var shape = inputShape
        return try makeLayers(inputShape: inputShape, classCount: classCount).map { name, layer in
            let macs = layer.multiplyAdds(for: shape)
            shape = try layer.outputShape(for: shape)
            return (name, "\(type(of: layer))", shape, layer.parameterCount, macs)
        }
    }

    static func sequential(_ layers: [Layer]) throws -> [(String, Layer)] {
        layers.enumerated().map { (String($0.offset), $0.element) }
    }

    private func positive(_ values: [Int], _ what: String) throws -> [Int] {
        guard values.allSatisfy({ $0 > 0 }) else { throw ArchitectureError("\(what) must be positive, got \(values)") }
        return values
    }

    /// Flatten, (Linear, ReLU)×hidden, Linear(classes).
    private func mlp(inputShape: [Int], classCount: Int) throws -> [Layer] {
        var stack: [Layer] = [Flatten()]
        var width = inputShape.reduce(1, *)
        for h in try positive(hidden ?? [512, 256], "mlp hidden widths") {
            stack += [Linear(inFeatures: width, outFeatures: h), Activation(.relu)]
            width = h
        }
        return stack + [Linear(inFeatures: width, outFeatures: classCount)]
    }

    /// Conv(c,32,3,p1), ReLU, MaxPool(2), Conv(32,64,3,p1), ReLU, MaxPool(2), Flatten, Linear(64·H/4·W/4,128), ReLU,
    /// Linear(128, classes).
    private func cnn(inputShape: [Int], classCount: Int) throws -> [Layer] {
        guard inputShape.count == 3 else { throw ArchitectureError("cnn takes images [C, H, W], got input shape \(inputShape)") }
        let ch = try positive(channels ?? [32, 64], "cnn channels")
        guard ch.count == 2 else { throw ArchitectureError("cnn takes 2 channel widths, got \(ch)") }
        let h = inputShape[1] / 4, w = inputShape[2] / 4
        guard h >= 1, w >= 1 else { throw ArchitectureError("cnn needs images of at least 4×4 pixels, got \(inputShape)") }
        var stack: [Layer] = [
            Conv2d(inChannels: inputShape[0], outChannels: ch[0], kernel: 3, padding: 1), Activation(.relu), MaxPool2d(kernel: 2),
            Conv2d(inChannels: ch[0], outChannels: ch[1], kernel: 3, padding: 1), Activation(.relu), MaxPool2d(kernel: 2),
            Flatten(),
        ]
        var width = ch[1] * h * w
        for units in try positive(hidden ?? [128], "cnn hidden widths") {
            stack += [Linear(inFeatures: width, outFeatures: units), Activation(.relu)]
            width = units
        }
        return stack + [Linear(inFeatures: width, outFeatures: classCount)]
    }

    /// torchvision resnet18 with its module names.
    private func resnet18(inputShape: [Int], classCount: Int) throws -> [(String, Layer)] {
        guard inputShape.count == 3 else { throw ArchitectureError("resnet18 takes images [C, H, W], got input shape \(inputShape)") }
        let base = try positive([width ?? 64], "resnet18 width")[0]
        let cifar = cifarStem ?? false
        var out: [(String, Layer)] = [
            ("conv1", cifar ? Conv2d(inChannels: inputShape[0], outChannels: base, kernel: 3, stride: 1, padding: 1, bias: false,
                                     initialization: .kaimingNormalFanOut)
                            : Conv2d(inChannels: inputShape[0], outChannels: base, kernel: 7, stride: 2, padding: 3, bias: false,
                                     initialization: .kaimingNormalFanOut)),
            ("bn1", BatchNorm(features: base, spatialDims: 2)),
            ("relu", Activation(.relu)),
        ]
        if !cifar { out.append(("maxpool", MaxPool2d(kernel: 3, stride: 2, padding: 1))) }
        var planes = base
        for stage in 1...4 {
            let target = base << (stage - 1)
            let stride = stage == 1 ? 1 : 2
            out.append(("layer\(stage).0", BasicBlock(inPlanes: planes, planes: target, stride: stride)))
            out.append(("layer\(stage).1", BasicBlock(inPlanes: target, planes: target, stride: 1)))
            planes = target
        }
        out += [("avgpool", GlobalAvgPool()), ("", Flatten()), ("fc", Linear(inFeatures: planes, outFeatures: classCount))]
        return out
    }
}

/// An architecture that cannot be built (bad class count, input shape or layer list), with the reason.
public struct ArchitectureError: Error, CustomStringConvertible, Sendable {
    /// The reason, as one line.
    public let description: String
    public init(_ description: String) { self.description = description }
}
