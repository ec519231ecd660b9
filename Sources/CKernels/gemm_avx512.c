/* The matrix product's AVX-512 kernels: 32 vector registers of 16 floats (8 doubles) allow an
   8×32 float tile (8×16 double), 16 accumulators fed by two loads of B and eight broadcasts of
   A per depth step, where the AVX2 set holds a 6×16 tile in 12 of its 16 registers. Chosen at
   run time by ck_sgemm_block / ck_dgemm_block when ck_cpu_path() reports AVX-512. Every element
   of C is one chain of FMAs along the depth (per depth block), as in the AVX2 set; the two sets
   block the depth alike but cut the right and bottom edges differently, so they agree to
   rounding, not bit for bit. */
#include "CKernels.h"
#include "gemm_paths.h"
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define CK_AVX512 __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")))

/* ---- float: 8 × 32 ---- */

#define S_ROWS8(a, rs) \
    const float *a0 = a, *a1 = a + rs, *a2 = a + 2 * rs, *a3 = a + 3 * rs, *a4 = a + 4 * rs, *a5 = a + 5 * rs, \
                *a6 = a + 6 * rs, *a7 = a + 7 * rs;

CK_AVX512 static inline void s512_kernel_8x32(long kc, const float *a, long rs, long cs, const float *pb,
                                              __m512 out[16]) {
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00,
           c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
    S_ROWS8(a, rs)
    for (long p = 0, o = 0; p < kc; p++, o += cs) {
        __m512 b0 = _mm512_load_ps(pb), b1 = _mm512_load_ps(pb + 16), x;
        x = _mm512_set1_ps(a0[o]); c00 = _mm512_fmadd_ps(x, b0, c00); c01 = _mm512_fmadd_ps(x, b1, c01);
        x = _mm512_set1_ps(a1[o]); c10 = _mm512_fmadd_ps(x, b0, c10); c11 = _mm512_fmadd_ps(x, b1, c11);
        x = _mm512_set1_ps(a2[o]); c20 = _mm512_fmadd_ps(x, b0, c20); c21 = _mm512_fmadd_ps(x, b1, c21);
        x = _mm512_set1_ps(a3[o]); c30 = _mm512_fmadd_ps(x, b0, c30); c31 = _mm512_fmadd_ps(x, b1, c31);
        x = _mm512_set1_ps(a4[o]); c40 = _mm512_fmadd_ps(x, b0, c40); c41 = _mm512_fmadd_ps(x, b1, c41);
        x = _mm512_set1_ps(a5[o]); c50 = _mm512_fmadd_ps(x, b0, c50); c51 = _mm512_fmadd_ps(x, b1, c51);
        x = _mm512_set1_ps(a6[o]); c60 = _mm512_fmadd_ps(x, b0, c60); c61 = _mm512_fmadd_ps(x, b1, c61);
        x = _mm512_set1_ps(a7[o]); c70 = _mm512_fmadd_ps(x, b0, c70); c71 = _mm512_fmadd_ps(x, b1, c71);
        pb += 32;
    }
    out[0] = c00; out[1] = c01; out[2] = c10; out[3] = c11; out[4] = c20; out[5] = c21; out[6] = c30; out[7] = c31;
    out[8] = c40; out[9] = c41; out[10] = c50; out[11] = c51; out[12] = c60; out[13] = c61; out[14] = c70;
    out[15] = c71;
}

/* A run of full 8×32 tiles, as the AVX2 set's s_micro_fast_run. */
CK_AVX512 static void s512_micro_fast_run(long count, long kc, const float *a, long a_step, long rs, long cs,
                                          const float *pb, long b_step, float *c, long c_step, long ldc,
                                          int overwrite) {
    for (long t = 0; t < count; t++, a += a_step, pb += b_step, c += c_step) {
        __m512 acc[16];
        for (int i = 0; i < 8; i++) {
            _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
            _mm_prefetch((const char *)(c + i * ldc + 31), _MM_HINT_T0);
        }
        s512_kernel_8x32(kc, a, rs, cs, pb, acc);
        if (overwrite) {
            for (int i = 0; i < 8; i++) {
                _mm512_storeu_ps(c + i * ldc, acc[2 * i]);
                _mm512_storeu_ps(c + i * ldc + 16, acc[2 * i + 1]);
            }
        } else {
            for (int i = 0; i < 8; i++) {
                float *row = c + i * ldc;
                _mm512_storeu_ps(row, _mm512_add_ps(_mm512_loadu_ps(row), acc[2 * i]));
                _mm512_storeu_ps(row + 16, _mm512_add_ps(_mm512_loadu_ps(row + 16), acc[2 * i + 1]));
            }
        }
    }
}

CK_AVX512 static void s512_micro_fast_to_buffer(long kc, const float *a, long rs, long cs, const float *pb,
                                                float *out) {
    __m512 acc[16];
    s512_kernel_8x32(kc, a, rs, cs, pb, acc);
    for (int i = 0; i < 16; i++) _mm512_store_ps(out + 16 * i, acc[i]);
}

/* The left 16 columns of an 8×32 block (the sliver keeps its 32-wide layout). */
CK_AVX512 static void s512_micro_half_to_buffer(long kc, const float *a, long rs, long cs, const float *pb,
                                                float *out) {
    __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
    S_ROWS8(a, rs)
    for (long p = 0, o = 0; p < kc; p++, o += cs) {
        __m512 b0 = _mm512_load_ps(pb);
        c0 = _mm512_fmadd_ps(_mm512_set1_ps(a0[o]), b0, c0); c1 = _mm512_fmadd_ps(_mm512_set1_ps(a1[o]), b0, c1);
        c2 = _mm512_fmadd_ps(_mm512_set1_ps(a2[o]), b0, c2); c3 = _mm512_fmadd_ps(_mm512_set1_ps(a3[o]), b0, c3);
        c4 = _mm512_fmadd_ps(_mm512_set1_ps(a4[o]), b0, c4); c5 = _mm512_fmadd_ps(_mm512_set1_ps(a5[o]), b0, c5);
        c6 = _mm512_fmadd_ps(_mm512_set1_ps(a6[o]), b0, c6); c7 = _mm512_fmadd_ps(_mm512_set1_ps(a7[o]), b0, c7);
        pb += 32;
    }
    _mm512_store_ps(out, c0); _mm512_store_ps(out + 32, c1); _mm512_store_ps(out + 64, c2);
    _mm512_store_ps(out + 96, c3); _mm512_store_ps(out + 128, c4); _mm512_store_ps(out + 160, c5);
    _mm512_store_ps(out + 192, c6); _mm512_store_ps(out + 224, c7);
}

/* The left 8 columns of an 8×32 block in 256-bit vectors (right edges of 1-8 columns). */
CK_AVX512 static void s512_micro_quarter_to_buffer(long kc, const float *a, long rs, long cs, const float *pb,
                                                   float *out) {
    __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
    S_ROWS8(a, rs)
    for (long p = 0, o = 0; p < kc; p++, o += cs) {
        __m256 b0 = _mm256_load_ps(pb);
        c0 = _mm256_fmadd_ps(_mm256_set1_ps(a0[o]), b0, c0); c1 = _mm256_fmadd_ps(_mm256_set1_ps(a1[o]), b0, c1);
        c2 = _mm256_fmadd_ps(_mm256_set1_ps(a2[o]), b0, c2); c3 = _mm256_fmadd_ps(_mm256_set1_ps(a3[o]), b0, c3);
        c4 = _mm256_fmadd_ps(_mm256_set1_ps(a4[o]), b0, c4); c5 = _mm256_fmadd_ps(_mm256_set1_ps(a5[o]), b0, c5);
        c6 = _mm256_fmadd_ps(_mm256_set1_ps(a6[o]), b0, c6); c7 = _mm256_fmadd_ps(_mm256_set1_ps(a7[o]), b0, c7);
        pb += 32;
    }
    _mm256_store_ps(out, c0); _mm256_store_ps(out + 32, c1); _mm256_store_ps(out + 64, c2);
    _mm256_store_ps(out + 96, c3); _mm256_store_ps(out + 128, c4); _mm256_store_ps(out + 160, c5);
    _mm256_store_ps(out + 192, c6); _mm256_store_ps(out + 224, c7);
}

/* One or two columns of an 8-row tile as dot products along the depth, for an A whose rows are
   contiguous: 16 depths per FMA, the last few through a masked load, so every lane works.
   `bt` holds the columns one after another, each contiguous along the depth (bt[j*kc + p]). */
CK_AVX512 static void s512_micro_dot_to_buffer(long kc, const float *a, long rs, const float *bt, long cols, float *out,
                                               long ldo) {
    __m512 e0 = _mm512_setzero_ps(), e1 = e0, e2 = e0, e3 = e0, e4 = e0, e5 = e0, e6 = e0, e7 = e0;
    __m512 f0 = e0, f1 = e0, f2 = e0, f3 = e0, f4 = e0, f5 = e0, f6 = e0, f7 = e0;
    const float *b0 = bt, *b1 = cols > 1 ? bt + kc : bt;
    S_ROWS8(a, rs)
    for (long p = 0; p < kc; p += 16) {
        __mmask16 m = kc - p >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (kc - p)) - 1);
        __m512 x = _mm512_maskz_loadu_ps(m, b0 + p), y = _mm512_maskz_loadu_ps(m, b1 + p), r;
        r = _mm512_maskz_loadu_ps(m, a0 + p); e0 = _mm512_fmadd_ps(r, x, e0); f0 = _mm512_fmadd_ps(r, y, f0);
        r = _mm512_maskz_loadu_ps(m, a1 + p); e1 = _mm512_fmadd_ps(r, x, e1); f1 = _mm512_fmadd_ps(r, y, f1);
        r = _mm512_maskz_loadu_ps(m, a2 + p); e2 = _mm512_fmadd_ps(r, x, e2); f2 = _mm512_fmadd_ps(r, y, f2);
        r = _mm512_maskz_loadu_ps(m, a3 + p); e3 = _mm512_fmadd_ps(r, x, e3); f3 = _mm512_fmadd_ps(r, y, f3);
        r = _mm512_maskz_loadu_ps(m, a4 + p); e4 = _mm512_fmadd_ps(r, x, e4); f4 = _mm512_fmadd_ps(r, y, f4);
        r = _mm512_maskz_loadu_ps(m, a5 + p); e5 = _mm512_fmadd_ps(r, x, e5); f5 = _mm512_fmadd_ps(r, y, f5);
        r = _mm512_maskz_loadu_ps(m, a6 + p); e6 = _mm512_fmadd_ps(r, x, e6); f6 = _mm512_fmadd_ps(r, y, f6);
        r = _mm512_maskz_loadu_ps(m, a7 + p); e7 = _mm512_fmadd_ps(r, x, e7); f7 = _mm512_fmadd_ps(r, y, f7);
    }
    __m512 sums[16] = {e0, f0, e1, f1, e2, f2, e3, f3, e4, f4, e5, f5, e6, f6, e7, f7};
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < cols; j++) out[i * ldo + j] = _mm512_reduce_add_ps(sums[2 * i + j]);
}

/* The last 1-8 columns of an mc-row block for an A whose columns are contiguous (rs == 1: the
   weight gradient xᵀ·G), down the rows: 96 rows (six vectors) by two columns at a time, then 16,
   then one, B broadcast from its packed 32-wide sliver; each element is one chain of FMAs along
   the depth, however the rows are grouped. */
CK_AVX512 static void s512_strip_columns(long mc, long kc, const float *a, long cs, const float *pb, long cols, float *c,
                                         long ldc, int overwrite) {
    for (long j0 = 0; j0 < cols; j0 += 2) {
        long width = cols - j0 < 2 ? cols - j0 : 2;
        const float *b = pb + j0;
        long i = 0;
        for (; i + 96 <= mc; i += 96) {
            __m512 e0 = _mm512_setzero_ps(), e1 = e0, e2 = e0, e3 = e0, e4 = e0, e5 = e0;
            __m512 f0 = e0, f1 = e0, f2 = e0, f3 = e0, f4 = e0, f5 = e0;
            const float *col = a + i;
            for (long p = 0; p < kc; p++, col += cs) {
                __m512 x = _mm512_set1_ps(b[p * 32]), y = _mm512_set1_ps(b[p * 32 + (width > 1)]), r;
                r = _mm512_loadu_ps(col); e0 = _mm512_fmadd_ps(r, x, e0); f0 = _mm512_fmadd_ps(r, y, f0);
                r = _mm512_loadu_ps(col + 16); e1 = _mm512_fmadd_ps(r, x, e1); f1 = _mm512_fmadd_ps(r, y, f1);
                r = _mm512_loadu_ps(col + 32); e2 = _mm512_fmadd_ps(r, x, e2); f2 = _mm512_fmadd_ps(r, y, f2);
                r = _mm512_loadu_ps(col + 48); e3 = _mm512_fmadd_ps(r, x, e3); f3 = _mm512_fmadd_ps(r, y, f3);
                r = _mm512_loadu_ps(col + 64); e4 = _mm512_fmadd_ps(r, x, e4); f4 = _mm512_fmadd_ps(r, y, f4);
                r = _mm512_loadu_ps(col + 80); e5 = _mm512_fmadd_ps(r, x, e5); f5 = _mm512_fmadd_ps(r, y, f5);
            }
            float lanes[192] __attribute__((aligned(64)));
            _mm512_store_ps(lanes, e0); _mm512_store_ps(lanes + 16, e1); _mm512_store_ps(lanes + 32, e2);
            _mm512_store_ps(lanes + 48, e3); _mm512_store_ps(lanes + 64, e4); _mm512_store_ps(lanes + 80, e5);
            _mm512_store_ps(lanes + 96, f0); _mm512_store_ps(lanes + 112, f1); _mm512_store_ps(lanes + 128, f2);
            _mm512_store_ps(lanes + 144, f3); _mm512_store_ps(lanes + 160, f4); _mm512_store_ps(lanes + 176, f5);
            for (long r = 0; r < 96; r++)
                for (long j = 0; j < width; j++) {
                    float *target = c + (i + r) * ldc + j0 + j;
                    *target = (overwrite ? 0 : *target) + lanes[j * 96 + r];
                }
        }
        for (; i + 16 <= mc; i += 16) {
            __m512 e = _mm512_setzero_ps(), f = e;
            const float *col = a + i;
            for (long p = 0; p < kc; p++, col += cs) {
                __m512 r = _mm512_loadu_ps(col);
                e = _mm512_fmadd_ps(r, _mm512_set1_ps(b[p * 32]), e);
                f = _mm512_fmadd_ps(r, _mm512_set1_ps(b[p * 32 + (width > 1)]), f);
            }
            float lanes[32] __attribute__((aligned(64)));
            _mm512_store_ps(lanes, e);
            _mm512_store_ps(lanes + 16, f);
            for (long r = 0; r < 16; r++)
                for (long j = 0; j < width; j++) {
                    float *target = c + (i + r) * ldc + j0 + j;
                    *target = (overwrite ? 0 : *target) + lanes[j * 16 + r];
                }
        }
        for (; i < mc; i++) {
            /* The last rows (fewer than 16), one at a time in the same order along the depth. */
            for (long j = 0; j < width; j++) {
                float total = 0;
                for (long p = 0; p < kc; p++) total = __builtin_fmaf(a[i + p * cs], b[p * 32 + j], total);
                float *target = c + i * ldc + j0 + j;
                *target = (overwrite ? 0 : *target) + total;
            }
        }
    }
}

/* The top 1-4 rows of an 8×32 block (a height 4 past a multiple of 8): the full kernel would
   spend half its rows or more on padding. */
CK_AVX512 static void s512_micro_rows_to_buffer(long rows, long kc, const float *a, long rs, long cs,
                                                const float *pb, float *out) {
    (void)rows;
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    const float *a0 = a, *a1 = a + rs, *a2 = a + 2 * rs, *a3 = a + 3 * rs;
    for (long p = 0, o = 0; p < kc; p++, o += cs) {
        __m512 b0 = _mm512_load_ps(pb), b1 = _mm512_load_ps(pb + 16), x;
        x = _mm512_set1_ps(a0[o]); c00 = _mm512_fmadd_ps(x, b0, c00); c01 = _mm512_fmadd_ps(x, b1, c01);
        x = _mm512_set1_ps(a1[o]); c10 = _mm512_fmadd_ps(x, b0, c10); c11 = _mm512_fmadd_ps(x, b1, c11);
        x = _mm512_set1_ps(a2[o]); c20 = _mm512_fmadd_ps(x, b0, c20); c21 = _mm512_fmadd_ps(x, b1, c21);
        x = _mm512_set1_ps(a3[o]); c30 = _mm512_fmadd_ps(x, b0, c30); c31 = _mm512_fmadd_ps(x, b1, c31);
        pb += 32;
    }
    _mm512_store_ps(out, c00); _mm512_store_ps(out + 16, c01); _mm512_store_ps(out + 32, c10);
    _mm512_store_ps(out + 48, c11); _mm512_store_ps(out + 64, c20); _mm512_store_ps(out + 80, c21);
    _mm512_store_ps(out + 96, c30); _mm512_store_ps(out + 112, c31);
}

/* Packs the last, narrow sliver (cols < 32) of a B with contiguous rows: masked loads read
   exactly `cols` floats and zero the padding lanes. */
CK_AVX512 static void s512_pack_b_edge_fast(long kc, const float *b, long rsb, long cols, float *out) {
    __mmask16 lo = (__mmask16)(cols >= 16 ? 0xFFFF : (1u << cols) - 1);
    __mmask16 hi = (__mmask16)(cols <= 16 ? 0 : (1u << (cols - 16)) - 1);
    for (long p = 0; p < kc; p++) {
        _mm512_store_ps(out, _mm512_maskz_loadu_ps(lo, b + p * rsb));
        _mm512_store_ps(out + 16, _mm512_maskz_loadu_ps(hi, b + p * rsb + 16));
        out += 32;
    }
}

/* Packs the `full` 32-column slivers of a B with contiguous rows, row by row in the order B
   lies (one stream for the prefetcher), each row's 32-wide pieces dealt to their slivers in
   full vectors: the compiler's baseline copy moved 4 floats at a time. */
CK_AVX512 static void s512_pack_b_rows_fast(long kc, long full, const float *b, long rsb, float *out) {
    for (long p = 0; p < kc; p++) {
        const float *src = b + p * rsb;
        float *dst = out + p * 32;
        for (long s = 0; s < full; s++, src += 32, dst += 32 * kc) {
            _mm512_store_ps(dst, _mm512_loadu_ps(src));
            _mm512_store_ps(dst + 16, _mm512_loadu_ps(src + 16));
        }
    }
}

/* Packs a full 32-column sliver of a B whose columns are contiguous (rsb == 1: the Wᵀ of the dX
   product), 8 depths × 8 columns at a time through an 8×8 transpose. */
CK_AVX512 static void s512_pack_b_columns_fast(long kc, const float *b, long csb, float *out) {
    long p = 0;
    for (; p + 8 <= kc; p += 8)
        for (int group = 0; group < 4; group++) ckp_transpose_8x8(b + p + group * 8 * csb, csb, out + p * 32 + group * 8, 32);
    for (; p < kc; p++)
        for (long j = 0; j < 32; j++) out[p * 32 + j] = b[p + j * csb];
}

/* Matrix-vector products for contiguous rows (dot products) or contiguous columns (axpys). */
CK_AVX512 static void s512_gemv_fast(long m, long k, const float *a, long rsa, long csa, const float *b, long rsb,
                                     float *c, long ldc) {
    if (csa == 1) {
        for (long i = 0; i < m; i++) {
            const float *row = a + i * rsa;
            __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0;
            long p = 0;
            if (rsb == 1) {
                for (; p + 32 <= k; p += 32) {
                    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(row + p), _mm512_loadu_ps(b + p), acc0);
                    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(row + p + 16), _mm512_loadu_ps(b + p + 16), acc1);
                }
            }
            float total = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
            for (; p < k; p++) total += row[p] * b[p * rsb];
            c[i * ldc] += total;
        }
    } else {
        for (long p = 0; p < k; p++) {
            const float *column = a + p * csa;
            __m512 bp = _mm512_set1_ps(b[p * rsb]);
            long i = 0;
            if (ldc == 1) {
                for (; i + 16 <= m; i += 16)
                    _mm512_storeu_ps(c + i, _mm512_fmadd_ps(_mm512_loadu_ps(column + i), bp, _mm512_loadu_ps(c + i)));
            }
            for (; i < m; i++) c[i * ldc] += column[i] * b[p * rsb];
        }
    }
}

CK_AVX512 static void s512_axpy_fast(long n, float alpha, const float *x, float *y) {
    __m512 a = _mm512_set1_ps(alpha);
    long i = 0;
    for (; i + 32 <= n; i += 32) {
        _mm512_storeu_ps(y + i, _mm512_fmadd_ps(a, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
        _mm512_storeu_ps(y + i + 16, _mm512_fmadd_ps(a, _mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(y + i + 16)));
    }
    for (; i < n; i++) y[i] = __builtin_fmaf(alpha, x[i], y[i]);
}

/* ---- double: 8 × 16 ---- */

CK_AVX512 static inline void d512_kernel_8x16(long kc, const double *a, long rs, long cs, const double *pb,
                                              __m512d out[16]) {
    __m512d c00 = _mm512_setzero_pd(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00,
            c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
    const double *a0 = a, *a1 = a + rs, *a2 = a + 2 * rs, *a3 = a + 3 * rs, *a4 = a + 4 * rs, *a5 = a + 5 * rs,
                 *a6 = a + 6 * rs, *a7 = a + 7 * rs;
    for (long p = 0, o = 0; p < kc; p++, o += cs) {
        __m512d b0 = _mm512_load_pd(pb), b1 = _mm512_load_pd(pb + 8), x;
        x = _mm512_set1_pd(a0[o]); c00 = _mm512_fmadd_pd(x, b0, c00); c01 = _mm512_fmadd_pd(x, b1, c01);
        x = _mm512_set1_pd(a1[o]); c10 = _mm512_fmadd_pd(x, b0, c10); c11 = _mm512_fmadd_pd(x, b1, c11);
        x = _mm512_set1_pd(a2[o]); c20 = _mm512_fmadd_pd(x, b0, c20); c21 = _mm512_fmadd_pd(x, b1, c21);
        x = _mm512_set1_pd(a3[o]); c30 = _mm512_fmadd_pd(x, b0, c30); c31 = _mm512_fmadd_pd(x, b1, c31);
        x = _mm512_set1_pd(a4[o]); c40 = _mm512_fmadd_pd(x, b0, c40); c41 = _mm512_fmadd_pd(x, b1, c41);
        x = _mm512_set1_pd(a5[o]); c50 = _mm512_fmadd_pd(x, b0, c50); c51 = _mm512_fmadd_pd(x, b1, c51);
        x = _mm512_set1_pd(a6[o]); c60 = _mm512_fmadd_pd(x, b0, c60); c61 = _mm512_fmadd_pd(x, b1, c61);
        x = _mm512_set1_pd(a7[o]); c70 = _mm512_fmadd_pd(x, b0, c70); c71 = _mm512_fmadd_pd(x, b1, c71);
        pb += 16;
    }
    out[0] = c00; out[1] = c01; out[2] = c10; out[3] = c11; out[4] = c20; out[5] = c21; out[6] = c30; out[7] = c31;
    out[8] = c40; out[9] = c41; out[10] = c50; out[11] = c51; out[12] = c60; out[13] = c61; out[14] = c70;
    out[15] = c71;
}

CK_AVX512 static void d512_micro_fast_run(long count, long kc, const double *a, long a_step, long rs, long cs,
                                          const double *pb, long b_step, double *c, long c_step, long ldc,
                                          int overwrite) {
    for (long t = 0; t < count; t++, a += a_step, pb += b_step, c += c_step) {
        __m512d acc[16];
        d512_kernel_8x16(kc, a, rs, cs, pb, acc);
        if (overwrite) {
            for (int i = 0; i < 8; i++) {
                _mm512_storeu_pd(c + i * ldc, acc[2 * i]);
                _mm512_storeu_pd(c + i * ldc + 8, acc[2 * i + 1]);
            }
        } else {
            for (int i = 0; i < 8; i++) {
                double *row = c + i * ldc;
                _mm512_storeu_pd(row, _mm512_add_pd(_mm512_loadu_pd(row), acc[2 * i]));
                _mm512_storeu_pd(row + 8, _mm512_add_pd(_mm512_loadu_pd(row + 8), acc[2 * i + 1]));
            }
        }
    }
}

CK_AVX512 static void d512_micro_fast_to_buffer(long kc, const double *a, long rs, long cs, const double *pb,
                                                double *out) {
    __m512d acc[16];
    d512_kernel_8x16(kc, a, rs, cs, pb, acc);
    for (int i = 0; i < 16; i++) _mm512_store_pd(out + 8 * i, acc[i]);
}

/* The left 8 columns of an 8×16 double block. */
CK_AVX512 static void d512_micro_half_to_buffer(long kc, const double *a, long rs, long cs, const double *pb,
                                                double *out) {
    __m512d c0 = _mm512_setzero_pd(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
    const double *a0 = a, *a1 = a + rs, *a2 = a + 2 * rs, *a3 = a + 3 * rs, *a4 = a + 4 * rs, *a5 = a + 5 * rs,
                 *a6 = a + 6 * rs, *a7 = a + 7 * rs;
    for (long p = 0, o = 0; p < kc; p++, o += cs) {
        __m512d b0 = _mm512_load_pd(pb);
        c0 = _mm512_fmadd_pd(_mm512_set1_pd(a0[o]), b0, c0); c1 = _mm512_fmadd_pd(_mm512_set1_pd(a1[o]), b0, c1);
        c2 = _mm512_fmadd_pd(_mm512_set1_pd(a2[o]), b0, c2); c3 = _mm512_fmadd_pd(_mm512_set1_pd(a3[o]), b0, c3);
        c4 = _mm512_fmadd_pd(_mm512_set1_pd(a4[o]), b0, c4); c5 = _mm512_fmadd_pd(_mm512_set1_pd(a5[o]), b0, c5);
        c6 = _mm512_fmadd_pd(_mm512_set1_pd(a6[o]), b0, c6); c7 = _mm512_fmadd_pd(_mm512_set1_pd(a7[o]), b0, c7);
        pb += 16;
    }
    _mm512_store_pd(out, c0); _mm512_store_pd(out + 16, c1); _mm512_store_pd(out + 32, c2);
    _mm512_store_pd(out + 48, c3); _mm512_store_pd(out + 64, c4); _mm512_store_pd(out + 80, c5);
    _mm512_store_pd(out + 96, c6); _mm512_store_pd(out + 112, c7);
}

CK_AVX512 static void d512_gemv_fast(long m, long k, const double *a, long rsa, long csa, const double *b, long rsb,
                                     double *c, long ldc) {
    if (csa == 1) {
        for (long i = 0; i < m; i++) {
            const double *row = a + i * rsa;
            __m512d acc0 = _mm512_setzero_pd(), acc1 = acc0;
            long p = 0;
            if (rsb == 1) {
                for (; p + 16 <= k; p += 16) {
                    acc0 = _mm512_fmadd_pd(_mm512_loadu_pd(row + p), _mm512_loadu_pd(b + p), acc0);
                    acc1 = _mm512_fmadd_pd(_mm512_loadu_pd(row + p + 8), _mm512_loadu_pd(b + p + 8), acc1);
                }
            }
            double total = _mm512_reduce_add_pd(_mm512_add_pd(acc0, acc1));
            for (; p < k; p++) total += row[p] * b[p * rsb];
            c[i * ldc] += total;
        }
    } else {
        for (long p = 0; p < k; p++) {
            const double *column = a + p * csa;
            __m512d bp = _mm512_set1_pd(b[p * rsb]);
            long i = 0;
            if (ldc == 1) {
                for (; i + 8 <= m; i += 8)
                    _mm512_storeu_pd(c + i, _mm512_fmadd_pd(_mm512_loadu_pd(column + i), bp, _mm512_loadu_pd(c + i)));
            }
            for (; i < m; i++) c[i * ldc] += column[i] * b[p * rsb];
        }
    }
}

CK_AVX512 static void d512_axpy_fast(long n, double alpha, const double *x, double *y) {
    __m512d a = _mm512_set1_pd(alpha);
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm512_storeu_pd(y + i, _mm512_fmadd_pd(a, _mm512_loadu_pd(x + i), _mm512_loadu_pd(y + i)));
        _mm512_storeu_pd(y + i + 8, _mm512_fmadd_pd(a, _mm512_loadu_pd(x + i + 8), _mm512_loadu_pd(y + i + 8)));
    }
    for (; i < n; i++) y[i] = __builtin_fma(alpha, x[i], y[i]);
}

#define DEPTH_DIVISOR 2048
#define T float
#define MR 8
#define NR 32
#define PREFIX s512
#define MICRO_FAST_RUN s512_micro_fast_run
#define MICRO_FAST_TO_BUFFER s512_micro_fast_to_buffer
#define MICRO_HALF_TO_BUFFER s512_micro_half_to_buffer
#define MICRO_QUARTER_TO_BUFFER s512_micro_quarter_to_buffer
#define MICRO_ROWS_TO_BUFFER s512_micro_rows_to_buffer
#define MICRO_DOT_TO_BUFFER s512_micro_dot_to_buffer
#define STRIP_COLUMNS s512_strip_columns
#define SPLIT_EDGE 1
#define PACK_B_EDGE_FAST s512_pack_b_edge_fast
#define PACK_B_COLUMNS_FAST s512_pack_b_columns_fast
#define PACK_B_ROWS_FAST s512_pack_b_rows_fast
#define GEMV_FAST s512_gemv_fast
#define AXPY_FAST s512_axpy_fast
#include "gemm_template.inc"
#undef T
#undef MR
#undef NR
#undef PREFIX
#undef MICRO_FAST_RUN
#undef MICRO_FAST_TO_BUFFER
#undef MICRO_HALF_TO_BUFFER
#undef MICRO_QUARTER_TO_BUFFER
#undef MICRO_ROWS_TO_BUFFER
#undef MICRO_DOT_TO_BUFFER
#undef STRIP_COLUMNS
#undef SPLIT_EDGE
#undef PACK_B_EDGE_FAST
#undef PACK_B_COLUMNS_FAST
#undef PACK_B_ROWS_FAST
#undef GEMV_FAST
#undef AXPY_FAST

#define T double
#define MR 8
#define NR 16
#define PREFIX d512
#define MICRO_FAST_RUN d512_micro_fast_run
#define MICRO_FAST_TO_BUFFER d512_micro_fast_to_buffer
#define MICRO_HALF_TO_BUFFER d512_micro_half_to_buffer
#define GEMV_FAST d512_gemv_fast
#define AXPY_FAST d512_axpy_fast
#include "gemm_template.inc"

#else
/* Never called: ck_cpu_path() is never CK_PATH_AVX512 off x86. */
void ckp_s512_gemm_block(long m, long n, long k, const float *a, long rsa, long csa, const float *b, long rsb,
                         long csb, float *c, long ldc, float beta, long whole_m, long whole_n, int fast) {
    ckp_s_gemm_block(m, n, k, a, rsa, csa, b, rsb, csb, c, ldc, beta, whole_m, whole_n, fast);
}
void ckp_d512_gemm_block(long m, long n, long k, const double *a, long rsa, long csa, const double *b, long rsb,
                         long csb, double *c, long ldc, double beta, long whole_m, long whole_n, int fast) {
    ckp_d_gemm_block(m, n, k, a, rsa, csa, b, rsb, csb, c, ldc, beta, whole_m, whole_n, fast);
}
#endif
