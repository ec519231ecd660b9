/* Optimizer updates for Float parameters, in the widest vectors the CPU has. Each computes
   exactly the operations of the Swift loop it replaces, in the same order and without fused
   multiply-adds, so every set (and the Swift loop) gives the same bits: only the width
   changes (Swift compiles for baseline x86-64, four lanes). */
#include "CKernels.h"
#include "kernel_path.h"
#include <math.h>

#pragma clang fp contract(off)

#define SGD_BODY(i) w[i] = w[i] - lr * (g[i] + decay * w[i])
#define MOMENTUM_BODY(i) v[i] = mu * v[i] - lr * (g[i] + decay * w[i]); w[i] = w[i] + v[i]
#define ADAM_BODY(i)                                                                                             \
    do {                                                                                                         \
        float gi = g[i] + decay * w[i];                                                                          \
        m[i] = b1 * m[i] + one_b1 * gi;                                                                          \
        v[i] = b2 * v[i] + one_b2 * gi * gi;                                                                     \
        w[i] = w[i] - lr * m[i] / (sqrtf(v[i]) + eps);                                                           \
    } while (0)

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

__attribute__((target("avx512f"))) static long sgd_avx512(long n, float *w, const float *g, float lr, float decay) {
    __m512 l = _mm512_set1_ps(lr), d = _mm512_set1_ps(decay);
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 wi = _mm512_loadu_ps(w + i);
        __m512 t = _mm512_add_ps(_mm512_loadu_ps(g + i), _mm512_mul_ps(d, wi));
        _mm512_storeu_ps(w + i, _mm512_sub_ps(wi, _mm512_mul_ps(l, t)));
    }
    return i;
}

__attribute__((target("avx2"))) static long sgd_avx2(long n, float *w, const float *g, float lr, float decay) {
    __m256 l = _mm256_set1_ps(lr), d = _mm256_set1_ps(decay);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 wi = _mm256_loadu_ps(w + i);
        __m256 t = _mm256_add_ps(_mm256_loadu_ps(g + i), _mm256_mul_ps(d, wi));
        _mm256_storeu_ps(w + i, _mm256_sub_ps(wi, _mm256_mul_ps(l, t)));
    }
    return i;
}

__attribute__((target("avx512f"))) static long momentum_avx512(long n, float *w, const float *g, float *v, float lr,
                                                               float decay, float mu) {
    __m512 l = _mm512_set1_ps(lr), d = _mm512_set1_ps(decay), u = _mm512_set1_ps(mu);
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 wi = _mm512_loadu_ps(w + i);
        __m512 t = _mm512_add_ps(_mm512_loadu_ps(g + i), _mm512_mul_ps(d, wi));
        __m512 vi = _mm512_sub_ps(_mm512_mul_ps(u, _mm512_loadu_ps(v + i)), _mm512_mul_ps(l, t));
        _mm512_storeu_ps(v + i, vi);
        _mm512_storeu_ps(w + i, _mm512_add_ps(wi, vi));
    }
    return i;
}

__attribute__((target("avx2"))) static long momentum_avx2(long n, float *w, const float *g, float *v, float lr,
                                                          float decay, float mu) {
    __m256 l = _mm256_set1_ps(lr), d = _mm256_set1_ps(decay), u = _mm256_set1_ps(mu);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 wi = _mm256_loadu_ps(w + i);
        __m256 t = _mm256_add_ps(_mm256_loadu_ps(g + i), _mm256_mul_ps(d, wi));
        __m256 vi = _mm256_sub_ps(_mm256_mul_ps(u, _mm256_loadu_ps(v + i)), _mm256_mul_ps(l, t));
        _mm256_storeu_ps(v + i, vi);
        _mm256_storeu_ps(w + i, _mm256_add_ps(wi, vi));
    }
    return i;
}

__attribute__((target("avx512f"))) static long adam_avx512(long n, float *w, const float *g, float *m, float *v,
                                                           float lr, float decay, float b1, float b2, float eps) {
    __m512 l = _mm512_set1_ps(lr), d = _mm512_set1_ps(decay), c1 = _mm512_set1_ps(b1), c2 = _mm512_set1_ps(b2);
    __m512 o1 = _mm512_set1_ps(1 - b1), o2 = _mm512_set1_ps(1 - b2), e = _mm512_set1_ps(eps);
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 wi = _mm512_loadu_ps(w + i);
        __m512 gi = _mm512_add_ps(_mm512_loadu_ps(g + i), _mm512_mul_ps(d, wi));
        __m512 mi = _mm512_add_ps(_mm512_mul_ps(c1, _mm512_loadu_ps(m + i)), _mm512_mul_ps(o1, gi));
        __m512 vi = _mm512_add_ps(_mm512_mul_ps(c2, _mm512_loadu_ps(v + i)), _mm512_mul_ps(_mm512_mul_ps(o2, gi), gi));
        _mm512_storeu_ps(m + i, mi);
        _mm512_storeu_ps(v + i, vi);
        __m512 step = _mm512_div_ps(_mm512_mul_ps(l, mi), _mm512_add_ps(_mm512_sqrt_ps(vi), e));
        _mm512_storeu_ps(w + i, _mm512_sub_ps(wi, step));
    }
    return i;
}

__attribute__((target("avx2"))) static long adam_avx2(long n, float *w, const float *g, float *m, float *v, float lr,
                                                      float decay, float b1, float b2, float eps) {
    __m256 l = _mm256_set1_ps(lr), d = _mm256_set1_ps(decay), c1 = _mm256_set1_ps(b1), c2 = _mm256_set1_ps(b2);
    __m256 o1 = _mm256_set1_ps(1 - b1), o2 = _mm256_set1_ps(1 - b2), e = _mm256_set1_ps(eps);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 wi = _mm256_loadu_ps(w + i);
        __m256 gi = _mm256_add_ps(_mm256_loadu_ps(g + i), _mm256_mul_ps(d, wi));
        __m256 mi = _mm256_add_ps(_mm256_mul_ps(c1, _mm256_loadu_ps(m + i)), _mm256_mul_ps(o1, gi));
        __m256 vi = _mm256_add_ps(_mm256_mul_ps(c2, _mm256_loadu_ps(v + i)), _mm256_mul_ps(_mm256_mul_ps(o2, gi), gi));
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        __m256 step = _mm256_div_ps(_mm256_mul_ps(l, mi), _mm256_add_ps(_mm256_sqrt_ps(vi), e));
        _mm256_storeu_ps(w + i, _mm256_sub_ps(wi, step));
    }
    return i;
}
#endif


void ck_ssgd(long n, float *w, const float *g, float lr, float decay, int path) {
    long i = 0;
#if defined(__x86_64__) || defined(__i386__)
    switch (ckp_usable_path(path)) {
    case CK_PATH_AVX512: i = sgd_avx512(n, w, g, lr, decay); break;
    case CK_PATH_AVX2: i = sgd_avx2(n, w, g, lr, decay); break;
    default: break;
    }
#else
    (void)path;
#endif
    for (; i < n; i++) SGD_BODY(i);
}

void ck_smomentum(long n, float *w, const float *g, float *v, float lr, float decay, float mu, int path) {
    long i = 0;
#if defined(__x86_64__) || defined(__i386__)
    switch (ckp_usable_path(path)) {
    case CK_PATH_AVX512: i = momentum_avx512(n, w, g, v, lr, decay, mu); break;
    case CK_PATH_AVX2: i = momentum_avx2(n, w, g, v, lr, decay, mu); break;
    default: break;
    }
#else
    (void)path;
#endif
    for (; i < n; i++) { MOMENTUM_BODY(i); }
}

void ck_sadam(long n, float *w, const float *g, float *m, float *v, float lr, float decay, float b1, float b2,
              float eps, int path) {
    float one_b1 = 1 - b1, one_b2 = 1 - b2;
    long i = 0;
#if defined(__x86_64__) || defined(__i386__)
    switch (ckp_usable_path(path)) {
    case CK_PATH_AVX512: i = adam_avx512(n, w, g, m, v, lr, decay, b1, b2, eps); break;
    case CK_PATH_AVX2: i = adam_avx2(n, w, g, m, v, lr, decay, b1, b2, eps); break;
    default: break;
    }
#else
    (void)path;
#endif
    for (; i < n; i++) ADAM_BODY(i);
}
