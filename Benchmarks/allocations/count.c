// Counts heap allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc) of a process
// and prints the total at exit: LD_PRELOAD=count.so program … (glibc). Used by
// Benchmarks/allocations.sh to measure the allocations of a warm training step.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
static atomic_long count;
void *malloc(size_t n) { atomic_fetch_add(&count, 1); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { atomic_fetch_add(&count, 1); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { atomic_fetch_add(&count, 1); return __libc_realloc(p, n); }
int posix_memalign(void **p, size_t a, size_t n) { atomic_fetch_add(&count, 1); *p = __libc_memalign(a, n); return *p ? 0 : 12; }
void *aligned_alloc(size_t a, size_t n) { atomic_fetch_add(&count, 1); return __libc_memalign(a, n); }
__attribute__((destructor)) static void report(void) { fprintf(stderr, "allocations: %ld\n", (long)count); }
