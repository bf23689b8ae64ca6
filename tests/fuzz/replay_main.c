/*
 * Replay driver for the fuzz harnesses in the ordinary host build (gcc, and
 * gcc with ASan+UBSan): runs LLVMFuzzerTestOneInput() once for every file
 * of the directories (or files) given, so `make test` re-checks the seed
 * corpus and every reproducer without libFuzzer. A harness reports a broken
 * invariant by abort(); this driver only counts.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long n;

    if (!f) {
        perror(path);
        exit(1);
    }
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        perror(path);
        exit(1);
    }
    /* One spare byte so that an empty file still has a valid pointer. */
    buf = malloc((size_t)n + 1u);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "%s: cannot read\n", path);
        exit(1);
    }
    fclose(f);
    if (getenv("FUZZ_REPLAY_VERBOSE"))
        fprintf(stderr, "replay %s (%ld bytes)\n", path, n);
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    free(buf);
    return 1;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files of a directory in name order (deterministic), one level deep. */
static unsigned run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t count = 0, cap = 0;
    unsigned runs = 0;

    if (!d) {
        perror(dir);
        exit(1);
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (count == cap) {
            cap = cap ? 2 * cap : 64;
            names = realloc(names, cap * sizeof(*names));
            if (!names)
                exit(1);
        }
        names[count] = malloc(strlen(dir) + strlen(e->d_name) + 2);
        if (!names[count])
            exit(1);
        sprintf(names[count], "%s/%s", dir, e->d_name);
        count++;
    }
    closedir(d);
    if (count)
        qsort(names, count, sizeof(*names), by_name);
    for (size_t i = 0; i < count; i++) {
        struct stat st;

        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
            runs += run_file(names[i]);
        free(names[i]);
    }
    free(names);
    return runs;
}

int main(int argc, char **argv)
{
    unsigned runs = 0;

    for (int i = 1; i < argc; i++) {
        struct stat st;

        if (stat(argv[i], &st) != 0) {
            /* A harness without reproducers yet has no folder. */
            continue;
        }
        runs += S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i]);
    }
    if (runs == 0) {
        fprintf(stderr, "%s: no input replayed\n", argv[0]);
        return 1;
    }
    printf("%u passed, 0 failed\n", runs);
    return 0;
}
