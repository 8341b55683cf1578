// Every method type, in the daemon's table order (plus `exit`, handled before dispatch). The protocol test reads
// this list and compares each type's params and result fields, their required-ness and its summary with
// Protocol/lethe.openrpc.json, so the Swift types and the document cannot drift apart.
/// Every RPC method's type.
public enum LetheMethods {
    /// The method types, in the daemon's table order, then `exit`.
    public static let all: [any LetheMethod.Type] = [
        Initialize.self, Shutdown.self, ServerStatus.self, DatasetLoad.self, SplitCreate.self, ModelCreate.self, ModelTrain.self,
        ModelInfo.self, Forget.self, Evaluate.self, Attack.self, Compare.self, SplitInfo.self, ModelSave.self, ModelLoad.self,
        ModelPredict.self, ModelList.self, FleetTrain.self, FleetList.self, FleetDelete.self, FleetExport.self, FleetImport.self, ModelDelete.self, DatasetDelete.self,
        SplitDelete.self, RunList.self, RunShow.self, RunExport.self, RunDelete.self, Exit.self,
    ]
}
