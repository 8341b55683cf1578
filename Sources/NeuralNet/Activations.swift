// Parameter-free layers: ReLU and Flatten.
import Tensor

public final class ReLU: Layer {
    private let output = Tensor(shape: [0])  // [B, …] same shape as the input
    private let dInput = Tensor(shape: [0])  // [B, …]

    public init() {}

    public func outputShape(for inputShape: [Int]) throws -> [Int] { inputShape }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        output.resize(x.shape)
        Kernels.relu(x.data, output.data, x.count)
        return output
    }

    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        dInput.resize(dy.shape)
        // y > 0 exactly where x > 0, so the saved output serves as the mask.
        Kernels.reluBackward(output.data, dy.data, dInput.data, dy.count)
        return dInput
    }
}

/// Flatten keeps the bytes where they are: row-major [B, C, H, W] already is [B, C·H·W]. It reshapes a copy of
/// the shape only, so the layers around it see the shapes PyTorch would.
public final class Flatten: Layer {
    private var inputShape: [Int] = []
    private let output = Tensor(shape: [0])  // [B, C·H·W]
    private let dInput = Tensor(shape: [0])  // [B, C, H, W]

    public init() {}

    public func outputShape(for inputShape: [Int]) throws -> [Int] { [inputShape.reduce(1, *)] }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        inputShape = x.shape
        output.resize([x.rows, x.rowSize])
        output.data.update(from: x.data, count: x.count)
        return output
    }

    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        dInput.resize(inputShape)
        dInput.data.update(from: dy.data, count: dy.count)
        return dInput
    }
}
