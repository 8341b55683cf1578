// Maps engine errors to JSON-RPC errors with messages a person can act on.
import Datasets
import JSONRPC
import NeuralNet
import Unlearning

extension Daemon {
    static func rpcError(_ error: Error) -> RPCError {
        switch error {
        case let e as RPCError: return e
        case let e as DataError:
            switch e {
            case .missing: return RPCError(code: .notFound, message: e.description)
            case .invalid: return RPCError(code: .invalidData, message: e.description)
            }
        case let e as ModelFileError:
            switch e {
            case .missing: return RPCError(code: .notFound, message: e.description)
            case .invalid: return RPCError(code: .invalidData, message: e.description)
            case .mismatch: return RPCError(code: .shapeMismatch, message: e.description)
            case .needsArchitecture: return .invalidParams(e.description)
            }
        case let e as ArchitectureError: return RPCError(code: .shapeMismatch, message: e.description)
        case let e as ShapeError: return RPCError(code: .shapeMismatch, message: e.description)
        case let e as SplitError: return .invalidParams(e.description)
        case let e as UnlearningError: return .invalidParams(e.description)
        case let e as TrainingError: return .invalidParams(e.description)
        case is JobCancelled: return RPCError(code: .requestCancelled, message: "the request was cancelled")
        default: return RPCError(code: .internalError, message: "internal error: \(error)")
        }
    }
}
