/* viz_util.h: small helpers the visualizer's files share. */
#ifndef VIZ_UTIL_H
#define VIZ_UTIL_H

#include <string.h>

/* Copies src into dst (cap bytes), truncating; always terminates.  Used
 * where a long message (a path, an error) may be shortened for display. */
static inline void viz_copy_str(char *dst, size_t cap, const char *src)
{
    if (cap == 0) return;
    size_t n = strnlen(src, cap - 1);
    memmove(dst, src, n);
    dst[n] = '\0';
}

#endif
