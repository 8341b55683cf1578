// The CLI's exit statuses, one per kind of failure a script may want to tell apart (sysexits.h's numbers where one
// fits, and 130 = 128 + SIGINT for a cancelled request as shells report Ctrl-C). README's "Exit statuses" lists them.
import JSONRPC

/// What `lethe` exits with.
enum ExitStatus: Int32, CaseIterable {
    /// The command did what it was asked.
    case success = 0
    /// A daemon error with no more specific status.
    case failure = 1
    /// A wrong option or parameter, refused by the CLI or by the daemon (-32600, -32601, -32602): EX_USAGE.
    case usage = 64
    /// The daemon found the data unusable (error 3, invalid data; 4, shape mismatch): EX_DATAERR.
    case invalidData = 65
    /// A named dataset, split, model, fleet, run or file does not exist (error 1): EX_NOINPUT.
    case notFound = 66
    /// No daemon answers and none could be started: EX_UNAVAILABLE.
    case unavailable = 69
    /// The daemon failed internally (-32603): EX_SOFTWARE.
    case internalError = 70
    /// The name is already taken (error 2): EX_CANTCREAT.
    case alreadyExists = 73
    /// The daemon closed the connection before replying (it stopped or crashed; the request may have run): EX_IOERR.
    case connectionLost = 74
    /// The daemon is busy or shutting down (errors 5, 6); retrying later may work: EX_TEMPFAIL.
    case temporary = 75
    /// The request was cancelled (Ctrl-C, or -32800).
    case cancelled = 130

    /// The status for a daemon error code.
    init(code: ErrorCode) {
        switch code {
        case .invalidRequest, .methodNotFound, .invalidParams: self = .usage
        case .invalidData, .shapeMismatch: self = .invalidData
        case .notFound: self = .notFound
        case .alreadyExists: self = .alreadyExists
        case .busy, .shuttingDown: self = .temporary
        case .internalError: self = .internalError
        case .requestCancelled: self = .cancelled
        default: self = .failure
        }
    }
}
