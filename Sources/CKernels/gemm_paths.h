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

#endif
