// The one table of unlearning methods: adding a method is adding a file and a line here.

/// The unlearning methods `forget` and `compare` know, in one list.
public enum UnlearningRegistry {
    /// Every method, in the order Docs/Methods.md and `names` list them.
    public static let all: [UnlearningMethod] = [
        Retrain(),
        Finetune(),
        GradientAscent(),
        NegGradPlus(),
        RandomLabels(),
        SalUn(),
        L1Sparse(),
        SCRUB(),
        SSD(),
        BadTeacher(),
        Fisher(),
        BoundaryShrink(),
        ResetFinetune(),
        CatastrophicForgettingK(),
        ExactUnlearningK(),
    ]

    /// The method with this wire name, if any.
    public static func method(named name: String) -> UnlearningMethod? { all.first { $0.name == name } }
    /// Wire names in registry order.
    public static var names: [String] { all.map(\.name) }
}

extension UnlearningRegistry {
    /// The methods table of Docs/Methods.md, rendered from the registry so the document cannot drift:
    /// `MethodsDocTests` fails when the file's table differs, and LETHE_WRITE_DOCS=1 rewrites it.
    public static func markdownTable() -> String {
        func cell(_ s: String) -> String { String(s.flatMap { $0 == "|" ? ["\\", "|"] : [$0] }) }
        func show(_ spec: HyperparameterSpec) -> String {
            let value = spec.defaultValue.map { v -> String in
                switch v {
                case .number(let x): return HyperparameterSpec.show(x)
                case .integer(let x): return "\(x)"
                case .bool(let b): return "\(b)"
                case .string(let s): return s
                }
            } ?? "original's"
            return "`\(spec.name)` \(value)"
        }
        var lines = ["| method | what it does | reads forget | reference | reference defaults | defaults here | why they differ |",
                     "|---|---|---|---|---|---|---|"]
        for m in all {
            lines.append("| `\(m.name)` | \(cell(m.summary)) | \(m.readsForget ? "yes" : "no") | \(cell(m.reference)) | \(cell(m.referenceDefaults)) | "
                         + "\(m.hyperparameters.map(show).joined(separator: ", ")) | \(cell(m.defaultsNote)) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Every hyperparameter of every method with its kind, range and meaning, for Docs/Methods.md.
    public static func markdownHyperparameters() -> String {
        var lines: [String] = []
        for m in all {
            lines.append("- `\(m.name)`: " + m.hyperparameters.map { spec in
                var text = "`\(spec.name)` (\(spec.kind.rawValue)"
                if let r = spec.range { text += ", \(HyperparameterSpec.show(r.lowerBound))…\(HyperparameterSpec.show(r.upperBound))" }
                if let c = spec.choices { text += ", one of \(c.joined(separator: "/"))" }
                return text + "): \(spec.summary)"
            }.joined(separator: "; "))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
