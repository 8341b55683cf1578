// Matrix products through OpenBLAS's CBLAS interface (row-major).
import CBLAS

/// Matrix products through OpenBLAS's CBLAS interface (row-major).
public enum BLAS {
    /// C[m×n] = alpha · op(A) · op(B) + beta · C, row-major. op(A) is m×k, op(B) is k×n.
    @inline(__always)
    public static func gemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Threads OpenBLAS may use for one call. The engine keeps it at 1 and splits work over its own workers
    /// (`Parallel`): OpenBLAS's threads spin-wait after a call and would steal the cores from those workers.
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }
    /// Threads OpenBLAS currently uses for one call.
    public static var threads: Int { Int(openblas_get_num_threads()) }
}
