// Typed hyperparameters: every method declares its own with a kind, a default and a one-line summary; values
// given on the wire are checked against them once, before the job waits for cores, so a typo or a wrong type is
// an error naming the field, never a silent default.

import NeuralNet

/// A hyperparameter's value.
public enum HyperparameterValue: Sendable, Equatable, CustomStringConvertible {
    case number(Double)
    case integer(Int)
    case bool(Bool)
    case string(String)

    /// The value as messages show it (strings quoted).
    public var description: String {
        switch self {
        case .number(let x): return "\(x)"
        case .integer(let x): return "\(x)"
        case .bool(let x): return "\(x)"
        case .string(let x): return "\"\(x)\""
        }
    }
}

/// One hyperparameter a method reads.
public struct HyperparameterSpec: Sendable {
    /// The types a hyperparameter can have.
    public enum Kind: String, Sendable { case number, integer, bool, string }
    /// Wire name, e.g. "lr".
    public let name: String
    /// Its type; given values are converted to it or refused.
    public let kind: Kind
    /// The default; nil means "as the original model's recipe" (retrain).
    public let defaultValue: HyperparameterValue?
    /// Smallest and largest accepted values of a number or integer.
    public let range: ClosedRange<Double>?
    /// Strings accepted by a string hyperparameter; nil when any string is.
    public let choices: [String]?
    /// One line: what it controls.
    public let summary: String

    /// A real-valued hyperparameter.
    public static func number(_ name: String, _ value: Double?, _ range: ClosedRange<Double>, _ summary: String) -> Self {
        .init(name: name, kind: .number, defaultValue: value.map { .number($0) }, range: range, choices: nil, summary: summary)
    }
    /// A whole-number hyperparameter.
    public static func integer(_ name: String, _ value: Int?, _ range: ClosedRange<Double>, _ summary: String) -> Self {
        .init(name: name, kind: .integer, defaultValue: value.map { .integer($0) }, range: range, choices: nil, summary: summary)
    }
    /// A true/false hyperparameter.
    public static func bool(_ name: String, _ value: Bool, _ summary: String) -> Self {
        .init(name: name, kind: .bool, defaultValue: .bool(value), range: nil, choices: nil, summary: summary)
    }
    /// A string hyperparameter, optionally one of `choices`.
    public static func string(_ name: String, _ value: String?, choices: [String]? = nil, _ summary: String) -> Self {
        .init(name: name, kind: .string, defaultValue: value.map { .string($0) }, range: nil, choices: choices, summary: summary)
    }

    /// The shared recipe hyperparameters of methods that train with SGD.
    public static func sgd(epochs: Int, lr: Double, momentum: Double = 0.9, weightDecay: Double = 5e-4, batchSize: Int = 128) -> [Self] {
        [.integer("epochs", epochs, 1...100_000, "passes over the method's lead stream"),
         .number("lr", lr, 1e-12...1e3, "learning rate (cosine schedule)"),
         .number("momentum", momentum, 0...0.999_999, "SGD momentum"),
         .number("weightDecay", weightDecay, 0...1e3, "L2 weight decay"),
         .integer("batchSize", batchSize, 1...1_000_000, "examples per batch")]
    }

    /// Checks a given value and converts it to this spec's kind (a whole number is accepted as an integer).
    func accept(_ value: HyperparameterValue) throws -> HyperparameterValue {
        func bad(_ what: String) -> UnlearningError { UnlearningError("hyperparameter '\(name)' \(what), got \(value)") }
        switch kind {
        case .number, .integer:
            let x: Double
            switch value {
            case .number(let v): x = v
            case .integer(let v): x = Double(v)
            default: throw bad("must be a \(kind == .number ? "number" : "whole number")")
            }
            guard x.isFinite else { throw bad("must be finite") }
            if let range, !range.contains(x) { throw bad("must be in \(Self.show(range.lowerBound))…\(Self.show(range.upperBound))") }
            if kind == .number { return .number(x) }
            guard x.rounded() == x else { throw bad("must be a whole number") }
            return .integer(Int(x))
        case .bool:
            guard case .bool = value else { throw bad("must be true or false") }
            return value
        case .string:
            guard case .string(let s) = value else { throw bad("must be a string") }
            if let choices, !choices.contains(s) { throw bad("must be one of \(choices.joined(separator: ", "))") }
            return value
        }
    }

    static func show(_ x: Double) -> String { x.rounded() == x && abs(x) < 1e15 ? "\(Int(x))" : "\(x)" }
}

/// Hyperparameter values as a request gives them.
public struct Hyperparameters: Sendable {
    /// Values by name.
    public let values: [String: HyperparameterValue]
    /// Values as given, unchecked until `resolved(for:)`.
    public init(_ values: [String: HyperparameterValue] = [:]) { self.values = values }
    /// Numbers only, as tests write them.
    public init(numbers: [String: Double]) { values = numbers.mapValues { .number($0) } }

    /// Every hyperparameter of `method`: the given values, checked, and the defaults for the rest. An unknown name
    /// or a value of the wrong type or range is an error naming it and listing what the method takes.
    public func resolved(for method: UnlearningMethod) throws -> ResolvedHyperparameters {
        let specs = method.hyperparameters
        if let unknown = values.keys.sorted().first(where: { key in !specs.contains { $0.name == key } }) {
            throw UnlearningError("method '\(method.name)' has no hyperparameter '\(unknown)'; it takes: \(specs.map(\.name).sorted().joined(separator: ", "))")
        }
        var out: [String: HyperparameterValue] = [:]
        for spec in specs {
            if let given = values[spec.name] {
                out[spec.name] = try spec.accept(given)
            } else if let value = spec.defaultValue {
                out[spec.name] = value
            }
        }
        return ResolvedHyperparameters(values: out)
    }
}

/// Hyperparameters after checking: every one the method declares, typed.
public struct ResolvedHyperparameters: Sendable {
    /// Values by name.
    public let values: [String: HyperparameterValue]

    /// A number or integer hyperparameter as a Double (methods only ask for names they declare).
    public func double(_ name: String) -> Double {
        switch values[name] {
        case .number(let x)?: return x
        case .integer(let x)?: return Double(x)
        default: preconditionFailure("no number hyperparameter '\(name)'")
        }
    }
    /// A number or integer hyperparameter as a Float.
    public func float(_ name: String) -> Float { Float(double(name)) }
    /// An integer hyperparameter.
    public func int(_ name: String) -> Int {
        guard case .integer(let x)? = values[name] else { preconditionFailure("no integer hyperparameter '\(name)'") }
        return x
    }
    /// A bool hyperparameter.
    public func bool(_ name: String) -> Bool {
        guard case .bool(let x)? = values[name] else { preconditionFailure("no bool hyperparameter '\(name)'") }
        return x
    }
    /// A string hyperparameter.
    public func string(_ name: String) -> String {
        guard case .string(let x)? = values[name] else { preconditionFailure("no string hyperparameter '\(name)'") }
        return x
    }
    /// nil when the hyperparameter has no value (retrain's "as the original recipe").
    public func has(_ name: String) -> Bool { values[name] != nil }

    /// The SGD recipe of `HyperparameterSpec.sgd` with a cosine schedule.
    public func sgdRecipe() -> TrainingRecipe {
        TrainingRecipe(epochs: int("epochs"), batchSize: int("batchSize"), learningRate: float("lr"),
                       momentum: float("momentum"), weightDecay: float("weightDecay"), schedule: .cosine)
    }
}

extension HyperparameterValue: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral, ExpressibleByStringLiteral {
    public init(integerLiteral value: Int) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(stringLiteral value: String) { self = .string(value) }
}
