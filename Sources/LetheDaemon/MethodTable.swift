// The one table of RPC methods: dispatch reads it, `initialize` lists it, and the OpenRPC test checks it against
// Protocol/lethe.openrpc.json. Adding a method is a type in LetheProtocol, a handler, and a line here.
import JSONRPC
import LetheProtocol

struct MethodHandler: Sendable {
    let name: String
    let summary: String
    let run: @Sendable (JSONValue?, RequestContext) async throws -> JSONValue

    static func method<M: LetheMethod>(
        _ method: M.Type,
        _ body: @escaping @Sendable (M.Params, RequestContext) async throws -> M.Result
    ) -> MethodHandler {
        MethodHandler(name: M.name, summary: M.summary) { params, context in
            let decoded = try Params.decodeStrict(M.Params.self, from: params)
            return try JSONValue(encoding: try await body(decoded, context))
        }
    }
}

extension Daemon {
    static func methodTable(_ d: Daemon) -> [MethodHandler] {
        [
            .method(Initialize.self) { p, _ in await d.initialize(p) },
            .method(Shutdown.self) { _, _ in await d.shutdown() },
            .method(ServerStatus.self) { _, _ in await d.status() },
            .method(DatasetLoad.self) { p, c in try await d.loadDataset(p, c) },
            .method(SplitCreate.self) { p, _ in try await d.createSplit(p) },
            .method(ModelCreate.self) { p, _ in try await d.createModel(p) },
            .method(ModelTrain.self) { p, c in try await d.train(p, c) },
            .method(ModelInfo.self) { p, _ in try await d.info(p) },
            .method(Forget.self) { p, c in try await d.forget(p, c) },
            .method(Evaluate.self) { p, c in try await d.evaluate(p, c) },
            .method(Attack.self) { p, c in try await d.attack(p, c) },
            .method(Compare.self) { p, c in try await d.compare(p, c) },
            // Bring your own data and models (PersistenceHandlers.swift).
            .method(SplitInfo.self) { p, _ in try await d.splitInfo(p) },
            .method(ModelSave.self) { p, c in try await d.saveModel(p, c) },
            .method(ModelLoad.self) { p, c in try await d.loadModel(p, c) },
            .method(ModelPredict.self) { p, c in try await d.predict(p, c) },
            .method(ModelList.self) { _, _ in await d.listModels() },
            // Fleets and freeing memory (FleetHandlers.swift).
            .method(FleetTrain.self) { p, c in try await d.fleetTrain(p, c) },
            .method(FleetList.self) { _, _ in await d.fleetList() },
            .method(FleetDelete.self) { p, _ in try await d.fleetDelete(p) },
            .method(FleetExport.self) { p, _ in try await d.fleetExport(p) },
            .method(FleetImport.self) { p, _ in try await d.fleetImport(p) },
            .method(ModelDelete.self) { p, _ in try await d.deleteModel(p) },
            .method(DatasetDelete.self) { p, _ in try await d.deleteDataset(p) },
            .method(SplitDelete.self) { p, _ in try await d.deleteSplit(p) },
            // The run store (RunHandlers.swift).
            .method(RunList.self) { p, _ in try await d.runList(p) },
            .method(RunShow.self) { p, _ in try await d.runShow(p) },
            .method(RunExport.self) { p, _ in try await d.runExport(p) },
            .method(RunDelete.self) { p, _ in try await d.runDelete(p) },
        ]
    }
}
