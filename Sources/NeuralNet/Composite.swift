// Bookkeeping shared by layers made of named sublayers (BasicBlock): parameters, buffers and bindings are the
// children's, in order, with their names prefixed as PyTorch's module tree prefixes them.
import Tensor

public class Composite {
    let children: [(name: String, layer: Layer)]

    init(children: [(name: String, layer: Layer)]) { self.children = children }

    public var parameterShapes: [(name: String, shape: [Int])] {
        children.flatMap { child in child.layer.parameterShapes.map { ("\(child.name).\($0.name)", $0.shape) } }
    }

    public var bufferShapes: [(name: String, shape: [Int])] {
        children.flatMap { child in child.layer.bufferShapes.map { ("\(child.name).\($0.name)", $0.shape) } }
    }

    public func bind(parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>, buffers: UnsafeMutablePointer<Float>) {
        var p = 0, b = 0
        for (_, layer) in children {
            layer.bind(parameters: parameters + p, gradients: gradients + p, buffers: buffers + b)
            p += layer.parameterCount
            b += layer.bufferCount
        }
    }

    public func initialize(using rng: inout SeededGenerator) {
        for (_, layer) in children { layer.initialize(using: &rng) }
    }

    public func seed(_ seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        for (_, layer) in children { layer.seed(rng.next()) }
    }
}
