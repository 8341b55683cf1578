// Starts lethed when no daemon answers on the socket, as gpg-agent and sccache start theirs: the `lethed` beside
// this executable (else the first on $PATH), in its own session so Ctrl-C in the terminal does not reach it, with
// its log in `<socket directory>/lethed.log`. `--no-autostart` (or LETHE_NO_AUTOSTART=1) turns it off.
import Foundation
import LetheProtocol

enum Autostart {
    /// glibc's POSIX_SPAWN_SETSID (spawn.h, since 2.26), which Swift does not import: the child starts a new session.
    private static let posixSpawnSetsid: Int32 = 0x80

    /// Connects to the daemon at `socketPath`, starting one first when none answers and `allowed`.
    static func connect(socketPath: String, allowed: Bool, quiet: Bool) throws -> Int32 {
        do { return try LetheClient.connect(socketPath) } catch let error as ClientError {
            guard allowed, error.status == .unavailable else { throw error }
        }
        let executable = try lethedPath()
        let directory = (socketPath as NSString).deletingLastPathComponent
        // lethed creates a missing directory 0700 itself; the log needs it first, so create it the same way.
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let log = (directory as NSString).appendingPathComponent("lethed.log")
        let pid = try spawn(executable, ["--socket", socketPath], log: log)
        if !quiet { FileHandle.standardError.write(Data("lethe: started lethed (pid \(pid)) on \(socketPath); its log is \(log)\n".utf8)) }
        for _ in 0..<300 {  // up to 30 s: a daemon replacing a stale socket, or a slow first start
            if let fd = try? LetheClient.connect(socketPath) { return fd }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                let tail = (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").suffix(3).joined(separator: "\n") ?? ""
                throw ClientError(description: "lethed exited at once (see \(log)):\n\(tail)")
            }
            usleep(100_000)
        }
        throw ClientError(description: "started lethed (pid \(pid)) but it did not listen on \(socketPath) within 30 s; see \(log)")
    }

    /// `$LETHED`, else the lethed beside this executable, else the first on $PATH.
    static func lethedPath() throws -> String {
        let fm = FileManager.default
        if let explicit = ProcessInfo.processInfo.environment["LETHED"], !explicit.isEmpty { return explicit }
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var candidates = [me.deletingLastPathComponent().appendingPathComponent("lethed").path]
        if let self_ = try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(URL(fileURLWithPath: self_).deletingLastPathComponent().appendingPathComponent("lethed").path)
        }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            candidates.append("\(dir)/lethed")
        }
        guard let found = candidates.first(where: { fm.isExecutableFile(atPath: $0) }) else {
            throw ClientError(description: "no daemon answers and no lethed was found beside lethe or on PATH; install lethed or set $LETHED")
        }
        return found
    }

    /// Starts `path` detached: a new session, standard input and output on /dev/null, standard error appended to `log`.
    private static func spawn(_ path: String, _ arguments: [String], log: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        // Nothing else of ours: a pipe inherited by the daemon would keep whoever reads our output waiting for EOF.
        // (glibc's posix_spawn_file_actions_addclosefrom_np is not imported into Swift; a close of a descriptor
        // that is gone by then is ignored.)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            if let fd = Int32(name), fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A new session (no controlling terminal's SIGINT/SIGHUP) and default signal handling.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(posixSpawnSetsid | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        guard result == 0 else { throw ClientError(description: "cannot start \(path): \(String(cString: strerror(result)))") }
        return pid
    }
}
