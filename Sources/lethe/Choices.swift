// Closed choices of the CLI (`--method`, `--kind`, `--optimizer`, `--schedule`, …) as typed arguments whose values come
// from the protocol's lists, which tests hold equal to the daemon's registries. ArgumentParser then lists the values
// in `--help`, refuses a wrong one before anything reaches the daemon (exit 64), and completes them in the shell.
import ArgumentParser
import LetheProtocol

/// A value from a fixed list of names; `Names` says which list.
protocol ChoiceList {
    /// The accepted values, in the registry's order.
    static var values: [String] { get }
}

/// One choice of a `ChoiceList`, parsed and completed by ArgumentParser.
struct Choice<Names: ChoiceList>: ExpressibleByArgument, CustomStringConvertible {
    /// The chosen name, as sent on the wire.
    let rawValue: String
    init?(argument: String) {
        guard Names.values.contains(argument) else { return nil }
        rawValue = argument
    }
    var description: String { rawValue }
    static var allValueStrings: [String] { Names.values }
    static var defaultCompletionKind: CompletionKind { .list(Names.values) }
}

/// A comma-separated list of choices, e.g. `--methods l1-sparse,salun`.
struct ChoiceListArgument<Names: ChoiceList>: ExpressibleByArgument {
    /// The chosen names, in the order given.
    let values: [String]
    init?(argument: String) {
        let parts = argument.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        guard !parts.isEmpty, parts.allSatisfy(Names.values.contains) else { return nil }
        values = parts
    }
    static var allValueStrings: [String] { Names.values }
    static var defaultCompletionKind: CompletionKind { .list(Names.values) }
}

/// The unlearning methods of the daemon's registry.
enum UnlearningMethods: ChoiceList { static var values: [String] { Forget.methods } }
/// The attack kinds of the daemon's registry.
enum AttackKinds: ChoiceList { static var values: [String] { Attack.kinds } }
/// The kinds of model fleet.
enum FleetKinds: ChoiceList { static var values: [String] { FleetTrain.kinds } }
/// The optimizers model/train takes.
enum Optimizers: ChoiceList { static var values: [String] { ModelTrain.optimizers } }
/// The learning-rate schedules model/train takes.
enum Schedules: ChoiceList { static var values: [String] { ModelTrain.schedules } }
/// What a run records: the recorded methods, and, for `--method`, unlearning methods and attack kinds.
enum RunKinds: ChoiceList { static var values: [String] { RunList.kinds } }
/// The states of a recorded run.
enum RunStatuses: ChoiceList { static var values: [String] { RunList.statuses } }
