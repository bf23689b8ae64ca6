/*
 * A realistic Cortex-M7 firmware image for the compression measurements
 * and tests of the fast protocol (docs/PROTOCOL.md "Compression"): this
 * program calls into much of newlib, and the build links all of newlib's
 * libc and libm for the M7 (--whole-archive, no section garbage
 * collection), so the image is about 300 KB of real Thumb-2 code and
 * constant tables, linked at the application address. Not meant to run:
 * the stubs at the end only complete the link of the archive members that
 * call functions newlib leaves to the system.
 */
/* j0 .. yn are XSI functions, outside strict C11 */
#define _DEFAULT_SOURCE
#include <complex.h>
#include <ctype.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

volatile double vd = 1.5;
volatile float vf = 2.5f;
volatile long long vll = 12345;
static char buf[512];
static wchar_t wbuf[128];

static int cmp(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

int main(void)
{
    double d = vd, ip;
    float f = vf;
    double complex z = d + I * f;
    int arr[16] = { 5, 3, 1 }, ex;
    struct tm tm = { 0 };
    time_t t;
    char *p;
    FILE *fp;

    qsort(arr, 16, sizeof arr[0], cmp);
    (void)bsearch(&arr[2], arr, 16, sizeof arr[0], cmp);
    d = sin(d) + cos(d) + tan(d) + asin(d / 4) + acos(d / 4) + atan(d) + atan2(d, f) + sinh(d) +
        cosh(d) + tanh(d);
    d += asinh(d) + acosh(d + 2) + atanh(d / 100) + exp(d) + exp2(d) + expm1(d) + log(d) +
         log10(d) + log2(d) + log1p(d);
    d += pow(d, f) + sqrt(d) + cbrt(d) + hypot(d, f) + erf(d) + erfc(d) + tgamma(d) + lgamma(d) +
         j0(d) + j1(d) + y0(d) + y1(d) + jn(3, d) + yn(3, d);
    d += fmod(d, 3) + remainder(d, 3) + nextafter(d, 0) + fma(d, d, d) + ldexp(d, 3) +
         frexp(d, &ex) + modf(d, &ip) + round(d) + trunc(d) + rint(d) + nearbyint(d) + ip + ex;
    f += sinf(f) + cosf(f) + tanf(f) + expf(f) + logf(f) + powf(f, 2) + sqrtf(f) + atan2f(f, 1) +
         erff(f) + tgammaf(f) + lgammaf(f) + hypotf(f, 1) + cbrtf(f) + fmodf(f, 2);
    z = csin(z) + ccos(z) + cexp(z) + clog(z) + csqrt(z) + cpow(z, z) + ctan(z) + casin(z) +
        catanh(z);
    snprintf(buf, sizeof buf, "%f %e %g %a %lld %llu %s %c %p %Lf", d, d, (double)f, creal(z), vll,
             (unsigned long long)vll, "x", 'c', (void *)&vd, (long double)d);
    d += strtod(buf, NULL) + strtof(buf, NULL) + (double)strtold(buf, NULL) + atof(buf);
    vll += strtoll(buf, NULL, 0) + (long long)strtoull(buf, NULL, 16) + atoi(buf) + atol(buf);
    sscanf(buf, "%lf %f %d %99s", &d, &f, &arr[0], buf + 200);
    setlocale(LC_ALL, "C");
    mbstowcs(wbuf, buf, 100);
    wcstombs(buf, wbuf, 100);
    swprintf(wbuf + 64, 60, L"%ls %f", wbuf, d);
    swscanf(wbuf, L"%lf", &d);
    d += wcstod(wbuf, NULL);
    t = mktime(&tm);
    strftime(buf, 100, "%c %Z %j %U", localtime(&t));
    strftime(buf + 100, 100, "%x", gmtime(&t));
    d += difftime(t, 0) + (asctime(&tm) != NULL) + (ctime(&t) != NULL);
    p = malloc(1000);
    p = realloc(p, 2000);
    if (!p)
        return 1;
    strcpy(p, buf);
    strcat(p, "abc");
    free(calloc(10, 10));
    d += strlen(p) + strspn(p, "ab") + strcspn(p, "c") + (strstr(p, "b") != 0) +
         (strpbrk(p, "x") != 0) + strcoll(p, buf) + strxfrm(buf, p, 10);
    d += (strtok(p, " ") != 0) + memcmp(p, buf, 4) + (memchr(p, 'a', 5) != 0) +
         toupper((unsigned char)p[0]) + isalnum((unsigned char)p[1]) + wcslen(wbuf) +
         (wcschr(wbuf, L'a') != 0);
    d += div(7, 3).quot + ldiv(7, 3).rem + lldiv(7, 3).quot + rand() + abs(-3) + llabs(-3);
    srand(3);
    fprintf(stderr, "%s %f\n", buf, d);
    puts(p);
    fputs(buf, stdout);
    fwrite(buf, 1, 10, stdout);
    fflush(stdout);
    fp = fopen("x", "r");
    if (fp) {
        if (fgets(buf, 10, fp) && fread(buf, 1, 3, fp))
            fseek(fp, 0, SEEK_SET);
        d += ftell(fp);
        fclose(fp);
    }
    vd = d + (double)f + cimag(z);
    return 0;
}

/* Vector table: initial SP and reset handler, as any application has. */
extern uint32_t _estack;
void img_reset(void);
void img_reset(void)
{
    for (;;)
        main();
}
__attribute__((section(".isr_vector"),
               used)) static const void *const vectors[2] = { &_estack, (const void *)img_reset };

/* What newlib's archive members expect from the system. */
struct sigset;
int _fcntl(int fd, int cmd, int arg);
int _mkdir(const char *path, int mode);
void _init(void);
void _fini(void);
int _jp2uc_l(int c, void *l);
int _uc2jp_l(int c, void *l);
int getentropy(void *p, size_t n);
int posix_memalign(void **p, size_t a, size_t n);
int regcomp(void *re, const char *s, int fl);
int regexec(const void *re, const char *s, size_t n, void *m, int fl);
void regfree(void *re);
int sigprocmask(int how, const void *set, void *old);
int _fcntl(int fd, int cmd, int arg)
{
    (void)fd, (void)cmd, (void)arg;
    return -1;
}
int _mkdir(const char *path, int mode)
{
    (void)path, (void)mode;
    return -1;
}
void _init(void) {}
void _fini(void) {}
int _jp2uc_l(int c, void *l)
{
    (void)l;
    return c;
}
int _uc2jp_l(int c, void *l)
{
    (void)l;
    return c;
}
int getentropy(void *p, size_t n)
{
    memset(p, 0x5A, n);
    return 0;
}
int posix_memalign(void **p, size_t a, size_t n)
{
    *p = malloc(n + a);
    return *p ? 0 : -1;
}
int regcomp(void *re, const char *s, int fl)
{
    (void)re, (void)s, (void)fl;
    return -1;
}
int regexec(const void *re, const char *s, size_t n, void *m, int fl)
{
    (void)re, (void)s, (void)n, (void)m, (void)fl;
    return -1;
}
void regfree(void *re)
{
    (void)re;
}
int sigprocmask(int how, const void *set, void *old)
{
    (void)how, (void)set, (void)old;
    return -1;
}
