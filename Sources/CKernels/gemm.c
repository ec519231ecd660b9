#include "CKernels.h"
#include "gemm_paths.h"
#include "kernel_path.h"
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CK_X86 1
#else
#define CK_X86 0
#endif

#if CK_X86
/* 6×16 float micro-kernel: 12 accumulators, two B vectors and one broadcast of A per row. */
__attribute__((target("avx2,fma")))
static void s_kernel_6x16(long kc, const float *a, long rs, long cs, const float *pb, __m256 out[12]) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
           c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    const float *a0 = a, *a1 = a + rs, *a2 = a + 2 * rs, *a3 = a + 3 * rs, *a4 = a + 4 * rs, *a5 = a + 5 * rs;
    for (long p = 0, o = 0; p < kc; p++, o += cs) {
        __m256 b0 = _mm256_load_ps(pb), b1 = _mm256_load_ps(pb + 8);
        __m256 x;
        x = _mm256_broadcast_ss(a0 + o); c00 = _mm256_fmadd_ps(x, b0, c00); c01 = _mm256_fmadd_ps(x, b1, c01);
        x = _mm256_broadcast_ss(a1 + o); c10 = _mm256_fmadd_ps(x, b0, c10); c11 = _mm256_fmadd_ps(x, b1, c11);
        x = _mm256_broadcast_ss(a2 + o); c20 = _mm256_fmadd_ps(x, b0, c20); c21 = _mm256_fmadd_ps(x, b1, c21);
        x = _mm256_broadcast_ss(a3 + o); c30 = _mm256_fmadd_ps(x, b0, c30); c31 = _mm256_fmadd_ps(x, b1, c31);
        x = _mm256_broadcast_ss(a4 + o); c40 = _mm256_fmadd_ps(x, b0, c40); c41 = _mm256_fmadd_ps(x, b1, c41);
        x = _mm256_broadcast_ss(a5 + o); c50 = _mm256_fmadd_ps(x, b0, c50); c51 = _mm256_fmadd_ps(x, b1, c51);
        pb += 16;
    }
    out[0] = c00; out[1] = c01; out[2] = c10; out[3] = c11; out[4] = c20; out[5] = c21;
    out[6] = c30; out[7] = c31; out[8] = c40; out[9] = c41; out[10] = c50; out[11] = c51;
}

/* A run of `count` full 6×16 tiles of C: the next tile's A rows are `a_step` further and its
   sliver of B `b_step` further, and it lands `c_step` further in C (one row of tiles across the
   slivers, or one column of tiles down the rows). One call per run, not per tile: the call and
   the caller's bookkeeping per tile cost ~3% of the weight-gradient product. */
__attribute__((target("avx2,fma")))
static void s_micro_fast_run(long count, long kc, const float *a, long a_step, long rs, long cs,
                             const float *pb, long b_step, float *c, long c_step, long ldc, int overwrite) {
    for (long t = 0; t < count; t++, a += a_step, pb += b_step, c += c_step) {
        __m256 acc[12];
        /* The tile of C is written at the end: asking for its lines first hides their misses
           (1024², whose C is 4 MB: 1.05× and 1.02×, alternated with the build without). */
        for (int i = 0; i < 6; i++) { _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0); _mm_prefetch((const char *)(c + i * ldc + 15), _MM_HINT_T0); }
        s_kernel_6x16(kc, a, rs, cs, pb, acc);
        if (overwrite) {
            for (int i = 0; i < 6; i++) {
                _mm256_storeu_ps(c + i * ldc, acc[2 * i]);
                _mm256_storeu_ps(c + i * ldc + 8, acc[2 * i + 1]);
            }
        } else {
            for (int i = 0; i < 6; i++) {
                float *row = c + i * ldc;
                _mm256_storeu_ps(row, _mm256_add_ps(_mm256_loadu_ps(row), acc[2 * i]));
                _mm256_storeu_ps(row + 8, _mm256_add_ps(_mm256_loadu_ps(row + 8), acc[2 * i + 1]));
            }
        }
    }
}

__attribute__((target("avx2,fma")))
static void s_micro_fast_to_buffer(long kc, const float *a, long rs, long cs, const float *pb, float *out) {
    __m256 acc[12];
    s_kernel_6x16(kc, a, rs, cs, pb, acc);
    for (int i = 0; i < 12; i++) _mm256_store_ps(out + 8 * i, acc[i]);
}

/* The left 8 columns of a 6×16 block (the sliver keeps its 16-wide layout): for narrow
   right edges, where the full kernel would spend most lanes on padding. */
__attribute__((target("avx2,fma")))
static void s_micro_half_to_buffer(long kc, const float *a, long rs, long cs, const float *pb, float *out) {
    __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
    const float *a0 = a, *a1 = a + rs, *a2 = a + 2 * rs, *a3 = a + 3 * rs, *a4 = a + 4 * rs, *a5 = a + 5 * rs;
    for (long p = 0, o = 0; p < kc; p++, o += cs) {
        __m256 b0 = _mm256_load_ps(pb);
        c0 = _mm256_fmadd_ps(_mm256_broadcast_ss(a0 + o), b0, c0);
        c1 = _mm256_fmadd_ps(_mm256_broadcast_ss(a1 + o), b0, c1);
        c2 = _mm256_fmadd_ps(_mm256_broadcast_ss(a2 + o), b0, c2);
        c3 = _mm256_fmadd_ps(_mm256_broadcast_ss(a3 + o), b0, c3);
        c4 = _mm256_fmadd_ps(_mm256_broadcast_ss(a4 + o), b0, c4);
        c5 = _mm256_fmadd_ps(_mm256_broadcast_ss(a5 + o), b0, c5);
        pb += 16;
    }
    _mm256_store_ps(out, c0); _mm256_store_ps(out + 16, c1); _mm256_store_ps(out + 32, c2);
    _mm256_store_ps(out + 48, c3); _mm256_store_ps(out + 64, c4); _mm256_store_ps(out + 80, c5);
}

/* The left 4 columns of a 6×16 block, in 128-bit vectors with separate accumulators for even
   and odd depths: six chains would wait on the FMA latency, twelve keep both pipes busy. For a
   remainder of 1-4 columns (a hidden layer of 50 is three slivers and 2 columns). */
__attribute__((target("avx2,fma")))
static void s_micro_quarter_to_buffer(long kc, const float *a, long rs, long cs, const float *pb, float *out) {
    __m128 e0 = _mm_setzero_ps(), e1 = e0, e2 = e0, e3 = e0, e4 = e0, e5 = e0;
    __m128 o0 = e0, o1 = e0, o2 = e0, o3 = e0, o4 = e0, o5 = e0;
    const float *a0 = a, *a1 = a + rs, *a2 = a + 2 * rs, *a3 = a + 3 * rs, *a4 = a + 4 * rs, *a5 = a + 5 * rs;
    long p = 0, o = 0;
    for (; p + 2 <= kc; p += 2, o += 2 * cs) {
        __m128 b = _mm_load_ps(pb), d = _mm_load_ps(pb + 16);
        long q = o + cs;
        e0 = _mm_fmadd_ps(_mm_broadcast_ss(a0 + o), b, e0); o0 = _mm_fmadd_ps(_mm_broadcast_ss(a0 + q), d, o0);
        e1 = _mm_fmadd_ps(_mm_broadcast_ss(a1 + o), b, e1); o1 = _mm_fmadd_ps(_mm_broadcast_ss(a1 + q), d, o1);
        e2 = _mm_fmadd_ps(_mm_broadcast_ss(a2 + o), b, e2); o2 = _mm_fmadd_ps(_mm_broadcast_ss(a2 + q), d, o2);
        e3 = _mm_fmadd_ps(_mm_broadcast_ss(a3 + o), b, e3); o3 = _mm_fmadd_ps(_mm_broadcast_ss(a3 + q), d, o3);
        e4 = _mm_fmadd_ps(_mm_broadcast_ss(a4 + o), b, e4); o4 = _mm_fmadd_ps(_mm_broadcast_ss(a4 + q), d, o4);
        e5 = _mm_fmadd_ps(_mm_broadcast_ss(a5 + o), b, e5); o5 = _mm_fmadd_ps(_mm_broadcast_ss(a5 + q), d, o5);
        pb += 32;
    }
    if (p < kc) {
        __m128 b = _mm_load_ps(pb);
        e0 = _mm_fmadd_ps(_mm_broadcast_ss(a0 + o), b, e0); e1 = _mm_fmadd_ps(_mm_broadcast_ss(a1 + o), b, e1);
        e2 = _mm_fmadd_ps(_mm_broadcast_ss(a2 + o), b, e2); e3 = _mm_fmadd_ps(_mm_broadcast_ss(a3 + o), b, e3);
        e4 = _mm_fmadd_ps(_mm_broadcast_ss(a4 + o), b, e4); e5 = _mm_fmadd_ps(_mm_broadcast_ss(a5 + o), b, e5);
    }
    _mm_store_ps(out, _mm_add_ps(e0, o0)); _mm_store_ps(out + 16, _mm_add_ps(e1, o1));
    _mm_store_ps(out + 32, _mm_add_ps(e2, o2)); _mm_store_ps(out + 48, _mm_add_ps(e3, o3));
    _mm_store_ps(out + 64, _mm_add_ps(e4, o4)); _mm_store_ps(out + 80, _mm_add_ps(e5, o5));
}

/* The last 1 or 2 columns of a 6-row tile as dot products along the depth, for an A whose rows
   are contiguous (cs == 1; the forward product x·W of a layer 50 wide): twelve accumulators of
   eight depths each, summed across their lanes at the end, so every lane does useful work.
   `bt` holds the columns one after another, each contiguous along the depth (bt[j*kc + p]).
   The 4-wide kernel spent three quarters of its lanes on padding there, and ran 128 bits wide. */
__attribute__((target("avx2,fma")))
static void s_micro_dot_to_buffer(long kc, const float *a, long rs, const float *bt, long cols, float *out, long ldo) {
    __m256 e0 = _mm256_setzero_ps(), e1 = e0, e2 = e0, e3 = e0, e4 = e0, e5 = e0;
    __m256 f0 = e0, f1 = e0, f2 = e0, f3 = e0, f4 = e0, f5 = e0;
    const float *b0 = bt, *b1 = cols > 1 ? bt + kc : bt;
    const float *a0 = a, *a1 = a + rs, *a2 = a + 2 * rs, *a3 = a + 3 * rs, *a4 = a + 4 * rs, *a5 = a + 5 * rs;
    long p = 0;
    for (; p + 8 <= kc; p += 8) {
        __m256 x = _mm256_loadu_ps(b0 + p), y = _mm256_loadu_ps(b1 + p), r;
        r = _mm256_loadu_ps(a0 + p); e0 = _mm256_fmadd_ps(r, x, e0); f0 = _mm256_fmadd_ps(r, y, f0);
        r = _mm256_loadu_ps(a1 + p); e1 = _mm256_fmadd_ps(r, x, e1); f1 = _mm256_fmadd_ps(r, y, f1);
        r = _mm256_loadu_ps(a2 + p); e2 = _mm256_fmadd_ps(r, x, e2); f2 = _mm256_fmadd_ps(r, y, f2);
        r = _mm256_loadu_ps(a3 + p); e3 = _mm256_fmadd_ps(r, x, e3); f3 = _mm256_fmadd_ps(r, y, f3);
        r = _mm256_loadu_ps(a4 + p); e4 = _mm256_fmadd_ps(r, x, e4); f4 = _mm256_fmadd_ps(r, y, f4);
        r = _mm256_loadu_ps(a5 + p); e5 = _mm256_fmadd_ps(r, x, e5); f5 = _mm256_fmadd_ps(r, y, f5);
    }
    __m256 sums[12] = {e0, f0, e1, f1, e2, f2, e3, f3, e4, f4, e5, f5};
    const float *rows[6] = {a0, a1, a2, a3, a4, a5};
    for (int i = 0; i < 6; i++) {
        for (int j = 0; j < cols; j++) {
            float lanes[8];
            _mm256_storeu_ps(lanes, sums[2 * i + j]);
            float total = ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
            const float *b = j ? b1 : b0;
            for (long q = p; q < kc; q++) total += rows[i][q] * b[q];
            out[i * ldo + j] = total;
        }
    }
}

/* The last 1-4 columns of an mc-row block for an A whose columns are contiguous (rs == 1; the
   weight gradient xᵀ·G of a layer 50 wide), down the rows: 48 rows (six vectors) by two columns
   at a time, then 8, then one, B broadcast from its packed sliver; each element is one chain
   of FMAs along the depth, however the rows are grouped. The 6-row panels of the blocked loop would
   use the 4-wide kernel there, most of its lanes on padding. */
__attribute__((target("avx2,fma")))
static void s_strip_columns(long mc, long kc, const float *a, long cs, const float *pb, long cols,
                            float *c, long ldc, int overwrite) {
    for (long j0 = 0; j0 < cols; j0 += 2) {
        long width = cols - j0 < 2 ? cols - j0 : 2;
        const float *b = pb + j0;
        long i = 0;
        for (; i + 48 <= mc; i += 48) {
            __m256 e0 = _mm256_setzero_ps(), e1 = e0, e2 = e0, e3 = e0, e4 = e0, e5 = e0;
            __m256 f0 = e0, f1 = e0, f2 = e0, f3 = e0, f4 = e0, f5 = e0;
            const float *col = a + i;
            for (long p = 0; p < kc; p++, col += cs) {
                __m256 x = _mm256_broadcast_ss(b + p * 16), y = _mm256_broadcast_ss(b + p * 16 + 1), r;
                r = _mm256_loadu_ps(col); e0 = _mm256_fmadd_ps(r, x, e0); f0 = _mm256_fmadd_ps(r, y, f0);
                r = _mm256_loadu_ps(col + 8); e1 = _mm256_fmadd_ps(r, x, e1); f1 = _mm256_fmadd_ps(r, y, f1);
                r = _mm256_loadu_ps(col + 16); e2 = _mm256_fmadd_ps(r, x, e2); f2 = _mm256_fmadd_ps(r, y, f2);
                r = _mm256_loadu_ps(col + 24); e3 = _mm256_fmadd_ps(r, x, e3); f3 = _mm256_fmadd_ps(r, y, f3);
                r = _mm256_loadu_ps(col + 32); e4 = _mm256_fmadd_ps(r, x, e4); f4 = _mm256_fmadd_ps(r, y, f4);
                r = _mm256_loadu_ps(col + 40); e5 = _mm256_fmadd_ps(r, x, e5); f5 = _mm256_fmadd_ps(r, y, f5);
            }
            float lanes[96] __attribute__((aligned(32)));
            _mm256_store_ps(lanes, e0); _mm256_store_ps(lanes + 8, e1); _mm256_store_ps(lanes + 16, e2);
            _mm256_store_ps(lanes + 24, e3); _mm256_store_ps(lanes + 32, e4); _mm256_store_ps(lanes + 40, e5);
            _mm256_store_ps(lanes + 48, f0); _mm256_store_ps(lanes + 56, f1); _mm256_store_ps(lanes + 64, f2);
            _mm256_store_ps(lanes + 72, f3); _mm256_store_ps(lanes + 80, f4); _mm256_store_ps(lanes + 88, f5);
            for (long r = 0; r < 48; r++)
                for (long j = 0; j < width; j++) {
                    float *target = c + (i + r) * ldc + j0 + j;
                    *target = (overwrite ? 0 : *target) + lanes[j * 48 + r];
                }
        }
        for (; i + 8 <= mc; i += 8) {
            __m256 e = _mm256_setzero_ps(), f = e;
            const float *col = a + i;
            for (long p = 0; p < kc; p++, col += cs) {
                __m256 r = _mm256_loadu_ps(col);
                e = _mm256_fmadd_ps(r, _mm256_broadcast_ss(b + p * 16), e);
                f = _mm256_fmadd_ps(r, _mm256_broadcast_ss(b + p * 16 + 1), f);
            }
            float lanes[16] __attribute__((aligned(32)));
            _mm256_store_ps(lanes, e);
            _mm256_store_ps(lanes + 8, f);
            for (long r = 0; r < 8; r++)
                for (long j = 0; j < width; j++) {
                    float *target = c + (i + r) * ldc + j0 + j;
                    *target = (overwrite ? 0 : *target) + lanes[j * 8 + r];
                }
        }
        for (; i < mc; i++) {
            /* The last rows (fewer than 8), one at a time in the same order along the depth. */
            for (long j = 0; j < width; j++) {
                float total = 0;
                for (long p = 0; p < kc; p++) total = __builtin_fmaf(a[i + p * cs], b[p * 16 + j], total);
                float *target = c + i * ldc + j0 + j;
                *target = (overwrite ? 0 : *target) + total;
            }
        }
    }
}

/* Matrix-vector products for contiguous rows (dot products) or contiguous columns (axpys). */
__attribute__((target("avx2,fma")))
static void s_gemv_fast(long m, long k, const float *a, long rsa, long csa, const float *b, long rsb, float *c, long ldc) {
    if (csa == 1) {
        for (long i = 0; i < m; i++) {
            const float *row = a + i * rsa;
            __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0;
            long p = 0;
            if (rsb == 1) {
                for (; p + 16 <= k; p += 16) {
                    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(row + p), _mm256_loadu_ps(b + p), acc0);
                    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(row + p + 8), _mm256_loadu_ps(b + p + 8), acc1);
                }
            }
            float lanes[8];
            _mm256_storeu_ps(lanes, _mm256_add_ps(acc0, acc1));
            float total = lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7];
            for (; p < k; p++) total += row[p] * b[p * rsb];
            c[i * ldc] += total;
        }
    } else {
        for (long p = 0; p < k; p++) {
            const float *column = a + p * csa;
            __m256 bp = _mm256_set1_ps(b[p * rsb]);
            long i = 0;
            if (ldc == 1) {
                for (; i + 8 <= m; i += 8)
                    _mm256_storeu_ps(c + i, _mm256_fmadd_ps(_mm256_loadu_ps(column + i), bp, _mm256_loadu_ps(c + i)));
            }
            for (; i < m; i++) c[i * ldc] += column[i] * b[p * rsb];
        }
    }
}

__attribute__((target("avx2,fma")))
static void d_gemv_fast(long m, long k, const double *a, long rsa, long csa, const double *b, long rsb, double *c, long ldc) {
    if (csa == 1) {
        for (long i = 0; i < m; i++) {
            const double *row = a + i * rsa;
            __m256d acc0 = _mm256_setzero_pd(), acc1 = acc0;
            long p = 0;
            if (rsb == 1) {
                for (; p + 8 <= k; p += 8) {
                    acc0 = _mm256_fmadd_pd(_mm256_loadu_pd(row + p), _mm256_loadu_pd(b + p), acc0);
                    acc1 = _mm256_fmadd_pd(_mm256_loadu_pd(row + p + 4), _mm256_loadu_pd(b + p + 4), acc1);
                }
            }
            double lanes[4];
            _mm256_storeu_pd(lanes, _mm256_add_pd(acc0, acc1));
            double total = lanes[0] + lanes[1] + lanes[2] + lanes[3];
            for (; p < k; p++) total += row[p] * b[p * rsb];
            c[i * ldc] += total;
        }
    } else {
        for (long p = 0; p < k; p++) {
            const double *column = a + p * csa;
            __m256d bp = _mm256_set1_pd(b[p * rsb]);
            long i = 0;
            if (ldc == 1) {
                for (; i + 4 <= m; i += 4)
                    _mm256_storeu_pd(c + i, _mm256_fmadd_pd(_mm256_loadu_pd(column + i), bp, _mm256_loadu_pd(c + i)));
            }
            for (; i < m; i++) c[i * ldc] += column[i] * b[p * rsb];
        }
    }
}

__attribute__((target("avx2,fma")))
static void s_axpy_fast(long n, float alpha, const float *x, float *y) {
    __m256 a = _mm256_set1_ps(alpha);
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(a, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
        _mm256_storeu_ps(y + i + 8, _mm256_fmadd_ps(a, _mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8)));
    }
    for (; i < n; i++) y[i] += alpha * x[i];
}

__attribute__((target("avx2,fma")))
static void d_axpy_fast(long n, double alpha, const double *x, double *y) {
    __m256d a = _mm256_set1_pd(alpha);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_pd(y + i, _mm256_fmadd_pd(a, _mm256_loadu_pd(x + i), _mm256_loadu_pd(y + i)));
        _mm256_storeu_pd(y + i + 4, _mm256_fmadd_pd(a, _mm256_loadu_pd(x + i + 4), _mm256_loadu_pd(y + i + 4)));
    }
    for (; i < n; i++) y[i] += alpha * x[i];
}

/* Packs a full 16-column sliver of a B whose columns are contiguous (rsb == 1: the Wᵀ of the dX
   product), 8 depths at a time: two 8×8 transposes per block instead of 128 strided reads. */
__attribute__((target("avx2,fma")))
static void s_pack_b_columns_fast(long kc, const float *b, long csb, float *out) {
    long p = 0;
    for (; p + 8 <= kc; p += 8)
        for (int half = 0; half < 2; half++)
            ckp_transpose_8x8(b + p + half * 8 * csb, csb, out + p * 16 + half * 8, 16);
    for (; p < kc; p++)
        for (long j = 0; j < 16; j++) out[p * 16 + j] = b[p + j * csb];
}

/* The top 2 or 4 rows of a 6×16 block, for the last rows of a product whose height is not a
   multiple of 6 (a batch of 128 is 21 blocks and 2 rows): the full kernel would spend 4 of its
   6 rows on padding. */
__attribute__((target("avx2,fma")))
static void s_micro_rows_to_buffer(long rows, long kc, const float *a, long rs, long cs, const float *pb, float *out) {
    const float *a0 = a, *a1 = a + rs, *a2 = a + 2 * rs, *a3 = a + 3 * rs;
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    if (rows <= 2) {
        for (long p = 0, o = 0; p < kc; p++, o += cs) {
            __m256 b0 = _mm256_load_ps(pb), b1 = _mm256_load_ps(pb + 8), x;
            x = _mm256_broadcast_ss(a0 + o); c00 = _mm256_fmadd_ps(x, b0, c00); c01 = _mm256_fmadd_ps(x, b1, c01);
            x = _mm256_broadcast_ss(a1 + o); c10 = _mm256_fmadd_ps(x, b0, c10); c11 = _mm256_fmadd_ps(x, b1, c11);
            pb += 16;
        }
    } else {
        for (long p = 0, o = 0; p < kc; p++, o += cs) {
            __m256 b0 = _mm256_load_ps(pb), b1 = _mm256_load_ps(pb + 8), x;
            x = _mm256_broadcast_ss(a0 + o); c00 = _mm256_fmadd_ps(x, b0, c00); c01 = _mm256_fmadd_ps(x, b1, c01);
            x = _mm256_broadcast_ss(a1 + o); c10 = _mm256_fmadd_ps(x, b0, c10); c11 = _mm256_fmadd_ps(x, b1, c11);
            x = _mm256_broadcast_ss(a2 + o); c20 = _mm256_fmadd_ps(x, b0, c20); c21 = _mm256_fmadd_ps(x, b1, c21);
            x = _mm256_broadcast_ss(a3 + o); c30 = _mm256_fmadd_ps(x, b0, c30); c31 = _mm256_fmadd_ps(x, b1, c31);
            pb += 16;
        }
    }
    _mm256_store_ps(out, c00); _mm256_store_ps(out + 8, c01);
    _mm256_store_ps(out + 16, c10); _mm256_store_ps(out + 24, c11);
    _mm256_store_ps(out + 32, c20); _mm256_store_ps(out + 40, c21);
    _mm256_store_ps(out + 48, c30); _mm256_store_ps(out + 56, c31);
}

/* Stores (or adds) the first `cols` (9-12) columns of one row held as 8 + 4 lanes, with exact
   stores: masked stores are microcoded and slow on AMD CPUs. */
__attribute__((target("avx2,fma")))
static inline void s_store_row_12(float *row, __m256 lo, __m128 hi, long cols, int overwrite) {
    if (!overwrite) lo = _mm256_add_ps(lo, _mm256_loadu_ps(row));
    _mm256_storeu_ps(row, lo);
    float *tail = row + 8;
    switch (cols - 8) {
    case 4: _mm_storeu_ps(tail, overwrite ? hi : _mm_add_ps(hi, _mm_loadu_ps(tail))); break;
    case 3:
        if (!overwrite) hi = _mm_add_ps(hi, _mm_setr_ps(tail[0], tail[1], tail[2], 0));
        _mm_storel_pi((__m64 *)tail, hi);
        _mm_store_ss(tail + 2, _mm_movehl_ps(hi, hi));
        break;
    case 2:
        if (!overwrite) hi = _mm_add_ps(hi, _mm_setr_ps(tail[0], tail[1], 0, 0));
        _mm_storel_pi((__m64 *)tail, hi);
        break;
    default:
        _mm_store_ss(tail, overwrite ? hi : _mm_add_ss(hi, _mm_load_ss(tail)));
        break;
    }
}

/* The left 12 columns of a 6×16 block: one 8-lane and one 4-lane vector per row, written
   straight to C (9-12 columns). On CPUs that run 256-bit operations as two 128-bit halves
   (AMD Zen 1, this repository's machine) a product 9-12 columns wide, like the 10-class
   output layer, then wastes 4 lanes in 12, not 6 in 16. The broadcast is written as an
   instruction: from the intrinsic, clang loads 4 lanes and widens them with a shuffle, which
   runs on an FMA pipe of those CPUs (measured: 30 → 32.5 GFLOP/s for the kernel alone). */
__attribute__((target("avx2,fma")))
static void s_micro_12(long kc, const float *a, long rs, long cs, const float *pb, float *c, long ldc, long cols, int overwrite) {
    __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
    __m128 d0 = _mm_setzero_ps(), d1 = d0, d2 = d0, d3 = d0, d4 = d0, d5 = d0;
    const float *a0 = a, *a1 = a + rs, *a2 = a + 2 * rs, *a3 = a + 3 * rs, *a4 = a + 4 * rs, *a5 = a + 5 * rs;
    for (long p = 0, o = 0; p < kc; p++, o += cs) {
        __m256 b0 = _mm256_load_ps(pb);
        __m128 b1 = _mm_load_ps(pb + 8);
        __m256 x;
#define CK_ROW12(ai, ci, di) \
        __asm__("vbroadcastss %1, %0" : "=x"(x) : "m"(*(ai + o))); \
        ci = _mm256_fmadd_ps(x, b0, ci); di = _mm_fmadd_ps(_mm256_castps256_ps128(x), b1, di);
        CK_ROW12(a0, c0, d0) CK_ROW12(a1, c1, d1) CK_ROW12(a2, c2, d2)
        CK_ROW12(a3, c3, d3) CK_ROW12(a4, c4, d4) CK_ROW12(a5, c5, d5)
#undef CK_ROW12
        pb += 16;
    }
    s_store_row_12(c, c0, d0, cols, overwrite); s_store_row_12(c + ldc, c1, d1, cols, overwrite);
    s_store_row_12(c + 2 * ldc, c2, d2, cols, overwrite); s_store_row_12(c + 3 * ldc, c3, d3, cols, overwrite);
    s_store_row_12(c + 4 * ldc, c4, d4, cols, overwrite); s_store_row_12(c + 5 * ldc, c5, d5, cols, overwrite);
}

/* Packs the last, narrow sliver (cols < 16) of a B with contiguous rows: masked loads read
   exactly `cols` floats and zero the padding lanes. */
__attribute__((target("avx2,fma")))
static void s_pack_b_edge_fast(long kc, const float *b, long rsb, long cols, float *out) {
    __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i mask0 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)cols), lanes);
    __m256i mask1 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)cols - 8), lanes);
    for (long p = 0; p < kc; p++) {
        _mm256_store_ps(out, _mm256_maskload_ps(b + p * rsb, mask0));
        _mm256_store_ps(out + 8, _mm256_maskload_ps(b + p * rsb + 8, mask1));
        out += 16;
    }
}

/* 6×8 double micro-kernel: the same register plan with four lanes per vector. */
__attribute__((target("avx2,fma")))
static void d_kernel_6x8(long kc, const double *a, long rs, long cs, const double *pb, __m256d out[12]) {
    __m256d c00 = _mm256_setzero_pd(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
            c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    const double *a0 = a, *a1 = a + rs, *a2 = a + 2 * rs, *a3 = a + 3 * rs, *a4 = a + 4 * rs, *a5 = a + 5 * rs;
    for (long p = 0, o = 0; p < kc; p++, o += cs) {
        __m256d b0 = _mm256_load_pd(pb), b1 = _mm256_load_pd(pb + 4);
        __m256d x;
        x = _mm256_broadcast_sd(a0 + o); c00 = _mm256_fmadd_pd(x, b0, c00); c01 = _mm256_fmadd_pd(x, b1, c01);
        x = _mm256_broadcast_sd(a1 + o); c10 = _mm256_fmadd_pd(x, b0, c10); c11 = _mm256_fmadd_pd(x, b1, c11);
        x = _mm256_broadcast_sd(a2 + o); c20 = _mm256_fmadd_pd(x, b0, c20); c21 = _mm256_fmadd_pd(x, b1, c21);
        x = _mm256_broadcast_sd(a3 + o); c30 = _mm256_fmadd_pd(x, b0, c30); c31 = _mm256_fmadd_pd(x, b1, c31);
        x = _mm256_broadcast_sd(a4 + o); c40 = _mm256_fmadd_pd(x, b0, c40); c41 = _mm256_fmadd_pd(x, b1, c41);
        x = _mm256_broadcast_sd(a5 + o); c50 = _mm256_fmadd_pd(x, b0, c50); c51 = _mm256_fmadd_pd(x, b1, c51);
        pb += 8;
    }
    out[0] = c00; out[1] = c01; out[2] = c10; out[3] = c11; out[4] = c20; out[5] = c21;
    out[6] = c30; out[7] = c31; out[8] = c40; out[9] = c41; out[10] = c50; out[11] = c51;
}

/* A run of full 6×8 double tiles, as `s_micro_fast_run`. */
__attribute__((target("avx2,fma")))
static void d_micro_fast_run(long count, long kc, const double *a, long a_step, long rs, long cs,
                             const double *pb, long b_step, double *c, long c_step, long ldc, int overwrite) {
    for (long t = 0; t < count; t++, a += a_step, pb += b_step, c += c_step) {
        __m256d acc[12];
        d_kernel_6x8(kc, a, rs, cs, pb, acc);
        if (overwrite) {
            for (int i = 0; i < 6; i++) {
                _mm256_storeu_pd(c + i * ldc, acc[2 * i]);
                _mm256_storeu_pd(c + i * ldc + 4, acc[2 * i + 1]);
            }
        } else {
            for (int i = 0; i < 6; i++) {
                double *row = c + i * ldc;
                _mm256_storeu_pd(row, _mm256_add_pd(_mm256_loadu_pd(row), acc[2 * i]));
                _mm256_storeu_pd(row + 4, _mm256_add_pd(_mm256_loadu_pd(row + 4), acc[2 * i + 1]));
            }
        }
    }
}

__attribute__((target("avx2,fma")))
static void d_micro_fast_to_buffer(long kc, const double *a, long rs, long cs, const double *pb, double *out) {
    __m256d acc[12];
    d_kernel_6x8(kc, a, rs, cs, pb, acc);
    for (int i = 0; i < 12; i++) _mm256_store_pd(out + 4 * i, acc[i]);
}
/* The left 4 columns of a 6×8 double block, for narrow right edges. */
__attribute__((target("avx2,fma")))
static void d_micro_half_to_buffer(long kc, const double *a, long rs, long cs, const double *pb, double *out) {
    __m256d c0 = _mm256_setzero_pd(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
    const double *a0 = a, *a1 = a + rs, *a2 = a + 2 * rs, *a3 = a + 3 * rs, *a4 = a + 4 * rs, *a5 = a + 5 * rs;
    for (long p = 0, o = 0; p < kc; p++, o += cs) {
        __m256d b0 = _mm256_load_pd(pb);
        c0 = _mm256_fmadd_pd(_mm256_broadcast_sd(a0 + o), b0, c0);
        c1 = _mm256_fmadd_pd(_mm256_broadcast_sd(a1 + o), b0, c1);
        c2 = _mm256_fmadd_pd(_mm256_broadcast_sd(a2 + o), b0, c2);
        c3 = _mm256_fmadd_pd(_mm256_broadcast_sd(a3 + o), b0, c3);
        c4 = _mm256_fmadd_pd(_mm256_broadcast_sd(a4 + o), b0, c4);
        c5 = _mm256_fmadd_pd(_mm256_broadcast_sd(a5 + o), b0, c5);
        pb += 8;
    }
    _mm256_store_pd(out, c0); _mm256_store_pd(out + 8, c1); _mm256_store_pd(out + 16, c2);
    _mm256_store_pd(out + 24, c3); _mm256_store_pd(out + 32, c4); _mm256_store_pd(out + 40, c5);
}
#else
/* Never called: ck_cpu_has_avx2_fma() is 0 off x86. */
static void s_micro_half_to_buffer(long kc, const float *a, long rs, long cs, const float *pb, float *out) { (void)kc; (void)a; (void)rs; (void)cs; (void)pb; (void)out; }
static void s_axpy_fast(long n, float alpha, const float *x, float *y) { (void)n; (void)alpha; (void)x; (void)y; }
static void d_axpy_fast(long n, double alpha, const double *x, double *y) { (void)n; (void)alpha; (void)x; (void)y; }
static void s_gemv_fast(long m, long k, const float *a, long rsa, long csa, const float *b, long rsb, float *c, long ldc) { (void)m; (void)k; (void)a; (void)rsa; (void)csa; (void)b; (void)rsb; (void)c; (void)ldc; }
static void d_gemv_fast(long m, long k, const double *a, long rsa, long csa, const double *b, long rsb, double *c, long ldc) { (void)m; (void)k; (void)a; (void)rsa; (void)csa; (void)b; (void)rsb; (void)c; (void)ldc; }
static void d_micro_half_to_buffer(long kc, const double *a, long rs, long cs, const double *pb, double *out) { (void)kc; (void)a; (void)rs; (void)cs; (void)pb; (void)out; }
static void s_pack_b_columns_fast(long kc, const float *b, long csb, float *out) { (void)kc; (void)b; (void)csb; (void)out; }
static void s_micro_quarter_to_buffer(long kc, const float *a, long rs, long cs, const float *pb, float *out) { (void)kc; (void)a; (void)rs; (void)cs; (void)pb; (void)out; }
static void s_micro_rows_to_buffer(long rows, long kc, const float *a, long rs, long cs, const float *pb, float *out) { (void)rows; (void)kc; (void)a; (void)rs; (void)cs; (void)pb; (void)out; }
static void s_micro_12(long kc, const float *a, long rs, long cs, const float *pb, float *c, long ldc, long cols, int overwrite) { (void)kc; (void)a; (void)rs; (void)cs; (void)pb; (void)c; (void)ldc; (void)cols; (void)overwrite; }
static void s_pack_b_edge_fast(long kc, const float *b, long rsb, long cols, float *out) { (void)kc; (void)b; (void)rsb; (void)cols; (void)out; }
static void s_micro_dot_to_buffer(long kc, const float *a, long rs, const float *bt, long cols, float *out, long ldo) { (void)kc; (void)a; (void)rs; (void)bt; (void)cols; (void)out; (void)ldo; }
static void s_strip_columns(long mc, long kc, const float *a, long cs, const float *pb, long cols, float *c, long ldc, int overwrite) { (void)mc; (void)kc; (void)a; (void)cs; (void)pb; (void)cols; (void)c; (void)ldc; (void)overwrite; }
static void s_micro_fast_run(long count, long kc, const float *a, long a_step, long rs, long cs, const float *pb, long b_step, float *c, long c_step, long ldc, int overwrite) { (void)count; (void)kc; (void)a; (void)a_step; (void)rs; (void)cs; (void)pb; (void)b_step; (void)c; (void)c_step; (void)ldc; (void)overwrite; }
static void s_micro_fast_to_buffer(long kc, const float *a, long rs, long cs, const float *pb, float *out) { (void)kc; (void)a; (void)rs; (void)cs; (void)pb; (void)out; }
static void d_micro_fast_run(long count, long kc, const double *a, long a_step, long rs, long cs, const double *pb, long b_step, double *c, long c_step, long ldc, int overwrite) { (void)count; (void)kc; (void)a; (void)a_step; (void)rs; (void)cs; (void)pb; (void)b_step; (void)c; (void)c_step; (void)ldc; (void)overwrite; }
static void d_micro_fast_to_buffer(long kc, const double *a, long rs, long cs, const double *pb, double *out) { (void)kc; (void)a; (void)rs; (void)cs; (void)pb; (void)out; }
#endif

#define DEPTH_DIVISOR 2048
#define T float
#define MR 6
#define NR 16
#define PREFIX s
#define MICRO_FAST_RUN s_micro_fast_run
#define MICRO_FAST_TO_BUFFER s_micro_fast_to_buffer
#define MICRO_HALF_TO_BUFFER s_micro_half_to_buffer
#define GEMV_FAST s_gemv_fast
#define AXPY_FAST s_axpy_fast
#define MICRO_THREE_QUARTERS s_micro_12
#define PACK_B_EDGE_FAST s_pack_b_edge_fast
#define PACK_B_COLUMNS_FAST s_pack_b_columns_fast
#define MICRO_ROWS_TO_BUFFER s_micro_rows_to_buffer
#define MICRO_QUARTER_TO_BUFFER s_micro_quarter_to_buffer
#define MICRO_DOT_TO_BUFFER s_micro_dot_to_buffer
#define STRIP_COLUMNS s_strip_columns
#include "gemm_template.inc"
#undef MICRO_QUARTER_TO_BUFFER
#undef MICRO_DOT_TO_BUFFER
#undef STRIP_COLUMNS
#undef PACK_B_COLUMNS_FAST
#undef MICRO_ROWS_TO_BUFFER
#undef T
#undef MR
#undef NR
#undef PREFIX
#undef MICRO_FAST_RUN
#undef MICRO_FAST_TO_BUFFER
#undef MICRO_HALF_TO_BUFFER
#undef GEMV_FAST
#undef AXPY_FAST
#undef MICRO_THREE_QUARTERS
#undef PACK_B_EDGE_FAST

#define T double
#define MR 6
#define NR 8
#define PREFIX d
#define MICRO_FAST_RUN d_micro_fast_run
#define MICRO_FAST_TO_BUFFER d_micro_fast_to_buffer
#define MICRO_HALF_TO_BUFFER d_micro_half_to_buffer
#define GEMV_FAST d_gemv_fast
#define AXPY_FAST d_axpy_fast
#include "gemm_template.inc"

void ck_sgemm_block(long m, long n, long k, const float *a, long rsa, long csa, const float *b, long rsb, long csb,
                    float *c, long ldc, float beta, long whole_m, long whole_n, int path) {
    path = ckp_usable_path(path);
    if (path == CK_PATH_AVX512) ckp_s512_gemm_block(m, n, k, a, rsa, csa, b, rsb, csb, c, ldc, beta, whole_m, whole_n, 1);
    else ckp_s_gemm_block(m, n, k, a, rsa, csa, b, rsb, csb, c, ldc, beta, whole_m, whole_n, path == CK_PATH_AVX2);
}

void ck_dgemm_block(long m, long n, long k, const double *a, long rsa, long csa, const double *b, long rsb,
                    long csb, double *c, long ldc, double beta, long whole_m, long whole_n, int path) {
    path = ckp_usable_path(path);
    if (path == CK_PATH_AVX512) ckp_d512_gemm_block(m, n, k, a, rsa, csa, b, rsb, csb, c, ldc, beta, whole_m, whole_n, 1);
    else ckp_d_gemm_block(m, n, k, a, rsa, csa, b, rsb, csb, c, ldc, beta, whole_m, whole_n, path == CK_PATH_AVX2);
}

void ck_sgemm(long m, long n, long k, const float *a, long rsa, long csa, const float *b, long rsb, long csb,
              float *c, long ldc, float beta, int path) {
    ck_sgemm_block(m, n, k, a, rsa, csa, b, rsb, csb, c, ldc, beta, m, n, path);
}

void ck_dgemm(long m, long n, long k, const double *a, long rsa, long csa, const double *b, long rsb, long csb,
              double *c, long ldc, double beta, int path) {
    ck_dgemm_block(m, n, k, a, rsa, csa, b, rsb, csb, c, ldc, beta, m, n, path);
}

void ck_gemm_tile(int path, int is_double, long *rows, long *columns) {
    if (ckp_usable_path(path) == CK_PATH_AVX512) {
        *rows = CKP_AVX512_MR;
        *columns = is_double ? CKP_AVX512_NR_DOUBLE : CKP_AVX512_NR_FLOAT;
    } else {
        *rows = CKP_AVX2_MR;
        *columns = is_double ? CKP_AVX2_NR_DOUBLE : CKP_AVX2_NR_FLOAT;
    }
}
