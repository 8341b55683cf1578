// oneDNN (Intel's oneAPI Deep Neural Network Library, Debian libdnnl-dev 2.6) for inference's convolutions: the
// thin layer over its C API that OneDNNSegment builds on. Why oneDNN and where: Docs/Architecture.md §2.3.
// API reference: https://oneapi-src.github.io/oneDNN/v2.6/ (dnnl.h).
import CDNNL
import Tensor
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A oneDNN call that failed, with its status (dnnl_status_t).
struct OneDNNError: Error, CustomStringConvertible {
    /// The C function that failed.
    let call: String
    /// Its status code (dnnl_status_t: 1 out of memory, 2 invalid arguments, 3 unimplemented…).
    let status: Int
    var description: String { "oneDNN \(call) failed with status \(status)" }
}

/// oneDNN's CPU engine, its thread count and its descriptors, as inference uses them.
public enum OneDNN {
    /// Whether Network.predict runs convolutions through oneDNN when it can (default: yes, unless the environment
    /// sets LETHE_ONEDNN=0). Off, inference runs the engine's own Winograd and im2col kernels (tests compare both).
    nonisolated(unsafe) public static var enabled: Bool = getenv("LETHE_ONEDNN").map { String(cString: $0) != "0" } ?? true

    /// Whether training runs 3×3 stride-1 convolutions on at least 16 channels through oneDNN's Winograd
    /// (Conv2d+OneDNN.swift; default: yes, unless the environment sets LETHE_ONEDNN_TRAINING=0 or LETHE_ONEDNN=0).
    /// Off, training runs the engine's own F(2×2).
    nonisolated(unsafe) public static var trainingEnabled: Bool = enabled
        && (getenv("LETHE_ONEDNN_TRAINING").map { String(cString: $0) != "0" } ?? true)

    /// The CPU engine, or nil when oneDNN cannot create one (inference then runs the engine's own kernels).
    nonisolated(unsafe) static let engine: dnnl_engine_t? = {
        var engine: dnnl_engine_t?
        return dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success ? engine : nil
    }()

    /// Whether inference can use oneDNN now: enabled, and an engine exists.
    public static var available: Bool { enabled && engine != nil }

    /// libdnnl is built on OpenMP: its parallel regions take the calling thread's OpenMP thread count, which this
    /// sets to the job's (Parallel.threads), so a job's convolutions use its threads and no more. Resolved at run
    /// time (libgomp is libdnnl's dependency), so the build needs no OpenMP headers.
    static func useThreads(_ n: Int) {
        setOMPThreads?(Int32(n))
    }

    private static let setOMPThreads: (@convention(c) (Int32) -> Void)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "omp_set_num_threads") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32) -> Void).self)
    }()

    /// Throws OneDNNError unless `status` is success.
    static func check(_ status: dnnl_status_t, _ call: String) throws {
        guard status == dnnl_success else { throw OneDNNError(call: call, status: Int(status.rawValue)) }
    }

    /// A float32 memory descriptor of `dims` in layout `tag` (dnnl_format_tag_any lets the primitive choose).
    static func descriptor(_ dims: [Int], _ tag: dnnl_format_tag_t) throws -> dnnl_memory_desc_t {
        var d = dnnl_memory_desc_t()
        try check(dnnl_memory_desc_init_by_tag(&d, Int32(dims.count), dims.map(Int64.init), dnnl_f32, tag), "dnnl_memory_desc_init_by_tag")
        return d
    }

    /// Bytes a memory of descriptor `d` takes (blocked layouts pad channels to the block).
    static func size(_ d: dnnl_memory_desc_t) -> Int {
        var d = d
        return dnnl_memory_desc_get_size(&d)
    }

    /// Whether two descriptors describe the same layout.
    static func equal(_ a: dnnl_memory_desc_t, _ b: dnnl_memory_desc_t) -> Bool {
        var a = a, b = b
        return dnnl_memory_desc_equal(&a, &b) != 0
    }
}

/// A oneDNN memory object of one descriptor; `owning` allocates its buffer, otherwise it points at a caller's.
final class OneDNNMemory {
    let handle: dnnl_memory_t
    let descriptor: dnnl_memory_desc_t

    /// A memory that allocates (and frees) its own buffer.
    init(_ descriptor: dnnl_memory_desc_t) throws {
        var d = descriptor, m: dnnl_memory_t?
        try OneDNN.check(dnnl_memory_create(&m, &d, OneDNN.engine, UnsafeMutableRawPointer(bitPattern: -1)), "dnnl_memory_create")
        handle = m!
        self.descriptor = descriptor
    }

    /// A memory over the caller's buffer `data` (nil: set later with `point(at:)`).
    init(_ descriptor: dnnl_memory_desc_t, data: UnsafeMutableRawPointer?) throws {
        var d = descriptor, m: dnnl_memory_t?
        try OneDNN.check(dnnl_memory_create(&m, &d, OneDNN.engine, data), "dnnl_memory_create")
        handle = m!
        self.descriptor = descriptor
    }

    /// Points the memory at another buffer of the same layout.
    func point(at data: UnsafeMutableRawPointer) throws {
        try OneDNN.check(dnnl_memory_set_data_handle(handle, data), "dnnl_memory_set_data_handle")
    }

    /// Points the memory at shared buffer `index` of `buffers`, grown to the memory's size when smaller.
    func point(into buffers: OneDNNBuffers, _ index: Int) throws {
        try point(at: buffers.buffer(index, bytes: OneDNN.size(descriptor)))
    }

    /// The buffer's address.
    var data: UnsafeMutableRawPointer {
        var p: UnsafeMutableRawPointer?
        dnnl_memory_get_data_handle(handle, &p)
        return p!
    }

    deinit { dnnl_memory_destroy(handle) }
}

/// One primitive (a convolution or a reorder) and the stream it executes on.
final class OneDNNPrimitive {
    let primitive: dnnl_primitive_t
    /// Bytes of scratch the primitive asks for (passed as DNNL_ARG_SCRATCHPAD; shared by a segment's primitives).
    let scratchpadBytes: Int

    init(_ descriptor: dnnl_primitive_desc_t) throws {
        var p: dnnl_primitive_t?
        try OneDNN.check(dnnl_primitive_create(&p, descriptor), "dnnl_primitive_create")
        primitive = p!
        scratchpadBytes = dnnl_primitive_desc_query_md(descriptor, dnnl_query_scratchpad_md, 0).map { OneDNN.size($0.pointee) } ?? 0
    }

    /// Runs the primitive on `stream` with `arguments` (DNNL_ARG_… → memory) and waits for it.
    func execute(_ stream: dnnl_stream_t, _ arguments: [(Int32, OneDNNMemory)]) throws {
        let args = arguments.map { dnnl_exec_arg_t(arg: $0.0, memory: $0.1.handle) }
        try OneDNN.check(dnnl_primitive_execute(primitive, stream, Int32(args.count), args), "dnnl_primitive_execute")
        try OneDNN.check(dnnl_stream_wait(stream), "dnnl_stream_wait")
    }

    /// A reorder from layout `from` to layout `to` (same dims).
    static func reorder(from: dnnl_memory_desc_t, to: dnnl_memory_desc_t) throws -> OneDNNPrimitive {
        var f = from, t = to, pd: dnnl_primitive_desc_t?
        try OneDNN.check(dnnl_reorder_primitive_desc_create(&pd, &f, OneDNN.engine, &t, OneDNN.engine, nil),
                         "dnnl_reorder_primitive_desc_create")
        defer { dnnl_primitive_desc_destroy(pd) }
        return try OneDNNPrimitive(pd!)
    }

    deinit { dnnl_primitive_destroy(primitive) }
}

/// A primitive attribute: scratch memory passed by the caller (user scratchpad mode, so primitives hold none),
/// and the post-ops a convolution applies as it writes: the sum with what its destination holds, then ReLU.
final class OneDNNAttributes {
    let handle: dnnl_primitive_attr_t

    init(sum: Bool = false, relu: Bool = false) throws {
        var attr: dnnl_primitive_attr_t?
        try OneDNN.check(dnnl_primitive_attr_create(&attr), "dnnl_primitive_attr_create")
        handle = attr!
        try OneDNN.check(dnnl_primitive_attr_set_scratchpad_mode(handle, dnnl_scratchpad_mode_user), "dnnl_primitive_attr_set_scratchpad_mode")
        guard sum || relu else { return }
        var ops: dnnl_post_ops_t?
        try OneDNN.check(dnnl_post_ops_create(&ops), "dnnl_post_ops_create")
        defer { dnnl_post_ops_destroy(ops) }
        if sum { try OneDNN.check(dnnl_post_ops_append_sum(ops, 1), "dnnl_post_ops_append_sum") }
        if relu { try OneDNN.check(dnnl_post_ops_append_eltwise(ops, 1, dnnl_eltwise_relu, 0, 0), "dnnl_post_ops_append_eltwise") }
        try OneDNN.check(dnnl_primitive_attr_set_post_ops(handle, ops), "dnnl_primitive_attr_set_post_ops")
    }

    deinit { dnnl_primitive_attr_destroy(handle) }
}

/// oneDNN's argument indices (dnnl_types.h's DNNL_ARG_… macros).
enum OneDNNArgument {
    static let src: Int32 = 1, dst: Int32 = 17, weights: Int32 = 33, bias: Int32 = 41, scratchpad: Int32 = 80
    static let diffSrc: Int32 = 129, diffDst: Int32 = 145, diffWeights: Int32 = 161
    static let from: Int32 = src, to: Int32 = dst
}
