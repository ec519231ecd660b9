#include "CKernels.h"
#include <unistd.h>
#if defined(__APPLE__)
#include <sys/sysctl.h>
#endif

int ck_cpu_has_avx2_fma(void) {
#if defined(__x86_64__) || defined(__i386__)
    static int cached = -1;
    int value = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (value < 0) {
        __builtin_cpu_init();
        value = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        __atomic_store_n(&cached, value, __ATOMIC_RELAXED);
    }
    return value;
#else
    return 0;
#endif
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

/* Twelve independent chains: enough to keep two FMA pipes busy through a latency of up to six
   cycles, so the loop runs at the core's FMA throughput (a split 256-bit unit shows as half). */
__attribute__((target("avx2,fma"))) static float fma_loop(long iterations) {
    __m256 a0 = _mm256_set1_ps(1.0f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
    __m256 a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
    const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
    for (long i = 0; i < iterations; i++) {
        a0 = _mm256_fmadd_ps(a0, x, y); a1 = _mm256_fmadd_ps(a1, x, y); a2 = _mm256_fmadd_ps(a2, x, y);
        a3 = _mm256_fmadd_ps(a3, x, y); a4 = _mm256_fmadd_ps(a4, x, y); a5 = _mm256_fmadd_ps(a5, x, y);
        a6 = _mm256_fmadd_ps(a6, x, y); a7 = _mm256_fmadd_ps(a7, x, y); a8 = _mm256_fmadd_ps(a8, x, y);
        a9 = _mm256_fmadd_ps(a9, x, y); a10 = _mm256_fmadd_ps(a10, x, y); a11 = _mm256_fmadd_ps(a11, x, y);
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                             _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0];
}
#endif

double ck_fma_probe(long iterations) {
#if defined(__x86_64__) || defined(__i386__)
    if (!ck_cpu_has_avx2_fma()) return 0;
    return (double)fma_loop(iterations);
#else
    (void)iterations;
    return 0;
#endif
}

long ck_l2_cache_bytes(void) {
    static long cached = -1;
    long value = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (value < 0) {
        value = 0;
#if defined(_SC_LEVEL2_CACHE_SIZE)
        value = sysconf(_SC_LEVEL2_CACHE_SIZE);
#elif defined(__APPLE__)
        size_t size = sizeof(value);
        if (sysctlbyname("hw.l2cachesize", &value, &size, NULL, 0) != 0) value = 0;
#endif
        /* Unknown, or implausible: the 512 KiB the kernels were first tuned for. */
        if (value < (64L << 10) || value > (64L << 20)) value = 512L << 10;
        __atomic_store_n(&cached, value, __ATOMIC_RELAXED);
    }
    return value;
}
