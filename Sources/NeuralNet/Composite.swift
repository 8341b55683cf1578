// Bookkeeping shared by layers made of named sublayers (BasicBlock): parameters, buffers and bindings are the
// children's, in order, with their names prefixed as PyTorch's module tree prefixes them.
import Tensor

/// Bookkeeping for layers made of named sublayers (BasicBlock): the children's parameters, buffers and bindings, in order.
public class Composite {
    let children: [(name: String, layer: Layer)]

    init(children: [(name: String, layer: Layer)]) { self.children = children }

    /// The children's trainable tensors, names prefixed as PyTorch's module tree ("conv1.weight").
    public var parameterShapes: [(name: String, shape: [Int])] {
        children.flatMap { child in child.layer.parameterShapes.map { ("\(child.name).\($0.name)", $0.shape) } }
    }

    /// The children's non-trained state, names prefixed as PyTorch's module tree ("bn1.running_mean").
    public var bufferShapes: [(name: String, shape: [Int])] {
        children.flatMap { child in child.layer.bufferShapes.map { ("\(child.name).\($0.name)", $0.shape) } }
    }

    /// Points each child at its consecutive slices of the parameter, gradient and buffer arrays.
    public func bind(parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>, buffers: UnsafeMutablePointer<Float>) {
        var p = 0, b = 0
        for (_, layer) in children {
            layer.bind(parameters: parameters + p, gradients: gradients + p, buffers: buffers + b)
            p += layer.parameterCount
            b += layer.bufferCount
        }
    }

    /// Initialises every child in order from the one generator.
    public func initialize(using rng: inout SeededGenerator) {
        for (_, layer) in children { layer.initialize(using: &rng) }
    }

    /// Gives each child its own seed, drawn in order from `seed`.
    public func seed(_ seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        for (_, layer) in children { layer.seed(rng.next()) }
    }
}
