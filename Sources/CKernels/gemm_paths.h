#ifndef CKERNELS_GEMM_PATHS_H
#define CKERNELS_GEMM_PATHS_H

/* The matrix product of each kernel set, behind the public ck_sgemm_block / ck_dgemm_block,
   which choose one by the CPU and the requested path. Arguments as ck_sgemm_block's; `fast` 0
   runs the portable micro-kernels of the AVX2 instance. */
void ckp_s_gemm_block(long m, long n, long k, const float *a, long rsa, long csa, const float *b, long rsb, long csb,
                      float *c, long ldc, float beta, long whole_m, long whole_n, int fast);
void ckp_d_gemm_block(long m, long n, long k, const double *a, long rsa, long csa, const double *b, long rsb,
                      long csb, double *c, long ldc, double beta, long whole_m, long whole_n, int fast);
void ckp_s512_gemm_block(long m, long n, long k, const float *a, long rsa, long csa, const float *b, long rsb,
                         long csb, float *c, long ldc, float beta, long whole_m, long whole_n, int fast);
void ckp_d512_gemm_block(long m, long n, long k, const double *a, long rsa, long csa, const double *b, long rsb,
                         long csb, double *c, long ldc, double beta, long whole_m, long whole_n, int fast);

/* The register tile of each set: rows × columns of C one micro-kernel call computes. */
enum { CKP_AVX2_MR = 6, CKP_AVX2_NR_FLOAT = 16, CKP_AVX2_NR_DOUBLE = 8,
       CKP_AVX512_MR = 8, CKP_AVX512_NR_FLOAT = 32, CKP_AVX512_NR_DOUBLE = 16 };

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

/* Eight depths of eight columns of a B whose columns are contiguous (column j at src + j·csb),
   transposed into eight rows `ldo` floats apart of a packed sliver (32-byte aligned): the
   packers of both kernel sets read a transposed B this way instead of 64 strided loads. */
__attribute__((target("avx2,fma"))) static inline void ckp_transpose_8x8(const float *src, long csb, float *dst,
                                                                          long ldo) {
    __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + csb), r2 = _mm256_loadu_ps(src + 2 * csb),
           r3 = _mm256_loadu_ps(src + 3 * csb), r4 = _mm256_loadu_ps(src + 4 * csb), r5 = _mm256_loadu_ps(src + 5 * csb),
           r6 = _mm256_loadu_ps(src + 6 * csb), r7 = _mm256_loadu_ps(src + 7 * csb);
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),
           t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
           t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE),
           u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE),
           u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE),
           u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_store_ps(dst + 0 * ldo, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_store_ps(dst + 1 * ldo, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_store_ps(dst + 2 * ldo, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_store_ps(dst + 3 * ldo, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_store_ps(dst + 4 * ldo, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_store_ps(dst + 5 * ldo, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_store_ps(dst + 6 * ldo, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_store_ps(dst + 7 * ldo, _mm256_permute2f128_ps(u3, u7, 0x31));
}
#endif

#endif
