// The one table of unlearning methods: adding a method is adding a file and a line here.

public enum UnlearningRegistry {
    public static let all: [UnlearningMethod] = [Retrain(), Finetune()]

    public static func method(named name: String) -> UnlearningMethod? { all.first { $0.name == name } }
    public static var names: [String] { all.map(\.name) }
}
