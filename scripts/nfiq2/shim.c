/*
 * The five glibc 2.38 functions the OpenCV libraries of PyPI's nbis-python call, for Debian 12's
 * glibc 2.36: preloaded (LD_PRELOAD) once `weaken.py` has made their version non-fatal.
 * The C23 variants differ from the classic ones only on input the callers here never give
 * (binary "0b" literals); fmod through long double is exact.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

long __isoc23_strtol(const char *s, char **end, int base) { return strtol(s, end, base); }

long long __isoc23_strtoll(const char *s, char **end, int base) { return strtoll(s, end, base); }

unsigned long long __isoc23_strtoull(const char *s, char **end, int base) {
    return strtoull(s, end, base);
}

int __isoc23_sscanf(const char *s, const char *format, ...) {
    va_list ap;
    va_start(ap, format);
    int n = vsscanf(s, format, ap);
    va_end(ap);
    return n;
}

double fmod(double x, double y) { return (double)fmodl(x, y); }
