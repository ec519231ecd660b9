/* Minibatch gathering from a training set kept as bytes: 4× less memory traffic than copying
   float rows, with each float computed as the loader computed it, (float)byte · scale. */
#include "CKernels.h"
#include "kernel_path.h"

#pragma clang fp contract(off)

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

__attribute__((target("avx512f"))) static long row_avx512(long width, const unsigned char *src, float *dst,
                                                          float scale) {
    __m512 s = _mm512_set1_ps(scale);
    long i = 0;
    for (; i + 16 <= width; i += 16) {
        __m512i bytes = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(src + i)));
        _mm512_storeu_ps(dst + i, _mm512_mul_ps(_mm512_cvtepi32_ps(bytes), s));
    }
    return i;
}

__attribute__((target("avx2"))) static long row_avx2(long width, const unsigned char *src, float *dst, float scale) {
    __m256 s = _mm256_set1_ps(scale);
    long i = 0;
    for (; i + 8 <= width; i += 8) {
        __m256i bytes = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(src + i)));
        _mm256_storeu_ps(dst + i, _mm256_mul_ps(_mm256_cvtepi32_ps(bytes), s));
    }
    return i;
}
#endif

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx512f,avx512bw,avx512dq"))) static long bytes_avx512(long n, const float *x, unsigned char *out,
                                                                     float scale) {
    const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1), s = _mm512_set1_ps(scale);
    const __m512 k255 = _mm512_set1_ps(255), half = _mm512_set1_ps(0.5f);
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        /* In [0, 1] (NaN fails both), positive sign bit (so -0 fails), then back from the byte. */
        __mmask16 in = _mm512_cmp_ps_mask(v, zero, _CMP_GE_OQ) & _mm512_cmp_ps_mask(v, one, _CMP_LE_OQ);
        in &= (__mmask16)~_mm512_movepi32_mask(_mm512_castps_si512(v));
        if (in != 0xFFFF) return -1;
        __m512i b = _mm512_cvttps_epi32(_mm512_add_ps(_mm512_mul_ps(v, k255), half));
        if (_mm512_cmp_ps_mask(_mm512_mul_ps(_mm512_cvtepi32_ps(b), s), v, _CMP_NEQ_UQ)) return -1;
        _mm_storeu_si128((__m128i *)(out + i), _mm512_cvtepi32_epi8(b));
    }
    return i;
}
#endif

int ck_sbytes_from_floats(long n, const float *x, unsigned char *out, float scale, int path) {
    path = ckp_usable_path(path);
    long i = 0;
#if defined(__x86_64__) || defined(__i386__)
    if (path == CK_PATH_AVX512) {
        i = bytes_avx512(n, x, out, scale);
        if (i < 0) return 0;
    }
#endif
    for (; i < n; i++) {
        float v = x[i];
        if (!(v >= 0 && v <= 1) || __builtin_signbit(v)) return 0;
        unsigned char b = (unsigned char)(int)(v * 255 + 0.5f);
        if ((float)b * scale != v) return 0;
        out[i] = b;
    }
    return 1;
}

/* Every cache line of a row, the last one included when the row starts mid-line. */
static inline void prefetch_row(const unsigned char *row, long width) {
    if (width <= 0) return;
    for (long i = 0; i < width; i += 64) __builtin_prefetch(row + i);
    __builtin_prefetch(row + width - 1);
}

void ck_sgather_bytes(long rows, long width, const unsigned char *source, const long *order, float *out, float scale,
                      int path) {
    path = ckp_usable_path(path);
    /* The rows are random lines of a set larger than the caches: ask for the row a few ahead
       while converting this one, so that several misses are in flight instead of one. */
    const long ahead = 4;
    for (long r = 0; r < rows && r < ahead; r++) prefetch_row(source + order[r] * width, width);
    for (long r = 0; r < rows; r++) {
        if (r + ahead < rows) prefetch_row(source + order[r + ahead] * width, width);
        const unsigned char *src = source + order[r] * width;
        float *dst = out + r * width;
        long i = 0;
#if defined(__x86_64__) || defined(__i386__)
        if (path == CK_PATH_AVX512) i = row_avx512(width, src, dst, scale);
        else if (path == CK_PATH_AVX2) i = row_avx2(width, src, dst, scale);
#endif
        for (; i < width; i++) dst[i] = (float)src[i] * scale;
    }
}
