#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>

/// The kernel sets, in order of preference: a request for one the CPU lacks runs the best set
/// below it.
enum { CK_PATH_PORTABLE = 0, CK_PATH_AVX2 = 1, CK_PATH_AVX512 = 2 };

/// The best kernel set this CPU (and its operating system) runs, checked once: AVX-512 needs
/// AVX-512 F, VL, DQ and BW besides AVX2 and FMA, and the OS saving the 512-bit registers.
int ck_cpu_path(void);

/// Matrix product C = op(A)·op(B) + beta·C for row-major C (leading dimension ldc).
/// A is m×k addressed as a[i*rsa + p*csa], B is k×n addressed as b[p*rsb + j*csb], so a
/// transposed operand is just swapped strides. beta is 0 (overwrite) or 1 (accumulate);
/// other values scale C first. Any size works, zero included. `path` (a CK_PATH_ value) picks
/// the kernel set.
void ck_sgemm(long m, long n, long k,
              const float *a, long rsa, long csa,
              const float *b, long rsb, long csb,
              float *c, long ldc, float beta, int path);

/// Double-precision form of `ck_sgemm`.
void ck_dgemm(long m, long n, long k,
              const double *a, long rsa, long csa,
              const double *b, long rsb, long csb,
              double *c, long ldc, double beta, int path);

/// `ck_sgemm` for a block of rows or columns of a product of `whole_m` × `whole_n`: every
/// choice of path and depth blocking follows the whole product, so each element comes out bit
/// for bit as the whole product computes it, however the product is split across threads —
/// when the split falls on whole register tiles (`ck_gemm_tile`) and every block uses the same path.
void ck_sgemm_block(long m, long n, long k,
                    const float *a, long rsa, long csa,
                    const float *b, long rsb, long csb,
                    float *c, long ldc, float beta, long whole_m, long whole_n, int path);

/// Double-precision form of `ck_sgemm_block`.
void ck_dgemm_block(long m, long n, long k,
                    const double *a, long rsa, long csa,
                    const double *b, long rsb, long csb,
                    double *c, long ldc, double beta, long whole_m, long whole_n, int path);

/// The register tile (rows × columns of C per micro-kernel call) of the set `path` resolves to.
void ck_gemm_tile(int path, int is_double, long *rows, long *columns);

/// Runs `iterations` × 12 independent float FMAs as wide as the set `path` resolves to has them
/// (8 lanes for AVX2, 16 for AVX-512) and returns a value that depends on all of them; 0
/// without AVX2/FMA. Timed by `bench peak`: the FMA peak of a core.
double ck_fma_probe(long iterations, int path);

/// The floating-point operations of one `ck_fma_probe` iteration on `path` (2 × 12 × lanes),
/// 0 where it runs none.
long ck_fma_probe_flops(int path);

/// The L2 cache of one core in bytes, as the system reports it (512 KiB when it does not): the
/// matrix product sizes its depth blocks from it.
long ck_l2_cache_bytes(void);

/// 1 when this CPU has AVX2 and FMA (checked once, then cached): the fast kernels run, else
/// only the portable ones.
int ck_cpu_has_avx2_fma(void);

/// y[i] = 1/(1+e^-x[i]) for n floats, without overflow. With AVX2/FMA (unless `portable`),
/// eight at a time with a polynomial e^x of about 1 ulp; results match libm's expf to within
/// a few ulp, and subnormal results, infinities and NaN are computed with expf itself.
void ck_ssigmoid(long n, const float *x, float *y, int portable);

/// y[i] = tanh x[i] for n floats. With AVX2/FMA (unless `portable`), eight at a time: the
/// Cephes tanhf polynomial below |x| = 0.625, (1 - e^-2|x|)/(1 + e^-2|x|) with the sign of x
/// above it; within a few ulp of libm's tanhf. NaN lanes are computed with tanhf itself.
void ck_stanh(long n, const float *x, float *y, int portable);

/// SGD on n floats: w[i] = w[i] - lr·(g[i] + decay·w[i]), in the widest vectors `path`
/// allows; the operations of the Swift loop in its order, unfused, so every path gives its bits.
void ck_ssgd(long n, float *w, const float *g, float lr, float decay, int path);

/// Momentum on n floats: v = mu·v - lr·(g + decay·w), then w = w + v (as `ck_ssgd`, same bits).
void ck_smomentum(long n, float *w, const float *g, float *v, float lr, float decay, float mu, int path);

/// Adam on n floats: g' = g + decay·w; m = b1·m + (1-b1)·g'; v = b2·v + (1-b2)·g'·g';
/// w = w - lr·m / (√v + eps) (as `ck_ssgd`, same bits).
/// Makes this thread treat subnormal floating-point inputs and results as zero (x86 FTZ and
/// DAZ, arm64 FZ) until ck_flush_subnormals_end(saved); returns the previous mode.
unsigned long ck_flush_subnormals_begin(void);
/// Restores the mode ck_flush_subnormals_begin returned.
void ck_flush_subnormals_end(unsigned long saved);

void ck_sadam(long n, float *w, const float *g, float *m, float *v, float lr, float decay, float b1, float b2,
              float eps, int path);

/// Writes out[i] = b, the byte with (float)b · scale == x[i], for n floats in [0, 1] with a
/// positive sign and returns 1; returns 0 at the first element that is no such byte (NaN, -0,
/// out of range, between bytes), leaving `out` partly written. Every path decides alike.
int ck_sbytes_from_floats(long n, const float *x, unsigned char *out, float scale, int path);

/// Gathers `rows` rows of `width` bytes, row `order[r]` of `source` to row r of `out`, each
/// byte b becoming (float)b · scale (one rounding, as the IDX loader converts), in the widest
/// vectors `path` allows; every path gives the same bits.
void ck_sgather_bytes(long rows, long width, const unsigned char *source, const long *order, float *out, float scale,
                      int path);

#endif
