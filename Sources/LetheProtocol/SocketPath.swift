// Where the daemon listens unless told otherwise; shared so `lethe` and `lethed` agree.
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Where the daemon listens unless told otherwise, shared so `lethe` and `lethed` agree.
public enum SocketPath {
    /// `$XDG_RUNTIME_DIR/lethe/lethed.sock`, else `/tmp/lethe-<uid>/lethed.sock`.
    public static var `default`: String {
        if let runtime = getenv("XDG_RUNTIME_DIR").map({ String(cString: $0) }), !runtime.isEmpty {
            return "\(runtime)/lethe/lethed.sock"
        }
        return "/tmp/lethe-\(getuid())/lethed.sock"
    }

    /// `LETHE_SOCKET` when set, else the default.
    public static var fromEnvironment: String {
        if let s = getenv("LETHE_SOCKET").map({ String(cString: $0) }), !s.isEmpty { return s }
        return `default`
    }
}
