// Model specifications of the zoo (DESIGN.md §2). Layers are named by index as `nn.Sequential` names them,
// which fixes the PyTorch state_dict names ("1.weight", "3.bias", …).

public struct Architecture: Codable, Sendable, Equatable {
    /// Zoo name: "mlp".
    public var kind: String
    /// Hidden widths of `mlp` (default [512, 256]).
    public var hidden: [Int]?

    public init(kind: String, hidden: [Int]? = nil) {
        self.kind = kind
        self.hidden = hidden
    }

    public static let kinds = ["mlp"]

    /// The layers of this architecture for a per-example input shape and a class count, checked end to end.
    public func makeLayers(inputShape: [Int], classCount: Int) throws -> [(name: String, layer: Layer)] {
        guard classCount >= 2 else { throw ArchitectureError("a classifier needs at least 2 classes, got \(classCount)") }
        guard !inputShape.isEmpty, inputShape.allSatisfy({ $0 > 0 }) else {
            throw ArchitectureError("input shape \(inputShape) must have positive dimensions")
        }
        let layers: [Layer]
        switch kind {
        case "mlp":
            let widths = hidden ?? [512, 256]
            guard widths.allSatisfy({ $0 > 0 }) else { throw ArchitectureError("mlp hidden widths must be positive, got \(widths)") }
            var stack: [Layer] = [Flatten()]
            var width = inputShape.reduce(1, *)
            for h in widths {
                stack.append(Linear(inFeatures: width, outFeatures: h))
                stack.append(ReLU())
                width = h
            }
            stack.append(Linear(inFeatures: width, outFeatures: classCount))
            layers = stack
        default:
            throw ArchitectureError("unknown architecture '\(kind)'; known: \(Architecture.kinds.joined(separator: ", "))")
        }
        var shape = inputShape
        for (i, layer) in layers.enumerated() {
            do { shape = try layer.outputShape(for: shape) } catch let error as ShapeError {
                throw ArchitectureError("layer \(i) (\(error.layer)): expects input \(error.expected) but gets \(error.got)")
            }
        }
        return layers.enumerated().map { (String($0.offset), $0.element) }
    }
}

public struct ArchitectureError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
