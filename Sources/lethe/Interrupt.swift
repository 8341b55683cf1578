// Cancelling a request in flight. The client polls a pipe beside its socket; whatever wants the request stopped writes
// one byte to it, and the client sends `$/cancelRequest` and waits for the daemon's -32800 reply.
//
// Ctrl-C (`CancelSignal.interrupt`): the SIGINT handler writes the byte. A second Ctrl-C during that wait, or one
// outside any request, quits at once with status 130 (128 + SIGINT), as shells expect. `lethe mcp` gives each tool
// call its own signal, fired when the MCP client cancels the call.
import Foundation

// What the SIGINT handler may touch: plain integers only.
nonisolated(unsafe) private var interruptWriteDescriptor: Int32 = -1
nonisolated(unsafe) private var interruptPending: Int32 = 0
nonisolated(unsafe) private var interruptInCall: Int32 = 0

/// A pipe that cancels the call in flight when written to.
final class CancelSignal: @unchecked Sendable {
    /// The pipe's read end, polled by the client while it waits for a reply.
    let readDescriptor: Int32
    private let writeDescriptor: Int32
    private let isInterrupt: Bool
    private var fired = false
    private let lock = NSLock()

    /// A signal fired by `fire()`.
    convenience init() { self.init(interrupt: false) }

    private init(interrupt: Bool) {
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) == 0 {
            for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        }
        readDescriptor = fds[0]
        writeDescriptor = fds[1]
        isInterrupt = interrupt
    }

    deinit {
        guard !isInterrupt else { return }
        close(readDescriptor)
        close(writeDescriptor)
    }

    /// Ctrl-C: created and its SIGINT handler installed by `installInterrupt()`.
    nonisolated(unsafe) static var interrupt = CancelSignal()

    /// Makes Ctrl-C cancel calls that use `.interrupt`; once, at start-up.
    static func installInterrupt() {
        interrupt = CancelSignal(interrupt: true)
        interruptWriteDescriptor = interrupt.writeDescriptor
        signal(SIGINT) { _ in
            if interruptInCall == 0 || interruptPending != 0 { _exit(130) }
            interruptPending = 1
            var byte: UInt8 = 1
            _ = write(interruptWriteDescriptor, &byte, 1)
        }
    }

    /// Asks the call in flight to stop (from any thread).
    func fire() {
        lock.lock(); fired = true; lock.unlock()
        var byte: UInt8 = 1
        _ = write(writeDescriptor, &byte, 1)
    }

    /// A call starts waiting: for Ctrl-C, the handler now cancels instead of quitting.
    func begin() {
        if isInterrupt { interruptPending = 0; interruptInCall = 1 }
    }

    /// The call got its reply.
    func end() {
        if isInterrupt { interruptInCall = 0 }
    }

    /// Drains the pipe; true when the signal fired since the call began.
    func consume() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        while read(readDescriptor, &buffer, buffer.count) > 0 {}
        if isInterrupt { return interruptPending != 0 }
        lock.lock(); defer { lock.unlock() }
        return fired
    }
}
