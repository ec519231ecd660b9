#include "CKernels.h"
#include "kernel_path.h"
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
#include <cpuid.h>
#include <immintrin.h>

/* Whether the OS saves the opmask and all 32 512-bit registers on a context switch (XCR0 bits
   1, 2, 5, 6, 7): without it the CPU's AVX-512 flags are not usable. */
static int os_saves_avx512_state(void) {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 27))) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 0xE6) == 0xE6;
}
#endif

int ck_cpu_path(void) {
#if defined(__x86_64__) || defined(__i386__)
    static int cached = -1;
    int value = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (value < 0) {
        __builtin_cpu_init();
        value = CK_PATH_PORTABLE;
        if (ck_cpu_has_avx2_fma()) {
            value = CK_PATH_AVX2;
            if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") && os_saves_avx512_state())
                value = CK_PATH_AVX512;
        }
        __atomic_store_n(&cached, value, __ATOMIC_RELAXED);
    }
    return value;
#else
    return CK_PATH_PORTABLE;
#endif
}

#if defined(__x86_64__) || defined(__i386__)
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

#if defined(__x86_64__) || defined(__i386__)
/* The same loop with 16-lane vectors. */
__attribute__((target("avx512f"))) static float fma_loop_512(long iterations) {
    __m512 a0 = _mm512_set1_ps(1.0f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
    __m512 a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
    const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
    for (long i = 0; i < iterations; i++) {
        a0 = _mm512_fmadd_ps(a0, x, y); a1 = _mm512_fmadd_ps(a1, x, y); a2 = _mm512_fmadd_ps(a2, x, y);
        a3 = _mm512_fmadd_ps(a3, x, y); a4 = _mm512_fmadd_ps(a4, x, y); a5 = _mm512_fmadd_ps(a5, x, y);
        a6 = _mm512_fmadd_ps(a6, x, y); a7 = _mm512_fmadd_ps(a7, x, y); a8 = _mm512_fmadd_ps(a8, x, y);
        a9 = _mm512_fmadd_ps(a9, x, y); a10 = _mm512_fmadd_ps(a10, x, y); a11 = _mm512_fmadd_ps(a11, x, y);
    }
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                             _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
    return _mm512_reduce_add_ps(s);
}
#endif

int ckp_usable_path(int path) {
    int best = ck_cpu_path();
    return path < best ? (path < CK_PATH_PORTABLE ? CK_PATH_PORTABLE : path) : best;
}

long ck_fma_probe_flops(int path) {
    switch (ckp_usable_path(path)) {
    case CK_PATH_AVX512: return 2 * 12 * 16;
    case CK_PATH_AVX2: return 2 * 12 * 8;
    default: return 0;
    }
}

double ck_fma_probe(long iterations, int path) {
#if defined(__x86_64__) || defined(__i386__)
    switch (ckp_usable_path(path)) {
    case CK_PATH_AVX512: return (double)fma_loop_512(iterations);
    case CK_PATH_AVX2: return (double)fma_loop(iterations);
    default: return 0;
    }
#else
    (void)iterations;
    (void)path;
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
