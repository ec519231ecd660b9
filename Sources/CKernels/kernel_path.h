#ifndef CKERNELS_KERNEL_PATH_H
#define CKERNELS_KERNEL_PATH_H

/* The kernel set a request resolves to on this CPU: the requested CK_PATH_ value, or the best
   set below it that ck_cpu_path() reports (negative requests are portable). Every kernel entry
   point that takes a `path` goes through this. */
int ckp_usable_path(int path);

#endif
