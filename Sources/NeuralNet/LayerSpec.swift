// The JSON `layers` architecture: a list of layer types with their options, built into an nn.Sequential
// equivalent. Input sizes (in_channels, in_features, BatchNorm features) are inferred from the shapes, so a spec
// names only what a person would choose.

/// One layer of a JSON `layers` architecture: its type and options; input sizes are inferred from the shapes.
public struct LayerSpec: Codable, Sendable, Equatable {
    /// conv2d, linear, relu, leakyrelu, gelu, tanh, sigmoid, maxpool2d, avgpool2d, adaptiveavgpool2d, batchnorm1d,
    /// batchnorm2d, dropout, flatten.
    public var type: String
    /// conv2d: out_channels; linear: out_features.
    public var out: Int?
    /// conv2d, maxpool2d, avgpool2d: the (square) window size; required.
    public var kernel: Int?
    /// conv2d, maxpool2d, avgpool2d: the step between windows (default 1 for conv2d, the kernel for pooling).
    public var stride: Int?
    /// conv2d, maxpool2d, avgpool2d: zero padding on each side (default 0).
    public var padding: Int?
    /// conv2d / linear: whether there is a bias (default true).
    public var bias: Bool?
    /// dropout: drop probability (default 0.5).
    public var p: Double?
    /// leakyrelu: negative slope (default 0.01).
    public var slope: Double?

    public init(type: String, out: Int? = nil, kernel: Int? = nil, stride: Int? = nil, padding: Int? = nil, bias: Bool? = nil,
                p: Double? = nil, slope: Double? = nil) {
        self.type = type
        self.out = out
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.bias = bias
        self.p = p
        self.slope = slope
    }

    /// The layer types `type` may name (matched case-insensitively).
    public static let types = ["conv2d", "linear", "relu", "leakyrelu", "gelu", "tanh", "sigmoid", "maxpool2d", "avgpool2d",
                               "adaptiveavgpool2d", "batchnorm1d", "batchnorm2d", "dropout", "flatten"]

    static func build(_ specs: [LayerSpec], inputShape: [Int]) throws -> [Layer] {
        var shape = inputShape
        var layers: [Layer] = []
        for (i, spec) in specs.enumerated() {
            let layer = try spec.make(inputShape: shape, index: i)
            do { shape = try layer.outputShape(for: shape) } catch let error as ShapeError {
                throw ArchitectureError("layer \(i) (\(error.layer)) expects input \(error.expected) but gets \(error.got)")
            }
            layers.append(layer)
        }
        return layers
    }

    private func make(inputShape s: [Int], index i: Int) throws -> Layer {
        func need(_ value: Int?, _ field: String) throws -> Int {
            guard let value, value > 0 else { throw ArchitectureError("layer \(i) (\(type)) needs a positive '\(field)'") }
            return value
        }
        func image(_ name: String) throws {
            guard s.count == 3 else { throw ArchitectureError("layer \(i) (\(name)) expects input [C, H, W] but gets \(s)") }
        }
        switch type.lowercased() {
        case "conv2d":
            try image("conv2d")
            return Conv2d(inChannels: s[0], outChannels: try need(out, "out"), kernel: try need(kernel, "kernel"),
                          stride: stride ?? 1, padding: padding ?? 0, bias: bias ?? true)
        case "linear":
            return Linear(inFeatures: s.reduce(1, *), outFeatures: try need(out, "out"), bias: bias ?? true)
        case "relu": return Activation(.relu)
        case "leakyrelu": return Activation(.leakyReLU(slope: Float(slope ?? 0.01)))
        case "gelu": return Activation(.gelu)
        case "tanh": return Activation(.tanh)
        case "sigmoid": return Activation(.sigmoid)
        case "maxpool2d": return MaxPool2d(kernel: try need(kernel, "kernel"), stride: stride, padding: padding ?? 0)
        case "avgpool2d": return AvgPool2d(kernel: try need(kernel, "kernel"), stride: stride, padding: padding ?? 0)
        case "adaptiveavgpool2d": return GlobalAvgPool()
        case "batchnorm1d":
            guard s.count == 1 else { throw ArchitectureError("layer \(i) (batchnorm1d) expects input [F] but gets \(s)") }
            return BatchNorm(features: s[0], spatialDims: 0)
        case "batchnorm2d":
            try image("batchnorm2d")
            return BatchNorm(features: s[0], spatialDims: 2)
        case "dropout": return Dropout(p: Float(p ?? 0.5))
        case "flatten": return Flatten()
        default:
            throw ArchitectureError("layer \(i): unknown layer type '\(type)'; known: \(LayerSpec.types.joined(separator: ", "))")
        }
    }
}
