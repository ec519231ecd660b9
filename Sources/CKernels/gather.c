/* Minibatch gathering from a training set kept as bytes: 4× less memory traffic than copying
   float rows, with each float computed as the loader computed it, (float)byte · scale. */
#include "CKernels.h"

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

/* Every cache line of a row, the last one included when the row starts mid-line. */
static inline void prefetch_row(const unsigned char *row, long width) {
    if (width <= 0) return;
    for (long i = 0; i < width; i += 64) __builtin_prefetch(row + i);
    __builtin_prefetch(row + width - 1);
}

void ck_sgather_bytes(long rows, long width, const unsigned char *source, const long *order, float *out, float scale,
                      int path) {
    int best = ck_cpu_path();
    path = path < best ? path : best;
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
