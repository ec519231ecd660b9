#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>

/// Matrix product C = op(A)·op(B) + beta·C for row-major C (leading dimension ldc).
/// A is m×k addressed as a[i*rsa + p*csa], B is k×n addressed as b[p*rsb + j*csb], so a
/// transposed operand is just swapped strides. beta is 0 (overwrite) or 1 (accumulate);
/// other values scale C first. Any size works, zero included. The AVX2/FMA micro-kernel is
/// chosen at run time when the CPU has it, unless `portable` is nonzero; otherwise the
/// portable one runs.
void ck_sgemm(long m, long n, long k,
              const float *a, long rsa, long csa,
              const float *b, long rsb, long csb,
              float *c, long ldc, float beta, int portable);

/// Double-precision form of `ck_sgemm`.
void ck_dgemm(long m, long n, long k,
              const double *a, long rsa, long csa,
              const double *b, long rsb, long csb,
              double *c, long ldc, double beta, int portable);

/// `ck_sgemm` for a block of rows or columns of a product of `whole_m` × `whole_n`: every
/// choice of path and depth blocking follows the whole product, so each element comes out bit
/// for bit as the whole product computes it, however the product is split across threads.
void ck_sgemm_block(long m, long n, long k,
                    const float *a, long rsa, long csa,
                    const float *b, long rsb, long csb,
                    float *c, long ldc, float beta, long whole_m, long whole_n, int portable);

/// Double-precision form of `ck_sgemm_block`.
void ck_dgemm_block(long m, long n, long k,
                    const double *a, long rsa, long csa,
                    const double *b, long rsb, long csb,
                    double *c, long ldc, double beta, long whole_m, long whole_n, int portable);

/// Runs `iterations` × 12 independent 8-wide float FMAs (192 flops each) and returns a value
/// that depends on all of them; 0 without AVX2/FMA. Timed by `bench peak`: the FMA peak of a core.
double ck_fma_probe(long iterations);

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

#endif
