/* Float sigmoid and tanh eight at a time, sharing one e^x polynomial; scalar libm for the lanes
   the vector path does not cover and on CPUs without AVX2/FMA. */
#include "CKernels.h"
#include <math.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CK_X86 1
#else
#define CK_X86 0
#endif

/* 1/(1+e^-x) without overflow: e^-|x| never exceeds 1. */
static float sigmoid_scalar(float x) {
    if (x >= 0) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

#if CK_X86
/* e^x for x in [-87, 0] (so 2^k stays a normal number): x = k·ln 2 + r with |r| ≤ ln 2 / 2
   (ln 2 split in two for an exact product), e^r by the Cephes expf polynomial (about 1 ulp),
   2^k built in the exponent bits. */
__attribute__((target("avx2,fma")))
static __m256 exp_nonpositive(__m256 x) {
    __m256 k = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(k, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r);
    p = _mm256_add_ps(p, _mm256_set1_ps(1.0f));
    __m256i scale = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(scale));
}

/* Eight at a time; lanes the vector path does not cover (x below -87, where the result is
   subnormal, infinities and NaN) are redone by the scalar function. */
__attribute__((target("avx2,fma")))
static void sigmoid_avx2(long n, const float *x, float *y) {
    const __m256 sign = _mm256_set1_ps(-0.0f), one = _mm256_set1_ps(1.0f), low = _mm256_set1_ps(-87.0f);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 negative_abs = _mm256_or_ps(v, sign);
        __m256 z = exp_nonpositive(_mm256_max_ps(negative_abs, low));
        __m256 s = _mm256_div_ps(one, _mm256_add_ps(one, z));
        __m256 nonnegative = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GE_OQ);
        _mm256_storeu_ps(y + i, _mm256_blendv_ps(_mm256_mul_ps(z, s), s, nonnegative));
        int outside = _mm256_movemask_ps(_mm256_cmp_ps(negative_abs, low, _CMP_NGE_UQ));
        if (outside) {
            for (int lane = 0; lane < 8; lane++)
                if (outside & (1 << lane)) y[i + lane] = sigmoid_scalar(x[i + lane]);
        }
    }
    for (; i < n; i++) y[i] = sigmoid_scalar(x[i]);
}

/* tanh x = sign(x)·(1 - e^-2|x|)/(1 + e^-2|x|) for |x| ≥ 0.625, where the difference loses
   no accuracy, and the Cephes tanhf polynomial x + x³·P(x²) below it. Past |x| = 43.5 the
   exponent is clamped: e^-87 is far below half an ulp of 1, so the result is ±1 as it should
   be (±∞ included). NaN lanes are redone by tanhf. */
__attribute__((target("avx2,fma")))
static void tanh_avx2(long n, const float *x, float *y) {
    const __m256 sign = _mm256_set1_ps(-0.0f), one = _mm256_set1_ps(1.0f), low = _mm256_set1_ps(-87.0f),
                 threshold = _mm256_set1_ps(0.625f);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 magnitude = _mm256_andnot_ps(sign, v);
        __m256 t = exp_nonpositive(_mm256_max_ps(_mm256_mul_ps(magnitude, _mm256_set1_ps(-2.0f)), low));
        __m256 large = _mm256_div_ps(_mm256_sub_ps(one, t), _mm256_add_ps(one, t));
        large = _mm256_or_ps(large, _mm256_and_ps(v, sign));
        __m256 z = _mm256_mul_ps(v, v);
        __m256 p = _mm256_set1_ps(-5.70498872745e-3f);
        p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(2.06390887954e-2f));
        p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-5.37397155531e-2f));
        p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(1.33314422036e-1f));
        p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-3.33332819422e-1f));
        /* The sign of x put back: for x = -0 the sum is +0. */
        __m256 small = _mm256_or_ps(_mm256_fmadd_ps(_mm256_mul_ps(p, z), v, v), _mm256_and_ps(v, sign));
        __m256 is_small = _mm256_cmp_ps(magnitude, threshold, _CMP_LT_OQ);
        _mm256_storeu_ps(y + i, _mm256_blendv_ps(large, small, is_small));
        int nan = _mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        if (nan) {
            for (int lane = 0; lane < 8; lane++)
                if (nan & (1 << lane)) y[i + lane] = tanhf(x[i + lane]);
        }
    }
    for (; i < n; i++) y[i] = tanhf(x[i]);
}
#endif

void ck_ssigmoid(long n, const float *x, float *y, int portable) {
#if CK_X86
    if (!portable && ck_cpu_has_avx2_fma()) {
        sigmoid_avx2(n, x, y);
        return;
    }
#else
    (void)portable;
#endif
    for (long i = 0; i < n; i++) y[i] = sigmoid_scalar(x[i]);
}

void ck_stanh(long n, const float *x, float *y, int portable) {
#if CK_X86
    if (!portable && ck_cpu_has_avx2_fma()) {
        tanh_avx2(n, x, y);
        return;
    }
#else
    (void)portable;
#endif
    for (long i = 0; i < n; i++) y[i] = tanhf(x[i]);
}
